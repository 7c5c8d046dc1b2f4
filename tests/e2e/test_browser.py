"""The reader page in a real browser: order, sort, live updates, load more, hostile content."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from .server import Server, demo_server, editor_token

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
FAST_POLLS = {"LIVEBLOG_CACHE_MAX_AGE": "1"}


_blogs = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module (a start and a graceful stop cost seconds each)."""
    db = tmp_path_factory.mktemp("browser") / "browser.db"
    token = editor_token(db)
    server = Server(db, workers=1, extra_env=FAST_POLLS)
    server.auth = {"Authorization": f"Bearer {token}"}
    yield server
    server.stop()


@pytest.fixture
def site(server):
    """The module's server with a blog of this test's own: ``site.slug``, read at
    ``site.blog``."""
    slug = f"night-{next(_blogs)}"
    reply = server.request("POST", "/api/blogs", {"title": "Election night", "slug": slug,
                                                  "timezone": "America/New_York"}, server.auth)
    assert reply.status == 201, reply.json()
    server.slug, server.blog = slug, f"{server.base}/blogs/{slug}"
    return server


def publish(site, headline, **fields):
    reply = site.request("POST", f"/api/blogs/{site.slug}/posts", {"headline": headline, **fields},
                         site.auth)
    assert reply.status == 201, reply.json()
    return reply.json()


def open_blog(page, url):
    """Open the reader page and wait until its script is running."""
    page.goto(url)
    page.wait_for_selector("html[data-live=ready]")


def feed_headlines(page):
    return page.locator("#posts article.post h2").all_inner_texts()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    opened.dialogs = []
    opened.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message),
                                        dialog.dismiss()))
    yield opened
    context.close()


def test_posts_in_order_and_sort_reverses_them(site, page):
    for i in range(3):
        publish(site, f"Update {i}")
    open_blog(page, site.blog)
    assert feed_headlines(page) == ["Update 2", "Update 1", "Update 0"]
    assert page.locator("#count").inner_text() == "3"
    assert "Updated" in page.locator(".updated").inner_text()
    page.select_option("#order", "oldest")
    page.wait_for_url("**order=oldest**")
    assert feed_headlines(page) == ["Update 0", "Update 1", "Update 2"]


def test_a_new_post_waits_behind_the_button_then_appears_in_place(site, page):
    first = publish(site, "First")
    open_blog(page, site.blog)
    assert feed_headlines(page) == ["First"]
    publish(site, "Breaking", byline={"contributors": ["Jane Roe", "John Doe"],
                                      "location": "Kyiv"})
    button = page.locator("#show-new")
    button.wait_for(state="visible", timeout=10_000)
    assert button.inner_text() == "1 new post"
    assert feed_headlines(page) == ["First"]  # the text did not move under the reader's eyes
    assert page.locator("#count").inner_text() == "1"  # the count says what the page shows
    button.click()
    assert feed_headlines(page) == ["Breaking", "First"]
    assert page.locator("#count").inner_text() == "2"
    assert page.locator("#posts article.post").first.locator(".byline").inner_text() == \
        "From Jane Roe and John Doe in Kyiv"
    assert button.is_hidden()
    # an edit applies in place, with its Edited marker, no button involved
    site.request("PATCH", f"/api/blogs/{site.slug}/posts/{first['id']}",
                 {"headline": "First, corrected"}, {**site.auth, "If-Match": '"1"'})
    page.locator(f"#post-{first['id']} h2", has_text="First, corrected").wait_for(
        timeout=10_000)
    assert page.locator(f"#post-{first['id']} .edited").is_visible()
    assert button.is_hidden()
    # a delete removes it in place
    site.request("DELETE", f"/api/blogs/{site.slug}/posts/{first['id']}", headers=site.auth)
    page.locator(f"#post-{first['id']}").wait_for(state="detached", timeout=10_000)
    assert feed_headlines(page) == ["Breaking"]
    assert page.locator("#count").inner_text() == "1"


