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
                  body: bytes = b"", timeout: float = 30.0) -> tuple[int, float, bytes]:
    """One request on a new connection: (status, seconds, body); status 0 when it failed."""
    began = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port),
                                                timeout)
    except (TimeoutError, OSError):
        return 0, time.monotonic() - began, b""
    lines = [f"{method} {path} HTTP/1.1", "Host: bench", "Connection: close",
             f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    answer = b""
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        answer = await asyncio.wait_for(reader.read(), timeout)
        status = int(status_line.split()[1]) if status_line else 0
    except (TimeoutError, OSError, ValueError, IndexError):
        status = 0
    finally:
        writer.close()
    return status, time.monotonic() - began, answer.partition(b"\r\n\r\n")[2]


async def long_poller(port: int, blog: str, cursor: str, stop: float,
                      answers: list[tuple[float, int]], tallies: dict[str, int] | None = None
                      ) -> None:
    """A reader's app: waits on /changes from its cursor on one kept-alive connection, as a
    browser's fetch does, and polls again as soon as an answer comes, from the cursor it got
    (so every publish wakes every poller), or after ``Retry-After`` seconds when the node
    turned it away. Notes when each answer with changes came (its time, how many), and counts
    in ``tallies`` the waits that ran out, the polls turned away and the errors."""
    tallies = tallies if tallies is not None else {}
    reader = writer = None
    while time.monotonic() < stop:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            writer.write(f"GET /api/blogs/{blog}/changes?since={cursor}&wait=25 HTTP/1.1\r\n"
                         "Host: bench\r\n\r\n".encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 40)
            came = time.monotonic()
            lines = head.decode("latin-1").split("\r\n")
            fields = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
            body = await reader.readexactly(int(fields.get("content-length", "0")))
            if lines[0].split()[1] != "200":
                raise ValueError(lines[0])
            answer = json.loads(body)
            cursor = answer["cursor"]
            if answer["changes"]:
                answers.append((came, len(answer["changes"])))
            else:
                tallies["timed out"] = tallies.get("timed out", 0) + 1  # polled again at once
            if "retry-after" in fields:
                tallies["turned away"] = tallies.get("turned away", 0) + 1
                writer.close()
                reader = writer = None
                await asyncio.sleep(int(fields["retry-after"]))
            elif fields.get("connection") == "close":
                writer.close()
                reader = writer = None
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
            tallies["errors"] = tallies.get("errors", 0) + 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(1)
    if writer is not None:
        writer.close()


async def slow_client(port: int, stop: float, dropped: list[int]) -> None:
    """Sends a request line, then a header line every 5 s, never finishing; connects again
    when the server times it out (so ``slow`` of them are always there)."""
    while time.monotonic() < stop:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(1)
            continue
        try:
            writer.write(b"GET /api/blogs HTTP/1.1\r\nHost: bench\r\n")
            n = 0
            while time.monotonic() < stop:
                await asyncio.sleep(5)
                if reader.at_eof():
                    break
                n += 1
                writer.write(f"X-Slow-{n}: {n}\r\n".encode())
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
        if time.monotonic() < stop:
            dropped.append(1)  # timed out by the server: what should happen


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
    answered: list[tuple[float, int]] = []
    dropped: list[int] = []
    background = [asyncio.create_task(long_poller(port, "load", cursor, stop, answered))
                  for _ in range(polls)]
    background += [asyncio.create_task(slow_client(port, stop, dropped)) for _ in range(slow)]
    await asyncio.sleep(3)  # everyone connected and waiting
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    publishes, reads, health = [], [], []
    failures = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        status, took, _ = await request(port, "POST", "/api/blogs/load/posts", auth,
                                     json.dumps({"headline": "Load"}).encode())
        publishes.append(took)
        failures += status != 201
        for _ in range(3):
            status, took, _ = await request(port, "GET", "/api/blogs/load/posts")
            reads.append(took)
            failures += status != 200
        status, took, _ = await request(port, "GET", "/healthz", timeout=10)
        health.append(status == 200)
        await asyncio.sleep(0.3)
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    return {"publishes": publishes, "reads": reads, "health": health, "failures": failures,
            "answered": len(answered), "dropped": len(dropped)}


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
                  f"  {'healthz ok':>10}  failed  {'polls answered':>14}  slow timed out")
            for polls in args.polls:
                slow = args.slow if polls else 0
                r = asyncio.run(measure(server.port, token, blog["cursor"], polls, slow,
                                        args.seconds))
                ok = sum(r["health"])
                print(f"{polls:>10}  {percentiles(r['publishes']):>21}"
                      f"  {percentiles(r['reads']):>21}  {ok:>4}/{len(r['health']):<5}"
                      f"  {r['failures']:>6}  {r['answered']:>14}  {r['dropped']:>14}")
            print("goal: with 1,000 long polls and 200 slow clients, publish p95 < 500,"
                  " read p95 < 250, /healthz always ok")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
