"""A legal redaction while an editor publishes, on both backends: how long the redaction takes
and the editor's longest wait across it. The log is a newsroom's year made by
``bench_scale.make_log`` (300,000 events by default), in a SQLite file and, moved with
`liveblog copy`, in a PostgreSQL database; legal redacts a post of the oldest blog while an
editor publishes to another blog every 50 ms.

    scripts/bench redaction [--events 300000] [--backend sqlite postgresql] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_scale import make_log  # noqa: E402

from tests.e2e.server import Server, editor_token  # noqa: E402
from tests.postgres import SERVER, own_database  # noqa: E402

PYTHON = sys.executable


def _request(base: str, method: str, path: str, token: str, body: dict | None = None) -> int:
    """The status of one request (a refused one's problem is printed)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            answer.read()
            return int(answer.status)
    except urllib.error.HTTPError as error:
        print(f"{method} {path}: {error.code} {error.read()[:300]!r}", file=sys.stderr)
        return int(error.code)


def _old_posts(database: str, count: int) -> list[tuple[str, str]]:
    """``(blog id, post id)`` of published posts of the oldest blogs, oldest first."""
    from events import connect

    conn = connect(database)
    try:
        rows = conn.execute("SELECT stream_id FROM events WHERE type = 'PostPublished'"
                            " ORDER BY position LIMIT ?", (count * 20,)).fetchall()
    finally:
        conn.close()
    seen: dict[str, None] = {}
    for (stream,) in rows:
        seen.setdefault(stream)
    posts = [(s.split("/")[1], s.split("/")[3]) for s in seen]
    return posts[::max(1, len(posts) // count)][:count]


def _table_bytes(database: str) -> str:
    if not database.startswith("postgresql"):
        return f"{Path(database).stat().st_size / 1e6:.0f} MB file"
    import psycopg

    with psycopg.connect(database) as conn:
        size = conn.execute("SELECT pg_total_relation_size('events')").fetchone()[0]
    return f"events table {size / 1e6:.0f} MB"


def measure(database: str, rounds: int) -> dict:
    """Serve ``database``; publish every 50 ms while legal redacts ``rounds`` old posts, one
    at a time; the redactions' durations and the editor's waits across each."""
    editor = editor_token(database, "Bench Editor")
    legal = editor_token(database, "Legal Desk", role="legal")
    server = Server(database, workers=2)
    try:
        base = server.base
        # a slug of its own: the PostgreSQL copy is made after the SQLite run
        desk = f"live-desk-{time.time_ns()}"
        created = _request(base, "POST", "/api/blogs", editor, {"title": "Live desk",
                                                                  "slug": desk})
        assert created == 201, created
        waits: list[tuple[float, float]] = []  # (start, seconds)
        stop = threading.Event()

        def publish() -> None:
            n = 0
            while not stop.is_set():
                began = time.monotonic()
                status = _request(base, "POST", f"/api/blogs/{desk}/posts", editor,
                                  {"headline": f"update {n}"})
                assert status == 201, status
                waits.append((began, time.monotonic() - began))
                n += 1
                stop.wait(max(0.0, 0.05 - (time.monotonic() - began)))

        writer = threading.Thread(target=publish)
        writer.start()
        results = []
        try:
            time.sleep(2)
            for blog_id, post_id in _old_posts(database, rounds):
                began = time.monotonic()
                status = _request(base, "POST", f"/api/blogs/{blog_id}/posts/{post_id}/redact",
                                  legal, {"reason": "court order (benchmark)"})
                ended = time.monotonic()
                assert status == 200, status
                time.sleep(1)
                across = [s for start, s in waits if began - 1 <= start <= ended + 1]
                results.append((ended - began, max(across), len(across)))
        finally:
            stop.set()
            writer.join()
        every = [s for _, s in waits]
        return {"redaction_s": [round(r[0], 3) for r in results],
                "editor_longest_wait_across_s": [round(r[1], 3) for r in results],
                "publishes_across": [r[2] for r in results],
                "publish_p50_ms": round(statistics.median(every) * 1000, 1),
                "publish_count": len(every)}
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--backend", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-redaction-") as folder:
        path = str(Path(folder) / "year.db")
        started = time.perf_counter()
        appended, _, _ = make_log(path, args.events)
        print(f"log: {appended:,} events made in {time.perf_counter() - started:.1f} s")
        subprocess.run([PYTHON, "-m", "liveblog", "migrate", "--db", path], check=True,
                       capture_output=True)
        if "sqlite" in args.backend:  # on a copy: the PostgreSQL run redacts the same posts
            copy = str(Path(folder) / "sqlite-run.db")
            subprocess.run([PYTHON, "-m", "liveblog", "backup", copy, "--db", path], check=True,
                           capture_output=True)
            print(f"sqlite ({_table_bytes(copy)}):",
                  json.dumps(measure(copy, args.rounds)), flush=True)
        if "postgresql" in args.backend:
            with own_database(SERVER, "bench_redaction") as url:
                started = time.perf_counter()
                subprocess.run([PYTHON, "-m", "liveblog", "copy", "--from", path, "--to", url],
                               check=True, capture_output=True)
                print(f"copied to PostgreSQL in {time.perf_counter() - started:.1f} s")
                print(f"postgresql ({_table_bytes(url)}):",
                      json.dumps(measure(url, args.rounds)), flush=True)


if __name__ == "__main__":
    main()
