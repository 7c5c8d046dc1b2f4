"""Who may do what on which blog, shown complete: every operation of /openapi.json, asked by
every kind of person, on a blog they belong to and on one they do not, against the contract's
answer written out here by hand (never derived from the code under test).

An operation the document lists without a row here fails the test: a new route must say who
may use it.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from PIL import Image

from liveblog.domain import commands as cmd
from liveblog.service import Actor, new_id

CLI = Actor("cli", "tests")

#: who asks. On the blog a request targets, each stands as one of STANDINGS (below).
ROLES = ("admin", "newsroom_editor", "editor_here", "editor_elsewhere", "contributor",
         "contributor_not_author", "auditor", "legal", "reader", "bad_token")

EDITORS = {"admin", "newsroom_editor", "member_editor"}
CONTRIBUTORS = {"author", "contributor_not_author"}
WRITERS = EDITORS | CONTRIBUTORS
AUDIT = {"auditor", "legal"}
TOKENS = WRITERS | AUDIT | {"outsider"}
EVERYONE = TOKENS | {"reader"}


def standing(role: str, target: str) -> str:
    """What ``role`` is on the ``target`` blog ("own": the one the contributors and
    editor_here belong to; "other": the one editor_elsewhere belongs to)."""
    if role in ("editor_here", "editor_elsewhere"):
        home = "own" if role == "editor_here" else "other"
        return "member_editor" if target == home else "outsider"
    if role in ("contributor", "contributor_not_author"):
        if target != "own":
            return "outsider"
        return "author" if role == "contributor" else "contributor_not_author"
    return role


@dataclass
class Case:
    """One operation in one state, and who may.

    :param allowed: standings answered ``ok``; every other person with a token gets
        ``denied``, a reader ``reader`` (401 where a token is needed), a bad token 401.
    """

    method: str
    path: str  # the OpenAPI path
    allowed: set[str]
    ok: int = 200
    denied: int = 403
    reader: int | None = None  # default: ok when readers are allowed, else 401
    post: str | None = None  # the post's state made fresh for each ask: draft, submitted...
    body: Any = None
    query: str = ""
    if_match: bool = False
    setup: str | None = None  # something else the case needs (see World.prepare)
    headers: dict[str, str] = field(default_factory=dict)


PUBLIC = EVERYONE


@pytest.fixture
def app_config():
    """Every ask comes from the test client's one address: no per-address limit in the way."""
    return {"QUESTIONS_PER_HOUR": 100_000, "VOTES_PER_ADDRESS": 100_000}
