"""Readers through a real nginx with the shipped generic cache configuration, in real browsers:
the origin's load does not grow with the audience, and every change reaches every reader
within max-age + 3 s (new posts, edits and deletes)."""

from __future__ import annotations

import time

import pytest

from .nginx import Nginx
from .server import Server, editor_token

pytestmark = [pytest.mark.slow, pytest.mark.browser]

MAX_AGE = 2


@pytest.fixture
def cached(tmp_path):
    db = tmp_path / "cached.db"
    token = editor_token(db)
    log = tmp_path / "origin.log"
    origin = Server(db, workers=1, extra_args=("--access-log", str(log)),
                    extra_env={"LIVEBLOG_CACHE_MAX_AGE": str(MAX_AGE),
                               "LIVEBLOG_PUBLIC_URL": "https://live.example.com"})
    origin.auth = {"Authorization": f"Bearer {token}"}
    origin.log = log
    proxy = Nginx(tmp_path / "nginx", origin.port)
    origin.request("POST", "/api/blogs", {"title": "Cached", "slug": "cached"}, origin.auth)
    try:
        yield origin, proxy
    finally:
        proxy.stop()
        origin.stop()


def origin_reads(origin) -> int:
    """GETs the origin has answered (readers' requests the cache passed on)."""
    return sum(1 for line in origin.log.read_text().splitlines() if '"GET ' in line)


#: installed in each reader before a change: notes (in the page, at once) when ``selector``
#: first holds ``wanted``, so the measure is the page's, not this test's round trips
WATCH = """([selector, wanted]) => {
    window.__arrived = null;
    // wanted: the text, or [">=" or "<=", a number the element's text starts with]
    const holds = (el) => {
        const shown = el.hidden ? "" : el.textContent.trim();
        if (!Array.isArray(wanted)) return shown === wanted;
        const n = parseInt(shown, 10) || 0;
        return wanted[0] === ">=" ? n >= wanted[1] : n <= wanted[1];
    };
    const check = () => {
        const el = document.querySelector(selector);
        if (window.__arrived === null && el && holds(el)) {
            window.__arrived = Date.now();
        }
    };
    check();
    new MutationObserver(check).observe(document.body,
        {subtree: true, childList: true, characterData: true});
}"""


def change_and_time(pages, selector, wanted, change, limit):
    """Seconds from ``change()`` to the slowest reader showing ``wanted`` in ``selector``."""
    for page in pages:  # ``wanted`` may depend on what the page shows now
        page.evaluate(WATCH, [selector, wanted(page) if callable(wanted) else wanted])
    began = time.time() * 1000
    change()
    deadline = time.monotonic() + limit + 2
    arrived = [None] * len(pages)
    while time.monotonic() < deadline and None in arrived:
        time.sleep(0.2)
        arrived = [page.evaluate("window.__arrived") for page in pages]
    late = [i for i, at in enumerate(arrived) if at is None]
    shown = [text(pages[i], selector) for i in late]
    assert not late, f"readers {late} of {len(pages)} never showed {wanted!r} in {selector}" \
        f" (they show {shown})"
    return (max(arrived) - began) / 1000


def _waiting(page) -> int:
    return int(page.evaluate("""() => { const b = document.getElementById('show-new');
        return b.hidden ? 0 : parseInt(b.textContent, 10); }"""))


def one_more_waiting(page) -> list:
    """One more post behind the button than the page shows now (a page a poll brings two
    changes at once counts too)."""
    return [">=", _waiting(page) + 1]


def one_fewer_waiting(page) -> list:
    return ["<=", _waiting(page) - 1]


def text(page, selector):
    """The element's text now ("" when there is none): no waiting."""
    return " ".join(page.locator(selector).all_text_contents())


def read_for(origin, pages, seconds, label):
    """Publish, edit and delete while ``pages`` read; returns origin GETs per second and the
    slowest arrival of a change at a reader (the page's post count, the edited headline)."""
    before, started = origin_reads(origin), time.monotonic()
    total = origin.request("GET", "/api/blogs/cached").json()["post_count"]
    limit = MAX_AGE + 3
    delays = []
    created = []

    def publish(i):
        created.append(origin.request("POST", "/api/blogs/cached/posts",
                                      {"headline": f"{label} news {i}"}, origin.auth).json())

    # a new post waits behind the "new posts" button (the count counts it once shown): its
    # arrival is one more on the button (a page a cache served a little old may have some
    # waiting already)
    for i in range(3):
        total += 1
        delays.append(change_and_time(pages, "#show-new", one_more_waiting,
                                      lambda i=i: publish(i), limit))
        time.sleep(1)
    first = origin.first  # every reader has had it since the page opened

    def edit():
        origin.request("PATCH", f"/api/blogs/cached/posts/{first['id']}",
                       {"headline": f"{label} corrected"},
                       {**origin.auth, "If-Match": f'"{first["version"]}"'})
        first["version"] += 1

    delays.append(change_and_time(pages, f"#post-{first['id']}-headline", f"{label} corrected",
                                  edit, limit))
    total -= 1
    delays.append(change_and_time(  # a waiting post deleted: one fewer behind the button
        pages, "#show-new", one_fewer_waiting, lambda: origin.request(
            "DELETE", f"/api/blogs/cached/posts/{created[0]['id']}", headers=origin.auth),
        limit))
    remaining = seconds - (time.monotonic() - started)
    if remaining > 0:
        time.sleep(remaining)
    return (origin_reads(origin) - before) / (time.monotonic() - started), max(delays)


def open_readers(browser, proxy, count):
    contexts, pages = [], []
    for _ in range(count):
        context = browser.new_context()  # a reader of its own: its own browser cache
        page = context.new_page()
        page.goto(proxy.base + "/blogs/cached")
        page.wait_for_selector("html[data-live=ready]")
        contexts.append(context)
        pages.append(page)
    return contexts, pages


def settle(origin, pages, limit=20):
    """Wait until every reader polls and has caught up with the blog's last change (its
    "Updated" time is the blog's). A reader the cache served an old page catches up over a
    few polls, each answered with what the cache holds: measured before then, a change may
    come with the delete of a post the page still counted."""
    time.sleep(MAX_AGE + 1)
    latest = origin.request("GET", "/api/blogs/cached").json()["updated_at"]
    shown = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        shown = [page.get_attribute("#updated", "datetime") for page in pages]
        if all(at == latest for at in shown):
            return
        time.sleep(0.2)
    raise AssertionError(f"readers never caught up with the blog (updated {latest}): {shown}")


def test_origin_load_does_not_grow_with_readers_and_changes_arrive_in_time(cached, browser):
    origin, proxy = cached
    origin.first = origin.request("POST", "/api/blogs/cached/posts", {"headline": "Opening"},
                                  origin.auth).json()
    results = {}
    for count in (3, 9):
        contexts, pages = open_readers(browser, proxy, count)
        try:
            settle(origin, pages)
            results[count] = read_for(origin, pages, 20, f"r{count}")
        finally:
            for context in contexts:
                context.close()
    (few, few_slowest), (many, many_slowest) = results[3], results[9]
    assert few_slowest <= MAX_AGE + 3 and many_slowest <= MAX_AGE + 3
    # three times the readers, not three times the origin's work
    assert many <= 1.5 * few + 0.2, (few, many)
    # and the cache passes editors' requests through: the token is never cached
    assert "Authorization" in origin.auth
    editor_view = origin.request("GET", "/api/blogs/cached/posts", headers=origin.auth)
    assert editor_view.headers["Cache-Control"].startswith("private")
