"""Readers' questions: asked with a proof of work (solved here by the altcha package's own
solver, an implementation independent of the page's script), limited per address through the
trusted proxies, moderated in the blog's inbox, answered as a post; what reaches the log, and
what a deletion and the retention take away. Hostile input: each a clear 4xx, nothing changed."""

from __future__ import annotations

import base64
import json

import pytest
from altcha.v1 import Challenge, solve_challenge

from liveblog.challenges import MAX_NUMBER

from .helpers import assert_problem, create_blog
from .test_erasure import holding


def solution(client, challenge=None):
    """A solution of a fresh challenge, found by the altcha package (not by our code)."""
    c = challenge or client.get("/api/challenge").get_json()
    found = solve_challenge(Challenge(c["algorithm"], c["challenge"], c["maxnumber"], c["salt"],
                                      c["signature"]), max_number=c["maxnumber"])
    assert found is not None
    return base64.b64encode(json.dumps({
        "algorithm": c["algorithm"], "challenge": c["challenge"], "number": found.number,
        "salt": c["salt"], "signature": c["signature"]}).encode()).decode()


def ask(client, blog, text="When do polls close?", **fields):
    body = {"text": text, **fields}
    body.setdefault("altcha", solution(client))
    return client.post(f"/api/blogs/{blog}/questions", json=body)


def enable(client, editor, blog, on=True):
    etag = client.get(f"/api/blogs/{blog}").headers["ETag"]
    response = client.patch(f"/api/blogs/{blog}", json={"questions_enabled": on},
                            headers={**editor, "If-Match": etag})
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def blog(client, editor):
    made = create_blog(client, editor, slug="night")
    enable(client, editor, "night")
    return made


def inbox(client, who, status="pending"):
    response = client.get(f"/api/blogs/night/questions?status={status}", headers=who)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def log_types(app):
    with app.app_context():
        from liveblog.bootstrap import get_liveblog
        return [r[0] for r in get_liveblog().store().conn.execute(
            "SELECT type FROM events ORDER BY position")]


def test_a_challenge_is_fresh_never_cached_and_any_page_may_ask_it(client):
    first, second = client.get("/api/challenge"), client.get("/api/challenge")
    assert first.status_code == 200 and "no-store" in first.headers["Cache-Control"]
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    c = first.get_json()
    assert c["algorithm"] == "SHA-256" and c["maxnumber"] == MAX_NUMBER
    assert c["challenge"] != second.get_json()["challenge"]


def test_a_reader_asks_and_the_editors_inbox_has_it_with_the_contact(client, editor, tokens,
                                                                     blog, app):
    before = log_types(app)
    asked = ask(client, "night", "Will the count <b>finish</b> tonight?", name="Ana",
                contact="ana@example.org")
    assert asked.status_code == 202, asked.get_json()
    assert asked.get_json()["status"] == "pending" and "no-store" in asked.headers["Cache-Control"]
    assert log_types(app) == before  # nothing in the log
    listed = inbox(client, editor)
    assert listed["counts"] == {"pending": 1, "answered": 0, "rejected": 0}
    [question] = listed["questions"]
    assert question["text"] == "Will the count <b>finish</b> tonight?"  # as written: plain
    assert question["name"] == "Ana" and question["contact"] == "ana@example.org"
    # a contributor of the blog moderates too, but never sees a contact
    contributor = tokens.headers("contributor", "Cole", blogs=[blog["id"]])
    [seen] = inbox(client, contributor)["questions"]
    assert "contact" not in seen
    # readers and others' tokens see no inbox
    assert client.get("/api/blogs/night/questions").status_code == 401
    assert client.get("/api/blogs/night/questions", headers=tokens.headers(
        "contributor", "Other", blogs=[create_blog(client, editor)["id"]])).status_code == 403


