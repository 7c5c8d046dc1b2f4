"""Serving: `liveblog serve` runs gunicorn with :mod:`liveblog.worker`'s gevent workers, and
the scheduler beside them.

How much one node holds is decided here, once: each worker serves ``connections`` sockets at
once (:data:`DEFAULT_CONNECTIONS`), and holds at most :func:`held_polls` of them as waiting
anonymous long polls; the rest is kept for editors, health checks and everyone else, so a node
full of waiting readers still answers them (a long poll past the limit is answered at once,
with ``Retry-After``: :class:`liveblog.api.freshness.LongPolls`). The soft open-files limit is
raised to fit, as far as the hard limit allows.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import click

from events import database_errors, unavailable

from . import metrics
from .api.problems import raw_problem
from .app import create_app
from .http.requests import configure

#: gunicorn worker processes `serve` starts (one a core of the machine it was measured on)
DEFAULT_WORKERS = 2
#: connections each worker serves at once: two hold 10,000 waiting readers with room to spare
#: however unevenly the kernel hands connections to them (scripts/bench scale)
DEFAULT_CONNECTIONS = 7_000


def held_polls(connections: int) -> int:
    """How many anonymous long polls a worker serving ``connections`` at once holds: the rest
    (an eighth, at least 32) is kept for editors, health checks, page loads and clients still
    sending their request."""
    return max(0, connections - max(32, connections // 8))


def capacity(workers: int, connections: int) -> str:
    """What a node holds, as serve says it at start-up."""
    held = held_polls(connections)
    each = f"{held:,} a worker; " if workers > 1 else ""
    return (f"{workers} worker{'s' if workers > 1 else ''} x {connections:,} connections, up to"
            f" {workers * held:,} waiting readers ({each}past that a long poll is answered at"
            " once)")


def shown(db_path: str) -> str:
    """A database's name as printed: a URL without its password."""
    parts = urlsplit(db_path)
    if parts.password:
        return db_path.replace(f":{parts.password}@", ":***@", 1)
    return db_path


def require_patched() -> None:
    """Refuse to serve unless gevent patched this process before psycopg was imported (the
    command line does it first thing: liveblog.__main__)."""
    from gevent import monkey  # gevent is loaded only by what serves

    if not monkey.is_module_patched("socket"):
        raise RuntimeError("the server must run from the command line (liveblog serve): gevent"
                           " patches blocking calls there before anything else is imported")


def _problem_errors_from_gunicorn() -> None:
    """Requests gunicorn refuses before the app sees them (a request line over its limit,
    malformed headers) are answered problem+json too, not with its HTML page.

    gunicorn writes those answers through ``gunicorn.util.write_error``; its workers are forked
    from this process, so replacing that one function here covers them all.
    """
    from gunicorn import util  # gevent's patching comes first

    def write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
        util.write_nonblock(sock, raw_problem(status_int, reason, mesg))

    util.write_error = write_error


def run_server(db_path: str, host: str, port: int, workers: int, connections: int,
               on_ready: Callable[[], None] | None = None, *, scheduler: bool = True,
               access_log: str | None = None, metrics_dir: str | None = None) -> None:
    """Prepare the database once, then serve it with gunicorn.

    The background jobs run in one `liveblog scheduler` process beside gunicorn, never in its
    workers (each would run every job) nor in its master: the master forks workers, and a fork
    taken while another thread is inside SQLite can leave the child's SQLite locks and mutexes
    held. A lease in the database keeps a second deployment on the same file from running the
    jobs too.
    """
    require_patched()
    if metrics_dir is None:  # (else the caller made it, for code of its own before this)
        metrics_dir = metrics_directory()  # before anything imports prometheus_client
    master = os.getpid()
    try:
        _serve(db_path, host, port, workers, connections, on_ready, scheduler, access_log)
    finally:
        # the master's, once gunicorn has stopped or when it never started (a setting refused,
        # a port taken); a forked worker leaves through here too, and removes nothing
        if metrics_dir is not None and os.getpid() == master:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _serve(db_path: str, host: str, port: int, workers: int, connections: int,
           on_ready: Callable[[], None] | None, scheduler: bool, access_log: str | None) -> None:
    from gunicorn.app.base import BaseApplication  # gevent's patching comes first

    # absolute URLs never come from a request's Host: without PUBLIC_URL, the address served
    os.environ.setdefault("LIVEBLOG_PUBLIC_URL", f"http://{host}:{port}")
    _raise_open_files(connections)
    # Migrations and projection start-up run once here, not racing in every worker.
    app = create_app({"DATABASE": db_path})
    app.extensions["liveblog"].close()
    if app.config.get("READ_ONLY"):
        click.echo(f"{db_path} can only be read: serving it read-only (every write is a 503,"
                   " /healthz says degraded); no scheduler", err=True)
        scheduler = False
    jobs = Supervised([sys.executable, "-m", "liveblog", "scheduler", "--db", db_path,
                       "--parent", str(os.getpid())], "the scheduler")
    held = held_polls(connections)

    def when_ready(server: Any) -> None:
        if scheduler:
            jobs.start()
        click.echo(f"liveblog serving {shown(db_path)} on http://{host}:{port}:"
                   f" {capacity(workers, connections)}; scheduler {'on' if scheduler else 'off'}")
        sys.stdout.flush()
        if on_ready is not None:
            on_ready()

    def on_exit(server: Any) -> None:
        jobs.stop()

    def child_exit(server: Any, worker: Any) -> None:
        metrics.process_died(worker.pid)  # a worker that is gone no longer counts in live gauges

    _problem_errors_from_gunicorn()

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            settings = {
                "bind": f"{host}:{port}", "workers": workers,
                "worker_class": "liveblog.worker.Worker", "worker_connections": connections,
                "graceful_timeout": 10, "timeout": 60,
                # the access log is the app's own (liveblog/http/requests.py), not gunicorn's
                "keepalive": 5, "errorlog": "-", "loglevel": "warning",
                "when_ready": when_ready, "on_exit": on_exit, "child_exit": child_exit,
                # gunicorn's maximum: a URL within it reaches the app, which answers problem+json
                # (query values are bounded by the API's schemas to fit); a longer one gets
                # gunicorn's own plain 414
                "limit_request_line": 8190,
            }
            for key, value in settings.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            configure(access_log)
            return _worker_app(db_path, held)

    Server().run()


