"""The transparency log on a large log (a newsroom's year by ``bench_scale.make_log``, 1,000,000
events by default, in a SQLite file): what the first signing costs (every complete subtree of
256 and 65,536 leaves hashed and kept), what a later one costs after more events, and how long
a proof, a consistency proof, a root and a tile take. Signing runs in the scheduler, never on
an append's path, so appends pay nothing for it.

    scripts/bench tlog [--events 1000000] [--proofs 500]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_scale import make_log  # noqa: E402

from events import EventStore, NewEvent, migrate, tlog  # noqa: E402


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    return (f"median {statistics.median(ordered) * 1000:.2f} ms, p99"
            f" {ordered[int(len(ordered) * 0.99) - 1] * 1000:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "year.db")
        began = time.perf_counter()
        appended, _, _ = make_log(path, args.events)
        print(f"log: {appended:,} events made in {time.perf_counter() - began:.1f} s")
        store = EventStore.open(path)
        migrate(store.conn)
        tree = tlog.LogTree(store.conn)
        size = store.head().position

        began = time.perf_counter()
        kept = tree.extend(size)
        root = tree.tree(size).root()
        took = time.perf_counter() - began
        print(f"first signing's hashing: {kept:,} subtree hashes kept, root of {size:,} leaves"
              f" in {took:.1f} s ({size / took:,.0f} leaves/s)")

        for _ in range(1000):
            store.append("bench/more", [NewEvent("Happened", {"n": 1})])
        grown = store.head().position
        began = time.perf_counter()
        tree.extend(grown)
        new_root = tree.tree(grown).root()
        proof = tree.tree(grown).consistency(size)
        took = time.perf_counter() - began
        assert tlog.verify_consistency(size, grown, root, new_root, proof)
        print(f"a later signing after 1,000 more events (hash, root, consistency proof):"
              f" {took * 1000:.1f} ms")

        rng = random.Random(7)
        full = tree.tree(grown)
        times = []
        for _ in range(args.proofs):
            index = rng.randrange(grown)
            began = time.perf_counter()
            path_ = full.inclusion(index)
            times.append(time.perf_counter() - began)
            leaf = tlog.leaf_hash(tree.entries(index, index + 1)[0])
            assert tlog.verify_inclusion(index, grown, leaf, path_, new_root)
        print(f"inclusion proof of a random event ({args.proofs}): {_ms(times)}")
        times = []
        for _ in range(args.proofs // 5):
            began = time.perf_counter()
            full.consistency(rng.randrange(1, grown))
            times.append(time.perf_counter() - began)
        print(f"consistency proof from a random size ({args.proofs // 5}): {_ms(times)}")
        times = []
        for _ in range(args.proofs // 5):
            index = rng.randrange(grown // 256)
            began = time.perf_counter()
            tree.tile(0, index, 256)
            times.append(time.perf_counter() - began)
        print(f"a full level-0 tile (8 KiB): {_ms(times)}")
        began = time.perf_counter()
        width = min(256, grown >> 8)
        tree.tile(1, 0, width)
        print(f"a level-1 tile ({width} hashes of 256-leaf subtrees):"
              f" {(time.perf_counter() - began) * 1000:.2f} ms")
        store.close()


if __name__ == "__main__":
    main()
