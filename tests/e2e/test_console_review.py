"""The console for corrections (editors) and redaction (the legal desk), and its rough edges: the
focus ring of the rich-text box, the schedule time, the table at 1280 px, one zone label. One
server for the module: each test makes its own blog."""

from __future__ import annotations

import itertools
import re

import pytest

from liveblog.i18n import short_time

from .server import Server, editor_token

pytestmark = [pytest.mark.slow, pytest.mark.browser]

_blogs = itertools.count(1)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    db = tmp_path_factory.mktemp("review") / "review.db"
    server = Server(db, workers=1)
    server.tokens = {"jane": editor_token(db, "Jane Roe"),
                     "lena": editor_token(db, "Lena Legal", role="legal"),
                     "audrey": editor_token(db, "Audrey", role="auditor")}
    server.auth = {"Authorization": f"Bearer {server.tokens['jane']}"}
    yield server
    server.stop()


@pytest.fixture
def blog(site):
    slug = f"desk-{next(_blogs)}"
    reply = site.request("POST", "/api/blogs", {"title": "Trial desk", "slug": slug,
                                                "timezone": "Europe/Oslo"}, site.auth)
    assert reply.status == 201
    return reply.json()


def publish(site, blog, headline):
    reply = site.request("POST", f"/api/blogs/{blog['slug']}/posts", {"headline": headline},
                         site.auth)
    assert reply.status == 201, reply.json()
    return reply.json()