#: seconds a booting worker tries again to reach a database that dropped it
BOOT_RETRY = 10.0


def _worker_app(db_path: str, held: int) -> Any:
    """A worker's app. A database that drops the connection while the worker boots (a
    PostgreSQL restart, its connections cut) is tried again for :data:`BOOT_RETRY` seconds:
    a worker that fails to boot makes gunicorn stop the whole node (seen: a node gone after
    its connections were cut while a worker started)."""
    deadline = time.monotonic() + BOOT_RETRY
    while True:
        try:
            return create_app({"DATABASE": db_path, "LONG_POLLS_HELD": held})
        except database_errors() as error:
            if not unavailable(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


class Supervised:
    """A process beside gunicorn (the scheduler), started again when it dies: after 1 s, then
    twice as long each time it dies again within a minute, up to a minute. Watched from a
    greenlet of the master (gevent patched it), which never acts in a forked worker."""

    def __init__(self, args: list[str], name: str) -> None:
        self.args = args
        self.name = name
        self.proc: Any = None
        self.stopping = False
        self.master = os.getpid()
        self.started = 0.0

    def start(self) -> None:
        """Start the process, and its watch (a greenlet: a forked worker's copy of it returns
        at once, where a thread's would trip over threading's bookkeeping)."""
        import gevent  # only under serve, which patched the process for it first

        self._spawn()
        gevent.spawn(self._watch)

    def _spawn(self) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.args)

    def _watch(self) -> None:
        delay = 1.0
        while not self.stopping and os.getpid() == self.master:
            time.sleep(0.5)
            if self.proc.poll() is None or self.stopping or os.getpid() != self.master:
                continue
            if time.monotonic() - self.started > 60:
                delay = 1.0
            click.echo(f"{self.name} exited (pid {self.proc.pid}, status"
                       f" {self.proc.returncode}): starting it again in {delay:.0f} s", err=True)
            time.sleep(delay)
            delay = min(delay * 2, 60.0)
            if not self.stopping:
                self._spawn()

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 15 s) and stop watching it."""
        self.stopping = True
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def metrics_directory() -> str | None:
    """Where every process of this deployment writes its metrics (prometheus_client's
    multiprocess mode): the operator's PROMETHEUS_MULTIPROC_DIR, emptied, else a new temporary
    folder, removed when the server stops (returned, to remove)."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        os.makedirs(given, exist_ok=True)
        for name in os.listdir(given):  # samples of an earlier run would be added up too
            if name.endswith(".db"):
                os.remove(os.path.join(given, name))
        return None
    made = tempfile.mkdtemp(prefix="liveblog-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made  # the workers and the scheduler inherit it
    return made


def _raise_open_files(connections: int) -> None:
    """Each worker holds up to ``connections`` sockets (plus its files and the database's): the
    soft limit of open files goes as far up as the hard limit allows, and says so when that is
    not far enough (systemd's default soft limit, 1,024, would refuse readers long before)."""
    wanted = connections + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    reachable = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < reachable:
        resource.setrlimit(resource.RLIMIT_NOFILE, (reachable, hard))
    if reachable < wanted:
        click.echo(f"open files: at most {reachable} a process (the hard limit), but"
                   f" --connections {connections} needs {wanted}: raise the hard limit"
                   " (systemd LimitNOFILE=, or ulimit -Hn) or lower --connections", err=True)


