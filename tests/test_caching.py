"""Readers behind any HTTP cache: absolute URLs from PUBLIC_URL (never the Host header),
validators and 304s on pages and Atom, CORS on anonymous reads, content-hashed static files."""

from __future__ import annotations

import re
from email.utils import format_datetime, parsedate_to_datetime

import pytest

from liveblog import create_app

from .api.helpers import create_blog, create_post
from .conftest import Tokens


@pytest.fixture
def public_app(database, clock):
    application = create_app({"TESTING": True, "DATABASE": database, "CLOCK": clock,
                              "PUBLIC_URL": "https://live.example.com/",
                              "TRUSTED_PROXIES": ["10.0.0.7"]})
    yield application
    application.extensions["liveblog"].shutdown()


def test_absolute_urls_come_from_public_url_never_from_the_host_header(public_app):
    client = public_app.test_client()
    editor = Tokens(public_app).headers()
    create_blog(client, editor, slug="storm")
    for url in ("/blogs/storm", "/blogs/storm/feed.atom"):
        text = client.get(url, headers={"Host": "evil.example"}).get_data(as_text=True)
        assert "evil.example" not in text, url
        assert "https://live.example.com/blogs/storm" in text, url
    html = client.get("/blogs/storm", headers={"Host": "evil.example",
                                               "X-Forwarded-Host": "evil.example"}).get_data(
        as_text=True)
    assert re.search(r'rel="canonical" href="https://live\.example\.com/blogs/storm"', html)
    assert 'property="og:url" content="https://live.example.com/blogs/storm"' in html


def test_forwarded_for_counts_only_from_trusted_proxies(public_app):
    client = public_app.test_client()
    failures = public_app.extensions["liveblog.auth_failures"]
    bad = {"Authorization": "Bearer lb_x_y"}
    # a client that says it is someone else is still itself
    client.get("/api/blogs", headers={**bad, "X-Forwarded-For": "203.0.113.9"},
               environ_base={"REMOTE_ADDR": "198.51.100.1"})
    assert len(failures._failures.get("198.51.100.1", [])) == 1
    assert "203.0.113.9" not in failures._failures
    # behind the trusted proxy, the client is the address it forwards
    client.get("/api/blogs", headers={**bad, "X-Forwarded-For": "203.0.113.9"},
               environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert len(failures._failures.get("203.0.113.9", [])) == 1
    assert "10.0.0.7" not in failures._failures


@pytest.mark.parametrize("path", ["/blogs/storm", "/blogs/storm/feed.atom",
                                  "/blogs/storm?order=oldest", "/"])
def test_pages_and_atom_have_validators_and_answer_304(client, editor, clock, path):
    blog = create_blog(client, editor, slug="storm")
    create_post(client, editor, blog["id"], headline="first")
    first = client.get(path)
    assert first.status_code == 200
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    later = format_datetime(parsedate_to_datetime(modified).replace(year=2030), usegmt=True)
    assert client.get(path, headers={"If-Modified-Since": later}).status_code == 304
    # If-None-Match decides when both are sent
    assert client.get(path, headers={"If-None-Match": '"other"',
                                     "If-Modified-Since": modified}).status_code == 200
    clock.advance(seconds=5)
    create_post(client, editor, blog["id"], headline="second")
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    if path != "/":  # the list of blogs shows no headlines
        assert "second" in changed.get_data(as_text=True)
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 200


def test_a_closed_blog_is_cached_longer_but_a_shared_cache_keeps_it_half_as_long(client, editor,
                                                                                  app):
    blog = create_blog(client, editor, slug="done")
    client.post(f"/api/blogs/{blog['id']}/close", headers=editor)
    closed = app.config["CLOSED_CACHE_MAX_AGE"]
    assert closed > app.config["CACHE_MAX_AGE"] and closed <= 10  # a redaction waits seconds
    poll = f"/blogs/done/live?since={blog['cursor']}"
    for path in ("/blogs/done", "/blogs/done/feed.atom", poll):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["Cache-Control"] == \
            f"public, max-age={closed}, s-maxage={closed // 2}", path


def test_anonymous_reader_api_answers_allow_any_origin_and_token_holders_do_not(client, editor):
    blog = create_blog(client, editor, slug="cors")
    for url in ("/api/blogs", "/api/blogs/cors", "/api/blogs/cors/posts",
                f"/api/blogs/cors/changes?since={blog['cursor']}"):
        anonymous = client.get(url)
        assert anonymous.headers["Access-Control-Allow-Origin"] == "*", url
        poll = client.get(url, headers={"If-None-Match": anonymous.headers["ETag"]})
        assert poll.status_code == 304
        assert poll.headers["Access-Control-Allow-Origin"] == "*", url
        assert "Access-Control-Allow-Origin" not in client.get(url, headers=editor).headers


def test_static_files_have_content_hashed_immutable_urls(client, editor, app):
    create_blog(client, editor, slug="assets")
    html = client.get("/blogs/assets").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/assets/[0-9a-f]{16}/[^"]+)"', html)
    assert any(u.endswith("liveblog.css") for u in urls)
    assert any(u.endswith("liveblog.js") for u in urls)
    for url in urls:
        with client.get(url) as response:
            assert response.status_code == 200, url
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            etag = response.headers["ETag"]
        with client.get(url, headers={"If-None-Match": etag}) as again:
            assert again.status_code == 304
    # a digest that is not the file's is no such file (a cache must never keep other bytes)
    wrong = re.sub(r"/assets/[0-9a-f]{16}/", "/assets/0000000000000000/", urls[0])
    assert client.get(wrong).status_code == 404


def test_the_page_poll_carries_each_changed_posts_html_the_same_for_every_reader(
        client, editor, clock):
    blog = create_blog(client, editor, slug="poll")
    since = blog["cursor"]
    first = create_post(client, editor, blog["id"], headline="First <em>news</em>")
    clock.advance(seconds=1)
    gone = create_post(client, editor, blog["id"], headline="Mistake")
    client.delete(f"/api/blogs/{blog['id']}/posts/{gone['id']}", headers=editor)
    url = f"/blogs/poll/live?since={since}"
    one, two = client.get(url), client.get(url)
    assert one.get_data() == two.get_data() and one.headers["ETag"] == two.headers["ETag"]
    assert one.headers["Cache-Control"].startswith("public")
    body = one.get_json()
    assert [c["op"] for c in body["changes"]] == ["upsert", "delete"]
    assert f'id="post-{first["id"]}"' in body["changes"][0]["html"]
    assert body["header"]["count"] == 1 and body["header"]["status"] == "live"
    assert client.get(url, headers={"If-None-Match": one.headers["ETag"]}).status_code == 304
    caught_up = client.get(f"/blogs/poll/live?since={body['cursor']}").get_json()
    assert caught_up["changes"] == []
    assert client.get("/blogs/poll/live?since=nonsense").status_code == 400


def test_an_answer_kept_for_the_next_reader_carries_each_readers_own_request_id(client, editor):
    blog = create_blog(client, editor, slug="ids")
    create_post(client, editor, blog["id"], headline="one")
    answers = [client.get("/api/blogs/ids/posts") for _ in range(4)]
    assert all(a.status_code == 200 for a in answers)
    ids = [a.headers.getlist("X-Request-Id") for a in answers]
    assert all(len(one) == 1 for one in ids), ids  # one header each, never piled up
    assert len({one[0] for one in ids}) == 4
    assert len({len(a.headers) for a in answers}) == 1  # the kept answer's headers do not grow
