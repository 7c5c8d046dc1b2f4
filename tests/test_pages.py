"""The HTML pages without a browser: times, bylines, Atom, JSON-LD, Open Graph, 404s."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from liveblog.i18n import display_time, words

from .api.helpers import create_blog, create_post

byline_text = words("en-US").byline

ATOM = "{http://www.w3.org/2005/Atom}"


def test_times_read_like_a_newsroom_in_the_blogs_zone():
    assert display_time("2022-01-22T02:06:00.000000Z", "America/New_York") == \
        "9:06 p.m. ET, January 21, 2022"
    assert display_time("2022-07-04T16:00:00.000000Z", "America/Los_Angeles") == \
        "9:00 a.m. PT, July 4, 2022"
    assert display_time("2022-01-21T12:05:00.000000Z", "Europe/Kyiv") == \
        "2:05 p.m. EET, January 21, 2022"
    assert display_time("2022-01-21T00:30:00.000000Z", "UTC") == \
        "12:30 a.m. UTC, January 21, 2022"


def test_the_hour_a_clock_goes_back_says_which_one_it_is():
    # 1:30 a.m. happened twice in New York on November 6, 2022: first EDT, then EST
    assert display_time("2022-11-06T05:30:00.000000Z", "America/New_York") == \
        "1:30 a.m. EDT, November 6, 2022"
    assert display_time("2022-11-06T06:30:00.000000Z", "America/New_York") == \
        "1:30 a.m. EST, November 6, 2022"
    assert display_time("2022-11-06T07:30:00.000000Z", "America/New_York") == \
        "2:30 a.m. ET, November 6, 2022"
    # and in London on October 30, 2022 (BST, then GMT)
    assert display_time("2022-10-30T00:30:00.000000Z", "Europe/London") == \
        "1:30 a.m. BST, October 30, 2022"
    assert display_time("2022-10-30T01:30:00.000000Z", "Europe/London") == \
        "1:30 a.m. GMT, October 30, 2022"
    # the spring-forward day: 2:30 a.m. never happened; 3:30 a.m. is plain ET
    assert display_time("2022-03-13T07:30:00.000000Z", "America/New_York") == \
        "3:30 a.m. ET, March 13, 2022"


def test_a_post_shows_its_time_with_its_date(client, editor, clock):
    blog = create_blog(client, editor, slug="dated", timezone="America/New_York")
    create_post(client, editor, blog["id"], headline="Late", display_time="2022-01-22T02:06:00Z")
    html = client.get("/blogs/dated").get_data(as_text=True)
    assert "9:06 p.m. ET, January 21, 2022</time></a>" in html


def test_bylines():
    assert byline_text({"contributors": ["Jane Roe", "John Doe"], "location": "Kyiv"}) == \
        "From Jane Roe and John Doe in Kyiv"
    assert byline_text({"contributors": ["A", "B", "C"]}) == "From A, B and C"
    assert byline_text({"contributors": []}) == ""


def test_reader_page_has_metadata_for_search_engines_and_shares(client, editor):
    blog = create_blog(client, editor, title="Storm & sea", slug="storm",
                       description="Live coverage", authors=["Jane Roe"])
    create_post(client, editor, blog["id"], headline="Waves </script><b>",
                body=[{"type": "image", "url": "https://img.example/a.jpg", "alt": "waves"}])
    html = client.get("/blogs/storm").get_data(as_text=True)
    assert "<title>Storm &amp; sea: live updates</title>" in html
    assert '<meta property="og:image" content="https://img.example/a.jpg">' in html
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html,
                              re.S).group(1))
    assert ld["@type"] == "LiveBlogPosting" and ld["headline"] == "Storm & sea"
    assert ld["coverageStartTime"] == blog["created_at"]
    # live: coverage runs to when the blog would be archived (30 days without news)
    assert ld["coverageEndTime"] == "2022-02-20T13:31:00.000000Z"
    assert ld["liveBlogUpdate"][0]["headline"] == "Waves"
    client.post(f"/api/blogs/{blog['id']}/close", headers=editor)
    html = client.get("/blogs/storm").get_data(as_text=True)
    assert '"coverageEndTime"' in html


def test_pinned_posts_keep_their_place_with_distinct_ids(client, editor):
    blog = create_blog(client, editor, slug="pins")
    post = create_post(client, editor, blog["id"], pinned=True, key_event=True)
    html = client.get("/blogs/pins").get_data(as_text=True)
    assert html.count(f'id="pinned-{post["id"]}"') == 1
    assert html.count(f'id="post-{post["id"]}"') == 1
    assert 'class="key-events"' in html


def test_atom_feed(client, editor):
    blog = create_blog(client, editor, title="Night & day", slug="atom")
    create_post(client, editor, blog["id"], headline="Polls close",
                body=[{"type": "paragraph", "text": "Counting <b>now</b> & later"}])
    response = client.get("/blogs/atom/feed.atom")
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.find(f"{ATOM}title").text == "Night & day"
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == "Polls close"
    assert "<b>now</b>" in entry.find(f"{ATOM}content").text


def test_index_lists_live_blogs_first(client, editor):
    old = create_blog(client, editor, title="Old story")
    create_blog(client, editor, title="New story")
    client.post(f"/api/blogs/{old['id']}/close", headers=editor)
    html = client.get("/").get_data(as_text=True)
    assert html.index("New story") < html.index("Old story")


def test_unknown_blog_page_is_an_html_404(client):
    response = client.get("/blogs/nope")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert client.get("/blogs/nope/feed.atom").status_code == 404


def test_pages_work_without_script(client, editor):
    blog = create_blog(client, editor, slug="nojs")
    for i in range(23):
        create_post(client, editor, blog["id"], headline=f"p{i}")
    html = client.get("/blogs/nojs").get_data(as_text=True)
    link = re.search(r'id="load-more" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    older = client.get(f"/blogs/nojs{link}").get_data(as_text=True)
    assert older.count('<article class="post') == 3
    oldest = client.get("/blogs/nojs?order=oldest").get_data(as_text=True)
    assert oldest.index(">p0<") < oldest.index(">p1<")


def test_pages_and_api_send_security_headers(client, editor):
    create_blog(client, editor, slug="storm")
    for path in ("/", "/blogs/storm", "/console", "/docs", "/blogs/nope"):
        response = client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "object-src 'none'" in policy, path
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    api = client.get("/api/blogs/storm/posts")
    assert api.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    problem = client.get("/api/blogs/nope/posts")
    assert problem.status_code == 404
    assert problem.headers["X-Content-Type-Options"] == "nosniff"
    unchanged = client.get("/api/blogs/storm/posts", headers={"If-None-Match": api.headers["ETag"]})
    assert unchanged.status_code == 304  # the poll's hot path stays lean: validators only
    assert "Content-Security-Policy" not in unchanged.headers


def test_the_demos_images_say_their_size_so_the_page_does_not_jump(app, client):
    from liveblog.api.views import service
    from liveblog.demo import SLUG, ensure_demo

    with app.app_context():
        ensure_demo(service(), "https://live.example.com")
    page = client.get(f"/blogs/{SLUG}").get_data(as_text=True)
    images = re.findall(r"<img [^>]*>", page)
    assert len(images) >= 3
    for image in images:
        assert re.search(r'width="\d+"', image) and re.search(r'height="\d+"', image), image


def test_an_image_from_elsewhere_may_give_its_size_both_numbers_or_neither(client, editor):
    blog = create_blog(client, editor, slug="sized")
    posts = f"/api/blogs/{blog['id']}/posts"
    image = {"type": "image", "url": "https://example.com/a.png", "width": 800, "height": 450}
    made = client.post(posts, json={"headline": "Sized", "body": [image]}, headers=editor)
    assert made.status_code == 201, made.get_json()
    assert '<img src="https://example.com/a.png" alt="" width="800" height="450"' in \
        client.get("/blogs/sized").get_data(as_text=True)
    lone = client.post(posts, json={"headline": "Half", "body": [
        {"type": "image", "url": "https://example.com/a.png", "width": 800}]}, headers=editor)
    assert lone.status_code == 422
    assert "body.0.height" in json.dumps(lone.get_json()["errors"])
