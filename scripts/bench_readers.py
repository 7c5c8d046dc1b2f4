"""Readers at scale through a shared cache: N simulated readers poll a live blog through nginx
(the shipped deploy/nginx/liveblog.conf) while an editor publishes; prints reader requests/s,
origin requests/s and their ratio, and the p95 delay from a publish to a reader seeing it.

Each reader does what the reader page does: loads the page's state, then polls
/blogs/{slug}/live?since=<cursor> every max-age seconds, revalidating with If-None-Match, as a
browser with cache: "no-cache" does. Goal: at 1,000 readers the origin sees < 1% of reader
requests, and the p95 delay stays <= max-age + 2 s.

    scripts/bench readers [--readers 100 1000] [--seconds 30] [--max-age 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.nginx import Nginx  # noqa: E402
from tests.e2e.server import Server, editor_token  # noqa: E402


async def get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str,
              etag: str | None) -> tuple[int, dict[str, str], bytes]:
    """One GET on a kept-alive connection (Content-Length or chunked bodies)."""
    lines = [f"GET {path} HTTP/1.1", "Host: live.example.com", "Accept: application/json"]
    if etag:
        lines.append(f"If-None-Match: {etag}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = b""
    if headers.get("transfer-encoding") == "chunked":
        while (size := int((await reader.readline()).strip(), 16)):
            body += await reader.readexactly(size)
            await reader.readline()
        await reader.readline()
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    return status, headers, body


async def simulated_reader(port: int, cursor: str, stop: float, seen: dict[str, list[float]],
                           counts: list[int], max_age: float) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    etag = None
    try:
        while time.monotonic() < stop:
            status, headers, body = await get(reader, writer,
                                              f"/blogs/cached/live?since={cursor}", etag)
            counts[0] += 1
            if status == 200:
                data = json.loads(body)
                now = time.time()
                for change in data["changes"]:
                    if change["op"] == "upsert":
                        seen.setdefault(change["id"], []).append(now)
                if data["cursor"] != cursor:
                    cursor, etag = data["cursor"], None
                else:
                    etag = headers.get("etag")
            await asyncio.sleep(max_age)
    finally:
        writer.close()


async def run(port: int, readers: int, seconds: float, max_age: float, publish) -> dict:
    cursor = (await asyncio.to_thread(publish.state))["cursor"]
    seen: dict[str, list[float]] = {}
    counts = [0]
    stop = time.monotonic() + seconds
    tasks = []
    for i in range(readers):  # spread the readers' first polls over one max-age, as arrivals are
        tasks.append(asyncio.create_task(simulated_reader(port, cursor, stop, seen, counts,
                                                          max_age)))
        if i % 50 == 49:
            await asyncio.sleep(max_age * 50 / readers)
    published: dict[str, float] = {}
    started = time.monotonic()
    origin_before = publish.origin_reads()
    while time.monotonic() < stop - (3 * max_age + 3):  # each reader polls again after it
        await asyncio.sleep(3)
        post_id, at = await asyncio.to_thread(publish.post)
        published[post_id] = at
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    origin = publish.origin_reads() - origin_before
    delays = [at - published[post] for post, ats in seen.items() if post in published
              for at in ats]
    missed = sum(readers - len(seen.get(post, [])) for post in published)
    return {"reader_rps": counts[0] / elapsed, "origin_rps": origin / elapsed,
            "p95": statistics.quantiles(delays, n=20)[18] if len(delays) > 20 else max(delays),
            "missed": missed, "posts": len(published)}


class Editor:
    def __init__(self, origin: Server) -> None:
        self.origin = origin

    def state(self) -> dict:
        return self.origin.request("GET", "/api/blogs/cached").json()

    def post(self) -> tuple[str, float]:
        at = time.time()
        reply = self.origin.request("POST", "/api/blogs/cached/posts", {"headline": "News"},
                                    self.origin.auth)
        return reply.json()["id"], at

    def origin_reads(self) -> int:
        return sum(1 for line in self.origin.log.read_text().splitlines() if '"GET ' in line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--max-age", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = folder / "readers.db"
        token = editor_token(db)
        log = folder / "origin.log"
        origin = Server(db, workers=2, extra_args=("--access-log", str(log)),
                        extra_env={"LIVEBLOG_CACHE_MAX_AGE": str(args.max_age)})
        origin.auth = {"Authorization": f"Bearer {token}"}
        origin.log = log
        proxy = Nginx(folder / "nginx", origin.port)
        try:
            origin.request("POST", "/api/blogs", {"title": "Readers", "slug": "cached"},
                           origin.auth)
            print(f"readers poll /blogs/{{slug}}/live through nginx (shipped config); max-age="
                  f"{args.max_age}s; a publish every 3 s; {args.seconds:.0f} s a run")
            print(f"{'readers':>8}{'reader req/s':>14}{'origin req/s':>14}{'origin share':>14}"
                  f"{'p95 delay':>11}{'missed':>8}")
            for readers in args.readers:
                r = asyncio.run(run(proxy.port, readers, args.seconds, args.max_age,
                                    Editor(origin)))
                print(f"{readers:>8}{r['reader_rps']:>14,.1f}{r['origin_rps']:>14,.2f}"
                      f"{r['origin_rps'] / r['reader_rps']:>13.2%}{r['p95']:>10.2f}s"
                      f"{r['missed']:>8}")
            print(f"goal at 1,000 readers: origin share < 1%, p95 delay <= {args.max_age + 2} s")
        finally:
            proxy.stop()
            origin.stop()


if __name__ == "__main__":
    main()
