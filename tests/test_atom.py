"""The Atom feed as feed readers expect it: paged (RFC 5005), each entry's own authors,
absolute links, validators and 304s, and nothing XML forbids."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from .api.helpers import create_blog, create_post

ATOM = "{http://www.w3.org/2005/Atom}"


def document(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/atom+xml"
    return response, ET.fromstring(response.get_data())


def links(feed):
    return {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}


def local(url):
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.netloc, url
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_the_feed_pages_back_through_every_post(client, editor):
    blog = create_blog(client, editor, slug="long", authors=["Desk"])
    for i in range(57):
        create_post(client, editor, blog["id"], headline=f"Update {i}")
    _, first = document(client, "/blogs/long/feed.atom")
    entries = first.findall(f"{ATOM}entry")
    assert len(entries) == 50
    assert entries[0].find(f"{ATOM}title").text == "Update 56"
    first_links = links(first)
    assert first_links["next"] == first_links["prev-archive"]
    assert local(first_links["first"]) == "/blogs/long/feed.atom"
    _, older = document(client, local(first_links["next"]))
    titles = [e.find(f"{ATOM}title").text for e in older.findall(f"{ATOM}entry")]
    assert titles == [f"Update {i}" for i in range(6, -1, -1)]
    older_links = links(older)
    assert "next" not in older_links and "prev-archive" not in older_links
    assert local(older_links["self"]) == local(first_links["next"])
    assert local(older_links["first"]) == "/blogs/long/feed.atom"


def test_entries_carry_their_byline_and_absolute_permalinks(client, editor):
    blog = create_blog(client, editor, slug="by", authors=["Blog Author"])
    post = create_post(client, editor, blog["id"], headline="Bylined",
                       byline={"contributors": ["Jane Roe", "John Doe"]})
    create_post(client, editor, blog["id"], headline="Anonymous")
    _, feed = document(client, "/blogs/by/feed.atom")
    page_url = feed.find(f"{ATOM}id").text
    assert urlsplit(page_url).scheme in ("http", "https")
    assert feed.get("{http://www.w3.org/XML/1998/namespace}base") == page_url
    anonymous, bylined = feed.findall(f"{ATOM}entry")
    assert [a.find(f"{ATOM}name").text for a in bylined.findall(f"{ATOM}author")] == [
        "Jane Roe", "John Doe"]
    assert anonymous.findall(f"{ATOM}author") == []  # the feed's author stands for it
    permalink = bylined.find(f"{ATOM}link").get("href")
    assert permalink == f"{page_url}#lb-post-{post['id']}"
    # the content's own relative links (its #lb-post-… permalink) resolve against the page
    content = bylined.find(f"{ATOM}content")
    assert content.get("{http://www.w3.org/XML/1998/namespace}base") == page_url
    assert f'href="#lb-post-{post["id"]}"' in content.text


def test_validators_and_304(client, editor):
    blog = create_blog(client, editor, slug="valid")
    create_post(client, editor, blog["id"])
    response, _ = document(client, "/blogs/valid/feed.atom")
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    assert response.headers["Cache-Control"].startswith("public")
    assert client.get("/blogs/valid/feed.atom",
                      headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/blogs/valid/feed.atom",
                      headers={"If-Modified-Since": modified}).status_code == 304
    create_post(client, editor, blog["id"], headline="Newer")
    again = client.get("/blogs/valid/feed.atom", headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag
