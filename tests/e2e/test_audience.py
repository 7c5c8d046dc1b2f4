"""The audience's voice in Chromium: a reader asks on the reader page (the browser solves the
proof of work with WebCrypto), an editor finds it in the console's inbox with its live count
and answers it, and the answer reaches the page; a reader votes in a poll and sees the results
only then, another reader's vote counts too, the editor closes it and every page shows the
final tally; the same from the script embed on a strict page of another origin. Axe on the
form and the poll."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.peers import HostPage

from .server import Server, editor_token
from .test_accessibility import audit

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    db = tmp_path_factory.mktemp("audience") / "audience.db"
    server = Server(db, workers=1, extra_env={"LIVEBLOG_CACHE_MAX_AGE": "1"})
    server.token = editor_token(db)
    server.auth = {"Authorization": f"Bearer {server.token}"}
    assert server.request("POST", "/api/blogs", {"title": "Town hall", "slug": "town"},
                          server.auth).status == 201
    etag = server.request("GET", "/api/blogs/town").headers["ETag"]
    assert server.request("PATCH", "/api/blogs/town", {"questions_enabled": True},
                          {**server.auth, "If-Match": etag}).status == 200
    yield server
    server.stop()


@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()


def open_blog_in_console(context, site):
    """A console page in ``context``, signed in with the editor's token, on the blog."""
    page = context.new_page()
    page.goto(site.base + "/console")
    page.fill("#token", site.token)
    page.click("#signin-form button")
    page.wait_for_selector("#blog-list")
    page.click("#blog-list a:has-text('Town hall')")
    return page


def poll_post(site, question):
    reply = site.request("POST", "/api/blogs/town/posts", {"headline": question, "body": [
        {"type": "poll", "question": question, "options": ["Yes", "No", "Not sure"]}]},
        site.auth)
    assert reply.status == 201, reply.json()
    return reply.json()["body"][0]


def test_a_reader_asks_and_an_editor_answers_from_the_inbox(site, tab, browser):
    tab.goto(f"{site.base}/blogs/town")
    tab.wait_for_selector("html[data-live=ready]")
    tab.locator("#ask summary").click()
    assert audit(tab) == []  # the open form
    tab.fill("#ask-text", "Will the <b>library</b> stay open?")
    tab.fill("#ask-name", "Ana")
    tab.fill("#ask-contact", "ana@example.org")
    tab.click("#ask-form button[type=submit]")
    expect(tab.locator("#ask-status")).to_have_text(
        "Thank you: your question is with the editors.", timeout=20_000)
    assert tab.locator("#ask-text").input_value() == ""
    # the editor's console: the inbox link counts it, the inbox shows it with the contact
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    try:
        console = open_blog_in_console(context, site)
        expect(console.locator("#questions-count")).to_have_text("(1)")
        console.click("#questions-link")
        question = console.locator("li.question").first
        expect(question.locator(".question-text")).to_have_text(
            "Will the <b>library</b> stay open?")  # plain text, shown as typed
        expect(question).to_contain_text("ana@example.org")
        assert audit(console) == []
        question.get_by_role("button", name="Answer").first.click()
        console.locator(".answer-form textarea").fill("Yes: until nine every evening.")
        console.click(".answer-form button[type=submit]")
        expect(console.locator("#flash")).to_contain_text("Answer published")
        expect(console.locator("#question-counts")).to_contain_text("0 waiting · 1 answered")
    finally:
        context.close()
    # the reader's page: the answer arrives as a post quoting the question
    tab.locator("#show-new").wait_for(state="visible", timeout=10_000)
    tab.click("#show-new")
    answer = tab.locator("#posts article.post").first
    expect(answer.locator(".reader-question .question-text")).to_have_text(
        "Will the <b>library</b> stay open?")
    expect(answer.locator(".reader-question footer")).to_have_text("— Ana")
    expect(answer).to_contain_text("Yes: until nine every evening.")
    assert "ana@example.org" not in tab.content()
    assert tab.problems == []


