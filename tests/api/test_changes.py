"""/changes: every visible change after a cursor, oldest first, each post once; long polls."""

from __future__ import annotations

import threading
import time

from .helpers import create_blog, create_post


def changes(client, blog, since, **params):
    query = "".join(f"&{k}={v}" for k, v in params.items())
    response = client.get(f"/api/blogs/{blog}/changes?since={since}{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_changes_are_each_post_once_oldest_first_with_tombstones(client, editor, clock):
    blog = create_blog(client, editor)
    start = blog["cursor"]
    a = create_post(client, editor, blog["id"], headline="a")
    b = create_post(client, editor, blog["id"], headline="b")
    draft = create_post(client, editor, blog["id"], headline="draft", status="draft")
    client.patch(f"/api/blogs/{blog['id']}/posts/{a['id']}", json={"headline": "a2"},
                 headers={**editor, "If-Match": '"1"'})
    client.delete(f"/api/blogs/{blog['id']}/posts/{b['id']}", headers=editor)
    client.delete(f"/api/blogs/{blog['id']}/posts/{draft['id']}", headers=editor)
    result = changes(client, blog["id"], start)
    assert result["changes"] == [
        {"op": "upsert", "post": result["changes"][0]["post"]},
        {"op": "delete", "id": b["id"]},
    ]
    assert result["changes"][0]["post"]["headline"] == "a2"
    assert result["more"] is False
    assert changes(client, blog["id"], result["cursor"])["changes"] == []


def test_changes_page_with_more(client, editor):
    blog = create_blog(client, editor)
    for i in range(5):
        create_post(client, editor, blog["id"], headline=f"p{i}")
    first = changes(client, blog["id"], blog["cursor"], limit=2)
    assert first["more"] is True and len(first["changes"]) == 2
    second = changes(client, blog["id"], first["cursor"], limit=2)
    third = changes(client, blog["id"], second["cursor"], limit=2)
    headlines = [c["post"]["headline"] for r in (first, second, third) for c in r["changes"]]
    assert headlines == ["p0", "p1", "p2", "p3", "p4"]
    assert third["more"] is False


def test_blog_changes_move_the_cursor(client, editor):
    blog = create_blog(client, editor)
    client.patch(f"/api/blogs/{blog['id']}", json={"title": "Renamed"},
                 headers={**editor, "If-Match": '"1"'})
    result = changes(client, blog["id"], blog["cursor"])
    assert result["changes"] == [] and result["blog"]["title"] == "Renamed"
    assert result["cursor"] != blog["cursor"]


def test_long_poll_returns_when_a_post_arrives(app, client, editor):
    blog = create_blog(client, editor)

    def publish_later():
        time.sleep(0.5)
        other = app.test_client()
        other.post(f"/api/blogs/{blog['id']}/posts", json={"headline": "late"}, headers=editor)

    thread = threading.Thread(target=publish_later)
    started = time.monotonic()
    thread.start()
    result = changes(client, blog["id"], blog["cursor"], wait=10)
    waited = time.monotonic() - started
    thread.join()
    assert [c["post"]["headline"] for c in result["changes"]] == ["late"]
    assert 0.4 < waited < 5


def test_long_poll_with_nothing_new_waits_then_answers_empty(client, editor):
    blog = create_blog(client, editor)
    started = time.monotonic()
    result = changes(client, blog["id"], blog["cursor"], wait=1)
    assert result["changes"] == [] and time.monotonic() - started >= 0.9


def test_a_long_poll_that_is_up_to_date_waits_even_with_if_none_match(app, client, editor):
    # a browser revalidating its cached answer sends If-None-Match: the poll must still wait
    blog = create_blog(client, editor)
    url = f"/api/blogs/{blog['id']}/changes?since={blog['cursor']}&wait=1"
    etag = client.get(f"/api/blogs/{blog['id']}/changes?since={blog['cursor']}&wait=1").headers[
        "ETag"]
    started = time.monotonic()
    unchanged = client.get(url, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and time.monotonic() - started >= 0.9
    url = url.replace("wait=1", "wait=3")  # (the ETag names the wait: this GET waits it out)
    etag = client.get(url).headers["ETag"]
    thread = threading.Thread(target=lambda: (time.sleep(0.5), app.test_client().post(
        f"/api/blogs/{blog['id']}/posts", json={"headline": "late"}, headers=editor)))
    started = time.monotonic()
    thread.start()
    changed = client.get(url, headers={"If-None-Match": etag})
    thread.join()
    assert changed.status_code == 200 and 0.4 < time.monotonic() - started < 5
    assert [c["post"]["headline"] for c in changed.get_json()["changes"]] == ["late"]


def test_long_polls_over_the_cap_answer_at_once(db_path, clock):
    from liveblog import create_app

    from ..conftest import Tokens

    app = create_app({"TESTING": True, "DATABASE": str(db_path), "CLOCK": clock,
                      "LONG_POLLS_HELD": 0})
    client = app.test_client()
    editor = Tokens(app).headers()
    blog = create_blog(client, editor)
    url = f"/api/blogs/{blog['id']}/changes?since={blog['cursor']}&wait=5"
    started = time.monotonic()
    turned_away = client.get(url)
    assert time.monotonic() - started < 1
    # its current state, and when to come back
    assert turned_away.status_code == 200 and turned_away.get_json()["changes"] == []
    assert 2 <= int(turned_away.headers["Retry-After"]) <= 8
    etag = turned_away.headers["ETag"]
    not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and "Retry-After" in not_modified.headers
    # a poll with credentials is still held (an editor's console)
    started = time.monotonic()
    held = client.get(url.replace("wait=5", "wait=1"), headers=editor)
    assert held.status_code == 200 and time.monotonic() - started >= 0.9
    assert "Retry-After" not in held.headers