@pytest.fixture
def console(browser, site):
    contexts = []

    def open_as(who, width=1100):
        context = browser.new_context(viewport={"width": width, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        page.goto(site.base + "/console")
        page.fill("#token", site.tokens[who])
        page.click("#signin-form button")
        return page

    yield open_as
    for context in contexts:
        context.close()


def test_an_editor_adds_a_correction_from_the_posts_editor(site, blog, console):
    post = publish(site, blog, "Verdict expected at noon")
    page = console("jane")
    page.goto(f"{site.base}/console#/blogs/{blog['id']}/posts/{post['id']}")
    page.wait_for_selector("#correction-form")
    page.click("#add-correction")  # no text: the field says so, nothing is recorded
    page.locator('[data-error-for="text"]:not(:empty)').wait_for()
    page.fill("#correction-text", "The verdict is expected at 2 p.m., not noon.")
    page.select_option("#correction-reason", "factual")
    page.click("#add-correction")
    page.locator("#flash", has_text="Correction added.").wait_for()
    assert "The verdict is expected at 2 p.m." in page.inner_text("#correction-list")
    assert page.inner_text("#editing").startswith("Editing version 2")
    reader = site.request("GET", f"/blogs/{blog['slug']}").body.decode()
    assert "The verdict is expected at 2 p.m., not noon." in reader


def test_the_legal_desk_reads_the_history_and_redacts_after_a_confirmation(site, blog,
                                                                            console):
    post = publish(site, blog, "Witness Ora Vance testifies")
    site.request("PATCH", f"/api/blogs/{blog['slug']}/posts/{post['id']}",
                 {"headline": "Witness Ora Vance testifies for the defence"},
                 {**site.auth, "If-Match": '"1"'})
    page = console("lena")
    page.wait_for_selector("#blog-list")
    page.goto(f"{site.base}/console#/blogs/{blog['id']}")
    page.wait_for_selector("#posts-table")
    assert page.locator("#write").count() == 0 and page.locator("#blog-status").count() == 0
    assert page.locator("#posts-table button").count() == 0  # no pin, no delete
    page.click(f"#posts-table tr[data-post-id='{post['id']}'] a")
    page.wait_for_selector("#history li")
    history = page.locator("#history li").all_inner_texts()
    assert len(history) == 2 and "Edited" in history[1] and "Jane Roe" in history[1]
    page.click("#redact")  # no reason yet
    page.locator('[data-error-for="reason"]:not(:empty)').wait_for()
    assert page.locator("#redact-confirm").is_hidden()
    page.fill("#redact-reason", "Court order 2026/41")
    page.click("#redact")
    what = page.inner_text("#redact-what")
    assert "“Witness Ora Vance testifies for the defence”" in what
    assert "2 versions" in what and "cannot be undone" in what
    page.click("#redact-cancel")  # changing one's mind erases nothing
    assert site.request("GET", f"/api/blogs/{blog['slug']}/posts/{post['id']}").status == 200
    page.click("#redact")
    page.click("#redact-confirm-button")
    page.locator("#flash", has_text="Post redacted.").wait_for()
    assert site.request("GET", f"/api/blogs/{blog['slug']}/posts/{post['id']}").status == 404
    assert "Ora Vance" not in site.request("GET", f"/blogs/{blog['slug']}").body.decode()


def test_an_auditor_signs_in_to_a_read_only_console(site, blog, console):
    page = console("audrey")
    page.wait_for_selector("#blog-list")
    assert page.inner_text("#who") == "Signed in as Audrey"
    assert page.locator("#new-blog").count() == 0  # no creating blogs


def test_the_rich_text_box_shows_where_the_keyboard_is(site, blog, console):
    page = console("jane")
    page.goto(f"{site.base}/console#/blogs/{blog['id']}/new")
    page.wait_for_selector("#headline")
    page.click("[data-add=paragraph]")
    page.locator(".ql-editor").first.focus()
    ring = page.evaluate("""() => {
        const box = getComputedStyle(document.querySelector('.ql-container'));
        return [box.outlineStyle, parseFloat(box.outlineWidth)]; }""")
    assert ring[0] != "none" and ring[1] >= 2, ring
    headline_ring = page.evaluate("""() => {
        document.querySelector('#headline').focus();
        return getComputedStyle(document.querySelector('.ql-container')).outlineStyle; }""")
    assert headline_ring == "none"  # only where the keyboard is


def test_scheduling_with_no_time_asks_for_one(site, blog, console):
    page = console("jane")
    page.goto(f"{site.base}/console#/blogs/{blog['id']}/new")
    page.wait_for_selector("#headline")
    page.fill("#headline", "Sentencing")
    page.click("#schedule")
    slot = page.locator('[data-error-for="publish_at"]:not(:empty)')
    slot.wait_for()
    assert slot.inner_text() == "Choose the date and time it goes live."


def test_the_post_table_fits_a_1280_px_screen_and_names_the_blogs_zone(site, blog, console):
    for i in range(3):
        publish(site, blog, f"A rather long headline about the day in court, part {i}")
    page = console("jane", width=1280)
    page.goto(f"{site.base}/console#/blogs/{blog['id']}")
    page.wait_for_selector("#posts-table tbody tr")
    assert page.locator("#posts-table").bounding_box()["width"] >= 1000
    for row in page.locator("#posts-table tbody tr").all():
        pin = row.locator("button", has_text="Pin").bounding_box()
        delete = row.locator("button", has_text=re.compile("^Delete$")).bounding_box()
        assert abs(pin["y"] - delete["y"]) < 2, (pin, delete)  # on one line
    # the time cell names the zone as the reader page does ("CET"), not "GMT+1"
    feed = site.request("GET", f"/api/blogs/{blog['slug']}/posts").json()
    label = short_time(feed["posts"][0]["display_time"], "Europe/Oslo").split()[-1]
    cells = page.locator("#posts-table tbody tr td:nth-child(4)").all_inner_texts()
    assert all(cell.endswith(" " + label) for cell in cells), (cells, label)
    assert not any("GMT" in cell for cell in cells)


def test_phone_cards_label_the_version(site, blog, console):
    publish(site, blog, "Short")
    page = console("jane", width=390)
    page.goto(f"{site.base}/console#/blogs/{blog['id']}")
    page.wait_for_selector("#posts-table tbody tr")
    version = page.locator("#posts-table tbody td[data-label=Version]").first
    shown = page.evaluate("el => getComputedStyle(el, '::before').content",
                          version.element_handle())
    assert shown.strip('"').strip() == "Version"
