"""Benchmark auditor time travel: the feed as of a past moment for a blog of N events.

Builds one blog of N events (posts published, edited, pinned, deleted) among other blogs'
events, then times GET /api/blogs/{blog}/posts?as_of=... at several points of its history,
through the app (target: under 100 ms at 10,000 events).

    scripts/bench asof [--events 10000] [--noise 10000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from liveblog import create_app  # noqa: E402
from liveblog.api.views import service  # noqa: E402
from liveblog.cursors import encode_cursor  # noqa: E402
from liveblog.domain import commands as cmd  # noqa: E402
from liveblog.service import Actor, new_id  # noqa: E402
from liveblog.tokens import create_token  # noqa: E402

ACTOR = Actor("cli", "bench")


def fill(events: int, blog_id: str, slug: str) -> int:
    """Record about ``events`` events on one blog; returns how many."""
    svc = service()
    svc.handle(cmd.CreateBlog(blog_id, slug, f"Blog {slug}"), ACTOR)
    count, posts = 1, []
    paragraph = {"type": "paragraph", "text": "Some <em>news</em> text. " * 6}
    while count < events:
        post_id = new_id()
        svc.handle(cmd.CreatePost(blog_id, post_id, {
            "headline": f"Update {count}", "byline": {"contributors": ["Jane Roe"]},
            "body": [paragraph]}), ACTOR)
        posts.append(post_id)
        count += 1
        if len(posts) % 3 == 0:
            svc.handle(cmd.EditPost(blog_id, posts[-2], changes={"headline": "Edited"}), ACTOR)
            count += 1
        if len(posts) % 10 == 0:
            svc.handle(cmd.EditPost(blog_id, posts[-5], pinned=True), ACTOR)
            svc.handle(cmd.DeletePost(blog_id, posts[-7]), ACTOR)
            count += 2
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--noise", type=int, default=10_000,
                        help="events of another blog interleaved in the log")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE": str(Path(tmp) / "asof.db"), "SYNCHRONOUS": "NORMAL"})
        with app.app_context():
            start = time.perf_counter()
            fill(args.noise // 2, new_id(), "noise-before")
            blog_id = new_id()
            recorded = fill(args.events, blog_id, "audited")
            fill(args.noise // 2, new_id(), "noise-after")
            filled = time.perf_counter() - start
            _, token = create_token(service(), "auditor", "bench", ACTOR)
            store = service().store
            positions = [p for (p,) in store.conn.execute(
                "SELECT position FROM events WHERE stream_id LIKE ? ORDER BY position",
                (f"blog/{blog_id}/%",))]
        client = app.test_client()
        auth = {"Authorization": f"Bearer {token}"}
        print(f"blog of {recorded:,} events among {args.noise:,} others "
              f"(log {positions[-1] + args.noise // 2:,} events, filled in {filled:.1f}s)")
        print("each call reads the feed's history at that moment (no replay)")
        print(f"{'as of':>12}{'blog events':>14}{'first call':>12}{'later, median':>15}"
              f"{'later, max':>12}")
        for share in (0.25, 0.5, 0.75, 1.0):
            position = positions[int(len(positions) * share) - 1]
            url = f"/api/blogs/{blog_id}/posts?as_of={encode_cursor('c', position)}"
            times = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                response = client.get(url, headers=auth)
                times.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, response.get_json()
            replayed = int(len(positions) * share)
            first, later = times[0], times[1:]
            print(f"{share:>11.0%} {replayed:>13,}{first:>10.1f}ms"
                  f"{statistics.median(later):>13.1f}ms{max(later):>10.1f}ms")
        app.extensions["liveblog"].close()


if __name__ == "__main__":
    main()
