"""The blog inside a newsroom's article page, as the service answers it: the iframe embed (any
origin may frame it, unless EMBED_FRAME_ANCESTORS says which), the fragment a host page
includes (absolute URLs, cached as a page is), the JSON-LD for the host's head (its updates at
the host's permalinks) and the host's iframe script. In a browser: tests/e2e/test_embedding.py.
"""

from __future__ import annotations

import gzip
import json
import re

import pytest

from .api.helpers import create_blog, create_post
from .api.test_media import image_bytes, upload
from .test_json_ld import check_live_blog_posting

PUBLIC = "https://live.example.com"


@pytest.fixture
def app_config():
    return {"PUBLIC_URL": PUBLIC}


@pytest.fixture
def story(client, editor):
    blog = create_blog(client, editor, slug="night", authors=["Jane Roe"])
    image = upload(client, editor, image_bytes(size=(1600, 900))).get_json()  # with srcset
    create_post(client, editor, blog["id"], headline="Polls close", key_event=True,
                body=[{"type": "image", "media_id": image["id"], "alt": "A queue"}])
    create_post(client, editor, blog["id"], headline="First count")
    return blog


def frame_ancestors(response):
    policy = response.headers["Content-Security-Policy"]
    return re.search(r"frame-ancestors ([^;]+)", policy).group(1).split()


