"""The newsroom console in a real browser: compose and publish, conflicts, field errors."""

from __future__ import annotations

import itertools

import pytest

from .server import Server, editor_token

pytestmark = [pytest.mark.slow, pytest.mark.browser]


_blogs = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module (a start and a graceful stop cost seconds each)."""
    db = tmp_path_factory.mktemp("console") / "console.db"
    server = Server(db, workers=1)
    server.tokens = {"jane": editor_token(db, "Jane Roe"), "john": editor_token(db, "John Doe"),
                     "audrey": editor_token(db, "Audrey", role="auditor")}
    server.auth = {"Authorization": f"Bearer {server.tokens['jane']}"}
    yield server
    server.stop()


@pytest.fixture
def site(server):
    """The module's server with a blog of this test's own: ``site.slug``, and ``site.link``
    (its entry in the console's blog list). The browser contexts the test signed in with are
    closed after it."""
    slug = f"desk-{next(_blogs)}"
    reply = server.request("POST", "/api/blogs", {"title": "Storm desk", "slug": slug},
                           server.auth)
    assert reply.status == 201, reply.json()
    server.slug, server.contexts = slug, []
    server.link = f"#blog-list a[href='#/blogs/{reply.json()['id']}']"
    yield server
    for context in server.contexts:
        context.close()


def sign_in(browser, site, who, **context_options):
    """A new browser context (a desktop unless ``context_options`` say otherwise), signed in."""
    context = browser.new_context(**{"viewport": {"width": 1100, "height": 1200},
                                     **context_options})
    site.contexts.append(context)
    page = context.new_page()
    page.goto(site.base + "/console")
    page.fill("#token", site.tokens[who])
    page.click("#signin-form button")
    page.wait_for_selector("#blog-list")
    return page


def test_compose_and_publish_a_post_with_an_image_then_read_it(site, browser):
    page = sign_in(browser, site, "jane")
    page.click(site.link)
    page.click("#write")
    page.fill("#headline", "Harbour wall overtopped")
    page.fill("#contributors", "Jane Roe, John Doe")
    page.fill("#location", "Port Ellery")
    page.click("[data-add=image]")
    page.fill("#block-0-url", site.base + "/static/demo/harbour.svg")
    page.fill("#block-0-caption", "Spray over the wall")
    page.fill("#block-0-credit", "Photo: Gazette")
    page.fill("#block-0-alt", "Waves over a wall")
    page.click("[data-add=paragraph]")
    page.fill("#block-1-text", "Police closed the <em>promenade</em>.")
    page.click("[data-add=quote]")
    page.fill("#block-2-text", "Stay home")
    # reorder: the quote goes first, then remove the paragraph
    page.click("[aria-label='Move block 3 up']")
    page.click("[aria-label='Move block 2 up']")
    page.click("[aria-label='Remove block 3']")
    page.check("#key-event")
    page.click("#publish")
    page.wait_for_selector("#posts-table")
    assert "Published (version 1)" in page.inner_text("#flash")
    reader = page.context.new_page()
    reader.goto(f"{site.base}/blogs/{site.slug}")
    article = reader.locator("#posts article.post").first
    assert article.locator("h2").inner_text() == "Harbour wall overtopped"
    assert article.locator(".byline").inner_text() == "From Jane Roe and John Doe in Port Ellery"
    assert article.locator("blockquote").inner_text().startswith("Stay home")
    assert article.locator("figcaption").inner_text() == "Spray over the wall Photo: Gazette"
    assert article.locator("img").get_attribute("alt") == "Waves over a wall"
    assert article.locator("p", has_text="promenade").count() == 0  # removed before publishing
    assert reader.locator(".key-events li").count() == 1
    # the console keeps nothing of its own: a reload shows what the API says
    page.reload()
    page.wait_for_selector("#posts-table")
    assert page.locator("#posts-table tbody tr").count() == 1


def test_two_editors_on_one_post_the_second_sees_the_conflict(site, browser):
    post = site.request("POST", f"/api/blogs/{site.slug}/posts", {"headline": "Ferries cancelled"},
                        site.auth).json()
    jane, john = sign_in(browser, site, "jane"), sign_in(browser, site, "john")
    for page in (jane, john):
        page.goto(f"{site.base}/console#/blogs/{post['blog_id']}/posts/{post['id']}")
        page.wait_for_selector("#post-form")
    jane.fill("#headline", "Ferries cancelled until 6 a.m.")
    jane.click("#save")
    jane.wait_for_selector("#posts-table")
    john.fill("#headline", "All ferries cancelled")
    john.click("#save")
    john.wait_for_selector("#conflict .conflict")
    assert "Ferries cancelled until 6 a.m." in john.inner_text("[data-field=headline] .theirs")
    assert "All ferries cancelled" in john.inner_text("[data-field=headline] .yours")
    current = site.request("GET", f"/api/blogs/{site.slug}/posts/{post['id']}").json()
    assert current["headline"] == "Ferries cancelled until 6 a.m."  # nothing overwritten
    john.click("#keep-mine")
    john.wait_for_selector("#posts-table")
    history = site.request("GET", f"/api/blogs/{site.slug}/posts/{post['id']}/history", headers={
        "Authorization": f"Bearer {site.tokens['audrey']}"}).json()["revisions"]
    assert [r["post"]["headline"] for r in history] == [
        "Ferries cancelled", "Ferries cancelled until 6 a.m.", "All ferries cancelled"]
    assert [r["actor"]["name"] for r in history] == ["Jane Roe", "Jane Roe", "John Doe"]


def test_a_validation_error_is_shown_at_its_field(site, browser):
    page = sign_in(browser, site, "jane")
    page.click(site.link)
    page.click("#write")
    page.fill("#headline", "")
    page.click("[data-add=image]")
    page.fill("#block-0-url", "javascript:alert(1)")
    page.click("#publish")
    page.wait_for_selector('[data-error-for="body.0.url"]:not(:empty)')
    assert "URL" in page.inner_text('[data-error-for="body.0.url"]')
    assert page.inner_text('[data-error-for="headline"]')
    assert site.request("GET", f"/api/blogs/{site.slug}/posts").json()["total"] == 0
    # a closed blog's error shows at the action
    site.request("POST", f"/api/blogs/{site.slug}/close", headers=site.auth)
    page.fill("#headline", "Late news")
    page.fill("#block-0-url", "https://example.org/a.jpg")
    page.click("#publish")
    # (locators, not wait_for_function: the page's CSP forbids the eval it needs)
    page.locator('[data-error-for="_action"]', has_text="closed").wait_for()
    assert page.inner_text('[data-error-for="body.0.url"]') == ""  # the fixed field is clear


def test_sign_out_forgets_the_token_and_a_bad_token_is_told_so(site, browser):
    page = sign_in(browser, site, "jane")
    assert "Jane Roe" in page.inner_text("#who")
    page.click("#signout")
    assert page.is_visible("#signin")
    assert page.evaluate("sessionStorage.getItem('liveblog.token')") is None
    page.reload()
    page.wait_for_selector("#signin:not([hidden])")
    page.fill("#token", "lb_nope_nope")
    page.click("#signin-form button")
    page.locator("#signin-error", has_text="unknown").wait_for()


def total(site, status="draft,scheduled,published"):
    return site.request("GET", f"/api/blogs/{site.slug}/posts?status={status}",
                        headers=site.auth).json()["total"]


def compose(page, site, headline):
    page.click(site.link)
    page.click("#write")
    page.fill("#headline", headline)


def test_a_double_click_on_publish_makes_one_post(site, browser):
    page = sign_in(browser, site, "jane")
    compose(page, site, "Once only")
    page.dblclick("#publish")
    page.wait_for_selector("#posts-table")
    assert total(site) == 1


def test_a_lost_answer_then_retry_makes_one_post(site, browser):
    page = sign_in(browser, site, "jane")
    compose(page, site, "Answer lost")
    lost = []

    def lose_the_answer(route):
        if route.request.method == "POST" and not lost:
            lost.append(route.request.headers.get("idempotency-key"))
            route.fetch()  # the server takes it...
            route.abort()  # ...and its answer never arrives
        else:
            route.continue_()

    page.route("**/api/blogs/*/posts", lose_the_answer)
    page.click("#publish")
    page.locator('[data-error-for="_action"]', has_text="Could not reach").wait_for()
    assert total(site) == 1 and lost[0]
    assert page.is_enabled("#publish")  # not stuck saving
    with page.expect_request("**/api/blogs/*/posts") as retried:
        page.click("#retry")
    assert retried.value.headers["idempotency-key"] == lost[0]
    page.wait_for_selector("#posts-table")
    assert "Published (version 1)" in page.inner_text("#flash")
    assert total(site) == 1


def test_offline_publish_shows_the_error_and_keeps_the_draft(site, browser):
    page = sign_in(browser, site, "jane")
    compose(page, site, "Written on the train")
    page.click("[data-add=paragraph]")
    page.fill("#block-0-text", "No signal here.")
    page.context.set_offline(True)
    page.click("#publish")
    page.locator('[data-error-for="_action"]', has_text="Could not reach").wait_for()
    assert page.is_visible("#retry")
    page.context.set_offline(False)
    page.reload()  # the draft survives a reload (and an expired token, which signs out)
    page.wait_for_selector("#draft-restored")
    assert page.input_value("#headline") == "Written on the train"
    assert page.inner_text("#block-0-text") == "No signal here."
    page.click("#publish")
    page.wait_for_selector("#posts-table")
    assert total(site) == 1
    page.click("#write")  # published: the draft is gone
    assert page.input_value("#headline") == "" and page.locator("#draft-restored").count() == 0


def test_enter_in_the_headline_does_not_publish(site, browser):
    page = sign_in(browser, site, "jane")
    compose(page, site, "Half-writ")
    page.press("#headline", "Enter")
    page.wait_for_timeout(500)
    assert total(site) == 0 and page.is_visible("#post-form")


def test_editors_see_who_else_is_editing_a_post(site, browser):
    post = site.request("POST", f"/api/blogs/{site.slug}/posts", {"headline": "Shared"},
                        site.auth).json()
    jane, john = sign_in(browser, site, "jane"), sign_in(browser, site, "john")
    jane.goto(f"{site.base}/console#/blogs/{post['blog_id']}/posts/{post['id']}")
    jane.wait_for_selector("#post-form")
    before = jane.locator("#pinned").bounding_box()
    john.goto(f"{site.base}/console#/blogs/{post['blog_id']}")
    john.locator(f"tr[data-post-id='{post['id']}'] .presence",
                 has_text="Jane Roe is editing").wait_for(timeout=8_000)
    john.goto(f"{site.base}/console#/blogs/{post['blog_id']}/posts/{post['id']}")
    john.locator("#presence", has_text="Jane Roe is editing this post too").wait_for(
        timeout=8_000)
    jane.locator("#presence", has_text="John Doe is editing this post too").wait_for(
        timeout=8_000)
    # the line arriving moved nothing under Jane's hand (a click on the pin, say, would land
    # elsewhere: a test clicking it at that moment found it unchanged)
    assert jane.locator("#pinned").bounding_box() == before
    jane.click("text=← Back to the blog")  # leaving says so at once
    john.locator("#presence", has_text="Jane Roe").wait_for(state="detached", timeout=8_000)


def test_the_post_table_follows_the_log(site, browser):
    page = sign_in(browser, site, "jane")
    page.click(site.link)
    page.wait_for_selector("#posts-table")
    soon = site.request("POST", f"/api/blogs/{site.slug}/posts", {
        "headline": "Embargoed", "publish_at": "2030-01-01T00:00:00Z"}, site.auth).json()
    row = page.locator(f"tr[data-post-id='{soon['id']}']")
    row.locator(".status", has_text="scheduled").wait_for(timeout=8_000)
    site.request("PATCH", f"/api/blogs/{site.slug}/posts/{soon['id']}", {"status": "published"},
                 {**site.auth, "If-Match": '"1"'})
    row.locator(".status", has_text="published").wait_for(timeout=8_000)


def open_post(browser, site, who, post):
    page = sign_in(browser, site, who)
    page.goto(f"{site.base}/console#/blogs/{post['blog_id']}/posts/{post['id']}")
    page.wait_for_selector("#post-form")
    return page


def test_changes_to_different_fields_merge_and_a_pin_survives_the_other_save(site, browser):
    post = site.request("POST", f"/api/blogs/{site.slug}/posts", {
        "headline": "Bridge closed", "byline": {"contributors": ["Jane Roe"]}}, site.auth).json()
    jane, john = open_post(browser, site, "jane", post), open_post(browser, site, "john", post)
    jane.fill("#headline", "Bridge closed to all traffic")
    jane.check("#pinned")
    jane.click("#save")
    jane.wait_for_selector("#posts-table")
    john.fill("#contributors", "Jane Roe, John Doe")  # another field, from version 1
    john.click("#save")
    john.wait_for_selector("#posts-table")
    assert "merged with changes made meanwhile to headline, pin" in john.inner_text("#flash")
    now = site.request("GET", f"/api/blogs/{site.slug}/posts/{post['id']}",
                      headers=site.auth).json()
    assert now["headline"] == "Bridge closed to all traffic"
    assert now["byline"]["contributors"] == ["Jane Roe", "John Doe"]
    assert now["pinned"] is True  # John's save did not touch the pin, so it did not revert it
    assert now["version"] == 3


def test_the_same_field_changed_on_both_sides_is_shown_side_by_side(site, browser):
    post = site.request("POST", f"/api/blogs/{site.slug}/posts", {"headline": "Power cut"},
                        site.auth).json()
    jane, john = open_post(browser, site, "jane", post), open_post(browser, site, "john", post)
    jane.fill("#headline", "Power cut in the north")
    jane.check("#key-event")
    jane.click("#save")
    jane.wait_for_selector("#posts-table")
    john.fill("#headline", "Power cut across the city")
    john.click("#save")
    john.wait_for_selector("#conflict .conflict")
    assert john.locator("#conflict-fields [data-field]").count() == 1  # only the headline
    assert "Power cut in the north" in john.inner_text("[data-field=headline] .theirs")
    # the panel names the other editor and when they saved
    assert john.inner_text("#conflict-title") == "Jane Roe changed this post meanwhile"
    assert john.inner_text("[data-field=headline] h3") == "Jane Roe’s headline"
    assert "Jane Roe saved it as version 2 at" in john.inner_text("#conflict .conflict")
    john.click("#keep-mine")
    john.wait_for_selector("#posts-table")
    now = site.request("GET", f"/api/blogs/{site.slug}/posts/{post['id']}",
                      headers=site.auth).json()
    assert now["headline"] == "Power cut across the city" and now["key_event"] is True


def test_a_blog_zone_is_chosen_from_the_iana_list(site, browser):
    page = sign_in(browser, site, "jane")
    options = page.locator("#blog-timezone option")
    assert options.count() > 300  # the IANA zones, not free text
    page.fill("#blog-title", "Tokyo desk")
    page.select_option("#blog-timezone", "Asia/Tokyo")
    page.click("#new-blog button[type=submit]")
    page.wait_for_selector("#posts-table")
    blog = site.request("GET", "/api/blogs").json()["blogs"]
    assert [b["timezone"] for b in blog if b["title"] == "Tokyo desk"] == ["Asia/Tokyo"]


def test_keyboard_focus_follows_blocks_and_buttons_name_their_post(site, browser):
    page = sign_in(browser, site, "jane")
    compose(page, site, "Focus")
    page.click("[data-add=paragraph]")
    assert page.evaluate("document.activeElement.id") == "block-0-text"
    page.click("[data-add=quote]")
    assert page.evaluate("document.activeElement.id") == "block-1-text"
    page.click("[aria-label='Move block 2 up']")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == \
        "Move block 1 down"  # the moved block's own button (its 'up' is now disabled)
    page.click("[aria-label='Remove block 1']")
    assert page.evaluate("document.activeElement.id") == "block-0-text"
    assert page.evaluate("document.activeElement.tagName") != "BODY"
    assert page.locator("label[for=publish-at]").inner_text() == "Publish at (UTC)"
    page.fill("#block-0-text", "Kept.")
    page.click("#publish")
    page.wait_for_selector("#posts-table")
    assert page.locator("#posts-table button[aria-label='Pin “Focus”']").count() == 1
    assert page.locator("#posts-table button[aria-label='Delete “Focus”']").count() == 1


def test_on_a_phone_every_post_action_is_on_screen(site, browser):
    site.request("POST", f"/api/blogs/{site.slug}/posts",
                 {"headline": "A rather long headline " * 3},
                 site.auth)
    page = sign_in(browser, site, "jane", viewport={"width": 390, "height": 844},
                   is_mobile=True, has_touch=True)
    try:
        page.click(site.link)
        page.wait_for_selector("#posts-table")
        for name in ("Pin", "Delete"):
            box = page.locator("#posts-table button", has_text=name).first.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (name, box)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        page.context.close()


def test_the_site_links_to_the_console_and_drafts_are_scheduled_not_rescheduled(site, browser):
    page = sign_in(browser, site, "jane")
    page.goto(f"{site.base}/blogs/{site.slug}")
    assert page.locator("footer a", has_text="Newsroom console").get_attribute("href") == \
        "/console"
    draft = site.request("POST", f"/api/blogs/{site.slug}/posts", {"headline": "Later",
                                                           "status": "draft"}, site.auth).json()
    page.goto(f"{site.base}/console#/blogs/{draft['blog_id']}/posts/{draft['id']}")
    page.wait_for_selector("#post-form")
    assert page.inner_text("#schedule") == "Schedule"


def test_a_london_editor_on_a_new_york_blog_enters_new_york_time(site, browser):
    blog = site.request("POST", "/api/blogs", {"title": "NY desk", "slug": "ny",
                                               "timezone": "America/New_York"}, site.auth).json()
    page = sign_in(browser, site, "jane", timezone_id="Europe/London")
    try:
        def publish(headline, wall, choice=None):
            page.goto(f"{site.base}/console#/blogs/{blog['id']}/new")
            page.wait_for_selector("#post-form")
            page.fill("#headline", headline)
            page.fill("#display-time", wall)
            if choice is not None:
                page.locator("#display-time-choices label", has_text=choice).click()
            page.click("#publish")

        publish("Winter", "2026-01-15T01:30")
        page.wait_for_selector("#posts-table")
        # the skipped hour is refused at its field, nothing recorded
        publish("Skipped", "2026-03-08T02:30")
        page.locator('[data-error-for="display_time"]', has_text="does not exist").wait_for()
        # the repeated hour is asked about, never guessed
        publish("Repeated", "2026-11-01T01:30")
        page.locator('[data-error-for="display_time"]', has_text="twice").wait_for()
        assert page.locator("#display-time-choices input[type=radio]").count() == 2
        page.locator("#display-time-choices label", has_text="EST").click()
        page.click("#publish")
        page.wait_for_selector("#posts-table")
        posts = {p["headline"]: p for p in site.request(
            "GET", "/api/blogs/ny/posts", headers=site.auth).json()["posts"]}
        assert set(posts) == {"Winter", "Repeated"}
        assert posts["Winter"]["display_time"].startswith("2026-01-15T06:30:00")  # 1:30 EST
        assert posts["Repeated"]["display_time"].startswith("2026-11-01T06:30:00")  # EST, not EDT
        # re-saving it to fix a typo keeps the instant (1:30 EST shows as 01:30 either way)
        repeated = posts["Repeated"]
        page.goto(f"{site.base}/console#/blogs/{blog['id']}/posts/{repeated['id']}")
        page.wait_for_selector("#post-form")
        assert page.input_value("#display-time") == "2026-11-01T01:30"
        page.fill("#headline", "Repeated, fixed")
        page.click("#save")
        page.wait_for_selector("#posts-table")
        now = site.request("GET", f"/api/blogs/ny/posts/{repeated['id']}").json()
        assert now["headline"] == "Repeated, fixed"
        assert now["display_time"] == repeated["display_time"]
    finally:
        page.context.close()


def test_paragraphs_are_rich_text_with_no_raw_html_in_sight(site, browser):
    post = site.request("POST", f"/api/blogs/{site.slug}/posts", {
        "headline": "Tide", "body": [{"type": "paragraph",
                                      "text": "Waves &amp; wind: <strong>stay</strong> away"}]},
        site.auth).json()
    page = open_post(browser, site, "jane", post)
    assert "null" not in page.inner_text("#view")  # nothing stray where no draft was restored
    editor = page.locator("#block-0-text")
    assert editor.inner_text() == "Waves & wind: stay away"  # no tags, no entities
    assert editor.locator("strong").inner_text() == "stay"
    assert page.locator(".ql-toolbar button[aria-label=Bold]").count() == 1
    # the editor's own formatting: select a word, make it italic, add a line
    editor.click()
    page.keyboard.press("End")
    page.keyboard.type(" now")
    page.keyboard.down("Shift")
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    page.keyboard.up("Shift")
    page.keyboard.press("Control+i")
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("Second line")
    page.click("#save")
    page.wait_for_selector("#posts-table")
    saved = site.request("GET", f"/api/blogs/{site.slug}/posts/{post['id']}",
                        headers=site.auth).json()
    assert saved["body"][0]["text"] == (
        "Waves &amp; wind: <strong>stay</strong> away <em>now</em><br>Second line")
    reader = page.context.new_page()
    reader.goto(f"{site.base}/blogs/{site.slug}")
    assert reader.locator("article.post p em").inner_text() == "now"


def png(width, height, seed=0):
    """A real PNG of that size (zlib-compressed rows, CRCs), without Pillow in the browser."""
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + bytes((x * 7 + y * 3 + seed) % 256 for x in range(width * 3))
                    for y in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def hand_over(page, how, selector, data):
    """Paste (``how="paste"``) or drop a PNG file on the element, as a person would."""
    page.evaluate("""([how, selector, bytes]) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], how + ".png", {type: "image/png"}));
        const event = how === "paste"
            ? new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true})
            : new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true});
        document.querySelector(selector).dispatchEvent(event);
    }""", [how, selector, list(data)])


def test_images_chosen_pasted_or_dropped_upload_with_progress(site, browser):
    page = sign_in(browser, site, "jane")
    compose(page, site, "Photos from the front")
    page.evaluate("""() => { window.progressSeen = [];
        const original = XMLHttpRequest.prototype.send;
        XMLHttpRequest.prototype.send = function (body) {
            this.upload.addEventListener("progress", e => window.progressSeen.push(e.loaded));
            return original.call(this, body); }; }""")
    # chosen with the file input
    page.click("[data-add=image]")
    page.set_input_files("#block-0-file", files=[{
        "name": "front.png", "mimeType": "image/png", "buffer": png(640, 480)}])
    page.locator("#block-0-upload-status", has_text="Uploaded (640 × 480 px)").wait_for()
    assert page.locator(".block[data-index='0'] img.preview").count() == 1
    assert page.evaluate("window.progressSeen.length") >= 1
    page.fill("#block-0-caption", "The front line")
    # pasted anywhere on the form, then dropped onto it
    hand_over(page, "paste", "#headline", png(30, 20, seed=1))
    page.locator("#block-1-upload-status", has_text="Uploaded (30 × 20 px)").wait_for()
    hand_over(page, "drop", "#blocks", png(20, 10, seed=2))
    page.locator("#block-2-upload-status", has_text="Uploaded (20 × 10 px)").wait_for()
    # a file that is not an image is refused where it was given, and nothing is uploaded
    page.click("[data-add=image]")
    page.set_input_files("#block-3-file", files=[{
        "name": "notes.txt", "mimeType": "text/plain", "buffer": b"not an image"}])
    page.locator(".block[data-index='3'] .error", has_text="not a JPEG").wait_for()
    page.click("[aria-label='Remove block 4']")
    page.click("#publish")
    page.wait_for_selector("#posts-table")
    posts = site.request("GET", f"/api/blogs/{site.slug}/posts").json()["posts"]
    images = posts[0]["body"]
    assert [(b["width"], b["height"]) for b in images] == [(640, 480), (30, 20), (20, 10)]
    assert all(b["url"] == f"/media/{b['media_id']}.png" for b in images)
    assert images[0]["caption"] == "The front line"
    reader = page.context.new_page()
    reader.goto(f"{site.base}/blogs/{site.slug}")
    first = reader.locator("article.post figure img").first
    first.wait_for()
    assert first.get_attribute("width") == "640"
    assert reader.evaluate("document.querySelector('article.post figure img').naturalWidth") \
        == 640
