"""Webhooks through the API, delivered to a real receiver process by the real deliverer: signed
(checked with the reference ``standardwebhooks`` package), in log order, built from what readers
see when sent, retried with growing delays, disabled by a 410 or three days of failure."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from liveblog.service import Actor
from tests.peers import Receiver

from .helpers import assert_problem

CLI = Actor("cli", "tests")


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def admin(app):
    from liveblog.api.views import service
    from liveblog.tokens import create_token

    with app.app_context():
        _, secret = create_token(service(), "admin", "Ada Admin", CLI)
    return {"Authorization": f"Bearer {secret}"}


def deliver(app):
    """One run of the scheduler's job (the same code), as the scheduler would make it."""
    from liveblog.webhooks import Deliverer, Settings

    db = app.extensions["liveblog"]
    deliverer = Deliverer(db, Settings.from_config(app.config), db.now)
    try:
        return deliverer.run()
    finally:
        deliverer.pool.shutdown()


def _subscribe(client, admin, url, **fields):
    response = client.post("/api/webhooks", json={"url": url, **fields}, headers=admin)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _bodies(receiver):
    return [json.loads(d["body"]) for d in receiver.received()]


@pytest.fixture
def private(app):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True


def test_deliveries_are_signed_in_order_and_say_what_readers_see(
        app, client, admin, receiver, private):
    blog = client.post("/api/blogs", json={"title": "Election night"}, headers=admin).get_json()
    hook = _subscribe(client, admin, receiver.url, blogs=[blog["slug"]])
    assert hook["secret"].startswith("whsec_") and hook["blogs"] == [blog["slug"]]
    other = client.post("/api/blogs", json={"title": "Cup final"}, headers=admin).get_json()
    posts = f"/api/blogs/{blog['id']}/posts"
    post = client.post(posts, json={"headline": "Polls close"}, headers=admin).get_json()
    client.post(f"/api/blogs/{other['id']}/posts", json={"headline": "Kick-off"}, headers=admin)
    draft = client.post(posts, json={"headline": "Secret draft", "status": "draft"},
                        headers=admin).get_json()
    client.patch(f"{posts}/{draft['id']}", json={"headline": "Still secret"},
                 headers={**admin, "If-Match": '"1"'})
    client.patch(f"{posts}/{post['id']}", json={"headline": "Polls have closed"},
                 headers={**admin, "If-Match": '"1"'})
    assert deliver(app) == 2
    client.post(f"{posts}/{post['id']}/unpublish", headers=admin)
    client.post(f"/api/blogs/{blog['id']}/close", headers=admin)
    assert deliver(app) == 2
    received = receiver.received()
    verifier = Verifier(hook["secret"])
    for delivery in received:  # the reference implementation accepts each signature
        verifier.verify(delivery["body"], delivery["headers"])
    bodies = [json.loads(d["body"]) for d in received]
    assert [b["type"] for b in bodies] == ["post.published", "post.updated", "post.deleted",
                                           "blog.closed"]
    positions = [b["position"] for b in bodies]
    assert positions == sorted(positions)
    # built when sent: the edit had happened by then, so both carry the new headline
    assert bodies[0]["data"]["post"]["headline"] == "Polls have closed"
    assert bodies[1]["data"]["post"]["headline"] == "Polls have closed"
    assert bodies[2]["data"]["post"] == {"id": post["id"]}
    text = json.dumps(bodies)
    assert "Secret draft" not in text and "Still secret" not in text
    assert "Kick-off" not in text  # another blog
    assert bodies[3]["data"]["blog"]["status"] == "closed"
    assert set(bodies[0]) == {"type", "timestamp", "position", "data"}
    ids = [d["headers"]["webhook-id"] for d in received]
    assert len(set(ids)) == 4
    # nothing more to send: the cursor is at the head
    assert deliver(app) == 0
    listed = client.get(f"/api/webhooks/{hook['id']}/deliveries", headers=admin).get_json()
    assert [d["outcome"] for d in listed["deliveries"]] == ["delivered"] * 4


def test_a_failing_receiver_is_retried_later_in_order_and_redacted_text_never_leaves(
        app, client, admin, receiver, private, clock):
    blog = client.post("/api/blogs", json={"title": "Court"}, headers=admin).get_json()
    hook = _subscribe(client, admin, receiver.url)
    posts = f"/api/blogs/{blog['id']}/posts"
    first = client.post(posts, json={"headline": "Named in court: J. Smith"},
                        headers=admin).get_json()
    client.post(posts, json={"headline": "Second"}, headers=admin)
    receiver.answer(500, times=2)
    assert deliver(app) == 0
    state = client.get(f"/api/webhooks/{hook['id']}", headers=admin).get_json()
    assert state["failing_since"] is not None and state["next_attempt_at"] > clock.now.isoformat()
    assert deliver(app) == 0  # not due yet: nothing is tried
    assert len(receiver.received()) == 1
    # meanwhile the first post is redacted: the retry says it is gone, without its text
    legal = _legal(app)
    assert client.post(f"{posts}/{first['id']}/redact", json={"reason": "Court order"},
                       headers=legal).status_code == 200
    clock.advance(seconds=5)
    assert deliver(app) == 0  # the second failure
    clock.advance(seconds=30)
    assert deliver(app) == 3  # published (now deleted), second, deleted
    bodies = _bodies(receiver)
    # the first attempt went out while the post was public; every later one says it is gone
    assert [b["type"] for b in bodies] == ["post.published", "post.deleted", "post.deleted",
                                           "post.published", "post.deleted"]
    assert "J. Smith" not in json.dumps(bodies[1:])
    assert bodies[2]["data"]["post"] == {"id": first["id"]}
    headers = [d["headers"]["webhook-id"] for d in receiver.received()]
    assert headers[0] == headers[1] == headers[2]  # the same message, retried
    attempts = client.get(f"/api/webhooks/{hook['id']}/deliveries?limit=10",
                          headers=admin).get_json()["deliveries"]
    assert [(d["outcome"], d["attempt"], d["error"]) for d in attempts][-3:] == [
        ("delivered", 3, None), ("failed", 2, "HTTP 500"), ("failed", 1, "HTTP 500")]


