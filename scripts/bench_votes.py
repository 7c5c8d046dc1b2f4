"""Votes on one node. One `liveblog serve` with no flags (its one setting:
LIVEBLOG_TRUSTED_PROXIES=127.0.0.1, as behind the CDN a newsroom puts in front: every bench
reader arrives from this machine, each with its own X-Forwarded-For address), a poll, and
readers voting at a paced rate on kept-alive connections, each vote a new reader, while an
editor publishes to the blog every 0.5 s. Prints, for each rate: votes acknowledged per second,
vote latency p50/p95/p99, refused or failed votes, and publish p95; then closes the poll and
checks that the tally recorded in the log equals the acknowledged votes exactly. The rates go
up until something gives (a rate not reached, publish p95 over 500 ms, or a failed vote).

    scripts/bench votes [--backend sqlite|postgresql] [--rates 2000 3000 4000 6000 8000]
                        [--seconds 15] [--connections 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.server import Server, create_database, editor_token  # noqa: E402


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return (values[0] * 1000,) * 3 if values else (0.0, 0.0, 0.0)
    q = statistics.quantiles(values, n=100)
    return q[49] * 1000, q[94] * 1000, q[98] * 1000


class Voter:
    """One kept-alive connection that sends votes, each as a new reader from its own address."""

    def __init__(self, port: int, poll: str, options: list[str]) -> None:
        self.port, self.poll, self.options = port, poll, options
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def vote(self, n: int) -> tuple[int, str]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        option = self.options[n % len(self.options)]
        body = json.dumps({"option": option}).encode()
        address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
        head = (f"POST /api/polls/{self.poll}/votes HTTP/1.1\r\nHost: bench\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"X-Forwarded-For: {address}\r\n\r\n").encode()
        assert self.reader is not None
        try:
            self.writer.write(head + body)
            await self.writer.drain()
            status = int((await self.reader.readline()).split()[1])
            length = 0
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                if name.lower() == "connection" and value.strip().lower() == "close":
                    self.writer = None
            await self.reader.readexactly(length)
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            self.writer = None
            return 0, option
        return status, option


async def paced(port: int, poll: str, options: list[str], rate: int, seconds: float,
                connections: int) -> tuple[list[float], Counter[int], Counter[str], float]:
    """Votes at ``rate`` a second for ``seconds``: latencies, statuses, acknowledged votes by
    option, and the seconds the sending took (more than ``seconds``: the rate was not met)."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    counted: Counter[str] = Counter()
    total = int(rate * seconds)
    began = time.monotonic()
    numbers = iter(range(total))
    offset = int(time.time() * 1000) % 1_000_000 * 100  # new readers each run

    async def connection() -> None:
        voter = Voter(port, poll, options)
        for n in numbers:
            due = began + n / rate
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            sent = time.monotonic()
            status, option = await voter.vote(offset + n)
            latencies.append(time.monotonic() - sent)
            statuses[status] += 1
            if status == 202:
                counted[option] += 1

    await asyncio.gather(*(connection() for _ in range(connections)))
    return latencies, statuses, counted, time.monotonic() - began


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children (a server's workers), so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def publisher(node: Server, auth: dict[str, str], stop: threading.Event,
              latencies: list[float]) -> None:
    i = 0
    while not stop.is_set():
        i += 1
        began = time.monotonic()
        reply = node.request("POST", "/api/blogs/bench/posts", {"headline": f"Update {i}"},
                             auth, timeout=30)
        if reply.status == 201:
            latencies.append(time.monotonic() - began)
        stop.wait(max(0.0, 0.5 - (time.monotonic() - began)))


def run(database: str, args: argparse.Namespace) -> None:
    create_database(database)  # as `liveblog serve` would: the token needs one
    token = editor_token(database)  # type: ignore[arg-type]
    auth = {"Authorization": f"Bearer {token}"}
    node = Server(database, workers=None, extra_env={"LIVEBLOG_TRUSTED_PROXIES": "127.0.0.1"})
    try:
        assert node.request("POST", "/api/blogs", {"title": "Bench", "slug": "bench"},
                            auth).status == 201
        print(f"{'rate/s':>7} {'acked/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
              f" {'refused':>8} {'failed':>7} {'publish p95':>12}")
        for rate in args.rates:
            post = node.request("POST", "/api/blogs/bench/posts", {"headline": "Poll", "body": [
                {"type": "poll", "question": "Which?", "options": ["A", "B", "C", "D"]}]},
                auth).json()
            poll = post["body"][0]
            options = [o["id"] for o in poll["options"]]
            stop, published = threading.Event(), []
            editor = threading.Thread(target=publisher, args=(node, auth, stop, published))
            editor.start()
            served, generated = cpu_seconds(node.proc.pid), time.process_time()
            latencies, statuses, counted, took = asyncio.run(
                paced(node.port, poll["id"], options, rate, args.seconds, args.connections))
            served, generated = (cpu_seconds(node.proc.pid) - served,
                                 time.process_time() - generated)
            stop.set()
            editor.join()
            acked = statuses[202]
            p50, p95, p99 = percentiles(latencies)
            refused = sum(n for s, n in statuses.items() if s not in (202, 0))
            failed = statuses[0]
            publish = percentiles(published)[1]
            print(f"{rate:>7} {acked / took:>8.0f} {p50:>7.1f} {p95:>7.1f} {p99:>7.1f}"
                  f" {refused:>8} {failed:>7} {publish:>10.0f} ms", flush=True)
            per_vote = served / max(1, sum(statuses.values())) * 1000
            print(f"        the node's CPU: {per_vote:.2f} ms a vote ({served / took:.2f} of"
                  f" {os.cpu_count()} cores; the load generator took {generated / took:.2f});"
                  f" a node with the cores to itself: about {1000 / per_vote:.0f} votes/s"
                  " a core", flush=True)
            if refused:
                print("        refused:", {s: n for s, n in statuses.items() if s not in (202, 0)})
            closed = node.request("POST", f"/api/polls/{poll['id']}/close", None, auth,
                                  timeout=60).json()
            tally = {o["id"]: o["votes"] for o in closed["options"]}
            exact = tally == {o: counted[o] for o in options}
            print(f"        tally recorded in the log: {closed['total']} votes,"
                  f" acknowledged: {acked} ({'exact' if exact else 'DIFFERENT'})", flush=True)
            gave = []
            if acked / took < rate * 0.95:
                gave.append(f"the rate ({acked / took:.0f}/s of {rate}/s)")
            if publish > 500:
                gave.append(f"publish p95 ({publish:.0f} ms)")
            if refused or failed:
                gave.append(f"{refused + failed} votes not taken")
            if not exact:
                gave.append("the tally")
            if gave:
                print(f"        at {rate}/s, what gave first: {', '.join(gave)}")
                break
    finally:
        node.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres", default=os.environ.get(
        "LIVEBLOG_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--rates", type=int, nargs="+", default=[2000, 3000, 4000, 6000, 8000])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    print(f"votes on one default node ({args.backend}), {os.cpu_count()} cores, the load"
          " generator on the same machine")
    with ExitStack() as stack:
        if args.backend == "postgresql":
            from tests.postgres import own_database

            database = stack.enter_context(own_database(args.postgres, "liveblog_votes"))
        else:
            database = str(Path(stack.enter_context(tempfile.TemporaryDirectory()))
                           / "votes.db")
        run(database, args)


if __name__ == "__main__":
    main()