def test_an_editor_answers_with_a_post_that_quotes_the_question(client, editor, blog, app):
    question = ask(client, "night", "Where can I vote?", name="Ben").get_json()
    answered = client.post(f"/api/blogs/night/questions/{question['id']}/answer", headers=editor,
                           json={"body": [{"type": "paragraph", "text": "At the town hall."}]})
    assert answered.status_code == 201, answered.get_json()
    post = answered.get_json()["post"]
    assert post["status"] == "published" and post["headline"] == "Where can I vote?"
    assert post["body"][0] == {"type": "question", "text": "Where can I vote?", "name": "Ben"}
    assert post["body"][1]["text"] == "At the town hall."
    assert answered.get_json()["status"] == "answered"
    assert answered.get_json()["post_id"] == post["id"]
    page = client.get("/blogs/night").get_data(as_text=True)
    assert "A reader asks" in page and "Where can I vote?" in page and "— Ben" in page
    assert log_types(app).count("PostPublished") == 1
    # answered once: a second answer is a conflict, and makes no second post
    again = client.post(f"/api/blogs/night/questions/{question['id']}/answer", headers=editor,
                        json={"body": [{"type": "paragraph", "text": "Again"}]})
    assert_problem(again, 409)
    assert log_types(app).count("PostPublished") == 1


def test_a_contributors_answer_goes_to_the_approval_queue(client, editor, tokens, blog):
    contributor = tokens.headers("contributor", "Cole", blogs=[blog["id"]])
    question = ask(client, "night").get_json()
    answered = client.post(f"/api/blogs/night/questions/{question['id']}/answer",
                           headers=contributor,
                           json={"body": [{"type": "paragraph", "text": "At eight."}]})
    assert answered.status_code == 201, answered.get_json()
    assert answered.get_json()["post"]["status"] == "submitted"
    assert client.get("/api/blogs/night/posts").get_json()["posts"] == []  # not public yet


def test_rejected_and_deleted_questions_never_reach_the_log(client, editor, blog, app):
    spam = ask(client, "night", "Buy cheap watches at example.com").get_json()
    other = ask(client, "night", "My phone number is 555-0100, call me").get_json()
    before = log_types(app)
    rejected = client.post(f"/api/blogs/night/questions/{spam['id']}/reject", headers=editor)
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    assert_problem(client.post(f"/api/blogs/night/questions/{spam['id']}/reject",
                               headers=editor), 409)
    assert client.delete(f"/api/blogs/night/questions/{other['id']}",
                         headers=editor).status_code == 204
    assert_problem(client.delete(f"/api/blogs/night/questions/{other['id']}", headers=editor),
                   404)
    assert log_types(app) == before
    assert inbox(client, editor, "rejected")["questions"][0]["id"] == spam["id"]
    assert inbox(client, editor)["counts"] == {"pending": 0, "answered": 0, "rejected": 1}


def test_deleting_a_question_leaves_no_byte_of_it_in_the_database_files(client, editor,
                                                                        blog, database):
    secret = "Zq7-unforgettable-phrase-5521"
    question = ask(client, "night", f"Call me: {secret}", contact="zq7@example.org").get_json()
    assert holding(database, secret), "the test would prove nothing: the text is not on disk"
    assert client.delete(f"/api/blogs/night/questions/{question['id']}",
                         headers=editor).status_code == 204
    assert holding(database, secret) == [] and holding(database, "zq7@example.org") == []


def test_contacts_are_erased_after_the_retention_period(client, editor, blog, clock, app):
    ask(client, "night", "Old question", contact="old@example.org")
    clock.advance(days=31)
    ask(client, "night", "New question", contact="new@example.org")
    with app.app_context():
        from liveblog.scheduler import expire_questions
        assert expire_questions(app) == 1
    contacts = {q["text"]: q["contact"] for q in inbox(client, editor)["questions"]}
    assert contacts == {"Old question": None, "New question": "new@example.org"}


