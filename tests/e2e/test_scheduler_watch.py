"""A scheduler that dies is noticed: `serve` starts it again, and /healthz and /metrics say
when no process runs the jobs; a health check on any node sees storage that refuses writes."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psycopg
import pytest

from .server import Server, children, editor_token

pytestmark = pytest.mark.slow


def _schedulers(server: Server) -> list[int]:
    """The pids of the `liveblog scheduler` processes serve started."""
    found = []
    for pid in children(server.proc.pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        if b"scheduler" in command:
            found.append(pid)
    return found


def _until(condition, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("not within the time allowed")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_killed_scheduler_is_started_again_and_health_says_so_meanwhile(database):
    editor_token(database)
    server = Server(database, workers=1, scheduler=True,
                    extra_env={"LIVEBLOG_SCHEDULER_LEASE_SECONDS": "1"})
    try:
        first = _until(lambda: _schedulers(server))[0]
        _until(lambda: server.request("GET", "/healthz").json()["scheduler"] == "ok")
        os.kill(first, signal.SIGKILL)
        again = _until(lambda: [p for p in _schedulers(server) if p != first])
        assert again
        health = _until(lambda: (lambda h: h if h.json()["scheduler"] == "ok" else None)(
            server.request("GET", "/healthz")))
        assert health.status == 200 and health.json()["status"] == "ok"
    finally:
        server.stop()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_no_scheduler_is_degraded_health_and_a_zero_metric(database):
    editor_token(database)
    server = Server(database, workers=1, scheduler=False,
                    extra_env={"LIVEBLOG_SCHEDULER_LEASE_SECONDS": "0.5"})
    try:
        health = _until(lambda: (lambda h: h if h.json()["scheduler"] == "none" else None)(
            server.request("GET", "/healthz")))
        # readers and writers are served: a load balancer keeps the node; an operator is told
        assert health.status == 200 and health.json()["status"] == "degraded"
        metrics = server.request("GET", "/metrics").body.decode()
        assert "\nliveblog_scheduler_running 0.0\n" in metrics
        head = [line for line in metrics.splitlines()
                if line.startswith("liveblog_log_head_position ")]
        assert head and float(head[0].split()[1]) > 0  # read from the log, with no append here
        busy = [line for line in metrics.splitlines()
                if line.startswith("liveblog_db_connections_in_use ")]
        assert busy == ["liveblog_db_connections_in_use 1.0"]  # the scrape's own, no other
    finally:
        server.stop()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_every_node_reports_storage_that_refuses_writes(database):
    """Storage that refuses every write (a read-only standby answers so): a node that has not
    tried to write since says degraded too, and ok again once writes are taken."""
    from liveblog import create_app

    editor_token(database)
    node = create_app({"TESTING": True, "DATABASE": database})
    refuse = ("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
              " RAISE EXCEPTION 'read-only' USING ERRCODE = '25006'; END $$;"
              " CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON health_probe"
              " FOR EACH ROW EXECUTE FUNCTION refuse()")
    try:
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute(refuse)
        health = node.test_client().get("/healthz")
        assert health.status_code == 503 and health.get_json()["writes"] == "failing"
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute("DROP TRIGGER refuse ON health_probe")
        assert node.test_client().get("/healthz").status_code == 200
    finally:
        node.extensions["liveblog"].shutdown()