def test_a_reader_votes_and_then_sees_the_results_until_the_poll_closes(site, tab, browser):
    poll = poll_post(site, "Should the square be closed to cars?")
    tab.goto(f"{site.base}/blogs/town")
    tab.wait_for_selector("html[data-live=ready]")
    form = tab.locator(f"form.poll[data-poll='{poll['id']}']").first
    expect(form.locator(".poll-results")).to_have_count(0)  # no results before voting
    assert audit(tab) == []
    form.locator(".poll-vote").click()
    expect(form.locator(".poll-status")).to_have_text("Choose an option first.")
    form.get_by_label("Yes", exact=True).check()
    form.locator(".poll-vote").click()
    expect(form.locator(".poll-results li.chosen")).to_contain_text("Yes")
    expect(form.locator(".poll-results li.chosen .poll-share")).to_have_text("100%")
    expect(form.locator(".poll-status")).to_contain_text("You have voted.")
    assert audit(tab) == []
    # a second reader, in another browser: their vote counts too
    other = browser.new_context()
    try:
        page = other.new_page()
        page.goto(f"{site.base}/blogs/town")
        theirs = page.locator(f"form.poll[data-poll='{poll['id']}']").first
        theirs.get_by_label("No", exact=True).check()
        theirs.locator(".poll-vote").click()
        expect(theirs.locator(".poll-results li.chosen")).to_contain_text("No")
    finally:
        other.close()
    # back on the first page: its choice is remembered after a reload
    tab.reload()
    form = tab.locator(f"form.poll[data-poll='{poll['id']}']").first
    expect(form.locator(".poll-results li.chosen")).to_contain_text("Yes")
    # the editor closes it: the page shows the final tally, from the post itself
    assert site.request("POST", f"/api/polls/{poll['id']}/close", None, site.auth).status == 200
    closed = tab.locator(f"form.poll[data-poll='{poll['id']}'][data-closed]").first
    closed.wait_for(timeout=10_000)
    expect(closed.locator(".poll-status")).to_contain_text("Poll closed · 2 votes")
    expect(closed.locator(".poll-share")).to_have_text(["50%", "50%", "0%"])
    assert audit(tab) == []
    assert tab.problems == []


def test_the_script_embed_takes_questions_and_votes_from_another_site(site, tab):
    poll = poll_post(site, "Which bus line first?")
    host = HostPage()
    try:
        host.show(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Our story</title></head><body><main><h1>Our story</h1>
<div data-liveblog="{site.base}/blogs/town" data-header="false"></div></main>
<script async src="{site.base}/embed.js"></script></body></html>""",
                  f"default-src 'none'; script-src {site.base}; connect-src {site.base};"
                  f" img-src {site.base}; style-src {site.base}")
        tab.goto(host.url)
        tab.wait_for_function("() => document.querySelector('[data-liveblog]').dataset.live"
                              " === 'ready'")
        embed = tab.locator("[data-liveblog]")
        form = embed.locator(f"form.poll[data-poll='{poll['id']}']").first
        form.get_by_label("Not sure").check()
        form.locator(".poll-vote").click()
        expect(form.locator(".poll-results li.chosen")).to_contain_text("Not sure")
        embed.locator("#ask summary").click()
        embed.locator("#ask-text").fill("Is the 7 back?")
        embed.locator("#ask-form button[type=submit]").click()
        expect(embed.locator("#ask-status")).to_have_text(
            "Thank you: your question is with the editors.", timeout=20_000)
        assert tab.problems == []
        assert audit(tab) == []  # (after: the host refuses axe's own inline style)
    finally:
        host.stop()
    pending = site.request("GET", "/api/blogs/town/questions", None, site.auth).json()
    assert "Is the 7 back?" in [q["text"] for q in pending["questions"]]


def test_an_editor_makes_a_poll_in_the_composer(site, browser):
    context = browser.new_context(viewport={"width": 1100, "height": 1200})
    try:
        page = open_blog_in_console(context, site)
        page.click("#write")
        page.fill("#headline", "Have your say")
        page.click("[data-add=poll]")
        page.fill("#block-0-question", "Best new name for the square?")
        page.fill("#block-0-options", "Harbour Square\nMarket Square\n\nOld Square")
        page.click("#publish")
        page.wait_for_selector("#posts-table")
        posts = site.request("GET", "/api/blogs/town/posts").json()["posts"]
        made = next(p for p in posts if p["headline"] == "Have your say")
        poll = made["body"][0]
        assert poll["question"] == "Best new name for the square?"
        assert [o["text"] for o in poll["options"]] == ["Harbour Square", "Market Square",
                                                        "Old Square"]
        # opened again: the saved poll's question and answers are shown, not editable
        page.click(f"a[href$='/posts/{made['id']}']")
        expect(page.locator("#block-0-options")).to_have_js_property("readOnly", True)
    finally:
        context.close()
