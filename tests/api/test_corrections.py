"""Public, structured corrections: on the post, in the blog's list, on the page, in Atom and
JSON-LD, in the history; with If-Match like every change of a post."""

from __future__ import annotations

import json
import re

from ..conftest import log_head
from .helpers import assert_problem, create_blog, create_post


def correct(client, editor, blog, post, version, text="It was 4,500 homes, not 3,000.",
            reason="factual", **headers):
    return client.post(f"/api/blogs/{blog}/posts/{post}/corrections",
                       json={"text": text, "reason": reason},
                       headers={**editor, "If-Match": f'"{version}"', **headers})


def test_a_correction_is_added_to_the_post_and_its_version_goes_up(client, editor, clock):
    blog = create_blog(client, editor, slug="storm")
    post = create_post(client, editor, blog["id"], headline="Power cut")
    clock.advance(minutes=5)
    response = correct(client, editor, blog["id"], post["id"], 1,
                       text="The cut hit <em>4,500</em> homes.<script>x</script>")
    assert response.status_code == 201
    body = response.get_json()
    assert body["version"] == 2 and response.headers["ETag"] == '"2"'
    [correction] = body["corrections"]
    assert correction["text"] == "The cut hit <em>4,500</em> homes."  # sanitised
    assert correction["reason"] == "factual"
    assert correction["recorded_at"] == "2022-01-21T13:36:00.000000Z"
    assert client.get(f"/api/blogs/storm/posts/{post['id']}").get_json()["corrections"] == [
        correction]
    second = correct(client, editor, blog["id"], post["id"], 2, text="Spelling of a name.",
                     reason="spelling").get_json()
    assert [c["reason"] for c in second["corrections"]] == ["factual", "spelling"]


def test_a_correction_needs_the_version_read_and_a_published_post(client, app, editor):
    blog = create_blog(client, editor)
    post = create_post(client, editor, blog["id"])
    draft = create_post(client, editor, blog["id"], status="draft")
    before = log_head(app)
    url = f"/api/blogs/{blog['id']}/posts/{post['id']}/corrections"
    assert_problem(client.post(url, json={"text": "x", "reason": "factual"}, headers=editor),
                   428)
    assert_problem(correct(client, editor, blog["id"], post["id"], 7), 412)
    assert_problem(correct(client, editor, blog["id"], post["id"], 1, reason="whim"), 422,
                   fields=("reason",))
    assert_problem(correct(client, editor, blog["id"], post["id"], 1, text=""), 422,
                   fields=("text",))
    assert_problem(correct(client, editor, blog["id"], draft["id"], 1), 409)
    assert_problem(correct(client, editor, blog["id"], "nope", 1), 404)
    assert_problem(correct(client, {}, blog["id"], post["id"], 1), 401)
    assert log_head(app) == before


def test_a_retried_correction_is_recorded_once(client, app, editor):
    blog = create_blog(client, editor)
    post = create_post(client, editor, blog["id"])
    first = correct(client, editor, blog["id"], post["id"], 1, **{"Idempotency-Key": "c-1"})
    again = correct(client, editor, blog["id"], post["id"], 1, **{"Idempotency-Key": "c-1"})
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert len(client.get(f"/api/blogs/{blog['id']}/posts/{post['id']}").get_json()[
        "corrections"]) == 1


def test_the_blog_lists_its_corrections_newest_first_and_readers_see_them_live(
        client, editor, clock):
    blog = create_blog(client, editor, slug="live")
    a = create_post(client, editor, blog["id"], headline="A")
    b = create_post(client, editor, blog["id"], headline="B")
    cursor = client.get("/api/blogs/live/posts").get_json()["cursor"]
    clock.advance(minutes=1)
    correct(client, editor, blog["id"], a["id"], 1, text="First fix.")
    clock.advance(minutes=1)
    correct(client, editor, blog["id"], b["id"], 1, text="Second fix.", reason="attribution")
    listed = client.get("/api/blogs/live/corrections")
    assert listed.status_code == 200 and listed.headers["Cache-Control"].startswith("public")
    assert [(c["post_id"], c["text"]) for c in listed.get_json()["corrections"]] == [
        (b["id"], "Second fix."), (a["id"], "First fix.")]
    assert client.get("/api/blogs/live/corrections", headers={
        "If-None-Match": listed.headers["ETag"]}).status_code == 304
    changes = client.get(f"/api/blogs/live/changes?since={cursor}").get_json()["changes"]
    assert {c["post"]["id"] for c in changes} == {a["id"], b["id"]}


def test_the_page_atom_json_ld_and_history_carry_corrections(client, editor, auditor):
    blog = create_blog(client, editor, slug="shown")
    post = create_post(client, editor, blog["id"], headline="Ferries cancelled")
    correct(client, editor, blog["id"], post["id"], 1, text="Only after <b>4 p.m.</b>")
    html = client.get("/blogs/shown").get_data(as_text=True)
    assert re.search(r'class="correction"><strong>Correction:</strong> Only after <b>4 p\.m\.</b>',
                     html)
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html,
                              re.S).group(1))
    [update] = ld["liveBlogUpdate"]
    assert update["correction"][0]["@type"] == "CorrectionComment"
    assert update["correction"][0]["text"] == "Only after 4 p.m."
    atom = client.get("/blogs/shown/feed.atom").get_data(as_text=True)
    assert "Correction:" in atom
    history = client.get(f"/api/blogs/shown/posts/{post['id']}/history",
                         headers=auditor).get_json()["revisions"]
    assert history[-1]["event_type"] == "PostCorrected"
    assert history[-1]["changes"]["corrections"]["from"] == []
    assert history[-1]["changes"]["corrections"]["to"][0]["text"] == "Only after <b>4 p.m.</b>"