@pytest.mark.parametrize("body, field", [
    ({"text": ""}, "text"),
    ({"text": "x" * 501}, "text"),
    ({"text": "ok", "name": "n" * 81}, "name"),
    ({"text": "ok", "contact": "not an email"}, "contact"),
    ({"text": "bell \x07 rings"}, "text"),
    ({"text": "ok", "extra": 1}, "extra"),
    ({"text": "ok", "altcha": "not base64!"}, "altcha"),
    ({"text": "ok", "altcha": base64.b64encode(b"[1, 2]").decode()}, "altcha"),
])
def test_a_bad_question_is_refused_and_kept_nowhere(client, editor, blog, body, field):
    body = dict(body)
    body.setdefault("altcha", solution(client))
    assert_problem(client.post("/api/blogs/night/questions", json=body), 422, fields=[field])
    assert inbox(client, editor)["counts"]["pending"] == 0


def test_a_forged_or_replayed_solution_is_refused(client, editor, blog):
    c = client.get("/api/challenge").get_json()
    good = solution(client, c)
    forged = dict(c, signature="0" * 64)
    forged_solution = solution(client, forged)  # a solution of a challenge we never signed
    assert_problem(ask(client, "night", altcha=forged_solution), 422, fields=["altcha"])
    wrong = json.loads(base64.b64decode(good))
    wrong["number"] += 1
    assert_problem(ask(client, "night", altcha=base64.b64encode(
        json.dumps(wrong).encode()).decode()), 422, fields=["altcha"])
    assert ask(client, "night", altcha=good).status_code == 202
    assert_problem(ask(client, "night", altcha=good), 422, fields=["altcha"])  # replayed
    assert inbox(client, editor)["counts"]["pending"] == 1


def test_an_expired_solution_is_refused(client, editor, blog, clock):
    old = solution(client)
    clock.advance(minutes=11)
    assert_problem(ask(client, "night", altcha=old), 422, fields=["altcha"])
    assert inbox(client, editor)["counts"]["pending"] == 0


def test_a_blog_that_takes_no_questions_or_is_closed_says_so(client, editor, blog):
    enable(client, editor, "night", on=False)
    assert_problem(ask(client, "night"), 409)
    enable(client, editor, "night")
    assert client.post("/api/blogs/night/close", headers=editor).status_code == 200
    assert_problem(ask(client, "night"), 409)
    assert_problem(ask(client, "nothing-here"), 404)


@pytest.mark.parametrize("app_config", [{"QUESTIONS_PER_HOUR": 2,
                                         "TRUSTED_PROXIES": ["127.0.0.1"]}])
def test_one_address_is_limited_and_a_forged_forwarded_for_is_not_an_escape(client, editor,
                                                                           blog, clock):
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    stranger = {"REMOTE_ADDR": "198.51.100.9"}

    def from_(environ, forwarded=None):
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        return client.post("/api/blogs/night/questions", environ_base=environ, headers=headers,
                           json={"text": "Hello", "altcha": solution(client)})

    assert from_(proxy, "203.0.113.5").status_code == 202
    assert from_(proxy, "203.0.113.5").status_code == 202
    limited = from_(proxy, "203.0.113.5")
    assert_problem(limited, 429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 3600
    assert from_(proxy, "203.0.113.6").status_code == 202  # another reader behind the proxy
    # a client that is no proxy cannot pose as many readers
    assert from_(stranger, "192.0.2.1").status_code == 202
    assert from_(stranger, "192.0.2.2").status_code == 202
    assert_problem(from_(stranger, "192.0.2.3"), 429)
    clock.advance(hours=1, seconds=1)
    assert from_(proxy, "203.0.113.5").status_code == 202
    assert inbox(client, editor)["counts"]["pending"] == 6


def test_a_body_past_the_limit_is_refused_before_it_is_read(client, blog):
    big = b'{"text": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    response = client.post("/api/blogs/night/questions", data=big,
                           headers={"Content-Type": "application/json"})
    assert_problem(response, 413)


def test_a_page_on_another_site_may_send_a_question(client, blog):
    preflight = client.options("/api/blogs/night/questions", headers={
        "Origin": "https://news.example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Methods"] == "POST"
    assert preflight.headers["Access-Control-Allow-Headers"] == "Content-Type"
    refused = ask(client, "night", altcha="bad")
    assert refused.headers["Access-Control-Allow-Origin"] == "*"  # its error is readable too
