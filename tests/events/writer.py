"""A writer process for the multi-process tests: appends and prints each acknowledged position.

Usage: python writer.py DB NAME COUNT [--batch N] [--project] [--pause-inside SECONDS]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from events import ConcurrencyError, EventStore, NewEvent, ProjectionRunner  # noqa: E402
from tests.events.counting import Counting  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("name")
    parser.add_argument("count", type=int)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--project", action="store_true")
    parser.add_argument("--pause-inside", type=float, default=0.0)
    args = parser.parse_args()
    store = EventStore.open(args.db, synchronous="NORMAL")
    runner = ProjectionRunner(store, [Counting()])
    if args.project:
        runner.start()

    def hook(conn, events):
        if args.project:
            runner.apply_inline(conn, events)
        if args.pause_inside:
            print("inside", flush=True)
            time.sleep(args.pause_inside)

    for i in range(args.count):
        batch = [NewEvent("Added", {"amount": 1, "by": args.name, "i": i})] * args.batch
        # its own stream, with optimistic concurrency that must never fail...
        own = store.append(f"own/{args.name}", batch, expected_version=i * args.batch, then=hook)
        print("ack", *(e.position for e in own), flush=True)
        # ...and one stream shared with the other writer, retried on conflict
        while True:
            version = store.stream_version("shared")
            try:
                shared = store.append("shared", [batch[0]], expected_version=version, then=hook)
                break
            except ConcurrencyError:
                continue
        print("ack", shared[0].position, flush=True)


if __name__ == "__main__":
    main()
