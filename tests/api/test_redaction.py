"""Legal redaction: a legal token erases a post's content from storage; readers lose it live,
the record keeps who, when and why, and the chain, a rebuild, replay, export and re-import all
still hold. On both backends."""

from __future__ import annotations

import io
import json

from events import EventStore, export_jsonl, import_jsonl, verify
from liveblog.audit import feed_as_of
from liveblog.bootstrap import get_liveblog

from ..conftest import fresh_postgres
from ..test_rebuild import tables
from .helpers import assert_problem, create_blog, create_post

SECRET = "Witness Zed"


def published_with_a_history(client, editor, blog, clock):
    post = create_post(client, editor, blog["id"], headline=f"{SECRET} speaks",
                       byline={"contributors": [SECRET], "location": "Kyiv"},
                       body=[{"type": "paragraph", "text": f"<strong>{SECRET}</strong> said"}])
    clock.advance(minutes=1)
    edited = client.patch(f"/api/blogs/{blog['id']}/posts/{post['id']}", json={
        "body": [{"type": "paragraph", "text": f"{SECRET} said more"}], "pinned": True},
        headers={**editor, "If-Match": '"1"'})
    assert edited.status_code == 200
    clock.advance(minutes=1)
    corrected = client.post(f"/api/blogs/{blog['id']}/posts/{post['id']}/corrections",
                            json={"text": f"{SECRET} is not a minister", "reason": "factual"},
                            headers={**editor, "If-Match": f'"{edited.get_json()["version"]}"'})
    assert corrected.status_code == 201
    clock.advance(minutes=1)
    return corrected.get_json()


