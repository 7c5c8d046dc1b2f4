"""The blog on a newsroom's article page. The iframe embed, in Chromium: the page is served
from another origin (a process of its own) with a strict Content-Security-Policy that names
only our service; the iframe's height follows its content as posts arrive (no inner
scrollbar); a permalink into the host page opens its post, loading older pages as needed;
nothing is logged to the console and the policy is never violated. The server-side include,
through the shipped nginx article configuration: the posts are in the article's HTML, news
reaches it within max-age, and the page does not shift once painted."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request

import pytest

from tests.api.test_media import image_bytes
from tests.peers import HostPage

from .nginx import ARTICLE, Nginx
from .server import Server, editor_token
from .test_accessibility import audit

pytestmark = [pytest.mark.slow, pytest.mark.browser]

FAST_POLLS = {"LIVEBLOG_CACHE_MAX_AGE": "1"}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    db = tmp_path_factory.mktemp("embedding") / "embedding.db"
    server = Server(db, workers=1, extra_env=FAST_POLLS)
    server.auth = {"Authorization": f"Bearer {editor_token(db)}"}
    assert server.request("POST", "/api/blogs", {"title": "Election night", "slug": "night"},
                          server.auth).status == 201
    server.posts = [publish(server, f"Update {i}") for i in range(25)]  # two pages
    yield server
    server.stop()


@pytest.fixture(scope="module")
def host(service):
    page = HostPage()
    page.show(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Election night: our story</title></head><body>
<h1>Election night</h1><p>The newsroom's own introduction.</p>
<iframe src="{service.base}/blogs/night/embed" title="Live updates" style="width:100%;border:0"
        loading="eager"></iframe>
<p id="after">The newsroom's own footer.</p>
<script src="{service.base}/embed-frame.js" async></script>
</body></html>""", f"default-src 'none'; script-src {service.base}; frame-src {service.base};"
                     " style-src 'unsafe-inline'")
    yield page
    page.stop()


def publish(server, headline):
    reply = server.request("POST", "/api/blogs/night/posts", {"headline": headline},
                           server.auth)
    assert reply.status == 201, reply.json()
    return reply.json()


@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    opened = context.new_page()
    opened.problems = []
    opened.on("console", lambda m: opened.problems.append(m.text) if m.type in (
        "error", "warning") else None)
    opened.on("pageerror", lambda e: opened.problems.append(str(e)))
    yield opened
    context.close()


def frame_of(tab):
    frame = next(f for f in tab.frames if "/blogs/night/embed" in f.url)
    frame.wait_for_selector("html[data-live=ready]")
    return frame


def fitted(tab, frame):
    """The iframe's height, once it equals its document's (within a pixel)."""
    inner = frame.evaluate("Math.ceil(document.documentElement.getBoundingClientRect().height)")
    tab.wait_for_function("h => Math.abs(document.querySelector('iframe')"
                          ".getBoundingClientRect().height - h) <= 1", arg=inner)
    return inner


def test_the_iframe_fits_its_content_as_posts_arrive(service, host, tab):
    tab.goto(host.url)
    frame = frame_of(tab)
    first = fitted(tab, frame)
    assert first > 1000  # twenty posts, not the 150 px of an iframe left alone
    assert frame.evaluate("document.scrollingElement.scrollHeight <="
                          " window.innerHeight + 1")  # no inner scrollbar
    publish(service, "Late result")
    frame.locator("#show-new").wait_for(state="visible", timeout=10_000)
    frame.locator("#show-new").click()
    frame.locator("#posts article.post h2", has_text="Late result").wait_for()
    assert fitted(tab, frame) > first
    # a post's time links to the host page's permalink, opened on the whole page
    link = frame.locator("#posts a.permalink").first
    assert link.get_attribute("href").startswith(host.url + "#lb-post-")
    assert link.get_attribute("target") == "_top"
    assert tab.problems == []


def test_a_permalink_into_the_host_page_opens_an_older_post(service, host, tab):
    oldest = service.posts[0]  # on the second page of the feed
    tab.goto(f"{host.url}#lb-post-{oldest['id']}")
    frame = frame_of(tab)
    frame.locator(f"#post-{oldest['id']}").wait_for(timeout=10_000)
    # the host page scrolled to it: its top is on screen
    tab.wait_for_function("() => window.scrollY > 500")
    box = frame.locator(f"#post-{oldest['id']}").bounding_box()
    assert 0 <= box["y"] < 700
    assert tab.problems == []


