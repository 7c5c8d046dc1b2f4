"""What the hot path hands to a thread of its own: a batch flushed every so often."""

from __future__ import annotations

import atexit
import sys
import threading
import time
from collections.abc import Callable


class Flushing:
    """Calls ``flush`` every ``seconds`` from a thread of its own (a greenlet under `serve`),
    started by the first :meth:`start` (in the process that fills the batch: never before a
    fork), and once more when the process exits."""

    def __init__(self, flush: Callable[[], None], seconds: float, name: str) -> None:
        self.flush = flush
        self.seconds = seconds
        self.name = name
        self.started = False
        atexit.register(flush)

    def start(self) -> None:
        # (while the interpreter shuts down a new thread never starts, and start() would wait
        # for it forever: the exit of a script that left an answer unclosed hung there)
        if not self.started and not sys.is_finalizing():
            self.started = True
            threading.Thread(target=self._run, daemon=True, name=self.name).start()

    def _run(self) -> None:
        while True:
            time.sleep(self.seconds)
            self.flush()
