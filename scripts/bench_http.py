"""Benchmark the HTTP read and write paths through `liveblog serve` on 127.0.0.1.

Measures, with wrk and a bounded load, requests/s of feed polls answered 304, feed pages
answered 200, and publishes; next to a minimal Flask app returning the same bytes under the same
gunicorn settings and worker class (liveblog.worker.Worker), in the same run. Targets: 304 >=
1.5x and 200 >= 1.2x of the minimal app (aims: 2.0x and 1.5x), best of the alternating rounds,
and the ratio of their medians. Then what counting each request for /metrics and logging it
costs a 304 poll: the same server with REQUEST_METRICS off and no access log, and with both on
(the log to a file); goal: at most 10%.

    scripts/bench http [--seconds 8] [--connections 16] [--workers 2]
    scripts/bench http --backend postgresql   # then also: two nodes on PostgreSQL next to one
                                              # SQLite node (publishes and 304 polls)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.e2e.server import create_database, free_port  # noqa: E402


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def wrk(url: str, seconds: int, connections: int, *, headers: dict[str, str] | None = None,
        script: Path | None = None) -> float:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if match is None:
        raise RuntimeError(out)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} error responses from {url}:\n{out}")
    return float(match.group(1))


def request(url: str, method: str = "GET", body: dict | None = None,
            headers: dict[str, str] | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        **({"Content-Type": "application/json"} if data else {}), **(headers or {})})
    with urllib.request.urlopen(req, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def seed(base: str, auth: dict[str, str], posts: int) -> None:
    request(f"{base}/api/blogs", "POST", {"title": "Bench", "slug": "bench"}, auth)
    paragraph = {"type": "paragraph", "text": "A paragraph of <em>news</em>. " * 8}
    for i in range(posts):
        request(f"{base}/api/blogs/bench/posts", "POST", {
            "headline": f"Update {i}", "byline": {"contributors": ["Jane Roe"]},
            "body": [paragraph, paragraph]}, auth)


def start_node(python: str, db: str, workers: int,
               procs: list[subprocess.Popen[bytes]], *, scheduler: bool = True) -> str:
    port = free_port()
    procs.append(subprocess.Popen(
        [python, "-m", "liveblog", "serve", "--db", db, "--port", str(port),
         "--workers", str(workers),
         "--scheduler" if scheduler else "--no-scheduler"], stderr=subprocess.DEVNULL))
    base = f"http://127.0.0.1:{port}"
    wait_up(f"{base}/healthz")
    return base


def spread(bases: list[str], seconds: int, connections: int, **options) -> float:
    """One wrk per node at once, the connections shared out; the summed rate."""
    from concurrent.futures import ThreadPoolExecutor

    each = max(1, connections // len(bases))
    with ThreadPoolExecutor(len(bases)) as pool:
        rates = pool.map(lambda base: wrk(f"{base}/api/blogs/bench/posts", seconds, each,
                                          **options), bases)
        return sum(rates)


def compare_nodes(args: argparse.Namespace, python: str, folder: Path) -> None:
    """Publishes and 304 polls: one SQLite node next to two nodes sharing one PostgreSQL
    database (same workers per node, same total connections, same machine)."""
    from tests.postgres import own_database

    procs: list[subprocess.Popen[bytes]] = []
    results = {}
    with own_database(args.postgres, "liveblog_bench") as server:
        try:
            for label, db, count in (("1 node, SQLite", str(folder / "node.db"), 1),
                                     ("2 nodes, PostgreSQL", server, 2)):
                create_database(db)  # as `liveblog serve` would: the token commands need one
                token = subprocess.run(
                    [python, "-m", "liveblog", "token", "create", "--role", "editor", "--name",
                     "bench", "--db", db], capture_output=True, text=True,
                    check=True).stdout.strip().splitlines()[-1]
                bases = [start_node(python, db, args.workers, procs,
                                    scheduler=i == 0) for i in range(count)]
                auth = {"Authorization": f"Bearer {token}"}
                seed(bases[0], auth, args.posts)
                etag = request(f"{bases[-1]}/api/blogs/bench/posts")[1]["ETag"]
                script = folder / f"post{count}.lua"
                script.write_text(
                    'wrk.method = "POST"\n'
                    'wrk.body = \'{"headline": "Load"}\'\n'
                    'wrk.headers["Content-Type"] = "application/json"\n'
                    f'wrk.headers["Authorization"] = "Bearer {token}"\n')
                for base in bases:
                    wrk(f"{base}/api/blogs/bench/posts", 2, args.connections)
                results[label] = (
                    spread(bases, args.seconds, args.connections,
                           headers={"If-None-Match": etag}),
                    spread(bases, args.seconds, args.connections, script=script))
                for proc in procs:
                    proc.terminate()
                for proc in procs:
                    proc.wait(timeout=30)
                procs.clear()
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)
    print(f"\nnodes: each {args.workers} gevent workers, wrk -c{args.connections}"
          f" in all ({args.seconds}s), all on this {os.cpu_count()}-core machine")
    print(f"{'':24}{'poll 304':>12}{'publish':>12}")
    for label, (polls, publishes) in results.items():
        print(f"{label:24}{polls:>10,.0f}/s{publishes:>10,.0f}/s")


def bookkeeping(args: argparse.Namespace, python: str, db: Path, etag: str,
                folder: Path) -> None:
    """A 304 poll's rate with nothing counted or logged, and with each request counted for
    /metrics and logged to a file: what that bookkeeping costs (alternating rounds, best)."""
    variants = {"counted and logged": (["--access-log", str(folder / "access.log")], {}),
                "neither": ([], {"LIVEBLOG_REQUEST_METRICS": "false"})}
    procs: list[subprocess.Popen[bytes]] = []
    bases = {}
    try:
        for label, (flags, env) in variants.items():
            port = free_port()
            procs.append(subprocess.Popen(
                [python, "-m", "liveblog", "serve", "--db", str(db), "--port", str(port),
                 "--workers", str(args.workers), "--no-scheduler", *flags],
                env={**os.environ, **env}, stderr=subprocess.DEVNULL))
            bases[label] = f"http://127.0.0.1:{port}/api/blogs/bench/posts"
            wait_up(bases[label])
        seen: dict[str, list[float]] = {label: [] for label in bases}
        for _ in range(args.rounds):
            for label, url in bases.items():
                seen[label].append(wrk(url, args.seconds, args.connections,
                                       headers={"If-None-Match": etag}))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    best = {label: max(rates) for label, rates in seen.items()}
    cost = 1 - best["counted and logged"] / best["neither"]
    print(f"feed poll answered 304, each request counted for /metrics and logged:"
          f" {best['counted and logged']:,.0f}/s; neither: {best['neither']:,.0f}/s; the"
          f" bookkeeping costs {cost:.0%} of a poll (goal <= 10%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite",
                        help="postgresql: also compare two PostgreSQL nodes with one SQLite node")
    parser.add_argument("--postgres", default=os.environ.get(
        "LIVEBLOG_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: scripts/bench installs it (apt-get install wrk)")
    python = sys.executable
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = folder / "bench.db"
        create_database(db)
        token = subprocess.run([python, "-m", "liveblog", "token", "create", "--role", "editor",
                                "--name", "bench", "--db", str(db)], capture_output=True,
                               text=True, check=True).stdout.strip().splitlines()[-1]
        auth = {"Authorization": f"Bearer {token}"}
        try:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            procs.append(subprocess.Popen(
                [python, "-m", "liveblog", "serve", "--db", str(db), "--port", str(port),
                 "--workers", str(args.workers)],
                stderr=subprocess.DEVNULL))
            wait_up(f"{base}/healthz")
            request(f"{base}/api/blogs", "POST", {"title": "Bench", "slug": "bench"}, auth)
            paragraph = {"type": "paragraph", "text": "A paragraph of <em>news</em>. " * 8}
            for i in range(args.posts):
                request(f"{base}/api/blogs/bench/posts", "POST", {
                    "headline": f"Update {i}", "byline": {"contributors": ["Jane Roe"]},
                    "body": [paragraph, paragraph]}, auth)
            feed_url = f"{base}/api/blogs/bench/posts"
            _, headers, body = request(feed_url)
            _, _, created = request(feed_url, "POST", {"headline": "captured"}, auth)
            keep = {k: v for k, v in headers.items()
                    if k in ("ETag", "Cache-Control", "Last-Modified", "Vary")}
            capture = folder / "capture.json"
            capture.write_text(json.dumps({"body": body.decode(), "headers": keep,
                                           "created": created.decode()}))
            _, headers, body = request(feed_url)  # after the captured publish
            keep = {k: v for k, v in headers.items()
                    if k in ("ETag", "Cache-Control", "Last-Modified", "Vary")}
            capture.write_text(json.dumps({"body": body.decode(), "headers": keep,
                                           "created": created.decode()}))
            etag = headers["ETag"]

            minimal_port = free_port()
            minimal = f"http://127.0.0.1:{minimal_port}"
            procs.append(subprocess.Popen(
                [python, "-m", "gunicorn", "--chdir", str(HERE), "-k", "liveblog.worker.Worker",
                 "-w", str(args.workers), "-b",
                 f"127.0.0.1:{minimal_port}", "--log-level", "warning",
                 "bench_http_baseline:app"],
                env={**os.environ, "BENCH_CAPTURE": str(capture)}, stderr=subprocess.DEVNULL))
            wait_up(f"{minimal}/api/blogs/bench/posts")
            assert request(f"{minimal}/api/blogs/bench/posts")[2] == body

            post_script = folder / "post.lua"
            post_script.write_text(
                'wrk.method = "POST"\n'
                'wrk.body = \'{"headline": "Load", "body": [{"type": "paragraph",'
                ' "text": "Load test"}]}\'\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
                f'wrk.headers["Authorization"] = "Bearer {token}"\n')
            s, c = args.seconds, args.connections
            cond = {"If-None-Match": etag}
            rows = []
            # warm both up, then alternate the two servers, keeping each one's best figure: the
            # machine is shared, and a burst of someone else's load hits one run, not all
            for url in (f"{base}/api/blogs/bench/posts", f"{minimal}/api/blogs/bench/posts"):
                wrk(url, 2, c)
            best: dict[str, float] = {}
            seen: dict[str, list[float]] = {}
            for _ in range(args.rounds):
                for key, url, hdrs in (
                        ("304 ours", f"{base}/api/blogs/bench/posts", cond),
                        ("304 minimal", f"{minimal}/api/blogs/bench/posts", cond),
                        ("200 ours", f"{base}/api/blogs/bench/posts", None),
                        ("200 minimal", f"{minimal}/api/blogs/bench/posts", None)):
                    seen.setdefault(key, []).append(wrk(url, s, c, headers=hdrs))
                    best[key] = max(seen[key])
            # publishes last (each changes the feed, and so the ETag the 304 rounds send),
            # alternating as the reads do
            for _ in range(args.rounds):
                for key, url in (("publish ours", base), ("publish minimal", minimal)):
                    seen.setdefault(key, []).append(
                        wrk(f"{url}/api/blogs/bench/posts", s, c, script=post_script))
                    best[key] = max(seen[key])
            rows = [("feed poll answered 304", "304", 1.5), ("feed page answered 200", "200", 1.2),
                    ("publish (POST, fsync each)", "publish", None)]
            print(f"gunicorn, liveblog.worker.Worker (gevent), {args.workers} workers (both);"
                  f" wrk -t1 -c{c} -d{s}s, best of {args.rounds} alternating rounds; feed page "
                  f"{len(body):,} bytes ({args.posts} posts, limit 20)")
            print(f"{'':30}{'liveblog':>12}{'minimal app':>14}{'ratio':>8}{'median':>8}  target")
            for label, key, target in rows:
                ours, theirs = best[f"{key} ours"], best[f"{key} minimal"]
                goal = f">= {target}x" if target else "(reference)"
                mine, others = seen.get(f"{key} ours"), seen.get(f"{key} minimal")
                median = (f"{statistics.median(mine) / statistics.median(others):>7.2f}x"
                          if mine and others else f"{'':>8}")
                print(f"{label:30}{ours:>10,.0f}/s{theirs:>12,.0f}/s{ours / theirs:>7.2f}x"
                      f"{median}  {goal}")
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
        bookkeeping(args, python, db, etag, folder)
        if args.backend == "postgresql":
            compare_nodes(args, python, folder)


if __name__ == "__main__":
    main()