CASES = [
    Case("GET", "/api/blogs", PUBLIC),
    Case("POST", "/api/blogs", {"admin", "newsroom_editor"}, 201, body={"title": "New"}),
    Case("GET", "/api/blogs/{blog}", PUBLIC),
    Case("PATCH", "/api/blogs/{blog}", EDITORS, body={"title": "Renamed"}, if_match=True),
    Case("POST", "/api/blogs/{blog}/close", EDITORS),
    Case("POST", "/api/blogs/{blog}/reopen", EDITORS, setup="closed"),
    Case("GET", "/api/blogs/{blog}/posts", PUBLIC),
    Case("GET", "/api/blogs/{blog}/posts", WRITERS | AUDIT, query="status=draft,submitted"),
    Case("GET", "/api/blogs/{blog}/posts", AUDIT, query="as_of=2030-01-01T00:00:00Z"),
    Case("POST", "/api/blogs/{blog}/posts", WRITERS, 201, body={"headline": "New"}),
    Case("POST", "/api/blogs/{blog}/posts", WRITERS, 201,
         body={"headline": "New", "status": "submitted"}),
    Case("POST", "/api/blogs/{blog}/posts", EDITORS, 201,
         body={"headline": "New", "status": "published"}),
    Case("POST", "/api/blogs/{blog}/posts", EDITORS, 201,
         body={"headline": "New", "status": "draft", "pinned": True}),
    Case("GET", "/api/blogs/{blog}/posts/{post}", PUBLIC, post="published"),
    Case("GET", "/api/blogs/{blog}/posts/{post}", EDITORS | {"author"} | AUDIT, denied=404,
         reader=404, post="draft"),
    Case("GET", "/api/blogs/{blog}/posts/{post}", EDITORS | {"author"} | AUDIT, denied=404,
         reader=404, post="submitted"),
    Case("PATCH", "/api/blogs/{blog}/posts/{post}", EDITORS | {"author"}, post="draft",
         body={"headline": "Changed"}, if_match=True),
    Case("PATCH", "/api/blogs/{blog}/posts/{post}", EDITORS | {"author"}, post="submitted",
         body={"headline": "Changed"}, if_match=True),
    Case("PATCH", "/api/blogs/{blog}/posts/{post}", EDITORS, post="published",
         body={"headline": "Changed"}, if_match=True),
    Case("PATCH", "/api/blogs/{blog}/posts/{post}", EDITORS, post="draft",
         body={"pinned": True}, if_match=True),
    Case("PATCH", "/api/blogs/{blog}/posts/{post}", EDITORS, post="draft",
         body={"status": "published"}, if_match=True),
    Case("PATCH", "/api/blogs/{blog}/posts/{post}", EDITORS, post="draft",
         body={"publish_at": "2099-01-01T00:00:00Z"}, if_match=True),
    Case("DELETE", "/api/blogs/{blog}/posts/{post}", EDITORS | {"author"}, 204, post="draft"),
    Case("DELETE", "/api/blogs/{blog}/posts/{post}", EDITORS, 204, post="published"),
    Case("POST", "/api/blogs/{blog}/posts/{post}/submit", {"author"}, post="draft"),
    Case("POST", "/api/blogs/{blog}/posts/{post}/approve", EDITORS, post="submitted",
         if_match=True),
    Case("POST", "/api/blogs/{blog}/posts/{post}/reject", EDITORS, post="submitted",
         body={"note": "Needs a second source"}),
    Case("POST", "/api/blogs/{blog}/posts/{post}/unpublish", EDITORS, post="published",
         body={"reason": "Premature"}),
    Case("POST", "/api/blogs/{blog}/posts/{post}/corrections", EDITORS, 201,
         post="published", body={"text": "An earlier version misnamed the town.",
                                 "reason": "factual"}, if_match=True),
    Case("POST", "/api/blogs/{blog}/posts/{post}/redact", {"legal"}, post="published",
         body={"reason": "Court order 12/3"}),
    Case("GET", "/api/blogs/{blog}/posts/{post}/history", AUDIT, post="published"),
    Case("GET", "/api/blogs/{blog}/changes", PUBLIC, setup="cursor"),
    Case("GET", "/api/blogs/{blog}/corrections", PUBLIC),
    Case("GET", "/api/blogs/{blog}/posts/{post}/presence", WRITERS, post="draft"),
    Case("PUT", "/api/blogs/{blog}/posts/{post}/presence", WRITERS, 204, post="draft"),
    Case("DELETE", "/api/blogs/{blog}/posts/{post}/presence", WRITERS, 204, post="draft"),
    Case("GET", "/api/blogs/{blog}/presence", WRITERS),
    Case("GET", "/api/blogs/{blog}/members", WRITERS | {"admin"} | AUDIT),
    # who could be added, by name: for those who may add someone (admins, the blog's editors)
    Case("GET", "/api/blogs/{blog}/candidates", EDITORS),
    Case("PUT", "/api/blogs/{blog}/members/{person}", EDITORS, setup="newcomer",
         body={"role": "contributor"}),
    Case("PUT", "/api/blogs/{blog}/members/{person}", {"admin"}, setup="newcomer",
         body={"role": "editor"}),
    Case("DELETE", "/api/blogs/{blog}/members/{person}", EDITORS, 204,
         setup="member:contributor"),
    Case("DELETE", "/api/blogs/{blog}/members/{person}", {"admin"}, 204,
         setup="member:editor"),
    # not about one blog: the target makes no difference
    Case("POST", "/api/media", EDITORS | CONTRIBUTORS | {"outsider"}, 201, setup="image"),
    Case("GET", "/media/{name}", PUBLIC, setup="stored image"),
    Case("GET", "/api/events", AUDIT),
    Case("GET", "/api/audit/verify", AUDIT),
    Case("GET", "/api/audit/checkpoints", AUDIT),
    Case("GET", "/.well-known/liveblog-audit-key", PUBLIC),
    # proof of publication: the log anyone reads, and a proof of what readers saw
    Case("GET", "/log/checkpoint", PUBLIC),
    Case("GET", "/log/key", PUBLIC),
    Case("GET", "/log/tile/{level}/{path}", PUBLIC, setup="tile"),
    Case("GET", "/api/blogs/{blog}/posts/{post}/proof", PUBLIC, post="published",
         query="version=1"),
    Case("GET", "/api/blogs/{blog}/posts/{post}/proof", AUDIT, denied=404, reader=404,
         post="draft", query="version=1"),
    Case("GET", "/healthz", PUBLIC),
    # the operator's network (the test client is 127.0.0.1) reads metrics without a token
    Case("GET", "/metrics", {"admin"} | AUDIT, reader=200),
    Case("GET", "/api/me", TOKENS),
    # partners' webhooks: admins only
    Case("GET", "/api/webhooks", {"admin"}),
    Case("POST", "/api/webhooks", {"admin"}, 201,
         body={"url": "https://93.184.215.14/hook", "events": ["post.published"]}),
    Case("GET", "/api/webhooks/{hook_id}", {"admin"}, setup="webhook"),
    Case("PATCH", "/api/webhooks/{hook_id}", {"admin"}, setup="webhook", body={"active": False}),
    Case("DELETE", "/api/webhooks/{hook_id}", {"admin"}, 204, setup="webhook"),
    Case("POST", "/api/webhooks/{hook_id}/rotate-secret", {"admin"}, setup="webhook"),
    Case("GET", "/api/webhooks/{hook_id}/deliveries", {"admin"}, setup="webhook"),
    Case("POST", "/api/webhooks/{hook_id}/replay", {"admin"}, setup="webhook",
         body={"after": 0}),
    # the audience: questions into the blog's inbox (its writers moderate), polls
    Case("GET", "/api/challenge", PUBLIC),
    Case("POST", "/api/blogs/{blog}/questions", PUBLIC, 202, setup="solution"),
    Case("GET", "/api/blogs/{blog}/questions", WRITERS),
    Case("POST", "/api/blogs/{blog}/questions/{question}/answer", WRITERS, 201,
         setup="question", body={"body": [{"type": "paragraph", "text": "At eight."}]}),
    Case("POST", "/api/blogs/{blog}/questions/{question}/reject", WRITERS, setup="question"),
    Case("DELETE", "/api/blogs/{blog}/questions/{question}", WRITERS, 204, setup="question"),
    Case("GET", "/api/polls/{poll}", PUBLIC, setup="poll"),
    Case("POST", "/api/polls/{poll}/votes", PUBLIC, 202, setup="poll"),
    Case("POST", "/api/polls/{poll}/close", EDITORS, setup="poll"),
    # pages for people
    Case("GET", "/", PUBLIC),
    Case("GET", "/blogs/{slug}", PUBLIC),
    Case("GET", "/blogs/{slug}/live", PUBLIC, setup="cursor"),
    Case("GET", "/blogs/{slug}/fragments", PUBLIC),
    Case("GET", "/blogs/{slug}/embed", PUBLIC),
    Case("GET", "/blogs/{slug}/fragment", PUBLIC),
    Case("GET", "/blogs/{slug}/jsonld", PUBLIC),
    Case("GET", "/embed-frame.js", PUBLIC),
    Case("GET", "/embed.js", PUBLIC),
    Case("GET", "/blogs/{slug}/theme.css", PUBLIC),
    Case("GET", "/blogs/{slug}/feed.atom", PUBLIC),
    Case("GET", "/console", PUBLIC),
    Case("GET", "/console/zones/{zone}", PUBLIC, setup="zone"),
    Case("GET", "/docs", PUBLIC),
    Case("GET", "/assets/{digest}/{filename}", PUBLIC, setup="asset"),
    # sign-in through an identity provider (none is set up here: a page says so);
    # tests/e2e/test_signin.py signs in through a real one
    Case("GET", "/login", PUBLIC, 404),
    Case("GET", "/login/callback", PUBLIC, 404, query="code=x&state=y"),
    Case("POST", "/logout", PUBLIC, 303),
]


