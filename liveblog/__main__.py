"""python -m liveblog: the command line."""

from .cli import main

main()
