"""Every error is RFC 9457 problem details, every row of the contract's list, and none of them
changes the log."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import default_exceptions

from liveblog import create_app

from ..conftest import log_head
from .helpers import assert_problem, create_blog, create_post


@pytest.fixture
def blog(client, editor):
    return create_blog(client, editor)


def test_malformed_json_is_400(client, app, editor):
    before = log_head(app)
    response = client.post("/api/blogs", data="{not json", headers={
        **editor, "Content-Type": "application/json"})
    assert_problem(response, 400)
    assert log_head(app) == before


@pytest.mark.parametrize("query", [
    "posts?cursor=garbage!",
    "posts?order=oldest&cursor=bjox",  # a cursor of the newest order ("n:1") for another order
    "changes?since=%25%25%25",
    "changes?since=bjox",  # a feed cursor where a changes cursor belongs
])
def test_malformed_cursor_is_400(client, blog, query):
    assert_problem(client.get(f"/api/blogs/{blog['slug']}/{query}"), 400)


def test_missing_unknown_and_revoked_tokens_are_401(client, app, tokens):
    before = log_head(app)
    for headers in ({}, {"Authorization": "Bearer lb_nope_nope"},
                    {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = client.post("/api/blogs", json={"title": "x"}, headers=headers)
        body = assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert body["title"] == "Unauthorized"
    revoked = tokens.headers("editor", "Gone")
    token_id = revoked["Authorization"].split("_")[1]
    from liveblog.api.views import service
    from liveblog.service import Actor
    from liveblog.tokens import revoke_token

    with app.app_context():
        revoke_token(service(), token_id, Actor("cli", "tests"))
    before = log_head(app)
    assert_problem(client.post("/api/blogs", json={"title": "x"}, headers=revoked), 401)
    assert log_head(app) == before


def test_auditor_cannot_write_403(client, app, auditor):
    before = log_head(app)
    assert_problem(client.post("/api/blogs", json={"title": "x"}, headers=auditor), 403)
    assert log_head(app) == before


def test_unknown_blog_post_and_drafts_are_404(client, editor, blog):
    draft = create_post(client, editor, blog["id"], status="draft")
    assert_problem(client.get("/api/blogs/nope"), 404)
    assert_problem(client.get("/api/blogs/nope/posts"), 404)
    assert_problem(client.get(f"/api/blogs/{blog['id']}/posts/nope"), 404)
    assert_problem(client.get(f"/api/blogs/{blog['id']}/posts/{draft['id']}"), 404)
    # the editor sees the draft
    assert client.get(f"/api/blogs/{blog['id']}/posts/{draft['id']}",
                      headers=editor).status_code == 200


def test_conflicts_are_409(client, app, editor, blog):
    before = log_head(app)
    assert_problem(client.post("/api/blogs", json={"title": "x", "slug": blog["slug"]},
                               headers=editor), 409)
    assert log_head(app) == before
    assert client.post(f"/api/blogs/{blog['id']}/close", headers=editor).status_code == 200
    before = log_head(app)
    assert_problem(client.post(f"/api/blogs/{blog['id']}/posts", json={"headline": "x"},
                               headers=editor), 409)
    assert_problem(client.post(f"/api/blogs/{blog['id']}/close", headers=editor), 409)
    assert log_head(app) == before


def test_publish_of_a_published_post_is_409(client, app, editor, blog):
    post = create_post(client, editor, blog["id"])
    before = log_head(app)
    assert_problem(client.patch(f"/api/blogs/{blog['id']}/posts/{post['id']}",
                                json={"status": "published"},
                                headers={**editor, "If-Match": '"1"'}), 409)
    assert log_head(app) == before


def test_stale_if_match_is_412_and_changes_nothing(client, app, editor, blog):
    post = create_post(client, editor, blog["id"])
    url = f"/api/blogs/{blog['id']}/posts/{post['id']}"
    assert client.patch(url, json={"headline": "v2"}, headers={**editor, "If-Match": '"1"'}
                        ).status_code == 200
    before = log_head(app)
    assert_problem(client.patch(url, json={"headline": "v3"},
                                headers={**editor, "If-Match": '"1"'}), 412)
    assert_problem(client.patch(url, json={"headline": "v3"},
                                headers={**editor, "If-Match": '"garbage"'}), 412)
    assert_problem(client.delete(url, headers={**editor, "If-Match": '"1"'}), 412)
    assert log_head(app) == before
    assert client.get(url).get_json()["headline"] == "v2"


def test_body_over_the_limit_is_413(db_path, clock, tokens):
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "CLOCK": clock,
                      "MAX_CONTENT_LENGTH": 2000})
    client = app.test_client()
    from ..conftest import Tokens

    editor = Tokens(app).headers()
    before = log_head(app)
    response = client.post("/api/blogs", json={"title": "x" * 5000}, headers=editor)
    assert_problem(response, 413)
    assert log_head(app) == before


def test_not_json_is_415(client, app, editor, blog):
    before = log_head(app)
    assert_problem(client.post("/api/blogs", data="title=x", headers={
        **editor, "Content-Type": "application/x-www-form-urlencoded"}), 415)
    assert_problem(client.post(f"/api/blogs/{blog['id']}/posts", data='{"headline": "x"}',
                               headers={**editor, "Content-Type": "text/plain"}), 415)
    assert log_head(app) == before


@pytest.mark.parametrize("body,fields", [
    ({}, ["headline"]),
    ({"headline": ""}, ["headline"]),
    ({"headline": "x", "surprise": 1}, ["surprise"]),
    ({"headline": "x", "display_time": "2022-01-21T13:31:00"}, ["display_time"]),
    ({"headline": "x", "display_time": "yesterday"}, ["display_time"]),
    ({"headline": "x", "status": "deleted"}, ["status"]),
    ({"headline": "x", "body": [{"type": "video", "url": "http://x.org"}]}, ["body.0.type"]),
    ({"headline": "x", "body": [{"type": "image", "url": "javascript:alert(1)"}]},
     ["body.0.url"]),
    ({"headline": "x", "body": [{"type": "paragraph"}]}, ["body.0.text"]),
    ({"headline": "x", "body": [{"type": "paragraph", "text": "t", "url": "http://x.org"}]},
     ["body.0.url"]),
    ({"headline": "x", "byline": {"contributors": "Jane"}}, ["byline.contributors"]),
    ({"headline": "x", "publish_at": "2000-01-01T00:00:00Z"}, ["publish_at"]),
    ({"headline": "x", "publish_at": "2030-01-01T00:00:00Z", "status": "draft"},
     ["publish_at"]),
    ({"headline": "x", "pinned": "very"}, ["pinned"]),
])
def test_invalid_posts_are_422_with_field_errors(client, app, editor, blog, body, fields):
    before = log_head(app)
    response = client.post(f"/api/blogs/{blog['id']}/posts", json=body, headers=editor)
    assert_problem(response, 422, fields=fields)
    assert log_head(app) == before


@pytest.mark.parametrize("body,fields", [
    ({"title": "x", "slug": "Not A Slug"}, ["slug"]),
    ({"title": "x", "timezone": "Mars/Olympus"}, ["timezone"]),
    ({"title": "x", "authors": "Jane"}, ["authors"]),
    ([1, 2], ["_schema"]),
])
def test_invalid_blogs_are_422(client, app, editor, body, fields):
    before = log_head(app)
    assert_problem(client.post("/api/blogs", json=body, headers=editor), 422, fields=fields)
    assert log_head(app) == before


def test_invalid_query_is_422(client, blog):
    assert_problem(client.get(f"/api/blogs/{blog['id']}/posts?limit=0"), 422, fields=["limit"])
    assert_problem(client.get(f"/api/blogs/{blog['id']}/posts?order=sideways"), 422,
                   fields=["order"])
    # unknown query parameters are ignored (cache-busters); unknown body fields are a 422
    assert client.get(f"/api/blogs/{blog['id']}/posts?_=123").status_code == 200
    assert_problem(client.get(f"/api/blogs/{blog['id']}/changes"), 422, fields=["since"])


def test_idempotency_key_reused_with_another_body_is_422(client, app, editor, blog):
    url = f"/api/blogs/{blog['id']}/posts"
    headers = {**editor, "Idempotency-Key": "abc"}
    assert client.post(url, json={"headline": "one"}, headers=headers).status_code == 201
    before = log_head(app)
    assert_problem(client.post(url, json={"headline": "two"}, headers=headers), 422)
    assert log_head(app) == before


def test_patch_without_if_match_is_428(client, app, editor, blog):
    post = create_post(client, editor, blog["id"])
    before = log_head(app)
    assert_problem(client.patch(f"/api/blogs/{blog['id']}/posts/{post['id']}",
                                json={"headline": "x"}, headers=editor), 428)
    assert_problem(client.patch(f"/api/blogs/{blog['id']}", json={"title": "x"},
                                headers=editor), 428)
    assert log_head(app) == before


def test_unknown_route_and_method_are_problems(client):
    assert_problem(client.get("/api/nothing-here"), 404)
    response = client.delete("/api/blogs")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("code", sorted(c for c in default_exceptions if c >= 400))
def test_every_werkzeug_http_error_is_a_problem(db_path, clock, code):
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "CLOCK": clock})

    def fail():
        from flask import abort

        abort(code)

    app.add_url_rule("/api/fail", "fail", fail)
    assert_problem(app.test_client().get("/api/fail"), code)


def test_unexpected_errors_are_a_generic_500(db_path, clock):
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "CLOCK": clock})

    def boom():
        raise RuntimeError("secret internals")

    app.add_url_rule("/api/boom", "boom", boom)
    body = assert_problem(app.test_client().get("/api/boom"), 500)
    assert "secret" not in body["detail"]


def _cursor(kind, digits):
    import base64

    return base64.urlsafe_b64encode(f"{kind}:{'9' * digits}".encode()).decode().rstrip("=")


@pytest.mark.parametrize("method,url,body,who,status", [
    ("GET", "/api/blogs/{b}/posts?cursor=" + _cursor("n", 40), None, None, 400),
    ("GET", "/api/blogs/{b}/changes?since=" + _cursor("c", 40), None, None, 400),
    ("GET", "/api/blogs/{b}/posts?as_of=" + _cursor("c", 40), None, "auditor", 400),
    ("GET", "/api/events?after=99999999999999999999999", None, "auditor", 422),
    ("GET", "/api/blogs/{b}/posts?limit=99999999999999999999999", None, None, 422),
    ("POST", "/api/blogs/{b}/posts", '{"headline": "\\ud800"}', "editor", 400),
    ("POST", "/api/blogs", '{"title": "x\\udfff"}', "editor", 400),
    ("POST", "/api/blogs/{b}/posts", '{"headline": "a", "publish_at": "9999-12-31T23:59:59-14:00"}',
     "editor", 422),
    ("POST", "/api/blogs/{b}/posts", '{"headline": "a", "body": [{"type": ["paragraph"]}]}',
     "editor", 422),
    ("POST", "/api/blogs/{b}/posts", '{"headline": 1e999}', "editor", 422),
    ("POST", "/api/blogs/{b}/posts", "null", "editor", 422),
    # the reliability issue's corpus: none of these may ever be a 500 again
    ("POST", "/api/blogs/{b}/posts", '{"headline": "x", "body": ' + "[" * 10_000 + "]" * 10_000
     + "}", "editor", 400),
    ("POST", "/api/blogs/{b}/posts", '{"headline": "x", "pinned": ' + "9" * 5000 + "}", "editor",
     400),
    ("POST", "/api/blogs", '{"title": "x", "authors": [' + "[" * 40 + "]" * 40 + "]}", "editor",
     400),
    ("POST", "/api/blogs/{b}/posts", '{"headline": "a\\u0001b"}', "editor", 422),
    ("POST", "/api/blogs/{b}/posts", '{"headline": "a\\u000bb"}', "editor", 422),
    ("POST", "/api/blogs/{b}/posts", '{"headline": "a\\ufffeb"}', "editor", 422),
    ("POST", "/api/blogs/{b}/posts", '{"headline": "a\\u0000b"}', "editor", 422),
    ("POST", "/api/blogs/{b}/posts", '{"headline": "a", "body": [{"type": "paragraph",'
     ' "text": "\\uffff"}]}', "editor", 422),
    ("POST", "/api/blogs", '{"title": "t", "description": "bell\\u0007"}', "editor", 422),
])
def test_hostile_inputs_are_problems_never_500(client, app, editor, auditor, blog, method, url,
                                              body, who, status):
    headers = {"editor": editor, "auditor": auditor, None: {}}[who]
    if body is not None:
        headers = {**headers, "Content-Type": "application/json"}
    before = log_head(app)
    response = client.open(url.format(b=blog["id"]), method=method, data=body, headers=headers)
    assert_problem(response, status)
    assert log_head(app) == before


def test_an_if_match_no_version_could_have_is_a_412_not_a_500(client, app, editor, blog):
    post = client.post(f"/api/blogs/{blog['id']}/posts", json={"headline": "x"},
                       headers=editor).get_json()
    before = log_head(app)
    for tag in ('"' + "9" * 5000 + '"', '"١٢"', '"99999999999999999999"'):
        assert_problem(client.patch(f"/api/blogs/{blog['id']}/posts/{post['id']}",
                                    json={"headline": "y"}, headers={**editor, "If-Match": tag}),
                       412)
    assert log_head(app) == before


def test_an_as_of_past_the_calendar_is_the_whole_log_or_nothing(client, auditor, blog):
    late = client.get(f"/api/blogs/{blog['id']}/posts?as_of=9999-12-31T23:59:59-23:59",
                      headers=auditor)
    assert late.status_code == 200
    assert late.get_json()["blog"]["id"] == blog["id"]
    early = client.get(f"/api/blogs/{blog['id']}/posts?as_of=0001-01-01T00:00:00%2B23:59",
                       headers=auditor)
    assert_problem(early, 404)  # the blog did not exist yet


def test_an_invalid_token_is_a_401_on_every_endpoint(client, app, blog):
    app.extensions["liveblog.auth_failures"].limit = 100  # this test fails on purpose, often
    assert client.get("/api/blogs", headers={"Authorization": "Basic eDp5"}).status_code == 401
    bad = {"Authorization": "Bearer lb_nope_nope"}
    for url in ("/api/blogs", f"/api/blogs/{blog['slug']}", f"/api/blogs/{blog['id']}/posts",
                f"/api/blogs/{blog['id']}/changes?since={blog['cursor']}", "/healthz",
                "/openapi.json", "/", f"/blogs/{blog['slug']}", "/static/liveblog.css",
                "/api/nowhere"):
        response = client.get(url, headers=bad)
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_repeated_failed_authentications_are_answered_429_with_retry_after(app, client, editor):
    failures = app.extensions["liveblog.auth_failures"]
    bad = {"Authorization": "Bearer lb_nope_nope"}
    for _ in range(failures.limit):
        assert client.get("/api/blogs", headers=bad).status_code == 401
    refused = client.get("/api/blogs", headers=bad)
    body = assert_problem(refused, 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= failures.window
    assert "retry" in body["detail"]
    # the client is told to wait even with a good token; anonymous reading goes on
    assert client.get("/api/blogs", headers=editor).status_code == 429
    assert client.get("/api/blogs").status_code == 200
    # after the window, a good token is welcome again and forgives the failures
    failures.clock = lambda: 10**9
    assert client.get("/api/blogs", headers=editor).status_code == 200
    assert client.get("/api/blogs", headers=bad).status_code == 401


def test_an_oversized_idempotency_key_is_400(client, app, editor, blog):
    before = log_head(app)
    assert_problem(client.post(f"/api/blogs/{blog['id']}/posts", json={"headline": "x"},
                               headers={**editor, "Idempotency-Key": "k" * 256}), 400)
    assert log_head(app) == before


def _refuse_writes(conn, refuse=True):
    """Storage that refuses every write, as a read-only file system or a read-only standby
    does (SQLite's query_only answers writes as a read-only file does)."""
    if conn.dialect == "postgresql":
        mode = "READ ONLY" if refuse else "READ WRITE"
        conn.execute(f"SET SESSION CHARACTERISTICS AS TRANSACTION {mode}")
    else:
        conn.execute(f"PRAGMA query_only = {'ON' if refuse else 'OFF'}")


def test_a_full_disk_is_a_503_and_nothing_is_recorded(db_path, clock):
    """SQLite held at its size (max_page_count) answers writes as a full disk does."""
    from liveblog import create_app
    from liveblog.bootstrap import get_liveblog

    from ..conftest import Tokens
    from .helpers import create_blog

    app = create_app({"TESTING": True, "DATABASE": str(db_path), "CLOCK": clock})
    client = app.test_client()
    editor = Tokens(app).headers()
    blog = create_blog(client, editor)
    big = {"headline": "big", "body": [{"type": "paragraph", "text": "x" * 19_000}] * 8}
    with app.app_context():
        conn = get_liveblog().store().conn
        conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    before = log_head(app)
    refused = client.post(f"/api/blogs/{blog['id']}/posts", json=big, headers=editor)
    assert_problem(refused, 503)
    assert "full" in client.get("/healthz").get_json().get("detail", "full")
    assert log_head(app) == before
    with app.app_context():
        get_liveblog().store().conn.execute("PRAGMA max_page_count = 1073741823")
    assert client.post(f"/api/blogs/{blog['id']}/posts", json=big, headers=editor).status_code \
        == 201
    app.extensions["liveblog"].shutdown()


def test_storage_refusing_writes_is_a_503_reads_go_on_and_health_says_degraded(
        app, client, editor, blog):
    from liveblog.bootstrap import get_liveblog

    big = {"headline": "big", "body": [{"type": "paragraph", "text": "x" * 19_000}] * 8}
    assert client.post(f"/api/blogs/{blog['id']}/posts", json=big, headers=editor).status_code \
        == 201
    assert {k: v for k, v in client.get("/healthz").get_json().items()
            if k in ("status", "writes")} == {"status": "ok", "writes": "ok"}
    before = log_head(app)
    with app.app_context():
        _refuse_writes(get_liveblog().store().conn)
    refused = client.post(f"/api/blogs/{blog['id']}/posts", json=big, headers=editor)
    body = assert_problem(refused, 503)
    assert refused.headers["Retry-After"] and "nothing was recorded" in body["detail"]
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["status"] == "degraded"
    assert health.get_json()["writes"] == "failing"
    feed = client.get(f"/api/blogs/{blog['id']}/posts")  # readers are still served
    assert feed.status_code == 200 and feed.get_json()["total"] == 1
    with app.app_context():
        _refuse_writes(get_liveblog().store().conn, refuse=False)
    assert log_head(app) == before  # nothing half-recorded
    # recovery without a restart: health finds storage takes writes again
    assert {k: v for k, v in client.get("/healthz").get_json().items()
            if k in ("status", "writes")} == {"status": "ok", "writes": "ok"}
    assert client.post(f"/api/blogs/{blog['id']}/posts", json=big, headers=editor).status_code \
        == 201


def test_a_refused_role_is_named_with_the_right_article(client, editor, auditor):
    blog = client.post("/api/blogs", json={"title": "Articles"}, headers=editor).get_json()
    post = client.post(f"/api/blogs/{blog['id']}/posts", json={"headline": "x"},
                       headers=editor).get_json()
    redact = f"/api/blogs/{blog['id']}/posts/{post['id']}/redact"
    as_editor = client.post(redact, json={"reason": "r"}, headers=editor).get_json()
    assert as_editor["detail"] == "an editor cannot do this (post: redact)"
    as_auditor = client.post(f"/api/blogs/{blog['id']}/close", headers=auditor).get_json()
    assert as_auditor["detail"] == "an auditor cannot do this (blog: change)"
