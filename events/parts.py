"""A rebuild's fold in parts, on several cores: worker processes that each fold a share of a
projection's parts of the log (:meth:`events.projections.Projection.part_of`), side by side.

A rebuild's fold is Python, one core's work; a machine with more folds a projection whose rows
of one part (say, a blog's) are made by that part's events alone in parts: each worker reads the
log up to the rebuild's target, only its share of the parts' streams (SQLite passes over the
others without a row reaching Python), folds them into the same fresh tables with the
projection's own handlers, and writes its rows in short transactions, as the whole fold does:
the tables end the same bytes (the parts' rows are disjoint, and each row is made by the same
events in the same order). This module deals the shares and runs the workers
(``python -m events.fold``, which :mod:`events.fold` is); the runner decides when to.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import selectors
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

#: a log shorter than this is folded whole: starting a worker (0.2-0.4 s here) would cost more
#: than the share of the fold it takes
PARTS_FROM = 20_000
#: the module a worker runs
WORKER = "events.fold"


def deal(counts: Mapping[str, int], workers: int) -> list[list[str]]:
    """The parts (``counts``: each part's events) dealt into at most ``workers`` shares of
    about as many events each: the largest first, each to the share with fewest so far."""
    shares: list[tuple[int, list[str]]] = [(0, []) for _ in range(min(workers, len(counts)))]
    for part, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        least = min(range(len(shares)), key=lambda i: shares[i][0])
        load, parts = shares[least]
        parts.append(part)
        shares[least] = (load + count, parts)
    return [parts for _, parts in shares if parts]


class Workers:
    """The worker processes of one rebuild, each given its job (a pickled mapping) on its
    standard input; each tells the log position it has folded up to on a line of its standard
    output after each batch (``at N``). The process that starts them folds a share of its own
    meanwhile (:meth:`poll` tells them apart)."""

    def __init__(self) -> None:
        self._processes: list[tuple[subprocess.Popen[bytes], Any]] = []
        self._selector = selectors.DefaultSelector()
        #: the position each has folded up to, by pid (this process's own too)
        self._positions: dict[int, int] = {os.getpid(): 0}

    def start(self, jobs: Sequence[Mapping[str, Any]]) -> None:
        """Start a worker for each of ``jobs``."""
        for job in jobs:
            errors = tempfile.TemporaryFile()  # a traceback, whatever its length
            process = subprocess.Popen(
                [sys.executable, "-m", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=errors)
            self._processes.append((process, errors))
            self._positions[process.pid] = 0
            assert process.stdin is not None and process.stdout is not None
            self._selector.register(process.stdout.fileno(), selectors.EVENT_READ,
                                    [process, errors, b""])
            # the import path first: the job's projections are unpickled with it
            process.stdin.write(pickle.dumps(list(sys.path)) + pickle.dumps(dict(job)))
            process.stdin.close()

    def poll(self, own: int, report: Callable[[int], None] | None = None) -> None:
        """This process has folded its share up to position ``own``: take what the workers
        said meanwhile, and tell ``report`` the position all have folded up to."""
        self._positions[os.getpid()] = own
        self._read(0)
        if report is not None:
            report(min(self._positions.values()))

    def wait(self, report: Callable[[int], None] | None = None) -> None:
        """Wait until every worker is done; ``report`` is told the position all have folded
        up to, as it moves.

        :raises RuntimeError: a worker failed (its last words are in the message)."""
        while self._selector.get_map():
            self._read(None)
            if report is not None:
                report(min(self._positions.values()))

    def _read(self, timeout: float | None) -> None:
        """What the workers said, waiting up to ``timeout`` seconds for it (None: until one
        says something or ends)."""
        for key, _ in self._selector.select(timeout):
            process, errors, held = key.data
            chunk = os.read(key.fd, 65536)
            if not chunk:  # the worker ended
                self._selector.unregister(key.fd)
                self._check(process, errors)
                continue
            *lines, key.data[2] = (held + chunk).split(b"\n")
            for line in lines:
                word, _, value = line.decode().partition(" ")
                if word == "at":
                    self._positions[process.pid] = int(value)

    @staticmethod
    def _check(process: subprocess.Popen[bytes], errors: Any) -> None:
        if process.wait() != 0:
            errors.seek(0)
            said = errors.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"a rebuild's worker failed (exit {process.returncode}):"
                               f" {said[-1] if said else 'no message'}")

    def stop(self) -> None:
        """End the workers still running, and let go of what each held."""
        for process, errors in self._processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
            errors.close()
        self._selector.close()


@contextlib.contextmanager
def running(jobs: Sequence[Mapping[str, Any]]) -> Iterator[Workers]:
    """Workers started for ``jobs`` (none when there are none), stopped when the block ends,
    however it ends."""
    workers = Workers()
    try:
        workers.start(jobs)
        yield workers
    finally:
        workers.stop()
