"""Media: images uploaded as raw bytes, checked with Pillow, stored by their SHA-256 in the
database (every node serves them), used by image blocks through media_id. Both backends."""

from __future__ import annotations

import hashlib
import io
import json
import os

from PIL import Image

from events import StoredRow
from liveblog.bootstrap import get_liveblog

from .helpers import assert_problem, create_blog, create_post


def image_bytes(kind="PNG", size=(40, 30), color=(200, 30, 30), noise=0):
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    if noise:  # bytes that do not compress: a big file
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    image.save(buffer, kind)
    return buffer.getvalue()


def upload(client, editor, data, content_type="image/png"):
    return client.post("/api/media", data=data, headers={**editor, "Content-Type": content_type})


def test_upload_measures_and_keeps_an_image_by_its_hash(client, editor):
    data = image_bytes()
    response = upload(client, editor, data)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    digest = hashlib.sha256(data).hexdigest()
    assert body == {"id": digest, "url": f"/media/{digest}.png", "content_type": "image/png",
                    "width": 40, "height": 30, "bytes": len(data), "sizes": []}
    assert response.headers["Location"] == body["url"]
    again = upload(client, editor, data)
    assert again.status_code == 200 and again.get_json() == body
    for kind, content_type in (("JPEG", "image/jpeg"), ("WEBP", "image/webp"),
                               ("GIF", "image/gif")):
        other = upload(client, editor, image_bytes(kind, (7, 9)), content_type)
        assert other.status_code == 201 and other.get_json()["width"] == 7
        assert other.get_json()["url"].endswith("." + {"JPEG": "jpg"}.get(kind, kind.lower()))

    served = client.get(body["url"])
    assert served.status_code == 200 and served.get_data() == data
    assert served.mimetype == "image/png"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get(body["url"], headers={
        "If-None-Match": served.headers["ETag"]}).status_code == 304
    assert client.get(f"/media/{digest}.jpg").status_code == 404
    assert client.get(f"/media/{'0' * 64}.png").status_code == 404
    assert client.get("/media/nonsense").status_code == 404


