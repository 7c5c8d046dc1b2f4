"""The console at its edges, in Chromium, for each kind of person: the blogs a person can open
and a clear page for one they cannot (never a blank screen), a blog opened by its slug, taking
a blog off air only after a confirmation, the auditors' read-only console, the legal desk's
redacted posts, and no console error in normal use. One server for the module."""

from __future__ import annotations

import itertools
import re

import pytest
from playwright.sync_api import expect

from tests.api.test_media import image_bytes

from .server import Server, editor_token

pytestmark = [pytest.mark.slow, pytest.mark.browser]

_blogs = itertools.count(1)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    db = tmp_path_factory.mktemp("edges") / "edges.db"
    server = Server(db, workers=1)
    server.db = db
    server.tokens = {"jane": editor_token(db, "Jane Roe"),
                     "lena": editor_token(db, "Lena Legal", role="legal"),
                     "audrey": editor_token(db, "Audrey Auditor", role="auditor")}
    server.auth = {"Authorization": f"Bearer {server.tokens['jane']}"}
    yield server
    server.stop()


def new_blog(site, title="Council vote"):
    slug = f"council-{next(_blogs)}"
    reply = site.request("POST", "/api/blogs", {"title": title, "slug": slug}, site.auth)
    assert reply.status == 201
    return reply.json()


def publish(site, blog, headline, body=None):
    reply = site.request("POST", f"/api/blogs/{blog['slug']}/posts",
                         {"headline": headline, **({"body": body} if body else {})}, site.auth)
    assert reply.status == 201, reply.json()
    return reply.json()


@pytest.fixture
def console(browser, site):
    opened = []

    def open_as(token=None, who=None):
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        page = context.new_page()
        page.errors = []
        page.requested = []
        page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.on("request", lambda r: page.requested.append(r.url))
        opened.append(context)
        page.goto(site.base + "/console")
        if token or who:
            page.fill("#token", token or site.tokens[who])
            page.click("#signin-form button")
            page.wait_for_selector("#who")
        return page

    yield open_as
    for context in opened:
        context.close()


def test_signed_out_the_console_asks_nothing_it_would_be_refused(site, console):
    page = console()
    page.wait_for_selector("#signin:not([hidden])")
    page.wait_for_timeout(300)
    assert not [u for u in page.requested if "/api/me" in u]
    assert page.errors == []


@pytest.mark.parametrize("role", ["editor", "contributor"])
def test_a_member_sees_only_their_blogs_and_a_clear_page_for_another(site, console, role):
    mine, other = new_blog(site, "Our desk"), new_blog(site, "Their desk")
    token = editor_token(site.db, f"Member {role}", role=role, blogs=(mine["slug"],))
    page = console(token)
    page.wait_for_selector("#blog-list")
    listed = page.locator("#blog-list a").all_inner_texts()
    assert "Our desk" in listed and "Their desk" not in listed
    page.goto(f"{site.base}/console#/blogs/{other['id']}")  # a link someone sent them
    page.wait_for_selector("#not-member")
    assert "not a member of this blog" in page.inner_text("#not-member")
    assert page.locator("#view h1").inner_text() == "Their desk"
    assert page.errors == [], page.errors


def test_a_contributor_removed_from_a_blog_who_reloads_is_told_so(site, console):
    blog = new_blog(site, "Night desk")
    token = editor_token(site.db, "Cara Contrib", role="contributor", blogs=(blog["slug"],))
    page = console(token)
    page.goto(f"{site.base}/console#/blogs/{blog['id']}")
    page.wait_for_selector("#posts-table")
    me = site.request("GET", "/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert site.request("DELETE", f"/api/blogs/{blog['slug']}/members/{me['id']}",
                        headers=site.auth).status == 204
    page.reload()
    page.wait_for_selector("#not-member, #no-blogs")
    page.goto(f"{site.base}/console#/blogs")
    page.wait_for_selector("#no-blogs")
    assert page.errors == [], page.errors


def test_a_blog_opened_by_its_slug_is_the_same_view_as_by_its_id(site, console):
    blog = new_blog(site)
    token = editor_token(site.db, "Sam Slug", role="editor", blogs=(blog["slug"],))
    page = console(token)
    page.goto(f"{site.base}/console#/blogs/{blog['slug']}")
    page.wait_for_selector("#posts-table")
    assert page.locator("#write").count() == 1 and page.locator("#members-link").count() == 1
    assert page.errors == [], page.errors


def test_closing_a_blog_asks_first(site, console):
    blog = new_blog(site)
    page = console(who="jane")
    page.goto(f"{site.base}/console#/blogs/{blog['id']}")
    page.wait_for_selector("#blog-status")
    page.click("#blog-status")
    assert page.inner_text("#blog-status").startswith("Confirm")
    assert site.request("GET", f"/api/blogs/{blog['slug']}").json()["status"] == "live"
    page.click("#blog-status")
    page.wait_for_selector("#flash:has-text('Blog closed')")
    assert site.request("GET", f"/api/blogs/{blog['slug']}").json()["status"] == "closed"
    assert page.errors == [], page.errors


