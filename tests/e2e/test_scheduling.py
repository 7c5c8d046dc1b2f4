"""Scheduled posts across restarts and processes, through real `liveblog serve` processes."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from events import EventStore
from liveblog import create_app
from liveblog.api.views import service
from liveblog.domain import commands as cmd
from liveblog.service import Actor, new_id

from .server import Server, editor_token

pytestmark = pytest.mark.slow


def publishes(db):
    store = EventStore.open(db)
    try:
        return [e.data["post_id"] for e in store.read_all(types=["PostPublished"])]
    finally:
        store.close()


def test_a_post_due_while_the_service_was_down_goes_live_once_at_start(database):
    """Scheduled while no service runs (as a stopped one leaves it: the post in the log, no
    job anywhere), due before one starts again."""
    db = database
    app = create_app({"DATABASE": str(db)})
    actor = Actor("cli", "tests")
    blog_id, post_id = new_id(), new_id()
    with app.app_context():
        service().handle(cmd.CreateBlog(blog_id, "embargo", "Embargo"), actor)
        due = datetime.now(UTC) + timedelta(seconds=1)
        service().handle(cmd.CreatePost(blog_id, post_id, {"headline": "Embargo lifts"},
                                        publish_at=due), actor)
    app.extensions["liveblog"].shutdown()
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.5)
    assert publishes(db) == []
    server = Server(db, scheduler=True)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not server.request(
                "GET", "/api/blogs/embargo/posts").json()["posts"]:
            time.sleep(0.2)
        feed = server.request("GET", "/api/blogs/embargo/posts").json()
        assert [p["headline"] for p in feed["posts"]] == ["Embargo lifts"]
        time.sleep(1.5)  # several more scheduler rounds
    finally:
        server.stop()
    assert publishes(db) == [post_id]


def test_two_deployments_on_one_database_publish_once(database):
    db = database
    auth = {"Authorization": f"Bearer {editor_token(db)}"}
    first, second = Server(db, scheduler=True), Server(db, scheduler=True)
    try:
        first.request("POST", "/api/blogs", {"title": "Twice", "slug": "twice"}, auth)
        due = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
        ids = [second.request("POST", "/api/blogs/twice/posts",
                              {"headline": f"p{i}", "publish_at": due}, auth).json()["id"]
               for i in range(3)]
        time.sleep(4)
    finally:
        first.stop()
        second.stop()
    assert sorted(publishes(db)) == sorted(ids)


RACER = """
import sys
from liveblog import create_app
from liveblog.scheduler import publish_due_post
app = create_app({"DATABASE": sys.argv[1]})
print(sum(publish_due_post(app, sys.argv[2], post_id) for post_id in sys.argv[3:]))
"""


def test_two_schedulers_firing_the_same_jobs_publish_each_post_once(database):
    """No lease here: the command's own state check is what makes the second firing a no-op."""
    db = database
    app = create_app({"DATABASE": str(db)})
    actor = Actor("cli", "tests")
    blog_id = new_id()
    # far enough ahead that the twenty posts are all made before it on a loaded machine (a
    # CI run once took over a second: "publish_at must be in the future")
    soon = datetime.now(UTC) + timedelta(seconds=3)
    with app.app_context():
        service().handle(cmd.CreateBlog(blog_id, "race", "Race"), actor)
        ids = [new_id() for _ in range(20)]
        for post_id in ids:
            service().handle(cmd.CreatePost(blog_id, post_id, {"headline": "x"},
                                            publish_at=soon), actor)
    app.extensions["liveblog"].shutdown()
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.1)
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(db), blog_id, *ids],
                               stdout=subprocess.PIPE, text=True) for _ in range(2)]
    counts = [int(r.communicate(timeout=60)[0].strip()) for r in racers]
    assert sum(counts) == 20
    assert sorted(publishes(db)) == sorted(ids)
