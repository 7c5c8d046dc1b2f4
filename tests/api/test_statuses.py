"""Every status the OpenAPI document lists for an operation can happen, shown by a request
that gets it. The document is walked completely: a status some operation lists must be shown
by a rule below (one request shape that applies to every operation listing it) or by a row of
:data:`SCENARIOS` (a state and a request of that operation's own), or be named in
:data:`ELSEWHERE` with the test that shows it where it needs more than one process.

Shown elsewhere, by kind: a 2xx, 401 and 403 in the access table (tests/api/test_access.py,
which also fails on a status the document does not list), 412 and 428 in
tests/api/test_preconditions.py, 304 in tests/test_caching.py.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .helpers import assert_problem, create_blog, create_post

#: statuses shown by the tests named in the module's docstring
SHOWN_BY_KIND = {"200", "201", "202", "204", "304", "401", "403", "412", "428", "default"}

V1 = {"If-Match": '"1"'}
TOO_LARGE = b'{"headline": "' + b"a" * (1024 * 1024 + 16) + b'"}'


@dataclass
class World:
    """A blog with one post of each state the scenarios need, and who asks."""

    client: Any
    headers: dict[str, dict[str, str]]  # by role
    blog: dict
    other: dict  # a second blog
    post: dict  # published
    draft: dict
    own: dict  # a contributor's draft
    hook: dict

    def ids(self, **overrides: str) -> dict[str, str]:
        return {"blog": self.blog["id"], "post": self.post["id"], "slug": self.blog["slug"],
                "hook_id": self.hook["id"], "person": "nobody", "level": "0", "path": "000",
                "name": "nothing.png", "digest": "0" * 16, "filename": "reader.js",
                "zone": "Europe/Oslo", "question": "nothing", "poll": "nothing.p",
                **overrides}

    def ask(self, method: str, path: str, role: str = "admin", **kwargs: Any):
        return self.client.open(path, method=method, headers={
            **self.headers[role], **kwargs.pop("headers", {})}, **kwargs)


def role_for(path: str) -> str:
    """Who may ask ``path`` (so that what answers is the rule tried, not access)."""
    if path.endswith("/redact"):
        return "legal"
    if path.endswith("/history") or path.startswith(("/api/events", "/api/audit")):
        return "auditor"
    return "admin"


@pytest.fixture
def app_config():
    """Webhooks allowed to a local address (no name lookups in a test); one question an hour
    and one vote a poll from an address (the test client's one)."""
    return {"WEBHOOK_ALLOW_PRIVATE": True, "QUESTIONS_PER_HOUR": 1, "VOTES_PER_ADDRESS": 1}


@pytest.fixture
def world(client, tokens):
    headers = {role: tokens.headers(role, role.title()) for role in
               ("admin", "editor", "legal", "auditor")}
    blog = create_blog(client, headers["admin"], slug="statuses")
    other = create_blog(client, headers["admin"], slug="others")
    post = create_post(client, headers["admin"], blog["id"], headline="Shown",
                       status="published")
    draft = create_post(client, headers["admin"], blog["id"], headline="Unseen", status="draft")
    headers["contributor"] = tokens.headers("contributor", "Cora", [blog["id"]])
    own = create_post(client, headers["contributor"], blog["id"], headline="Mine",
                      status="draft")
    hook = client.post("/api/webhooks", headers=headers["admin"], json={
        "url": "http://127.0.0.1:9/in", "events": ["post.published"]})
    assert hook.status_code == 201, hook.get_json()
    return World(client, headers, blog, other, post, draft, own, hook.get_json())


def url(path: str, values: dict[str, str]) -> str:
    return path.format(**values)


# -- rules: one request shape for every operation that lists the status ----------------------


def writes_json(method: str, path: str) -> bool:
    """The operations whose bodies the edge reads as JSON (api/edge.py), with or without a
    schema of their own: it refuses another media type, a body too large, an unreadable one and
    a malformed Idempotency-Key."""
    return method in {"POST", "PATCH", "PUT"} and path.startswith("/api/") and (
        path != "/api/media")


def bad_idempotency_key(world: World, method: str, path: str) -> Any:
    return world.ask(method, url(path, world.ids()), role_for(path),
                     headers={"Idempotency-Key": "k" * 256})


def too_large(world: World, method: str, path: str) -> Any:
    return world.ask(method, url(path, world.ids()), role_for(path), data=TOO_LARGE,
                     content_type="application/json")


def not_json(world: World, method: str, path: str) -> Any:
    return world.ask(method, url(path, world.ids()), role_for(path), data=b"plain words",
                     content_type="text/plain")


def wrong_shape(world: World, method: str, path: str) -> Any:
    return world.ask(method, url(path, world.ids()), role_for(path),
                     json=["not", "an", "object"])


#: what an operation needs besides its path to get as far as looking it up
VALID: dict[tuple[str, str], Any] = {
    ("GET", "/api/blogs/{blog}/posts/{post}/proof"): {"query_string": {"version": 1}},
    ("GET", "/blogs/{slug}/live"): lambda world: {"query_string": {
        "since": world.blog["cursor"]}},
    ("PATCH", "/api/blogs/{blog}"): {"json": {"title": "Renamed"}, "headers": V1},
    ("PATCH", "/api/blogs/{blog}/posts/{post}"): {"json": {"headline": "Changed"},
                                                   "headers": V1},
    ("PATCH", "/api/webhooks/{hook_id}"): {"json": {"active": False}},
    ("POST", "/api/blogs/{blog}/posts"): {"json": {"headline": "New"}},
    ("POST", "/api/blogs/{blog}/posts/{post}/approve"): {"json": {}, "headers": V1},
    ("POST", "/api/blogs/{blog}/posts/{post}/corrections"): {
        "json": {"text": "Put right", "reason": "factual"}, "headers": V1},
    ("POST", "/api/blogs/{blog}/posts/{post}/redact"): {"json": {"reason": "Court order"}},
    ("POST", "/api/blogs/{blog}/posts/{post}/reject"): {"json": {"note": "No"}},
    ("POST", "/api/webhooks/{hook_id}/replay"): {"json": {"after": 0}},
    ("PUT", "/api/blogs/{blog}/members/{person}"): {"json": {"role": "contributor"}},
    ("POST", "/api/blogs/{blog}/questions"): {"json": {"text": "Hi", "altcha": "x"}},
    ("POST", "/api/blogs/{blog}/questions/{question}/answer"): {
        "json": {"body": [{"type": "paragraph", "text": "Yes"}]}},
    ("POST", "/api/polls/{poll}/votes"): {"json": {"option": "x"}},
}


def unknown_last_name(world: World, method: str, path: str) -> Any:
    last = path.rsplit("{", 1)[1].split("}")[0]
    valid = VALID.get((method, path), {})
    return world.ask(method, url(path, world.ids(**{last: "nothing-by-this-name"})),
                     role_for(path), **(valid(world) if callable(valid) else valid))


#: status -> (which operations it applies to, given the document's entry; the request)
RULES: dict[str, tuple[Callable[[str, str, dict], bool], Callable[..., Any]]] = {
    "400": (lambda method, path, op: writes_json(method, path), bad_idempotency_key),
    "413": (lambda method, path, op: writes_json(method, path), too_large),
    "415": (lambda method, path, op: writes_json(method, path), not_json),
    "422": (lambda method, path, op: "requestBody" in op and path != "/api/media",
            wrong_shape),
    "404": (lambda method, path, op: "{" in path, unknown_last_name),
}


# -- scenarios: a state and a request of one operation's own ---------------------------------


def _close(world: World, blog: dict) -> None:
    assert world.ask("POST", f"/api/blogs/{blog['id']}/close").status_code == 200


def _blog_closed(method: str, path: str, **kwargs: Any) -> Callable[[World], Any]:
    def scenario(world: World) -> Any:
        _close(world, world.blog)
        return world.ask(method, url(path, world.ids()), role_for(path), **kwargs)
    return scenario


def _on_draft(method: str, path: str, **kwargs: Any) -> Callable[[World], Any]:
    def scenario(world: World) -> Any:
        return world.ask(method, url(path, world.ids(post=world.draft["id"])), role_for(path),
                         **kwargs)
    return scenario


def _ask(method: str, path: str, role: str = "admin", **kwargs: Any) -> Callable[[World], Any]:
    return lambda world: world.ask(method, url(path, world.ids()), role, **kwargs)


def _twice(method: str, path: str, **kwargs: Any) -> Callable[[World], Any]:
    """The request a second time (on the draft), after it was done."""
    def scenario(world: World) -> Any:
        target = url(path, world.ids(post=world.draft["id"]))
        first = world.ask(method, target, role_for(path), **kwargs)
        assert first.status_code < 300, first.get_json()
        return world.ask(method, target, role_for(path), **kwargs)
    return scenario


def _key_reused(method: str, path: str, *, role: str = "admin", own: bool = False,
                before: Callable[[World], None] | None = None) -> Callable[[World], Any]:
    """An Idempotency-Key that did the request, sent again with another body."""
    def scenario(world: World) -> Any:
        if before is not None:
            before(world)
        target = url(path, world.ids(**({"post": world.own["id"]} if own else {})))
        key = {"Idempotency-Key": "once"}
        first = world.ask(method, target, role, headers=key)
        assert first.status_code < 300, first.get_json()
        return world.ask(method, target, role, headers=key, json={"other": "body"})
    return scenario


def _asked(world: World, *, twice: bool = False) -> Any:
    """The blog takes questions; one is asked (and, ``twice``, another from the address)."""
    from .test_questions import solution

    blog = world.blog["id"]
    etag = world.ask("GET", f"/api/blogs/{blog}").headers["ETag"]
    assert world.ask("PATCH", f"/api/blogs/{blog}", json={"questions_enabled": True},
                     headers={"If-Match": etag}).status_code == 200
    asked = [world.client.post(f"/api/blogs/{blog}/questions",
                               json={"text": "When?", "altcha": solution(world.client)})
             for _ in range(2 if twice else 1)]
    assert asked[0].status_code == 202, asked[0].get_json()
    return asked[-1]


def _rejected(world: World) -> str:
    """A question the blog's editors rejected: its path."""
    path = f"/api/blogs/{world.blog['id']}/questions/{_asked(world).get_json()['id']}"
    assert world.ask("POST", path + "/reject").status_code == 200
    return path


def _vote(world: World, *, closed: bool) -> Any:
    """A vote in a closed poll, or a second reader's vote from the same address."""
    post = create_post(world.client, world.headers["admin"], world.blog["id"], body=[
        {"type": "poll", "question": "Who?", "options": ["A", "B"]}])
    poll = post["body"][0]
    option = {"option": poll["options"][0]["id"]}
    if closed:
        assert world.ask("POST", f"/api/polls/{poll['id']}/close").status_code == 200
    else:
        first = world.client.post(f"/api/polls/{poll['id']}/votes", json=option)
        assert first.status_code == 202
    reader = world.client.application.test_client()  # another reader (their own cookies)
    return reader.post(f"/api/polls/{poll['id']}/votes", json=option)


SCENARIOS: dict[tuple[str, str, str], Callable[[World], Any]] = {
    ("POST", "/api/blogs", "409"): _ask("POST", "/api/blogs",
                                        json={"title": "Again", "slug": "statuses"}),
    ("PATCH", "/api/blogs/{blog}", "409"): _ask(
        "PATCH", "/api/blogs/{blog}", json={"slug": "others"}, headers=V1),
    ("POST", "/api/blogs/{blog}/close", "409"): _blog_closed(
        "POST", "/api/blogs/{blog}/close"),
    ("POST", "/api/blogs/{blog}/reopen", "409"): _ask("POST", "/api/blogs/{blog}/reopen"),
    ("POST", "/api/blogs/{blog}/posts", "409"): _blog_closed(
        "POST", "/api/blogs/{blog}/posts", json={"headline": "Late"}),
    ("PATCH", "/api/blogs/{blog}/posts/{post}", "409"): _ask(
        "PATCH", "/api/blogs/{blog}/posts/{post}", json={"publish_at": "2099-01-01T00:00:00Z"},
        headers=V1),
    ("DELETE", "/api/blogs/{blog}/posts/{post}", "409"): _twice(
        "DELETE", "/api/blogs/{blog}/posts/{post}"),
    ("POST", "/api/blogs/{blog}/posts/{post}/corrections", "409"): _on_draft(
        "POST", "/api/blogs/{blog}/posts/{post}/corrections",
        json={"text": "Put right", "reason": "factual"}, headers=V1),
    ("POST", "/api/blogs/{blog}/posts/{post}/redact", "409"): _twice(
        "POST", "/api/blogs/{blog}/posts/{post}/redact", json={"reason": "Court order"}),
    ("POST", "/api/blogs/{blog}/posts/{post}/submit", "409"): _ask(
        "POST", "/api/blogs/{blog}/posts/{post}/submit", headers=V1),
    ("POST", "/api/blogs/{blog}/posts/{post}/approve", "409"): _on_draft(
        "POST", "/api/blogs/{blog}/posts/{post}/approve", json={}, headers=V1),
    ("POST", "/api/blogs/{blog}/posts/{post}/reject", "409"): _on_draft(
        "POST", "/api/blogs/{blog}/posts/{post}/reject", json={"note": "No"}, headers=V1),
    ("POST", "/api/blogs/{blog}/posts/{post}/unpublish", "409"): _on_draft(
        "POST", "/api/blogs/{blog}/posts/{post}/unpublish", json={"reason": "No"},
        headers=V1),
    ("GET", "/api/blogs/{blog}/posts", "400"): _ask(
        "GET", "/api/blogs/{blog}/posts?cursor=not-a-cursor"),
    ("GET", "/api/blogs/{blog}/posts", "422"): _ask("GET", "/api/blogs/{blog}/posts?limit=-1"),
    ("GET", "/api/blogs/{blog}/changes", "400"): _ask(
        "GET", "/api/blogs/{blog}/changes?since=not-a-cursor"),
    ("GET", "/api/blogs/{blog}/changes", "422"): _ask(
        "GET", "/api/blogs/{blog}/changes?wait=-1"),
    ("POST", "/api/blogs/{blog}/close", "422"): _key_reused("POST", "/api/blogs/{blog}/close"),
    ("POST", "/api/blogs/{blog}/reopen", "422"): _key_reused(
        "POST", "/api/blogs/{blog}/reopen", before=lambda world: _close(world, world.blog)),
    ("POST", "/api/blogs/{blog}/posts/{post}/submit", "422"): _key_reused(
        "POST", "/api/blogs/{blog}/posts/{post}/submit", role="contributor", own=True),
    ("POST", "/api/webhooks/{hook_id}/rotate-secret", "422"): _key_reused(
        "POST", "/api/webhooks/{hook_id}/rotate-secret"),
    ("DELETE", "/api/blogs/{blog}/posts/{post}", "422"): _on_draft(
        "DELETE", "/api/blogs/{blog}/posts/{post}?reason=" + "x" * 2000, headers=V1),
    ("GET", "/api/events", "404"): _ask("GET", "/api/events?blog=nothing-by-this-name",
                                        "auditor"),
    ("GET", "/api/events", "422"): _ask("GET", "/api/events?limit=-1", "auditor"),
    ("GET", "/api/audit/checkpoints", "422"): _ask("GET", "/api/audit/checkpoints?limit=-1",
                                                   "auditor"),
    ("GET", "/api/blogs/{blog}/posts/{post}/proof", "422"): _ask(
        "GET", "/api/blogs/{blog}/posts/{post}/proof?version=0"),
    ("GET", "/api/blogs/{blog}/candidates", "422"): _ask(
        "GET", "/api/blogs/{blog}/candidates?q=" + "x" * 500),
    ("GET", "/api/webhooks/{hook_id}/deliveries", "422"): _ask(
        "GET", "/api/webhooks/{hook_id}/deliveries?limit=-1"),
    ("GET", "/blogs/{slug}/live", "400"): _ask("GET", "/blogs/{slug}/live?since=not-a-cursor"),
    ("POST", "/api/media", "413"): _ask("POST", "/api/media", headers={
        "Content-Type": "image/png"}, data=b"\x89PNG" + b"\0" * (20 * 1024 * 1024)),
    ("POST", "/api/media", "415"): _ask("POST", "/api/media", data=b"words",
                                        content_type="text/plain"),
    ("POST", "/api/media", "422"): _ask("POST", "/api/media", data=b"\x89PNG but no image",
                                        content_type="image/png"),
    ("GET", "/api/blogs/{blog}/questions", "422"): _ask(
        "GET", "/api/blogs/{blog}/questions?status=spam"),
    ("POST", "/api/blogs/{blog}/questions", "409"): _ask(  # the blog takes no questions
        "POST", "/api/blogs/{blog}/questions", json={"text": "Hi", "altcha": "x"}),
    ("POST", "/api/blogs/{blog}/questions", "429"): lambda world: _asked(world, twice=True),
    ("POST", "/api/blogs/{blog}/questions/{question}/answer", "409"): lambda world: world.ask(
        "POST", _rejected(world) + "/answer", json={"body": [{"type": "paragraph",
                                                              "text": "Yes"}]}),
    ("POST", "/api/blogs/{blog}/questions/{question}/reject", "409"): lambda world: world.ask(
        "POST", _rejected(world) + "/reject"),
    ("POST", "/api/polls/{poll}/votes", "409"): lambda world: _vote(world, closed=True),
    ("POST", "/api/polls/{poll}/votes", "429"): lambda world: _vote(world, closed=False),
    ("GET", "/blogs/{slug}/theme.css", "400"): _ask("GET", "/blogs/{slug}/theme.css?accent=red"),
    ("GET", "/login", "404"): _ask("GET", "/login"),
    ("POST", "/logout", "303"): _ask("POST", "/logout"),
    ("GET", "/login/callback", "404"): _ask("GET", "/login/callback?code=x&state=y"),
}

#: statuses that need more than one process (a provider, a broken disk, a forked log): the
#: test that shows each, as "file::function"
ELSEWHERE = {
    ("GET", "/healthz", "503"):
        "tests/e2e/test_scheduler_watch.py::test_every_node_reports_storage_that_refuses_writes",
    ("GET", "/log/checkpoint", "503"): "tests/cli/test_prove.py::"
        "test_a_database_restored_from_an_older_backup_is_refused_a_checkpoint",
    ("GET", "/api/blogs/{blog}/posts/{post}/proof", "503"): "tests/cli/test_prove.py::"
        "test_a_database_restored_from_an_older_backup_is_refused_a_checkpoint",
    ("GET", "/login", "302"): "tests/e2e/test_signin.py::"
        "test_a_contributor_signs_in_through_the_provider_and_gets_their_desk",
    ("GET", "/login", "502"):
        "tests/e2e/test_signin.py::test_a_provider_that_is_not_the_configured_issuer_is_refused",
    ("GET", "/login/callback", "303"):
        "tests/e2e/test_signin.py::test_an_expired_or_replayed_code_is_refused_with_a_page",
    ("GET", "/login/callback", "400"):
        "tests/e2e/test_signin.py::test_a_forged_callback_is_refused_with_a_page",
}


def operations(spec: dict) -> dict[tuple[str, str], dict]:
    return {(method.upper(), path): op
            for path, item in spec["paths"].items() for method, op in item.items()
            if method in ("get", "post", "put", "patch", "delete")}


def shown_by(method: str, path: str, operation: dict, status: str) -> str | None:
    """How the document's ``status`` for the operation is shown: "scenario", "rule",
    "elsewhere", "kind" (the docstring's tests), or None."""
    if (method, path, status) in SCENARIOS:
        return "scenario"
    if (method, path, status) in ELSEWHERE:
        return "elsewhere"
    if status in RULES and RULES[status][0](method, path, operation):
        return "rule"
    return "kind" if status in SHOWN_BY_KIND else None


def test_every_status_the_document_lists_is_shown(client):
    documented = operations(client.get("/openapi.json").get_json())
    unshown = sorted((method, path, status) for (method, path), op in documented.items()
                     for status in op["responses"]
                     if shown_by(method, path, op, status) is None)
    assert unshown == [], "each needs a rule, a scenario or the test that shows it elsewhere"
    listed = {(method, path, status) for method, path, status in [*SCENARIOS, *ELSEWHERE]
              if status not in documented.get((method, path), {}).get("responses", {})}
    assert listed == set(), "rows for statuses the document does not list"


@pytest.mark.parametrize("key", sorted(SCENARIOS), ids="-".join)
def test_a_scenario_gets_its_status(world, key):
    answer = SCENARIOS[key](world)
    if key[1].startswith("/api/"):
        assert_problem(answer, int(key[2]))
    else:  # a page: its own HTML
        assert answer.status_code == int(key[2]), answer.get_data(as_text=True)[:500]


def test_every_rule_gets_its_status_on_every_operation_it_applies_to(client, world):
    documented = operations(client.get("/openapi.json").get_json())
    failures = []
    for (method, path), op in sorted(documented.items()):
        for status in sorted(op["responses"]):
            if shown_by(method, path, op, status) != "rule":
                continue
            answer = RULES[status][1](world, method, path)
            if answer.status_code != int(status):
                failures.append((method, path, status, answer.status_code))
            elif answer.mimetype != "application/problem+json" and not path.startswith(
                    ("/blogs/", "/console", "/assets", "/media")):
                failures.append((method, path, status, answer.mimetype))
    assert failures == [], "\n".join(map(str, failures))


def test_what_is_shown_elsewhere_names_a_test_that_exists():
    root = Path(__file__).resolve().parents[2]
    for where in ELSEWHERE.values():
        file, function = where.split("::")
        tree = ast.parse((root / file).read_text())
        names = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert function in names, where
