"""Automated accessibility audit (axe-core, WCAG 2.1 A/AA and best practices) of every page.

axe cannot judge everything (reading order, whether alt text is apt), but it does check
landmarks, names of controls, colour contrast, headings and ARIA use on the rendered page.
"""

from __future__ import annotations

import pytest

from .server import demo_server, editor_token

pytestmark = [pytest.mark.slow, pytest.mark.browser]

RULES = {"runOnly": {"type": "tag",
                     "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
         "resultTypes": ["violations"]}


def _selector(target):
    """One of axe's targets: a selector, or (in a shadow root) the selectors from the host in."""
    return target if isinstance(target, str) else " >>> ".join(target)


def audit(page):
    """Run axe on the page as it stands; returns readable violations (empty when clean)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=RULES)
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            + "; ".join(" ".join(_selector(t) for t in node["target"]) for node in v["nodes"][:5])
            for v in results.response["violations"]]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    db = tmp_path_factory.mktemp("a11y") / "demo.db"
    server = demo_server(db)
    server.token = editor_token(db)
    yield server
    server.stop()


@pytest.mark.parametrize("path", ["/", "/blogs/storm-halvard-live",
                                  "/blogs/storm-halvard-live?order=oldest", "/docs",
                                  "/blogs/no-such-blog"])
@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900},
                                      {"width": 390, "height": 844}], ids=["desktop", "phone"])
def test_reader_pages_pass_axe(demo, browser, path, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(demo.base + path)
    page.wait_for_load_state("networkidle")
    assert audit(page) == []
    context.close()


def test_the_new_posts_button_and_live_updates_pass_axe(demo, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(demo.base + "/blogs/storm-halvard-live")
    page.wait_for_selector("html[data-live=ready]")
    reply = demo.request("POST", "/api/blogs/storm-halvard-live/posts",
                         {"headline": "Ferry services resume"},
                         {"Authorization": f"Bearer {demo.token}"})
    assert reply.status == 201
    page.locator("#show-new").wait_for(state="visible", timeout=15_000)
    assert audit(page) == []
    context.close()


def test_console_passes_axe_signed_out_and_composing(demo, browser):
    context = browser.new_context(viewport={"width": 1100, "height": 1200})
    page = context.new_page()
    page.goto(demo.base + "/console")
    page.wait_for_selector("#signin:not([hidden])")
    assert audit(page) == []
    page.fill("#token", demo.token)
    page.click("#signin-form button")
    page.wait_for_selector("#blog-list a")
    assert audit(page) == []
    page.click("#blog-list a")
    page.wait_for_selector("#posts-table")
    assert audit(page) == []
    page.click("#write")
    for kind in ("paragraph", "image", "quote"):
        page.click(f"[data-add={kind}]")
    page.click("#publish")  # empty fields: the errors are shown, and must be accessible too
    page.locator("[data-error-for=headline]:not(:empty)").wait_for()
    assert audit(page) == []
    context.close()
