"""Scheduled publishing: the job functions called directly, then a real BackgroundScheduler."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from liveblog import create_app
from liveblog.scheduler import (
    Jobs,
    SchedulerLease,
    publish_due_posts,
    record_audit_checkpoint,
)

from ..api.helpers import create_blog, create_post
from ..conftest import Tokens, log_head


def feed_headlines(client, blog):
    return [p["headline"] for p in client.get(f"/api/blogs/{blog}/posts").get_json()["posts"]]


def published_events(app):
    with app.app_context():
        from liveblog.bootstrap import get_liveblog

        return [(e.data["post_id"], e.metadata["actor"]) for e in
                get_liveblog().store().read_all(types=["PostPublished"])]


def test_a_scheduled_post_goes_live_once_at_its_time(app, client, editor, clock):
    blog = create_blog(client, editor)
    post = create_post(client, editor, blog["id"], headline="embargoed",
                       publish_at="2022-01-21T14:00:00+00:00")
    assert post["status"] == "scheduled" and post["publish_at"] == "2022-01-21T14:00:00.000000Z"
    assert feed_headlines(client, blog["id"]) == []
    assert client.get(f"/api/blogs/{blog['id']}/posts/{post['id']}").status_code == 404
    clock.advance(minutes=28)
    assert publish_due_posts(app) == 0
    clock.advance(minutes=1)
    assert publish_due_posts(app) == 1
    assert publish_due_posts(app) == 0  # once
    assert feed_headlines(client, blog["id"]) == ["embargoed"]
    [(post_id, actor)] = published_events(app)
    assert post_id == post["id"] and actor == {"type": "system", "name": "scheduler"}
    live = client.get(f"/api/blogs/{blog['id']}/posts/{post['id']}").get_json()
    assert live["published_at"] == "2022-01-21T14:00:00.000000Z" and live["publish_at"] is None


def test_a_closed_blog_publishes_nothing_until_it_reopens(app, client, editor, clock):
    blog = create_blog(client, editor)
    post = create_post(client, editor, blog["id"], headline="embargoed",
                       publish_at="2022-01-21T14:00:00Z")
    draft = create_post(client, editor, blog["id"], headline="draft", status="draft")
    client.post(f"/api/blogs/{blog['id']}/close", headers=editor)
    clock.advance(hours=1)
    assert publish_due_posts(app) == 0  # due, but the blog is closed: it stays scheduled
    assert client.get(f"/api/blogs/{blog['id']}/posts/{post['id']}", headers=editor).get_json()[
        "status"] == "scheduled"
    refused = client.patch(f"/api/blogs/{blog['id']}/posts/{draft['id']}",
                           json={"status": "published"}, headers={**editor, "If-Match": '"1"'})
    assert refused.status_code == 409
    client.post(f"/api/blogs/{blog['id']}/reopen", headers=editor)
    assert publish_due_posts(app) == 1
    assert feed_headlines(client, blog["id"]) == ["embargoed"]


def test_a_cancelled_post_never_goes_live(app, client, editor, clock):
    blog = create_blog(client, editor)
    post = create_post(client, editor, blog["id"], publish_at="2022-01-21T14:00:00Z")
    assert client.delete(f"/api/blogs/{blog['id']}/posts/{post['id']}",
                         headers=editor).status_code == 204
    clock.advance(hours=2)
    assert publish_due_posts(app) == 0
    assert feed_headlines(client, blog["id"]) == []


def test_a_rescheduled_post_goes_live_at_the_new_time_only(app, client, editor, clock):
    blog = create_blog(client, editor)
    post = create_post(client, editor, blog["id"], headline="moved",
                       publish_at="2022-01-21T14:00:00Z")
    moved = client.patch(f"/api/blogs/{blog['id']}/posts/{post['id']}",
                         json={"publish_at": "2022-01-21T15:00:00Z"},
                         headers={**editor, "If-Match": '"1"'})
    assert moved.status_code == 200 and moved.get_json()["publish_at"].startswith("2022-01-21T15")
    clock.advance(hours=1)  # 14:31: past the old time
    assert publish_due_posts(app) == 0
    clock.advance(minutes=30)
    assert publish_due_posts(app) == 1
    assert feed_headlines(client, blog["id"]) == ["moved"]


def test_publish_now_takes_a_post_out_of_the_schedule(app, client, editor, clock):
    blog = create_blog(client, editor)
    post = create_post(client, editor, blog["id"], publish_at="2022-01-21T14:00:00Z")
    client.patch(f"/api/blogs/{blog['id']}/posts/{post['id']}", json={"status": "published"},
                 headers={**editor, "If-Match": '"1"'})
    clock.advance(hours=1)
    assert publish_due_posts(app) == 0
    assert len(published_events(app)) == 1


def test_the_lease_lets_one_process_run_the_jobs(app, clock):
    app.config["SCHEDULER_LEASE_SECONDS"] = 10
    first, second = SchedulerLease(app, 10), SchedulerLease(app, 10)
    assert first.acquire() and first.acquire()
    assert not second.acquire()
    clock.advance(seconds=11)  # the first stopped renewing
    assert second.acquire() and not first.acquire()
    second.release()
    assert first.acquire()


def test_a_checkpoint_is_signed_only_when_the_head_moved(app, client, editor):
    blog = create_blog(client, editor)
    first = record_audit_checkpoint(app)
    assert first is not None and first.position == log_head(app)
    assert record_audit_checkpoint(app) is None  # the head did not move
    create_post(client, editor, blog["id"])
    second = record_audit_checkpoint(app)
    assert second.position == log_head(app) > first.position
    assert second.key_id == app.extensions["liveblog.signer"].key_id


@pytest.mark.slow
def test_a_started_scheduler_signs_an_audit_checkpoint_at_once(database):
    app = create_app({"DATABASE": database})
    client = app.test_client()
    auditor = Tokens(app).headers("auditor", "A")
    create_blog(client, Tokens(app).headers())
    jobs = Jobs(app)
    jobs.start()
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not client.get(
                "/api/audit/checkpoints", headers=auditor).get_json()["checkpoints"]:
            time.sleep(0.1)
    finally:
        jobs.shutdown()
    [checkpoint] = client.get("/api/audit/checkpoints", headers=auditor).get_json()["checkpoints"]
    assert checkpoint["position"] == log_head(app)


@pytest.mark.slow
def test_a_real_scheduler_publishes_on_time(db_path):
    app = create_app({"DATABASE": str(db_path), "SCHEDULER_SYNC_SECONDS": 0.5})
    client = app.test_client()
    editor = Tokens(app).headers()
    blog = create_blog(client, editor)
    now = datetime.now(UTC)

    def at(seconds):
        return (now + timedelta(seconds=seconds)).isoformat()

    create_post(client, editor, blog["id"], headline="on time", publish_at=at(2))
    cancelled = create_post(client, editor, blog["id"], headline="cancelled", publish_at=at(2))
    moved = create_post(client, editor, blog["id"], headline="moved", publish_at=at(2))
    jobs = Jobs(app)
    jobs.start()
    try:
        client.delete(f"/api/blogs/{blog['id']}/posts/{cancelled['id']}", headers=editor)
        client.patch(f"/api/blogs/{blog['id']}/posts/{moved['id']}",
                     json={"publish_at": at(4)}, headers={**editor, "If-Match": '"1"'})
        time.sleep(3.2)
        assert feed_headlines(client, blog["id"]) == ["on time"]
        time.sleep(1.8)
        assert feed_headlines(client, blog["id"]) == ["moved", "on time"]
    finally:
        jobs.shutdown()
    posts = {p["headline"]: p for p in
             client.get(f"/api/blogs/{blog['id']}/posts").get_json()["posts"]}
    for headline, due in (("on time", 2), ("moved", 4)):
        published = datetime.fromisoformat(posts[headline]["published_at"])
        lateness = (published - (now + timedelta(seconds=due))).total_seconds()
        assert 0 <= lateness < 1.0, (headline, lateness)
    assert len(published_events(app)) == 2
    app.extensions["liveblog"].close()



def test_an_idle_blog_is_archived_by_the_scheduler(app, client, editor, clock):
    from liveblog.scheduler import archive_idle_blogs

    quiet = create_blog(client, editor, slug="quiet", archive_after_days=2)
    forever = create_blog(client, editor, slug="forever", archive_after_days=None)
    default = create_blog(client, editor, slug="default")
    assert default["archive_after_days"] == app.config["ARCHIVE_AFTER_DAYS"] == 30
    assert forever["archive_after_days"] is None
    clock.advance(days=1)
    create_post(client, editor, quiet["id"], headline="still going")  # a visible change
    clock.advance(days=1, hours=12)
    assert archive_idle_blogs(app) == 0  # a day and a half since its last change
    clock.advance(days=1)
    assert archive_idle_blogs(app) == 1
    assert archive_idle_blogs(app) == 0  # once
    assert client.get("/api/blogs/quiet").get_json()["status"] == "closed"
    assert client.get("/api/blogs/forever").get_json()["status"] == "live"
    with app.app_context():
        from liveblog.bootstrap import get_liveblog

        [closing] = list(get_liveblog().store().read_all(types=["BlogClosed"]))
    assert closing.data["blog_id"] == quiet["id"]
    assert closing.metadata["actor"] == {"type": "system", "name": "scheduler"}
    clock.advance(days=40)
    assert archive_idle_blogs(app) == 1  # the default blog, after 30 idle days
    # an editor may change it
    reply = client.patch("/api/blogs/forever", json={"archive_after_days": 7},
                         headers={**editor, "If-Match": '"1"'})
    assert reply.status_code == 200 and reply.get_json()["archive_after_days"] == 7
