"""Reading the feed: order, pages, pinned, totals, validators and caching headers."""

from __future__ import annotations

import json

from flask import request, request_started

from .helpers import create_blog, create_post


def feed(client, blog, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = client.get(f"/api/blogs/{blog}/posts?{query}")
    assert response.status_code == 200, response.get_json()
    return response


def test_feed_orders_by_published_at_not_display_time(client, editor, clock):
    blog = create_blog(client, editor)
    draft = create_post(client, editor, blog["id"], headline="Drafted 8:31", status="draft",
                        display_time="2022-01-21T08:31:00-05:00")
    clock.advance(minutes=1)
    create_post(client, editor, blog["id"], headline="Published 8:55")
    clock.advance(minutes=1)
    client.patch(f"/api/blogs/{blog['id']}/posts/{draft['id']}", json={"status": "published"},
                 headers={**editor, "If-Match": '"1"'})
    posts = feed(client, blog["slug"]).get_json()["posts"]
    assert [p["headline"] for p in posts] == ["Drafted 8:31", "Published 8:55"]
    assert posts[0]["display_time"] == "2022-01-21T13:31:00.000000Z"
    assert posts[0]["published_at"] == "2022-01-21T13:33:00.000000Z"
    assert [p["headline"] for p in feed(client, blog["slug"], order="oldest").get_json()[
        "posts"]] == ["Published 8:55", "Drafted 8:31"]


def test_pages_follow_next_cursor_and_pinned_is_on_the_first_page_only(client, editor, clock):
    blog = create_blog(client, editor)
    for i in range(7):
        clock.advance(seconds=10)
        create_post(client, editor, blog["id"], headline=f"post {i}", pinned=i == 2)
    seen = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = feed(client, blog["id"], **params).get_json()
        assert page["total"] == 7
        assert len(page["pinned"]) == (1 if pages == 0 else 0)
        seen += [p["headline"] for p in page["posts"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"post {i}" for i in reversed(range(7))]  # pinned keeps its place too
    assert pages == 3


def test_updated_order_puts_recent_changes_first(client, editor, clock):
    blog = create_blog(client, editor)
    posts = []
    for i in range(3):
        clock.advance(seconds=10)
        posts.append(create_post(client, editor, blog["id"], headline=f"post {i}"))
    clock.advance(seconds=10)
    client.patch(f"/api/blogs/{blog['id']}/posts/{posts[0]['id']}", json={"headline": "fixed"},
                 headers={**editor, "If-Match": '"1"'})
    page = feed(client, blog["id"], order="updated", limit=2).get_json()
    assert [p["headline"] for p in page["posts"]] == ["fixed", "post 2"]
    rest = feed(client, blog["id"], order="updated", cursor=page["next_cursor"]).get_json()
    assert [p["headline"] for p in rest["posts"]] == ["post 1"]


def test_unchanged_feed_answers_304_and_a_change_answers_200(client, editor, app):
    blog = create_blog(client, editor)
    create_post(client, editor, blog["id"])
    first = feed(client, blog["slug"])
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["Cache-Control"] == "public, max-age=2, stale-while-revalidate=30"
    assert first.headers["Last-Modified"] == "Fri, 21 Jan 2022 13:31:00 GMT"
    again = client.get(f"/api/blogs/{blog['slug']}/posts", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    create_post(client, editor, blog["id"], headline="news")
    changed = client.get(f"/api/blogs/{blog['slug']}/posts", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["posts"][0]["headline"] == "news"


def test_unchanged_polls_are_answered_before_flask_with_the_same_304(client, editor, app):
    from werkzeug.test import Client

    blog = create_blog(client, editor)
    create_post(client, editor, blog["id"])
    reached_flask = []

    def started(sender, **extra):
        reached_flask.append(request.full_path)

    request_started.connect(started, app)
    from liveblog.api.freshness import Freshness

    layer = app.wsgi_app
    while not isinstance(layer, Freshness):  # the request log is in front of it
        layer = layer.wsgi_app
    behind = Client(layer.wsgi_app)  # the Flask app without the middleware in front

    def same(headers):  # each answer has a request id of its own; the rest must be the same
        return [(k, v) for k, v in headers.to_wsgi_list() if k != "X-Request-Id"]
    for url in (f"/api/blogs/{blog['slug']}/posts", f"/api/blogs/{blog['id']}/posts?limit=5",
                f"/api/blogs/{blog['id']}/changes?since={blog['cursor']}"):
        etag = client.get(url).headers["ETag"]
        reached_flask.clear()
        fast = client.get(url, headers={"If-None-Match": etag})
        assert reached_flask == [], url  # answered in front of Flask
        slow = behind.get(url, headers={"If-None-Match": etag})
        assert reached_flask != []
        assert fast.status_code == slow.status_code == 304 and fast.data == slow.data == b""
        assert same(fast.headers) == same(slow.headers)
    # a stale copy gets the answer already rendered for this state, also without Flask
    url = f"/api/blogs/{blog['id']}/posts"
    first = client.get(url)
    reached_flask.clear()
    stale = client.get(url, headers={"If-None-Match": '"f1.other"'})
    assert reached_flask == []
    assert stale.status_code == 200 and stale.data == first.data
    assert same(stale.headers) == same(first.headers)
    # anything else goes on to Flask: editors, auditors' as_of (however it is spelled), HEAD,
    # unknown blogs, and the first reader after a change
    etag = first.headers["ETag"]
    for method, path, headers in (
            ("GET", url, {"If-None-Match": etag, **editor}),
            ("GET", f"{url}?as%5Fof=1", {"If-None-Match": etag}),
            ("HEAD", url, {"If-None-Match": etag}),
            ("GET", "/api/blogs/nope/posts", {"If-None-Match": etag})):
        reached_flask.clear()
        client.open(path, method=method, headers=headers)
        assert reached_flask, (method, path, headers)
    create_post(client, editor, blog["id"], headline="news")
    reached_flask.clear()
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200
    assert reached_flask == [f"{url}?"]  # rendered once for this state ...
    reached_flask.clear()
    assert client.get(url).status_code == 200
    assert reached_flask == []  # ... and not again for the next reader
    request_started.disconnect(started, app)


def test_a_changed_feed_is_rendered_once_per_version(client, editor, app):
    blog = create_blog(client, editor)
    create_post(client, editor, blog["id"])
    first = feed(client, blog["slug"])
    kept = app.extensions["liveblog.answers"].get(first.headers["ETag"])
    assert kept is not None and kept[1] == first.data
    second = feed(client, blog["slug"])
    assert second.data == first.data and second.headers["ETag"] == first.headers["ETag"]


def test_every_reader_get_has_validators(client, editor):
    blog = create_blog(client, editor)
    post = create_post(client, editor, blog["id"])
    for url in ("/api/blogs", f"/api/blogs/{blog['slug']}", f"/api/blogs/{blog['id']}/posts",
                f"/api/blogs/{blog['id']}/posts/{post['id']}",
                f"/api/blogs/{blog['id']}/changes?since={blog['cursor']}"):
        response = client.get(url)
        assert response.status_code == 200, url
        etag = response.headers["ETag"]
        assert "public" in response.headers["Cache-Control"], url
        assert response.headers["Last-Modified"].endswith(" GMT"), url
        repeat = client.get(url, headers={"If-None-Match": etag})
        assert repeat.status_code == 304, url
        assert repeat.data == b""


def test_editors_get_private_caching(client, editor):
    blog = create_blog(client, editor)
    response = client.get(f"/api/blogs/{blog['id']}/posts", headers=editor)
    assert response.headers["Cache-Control"] == "private, no-cache"


def test_times_are_rfc3339_utc_with_microseconds(client, editor):
    blog = create_blog(client, editor)
    post = create_post(client, editor, blog["id"], display_time="2022-01-21T08:31:00.5-05:00")
    assert post["display_time"] == "2022-01-21T13:31:00.500000Z"
    raw = json.loads(feed(client, blog["id"]).data)
    assert raw["blog"]["created_at"] == "2022-01-21T13:31:00.000000Z"


def test_editors_list_posts_of_any_status(client, editor, auditor):
    blog = create_blog(client, editor)
    draft = create_post(client, editor, blog["id"], headline="draft", status="draft")
    create_post(client, editor, blog["id"], headline="live")
    gone = create_post(client, editor, blog["id"], headline="gone")
    client.delete(f"/api/blogs/{blog['id']}/posts/{gone['id']}", headers=editor)
    url = f"/api/blogs/{blog['id']}/posts?status=draft,deleted"
    listing = client.get(url, headers=editor).get_json()
    assert {p["headline"]: p["status"] for p in listing["posts"]} == {
        "draft": "draft", "gone": "deleted"}
    assert listing["posts"][0]["id"] in (draft["id"], gone["id"])
    assert client.get(url, headers=auditor).status_code == 200
    assert client.get(url).status_code == 401
    assert client.get(f"/api/blogs/{blog['id']}/posts?status=secret",
                      headers=editor).status_code == 422


def test_if_none_match_star_is_answered_after_the_query_is_validated(client, editor):
    blog = create_blog(client, editor)
    create_post(client, editor, blog["id"])
    star = {"If-None-Match": "*"}
    for url in (f"/api/blogs/{blog['id']}/posts?order=sideways",
                f"/api/blogs/{blog['id']}/posts?limit=0",
                f"/api/blogs/{blog['id']}/changes?since=nonsense",
                f"/api/blogs/{blog['id']}/changes"):
        response = client.get(url, headers=star)
        assert response.status_code in (400, 422), url  # not a 304 for a request that fails
        assert response.mimetype == "application/problem+json"
    for url in (f"/api/blogs/{blog['id']}/posts?order=oldest",
                f"/api/blogs/{blog['id']}/changes?since={blog['cursor']}"):
        assert client.get(url, headers=star).status_code == 304  # the resource exists
        assert client.get(url, headers=star).status_code == 304  # also from the cache
