"""The blog inside a newsroom's article page, as the service answers it: the iframe embed (any
origin may frame it, unless EMBED_FRAME_ANCESTORS says which), the fragment a host page
includes (absolute URLs, cached as a page is), the JSON-LD for the host's head (its updates at
the host's permalinks) and the host's iframe script. In a browser: tests/e2e/test_embedding.py.
"""

from __future__ import annotations

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
        "https://news.example.com", "https://www.example.org"]


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
