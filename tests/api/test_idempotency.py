"""Idempotency-Key: a retry returns the first response and appends nothing."""

from __future__ import annotations

from ..conftest import log_head
from .helpers import create_blog


def test_retry_returns_the_first_response_and_appends_nothing(app, client, editor):
    blog = create_blog(client, editor)
    url = f"/api/blogs/{blog['id']}/posts"
    headers = {**editor, "Idempotency-Key": "retry-1"}
    first = client.post(url, json={"headline": "once", "pinned": True}, headers=headers)
    head = log_head(app)
    post = first.get_json()
    # the post changes meanwhile; the retry still answers what the first request answered
    client.patch(f"{url}/{post['id']}", json={"headline": "changed"},
                 headers={**editor, "If-Match": '"1"'})
    head = log_head(app)
    retry = client.post(url, json={"pinned": True, "headline": "once"}, headers=headers)
    assert retry.status_code == 201
    assert retry.get_json() == post
    assert retry.headers["Location"] == first.headers["Location"]
    assert log_head(app) == head


def test_keys_of_different_tokens_never_meet(app, client, tokens):
    jane, john = tokens.headers("editor", "Jane"), tokens.headers("editor", "John")
    blog = create_blog(client, jane)
    url = f"/api/blogs/{blog['id']}/posts"
    a = client.post(url, json={"headline": "a"}, headers={**jane, "Idempotency-Key": "k"})
    b = client.post(url, json={"headline": "b"}, headers={**john, "Idempotency-Key": "k"})
    assert b.status_code == 201 and a.get_json()["id"] != b.get_json()["id"]


def test_create_blog_and_close_are_idempotent(app, client, editor):
    headers = {**editor, "Idempotency-Key": "blog-1"}
    first = client.post("/api/blogs", json={"title": "Once"}, headers=headers)
    again = client.post("/api/blogs", json={"title": "Once"}, headers=headers)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    blog_id = first.get_json()["id"]
    close = {**editor, "Idempotency-Key": "close-1"}
    assert client.post(f"/api/blogs/{blog_id}/close", headers=close).status_code == 200
    head = log_head(app)
    repeat = client.post(f"/api/blogs/{blog_id}/close", headers=close)
    assert repeat.status_code == 200 and repeat.get_json()["status"] == "closed"
    assert log_head(app) == head
