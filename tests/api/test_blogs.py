"""Blogs: create, list, read, change with If-Match, close and reopen; actors in metadata."""

from __future__ import annotations

from .helpers import assert_problem, create_blog, create_post


def test_create_blog_returns_201_location_and_defaults(client, editor):
    response = client.post("/api/blogs", json={"title": "Élection night: live!"},
                           headers=editor)
    assert response.status_code == 201
    blog = response.get_json()
    assert response.headers["Location"] == f"/api/blogs/{blog['id']}"
    assert blog["slug"] == "election-night-live"
    assert (blog["timezone"], blog["status"], blog["post_count"]) == ("UTC", "live", 0)
    assert client.get(response.headers["Location"]).get_json()["id"] == blog["id"]
    # the same title again gets a suffixed slug rather than an error
    again = create_blog(client, editor, title="Élection night: live!")
    assert again["slug"].startswith("election-night-live-") and again["slug"] != blog["slug"]


def test_blog_is_found_by_id_or_slug(client, editor):
    blog = create_blog(client, editor, slug="kyiv-2022")
    assert client.get("/api/blogs/kyiv-2022").get_json()["id"] == blog["id"]
    assert client.get(f"/api/blogs/{blog['id']}").get_json()["slug"] == "kyiv-2022"


def test_patch_blog_needs_its_etag_and_ignores_post_activity(client, editor):
    blog = create_blog(client, editor)
    etag = client.get(f"/api/blogs/{blog['id']}").headers["ETag"]
    create_post(client, editor, blog["id"])  # posts don't make the blog's own revision stale
    response = client.patch(f"/api/blogs/{blog['id']}", json={"title": "Renamed",
                                                              "slug": "renamed"},
                            headers={**editor, "If-Match": etag})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["title"] == "Renamed"
    assert client.get("/api/blogs/renamed").status_code == 200
    assert_problem(client.patch(f"/api/blogs/{blog['id']}", json={"title": "Again"},
                                headers={**editor, "If-Match": etag}), 412)
    assert client.patch(f"/api/blogs/{blog['id']}", json={"title": "Again"},
                        headers={**editor, "If-Match": response.headers["ETag"]}
                        ).status_code == 200


def test_close_and_reopen(client, editor):
    blog = create_blog(client, editor)
    closed = client.post(f"/api/blogs/{blog['id']}/close", headers=editor)
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert client.get(f"/api/blogs/{blog['id']}/posts").status_code == 200  # still readable
    reopened = client.post(f"/api/blogs/{blog['id']}/reopen", headers=editor)
    assert reopened.get_json()["status"] == "live"
    create_post(client, editor, blog["id"])


def test_list_blogs_live_first(client, editor):
    first = create_blog(client, editor, title="Old story")
    create_blog(client, editor, title="New story")
    client.post(f"/api/blogs/{first['id']}/close", headers=editor)
    titles = [b["title"] for b in client.get("/api/blogs").get_json()["blogs"]]
    assert titles == ["New story", "Old story"]


def test_every_event_records_its_actor(app, client, tokens):
    jane = tokens.headers("editor", "Jane Roe")
    john = tokens.headers("editor", "John Doe")
    blog = create_blog(client, jane)
    post = create_post(client, john, blog["id"])
    client.patch(f"/api/blogs/{blog['id']}/posts/{post['id']}", json={"headline": "x"},
                 headers={**jane, "If-Match": '"1"', "X-Request-Id": "req-42"})
    with app.app_context():
        from liveblog.bootstrap import get_liveblog

        events = list(get_liveblog().store().read_all(types=["BlogCreated", "PostPublished",
                                                       "PostEdited"]))
    names = [e.metadata["actor"]["name"] for e in events]
    assert names == ["Jane Roe", "John Doe", "Jane Roe"]
    assert all(e.metadata["actor"]["role"] == "editor" and e.metadata["actor"]["token_id"]
               for e in events)
    assert events[-1].metadata["request_id"] == "req-42"
