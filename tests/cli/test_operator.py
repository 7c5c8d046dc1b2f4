"""What an operator sees: `liveblog demo` (what `scripts/run` serves) counts requests in
/metrics, logs them as JSON with one switch and keeps one demo token; a misspelt database name
or a garbled file is named in one line; commands print no progress labels into a log."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from urllib.parse import urlsplit, urlunsplit

from tests.e2e.server import free_port, stop_process


def liveblog(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "liveblog", *args], capture_output=True,
                          text=True, timeout=120, **kwargs)


def _demo(db, port, *args):
    err = open(db.parent / "demo.err", "a")  # noqa: SIM115 (the process holds it)
    proc = subprocess.Popen([sys.executable, "-m", "liveblog", "demo", "--db", str(db),
                             "--port", str(port), *args], stdout=subprocess.PIPE,
                            stderr=err, text=True,
                            env={k: v for k, v in os.environ.items()
                                 if k != "PROMETHEUS_MULTIPROC_DIR"})
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if line.startswith("editor token:"):
            proc.err = err
            return proc, lines
    stop_process(proc, 15, 20)
    err.close()
    proc.stdout.close()
    raise AssertionError(f"demo did not start: {lines}")


def _stop(proc):
    stop_process(proc, 15, 20)
    proc.err.close()
    proc.stdout.close()


def _get(url):
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read().decode()


def test_the_demo_counts_logs_and_keeps_one_token(tmp_path):
    db, port = tmp_path / "demo.db", free_port()
    proc, lines = _demo(db, port, "--log-format", "json")
    try:
        from liveblog.server import DEFAULT_CONNECTIONS, held_polls

        # it says how many waiting readers it holds: its one worker's share of its connections
        assert any(line.startswith(f"liveblog serving {db} on http://127.0.0.1:{port}: 1 worker"
                                   f" x {DEFAULT_CONNECTIONS:,} connections, up to"
                                   f" {held_polls(DEFAULT_CONNECTIONS):,} waiting readers (past")
                   for line in lines), lines
        _get(f"http://127.0.0.1:{port}/blogs/storm-halvard-live")
        metrics = _get(f"http://127.0.0.1:{port}/metrics")
        assert ('liveblog_http_requests_total{method="GET",route="/blogs/{slug}",'
                'status="200"} 1.0') in metrics
    finally:
        _stop(proc)
    logged = [json.loads(line) for line in (db.parent / "demo.err").read_text().splitlines()
              if line.startswith("{")]
    assert {"route": "/blogs/{slug}", "status": 200} in [
        {"route": r["route"], "status": r["status"]} for r in logged]
    proc, _ = _demo(db, port)  # a second run: its token replaces the first
    _stop(proc)
    tokens = liveblog("token", "list", "--db", str(db)).stdout.splitlines()
    demo = [t for t in tokens if t.endswith("Demo editor")]
    assert len(demo) == 2 and sum(" active " in t for t in demo) == 1, tokens


def test_a_misspelt_database_or_a_garbled_file_is_named_in_one_line(tmp_path):
    for name, says in (("postgresql:/oops", "not a PostgreSQL URL as written"),
                       ("PostgreSQL://db/x", "not a PostgreSQL URL as written"),
                       ("mysql://db/x", "a SQLite file path or a postgresql:// URL"),
                       (str(tmp_path / "nowhere" / "x.db"), "no folder")):
        done = liveblog("token", "list", "--db", name)
        assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
        assert says in done.stderr, done.stderr
    made = liveblog("migrate", "--db", str(tmp_path / "ok.db"))
    assert made.returncode == 0, made.stderr
    garbled = tmp_path / "garbled"
    garbled.write_bytes(b"\xff\xfe\x00garbage")
    done = liveblog("verify", "--db", str(tmp_path / "ok.db"), "--checkpoints", str(garbled))
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "--checkpoints" in done.stderr and "codec" not in done.stderr


def test_commands_print_no_progress_labels_into_a_log(tmp_path):
    db = tmp_path / "a.db"
    assert liveblog("migrate", "--db", str(db)).returncode == 0
    exported = tmp_path / "log.jsonl"
    done = liveblog("export", str(exported), "--db", str(db))
    assert done.returncode == 0 and "export" not in done.stderr.replace("exported", "")
    imported = liveblog("import", str(exported), "--db", str(tmp_path / "b.db"))
    assert imported.returncode == 0, imported.stderr
    assert imported.stderr == "", imported.stderr


def _forward(listener: socket.socket, to: tuple[str, int]) -> None:
    """Accept connections on ``listener`` and pipe each to ``to`` (a database that answers
    only from the moment this starts)."""
    def pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return  # the listener was closed
        upstream = socket.create_connection(to)
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=pipe, args=(source, sink), daemon=True).start()


def test_a_worker_booting_while_its_database_is_unreachable_waits_for_it(postgres_server):
    """A worker's app made while PostgreSQL refuses connections (a restart, a failover) is
    made once it answers again, within BOOT_RETRY, rather than failing the worker's boot,
    which made gunicorn stop the whole node."""
    from liveblog.server import BOOT_RETRY, _worker_app
    from tests.conftest import fresh_postgres

    url = urlsplit(fresh_postgres(postgres_server))
    port = free_port()  # nothing listens there yet: every connection is refused
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    def come_back() -> None:
        time.sleep(2)
        listener.bind(("127.0.0.1", port))
        listener.listen()
        _forward(listener, (url.hostname or "127.0.0.1", url.port or 5432))

    threading.Thread(target=come_back, daemon=True).start()
    began = time.monotonic()
    try:
        app = _worker_app(urlunsplit(url._replace(netloc=f"postgres@127.0.0.1:{port}")), 10)
        took = time.monotonic() - began
        app.extensions["liveblog"].shutdown()
    finally:
        listener.close()
    assert 2 <= took < BOOT_RETRY