def test_an_auditor_reads_every_blog_and_post_history_and_cannot_change_anything(site,
                                                                                 console):
    blog = new_blog(site, "Audited desk")
    post = publish(site, blog, "Turnout at noon")
    page = console(who="audrey")
    page.wait_for_selector("#blog-list")
    assert "Audited desk" in page.locator("#blog-list a").all_inner_texts()
    page.goto(f"{site.base}/console#/blogs/{blog['id']}")
    page.wait_for_selector(f"#posts-table tr[data-post-id='{post['id']}']")
    assert page.locator("#write").count() == 0 and page.locator("#posts-table button").count() == 0
    page.click(f"#posts-table tr[data-post-id='{post['id']}'] a")
    page.wait_for_selector("#history li")
    assert page.locator("#redact").count() == 0 and page.locator("#read-only-note").count() == 1
    page.wait_for_timeout(300)
    assert not [u for u in page.requested if u.endswith("/presence")]
    assert page.errors == [], page.errors


def test_the_legal_desk_keeps_a_redacted_post_in_its_table_and_reads_history_in_words(
        site, console):
    blog = new_blog(site, "Court desk")
    post = publish(site, blog, "Named: Ora Vance",
                   [{"type": "paragraph", "text": "First words."}])
    site.request("PATCH", f"/api/blogs/{blog['slug']}/posts/{post['id']}",
                 {"body": [{"type": "paragraph", "text": "Second words."}]},
                 {**site.auth, "If-Match": '"1"'})
    page = console(who="lena")
    page.goto(f"{site.base}/console#/blogs/{blog['id']}/posts/{post['id']}")
    page.wait_for_selector("#history li")
    history = page.locator("#history li").all_inner_texts()
    assert "paragraph 1" in history[1] and "body.0" not in history[1]
    page.fill("#redact-reason", "Court order")
    page.click("#redact")
    assert "of all 2 versions" in page.inner_text("#redact-what")
    page.click("#redact-confirm-button")
    page.wait_for_selector("#redacted-note")
    page.goto(f"{site.base}/console#/blogs/{blog['id']}")
    row = page.locator(f"#posts-table tr[data-post-id='{post['id']}']")
    row.wait_for()
    assert "redacted" in row.inner_text()
    page.wait_for_timeout(300)
    assert not [u for u in page.requested if u.endswith("/presence")]
    assert page.errors == [], page.errors


def test_one_version_reads_as_english(site, console):
    blog = new_blog(site, "Small desk")
    post = publish(site, blog, "Only once")
    page = console(who="lena")
    page.goto(f"{site.base}/console#/blogs/{blog['id']}/posts/{post['id']}")
    page.wait_for_selector("#history li")
    page.fill("#redact-reason", "Privacy request")
    page.click("#redact")
    assert "of its only version" in page.inner_text("#redact-what")
    assert "of all 1" not in page.inner_text("#redact-what")


def test_an_editor_changes_a_blogs_settings_and_creates_one_in_its_language(site, console):
    blog = new_blog(site, "Settings desk")
    page = console(who="jane")
    page.goto(f"{site.base}/console#/blogs/{blog['id']}")
    page.click("#settings-link")
    page.wait_for_selector("#blog-settings")
    page.fill("#settings-description", "Live from the council chamber.")
    page.select_option("#settings-language", "fr-FR")
    page.select_option("#settings-timezone", "Europe/Paris")
    page.click("#save-settings")
    page.wait_for_selector("#flash, #blog-settings .error:not(:empty)")
    assert page.locator("#blog-settings .error:not(:empty)").all_inner_texts() == []
    page.wait_for_selector("#flash:has-text('Settings saved')")
    now = site.request("GET", f"/api/blogs/{blog['slug']}").json()
    assert (now["description"], now["language"], now["timezone"]) == (
        "Live from the council chamber.", "fr-FR", "Europe/Paris")
    page.goto(f"{site.base}/console#/blogs")
    page.wait_for_selector("#new-blog")
    page.fill("#blog-title", "Élection municipale")
    page.fill("#blog-description", "Les résultats, bureau par bureau.")
    page.select_option("#blog-language", "fr-FR")
    page.click("#new-blog button[type=submit]")
    page.wait_for_selector("#flash:has-text('Blog created')")
    made = [b for b in site.request("GET", "/api/blogs").json()["blogs"]
            if b["title"] == "Élection municipale"][0]
    assert made["language"] == "fr-FR" and made["description"].startswith("Les résultats")
    assert page.errors == [], page.errors


