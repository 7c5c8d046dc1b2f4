"""Embeds resolved through oEmbed on save, against a provider process: a card with a thumbnail
copied into our media store and the provider's player URL, never its markup; a slow, failing,
unknown or refused provider leaves a link card and never fails or holds up the save."""

from __future__ import annotations

import json
import time

import pytest

from tests.peers import Provider


@pytest.fixture
def provider(tmp_path):
    p = Provider(tmp_path)
    yield p
    p.stop()


@pytest.fixture
def oembed(app, provider):
    """The app told of the provider; loopback allowed (it is a local process), nothing else."""
    from liveblog import embeds

    def configure(**settings):
        app.config.update({"OEMBED_PROVIDERS": str(provider.providers),
                           "OEMBED_ALLOW_PRIVATE": ["127.0.0.0/8"], "OEMBED_TIMEOUT": 1.5,
                           **settings})
        app.extensions["liveblog.embeds"] = embeds.Settings.from_config(app.config)

    configure()
    return configure


def _save(client, editor, blog, url):
    started = time.monotonic()
    response = client.post(f"/api/blogs/{blog}/posts", json={
        "headline": "Watch", "body": [{"type": "embed", "url": url}]}, headers=editor)
    took = time.monotonic() - started
    assert response.status_code == 201, response.get_json()
    return response.get_json(), took


@pytest.fixture
def blog(client, editor):
    return client.post("/api/blogs", json={"title": "Clips"}, headers=editor).get_json()["id"]


def test_an_embed_becomes_a_card_with_our_copy_of_the_thumbnail(app, client, editor, blog,
                                                                oembed, provider):
    post, _ = _save(client, editor, blog, "https://clips.example/v/ok")
    block = post["body"][0]
    assert block["provider"] == "Clipper"
    assert block["title"] == "Harbour wall at high tide"  # the provider's markup is text here
    assert block["author_name"] == "Port TV"
    assert block["player"] == f"{provider.base}/player/ok"
    assert "html" not in block
    image = client.get(block["thumbnail_url"])
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert block["thumbnail_url"] == f"/media/{block['thumbnail']}.png"
    # what the log keeps: the card, never the provider's script
    events = client.get("/api/events", headers=_auditor(app)).get_data(as_text=True)
    assert "pwned" not in events and "<script" not in events
    page = client.get(f"/blogs/{client.get(f'/api/blogs/{blog}').get_json()['slug']}")
    html = page.get_data(as_text=True)
    assert 'data-player="' + f"{provider.base}/player/ok" in html and "pwned" not in html
    assert f"frame-src {provider.base}" in page.headers["Content-Security-Policy"] or \
        provider.base in page.headers["Content-Security-Policy"].split("frame-src")[1]


def _auditor(app):
    from liveblog.api.views import service
    from liveblog.service import Actor
    from liveblog.tokens import create_token

    with app.app_context():
        _, secret = create_token(service(), "auditor", "Audrey", Actor("cli", "tests"))
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("url,why", [
    ("https://clips.example/v/slow", "slower than OEMBED_TIMEOUT"),
    ("https://clips.example/v/fail", "the provider answers 500"),
    ("https://clips.example/v/redirect", "a redirect to 169.254.169.254"),
    ("https://local.example/v/ok", "a name that resolves to 127.0.0.1, not allowed"),
    ("https://unknown.example/v/ok", "no provider knows the URL"),
])
def test_a_provider_that_cannot_answer_leaves_a_link_card_in_time(client, editor, blog, oembed,
                                                                  url, why):
    if "local.example" in url:
        oembed(OEMBED_ALLOW_PRIVATE=False)
    url = f"{url}?t={time.monotonic_ns()}"  # this test's own: not one that failed before
    post, took = _save(client, editor, blog, url)
    assert post["body"] == [{"type": "embed", "url": url}], why
    assert took < 1.5 + 1.0, f"{why}: the save took {took:.1f} s"
    again, took = _save(client, editor, blog, url)  # not asked again for a while: at once
    assert again["body"] == post["body"] and took < 0.5, f"{why}: {took:.1f} s again"


def test_a_provider_that_fails_later_keeps_the_card_it_gave(client, editor, blog, oembed,
                                                            provider, app):
    first, _ = _save(client, editor, blog, "https://clips.example/v/ok")
    provider.stop()  # down now
    oembed(OEMBED_CACHE_SECONDS=0)  # and the card is stale: asked again, in vain
    again, _ = _save(client, editor, blog, "https://clips.example/v/ok")
    assert again["body"] == first["body"]


def test_a_redaction_erases_the_embeds_card_and_thumbnail(app, client, editor, blog, oembed):
    post, _ = _save(client, editor, blog, "https://clips.example/v/ok")
    thumbnail = post["body"][0]["thumbnail_url"]
    from liveblog.api.views import service
    from liveblog.service import Actor
    from liveblog.tokens import create_token

    with app.app_context():
        _, secret = create_token(service(), "legal", "Legal", Actor("cli", "tests"))
    assert client.post(f"/api/blogs/{blog}/posts/{post['id']}/redact", json={"reason": "order"},
                       headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert client.get(thumbnail).status_code == 404
    with app.app_context():
        from liveblog.bootstrap import get_liveblog

        rows = get_liveblog().store().conn.execute("SELECT data FROM oembed_cache").fetchall()
    assert not [r for r in rows if "Harbour" in json.loads(r[0]).get("title", "")]
