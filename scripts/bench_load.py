"""Waiting and slow clients against `liveblog serve` with its defaults: editor publishes and
reader GETs (p50/p95/p99) while N long polls wait on /changes and M slow clients trickle their
headers, and whether /healthz answers. The evidence for choosing the server model (the
reliability issue's goal: with 1,000 long polls and 200 slow clients, publishes p95 < 500 ms,
reader GETs p95 < 250 ms, /healthz always answering).

    scripts/bench load [--polls 0 300 1000] [--slow 200] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.server import Server, editor_token  # noqa: E402


async def request(port: int, method: str, path: str, headers: dict[str, str] | None = None,
                  body: bytes = b"", timeout: float = 30.0) -> tuple[int, float]:
    """One request on a new connection: (status, seconds); status 0 when it timed out."""
    began = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port),
                                                timeout)
    except (TimeoutError, OSError):
        return 0, time.monotonic() - began
    lines = [f"{method} {path} HTTP/1.1", "Host: bench", "Connection: close",
             f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        await asyncio.wait_for(reader.read(), timeout)
        status = int(status_line.split()[1]) if status_line else 0
    except (TimeoutError, OSError, ValueError, IndexError):
        status = 0
    finally:
        writer.close()
    return status, time.monotonic() - began


async def long_poller(port: int, cursor: str, stop: float) -> None:
    while time.monotonic() < stop:
        await request(port, "GET", f"/api/blogs/load/changes?since={cursor}&wait=25",
                      timeout=40)


async def slow_client(port: int, stop: float) -> None:
    """Sends a request line, then a header line every 5 s, never finishing."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return
    try:
        writer.write(b"GET /api/blogs HTTP/1.1\r\nHost: bench\r\n")
        n = 0
        while time.monotonic() < stop:
            await asyncio.sleep(5)
            n += 1
            writer.write(f"X-Slow-{n}: {n}\r\n".encode())
            await writer.drain()
    except OSError:
        pass  # timed out by the server: what should happen
    finally:
        writer.close()


def percentiles(values: list[float]) -> str:
    if not values:
        return "n/a"
    if len(values) == 1:  # one request in the whole run: that says enough
        return " ".join(f"{values[0] * 1000:>6.0f}" for _ in range(3))
    q = statistics.quantiles(values, n=100)
    return f"{q[49] * 1000:>6.0f} {q[94] * 1000:>6.0f} {q[98] * 1000:>6.0f}"


async def measure(port: int, token: str, cursor: str, polls: int, slow: int,
                  seconds: float) -> dict:
    stop = time.monotonic() + seconds + 5
    background = [asyncio.create_task(long_poller(port, cursor, stop)) for _ in range(polls)]
    background += [asyncio.create_task(slow_client(port, stop)) for _ in range(slow)]
    await asyncio.sleep(3)  # everyone connected and waiting
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    publishes, reads, health = [], [], []
    failures = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        status, took = await request(port, "POST", "/api/blogs/load/posts", auth,
                                     json.dumps({"headline": "Load"}).encode())
        publishes.append(took)
        failures += status != 201
        for _ in range(3):
            status, took = await request(port, "GET", "/api/blogs/load/posts")
            reads.append(took)
            failures += status != 200
        status, took = await request(port, "GET", "/healthz", timeout=10)
        health.append(status == 200)
        await asyncio.sleep(0.3)
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    return {"publishes": publishes, "reads": reads, "health": health, "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, nargs="+", default=[0, 300, 1000])
    parser.add_argument("--slow", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "load.db"
        token = editor_token(db)
        server = Server(db)  # `liveblog serve` defaults
        try:
            blog = server.request("POST", "/api/blogs", {"title": "Load", "slug": "load"},
                                  {"Authorization": f"Bearer {token}"}).json()
            print(f"liveblog serve defaults; {args.slow} slow clients beside the long polls;"
                  f" {args.seconds:.0f} s a run; milliseconds")
            print(f"{'long polls':>10}  {'publish p50 p95 p99':>21}  {'read p50 p95 p99':>21}"
                  f"  {'healthz ok':>10}  failed")
            for polls in args.polls:
                slow = args.slow if polls else 0
                r = asyncio.run(measure(server.port, token, blog["cursor"], polls, slow,
                                        args.seconds))
                ok = sum(r["health"])
                print(f"{polls:>10}  {percentiles(r['publishes']):>21}"
                      f"  {percentiles(r['reads']):>21}  {ok:>4}/{len(r['health']):<5}"
                      f"  {r['failures']}")
            print("goal: with 1,000 long polls and 200 slow clients, publish p95 < 500,"
                  " read p95 < 250, /healthz always ok")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
