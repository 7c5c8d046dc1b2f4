"""A newsroom's mixed log, made through the real command path: blogs, posts published, drafted
and scheduled, edits, pins, key events, deletions, scheduled posts going live, blog edits,
closes and reopens, tokens. Deterministic for a seed. Shared by tests and benchmarks."""

from __future__ import annotations

import random
from datetime import timedelta

from liveblog.domain import commands as cmd
from liveblog.domain.errors import DomainError
from liveblog.service import Actor, new_id

ACTOR = Actor("cli", "workload")


def _content(rng: random.Random, i: int) -> dict:
    # text as the API's sanitiser leaves it (links get rel), so the log is one the API writes
    body = [{"type": "paragraph", "text": f"Paragraph {i} with <em>emphasis</em> and "
                                          f"<a href=\"https://example.org/{i}\" "
                                          f"rel=\"noopener noreferrer nofollow\">a link</a>."}]
    if rng.random() < 0.3:
        body.append({"type": "image", "url": f"https://cdn.example.org/{i}.jpg",
                     "caption": "A caption", "credit": "Photo: Desk", "alt": "An image"})
    if rng.random() < 0.2:
        body.append({"type": "quote", "text": "Words.", "attribution": "Someone"})
    return {"headline": f"Update {i}", "byline": {"contributors": ["Jane Roe", "John Doe"],
                                                  "location": "Kyiv"}, "body": body}


def mixed_log(service, clock, *, events: int, blogs: int = 10, seed: int = 7) -> int:
    """Append about ``events`` events; returns how many were appended.

    :param clock: the store's clock, with ``advance(**timedelta)``; it moves a second a command.
    """
    rng = random.Random(seed)
    store = service.store

    def handle(command) -> None:
        try:
            service.handle(command, ACTOR)
        except DomainError:  # what an editor gets as a 409: nothing is appended
            pass

    start = store.head().position
    blog_ids = []
    posts: dict[str, list[str]] = {}
    scheduled: list[tuple[str, str]] = []
    for b in range(blogs):
        blog_id = new_id()
        service.handle(cmd.CreateBlog(blog_id, f"blog-{seed}-{b}", f"Blog {b}",
                                      authors=["Jane Roe"], timezone="America/New_York"), ACTOR)
        blog_ids.append(blog_id)
        posts[blog_id] = []
    i = 0
    while store.head().position - start < events:
        i += 1
        clock.advance(seconds=1)
        blog_id = rng.choice(blog_ids)
        mine = posts[blog_id]
        roll = rng.random()
        if roll < 0.45 or not mine:
            post_id = new_id()
            handle(cmd.CreatePost(blog_id, post_id, _content(rng, i),
                                          pinned=rng.random() < 0.05,
                                          key_event=rng.random() < 0.05))
            mine.append(post_id)
        elif roll < 0.50:
            post_id = new_id()
            handle(cmd.CreatePost(blog_id, post_id, _content(rng, i), status="draft"))
            mine.append(post_id)
        elif roll < 0.55:
            post_id = new_id()
            handle(cmd.CreatePost(blog_id, post_id, _content(rng, i),
                                          publish_at=clock.now + timedelta(seconds=30)))
            mine.append(post_id)
            scheduled.append((blog_id, post_id))
        elif roll < 0.75:
            handle(cmd.EditPost(blog_id, rng.choice(mine), changes={
                "headline": f"Update {i} (corrected)", "body": _content(rng, i)["body"]}))
        elif roll < 0.83:
            handle(cmd.EditPost(blog_id, rng.choice(mine),
                                        pinned=rng.random() < 0.5))
        elif roll < 0.87:
            handle(cmd.EditPost(blog_id, rng.choice(mine),
                                        key_event=rng.random() < 0.5))
        elif roll < 0.90:
            handle(cmd.EditPost(blog_id, rng.choice(mine), publish=True))
        elif roll < 0.95:
            victim = rng.choice(mine)
            handle(cmd.DeletePost(blog_id, victim, "duplicate"))
            mine.remove(victim)
        elif roll < 0.98 and scheduled:
            blog, post = scheduled.pop(0)
            clock.advance(seconds=30)
            handle(cmd.PublishDuePost(blog, post))
        elif roll < 0.99:
            handle(cmd.UpdateBlog(blog_id, {"title": f"Blog, update {i}",
                                                    "authors": ["Jane Roe", f"Writer {i}"]}))
        else:
            handle(cmd.CloseBlog(blog_id))
            handle(cmd.ReopenBlog(blog_id))
    return store.head().position - start