class World:
    """Two blogs, one person of each kind, and fresh posts made through the real service."""

    def __init__(self, app, client, tokens):
        from liveblog.api.views import service
        from liveblog.tokens import create_token

        self.app, self.client = app, client
        with app.app_context():
            svc = service()
            self.blogs = {}
            for target, title in (("own", "Election night"), ("other", "Cup final")):
                blog_id = new_id()
                svc.handle(cmd.CreateBlog(blog_id, title.lower().replace(" ", "-"), title), CLI)
                self.blogs[target] = blog_id
            own, other = self.blogs["own"], self.blogs["other"]
            for blog_id in (own, other):
                svc.handle(cmd.UpdateBlog(blog_id, {"questions_enabled": True}), CLI)
            made = {
                "admin": ("admin", []), "newsroom_editor": ("editor", []),
                "editor_here": ("editor", [own]), "editor_elsewhere": ("editor", [other]),
                "contributor": ("contributor", [own]),
                "contributor_not_author": ("contributor", [own]),
                "auditor": ("auditor", []), "legal": ("legal", []),
                "contributor_of_other": ("contributor", [other]),
            }
            self.ids, self.headers = {}, {}
            for role, (kind, blogs) in made.items():
                token_id, secret = create_token(svc, kind, role.replace("_", " ").title(),
                                                CLI, blogs)
                self.ids[role] = token_id
                self.headers[role] = {"Authorization": f"Bearer {secret}"}
        self.headers["reader"] = {}
        self.headers["bad_token"] = {"Authorization": "Bearer lb_000000000000_nope"}

    def service(self):
        from liveblog.api.views import service

        return service()

    def post(self, target: str, state: str) -> str:
        """A new post of the target blog in ``state``, written by that blog's contributor."""
        blog = self.blogs[target]
        author = self.ids["contributor" if target == "own" else "contributor_of_other"]
        post_id = new_id()
        content = {"headline": f"A {state} post", "byline": {"contributors": []}, "body": []}
        with self.app.app_context():
            svc = self.service()
            status = "published" if state == "published" else "draft"
            svc.handle(cmd.CreatePost(blog, post_id, content, status=status, author=author),
                       CLI)
            if state == "submitted":
                svc.handle(cmd.SubmitPost(blog, post_id), CLI)
        return post_id

    def prepare(self, case: Case, target: str) -> tuple[str, dict[str, str]]:
        """The URL to ask and any headers the case needs, in a fresh state."""
        blog = self.blogs[target]
        params = {"blog": blog, "slug": self._slug(blog)}
        headers = dict(case.headers)
        query = case.query
        if case.post:
            params["post"] = self.post(target, case.post)
            if case.if_match:
                headers["If-Match"] = '"1"' if case.post != "submitted" else '"2"'
        elif case.if_match:  # the blog's ETag
            headers["If-Match"] = self.client.get(f"/api/blogs/{blog}").headers["ETag"]
        with self.app.app_context():
            svc = self.service()
            if case.setup == "closed":
                svc.handle(cmd.CloseBlog(blog), CLI)
            elif case.setup == "newcomer":
                params["person"] = self._newcomer(svc, blogs=[self.blogs["other"]])
            elif case.setup and case.setup.startswith("member:"):
                person = self._newcomer(svc, blogs=[self.blogs["other"]])
                svc.handle(cmd.SetMember(blog, person, case.setup.split(":")[1]), CLI)
                params["person"] = person
        if case.setup == "cursor":
            query = "since=" + self.client.get(f"/api/blogs/{blog}").get_json()["cursor"]
        elif case.setup == "zone":
            params["zone"] = "Europe/Kyiv"
        elif case.setup == "asset":
            url = self.app.extensions["liveblog.assets"].url("liveblog.css")
            params["digest"], params["filename"] = url.split("/")[2:4]
        elif case.setup == "webhook":
            from liveblog import webhooks

            with self.app.app_context():
                db = self.app.extensions["liveblog"]
                hook, _ = webhooks.create(db.store(), "https://93.184.215.14/hook", None,
                                          None, db.now())
            params["hook_id"] = hook.id
        elif case.setup == "tile":  # the first leaf's hash, in the log's first (partial) tile
            params["level"], params["path"] = "0", "000.p/1"
        elif case.setup == "stored image":
            params["name"] = self._stored_image()
        elif case.setup == "question":
            params["question"] = self._question(blog)
        elif case.setup == "poll":
            params["poll"], self.option = self._poll(blog)
        elif case.setup == "solution":
            from .test_questions import solution

            self.body = {"text": "When?", "altcha": solution(self.client)}
        url = case.path.format(**params)
        return (f"{url}?{query}" if query else url), headers

    def settle(self) -> None:
        """Back to live blogs after a case that closed or reopened one."""
        with self.app.app_context():
            svc = self.service()
            for blog in self.blogs.values():
                blog_state, _ = svc.load_blog(blog)
                if blog_state.status == "closed":
                    svc.handle(cmd.ReopenBlog(blog), CLI)

    def _question(self, blog_id: str) -> str:
        from liveblog import questions

        question_id = new_id()
        with self.app.app_context():
            db = self.app.extensions["liveblog"]
            questions.add(db.store().conn, question_id, blog_id, "When?", None, None, "x",
                          db.now())
        return question_id

    def _poll(self, blog_id: str) -> tuple[str, str]:
        """A published post's poll, and one of its options."""
        post_id = new_id()
        poll = {"type": "poll", "id": f"{post_id}.p", "question": "Who?",
                "options": [{"id": "o1", "text": "A"}, {"id": "o2", "text": "B"}]}
        content = {"headline": "Vote", "byline": {"contributors": []}, "body": [poll]}
        with self.app.app_context():
            self.service().handle(cmd.CreatePost(blog_id, post_id, content), CLI)
        return poll["id"], "o1"

    def _slug(self, blog_id: str) -> str:
        return self.client.get(f"/api/blogs/{blog_id}").get_json()["slug"]

    def _newcomer(self, svc, blogs) -> str:
        from liveblog.tokens import create_token

        token_id, _ = create_token(svc, "contributor", "Newcomer", CLI, blogs)
        return token_id

    def _stored_image(self) -> str:
        response = self.client.post("/api/media", data=_png(),
                                    headers={**self.headers["admin"],
                                             "Content-Type": "image/png"})
        return response.headers["Location"].rsplit("/", 1)[1]


