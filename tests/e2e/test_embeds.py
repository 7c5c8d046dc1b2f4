"""Embeds in a real browser against a provider process: nothing reaches the provider before the
reader asks; the player then loads in a sandboxed frame; the provider's script never runs in
our page; a reader's "always" holds across pages; the console previews the card."""

from __future__ import annotations

import json

import pytest

from tests.peers import HostPage, Provider

from .server import Server, editor_token
from .test_accessibility import audit

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def site(tmp_path):
    provider = Provider(tmp_path)
    db = tmp_path / "embeds.db"
    server = Server(db, workers=1, extra_env={
        "LIVEBLOG_OEMBED_PROVIDERS": str(provider.providers),
        "LIVEBLOG_OEMBED_ALLOW_PRIVATE": json.dumps(["127.0.0.0/8"])})
    server.token = editor_token(db)
    auth = {"Authorization": f"Bearer {server.token}"}
    server.request("POST", "/api/blogs", {"title": "Harbour", "slug": "harbour"}, auth)
    reply = server.request("POST", "/api/blogs/harbour/posts", {
        "headline": "The wall at high tide",
        "body": [{"type": "paragraph", "text": "Watch:"},
                 {"type": "embed", "url": "https://clips.example/v/ok"}]}, auth)
    assert reply.status == 201
    server.provider = provider
    yield server
    server.stop()
    provider.stop()


def _from_browsers(provider):
    return [r["path"] for r in provider.requests() if "Chrome" in r["ua"]]


def test_nothing_reaches_the_provider_before_the_reader_asks(site, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.base + "/blogs/harbour")
    card = page.locator(".embed-card")
    card.wait_for()
    assert card.locator(".embed-provider").inner_text() == "Clipper"
    assert "Harbour wall at high tide" in card.inner_text()
    assert card.locator("img.embed-thumbnail").get_attribute("src").startswith("/media/")
    page.wait_for_load_state("networkidle")
    assert _from_browsers(site.provider) == []  # the thumbnail came from our media store
    assert audit(page) == []
    card.get_by_role("button", name="Load Clipper content").click()
    frame = page.locator("iframe.embed-frame")
    frame.wait_for()
    # the player took the thumbnail's place (one box, not two), and the keyboard is on it
    assert card.locator("img.embed-thumbnail").count() == 0
    assert page.evaluate("document.activeElement.className") == "embed-frame"
    assert frame.get_attribute("sandbox") == \
        "allow-scripts allow-same-origin allow-popups allow-presentation"
    page.frame_locator("iframe.embed-frame").locator("#player").wait_for()
    assert _from_browsers(site.provider) == ["/player/ok"]
    # the provider's markup (a script and an onerror handler) never ran in our page
    assert page.evaluate("window.pwned") is None
    assert page.locator(".embed-card script, .embed-card img[onerror]").count() == 0
    context.close()


def test_a_readers_choice_to_always_load_a_provider_is_kept(site, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.base + "/blogs/harbour")
    page.locator(".embed-always").check()
    page.get_by_role("button", name="Load Clipper content").click()
    page.locator("iframe.embed-frame").wait_for()
    again = context.new_page()
    again.goto(site.base + "/blogs/harbour")
    again.locator("iframe.embed-frame").wait_for()  # loaded by itself: the reader said always
    again.get_by_role("button", name="Stop loading Clipper automatically").click()
    third = context.new_page()
    third.goto(site.base + "/blogs/harbour")
    third.locator(".embed-load").wait_for()
    assert third.locator("iframe.embed-frame").count() == 0
    context.close()


def test_the_console_previews_the_card(site, browser):
    context = browser.new_context(viewport={"width": 1100, "height": 1200})
    page = context.new_page()
    page.goto(site.base + "/console")
    page.fill("#token", site.token)
    page.click("#signin-form button")
    page.click("#blog-list a")
    page.locator("#posts-table a", has_text="The wall at high tide").click()
    preview = page.locator(".embed-preview")
    preview.wait_for()
    assert "Clipper" in preview.inner_text() and "Harbour wall" in preview.inner_text()
    assert preview.locator("img").get_attribute("src").startswith("/media/")
    context.close()


def test_clicking_a_thumbnail_loads_the_player_in_its_place(site, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.base + "/blogs/harbour")
    page.locator("img.embed-thumbnail").click()
    page.locator("iframe.embed-frame").wait_for()
    assert page.locator(".embed-card img.embed-thumbnail").count() == 0
    context.close()


def test_an_embed_no_provider_answers_is_a_link_card(site, browser):
    url = "https://www.unknown.example/story/1"
    reply = site.request("POST", "/api/blogs/harbour/posts", {
        "headline": "Elsewhere", "body": [{"type": "embed", "url": url}]},
        {"Authorization": f"Bearer {site.token}"})
    assert reply.status == 201
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.base + "/blogs/harbour")
    card = page.locator(".embed-link")
    card.wait_for()
    assert card.locator(".embed-provider").inner_text() == "unknown.example"
    opener = card.get_by_role("link", name="Open")
    assert opener.get_attribute("href") == url
    styles = page.evaluate("""() => [...document.querySelectorAll('.embed-link, .embed-link *')]
        .map(el => getComputedStyle(el).fontFamily)""")
    assert len(set(styles)) == 1, styles  # one family in the card, no serif among sans
    assert audit(page) == []
    context.close()


def test_the_script_embed_on_a_newsrooms_page_asks_consent_the_same_way(site, browser):
    """The embed card inside embed.js's shadow root, on a page of another origin whose policy
    names only the service (and the provider's origin for frames)."""
    host = HostPage()
    try:
        host.show(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Harbour: our story</title></head><body><main><h1>Our story</h1>
<div data-liveblog="{site.base}/blogs/harbour"></div></main>
<script async src="{site.base}/embed.js"></script></body></html>""",
                  f"default-src 'none'; script-src {site.base}; connect-src {site.base};"
                  f" img-src {site.base}; style-src {site.base};"
                  f" frame-src {site.provider.base}")
        context = browser.new_context()
        page = context.new_page()
        problems = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(host.url)
        card = page.locator("[data-liveblog] .embed-card")
        card.wait_for()
        page.wait_for_load_state("networkidle")
        assert _from_browsers(site.provider) == []  # nothing before the reader asks
        card.get_by_role("button", name="Load Clipper content").click()
        page.frame_locator("[data-liveblog] iframe.embed-frame").locator("#player").wait_for()
        assert _from_browsers(site.provider) == ["/player/ok"]
        assert page.evaluate("window.pwned") is None and problems == []
        context.close()
    finally:
        host.stop()
