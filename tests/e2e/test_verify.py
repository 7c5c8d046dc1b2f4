"""A reader's "Verify" on a post: Chromium checks the post's proof with WebCrypto (SHA-256 and
Ed25519) against the log's key and says what it proves; a changed word, a changed checkpoint
or another key makes it say "Not verified", with why. In German too, and axe-clean."""

from __future__ import annotations

import json

import pytest
from axe_playwright_python.sync_playwright import Axe

from .server import Server, editor_token

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def site(tmp_path):
    db = tmp_path / "verify.db"
    token = editor_token(db)
    server = Server(db, workers=1)
    server.auth = {"Authorization": f"Bearer {token}"}
    server.request("POST", "/api/blogs", {"title": "Election night", "slug": "night"},
                   server.auth)
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    opened.problems = []
    opened.on("console", lambda m: m.type == "error" and opened.problems.append(m.text))
    opened.on("pageerror", lambda e: opened.problems.append(str(e)))
    yield opened
    context.close()


def _publish_and_edit(site) -> dict:
    post = site.request("POST", "/api/blogs/night/posts", {"headline": "Polls close"},
                        site.auth).json()
    edited = site.request("PATCH", f"/api/blogs/night/posts/{post['id']}",
                          {"headline": "Polls close at 8"},
                          {**site.auth, "If-Match": '"1"'})
    assert edited.status == 200
    return post


def _verify(page, site, post_id: str) -> str:
    page.goto(site.base + "/blogs/night")
    page.wait_for_selector("html[data-live=ready]")
    article = page.locator(f"#post-{post_id}")
    article.locator("button.verify").click()
    result = article.locator(".verify-result.verified, .verify-result.failed")
    result.wait_for(timeout=15_000)
    return result.inner_text()


def test_verify_says_what_the_proof_proves(site, page):
    post = _publish_and_edit(site)
    said = _verify(page, site, post["id"])
    origin = f"127.0.0.1:{site.port}/log"
    assert said.startswith("Verified: this version is entry 4 of the public log " + origin)
    assert "It does not prove they are true" in said
    assert page.problems == []
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("tamper", ["word", "checkpoint", "key"])
def test_a_changed_proof_or_key_is_not_verified(site, page, tamper):
    post = _publish_and_edit(site)

    def changed_proof(route):
        answer = route.fetch()
        body = answer.json()
        if tamper == "word":
            for event in body["events"]:
                event["data"] = (event["data"] or "").replace("at 8", "at 9")
        else:
            lines = body["tlog_proof"].split("\n")
            at = lines.index("") + 2  # the checkpoint's size line
            lines[at] = str(int(lines[at]) + 1)
            body["tlog_proof"] = "\n".join(lines)
        route.fulfill(response=answer, body=json.dumps(body))

    def other_key(route):
        route.fulfill(status=200, content_type="text/plain",
                      body=f"127.0.0.1:{site.port}/log+6f9fd1ef+"
                           "AXqKdMkJ5wbF4hWKQeA2Q9JKiVXYrj7cGGuXUodOn1Jy\n")

    if tamper == "key":
        page.route("**/log/key", other_key)
    else:
        page.route("**/proof?version=*", changed_proof)
    said = _verify(page, site, post["id"])
    assert said.startswith("Not verified: "), said
    expected = {"word": "the post's words are not the ones the log recorded",
                "checkpoint": "signature does not verify",
                "key": "key does not match its id"}[tamper]
    assert expected in said


def test_verify_speaks_the_blogs_language(site, page):
    site.request("PATCH", "/api/blogs/night", {"language": "de-DE"},
                 {**site.auth, "If-Match": '"1"'})
    post = _publish_and_edit(site)
    page.goto(site.base + "/blogs/night")
    page.wait_for_selector("html[data-live=ready]")
    assert page.locator(f"#post-{post['id']} button.verify").inner_text() == "Prüfen"
    said = _verify(page, site, post["id"])
    assert said.startswith("Bestätigt: Diese Fassung ist Eintrag "), said