def test_any_site_may_frame_the_embed_and_only_it(client, story):
    embed = client.get("/blogs/night/embed")
    assert embed.status_code == 200 and embed.mimetype == "text/html"
    assert frame_ancestors(embed) == ["*"]
    assert frame_ancestors(client.get("/blogs/night")) == ["'self'"]  # the site's own page
    html = embed.get_data(as_text=True)
    assert 'class="site"' not in html  # no site header or footer
    assert "Polls close" in html and "/frame.js" in html and 'href="#lb-post-' in html
    assert embed.headers["Cache-Control"].startswith("public")
    again = client.get("/blogs/night/embed", headers={"If-None-Match": embed.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("app_config", [{"EMBED_FRAME_ANCESTORS": [
    "https://news.example.com", "https://www.example.org"]}])
def test_embed_frame_ancestors_names_the_sites_that_may(client, editor):
    create_blog(client, editor, slug="night")
    assert frame_ancestors(client.get("/blogs/night/embed")) == [
        "'self'", "https://news.example.com", "https://www.example.org"]  # 'self': the console


def test_the_fragment_is_the_first_page_with_absolute_urls(client, editor, story):
    fragment = client.get("/blogs/night/fragment")
    assert fragment.status_code == 200 and fragment.mimetype == "text/html"
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and "<body" not in html  # children of the host's element
    posts = html[html.index('id="posts"'):]
    assert posts.index("First count") < posts.index("Polls close")  # newest first
    assert 'class="key-events"' in html
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert sources and all(s.startswith(PUBLIC + "/media/") for s in sources)
    for candidate in re.search(r'srcset="([^"]+)"', html).group(1).split(","):
        assert candidate.strip().startswith(PUBLIC + "/media/")
    assert client.get("/blogs/night/fragment", headers={
        "If-None-Match": fragment.headers["ETag"]}).status_code == 304
    # a new post is a new fragment
    create_post(client, editor, story["id"], headline="Second count")
    changed = client.get("/blogs/night/fragment", headers={
        "If-None-Match": fragment.headers["ETag"]})
    assert changed.status_code == 200 and "Second count" in changed.get_data(as_text=True)
    # the reader page's own images stay relative (same origin)
    assert '<img src="/media/' in client.get("/blogs/night").get_data(as_text=True)


def test_the_json_ld_links_updates_to_the_host_pages_permalinks(client, story):
    host = "https://news.example.com/2026/12/election"
    ld = client.get(f"/blogs/night/jsonld?permalink_base={host}")
    assert ld.status_code == 200 and ld.mimetype == "application/ld+json"
    data = ld.get_json(force=True)
    check_live_blog_posting(data)
    assert data["url"] == host
    assert [u["url"].split("#")[0] for u in data["liveBlogUpdate"]] == [host, host]
    assert all(u["url"].split("#")[1].startswith("lb-post-") for u in data["liveBlogUpdate"])
    # anything but an http(s) address is ignored: the reader page is the base
    fallback = client.get("/blogs/night/jsonld?permalink_base=javascript:alert(1)")
    assert fallback.get_json(force=True)["url"] == PUBLIC + "/blogs/night"


def test_the_hosts_iframe_script_is_at_a_fixed_url_kept_an_hour(client):
    script = client.get("/embed-frame.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert script.headers["Cache-Control"] == "public, max-age=3600"
    assert b"liveblog:height" in script.data
    assert client.get("/embed-frame.js", headers={
        "If-None-Match": script.headers["ETag"]}).status_code == 304


def test_a_missing_blog_is_a_404_everywhere(client):
    for path in ("embed", "fragment", "jsonld"):
        assert client.get(f"/blogs/nothing/{path}").status_code == 404


def test_the_fragment_is_a_declarative_shadow_root_with_its_styles(client, story):
    html = client.get("/blogs/night/fragment").get_data(as_text=True)
    assert html.lstrip().startswith('<template shadowrootmode="open">')
    assert html.rstrip().endswith("</template>")
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)">', html)
    assert [s.rsplit("/", 1)[-1].split("?")[0] for s in sheets] == ["liveblog.css", "theme.css"]
    assert all(s.startswith(PUBLIC + "/") for s in sheets)
    assert '<header class="story">' in html and "<h1>" in html
    # the sort form sends the reader to the reader page, not to the host's own origin
    assert f'action="{PUBLIC}/blogs/night"' in html
    hidden = client.get("/blogs/night/fragment?header=false").get_data(as_text=True)
    assert '<header class="story" hidden>' in hidden


def test_the_script_embed_is_one_closure_at_a_fixed_url_within_its_budget(client):
    script = client.get("/embed.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert script.headers["Cache-Control"] == "public, max-age=3600"
    assert script.headers["Access-Control-Allow-Origin"] == "*"
    code = script.get_data(as_text=True)
    assert code.startswith("(function () {") and code.rstrip().endswith("})();")
    for part in ("function liveblogMount(", "function liveblogConsent(",
                 "function liveblogVerify(", "data-liveblog"):
        assert part in code
    assert client.get("/embed.js", headers={
        "If-None-Match": script.headers["ETag"]}).status_code == 304
    # the budget: the script and the styles it brings, gzipped, at most 20 KB
    page = client.get("/blogs/nothing/embed")  # any page names the stylesheet's URL
    css_url = re.search(r'href="(/assets/[^"]+/liveblog.css)"', page.get_data(as_text=True))
    css = client.get(css_url.group(1)).data if css_url else None
    assert css, "the stylesheet's URL"
    size = len(gzip.compress(script.data, 9)) + len(gzip.compress(css, 9))
    print(f"embed.js with its styles: {size} bytes gzipped")
    assert size <= 20 * 1024


def test_public_reader_answers_may_be_read_by_any_origin(client, story):
    cursor = client.get("/api/blogs/night").get_json()["cursor"]
    for path in (f"/blogs/night/live?since={cursor}", "/blogs/night/fragment",
                 "/blogs/night/fragments?ids=x", "/blogs/night/theme.css"):
        assert client.get(path).headers["Access-Control-Allow-Origin"] == "*", path


def patch_theme(client, editor, blog, theme):
    etag = client.get(f"/api/blogs/{blog}").headers["ETag"]
    return client.patch(f"/api/blogs/{blog}", json={"theme": theme},
                        headers={**editor, "If-Match": etag})


def test_an_editor_sets_a_theme_that_pages_and_embeds_wear(client, editor, story):
    logo = upload(client, editor, image_bytes(size=(240, 60))).get_json()
    changed = patch_theme(client, editor, "night", {
        "accent": "#FFD400", "font_family": "'Source Serif 4', Georgia, serif",
        "color_scheme": "auto", "logo_media_id": logo["id"]})
    assert changed.status_code == 200, changed.get_json()
    theme = changed.get_json()["theme"]
    assert theme == {"accent": "#FFD400", "font_family": "'Source Serif 4', Georgia, serif",
                     "color_scheme": "auto", "logo_media_id": logo["id"],
                     "logo_url": logo["url"], "logo_width": 240, "logo_height": 60}
    assert client.get("/api/blogs/night").get_json()["theme"] == theme
    css = client.get("/blogs/night/theme.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    text = css.get_data(as_text=True)
    assert "--theme-accent: #FFD400;" in text
    assert "--theme-on-accent: #000000;" in text  # black reads better on yellow
    assert '--theme-font: "Source Serif 4", "Georgia", serif;' in text
    assert "@media (prefers-color-scheme: dark)" in text and "--theme-background: #121212" in text
    assert client.get("/blogs/night/theme.css", headers={
        "If-None-Match": css.headers["ETag"]}).status_code == 304
    for page in ("/blogs/night", "/blogs/night/embed", "/blogs/night/fragment"):
        html = client.get(page).get_data(as_text=True)
        assert "/blogs/night/theme.css" in html, page
        assert f'{logo["url"]}" alt="" width="240" height="60"' in html, page
    dark = patch_theme(client, editor, "night", {"color_scheme": "dark"})
    dark_css = client.get("/blogs/night/theme.css").get_data(as_text=True)
    assert dark.status_code == 200 and "@media" not in dark_css and "color-scheme: dark" in dark_css
    assert patch_theme(client, editor, "night", None).get_json()["theme"] is None
    assert "--theme" not in client.get("/blogs/night/theme.css").get_data(as_text=True)


@pytest.mark.parametrize("theme, field", [
    ({"accent": "red"}, "accent"),
    ({"accent": "#12345"}, "accent"),
    ({"font_family": "Arial; } body { display: none"}, "font_family"),
    ({"font_family": "\"Arial"}, "font_family"),
    ({"font_family": "Arial</style><script>"}, "font_family"),
    ({"font_family": "url(https://evil.example/x)"}, "font_family"),
    ({"color_scheme": "sepia"}, "color_scheme"),
    ({"logo_media_id": "0" * 64}, "logo_media_id"),
    ({"logo_media_id": "../etc/passwd"}, "logo_media_id"),
    ({"accent": "#000000", "background": "#ffffff"}, "background"),
])
def test_a_theme_that_is_not_one_is_refused_and_changes_nothing(client, editor, story, theme,
                                                                field):
    before = client.get("/blogs/night/theme.css").get_data()
    response = patch_theme(client, editor, "night", theme)
    assert response.status_code == 422, response.get_json()
    assert field in json.dumps(response.get_json())
    assert client.get("/blogs/night/theme.css").get_data() == before


def test_a_redaction_keeps_an_image_a_blog_has_as_its_logo(client, tokens, editor, story):
    image = upload(client, editor, image_bytes(color=(9, 8, 7))).get_json()
    assert patch_theme(client, editor, "night", {"logo_media_id": image["id"]}).status_code == 200
    post = create_post(client, editor, story["id"], headline="Logo too",
                       body=[{"type": "image", "media_id": image["id"]}])
    response = client.post(f"/api/blogs/night/posts/{post['id']}/redact",
                           json={"reason": "privacy request"},
                           headers=tokens.headers("legal", "Legal Desk"))
    assert response.status_code == 200
    assert client.get(image["url"]).status_code == 200
