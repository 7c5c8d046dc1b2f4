"""Auditors: the log, post history, the feed as of a past moment, verification, and refusals."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from ..events.test_chain import tamper
from .helpers import assert_problem, create_blog, create_post


def test_readers_and_editors_are_refused_the_auditor_endpoints(client, editor, auditor):
    blog = create_blog(client, editor)
    post = create_post(client, editor, blog["id"])
    urls = ["/api/events", f"/api/blogs/{blog['id']}/posts/{post['id']}/history",
            "/api/audit/verify", f"/api/blogs/{blog['id']}/posts?as_of={blog['cursor']}"]
    for url in urls:
        assert_problem(client.get(url), 401)
        assert_problem(client.get(url, headers=editor), 403)
        assert client.get(url, headers=auditor).status_code == 200, url


def test_events_page_through_the_log_with_filters(client, editor, auditor):
    one = create_blog(client, editor, slug="one")
    two = create_blog(client, editor, slug="two")
    create_post(client, editor, one["id"], headline="a")
    create_post(client, editor, two["id"], headline="b")
    everything = client.get("/api/events?limit=1000", headers=auditor).get_json()
    head = everything["head"]
    assert head["position"] == everything["events"][-1]["position"]
    assert everything["events"][-1]["hash"] == head["hash"]
    first = everything["events"][0]
    assert set(first) == {"position", "stream", "version", "type", "schema_version", "data",
                          "metadata", "recorded_at", "prev_hash", "hash", "data_hash",
                          "redacted"}
    assert first["prev_hash"] == "0" * 64 and first["redacted"] is False
    # an auditor recomputes every hash from what the log gives (chain v2)
    from events import canonical, record_hash

    for event in everything["events"]:
        assert event["hash"] == record_hash(
            event["position"], event["stream"], event["version"], event["type"],
            event["schema_version"], canonical(event["data"]), canonical(event["metadata"]),
            event["recorded_at"], event["prev_hash"])
    page = client.get("/api/events?limit=2", headers=auditor).get_json()
    assert len(page["events"]) == 2 and page["next"] == page["events"][-1]["position"]
    rest = client.get(f"/api/events?after={page['next']}&limit=1000",
                      headers=auditor).get_json()
    assert page["events"] + rest["events"] == everything["events"] and rest["next"] is None
    only_one = client.get("/api/events?blog=one", headers=auditor).get_json()["events"]
    assert {e["stream"].split("/")[1] for e in only_one} == {one["id"]}
    published = client.get("/api/events?type=PostPublished,BlogCreated",
                           headers=auditor).get_json()["events"]
    assert [e["type"] for e in published] == ["BlogCreated", "BlogCreated", "PostPublished",
                                              "PostPublished"]
    assert published[0]["metadata"]["actor"]["name"] == "Jane Roe"
    assert_problem(client.get("/api/events?type=Nonsense", headers=auditor), 422,
                   fields=["type"])
    assert_problem(client.get("/api/events?blog=nope", headers=auditor), 404)


def test_history_of_a_post_edited_three_times_by_two_editors(client, tokens, auditor, clock):
    jane = tokens.headers("editor", "Jane Roe")
    john = tokens.headers("editor", "John Doe")
    blog = create_blog(client, jane)
    post = create_post(client, jane, blog["id"], headline="Polls close",
                       body=[{"type": "paragraph", "text": "one"},
                             {"type": "paragraph", "text": "two"}])
    url = f"/api/blogs/{blog['id']}/posts/{post['id']}"
    edits = [(john, {"headline": "Polls closed"}),
             (jane, {"body": [{"type": "paragraph", "text": "one"},
                              {"type": "paragraph", "text": "TWO"},
                              {"type": "quote", "text": "three"}]}),
             (john, {"pinned": True, "display_time": "2022-01-21T08:00:00-05:00"})]
    for version, (who, change) in enumerate(edits, start=1):
        clock.advance(minutes=5)
        response = client.patch(url, json=change, headers={**who, "If-Match": f'"{version}"'})
        assert response.status_code == 200
    revisions = client.get(f"{url}/history", headers=auditor).get_json()["revisions"]
    assert [r["version"] for r in revisions] == [1, 2, 3, 4]
    assert [r["actor"]["name"] for r in revisions] == ["Jane Roe", "John Doe", "Jane Roe",
                                                       "John Doe"]
    assert [r["event_type"] for r in revisions] == ["PostPublished", "PostEdited",
                                                    "PostEdited", "PostEdited"]
    assert revisions[3]["event_types"] == ["PostEdited", "PostPinned"]
    assert revisions[1]["changes"] == {"headline": {"from": "Polls close",
                                                    "to": "Polls closed"}}
    assert revisions[2]["changes"] == {
        "body.1": {"from": {"type": "paragraph", "text": "two"},
                   "to": {"type": "paragraph", "text": "TWO"}},
        "body.2": {"from": None, "to": {"type": "quote", "text": "three"}}}
    assert revisions[3]["changes"] == {
        "display_time": {"from": "2022-01-21T13:31:00.000000Z",
                         "to": "2022-01-21T13:00:00.000000Z"},
        "pinned": {"from": False, "to": True}}
    assert revisions[1]["recorded_at"] == "2022-01-21T13:36:00.000000Z"
    assert revisions[-1]["post"] == client.get(url).get_json()
    assert revisions[0]["changes"]["headline"] == {"from": None, "to": "Polls close"}


def test_history_records_deletion_reasons_and_drafts(client, editor, auditor):
    blog = create_blog(client, editor)
    post = create_post(client, editor, blog["id"], status="draft")
    url = f"/api/blogs/{blog['id']}/posts/{post['id']}"
    client.delete(f"{url}?reason=duplicate", headers=editor)
    revisions = client.get(f"{url}/history", headers=auditor).get_json()["revisions"]
    assert revisions[-1]["reason"] == "duplicate"
    assert revisions[-1]["changes"]["status"] == {"from": "draft", "to": "deleted"}
    assert_problem(client.get(f"/api/blogs/{blog['id']}/posts/nope/history",
                              headers=auditor), 404)


def test_as_of_equals_what_readers_saw_at_each_step(client, editor, auditor, clock):
    blog = create_blog(client, editor, timezone="Europe/Kyiv")
    base = f"/api/blogs/{blog['id']}"
    seen = []  # (time, cursor, live answers) at each step

    def record():
        answers = {order: client.get(f"{base}/posts?order={order}&limit=3").get_json()
                   for order in ("newest", "oldest", "updated")}
        seen.append((clock.now.isoformat(), answers["newest"]["cursor"], answers))
        clock.advance(minutes=3)

    record()
    posts = []
    for i in range(4):
        posts.append(create_post(client, editor, blog["id"], headline=f"post {i}",
                                 pinned=i == 1))
        record()
    client.patch(f"{base}/posts/{posts[0]['id']}", json={"headline": "post 0 fixed"},
                 headers={**editor, "If-Match": '"1"'})
    record()
    client.delete(f"{base}/posts/{posts[1]['id']}", headers=editor)
    record()
    create_post(client, editor, blog["id"], headline="draft", status="draft")
    client.patch(base, json={"title": "Renamed"}, headers={**editor, "If-Match": '"1"'})
    record()
    client.post(f"{base}/close", headers=editor)
    record()
    for moment, cursor, answers in seen:
        for order, live in answers.items():
            for as_of in (quote(moment), cursor):
                past = client.get(f"{base}/posts?order={order}&limit=3&as_of={as_of}",
                                  headers=auditor)
                assert past.status_code == 200, past.get_json()
                assert past.get_json() == live, (moment, order)
        # pages of the past continue with their own cursor
        live = answers["newest"]
        if live["next_cursor"]:
            older = client.get(f"{base}/posts?limit=3&as_of={cursor}"
                               f"&cursor={live['next_cursor']}", headers=auditor).get_json()
            assert older["pinned"] == [] and older["total"] == live["total"]


@pytest.mark.parametrize("as_of,status", [("2022-01-21T13:31:00", 422), ("yesterday", 400),
                                           ("2022-13-45T99:00:00Z", 422)])
def test_bad_as_of_values(client, editor, auditor, as_of, status):
    blog = create_blog(client, editor)
    assert_problem(client.get(f"/api/blogs/{blog['id']}/posts?as_of={as_of}",
                              headers=auditor), status)


def test_as_of_cursors_with_any_letters_are_cursors(app, client, editor, auditor):
    from liveblog.cursors import encode_cursor

    blog = create_blog(client, editor)
    for position in (1, 5, 1100, 99999):  # base64 of these holds T, digits and more
        cursor = encode_cursor("c", position)
        response = client.get(f"/api/blogs/{blog['id']}/posts?as_of={cursor}", headers=auditor)
        assert response.status_code in (200, 404), (cursor, response.get_json())


def test_as_of_before_the_blog_existed_is_404(client, editor, auditor, clock):
    before = clock.now.isoformat()
    clock.advance(minutes=1)
    blog = create_blog(client, editor)
    assert_problem(client.get(f"/api/blogs/{blog['id']}/posts?as_of={before}",
                              headers=auditor), 404)  # unencoded "+00:00" is accepted too


def test_verify_reports_ok_then_the_tampered_position(app, client, editor, auditor):
    blog = create_blog(client, editor)
    for i in range(4):
        create_post(client, editor, blog["id"], headline=f"p{i}")
    report = client.get("/api/audit/verify", headers=auditor).get_json()
    assert report["ok"] and report["first_bad_position"] is None
    assert report["head"]["position"] == report["events_checked"]
    with app.app_context():
        from liveblog.bootstrap import get_liveblog

        store = get_liveblog().store()
        target = store.conn.execute("SELECT position FROM events WHERE type = 'PostPublished'"
                                    " ORDER BY position LIMIT 1 OFFSET 2").fetchone()[0]
        # whoever can write the database can read its keys too: the payload is opened,
        # changed and sealed again with the post's own key, as such a tamperer would
        from events.keys import keys_of

        stream, sealed = store.conn.execute("SELECT stream_id, data FROM events"
                                            " WHERE position = ?", (target,)).fetchone()
        keys = keys_of(store.conn)
        forged = keys.seal(stream, keys.open(stream, sealed).replace("p2", "p9"))
        assert forged != sealed
        tamper(store, "UPDATE events SET data = ? WHERE position = ?", (forged, target))
    report = client.get("/api/audit/verify", headers=auditor).get_json()
    assert report["ok"] is False
    assert report["first_bad_position"] == target
    assert "bad hash" in report["detail"]


def test_verify_reports_a_sealed_payload_that_no_longer_opens(app, client, editor, auditor):
    """A flipped byte of a sealed payload is a broken position, not a crash."""
    blog = create_blog(client, editor)
    create_post(client, editor, blog["id"], headline="p0")
    with app.app_context():
        from liveblog.bootstrap import get_liveblog

        store = get_liveblog().store()
        target, sealed = store.conn.execute("SELECT position, data FROM events WHERE type ="
                                            " 'PostPublished'").fetchone()
        flipped = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
        tamper(store, "UPDATE events SET data = ? WHERE position = ?", (flipped, target))
    report = client.get("/api/audit/verify", headers=auditor).get_json()
    assert report["ok"] is False and report["first_bad_position"] == target


def test_the_feed_as_of_every_position_is_the_replay_of_the_log_up_to_it(app, client, editor,
                                                                        tokens, clock):
    """The feed's history answers for every past moment exactly what replaying the log up to it
    gives: published, edited, pinned, unpinned, deleted, corrected and redacted posts,
    a renamed and closed blog, another blog's events between, every order and page."""
    from events.projections import ProjectionRunner
    from liveblog import queries
    from liveblog.audit import feed_as_of
    from liveblog.bootstrap import get_liveblog
    from liveblog.cursors import decode_cursor, encode_cursor
    from liveblog.projections import BlogsProjection, FeedProjection

    legal = tokens.headers("legal", "Legal Desk")
    blog = create_blog(client, editor, slug="replayed")
    other = create_blog(client, editor, slug="other")
    base = f"/api/blogs/{blog['id']}"
    posts = []
    for i in range(9):
        clock.advance(seconds=1)
        posts.append(create_post(client, editor, blog["id"], headline=f"p{i}"))
        create_post(client, editor, other["id"], headline=f"o{i}")

    def act(method, path, body, version=None):
        headers = {**editor, **({"If-Match": f'"{version}"'} if version else {})}
        answer = client.open(f"{base}{path}", method=method, json=body, headers=headers)
        assert answer.status_code < 300, answer.get_json()

    act("PATCH", f"/posts/{posts[1]['id']}", {"headline": "p1 edited"}, 1)
    act("PATCH", f"/posts/{posts[2]['id']}", {"pinned": True}, 1)
    act("DELETE", f"/posts/{posts[3]['id']}", None, 1)
    act("POST", f"/posts/{posts[4]['id']}/corrections", {"text": "It was 5", "reason": "factual"},
        1)
    act("PATCH", f"/posts/{posts[2]['id']}", {"pinned": False, "headline": "p2 again"}, 2)
    act("PATCH", "", {"title": "Renamed"}, 1)
    redacted = client.post(f"{base}/posts/{posts[5]['id']}/redact", json={"reason": "court"},
                           headers=legal)
    assert redacted.status_code == 200
    act("PATCH", f"/posts/{posts[6]['id']}", {"headline": "p6 after"}, 1)
    act("POST", "/close", None, 2)
    with app.app_context():
        store = get_liveblog().store()
        head = store.head().position
        runner = get_liveblog().runner()
        for position in range(1, head + 1):
            replayed = None
            scratch, _ = ProjectionRunner(store, []).as_of(
                [BlogsProjection(), FeedProjection()], position=position)
            try:
                if queries.find_blog_head(scratch, blog["id"]) is not None:
                    replayed = {}
                    for order in ("newest", "oldest", "updated"):
                        page = queries.feed_page(scratch, blog["id"], order, 4, None,
                                                 encode_cursor)[0]
                        after = (decode_cursor(order[0], page["next_cursor"], field="cursor")
                                 if page["next_cursor"] else None)
                        second = queries.feed_page(scratch, blog["id"], order, 4, after,
                                                   encode_cursor)[0] if after else None
                        replayed[order] = (page, after, second)
            finally:
                scratch.close()
            if replayed is None:
                try:
                    feed_as_of(runner, blog["id"], position)
                except Exception as e:  # noqa: BLE001
                    assert type(e).__name__ == "BlogNotFoundError"
                else:
                    raise AssertionError(f"the blog did not exist at {position}")
                continue
            for order, (page, after, second) in replayed.items():
                assert feed_as_of(runner, blog["id"], position, order=order, limit=4) == page, \
                    (position, order)
                if after is not None:
                    assert feed_as_of(runner, blog["id"], position, order=order, limit=4,
                                      after=after) == second, (position, order, "page 2")
