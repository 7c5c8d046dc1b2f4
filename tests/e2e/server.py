"""A real liveblog server on 127.0.0.1 for end-to-end tests, and a tiny HTTP client."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .. import TEST_SYNCHRONOUS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    """The pids of the processes ``pid`` started that still run (from /proc: any of its
    threads may have forked them)."""
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


def cli(db: Path, *args: str) -> str:
    """Run the liveblog CLI; return its stdout (raises on a non-zero exit)."""
    done = subprocess.run([sys.executable, "-m", "liveblog", *args, "--db", str(db)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def create_database(db: Path | str) -> None:
    """Make the (migrated, empty) database ``liveblog serve`` would make, unless it exists: the
    token commands refuse a missing one."""
    from events import EventStore

    EventStore.open(str(db)).close()  # opening migrates


def editor_token(db: Path, name: str = "Jane Roe", role: str = "editor",
                 blogs: tuple[str, ...] = ()) -> str:
    """A new token's secret, made as ``liveblog token create`` makes it (the same service,
    through the composition root), in this process: the CLI itself is tested in tests/cli.

    :param blogs: slugs of the blogs it is a member of (``--blog``).
    """
    from liveblog.bootstrap import bootstrap
    from liveblog.cli import cli_actor
    from liveblog.queries import get_blog_head
    from liveblog.tokens import create_token

    liveblog = bootstrap(str(db))
    try:
        liveblog.runner().start()  # projections current, as the CLI has them
        conn = liveblog.store().conn
        blog_ids = [get_blog_head(conn, slug).id for slug in blogs]
        _, secret = create_token(liveblog.service(), role, name, cli_actor(), blog_ids)
    finally:
        liveblog.shutdown()
    return str(secret)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body) if self.body else None


class Server:
    """``liveblog serve`` in a subprocess; stop() sends SIGTERM (graceful shutdown).

    :param workers: its ``--workers`` (None: serve's own default, no flag).
    :param scheduler: run serve's scheduler beside it, for a test of what its jobs do (else
        ``--no-scheduler``: a process of its own, half a CPU-second to start, that most tests
        never need)."""

    def __init__(self, db: Path, *, workers: int | None = 2,
                 extra_env: dict[str, str] | None = None,
                 extra_args: tuple[str, ...] = (), port: int | None = None,
                 scheduler: bool = False):
        self.db = db
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # the metrics' files in a folder of the test's own: a node a test kills cannot remove
        # the one `serve` would make, and it would stay behind in /tmp
        self.metrics = tempfile.mkdtemp(prefix="liveblog-test-metrics-")
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": self.metrics,
               "LIVEBLOG_SYNCHRONOUS": TEST_SYNCHRONOUS, **(extra_env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "liveblog", "serve", "--db", str(db), "--port",
             str(self.port), *(("--workers", str(workers)) if workers else ()),
             *(() if scheduler else ("--no-scheduler",)), *extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/healthz").status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the server did not start")

    def request(self, method: str, path: str, body=None, headers=None,
                timeout: float = 30) -> Reply:
        data = None
        headers = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, dict(error.headers), error.read())
        except urllib.error.URLError as error:
            if self.proc.poll() is None or self.proc.stderr is None:
                raise
            # the server is gone: say how it ended, not just that nothing answers (still an
            # OSError, as callers that expect a server to be gone catch)
            said = self.proc.stderr.read().decode(errors="replace")[-4000:]
            raise ConnectionError(f"the server exited ({self.proc.returncode}) before"
                                  f" {method} {path}: {said}") from error

    def stop(self) -> None:
        stop_process(self.proc, signal.SIGTERM, 20)
        shutil.rmtree(self.metrics, ignore_errors=True)


def stop_process(proc: subprocess.Popen[bytes], signum: int, timeout: float) -> None:
    """Ask a server to stop gracefully (``signum``), kill it past ``timeout``, close its pipe."""
    if proc.poll() is None:
        proc.send_signal(signum)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stderr:
        proc.stderr.close()


def demo_server(db: Path) -> Server:
    """``liveblog serve`` on a new database holding the demo blog (its links point at it)."""
    create_database(db)
    from liveblog.cli import _service
    from liveblog.demo import ensure_demo

    server = Server(db, workers=1)
    try:
        service = _service(str(db))
        ensure_demo(service, server.base)
        service.store.close()
    except BaseException:
        server.stop()
        raise
    return server
