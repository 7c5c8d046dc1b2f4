"""A rebuild folded in parts by worker processes (events.parts): the same tables as a whole
fold, each part folded in one worker, and whole when the parts cannot be trusted."""

from __future__ import annotations

import os

import pytest

from events import EventStore, NewEvent, ProjectionRunner

from .counting import ByPart, ByStream, by_part

pytestmark = pytest.mark.slow


def added(amount):
    return NewEvent("Added", {"amount": amount})


def _logged(store, streams, events=60, projections=None):
    """A runner over ``events`` events spread over ``streams``, kept up inline."""
    runner = ProjectionRunner(store, projections or [ByPart()], batch_size=7, workers=2,
                              parts_from=0)
    runner.start()
    for i in range(events):
        store.append(streams[i % len(streams)], [added(i)], then=runner.apply_inline)
    return runner


def test_a_rebuild_in_parts_makes_the_tables_a_whole_fold_makes(db_path, clock):
    store = EventStore.open(db_path, clock=clock)
    runner = _logged(store, ["a/1", "b/1", "a/2", "c/1", "b/2", "d/x"])
    before, _ = by_part(store.conn)
    seen = []
    assert runner.rebuild(progress=lambda done, total: seen.append((done, total))) == 60
    assert runner.last_workers == 2
    after, pids = by_part(store.conn)
    assert after == before
    # each part folded by one process, two in all: this one and a worker
    by_prefix = {}
    for stream, pid in pids.items():
        by_prefix.setdefault(stream.split("/")[0], set()).add(pid)
    assert all(len(folded) == 1 for folded in by_prefix.values())
    assert len(set(pids.values())) == 2 and os.getpid() in pids.values()
    assert seen[-1] == (60, 60)
    # and the same again folded whole
    whole = ProjectionRunner(store, [ByPart()], workers=1)
    assert whole.rebuild() == 60 and whole.last_workers == 0
    assert by_part(store.conn)[0] == before
    assert set(by_part(store.conn)[1].values()) == {os.getpid()}


def test_a_short_log_or_one_part_is_folded_whole(db_path, clock):
    store = EventStore.open(db_path, clock=clock)
    runner = _logged(store, ["a/1", "a/2"])
    runner.rebuild()
    assert runner.last_workers == 0  # one part: nothing to share
    store.append("b/1", [added(1)], then=runner.apply_inline)
    runner.parts_from = 1000
    runner.rebuild()
    assert runner.last_workers == 0  # under parts_from events
    runner.parts_from = 0
    runner.rebuild()
    assert runner.last_workers == 2


def test_an_event_it_handles_outside_every_part_keeps_the_fold_whole(tmp_path, clock):
    store = EventStore.open(tmp_path / "loose.db", clock=clock)
    runner = _logged(store, ["a/1", "b/1", "loose"])  # "loose": a stream of no part
    before, _ = by_part(store.conn)
    runner.rebuild()
    assert runner.last_workers == 0
    assert by_part(store.conn) == (before, {row[0]: os.getpid() for row in before})
    # events of no part that it does not handle leave it in parts
    store = EventStore.open(tmp_path / "ignored.db", clock=clock)
    runner = _logged(store, ["a/1", "b/1"])
    store.append("loose", [NewEvent("Ignored", {})], then=runner.apply_inline)
    before, _ = by_part(store.conn)
    assert runner.rebuild() == 61
    assert runner.last_workers == 2 and by_part(store.conn)[0] == before


def test_a_projection_whose_parts_differ_is_folded_whole_beside_them(db_path, clock):
    store = EventStore.open(db_path, clock=clock)
    runner = _logged(store, ["a/1", "b/1", "a/2"], projections=[ByPart(), ByStream()])
    before = by_part(store.conn)[0], by_part(store.conn, "stream_parts")[0]
    runner.rebuild()
    assert runner.last_workers == 2
    parts, pids = by_part(store.conn)
    streams, here = by_part(store.conn, "stream_parts")
    assert (parts, streams) == before
    assert len(set(pids.values())) == 2 and set(here.values()) == {os.getpid()}


def test_a_worker_that_fails_fails_the_rebuild_and_the_live_tables_stay(db_path, clock,
                                                                        monkeypatch):
    monkeypatch.setenv("BY_PART_PARENT", str(os.getpid()))
    store = EventStore.open(db_path, clock=clock)
    runner = _logged(store, ["a/1", "b/1"])
    for stream in ("a/1", "b/1"):  # (whichever part the worker gets; it fails only there)
        store.append(stream, [NewEvent("Failing", {})], then=runner.apply_inline)
    before = by_part(store.conn)
    with pytest.raises(RuntimeError, match="worker failed.*a fold that fails"):
        runner.rebuild()
    assert by_part(store.conn) == before
    whole = ProjectionRunner(store, [ByPart()], workers=1)
    assert whole.rebuild() == 62
    assert by_part(store.conn)[0] == before[0]
