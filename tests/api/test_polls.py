"""Polls in posts: the service names a poll and its options; readers vote once each (a cookie,
or the token an answer gave), a few per address; results are cacheable; a vote never waits on
the log's lock; closing (an editor, or the scheduler at closes_at) records the exact tally in
the log, even with votes arriving while it closes. On both backends."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from events import connect, write_transaction

from .helpers import assert_problem, cookie_attributes, create_blog, create_post

POLL = {"type": "poll", "question": "Who wins the seat?", "options": ["Ana", "Ben", "Cy"]}


@pytest.fixture
def blog(client, editor):
    return create_blog(client, editor, slug="night")


def poll_post(client, editor, blog, **poll):
    post = create_post(client, editor, blog["id"], headline="Your call",
                       body=[{"type": "paragraph", "text": "Vote:"}, {**POLL, **poll}])
    return post, post["body"][1]


def vote(client, poll, option, **kwargs):
    body = {"option": option, **{k: kwargs.pop(k) for k in ("voter",) if k in kwargs}}
    return client.post(f"/api/polls/{poll['id']}/votes", json=body, **kwargs)


def voter_client(app):
    """A reader of their own (their own cookie jar)."""
    return app.test_client()


def log_of(app, kind):
    """The payloads of the log's events of a type (opened: a post's stream is sealed)."""
    with app.app_context():
        from liveblog.bootstrap import get_liveblog
        return [e.data for e in get_liveblog().store().read_all() if e.type == kind]


def test_the_service_names_a_poll_and_its_options(client, editor, blog):
    post, poll = poll_post(client, editor, blog)
    assert poll["id"].startswith(post["id"] + ".")
    assert [o["text"] for o in poll["options"]] == ["Ana", "Ben", "Cy"]
    assert len({o["id"] for o in poll["options"]}) == 3
    results = client.get(f"/api/polls/{poll['id']}")
    assert results.status_code == 200
    assert results.get_json() == {"id": poll["id"], "question": "Who wins the seat?",
                                  "options": [{**o, "votes": 0} for o in poll["options"]],
                                  "total": 0, "closed": False, "closes_at": None}
    assert results.headers["Cache-Control"].startswith("public, max-age=")
    assert client.get(f"/api/polls/{poll['id']}", headers={
        "If-None-Match": results.headers["ETag"]}).status_code == 304


def test_each_reader_votes_once_and_the_tally_counts_each_vote(app, client, editor, blog):
    _, poll = poll_post(client, editor, blog)
    ana, ben = (o["id"] for o in poll["options"][:2])
    reader = voter_client(app)
    first = vote(reader, poll, ana)
    assert first.status_code == 202, first.get_json()
    assert first.get_json()["choice"] == ana and "liveblog_voter=" in first.headers["Set-Cookie"]
    assert "no-store" in first.headers["Cache-Control"]
    again = vote(reader, poll, ben)  # the same reader, by their cookie
    assert_problem(again, 409, fields=["choice"])
    assert again.get_json()["errors"]["choice"] == [ana]
    # the same reader on a page whose cookie is not sent: the token the answer gave
    elsewhere = voter_client(app)
    assert_problem(vote(elsewhere, poll, ben, voter=first.get_json()["voter"]), 409)
    # a forged token is no one's: a new voter
    forged = first.get_json()["voter"].rsplit(".", 1)[0] + ".0000"
    assert vote(voter_client(app), poll, ben, voter=forged).status_code == 202
    assert vote(voter_client(app), poll, ben).status_code == 202
    with app.app_context():
        from liveblog.bootstrap import get_liveblog
        assert get_liveblog().votes().tally(poll["id"]) == {ana: 1, ben: 2}


@pytest.mark.parametrize("app_config", [{"VOTES_PER_ADDRESS": 2,
                                         "TRUSTED_PROXIES": ["127.0.0.1"]}])
def test_one_address_has_a_few_votes_and_cannot_pose_as_others(app, client, editor, blog):
    _, poll = poll_post(client, editor, blog)
    option = poll["options"][0]["id"]

    def from_(environ, forwarded=None):
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        return vote(voter_client(app), poll, option, environ_base=environ, headers=headers)

    stranger = {"REMOTE_ADDR": "198.51.100.9"}
    assert [from_(stranger, f"192.0.2.{i}").status_code for i in range(3)] == [202, 202, 429]
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    assert [from_(proxy, "203.0.113.5").status_code for _ in range(3)] == [202, 202, 429]
    assert from_(proxy, "203.0.113.6").status_code == 202
    with app.app_context():
        from liveblog.bootstrap import get_liveblog
        assert get_liveblog().votes().tally(poll["id"]) == {option: 5}


def test_hostile_votes_are_refused_and_count_nothing(app, client, editor, blog):
    _, poll = poll_post(client, editor, blog)
    _, other = poll_post(client, editor, blog)
    assert_problem(vote(client, poll, other["options"][0]["id"]), 422, fields=["option"])
    assert_problem(vote(client, poll, "nope"), 422, fields=["option"])
    assert_problem(client.post(f"/api/polls/{poll['id']}/votes", json={}), 422,
                   fields=["option"])
    assert_problem(client.post(f"/api/polls/{poll['id']}/votes",
                               json={"option": poll["options"][0]["id"], "weight": 1000}),
                   422, fields=["weight"])
    assert_problem(vote(client, {"id": "no.such"}, "x"), 404)
    big = b'{"option": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    assert_problem(client.post(f"/api/polls/{poll['id']}/votes", data=big,
                               headers={"Content-Type": "application/json"}), 413)
    assert_problem(client.post(f"/api/polls/{poll['id']}/votes", data="option=1",
                               headers={"Content-Type": "text/plain"}), 415)
    with app.app_context():
        from liveblog.bootstrap import get_liveblog
        assert get_liveblog().votes().tally(poll["id"]) == {}


def test_a_draft_or_deleted_posts_poll_takes_no_vote(client, editor, blog):
    draft = create_post(client, editor, blog["id"], status="draft", body=[POLL])
    assert_problem(vote(client, draft["body"][0], draft["body"][0]["options"][0]["id"]), 404)
    post, poll = poll_post(client, editor, blog)
    assert client.delete(f"/api/blogs/night/posts/{post['id']}",
                         headers={**editor, "If-Match": f'"{post["version"]}"'}
                         ).status_code == 204
    assert client.get(f"/api/polls/{poll['id']}").status_code == 404


def test_a_polls_question_and_options_stay_as_they_were_voted_on(client, editor, blog):
    post, poll = poll_post(client, editor, blog)
    path = f"/api/blogs/night/posts/{post['id']}"

    def patch(body, version):
        return client.patch(path, json={"body": body}, headers={**editor,
                                                                 "If-Match": f'"{version}"'})

    changed = patch([{**poll, "options": [{**o, "text": o["text"] + "!"}
                                          for o in poll["options"]]}], post["version"])
    assert_problem(changed, 422)
    two = patch([poll, {**POLL}], post["version"])
    assert_problem(two, 422)
    kept = patch([{"type": "paragraph", "text": "Still voting:"}, poll], post["version"])
    assert kept.status_code == 200, kept.get_json()
    assert kept.get_json()["body"][1] == poll  # the same poll, the same ids
    stolen = patch([{**poll, "id": poll["id"] + "x"}], kept.get_json()["version"])
    assert_problem(stolen, 422)


def test_an_editor_closes_a_poll_and_its_exact_tally_enters_the_log(app, client, editor,
                                                                    tokens, blog):
    post, poll = poll_post(client, editor, blog)
    ana, ben, _ = (o["id"] for o in poll["options"])
    for choice in (ana, ana, ben):
        assert vote(voter_client(app), poll, choice).status_code == 202
    contributor = tokens.headers("contributor", "Cole", blogs=[blog["id"]])
    assert_problem(client.post(f"/api/polls/{poll['id']}/close", headers=contributor), 403)
    assert client.post(f"/api/polls/{poll['id']}/close").status_code == 401
    closed = client.post(f"/api/polls/{poll['id']}/close", headers=editor)
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["closed"] is True and closed.get_json()["total"] == 3
    assert [o["votes"] for o in closed.get_json()["options"]] == [2, 1, 0]
    [recorded] = log_of(app, "PollClosed")
    assert recorded["poll_id"] == poll["id"] and recorded["total"] == 3
    assert recorded["tally"] == {ana: 2, ben: 1, poll["options"][2]["id"]: 0}
    assert_problem(vote(voter_client(app), poll, ana), 409)
    # the post shows the final tally, from itself
    shown = client.get(f"/api/blogs/night/posts/{post['id']}").get_json()["body"][1]
    assert [o["votes"] for o in shown["options"]] == [2, 1, 0] and shown["total"] == 3
    page = client.get("/blogs/night").get_data(as_text=True)
    assert "Poll closed" in page and "67%" in page and "3 votes" in page
    # closing again records nothing more
    assert client.post(f"/api/polls/{poll['id']}/close", headers=editor).status_code == 200
    assert len(log_of(app, "PollClosed")) == 1


def test_the_scheduler_closes_a_poll_at_its_time(app, client, editor, blog, clock):
    closes = clock.now.replace(hour=clock.now.hour + 1)
    _, poll = poll_post(client, editor, blog, closes_at=closes.isoformat())
    assert vote(voter_client(app), poll, poll["options"][2]["id"]).status_code == 202
    from liveblog.scheduler import close_due_polls
    assert close_due_polls(app) == 0
    clock.advance(hours=1)
    assert_problem(vote(voter_client(app), poll, poll["options"][2]["id"]), 409)  # time's up
    assert close_due_polls(app) == 1
    assert close_due_polls(app) == 0
    results = client.get(f"/api/polls/{poll['id']}").get_json()
    assert results["closed"] is True and results["total"] == 1


def test_a_vote_never_waits_on_the_logs_lock(app, client, editor, blog, database):
    _, poll = poll_post(client, editor, blog)
    holder = connect(database)
    try:
        with write_transaction(holder):  # an append that takes its time
            answered = vote(voter_client(app), poll, poll["options"][0]["id"])
            assert answered.status_code == 202, answered.get_json()
    finally:
        holder.close()


def test_votes_arriving_while_a_poll_closes_are_counted_exactly_once(app, client, editor,
                                                                     blog):
    """Readers vote from 8 threads while an editor closes the poll: every acknowledged vote
    is in the recorded tally, and no refused one is."""
    _, poll = poll_post(client, editor, blog)
    options = [o["id"] for o in poll["options"]]
    acknowledged: list[str] = []
    lock = threading.Lock()
    start = threading.Event()

    def reader(i: int) -> None:
        start.wait()
        for n in range(25):
            choice = options[(i + n) % 3]
            reply = vote(voter_client(app), poll, choice,
                         environ_base={"REMOTE_ADDR": f"10.0.{i}.{n}"})
            assert reply.status_code in (202, 409), reply.get_json()
            if reply.status_code == 202:
                with lock:
                    acknowledged.append(choice)

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(reader, i) for i in range(8)]
        start.set()
        while len(acknowledged) < 40:
            threading.Event().wait(0.01)
        closed = client.post(f"/api/polls/{poll['id']}/close", headers=editor)
        for future in futures:
            future.result()
    assert closed.status_code == 200
    final = {o["id"]: o["votes"] for o in closed.get_json()["options"]}
    assert final == {o: acknowledged.count(o) for o in options}
    assert 40 <= sum(final.values()) < 200


def test_votes_answered_in_front_of_flask_give_their_store_back(app, client, editor, blog):
    """Each vote in a thread of its own (as each of a worker's greenlets): were a vote to keep
    its database connection, the pool (32) would run dry and the 33rd would wait, then fail."""
    _, poll = poll_post(client, editor, blog)
    answers: list[int] = []

    def one(i: int) -> None:
        answers.append(vote(voter_client(app), poll, poll["options"][0]["id"],
                            environ_base={"REMOTE_ADDR": f"10.1.0.{i}"}).status_code)

    for i in range(40):
        reader = threading.Thread(target=one, args=(i,))
        reader.start()
        reader.join(timeout=5)
    assert answers == [202] * 40


def test_a_signed_in_newsroom_browser_votes_and_asks_as_any_reader(app, client, editor, blog):
    """A person signed in through the identity provider reads the blog too: their session
    cookie goes with their vote, which needs no CSRF token (it acts for no one)."""
    from liveblog.people import SESSION_COOKIE, start_session

    _, poll = poll_post(client, editor, blog)
    with app.app_context():
        db = app.extensions["liveblog"]
        secret = start_session(db.store().conn, "person-1", "Ana Ruiz", "editor", db.now())
    browser = voter_client(app)
    browser.set_cookie(SESSION_COOKIE, secret)
    assert vote(browser, poll, poll["options"][0]["id"]).status_code == 202
    # a write of the API still needs it
    assert_problem(browser.post("/api/blogs", json={"title": "Forged"}), 403)


def test_a_vote_counted_in_front_of_flask_is_answered_as_flask_answers_it(app, client, editor,
                                                                         blog):
    """A well-formed anonymous vote never enters Flask (api/ballots.py); one with an
    Idempotency-Key does. The two answers are the same but for the voter's own values."""
    from flask import request_started

    _, poll = poll_post(client, editor, blog)
    option = poll["options"][0]["id"]
    entered: list[str] = []

    def started(sender, **_):
        from flask import request
        entered.append(request.path)

    with request_started.connected_to(started, app):
        fast = vote(voter_client(app), poll, option, environ_base={"REMOTE_ADDR": "10.2.0.1"})
        assert entered == []
        slow = vote(voter_client(app), poll, option, environ_base={"REMOTE_ADDR": "10.2.0.2"},
                    headers={"Idempotency-Key": "vote-1"})
        assert entered == [f"/api/polls/{poll['id']}/votes"]
    assert fast.status_code == slow.status_code == 202
    varying = {"Content-Length", "Set-Cookie", "X-Request-Id"}
    assert {k: v for k, v in fast.headers.items() if k not in varying} == {
        k: v for k, v in slow.headers.items() if k not in varying}
    assert cookie_attributes(fast.headers["Set-Cookie"]) == cookie_attributes(
        slow.headers["Set-Cookie"])
    assert fast.get_json()["choice"] == slow.get_json()["choice"] == option
    assert fast.get_json().keys() == slow.get_json().keys() == {"choice", "voter", "poll"}
    # what Flask refuses is refused alike: the fast way declined a second vote, Flask said 409
    again = vote(client, poll, option, voter=fast.get_json()["voter"],
                 environ_base={"REMOTE_ADDR": "10.2.0.3"})
    assert_problem(again, 409)
    assert again.get_json()["errors"] == {"choice": [option]}