def test_a_redacted_post_leaves_an_open_page_live(site, page):
    secret = publish(site, "Witness Zed speaks", pinned=True, key_event=True)
    publish(site, "Other news")
    open_blog(page, site.blog)
    assert "Witness Zed" in page.content()
    legal = {"Authorization": f"Bearer {editor_token(site.db, 'Legal Desk', 'legal')}"}
    reply = site.request("POST", f"/api/blogs/{site.slug}/posts/{secret['id']}/redact",
                         {"reason": "court order"}, legal)
    assert reply.status == 200, reply.json()
    page.locator(f"#post-{secret['id']}").wait_for(state="detached", timeout=10_000)
    page.locator(f"#pinned-{secret['id']}").wait_for(state="detached", timeout=10_000)
    page.locator(".key-events li").first.wait_for(state="detached", timeout=10_000)
    assert feed_headlines(page) == ["Other news"]
    assert "Witness Zed" not in page.content()
    assert page.locator("#count").inner_text() == "1"


def test_pinning_live_and_key_events(site, page):
    post = publish(site, "Polls close", key_event=True)
    open_blog(page, site.blog)
    assert page.locator(".key-events li a").inner_text() == "Polls close"
    page.locator(".key-events li a").click()
    assert page.url.endswith(f"#lb-post-{post['id']}")
    site.request("PATCH", f"/api/blogs/{site.slug}/posts/{post['id']}", {"pinned": True},
                 {**site.auth, "If-Match": '"1"'})
    page.locator(f"#pinned-{post['id']}").wait_for(timeout=10_000)
    assert page.locator(f"#post-{post['id']} .flag", has_text="Pinned").count() == 1
    assert duplicate_ids(page) == []
    assert page.locator(f"#pinned-{post['id']}").get_attribute("aria-labelledby") == \
        f"pinned-{post['id']}-headline"


def duplicate_ids(page):
    return page.evaluate("""() => {
        const seen = {}, twice = [];
        document.querySelectorAll("[id]").forEach(el => {
            if (seen[el.id]) twice.push(el.id); seen[el.id] = true; });
        return twice; }""")


def test_a_post_published_pinned_waits_behind_the_button_like_any_other(site, page):
    publish(site, "First")
    open_blog(page, site.blog)
    pinned = publish(site, "Pinned at once", pinned=True)
    button = page.locator("#show-new")
    button.wait_for(state="visible", timeout=10_000)
    assert page.locator(f"#pinned-{pinned['id']}").count() == 0  # nothing jumped in above
    button.click()
    assert page.locator(f"#pinned-{pinned['id']}").is_visible()
    assert feed_headlines(page) == ["Pinned at once", "First"]
    assert duplicate_ids(page) == []


def test_the_badge_and_the_key_events_follow_the_news(site, page):
    publish(site, "Quiet start")
    open_blog(page, site.blog)
    assert page.locator(".key-events").count() == 0
    key = publish(site, "Results are in", key_event=True)
    page.locator(".key-events li a", has_text="Results are in").wait_for(timeout=10_000)
    site.request("PATCH", f"/api/blogs/{site.slug}/posts/{key['id']}", {"key_event": False},
                 {**site.auth, "If-Match": '"1"'})
    page.locator(".key-events").wait_for(state="detached", timeout=10_000)
    assert page.locator("#status").inner_text() == "LIVE"
    assert site.request("POST", f"/api/blogs/{site.slug}/close", headers=site.auth).status == 200
    page.locator("#status", has_text="Closed").wait_for(timeout=10_000)
    assert "closed" in page.locator("#status").get_attribute("class")


def test_long_words_and_urls_wrap_on_a_phone(site, browser):
    word = "Donaudampfschifffahrtsgesellschaftskapitän" * 6
    url = "https://example.com/" + "a-very-long-path-segment-" * 12
    publish(site, word, body=[{"type": "paragraph", "text": f"{word} <a href=\"{url}\">{url}</a>"},
                              {"type": "quote", "text": word, "attribution": url}])
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=3,
                                  is_mobile=True, has_touch=True)
    phone = context.new_page()
    try:
        open_blog(phone, site.blog)
        width = phone.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, width
    finally:
        context.close()


def test_load_more_follows_the_next_cursor(site, page):
    for i in range(24):
        publish(site, f"Update {i}")
    open_blog(page, site.blog)
    assert len(feed_headlines(page)) == 20
    # the click event itself: a real click first scrolls the button into view, which loads the
    # page too (the observer) and may replace the button under the pointer
    page.locator("#load-more").dispatch_event("click")
    page.locator("#posts article.post").nth(23).wait_for()
    assert feed_headlines(page)[-1] == "Update 0"
    assert page.locator("#load-more").count() == 0


