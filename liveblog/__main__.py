"""The command line (`liveblog`, or python -m liveblog)."""

import sys

#: the commands that run the server: gevent's workers need every blocking call made cooperative
#: before psycopg is imported (it picks its way of waiting then) or a thread is started
SERVING = ("serve", "demo")


def run() -> None:
    """Patch for gevent when serving, then run the command."""
    if sys.argv[1:2] and sys.argv[1] in SERVING:
        from gevent import monkey

        monkey.patch_all()
    from .cli import main

    main()


if __name__ == "__main__":
    run()