_colours = itertools.count()


def _png() -> bytes:
    """A new image each time (the same bytes again would be a 200: stored before)."""
    n = next(_colours)
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (n % 256, n // 256 % 256, 30)).save(out, "PNG")
    return out.getvalue()


def expected(case: Case, role: str, target: str) -> int:
    """The contract's answer to ``role`` asking ``case`` on the ``target`` blog."""
    if role == "bad_token":
        return 401
    stand = standing(role, target)
    if stand in case.allowed:
        return case.ok
    if stand == "reader":
        return case.reader if case.reader is not None else 401
    return case.denied


def _ask(client, case: Case, url: str, headers: dict[str, str], world: World | None = None):
    if case.setup == "image":
        return client.post(url, data=_png(), headers={**headers, "Content-Type": "image/png"})
    kwargs: dict[str, Any] = {"headers": headers}
    if case.setup == "solution" and world is not None:
        kwargs["json"] = world.body  # a proof of work solved for this ask
    elif case.setup == "poll" and case.method == "POST" and case.path.endswith("/votes"):
        kwargs["json"] = {"option": world.option if world else "o1"}
    elif case.body is not None:
        kwargs["json"] = case.body
    elif case.method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    return client.open(url, method=case.method, **kwargs)


def test_every_route_has_a_row(client):
    spec = client.get("/openapi.json").get_json()
    listed = {(method.upper(), path) for path, item in spec["paths"].items()
              for method in item if method in ("get", "post", "put", "patch", "delete")}
    covered = {(c.method, c.path) for c in CASES}
    assert listed - covered == set(), "routes with no row in the access table"
    assert covered - listed == set(), "rows for routes the document does not list"


def test_every_person_gets_the_contracts_answer_on_every_route(app, client, tokens):
    """...and every answer's status is one the OpenAPI document lists for the operation (a
    precondition decorator documents what it answers; the view lists only its own)."""
    world = World(app, client, tokens)
    paths = client.get("/openapi.json").get_json()["paths"]
    wrong = []
    undocumented: set[str] = set()
    asked = 0
    for case in CASES:
        targets = ("own", "other") if "{blog}" in case.path or "{slug}" in case.path else (
            "own",)
        for target in targets:
            for role in ROLES:
                url, headers = world.prepare(case, target)
                response = _ask(client, case, url, {**world.headers[role], **headers}, world)
                world.settle()
                asked += 1
                want = expected(case, role, target)
                if str(response.status_code) not in paths[case.path][case.method.lower()][
                        "responses"]:
                    undocumented.add(f"{case.method} {case.path}: {response.status_code}")
                if response.status_code != want:
                    wrong.append(f"{case.method} {url} as {role} on {target}: "
                                 f"{response.status_code}, want {want}: "
                                 f"{response.get_data(as_text=True)[:160]}")
                elif response.status_code >= 400 and case.path.startswith("/api"):
                    assert response.mimetype == "application/problem+json", url
    assert not wrong, f"{len(wrong)} of {asked} cells wrong:\n" + "\n".join(wrong)
    assert undocumented == set(), "statuses answered that the document does not list"
    assert asked > 900
