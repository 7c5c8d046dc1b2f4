"""The console for each role, in a real browser: a contributor's drafts and the editor's notes,
the editor's approval queue with its live count, unpublishing, the blog's members page; axe
clean on each."""

from __future__ import annotations

import pytest

from .server import Server, editor_token
from .test_accessibility import audit

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def desk(tmp_path):
    db = tmp_path / "desk.db"
    server = Server(db, workers=1)
    admin = editor_token(db, "Ada Admin", role="admin")
    server.admin = {"Authorization": f"Bearer {admin}"}
    server.request("POST", "/api/blogs", {"title": "Election night", "slug": "desk"},
                   server.admin)
    server.tokens = {
        "ada": admin,
        "carl": editor_token(db, "Carl Contrib", role="contributor", blogs=("desk",)),
        "edna": editor_token(db, "Edna Editor", role="editor", blogs=("desk",)),
        "dora": editor_token(db, "Dora Newcomer", role="contributor", blogs=("desk",)),
    }
    server.contexts = []
    yield server
    # the pages first: open, they keep polling the server (and a stop waits for their
    # connections), then go on polling a server that is gone for the rest of the session
    for context in server.contexts:
        context.close()
    server.stop()


def open_blog(browser, desk, who):
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    desk.contexts.append(context)
    page = context.new_page()
    page.goto(desk.base + "/console")
    page.fill("#token", desk.tokens[who])
    page.click("#signin-form button")
    page.wait_for_selector("#blog-list a")
    page.click("#blog-list a")
    page.wait_for_selector("#posts-table")
    return page


def test_a_contributor_is_sent_back_then_approved_and_the_editor_unpublishes(desk, browser):
    carl = open_blog(browser, desk, "carl")
    assert carl.locator("#blog-status").count() == 0  # no closing the blog
    assert carl.locator("#members-link").count() == 0
    carl.click("#write")
    assert carl.locator("#pinned").count() == 0 and carl.locator("#publish").count() == 0
    carl.fill("#headline", "Queues at the school in Kyiv")
    carl.click("#submit-for-approval")
    carl.wait_for_selector("#flash:has-text('Submitted for approval')")
    assert audit(carl) == []

    edna = open_blog(browser, desk, "edna")
    edna.wait_for_selector("#queue-count:has-text('1')")
    assert audit(edna) == []
    item = edna.locator("ul.queue li", has_text="Queues at the school")
    item.get_by_role("button", name="Reject").click()
    item.get_by_placeholder("What should change?").fill("Who is queueing? Add a source.")
    item.get_by_role("button", name="Send back").click()
    edna.wait_for_selector("#flash:has-text('Sent back to Carl Contrib')")
    edna.wait_for_selector("#queue-count:has-text('0')")

    # the contributor's table shows the note within a refresh; the editor opens the post
    row = carl.locator("#posts-table tr", has_text="Queues at the school")
    row.locator(".note:has-text('Add a source')").wait_for(timeout=15000)
    row.get_by_role("link").click()
    carl.wait_for_selector("#review-note:has-text('Who is queueing?')")
    carl.fill("#headline", "Queues at School 57 in Kyiv, officials say")
    carl.click("#submit-for-approval")
    carl.wait_for_selector("#posts-table")
    carl.locator("#posts-table tr", has_text="School 57").locator(
        ".status:has-text('submitted')").wait_for(timeout=15000)

    # the editor's queue counts it again by itself, and approving puts it live
    edna.wait_for_selector("#queue-count:has-text('1')", timeout=15000)
    edna.locator("ul.queue li", has_text="School 57").get_by_role(
        "button", name="Approve").click()
    edna.wait_for_selector("#flash:has-text('Approved')")
    feed = desk.request("GET", "/api/blogs/desk/posts").json()
    assert [p["headline"] for p in feed["posts"]] == [
        "Queues at School 57 in Kyiv, officials say"]
    # now out, the contributor can no longer touch it
    carl.locator("#posts-table tr", has_text="School 57").locator(
        ".status:has-text('published')").wait_for(timeout=15000)
    assert carl.locator("#posts-table tr", has_text="School 57").get_by_role(
        "button").count() == 0

    row = edna.locator("#posts-table tr", has_text="School 57")
    row.get_by_role("button", name="Unpublish").click()  # asks first: one click takes nothing off
    assert desk.request("GET", "/api/blogs/desk/posts").json()["posts"] != []
    row.get_by_role("button", name="Confirm: take it off air").click()
    edna.wait_for_selector("#flash:has-text('Unpublished')")
    assert desk.request("GET", "/api/blogs/desk/posts").json()["posts"] == []


def test_an_editor_adds_and_removes_a_contributor_on_the_members_page(desk, browser):
    dora = desk.request("GET", "/api/me", headers={
        "Authorization": f"Bearer {desk.tokens['dora']}"}).json()
    desk.request("DELETE", f"/api/blogs/desk/members/{dora['id']}", headers=desk.admin)
    edna = open_blog(browser, desk, "edna")
    edna.click("#members-link")
    edna.wait_for_selector("#members-table")
    assert [o for o in edna.locator("#member-role option").all_inner_texts()] == ["contributor"]
    # picked by name from those who could be added, never by an opaque id
    edna.fill("#member-name", "Dora")
    edna.locator("#member-candidates option[value='Dora Newcomer (token)']").wait_for(
        state="attached")
    edna.fill("#member-name", "Dora Newcomer (token)")
    edna.click("#add-member button[type=submit]")
    edna.wait_for_selector("#flash:has-text('Dora Newcomer is now contributor')")
    assert audit(edna) == []
    edna.locator("#members-table tr", has_text="Dora Newcomer").get_by_role(
        "button", name="Remove Dora Newcomer").click()
    edna.wait_for_selector("#flash:has-text('no longer a member')")
    # an editor may not remove another editor: the server's answer is shown
    own = edna.locator("#members-table tr", has_text="Edna Editor").get_by_role("button")
    own.click()  # removing oneself asks first
    assert own.inner_text() == "Confirm: remove yourself from this blog"
    own.click()
    edna.wait_for_selector("[data-error-for=_action]:has-text('only an admin')")
