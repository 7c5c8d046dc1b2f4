"""Pages in the blog's language in a real browser: an Arabic page right to left, its live
updates counted in Arabic plural forms by the page's script; French and Arabic pages axe
clean."""

from __future__ import annotations

import pytest

from .server import Server, editor_token
from .test_accessibility import audit

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def site(tmp_path):
    db = tmp_path / "languages.db"
    server = Server(db, workers=1)
    server.auth = {"Authorization": f"Bearer {editor_token(db)}"}
    for slug, language in (("akhbar", "ar"), ("direct", "fr-FR")):
        server.request("POST", "/api/blogs", {"title": "Élection" if language == "fr-FR"
                                              else "الانتخابات", "slug": slug,
                                              "language": language,
                                              "timezone": "Africa/Cairo"}, server.auth)
        for i in range(2):
            server.request("POST", f"/api/blogs/{slug}/posts", {
                "headline": f"{i}", "byline": {"contributors": ["Lina", "Omar"]}}, server.auth)
    yield server
    server.stop()


def test_an_arabic_page_is_right_to_left_and_counts_in_arabic(site, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.base + "/blogs/akhbar")
    page.wait_for_function("document.documentElement.dataset.live === 'ready'")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert page.locator(".count").inner_text() == "منشوران"  # the dual names its number
    assert audit(page) == []
    site.request("POST", "/api/blogs/akhbar/posts", {"headline": "2"}, site.auth)
    button = page.locator("#show-new")
    button.wait_for(state="visible", timeout=10_000)
    assert button.inner_text() == "منشور جديد واحد"  # "one new post", the number in words
    button.click()  # the count counts it once shown
    page.locator(".count:has-text('3 منشورات')").wait_for()
    assert page.locator("#status").inner_text() == "مباشر"
    context.close()


def test_a_french_page_passes_axe(site, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.base + "/blogs/direct")
    assert page.locator(".count").inner_text() == "2 publications"
    assert "Par Lina et Omar" in page.locator("#posts").inner_text()
    assert audit(page) == []
    context.close()
