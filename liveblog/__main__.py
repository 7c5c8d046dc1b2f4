"""The command line (`liveblog`, or python -m liveblog)."""

import atexit
import gc
import sys

#: the commands that run the server: gevent's workers need every blocking call made cooperative
#: before psycopg is imported (it picks its way of waiting then) or a thread is started
SERVING = ("serve", "demo")


def run() -> None:
    """Patch for gevent when serving, then run the command."""
    # Registered first, so it runs last: what is left is frozen, and the interpreter's
    # teardown does not walk it with the cycle collector again and again (0.2 s of every
    # exit here: of each command, of serve's processes at a stop). Nothing of ours relies on
    # a collection at exit: connections and files are closed where they are used.
    atexit.register(gc.freeze)
    # The imports below make ~100,000 objects and no garbage: the cycle collector would walk
    # them again and again as they grow (0.12-0.15 s of each process's 0.8 s start here). It
    # is off while they load; what they made is then frozen (never walked again, and shared
    # with the forked workers rather than copied on a collection's write), and it is back on.
    gc.disable()
    if sys.argv[1:2] and sys.argv[1] in SERVING:
        from gevent import monkey  # only when serving: the other commands stay unpatched

        monkey.patch_all()
    from .cli import main  # after the patching above, which must come before psycopg

    gc.freeze()
    gc.enable()
    main()


if __name__ == "__main__":
    run()