@pytest.fixture(scope="module")
def results(service):
    """A second blog, "results": two posts, the first with an uploaded image (srcset)."""
    assert service.request("POST", "/api/blogs", {"title": "Results desk", "slug": "results"},
                           service.auth).status == 201
    image = urllib.request.Request(f"{service.base}/api/media", data=image_bytes(size=(1600, 900)),
                                   headers={**service.auth, "Content-Type": "image/png"})
    with urllib.request.urlopen(image, timeout=10) as reply:
        media_id = json.loads(reply.read())["id"]
    posts = [service.request("POST", "/api/blogs/results/posts", post, service.auth)
             for post in ({"headline": "Turnout at 64%", "body": [
                              {"type": "image", "media_id": media_id, "alt": "A queue",
                               "credit": "Jane Roe"}]},
                          {"headline": "Counting starts",
                           "body": [{"type": "quote", "text": "Every vote counts.",
                                     "attribution": "The returning officer"}]})]
    assert [p.status for p in posts] == [201, 201]
    return [p.json() for p in posts]


def test_two_blogs_on_one_page_each_fit_and_pass_axe(service, results, host, browser):
    two = HostPage()
    try:
        two.show(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Two stories</title></head><body><main><h1>Two stories</h1>
<iframe src="{service.base}/blogs/night/embed" title="Live: the night"
        style="width:100%;border:0"></iframe>
<iframe src="{service.base}/blogs/results/embed" title="Live: results"
        style="width:100%;border:0"></iframe>
</main><script src="{service.base}/embed-frame.js" async></script></body></html>""",
                 f"default-src 'none'; script-src {service.base}; frame-src {service.base};"
                 " style-src 'unsafe-inline'")
        for width in (1000, 390):  # a desktop, a phone
            context = browser.new_context(viewport={"width": width, "height": 800})
            try:
                tab = context.new_page()
                tab.goto(two.url)
                frames = [next(f for f in tab.frames if f"/blogs/{slug}/embed" in f.url)
                          for slug in ("night", "results")]
                for index, frame in enumerate(frames):
                    frame.wait_for_selector("html[data-live=ready]")
                    inner = frame.evaluate(
                        "Math.ceil(document.documentElement.getBoundingClientRect().height)")
                    tab.wait_for_function(
                        "([i, h]) => Math.abs(document.querySelectorAll('iframe')[i]"
                        ".getBoundingClientRect().height - h) <= 1", arg=[index, inner])
                    assert audit(frame) == [], (width, index)
            finally:
                context.close()
    finally:
        two.stop()


def test_the_reader_page_opens_its_own_permalinks(service, browser):
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    try:
        page = context.new_page()
        oldest = service.posts[0]
        page.goto(f"{service.base}/blogs/night#lb-post-{oldest['id']}")
        page.locator(f"#post-{oldest['id']}").wait_for(timeout=10_000)
        page.wait_for_function("() => window.scrollY > 500")
        assert page.evaluate("document.activeElement.dataset.postId") == oldest["id"]
    finally:
        context.close()


STRICT = ("default-src 'none'; script-src {s}; connect-src {s}; img-src {s}; style-src {s}")
NIGHT, RESULTS = "[data-liveblog$='/night']", "[data-liveblog$='/results']"


def script_host(service, body):
    """A newsroom's page on another origin that loads embed.js, with a policy that names only
    the service (no inline script or style, no other origin)."""
    page = HostPage()
    page.show(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Election night: our story</title></head><body><main>
<h1>Our story</h1><p>The newsroom's own introduction.</p>
{body}
<p id="after">The newsroom's own footer.</p></main>
<script async src="{service.base}/embed.js"></script></body></html>""",
              STRICT.format(s=service.base))
    return page


@pytest.fixture(scope="module")
def scripted(service, results):
    """Two blogs on one host page, the second without its header, oldest first."""
    page = script_host(service, f"""<div data-liveblog="{service.base}/blogs/night"></div>
<div data-liveblog="{service.base}/blogs/results" data-header="false"
     data-order="oldest"></div>""")
    yield page
    page.stop()


def watch_policy(tab):
    """Collect the page's Content-Security-Policy violations (window.violations)."""
    tab.add_init_script("window.violations = []; document.addEventListener("
                        "'securitypolicyviolation', e => window.violations.push("
                        "e.violatedDirective + ' ' + e.blockedURI));")