def test_an_editor_themes_a_blog_in_a_live_preview_then_saves_it(site, console):
    blog = new_blog(site, "Theme desk")
    publish(site, blog, "Preview me")
    page = console(who="jane")
    page.goto(f"{site.base}/console#/blogs/{blog['id']}")
    page.click("#settings-link")
    page.wait_for_selector("#blog-theme")
    preview = page.frame_locator("#theme-preview")
    preview.locator("html[data-live=ready]").wait_for()
    badge, body = preview.locator("#status"), preview.locator("body")
    expect(badge).to_have_css("background-color", "rgb(176, 0, 32)")  # the house style
    page.fill("#theme-accent", "#005a9c")
    expect(badge).to_have_css("background-color", "rgb(0, 90, 156)")
    page.select_option("#theme-scheme", "dark")
    expect(body).to_have_css("background-color", "rgb(18, 18, 18)")
    page.fill("#theme-font", "Verdana, sans-serif")
    expect(preview.locator("h1")).to_have_css("font-family", re.compile("^Verdana"))
    # a font list the server would refuse is said beside the field; the preview keeps the last
    page.fill("#theme-font", "Verdana; } body { display: none")
    expect(page.locator("[data-error-for='theme.font_family']")).to_contain_text("font family")
    expect(preview.locator("h1")).to_have_css("font-family", re.compile("^Verdana"))
    page.fill("#theme-font", "Verdana, sans-serif")
    page.set_input_files("#theme-logo-file", files=[{
        "name": "logo.png", "mimeType": "image/png", "buffer": image_bytes(size=(200, 50))}])
    expect(preview.locator("header.story .logo img")).to_be_visible()
    assert site.request("GET", f"/api/blogs/{blog['slug']}").json()["theme"] is None  # unsaved
    page.click("#save-settings")
    page.wait_for_selector("#flash:has-text('Settings saved')")
    theme = site.request("GET", f"/api/blogs/{blog['slug']}").json()["theme"]
    assert {k: theme[k] for k in ("accent", "color_scheme", "font_family")} == {
        "accent": "#005a9c", "color_scheme": "dark", "font_family": "Verdana, sans-serif"}
    assert len(theme["logo_media_id"]) == 64
    page.goto(f"{site.base}/blogs/{blog['slug']}")
    expect(page.locator("body")).to_have_css("background-color", "rgb(18, 18, 18)")
    expect(page.locator("header.story .logo img")).to_be_visible()
    # the refused font list's stylesheet is the only thing the browser logged
    assert [e for e in page.errors if "status of 400" not in e] == [], page.errors
    assert len(page.errors) <= 1, page.errors


def test_a_refused_save_speaks_newsroom_words_and_puts_the_keyboard_on_the_field(site, console):
    blog = new_blog(site, "Words desk")
    page = console(who="jane")
    page.goto(f"{site.base}/console#/blogs/{blog['id']}/new")
    page.wait_for_selector("#headline")
    page.click("#publish")  # no headline
    slot = page.locator('[data-error-for="headline"]:not(:empty)')
    slot.wait_for()
    assert "Missing data" not in slot.inner_text() and "Length must be" not in slot.inner_text()
    assert page.evaluate("document.activeElement.id") == "headline"
    # Ctrl+Enter publishes, and the next post is written straight after
    page.fill("#headline", "Quorum reached")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#flash:has-text('Published')")
    assert page.evaluate("location.hash").endswith("/new")
    assert page.evaluate("document.activeElement.id") == "headline"
    feed = site.request("GET", f"/api/blogs/{blog['slug']}/posts").json()
    assert [p["headline"] for p in feed["posts"]] == ["Quorum reached"]


def test_a_closed_blogs_composer_says_so_before_anyone_writes(site, console):
    blog = new_blog(site, "Closed desk")
    assert site.request("POST", f"/api/blogs/{blog['slug']}/close", None, site.auth).status == 200
    page = console(who="jane")
    page.goto(f"{site.base}/console#/blogs/{blog['id']}/new")
    page.wait_for_selector("#blog-closed")
    assert "closed" in page.inner_text("#blog-closed")


def test_an_auditor_sees_whether_the_log_verifies_and_reads_a_blogs_event_log(site, console):
    blog = new_blog(site, "Logged desk")
    publish(site, blog, "Logged once")
    page = console(who="audrey")
    page.locator("#verify-status", has_text="The log verifies").wait_for()
    page.goto(f"{site.base}/console#/blogs/{blog['id']}")
    page.click("#event-log-link")
    page.wait_for_selector("#event-log tbody tr")
    rows = page.locator("#event-log tbody tr").all_inner_texts()
    assert "BlogCreated" in rows[0] and any("PostPublished" in r and "Jane Roe" in r
                                            for r in rows)
    assert page.errors == [], page.errors