HOSTILE = {
    "headline": "<img src=x onerror=\"window.__pwned='headline'\">Calm night",
    "body": [
        {"type": "paragraph", "text": "<img src=x onerror=\"window.__pwned='img'\">"
                                      "<a href=\"javascript:window.__pwned='link'\">click</a>"
                                      "<script>window.__pwned='script'</script> text"},
        {"type": "quote", "text": "<svg onload=\"window.__pwned='svg'\">q</svg>",
         "attribution": "<b onmouseover=\"window.__pwned='b'\">someone</b>"},
        {"type": "image", "url": "http://127.0.0.1:9/x.png",
         "alt": "\" onerror=\"window.__pwned='alt'", "caption": "<i>cap</i>"},
    ],
}


def test_hostile_content_runs_no_script(site, page):
    publish(site, **HOSTILE)
    open_blog(page, site.blog)
    publish(site, **{**HOSTILE, "headline": "Second <script>alert(1)</script>"})
    page.locator("#show-new").wait_for(state="visible", timeout=10_000)
    page.locator("#show-new").click()  # the live-update path renders it too
    for link in page.locator("#posts a").all():
        href = link.get_attribute("href") or ""
        assert not href.lower().startswith("javascript:"), href
        link.hover()
    page.locator("#posts b").first.hover()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []
    assert feed_headlines(page) == ["Second", "Calm night"]


def test_demo_page_screenshots_for_people(tmp_path, browser):
    server = demo_server(tmp_path / "demo.db")
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for name, viewport in (("desktop", {"width": 1280, "height": 1600}),
                               ("phone", {"width": 390, "height": 1400})):
            context = browser.new_context(viewport=viewport)
            shot = context.new_page()
            errors = []
            shot.on("console", lambda m, errors=errors: m.type == "error" and errors.append(
                m.text))
            shot.goto(server.base + "/blogs/storm-halvard-live")
            shot.wait_for_load_state("networkidle")  # images below the fold load lazily
            assert len(feed_headlines(shot)) == 11
            path = ARTIFACTS / f"demo-{name}.png"
            shot.screenshot(path=str(path))
            assert path.stat().st_size > 10_000
            assert errors == []
            width = shot.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], "the page scrolls sideways"
            context.close()
    finally:
        server.stop()


class ChangesPolls:
    """Counts the page's polls (/blogs/{slug}/live); while ``failing``, answers them 503 in the
    browser."""

    def __init__(self, page):
        self.count = 0
        self.failing = False
        self.in_flight = 0
        page.route("**/blogs/*/live*", self._route)
        page.on("request", lambda r: self._track(r, +1))
        page.on("requestfinished", lambda r: self._track(r, -1))
        page.on("requestfailed", lambda r: self._track(r, -1))

    def _track(self, request, step):
        if "/live" in request.url or "/fragments" in request.url:
            self.in_flight += step

    def _route(self, route):
        self.count += 1
        if self.failing:
            route.fulfill(status=503, content_type="application/problem+json",
                          body='{"type":"about:blank","title":"Service Unavailable",'
                               '"status":503}')
        else:
            route.continue_()


def run_clock(page, polls, seconds):
    """Advance the page's fake clock a second at a time; after each second, let every poll in
    flight be answered (however slow the machine) before the clock moves on."""
    for _ in range(seconds):
        page.clock.run_for(1000)
        page.wait_for_timeout(20)
        for _ in range(500):
            if not polls.in_flight:
                break
            page.wait_for_timeout(10)
        page.wait_for_timeout(20)  # the answer's promise chain schedules the next poll


def test_polling_backs_off_after_errors_and_recovers(site, page):
    page.clock.install()
    polls = ChangesPolls(page)
    open_blog(page, site.blog)
    run_clock(page, polls, 6)
    assert 4 <= polls.count <= 7  # every second, as max-age=1 asks
    assert page.locator("#reconnecting").is_hidden()
    polls.failing, polls.count = True, 0
    run_clock(page, polls, 60)
    # doubling delays after each failure (2-4 s, 4-8, 8-16 ... with jitter), not sixty a minute
    assert 2 <= polls.count <= 6, polls.count
    assert page.locator("#reconnecting").is_visible()  # the reader is told, quietly
    polls.failing = False
    run_clock(page, polls, 64)  # the next try (at most a minute away) succeeds
    assert page.locator("#reconnecting").is_hidden()
    publish(site, "After the outage")
    page.locator("#show-new").wait_for(state="attached", timeout=5_000)
    before = polls.count
    run_clock(page, polls, 4)
    assert polls.count - before >= 3  # back to polling every second
    page.locator("#show-new").wait_for(state="visible", timeout=5_000)