def embeds_ready(tab):
    tab.wait_for_function("() => [...document.querySelectorAll('[data-liveblog]')]"
                          ".every(e => e.dataset.live === 'ready')", timeout=10_000)


def test_the_script_embed_shows_two_blogs_live_on_a_strict_host_page(service, results,
                                                                     scripted, tab):
    watch_policy(tab)
    tab.goto(scripted.url)
    embeds_ready(tab)
    night, desk = tab.locator(NIGHT), tab.locator(RESULTS)
    assert tab.evaluate("[...document.querySelectorAll('[data-liveblog]')]"
                        ".every(e => e.shadowRoot && e.shadowRoot.mode === 'open')")
    assert night.locator("#posts article.post").count() == 20
    assert night.locator("h1").inner_text() == "Election night"
    assert not desk.locator("header.story").is_visible()  # data-header="false"
    assert desk.locator("#posts article.post h2").all_inner_texts() == [
        "Turnout at 64%", "Counting starts"]  # data-order="oldest"
    image = desk.locator("figure img")
    assert image.get_attribute("srcset").startswith(service.base + "/media/")
    image.scroll_into_view_if_needed()
    tab.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=image.element_handle())
    assert desk.locator("blockquote").inner_text().startswith("Every vote counts.")
    # the reader page's styles, inside the shadow root: the live badge is the house red
    assert night.locator("#status").evaluate(
        "e => getComputedStyle(e).backgroundColor") == "rgb(176, 0, 32)"
    # and nothing of them outside it: the host's own paragraph keeps the browser's font
    assert "Georgia" not in tab.locator("#after").evaluate("e => getComputedStyle(e).fontFamily")
    link = night.locator("#posts a.permalink").first
    assert link.get_attribute("href").startswith(scripted.url + "#lb-post-")
    # "Verify" asks the service across origins, and checks the proof in the host's page
    newest = night.locator("#posts article.post").first
    newest.locator("button.verify").click()
    newest.locator(".verify-result.verified").wait_for(timeout=15_000)
    # news reaches it through the same /live poll, within max-age and a few seconds
    publish(service, "Script embed news")
    night.locator("#show-new").wait_for(state="visible", timeout=1_000 + 5_000)
    night.locator("#show-new").click()
    night.locator("#posts article.post h2", has_text="Script embed news").wait_for()
    assert tab.problems == [] and tab.evaluate("window.violations") == []


def test_a_permalink_into_the_host_page_opens_an_older_post_in_the_script_embed(
        service, scripted, tab):
    oldest = service.posts[0]  # on the second page of the feed
    tab.goto(f"{scripted.url}#lb-post-{oldest['id']}")
    post = tab.locator(f"{NIGHT} #post-{oldest['id']}")
    post.wait_for(timeout=10_000)
    tab.wait_for_function("() => window.scrollY > 500")
    box = post.bounding_box()
    assert -1 < box["y"] < 700  # at the top (within a subpixel)
    assert tab.problems == []


