"""The reader page's JSON-LD, checked against what schema.org's LiveBlogPosting and Google's
live-blog guidance expect of it."""

from __future__ import annotations

import json
import re
from datetime import datetime
from urllib.parse import urlsplit

from .api.helpers import create_blog, create_post


def json_ld(client, slug):
    html = client.get(f"/blogs/{slug}").get_data(as_text=True)
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html,
                                re.S).group(1))


def when(value):
    assert isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT.*(Z|[+-]\d\d:\d\d)", value)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def absolute(url):
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.netloc, url
    return url


def people(value):
    assert isinstance(value, list) and value
    for person in value:
        assert person["@type"] == "Person" and person["name"].strip()
    return [p["name"] for p in value]


def check_live_blog_posting(ld):
    """The properties a LiveBlogPosting must or should carry, each of the right kind."""
    assert ld["@context"] == "https://schema.org" and ld["@type"] == "LiveBlogPosting"
    assert ld["headline"].strip()
    absolute(ld["url"])
    assert ld["mainEntityOfPage"] == {"@type": "WebPage", "@id": ld["url"]}
    assert when(ld["coverageStartTime"]) <= when(ld["coverageEndTime"])
    assert when(ld["datePublished"]) <= when(ld["dateModified"])
    for url in ld.get("image", []):
        absolute(url)
    for update in ld["liveBlogUpdate"]:
        assert update["@type"] == "BlogPosting" and update["headline"].strip()
        when(update["datePublished"])
        assert when(update["datePublished"]) <= when(update["dateModified"])
        assert absolute(update["url"]).startswith(ld["url"] + "#lb-post-")
        assert update["mainEntityOfPage"] == update["url"]
        assert isinstance(update["articleBody"], str)
        for url in update.get("image", []):
            absolute(url)
        if "author" in update:
            people(update["author"])


def test_a_live_blog_page_describes_itself_as_google_asks(client, editor):
    blog = create_blog(client, editor, slug="quake", authors=["Ana Ruiz"], organization="Desk",
                       archive_after_days=2)
    create_post(client, editor, blog["id"], headline="First tremor",
                byline={"contributors": ["Jane Roe", "John Doe"], "location": "Kyiv"},
                body=[{"type": "paragraph", "text": "Buildings <b>shook</b>."},
                      {"type": "image", "url": "https://img.example.com/a.jpg",
                       "caption": "The square", "credit": "AP"},
                      {"type": "quote", "text": "We ran.", "attribution": "A resident"}])
    create_post(client, editor, blog["id"], headline="No byline")
    ld = json_ld(client, "quake")
    check_live_blog_posting(ld)
    assert ld["image"] == ["https://img.example.com/a.jpg"]
    assert people(ld["author"]) == ["Ana Ruiz"] and ld["publisher"]["name"] == "Desk"
    no_byline, tremor = ld["liveBlogUpdate"]
    assert "author" not in no_byline and "image" not in no_byline
    assert people(tremor["author"]) == ["Jane Roe", "John Doe"]
    assert tremor["image"] == ["https://img.example.com/a.jpg"]
    # block boundaries kept: a paragraph a block, markup gone
    assert tremor["articleBody"] == "Buildings shook.\n\nThe square AP\n\nWe ran. A resident"
    # while live, coverage runs to when the blog would be archived for want of news
    assert (when(ld["coverageEndTime"]) - when(ld["dateModified"])).days == 2


def test_coverage_ends_when_the_blog_closes_and_a_blog_never_archived_rolls_a_day_ahead(
        client, editor):
    blog = create_blog(client, editor, slug="vote", archive_after_days=None)
    create_post(client, editor, blog["id"])
    ld = json_ld(client, "vote")
    check_live_blog_posting(ld)
    assert (when(ld["coverageEndTime"]) - when(ld["dateModified"])).days == 1
    assert client.post("/api/blogs/vote/close", headers=editor).status_code == 200
    ld = json_ld(client, "vote")
    check_live_blog_posting(ld)
    assert ld["coverageEndTime"] == ld["dateModified"]
