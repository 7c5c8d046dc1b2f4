"""Presence: "Ana is editing this post" while her console's heartbeats go on, gone within 30 s
of the last one or at once when she leaves; never in the event log."""

from __future__ import annotations

from ..conftest import log_head
from .helpers import create_blog, create_post


def editors(client, url, headers):
    answer = client.get(url, headers=headers)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "private, no-store"
    return [(e["name"], e["post"]) for e in answer.get_json()["editors"]]


def test_heartbeats_show_who_is_editing_and_leaving_or_silence_removes_them(
        app, client, editor, tokens, clock):
    ana = tokens.headers("editor", "Ana Ruiz")
    blog = create_blog(client, editor)
    post = create_post(client, editor, blog["id"])
    other = create_post(client, editor, blog["id"], headline="Other")
    url = f"/api/blogs/{blog['id']}/posts/{post['id']}/presence"
    head = log_head(app)

    assert client.put(url, headers=ana).status_code == 204
    clock.advance(seconds=2)
    assert client.put(url, headers=editor).status_code == 204
    assert client.put(f"/api/blogs/{blog['id']}/posts/{other['id']}/presence",
                      headers=editor).status_code == 204
    assert editors(client, url, editor) == [("Ana Ruiz", post["id"]), ("Jane Roe", post["id"])]
    everyone = editors(client, f"/api/blogs/{blog['slug']}/presence", ana)
    assert sorted(everyone) == sorted([("Ana Ruiz", post["id"]), ("Jane Roe", post["id"]),
                                       ("Jane Roe", other["id"])])
    first = client.get(url, headers=editor).get_json()["editors"][0]

    # heartbeats keep "since", move "last_seen"
    clock.advance(seconds=20)
    client.put(url, headers=ana)
    again = client.get(url, headers=editor).get_json()["editors"][0]
    assert again["since"] == first["since"] and again["last_seen"] > first["last_seen"]

    # Jane's last heartbeat is now 29 s old, Ana's 9 s: 2 s later Jane is gone
    clock.advance(seconds=9)
    assert [n for n, _ in editors(client, url, ana)] == ["Ana Ruiz", "Jane Roe"]
    clock.advance(seconds=2)
    assert [n for n, _ in editors(client, url, ana)] == ["Ana Ruiz"]

    # leaving removes her at once
    assert client.delete(url, headers=ana).status_code == 204
    assert editors(client, url, editor) == []
    assert log_head(app) == head  # presence is not history


def test_only_editors_and_only_existing_posts(client, editor, auditor):
    blog = create_blog(client, editor)
    post = create_post(client, editor, blog["id"])
    url = f"/api/blogs/{blog['id']}/posts/{post['id']}/presence"
    assert client.put(url).status_code == 401
    assert client.put(url, headers=auditor).status_code == 403
    assert client.get(url, headers=auditor).status_code == 403
    missing = client.put(f"/api/blogs/{blog['id']}/posts/nope/presence", headers=editor)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert client.put(f"/api/blogs/nope/posts/{post['id']}/presence",
                      headers=editor).status_code == 404