def _legal(app):
    from liveblog.api.views import service
    from liveblog.tokens import create_token

    with app.app_context():
        _, secret = create_token(service(), "legal", "Legal desk", CLI)
    return {"Authorization": f"Bearer {secret}"}


def test_a_receiver_that_is_down_gets_everything_in_order_once_it_is_back(
        app, client, admin, receiver, private, clock):
    blog = client.post("/api/blogs", json={"title": "Outage"}, headers=admin).get_json()
    hook = _subscribe(client, admin, receiver.url)
    receiver.stop()  # the partner's server is down: connections are refused
    for headline in ("One", "Two", "Three"):
        client.post(f"/api/blogs/{blog['id']}/posts", json={"headline": headline},
                    headers=admin)
    assert deliver(app) == 0
    failed = client.get(f"/api/webhooks/{hook['id']}/deliveries", headers=admin).get_json()
    assert failed["deliveries"][0]["outcome"] == "failed"
    assert "ConnectionError" in failed["deliveries"][0]["error"]
    back = Receiver(receiver.port)  # back, on the same address
    try:
        clock.advance(seconds=5)
        assert deliver(app) == 3
        assert [b["data"]["post"]["headline"] for b in _bodies(back)] == ["One", "Two", "Three"]
    finally:
        back.stop()


def test_a_410_disables_the_webhook_and_replay_starts_it_again(
        app, client, admin, receiver, private):
    blog = client.post("/api/blogs", json={"title": "Gone"}, headers=admin).get_json()
    hook = _subscribe(client, admin, receiver.url)
    client.post(f"/api/blogs/{blog['id']}/posts", json={"headline": "One"}, headers=admin)
    receiver.answer(410)
    deliver(app)
    state = client.get(f"/api/webhooks/{hook['id']}", headers=admin).get_json()
    assert state["active"] is False and "410" in state["disabled_reason"]
    receiver.answer(200)
    assert deliver(app) == 0  # disabled: nothing is sent
    replayed = client.post(f"/api/webhooks/{hook['id']}/replay", json={"after": 0},
                           headers=admin)
    assert replayed.get_json()["active"] is True
    assert deliver(app) == 1
    assert [b["type"] for b in _bodies(receiver)] == ["post.published", "post.published"]


def test_three_days_of_failure_disable_the_webhook(app, client, admin, receiver, private,
                                                    clock):
    app.config["WEBHOOK_RETRY_DELAYS"] = [60, 3600, 86400]
    blog = client.post("/api/blogs", json={"title": "Down"}, headers=admin).get_json()
    hook = _subscribe(client, admin, receiver.url)
    client.post(f"/api/blogs/{blog['id']}/posts", json={"headline": "One"}, headers=admin)
    receiver.answer(503)
    waits = []
    while client.get(f"/api/webhooks/{hook['id']}", headers=admin).get_json()["active"]:
        deliver(app)
        state = client.get(f"/api/webhooks/{hook['id']}", headers=admin).get_json()
        if state["next_attempt_at"]:
            waits.append(state["next_attempt_at"])
            clock.now = datetime.fromisoformat(state["next_attempt_at"])
        assert len(waits) < 20
    assert "3 days" in state["disabled_reason"]
    assert len(receiver.received()) == len(waits) + 1 >= 4


def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(app, client, admin, receiver,
                                                             private):
    blog = client.post("/api/blogs", json={"title": "Rotate"}, headers=admin).get_json()
    hook = _subscribe(client, admin, receiver.url)
    new = client.post(f"/api/webhooks/{hook['id']}/rotate-secret", headers=admin).get_json()
    assert new["secret"] != hook["secret"]
    client.post(f"/api/blogs/{blog['id']}/posts", json={"headline": "One"}, headers=admin)
    deliver(app)
    delivery = receiver.received()[0]
    assert len(delivery["headers"]["webhook-signature"].split(" ")) == 2
    for secret in (hook["secret"], new["secret"]):
        Verifier(secret).verify(delivery["body"], delivery["headers"])


def test_webhook_urls_on_private_addresses_are_refused(app, client, admin):
    for url in ("http://127.0.0.1:9/hook", "http://localhost/hook",  # a name for 127.0.0.1
                "http://169.254.169.254/latest", "http://10.0.0.8/hook", "http://[::1]/hook",
                "ftp://example.com/x"):
        response = client.post("/api/webhooks", json={"url": url}, headers=admin)
        assert_problem(response, 422, fields=["url"])
    assert client.get("/api/webhooks", headers=admin).get_json()["webhooks"] == []


def test_the_same_idempotency_key_creates_one_webhook(app, client, admin):
    headers = {**admin, "Idempotency-Key": "partner-1"}
    body = {"url": "https://93.184.215.14/hook", "events": ["post.published"]}
    first = client.post("/api/webhooks", json=body, headers=headers)
    again = client.post("/api/webhooks", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert len(client.get("/api/webhooks", headers=admin).get_json()["webhooks"]) == 1
    assert_problem(client.post("/api/webhooks", json={**body, "events": None},
                               headers=headers), 422)
    editor = client.post("/api/webhooks", json=body, headers=_legal(app))
    assert_problem(editor, 403)