def test_a_legal_token_redacts_a_post_everywhere(app, client, tokens, editor, auditor, clock,
                                                 backend, tmp_path, request):
    legal = tokens.headers("legal", "Legal Desk")
    blog = create_blog(client, editor)
    other = create_post(client, editor, blog["id"], headline="Other news")
    clock.advance(minutes=1)
    post = published_with_a_history(client, editor, blog, clock)
    path = f"/api/blogs/{blog['id']}/posts/{post['id']}"
    feed_before = client.get(f"/api/blogs/{blog['id']}/posts")
    cursor = feed_before.get_json()["blog"]["cursor"]
    with app.app_context():
        before_position = get_liveblog().store().head().position

    # only the legal role redacts, with a reason
    for who in (editor, auditor, {}):
        response = client.post(f"{path}/redact", json={"reason": "court order"}, headers=who)
        assert response.status_code in (401, 403)
    assert_problem(client.post(f"{path}/redact", json={}, headers=legal), 422,
                   fields=["reason"])
    assert_problem(client.post(f"{path}/redact", json={"reason": "x", "why": 1}, headers=legal),
                   422, fields=["why"])
    assert_problem(client.post(f"/api/blogs/{blog['id']}/posts/nope/redact",
                               json={"reason": "x"}, headers=legal), 404)
    # and does nothing else
    assert client.post(f"/api/blogs/{blog['id']}/posts", json={"headline": "no"},
                       headers=legal).status_code == 403
    assert client.get("/api/events", headers=legal).status_code == 200

    response = client.post(f"{path}/redact", json={"reason": "Court order 2022/17"},
                           headers={**legal, "Idempotency-Key": "r1"})
    assert response.status_code == 200
    done = response.get_json()
    assert done["status"] == "redacted" and done["redacted"] is True
    assert done["reason"] == "Court order 2022/17" and done["actor"]["name"] == "Legal Desk"
    assert done["erased_events"] == 4  # published, edited + pinned, corrected
    assert done["version"] == post["version"] + 1
    # a retry with its key is the same answer; another redaction is a conflict
    again = client.post(f"{path}/redact", json={"reason": "Court order 2022/17"},
                        headers={**legal, "Idempotency-Key": "r1"})
    assert again.status_code == 200 and again.get_json() == done
    assert_problem(client.post(f"{path}/redact", json={"reason": "again"}, headers=legal), 409)

    # gone from storage: no event, no read model holds a word of it
    with app.app_context():
        conn = get_liveblog().store().conn
        stored = json.dumps([list(r) for r in conn.execute("SELECT data FROM events")])
        stored += json.dumps(tables(conn), default=str)
        assert SECRET not in stored

    # gone from every reader and editor view
    feed = client.get(f"/api/blogs/{blog['id']}/posts")
    assert feed.headers["ETag"] != feed_before.headers["ETag"]
    body = feed.get_json()
    assert [p["id"] for p in body["posts"]] == [other["id"]] and body["pinned"] == []
    assert body["blog"]["post_count"] == 1
    changes = client.get(f"/api/blogs/{blog['id']}/changes?since={cursor}").get_json()
    assert {"op": "delete", "id": post["id"]} in changes["changes"]
    assert client.get(path).status_code == 404
    assert client.get(path, headers=editor).status_code == 404
    assert_problem(client.patch(path, json={"headline": "back"},
                                headers={**editor, "If-Match": f'"{done["version"]}"'}), 404)
    assert client.get(f"/api/blogs/{blog['id']}/corrections").get_json() == {"corrections": []}
    page = client.get(f"/blogs/{blog['slug']}").get_data(as_text=True)
    atom = client.get(f"/blogs/{blog['slug']}/feed.atom").get_data(as_text=True)
    assert SECRET not in page and SECRET not in atom and "Other news" in page

    # the record says who, when and why, and nothing of what
    history = client.get(f"{path}/history", headers=auditor).get_json()["revisions"]
    assert SECRET not in json.dumps(history)
    assert all(r["redacted"] is True for r in history)
    assert [r["event_type"] for r in history] == ["PostPublished", "PostEdited",
                                                  "PostCorrected", "PostRedacted"]
    last = history[-1]
    assert last["reason"] == "Court order 2022/17" and last["actor"]["name"] == "Legal Desk"
    assert history[0]["actor"]["name"] == "Jane Roe"
    assert last["post"]["status"] == "redacted" and last["post"]["headline"] == ""
    # no revision shows erased content "changed" to an empty value: each names the erased
    # fields it set, and the redaction is one entry of its own
    erased = {"headline", "byline", "body", "corrections"}
    assert all(not erased & set(r["changes"]) for r in history), history
    assert [r.get("redacted_fields") for r in history] == [
        ["body", "byline", "headline"], ["body"], ["corrections"], None]
    assert last["changes"] == {"status": {"from": "published", "to": "redacted"}}

    # as readers saw it before: there, marked redacted, with no content
    as_of = client.get(f"/api/blogs/{blog['id']}/posts?as_of={cursor}", headers=legal)
    shown = {p["id"]: p for p in as_of.get_json()["posts"]}
    assert shown[post["id"]]["redacted"] is True and shown[post["id"]]["headline"] == ""
    assert shown[post["id"]]["body"] == [] and shown[post["id"]]["corrections"] == []
    assert "redacted" not in shown[other["id"]]
    assert SECRET not in as_of.get_data(as_text=True)

    verified = client.get("/api/audit/verify", headers=legal).get_json()
    assert verified["ok"] is True and verified["redacted_events"] == 4

    with app.app_context():
        db = get_liveblog()
        store = db.store()
        # the read models a rebuild makes from the erased log are the ones redaction left
        live = tables(store.conn)
        db.runner().rebuild()
        assert tables(store.conn) == live
        replayed = feed_as_of(db.runner(), blog["id"], before_position)
        assert any(p.get("redacted") for p in replayed["posts"])
        # export, re-import elsewhere, verify: the same log, redactions and all
        out = io.StringIO()
        export_jsonl(store, out)
        lines = out.getvalue().splitlines()
        assert SECRET not in out.getvalue()
        assert sum(json.loads(line)["redacted"] for line in lines) == 4
        copy = EventStore.open(str(tmp_path / "copy.db") if backend == "sqlite"
                               else fresh_postgres(request.getfixturevalue("postgres_server")))
        try:
            head = import_jsonl(copy, lines)
            assert head == store.head()
            result = verify(copy.conn)
            assert result.ok and result.redacted_events == 4
            again = io.StringIO()
            export_jsonl(copy, again)
            assert again.getvalue() == out.getvalue()
        finally:
            copy.close()


def test_a_draft_and_a_scheduled_post_can_be_redacted(client, tokens, editor, clock):
    legal = tokens.headers("legal", "Legal Desk")
    blog = create_blog(client, editor)
    draft = create_post(client, editor, blog["id"], headline=f"{SECRET} draft", status="draft")
    later = clock.now.replace(year=clock.now.year + 1).isoformat()
    scheduled = create_post(client, editor, blog["id"], headline=f"{SECRET} later",
                            publish_at=later)
    etag = client.get(f"/api/blogs/{blog['id']}/posts").headers["ETag"]
    for post in (draft, scheduled):
        response = client.post(f"/api/blogs/{blog['id']}/posts/{post['id']}/redact",
                               json={"reason": "privacy request"}, headers=legal)
        assert response.status_code == 200
    listed = client.get(f"/api/blogs/{blog['id']}/posts?status=draft,scheduled",
                        headers=editor).get_json()["posts"]
    assert listed == []
    # nothing readers saw changed, so their cached feed is still current
    assert client.get(f"/api/blogs/{blog['id']}/posts").headers["ETag"] == etag