@pytest.mark.parametrize("width", [1000, 390], ids=["desktop", "phone"])
def test_the_script_embed_passes_axe_inside_its_shadow_roots(scripted, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    try:
        tab = context.new_page()
        tab.goto(scripted.url)
        embeds_ready(tab)
        assert audit(tab) == []
    finally:
        context.close()


@pytest.fixture(scope="module")
def themed(service):
    """A blog in a dark theme with its own accent and font."""
    assert service.request("POST", "/api/blogs", {"title": "After dark", "slug": "dark"},
                           service.auth).status == 201
    publish_to = service.request("POST", "/api/blogs/dark/posts", {"headline": "Night shift"},
                                 service.auth)
    assert publish_to.status == 201
    etag = service.request("GET", "/api/blogs/dark").headers["ETag"]
    themed = service.request("PATCH", "/api/blogs/dark", {"theme": {
        "accent": "#005a9c", "color_scheme": "dark", "font_family": "Verdana, sans-serif"}},
        {**service.auth, "If-Match": etag})
    assert themed.status == 200, themed.json()
    return themed.json()


def test_the_blog_theme_and_the_host_page_custom_properties_style_the_embed(service, themed,
                                                                            tab):
    page = script_host(service, f'<div data-liveblog="{service.base}/blogs/dark"></div>')
    try:
        tab.goto(page.url)
        embeds_ready(tab)
        embed = tab.locator("[data-liveblog]")
        style = "(e, p) => getComputedStyle(e)[p]"
        assert embed.evaluate(style, "backgroundColor") == "rgb(18, 18, 18)"  # dark
        assert embed.locator("#status").evaluate(style, "backgroundColor") == "rgb(0, 90, 156)"
        assert "Verdana" in embed.locator("h1").evaluate(style, "fontFamily")
        assert tab.problems == [], "\n".join(tab.problems)
        assert audit(tab) == []  # (axe's own inline style is refused by the host: said after)
        # the host's own custom properties have the last word
        embed.evaluate("e => { e.style.setProperty('--lb-accent', '#7a0019');"
                       " e.style.setProperty('--lb-background', '#fffdf5');"
                       " e.style.setProperty('--lb-text', '#222222');"
                       " e.style.setProperty('--lb-font-family', 'Georgia, serif'); }")
        assert embed.locator("#status").evaluate(style, "backgroundColor") == "rgb(122, 0, 25)"
        assert embed.evaluate(style, "backgroundColor") == "rgb(255, 253, 245)"
        assert embed.locator("h1").evaluate(style, "fontFamily").startswith("Georgia")
    finally:
        page.stop()
    # the reader page wears the same theme
    tab.goto(f"{service.base}/blogs/dark")
    tab.wait_for_selector("html[data-live=ready]")
    assert tab.locator("body").evaluate(style, "backgroundColor") == "rgb(18, 18, 18)"
    assert tab.locator("#status").evaluate(style, "backgroundColor") == "rgb(0, 90, 156)"
    assert audit(tab) == []


ARTICLE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Election night: our story</title><link rel="icon" href="data:,">
<script type="application/ld+json"><!--# include
  virtual="/liveblog/night/jsonld?permalink_base=http://news.example.com/election" --></script>
</head><body>
<h1>Election night</h1><p>The newsroom's own introduction.</p>
<div data-liveblog="{service}/blogs/night">
<!--# include virtual="/liveblog/night/fragment" -->
</div>
<p id="after">The newsroom's own footer.</p>
<script async src="{service}/embed.js"></script>
</body></html>"""


@pytest.fixture(scope="module")
def article(service, tmp_path_factory):
    """The shipped article server (deploy/nginx/article-ssi.conf), its page including the
    blog."""
    proxy = Nginx(tmp_path_factory.mktemp("article"), service.port, ARTICLE)
    (proxy.folder / "article" / "election.html").write_text(
        ARTICLE_PAGE.replace("{service}", service.base))
    proxy.url = f"{proxy.base}/election.html"
    yield proxy
    proxy.stop()


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def test_a_server_side_include_puts_the_posts_in_the_article_itself(service, article, tab):
    html = fetch(article.url)
    assert "<!--#" not in html and "Update 24" in html and 'id="posts"' in html
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html,
                              re.S).group(1))
    assert ld["@type"] == "LiveBlogPosting" and ld["url"] == "http://news.example.com/election"
    # the blog's news reaches the article within the service's max-age, through the cache
    publish(service, "Included news")
    deadline = time.monotonic() + 1 + 5
    while "Included news" not in fetch(article.url):
        assert time.monotonic() < deadline, "the include never showed the new post"
        time.sleep(0.25)
    # browsers cannot ask the include's location themselves
    with pytest.raises(urllib.error.HTTPError) as refused:
        fetch(f"{article.base}/liveblog/night/fragment")
    assert refused.value.code == 404
    refused.value.close()
    # the first paint is the posts: nothing moves once the page is there
    asked = []
    tab.on("request", lambda r: asked.append(r.url))
    tab.goto(article.url)
    tab.wait_for_load_state("load")
    shift = tab.evaluate("""() => new Promise(done => {
        let total = 0;
        new PerformanceObserver(list => { for (const e of list.getEntries())
            if (!e.hadRecentInput) total += e.value; })
          .observe({type: "layout-shift", buffered: true});
        setTimeout(() => done(total), 1000);
    })""")
    assert shift <= 0.1
    print(f"cumulative layout shift of the included article page: {shift:.4f}")
    # embed.js took the included posts over: not fetched again, not shown twice, and live
    embeds_ready(tab)
    assert tab.locator("#posts article.post").count() == 20
    assert not [url for url in asked if "/fragment" in url]
    publish(service, "News after the include")
    tab.locator("#show-new").wait_for(state="visible", timeout=1_000 + 5_000)
    assert tab.problems == []