def set_hidden(page, hidden):
    page.evaluate("""hidden => {
        Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""", hidden)


def test_polling_slows_down_while_the_tab_is_hidden(site, page):
    page.clock.install()
    polls = ChangesPolls(page)
    open_blog(page, site.blog)
    run_clock(page, polls, 3)
    set_hidden(page, True)
    run_clock(page, polls, 2)  # the poll already scheduled still runs
    polls.count = 0
    run_clock(page, polls, 60)
    assert 1 <= polls.count <= 3, polls.count  # every 30 s instead of every second
    publish(site, "While you were away")
    polls.count = 0
    set_hidden(page, False)  # back on the tab: it catches up at once
    page.locator("#show-new").wait_for(state="visible", timeout=5_000)
    assert polls.count >= 1


def test_the_network_coming_back_is_polled_at_once(site, page):
    page.clock.install()
    polls = ChangesPolls(page)
    open_blog(page, site.blog)
    run_clock(page, polls, 2)
    polls.failing = True
    run_clock(page, polls, 20)  # backing off now: the next try is seconds away
    polls.failing, polls.count = False, 0
    page.evaluate("window.dispatchEvent(new Event('online'))")
    run_clock(page, polls, 1)
    assert polls.count >= 1
    # its answer hides the notice; the page's clock stands still meanwhile (no backed-off
    # retry can come), but on a loaded machine the answer may land after the clock's second
    page.locator("#reconnecting").wait_for(state="hidden", timeout=5_000)


def test_a_closed_blog_keeps_a_slow_poll_and_shows_a_reopen(site, page):
    page.clock.install()
    polls = ChangesPolls(page)
    open_blog(page, site.blog)
    run_clock(page, polls, 2)
    site.request("POST", f"/api/blogs/{site.slug}/close", headers=site.auth)
    run_clock(page, polls, 3)  # a poll learns it is closed: the badge says so
    assert page.locator("#status").text_content() == "Closed"
    run_clock(page, polls, 2)  # the poll already scheduled at the live pace
    polls.count = 0
    run_clock(page, polls, 32)
    # still polled, at the closed blog's max-age (8 s by default): not every second
    assert 3 <= polls.count <= 5, polls.count
    site.request("POST", f"/api/blogs/{site.slug}/reopen", headers=site.auth)
    publish(site, "Back on air")
    run_clock(page, polls, 10)
    assert page.locator("#status").text_content() == "Live"
    assert page.locator("#show-new").inner_text() == "1 new post"
    # the count says what the page shows: the post behind the button is counted once shown
    assert page.locator("#count").inner_text() == "0"
    # the list no longer says "No updates yet" while the button offers the first post
    assert page.locator("#empty").is_hidden()
    page.click("#show-new")
    assert feed_headlines(page) == ["Back on air"]
    assert page.locator("#count").inner_text() == "1"


def test_the_pills_never_cover_the_first_post(site, page):
    publish(site, "First")
    open_blog(page, site.blog)
    publish(site, "Second")
    page.locator("#show-new").wait_for(state="visible", timeout=10_000)
    page.evaluate("document.getElementById('reconnecting').hidden = false")
    first_time = page.locator("#posts article.post .post-meta time").first.bounding_box()
    for pill in ("#show-new", "#reconnecting"):
        box = page.locator(pill).bounding_box()
        assert box["y"] + box["height"] <= first_time["y"] or \
            box["y"] >= first_time["y"] + first_time["height"], (pill, box, first_time)


def test_no_empty_band_above_the_posts_until_there_is_news(site, page):
    publish(site, "First")
    open_blog(page, site.blog)
    assert page.locator(".new-posts").bounding_box()["height"] == 0
    publish(site, "Second")
    page.locator("#show-new").wait_for(state="visible", timeout=10_000)
    assert page.locator(".new-posts").bounding_box()["height"] > 20
