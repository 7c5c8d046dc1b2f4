"""Two OS processes on one database file, and a writer killed with SIGKILL mid-batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from events import EventStore, ProjectionRunner, verify

from .counting import Counting, snapshot

WRITER = str(Path(__file__).with_name("writer.py"))

pytestmark = pytest.mark.slow


def spawn(db, name, count, *extra):
    return subprocess.Popen([sys.executable, WRITER, str(db), name, str(count), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def acknowledged(output):
    return [int(p) for line in output.splitlines() if line.startswith("ack")
            for p in line.split()[1:]]


def test_two_processes_appending_at_once_lose_and_duplicate_nothing(db_path):
    EventStore.open(db_path).close()
    procs = [spawn(db_path, name, 150, "--batch", "3", "--project") for name in ("p", "q")]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    acks = [pos for out, _ in outputs for pos in acknowledged(out)]
    store = EventStore.open(db_path)
    head = store.head().position
    assert sorted(acks) == list(range(1, head + 1))  # each acknowledged once, gap-free
    assert head == 2 * 150 * 4
    for stream in ("own/p", "own/q", "shared"):
        versions = [e.version for e in store.read_stream(stream)]
        assert versions == list(range(1, len(versions) + 1))
    assert store.stream_version("shared") == 300
    assert verify(store.conn).ok
    inline = snapshot(store.conn)
    ProjectionRunner(store, [Counting()]).rebuild()
    assert snapshot(store.conn) == inline


def test_writer_killed_inside_a_batch_leaves_none_of_it(db_path):
    EventStore.open(db_path).close()
    proc = spawn(db_path, "k", 1, "--batch", "500", "--project", "--pause-inside", "30")
    assert proc.stdout.readline().strip() == "inside"  # 500 rows written, not committed
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    store = EventStore.open(db_path)
    assert store.is_empty()
    assert verify(store.conn).ok


def test_writers_killed_at_random_moments_leave_whole_batches(db_path):
    EventStore.open(db_path).close()
    for delay in (0.05, 0.3, 0.55):
        proc = spawn(db_path, f"w{delay}", 100_000, "--batch", "50", "--project")
        assert proc.stdout.readline().startswith("ack")  # writing (its start-up is no moment)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
    store = EventStore.open(db_path)
    assert not store.is_empty()
    for (stream, count) in store.conn.execute(
            "SELECT stream_id, count(*) FROM events WHERE stream_id LIKE 'own/%'"
            " GROUP BY stream_id"):
        assert count % 50 == 0, stream
    assert verify(store.conn).ok
    runner = ProjectionRunner(store, [Counting()])
    runner.catch_up()
    caught_up = snapshot(store.conn)
    runner.rebuild()
    assert snapshot(store.conn) == caught_up
