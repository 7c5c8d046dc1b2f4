"""Votes that arrive while a batch is being written are written together, in the next batch;
each vote gets its own outcome, and an error reaches exactly the votes of its batch."""

from __future__ import annotations

import threading
import time

from liveblog.votes import AGAIN, COUNTED, GroupCommit, Vote


def new_vote(voter: str) -> Vote:
    return Vote("poll", "a", voter, "address", "2026-12-07T00:00:00Z", 10)


def test_votes_that_come_during_a_write_are_written_together_in_the_next():
    counting = GroupCommit()
    batches: list[list[str]] = []
    first_written, go_on = threading.Event(), threading.Event()
    failing = {"v3"}

    def write(batch: list[Vote]) -> list[str]:
        batches.append([b.voter for b in batch])
        if len(batches) == 1:
            first_written.set()
            assert go_on.wait(10)
        if failing & {b.voter for b in batch} and len(batches) == 2:
            raise OSError("disk full")
        return [AGAIN if b.voter == "v2" else COUNTED for b in batch]

    outcomes: dict[str, object] = {}

    def vote(voter: str) -> None:
        try:
            outcomes[voter] = counting.record(new_vote(voter), write)
        except OSError as error:
            outcomes[voter] = error

    first = threading.Thread(target=vote, args=("v0",))
    first.start()
    assert first_written.wait(10)
    others = [threading.Thread(target=vote, args=(f"v{i}",)) for i in range(1, 5)]
    for t in others:
        t.start()
    time.sleep(0.2)  # all four are waiting: none writes while the first batch is under way
    assert batches == [["v0"]]
    go_on.set()
    for t in (first, *others):
        t.join(10)
    assert batches[0] == ["v0"]
    assert sorted(batches[1]) == ["v1", "v2", "v3", "v4"]
    assert len(batches) == 2
    assert outcomes["v0"] == COUNTED
    assert all(isinstance(outcomes[f"v{i}"], OSError) for i in range(1, 5))
    # the next vote leads a batch of its own: the error stayed with its batch
    assert counting.record(new_vote("v5"), write) == COUNTED
    assert counting.record(new_vote("v2"), write) == AGAIN


def test_many_threads_each_get_their_own_outcome():
    votes = 50
    counting = GroupCommit()
    written: list[str] = []
    lock = threading.Lock()

    def write(batch: list[Vote]) -> list[str]:
        with lock:
            written.extend(b.voter for b in batch)
        return [f"outcome-{b.voter}" for b in batch]

    results: dict[str, str] = {}
    threads = [threading.Thread(target=lambda v=f"r{i}": results.__setitem__(
        v, counting.record(new_vote(v), write))) for i in range(votes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(written) == sorted(f"r{i}" for i in range(votes))
    assert results == {f"r{i}": f"outcome-r{i}" for i in range(votes)}