def test_what_is_not_an_image_of_its_type_is_refused(app, client, editor, auditor):
    png = image_bytes()
    assert_problem(upload(client, editor, png, "text/plain"), 415)
    assert_problem(client.post("/api/media", json={"a": 1}, headers=editor), 415)
    assert_problem(upload(client, editor, png, "image/jpeg"), 422)  # a PNG declared JPEG
    assert_problem(upload(client, editor, b"GIF89a not really", "image/gif"), 422)
    assert_problem(upload(client, editor, png[: len(png) // 2]), 422)  # cut short
    assert_problem(upload(client, editor, b""), 422)
    assert_problem(upload(client, {}, png), 401)
    assert_problem(upload(client, auditor, png), 403)
    app.config["MEDIA_MAX_BYTES"] = 1000
    assert_problem(upload(client, editor, image_bytes(size=(100, 100), noise=1)), 413)
    with app.app_context():
        assert get_liveblog().store().conn.execute("SELECT count(*) FROM media").fetchone()[0] == 0


def test_an_image_past_the_json_limit_but_within_the_media_limit_is_taken(client, editor):
    data = image_bytes(size=(800, 800), noise=1)
    assert len(data) > 1024 * 1024  # past MAX_CONTENT_LENGTH, the JSON bodies' limit
    assert upload(client, editor, data).status_code == 201


def test_an_image_block_names_an_upload_and_the_chain_covers_its_hash(app, client, editor):
    data = image_bytes(size=(640, 480))
    uploaded = upload(client, editor, data).get_json()
    blog = create_blog(client, editor, slug="night")
    post = create_post(client, editor, blog["id"], body=[
        {"type": "image", "media_id": uploaded["id"], "caption": "The count",
         "credit": "Jane Roe", "alt": "Ballots"}])
    assert post["body"] == [{"type": "image", "media_id": uploaded["id"],
                             "url": uploaded["url"], "width": 640, "height": 480,
                             "caption": "The count", "credit": "Jane Roe", "alt": "Ballots"}]
    with app.app_context():
        rows = [StoredRow._make(r) for r in get_liveblog().store().read_rows(0)]
        assert uploaded["id"] in [r for r in rows if r.type == "PostPublished"][0].data
    page = client.get("/blogs/night").get_data(as_text=True)
    assert f'<img src="{uploaded["url"]}" alt="Ballots" width="640" height="480"' in page
    ld = json.loads(page.split('<script type="application/ld+json">')[1].split("</script>")[0])
    assert ld["image"] == [f"http://localhost{uploaded['url']}"]

    blocks = f"/api/blogs/{blog['id']}/posts"
    assert_problem(client.post(blocks, json={"headline": "x", "body": [
        {"type": "image", "media_id": "0" * 64}]}, headers=editor), 422,
        fields=["body.0.media_id"])
    assert_problem(client.post(blocks, json={"headline": "x", "body": [
        {"type": "image", "media_id": uploaded["id"], "url": "https://example.com/a.png"}]},
        headers=editor), 422)
    assert_problem(client.post(blocks, json={"headline": "x", "body": [
        {"type": "image", "url": "https://example.com/a.png", "width": 5}]}, headers=editor),
        422)
    assert_problem(client.post(blocks, json={"headline": "x", "body": [
        {"type": "image", "media_id": "not-a-hash"}]}, headers=editor), 422)
    assert_problem(client.post(blocks, json={"headline": "x", "body": [{"type": "image"}]},
                               headers=editor), 422)
    # an edit may put an uploaded image in, too
    edited = client.patch(f"{blocks}/{post['id']}", json={"body": [
        {"type": "paragraph", "text": "first"}, {"type": "image", "media_id": uploaded["id"]}]},
        headers={**editor, "If-Match": '"1"'})
    assert edited.status_code == 200
    assert edited.get_json()["body"][1]["url"] == uploaded["url"]


def test_a_redaction_erases_the_images_only_its_post_showed(client, tokens, editor):
    legal = tokens.headers("legal", "Legal Desk")
    own = upload(client, editor, image_bytes(color=(1, 2, 3))).get_json()
    shared = upload(client, editor, image_bytes(color=(4, 5, 6))).get_json()
    blog = create_blog(client, editor)
    post = create_post(client, editor, blog["id"], body=[
        {"type": "image", "media_id": own["id"]}, {"type": "image", "media_id": shared["id"]}])
    create_post(client, editor, blog["id"], headline="Other",
                body=[{"type": "image", "media_id": shared["id"]}])
    response = client.post(f"/api/blogs/{blog['id']}/posts/{post['id']}/redact",
                           json={"reason": "privacy request"}, headers=legal)
    assert response.status_code == 200
    assert client.get(own["url"]).status_code == 404
    assert client.get(shared["url"]).status_code == 200


def test_a_wide_image_gets_narrower_copies_that_pages_offer(client, editor):
    data = image_bytes("JPEG", size=(1600, 900))
    body = upload(client, editor, data, "image/jpeg").get_json()
    stem = f"/media/{body['id']}"
    assert body["sizes"] == [{"width": 640, "url": f"{stem}-640.jpg"},
                             {"width": 1280, "url": f"{stem}-1280.jpg"}]
    for size in body["sizes"]:
        served = client.get(size["url"])
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        with Image.open(io.BytesIO(served.get_data())) as copy:
            assert copy.size == (size["width"], round(900 * size["width"] / 1600))
        assert client.get(size["url"], headers={
            "If-None-Match": served.headers["ETag"]}).status_code == 304
    assert client.get(f"{stem}-800.jpg").status_code == 404  # only the kept widths
    assert client.get(f"{stem}-x.jpg").status_code == 404
    gif = upload(client, editor, image_bytes("GIF", size=(900, 10)), "image/gif").get_json()
    assert gif["sizes"] == []  # a GIF may move: served as it came
    blog = create_blog(client, editor, slug="wide")
    create_post(client, editor, blog["id"], body=[{"type": "image", "media_id": body["id"]}])
    page = client.get("/blogs/wide").get_data(as_text=True)
    assert (f'srcset="{stem}-640.jpg 640w, {stem}-1280.jpg 1280w, {stem}.jpg 1600w"'
            in page)
