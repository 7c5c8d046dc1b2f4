"""A closed blog behind the shipped nginx configuration, with the service's default cache
settings: a legal redaction and a reopen reach a new reader through the cache within the closed
max-age plus a few seconds, and a page left open within 15 s."""

from __future__ import annotations

import time

import pytest

from liveblog.config import DEFAULTS

from .nginx import Nginx
from .server import Server, editor_token

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CLOSED_MAX_AGE = DEFAULTS["CLOSED_CACHE_MAX_AGE"]
OPEN_PAGE_LIMIT = 15


@pytest.fixture
def closed_site(database, tmp_path):
    token = editor_token(database)
    legal = editor_token(database, "Legal Desk", role="legal")
    origin = Server(database, workers=1,
                    extra_env={"LIVEBLOG_PUBLIC_URL": "https://live.example.com"})
    origin.auth = {"Authorization": f"Bearer {token}"}
    origin.legal = {"Authorization": f"Bearer {legal}"}
    proxy = Nginx(tmp_path / "nginx", origin.port)
    origin.request("POST", "/api/blogs", {"title": "Trial", "slug": "trial"}, origin.auth)
    try:
        yield origin, proxy
    finally:
        proxy.stop()
        origin.stop()


def through_cache(proxy, path):
    """The body a new reader gets through nginx now, and whether the cache answered it."""
    import urllib.request

    with urllib.request.urlopen(proxy.base + path, timeout=10) as response:
        return response.read().decode(), response.headers.get("X-Cache")


def seconds_until(check, limit):
    """Seconds until ``check()`` holds (asked every 0.25 s), failing past ``limit``."""
    began = time.monotonic()
    while not check():
        assert time.monotonic() - began < limit, f"not within {limit} s"
        time.sleep(0.25)
    return time.monotonic() - began


def test_a_redaction_and_a_reopen_reach_a_closed_blogs_readers_through_the_cache(
        closed_site, browser):
    origin, proxy = closed_site
    named = origin.request("POST", "/api/blogs/trial/posts",
                           {"headline": "Witness Quentin Marsh testifies"}, origin.auth).json()
    origin.request("POST", "/api/blogs/trial/posts", {"headline": "Court adjourns"}, origin.auth)
    assert origin.request("POST", "/api/blogs/trial/close", headers=origin.auth).status == 200
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(proxy.base + "/blogs/trial")
        page.wait_for_selector("html[data-live=ready]")
        assert page.locator("#status").text_content() == "Closed"
        assert "Quentin Marsh" in page.content()
        # the cache holds the closed page and its Atom now
        for path in ("/blogs/trial", "/blogs/trial/feed.atom"):
            through_cache(proxy, path)
            body, state = through_cache(proxy, path)
            assert "Quentin Marsh" in body and state == "HIT", (path, state)

        reply = origin.request("POST", f"/api/blogs/trial/posts/{named['id']}/redact",
                               {"reason": "court order"}, origin.legal)
        assert reply.status == 200, reply.json()
        limit = CLOSED_MAX_AGE + 3
        for path in ("/blogs/trial", "/blogs/trial/feed.atom"):
            waited = seconds_until(
                lambda path=path: "Quentin Marsh" not in through_cache(proxy, path)[0], limit)
            assert waited <= limit, (path, waited)
        page.locator(f"#post-{named['id']}").wait_for(state="detached",
                                                      timeout=OPEN_PAGE_LIMIT * 1000)
        assert "Quentin Marsh" not in page.content()

        assert origin.request("POST", "/api/blogs/trial/reopen", headers=origin.auth).status == 200
        origin.request("POST", "/api/blogs/trial/posts", {"headline": "Retrial ordered"},
                       origin.auth)
        seconds_until(lambda: "Retrial ordered" in through_cache(proxy, "/blogs/trial")[0],
                      limit)
        page.locator("#status", has_text="Live").wait_for(timeout=OPEN_PAGE_LIMIT * 1000)
        page.locator("#show-new").wait_for(state="visible", timeout=OPEN_PAGE_LIMIT * 1000)
    finally:
        context.close()
