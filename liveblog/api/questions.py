"""Readers' questions: a proof-of-work challenge, asking (no credentials), and the blog's inbox
(its writers): list, answer as a post, reject, delete. See liveblog/questions.py."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import marshmallow as ma
from flask import current_app, request
from flask.views import MethodView
from marshmallow import validate as v

from events import write_transaction

from .. import challenges, queries, questions
from ..bootstrap import get_liveblog
from ..domain import commands as cmd
from ..domain.errors import ConflictError, InvalidCommandError, NotFoundError
from ..http.caching import policies
from ..service import new_id
from ..votes import address_key
from .auth import allowed, may_here, require, signed_in
from .docs import SIGNED_IN, Blueprint, errors
from .edge import json_response
from .problems import problem
from .schemas import Block, Plain, StrictSchema
from .views import post_after, run

blp = Blueprint("questions", __name__, url_prefix="/api",
                description="Readers' questions: asked with a proof of work, answered by the"
                            " blog's editors as posts.")

f = ma.fields


class ChallengeSchema(ma.Schema):
    algorithm = f.String()
    challenge = f.String()
    maxnumber = f.Integer()
    salt = f.String()
    signature = f.String()


class AskSchema(StrictSchema):
    """Body of POST /api/blogs/{blog}/questions."""
    text = Plain(required=True, min_length=1, max_length=500)
    name = Plain(allow_none=True, max_length=80)
    contact = f.Email(allow_none=True, validate=v.Length(max=200), metadata={
        "description": "an email address for the newsroom only: never shown to readers"})
    altcha = f.String(required=True, validate=v.Length(max=2000), metadata={
        "description": "the solution of GET /api/challenge: base64 of its JSON"})


class AskedSchema(ma.Schema):
    id = f.String()
    status = f.String()


class QuestionSchema(ma.Schema):
    id = f.String()
    text = f.String()
    name = f.String(allow_none=True)
    contact = f.String(allow_none=True, metadata={"description": "the blog's editors only"})
    status = f.String(metadata={"enum": list(questions.STATUSES)})
    created_at = f.String()
    post_id = f.String(allow_none=True, metadata={"description": "the answer"})
    moderated_at = f.String(allow_none=True)
    moderated_by = f.String(allow_none=True)


class InboxSchema(ma.Schema):
    questions = f.List(f.Nested(QuestionSchema))
    counts = f.Dict(keys=f.String(), values=f.Integer(),
                    metadata={"description": "how many the blog has of each status"})


class InboxQuerySchema(StrictSchema):
    status = f.String(load_default="pending", validate=v.OneOf(questions.STATUSES))


class AnswerSchema(StrictSchema):
    """Body of POST .../questions/{id}/answer: the answer's blocks (the question is quoted
    before them)."""
    body = f.List(Block(), required=True, validate=v.Length(min=1, max=100))
    headline = Plain(min_length=1, max_length=500)


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def client_address() -> str:
    """The reader's address as limits count it (TRUSTED_PROXIES decided what it is), hashed."""
    return address_key(_secret(), request.remote_addr)


@blp.route("/challenge")
class Challenge(MethodView):
    @blp.response(200, ChallengeSchema)
    @errors(blp, 401)
    def get(self) -> Any:
        """A proof-of-work challenge (ALTCHA v1: SHA-256) to solve before asking: find n at
        most maxnumber with SHA-256(salt + n) = challenge. Never cached; a solution counts
        once."""
        body = challenges.new(_secret(), get_liveblog().now())
        return json_response(body, headers={"Cache-Control": policies().secret})


def _limited(conn: Any, address: str, now: datetime) -> Any:
    limit = int(current_app.config["QUESTIONS_PER_HOUR"])
    count, oldest = questions.recent_from(conn, address, now)
    if count < limit:
        return None
    wait = 3600 if oldest is None else max(1, math.ceil(
        (datetime.fromisoformat(oldest) + timedelta(hours=1) - now).total_seconds()))
    return problem(429, f"at most {limit} questions an hour from one address: try again"
                        " later", slug="too-many-questions", title="Too many questions",
                   headers={"Retry-After": str(wait)})


@blp.route("/blogs/<blog>/questions")
class Questions(MethodView):
    @blp.arguments(AskSchema)
    @blp.response(202, AskedSchema)
    @errors(blp, 401, 404, 409, 429)
    def post(self, data: dict[str, Any], blog: str) -> Any:
        """Ask the blog's editors a question (no credentials; plain text). It waits in their
        inbox; nothing of it is public unless they answer it."""
        liveblog = get_liveblog()
        conn, now = liveblog.store().conn, liveblog.now()
        head = queries.get_blog_head(conn, blog)
        summary = queries.blog_json(queries.get_blog_row(conn, head.id), "")
        if not summary["questions_enabled"] or summary["status"] != "live":
            raise ConflictError("this blog takes no questions now")
        address = client_address()
        refused = _limited(conn, address, now)
        if refused is not None:
            return refused
        question_id = new_id()
        try:
            with write_transaction(conn):  # the solution is spent with the question kept
                challenges.spend(conn, _secret(), data["altcha"], now)
                questions.add(conn, question_id, head.id, data["text"], data.get("name"),
                              data.get("contact"), address, now)
        except challenges.ChallengeError as e:
            raise InvalidCommandError("altcha", str(e)) from None
        return json_response({"id": question_id, "status": "pending"}, 202,
                             {"Cache-Control": policies().secret})

    @require()
    @blp.arguments(InboxQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, InboxSchema)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def get(self, blog: str, status: str) -> Any:
        """The blog's questions with a status, oldest first, and how many of each (its
        editors and contributors; the contact for its editors only)."""
        conn = get_liveblog().store().conn
        head = queries.get_blog_head(conn, blog)
        allowed("questions.moderate", head.id)
        contact = may_here("questions.contact", head.id)
        body = {"questions": [q.json(contact=contact)
                              for q in questions.listed(conn, head.id, status)],
                "counts": questions.counts(conn, head.id)}
        return json_response(body, headers={"Cache-Control": policies().secret})


def _question(blog: str, question_id: str) -> tuple[str, questions.Question]:
    conn = get_liveblog().store().conn
    head = queries.get_blog_head(conn, blog)
    allowed("questions.moderate", head.id)
    found = questions.get(conn, head.id, question_id)
    if found is None:
        raise NotFoundError(f"no question {question_id!r} in this blog")
    return head.id, found


def _pending(found: questions.Question) -> None:
    if found.status != "pending":
        raise ConflictError(f"the question is {found.status} already")


@blp.route("/blogs/<blog>/questions/<question>/answer")
class AnswerQuestion(MethodView):
    @require()
    @blp.arguments(AnswerSchema)
    @blp.response(201, QuestionSchema)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404, 409)
    def post(self, data: dict[str, Any], blog: str, question: str) -> Any:
        """Answer a question with a post: the question quoted (its asker's name with it), then
        the answer. An editor's is published; a contributor's goes to the approval queue."""
        blog_id, found = _question(blog, question)
        _pending(found)
        actor = signed_in()
        contributor = actor.person is not None and actor.person.on(blog_id) == "contributor"
        post_id = new_id()
        quoted = {"type": "question", "text": found.text, "name": found.name}
        content: dict[str, Any] = {"headline": data.get("headline") or found.text[:120],
                   "byline": {"contributors": []}, "body": [quoted, *data["body"]]}
        conn, now = get_liveblog().store().conn, get_liveblog().now()
        # taken first: two editors answering at once make one post, the second hears 409
        if not questions.moderate(conn, found.id, "answered", actor.name, now, post_id):
            raise ConflictError("the question was moderated meanwhile")
        try:
            outcome = run(cmd.CreatePost(blog_id=blog_id, post_id=post_id, content=content,
                                         status="submitted" if contributor else "published",
                                         author=actor.id))
        except BaseException:
            questions.reopen(conn, found.id)
            raise
        post = post_after(outcome, blog_id, post_id)
        answered = questions.get(conn, blog_id, found.id)
        assert answered is not None
        return json_response(answered.json(contact=may_here("questions.contact", blog_id))
                             | {"post": post}, 201)


@blp.route("/blogs/<blog>/questions/<question>/reject")
class RejectQuestion(MethodView):
    @require()
    @blp.response(200, QuestionSchema)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404, 409)
    def post(self, blog: str, question: str) -> Any:
        """Reject a question: it stays in the inbox (rejected) until deleted, never public."""
        blog_id, found = _question(blog, question)
        _pending(found)
        conn = get_liveblog().store().conn
        if not questions.moderate(conn, found.id, "rejected", signed_in().name,
                                  get_liveblog().now()):
            raise ConflictError("the question was moderated meanwhile")
        rejected = questions.get(conn, blog_id, found.id)
        assert rejected is not None
        return json_response(rejected.json(contact=may_here("questions.contact", blog_id)))


@blp.route("/blogs/<blog>/questions/<question>")
class Question(MethodView):
    @require()
    @blp.response(204)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def delete(self, blog: str, question: str) -> Any:
        """Erase a question and its contact for good: from the database's files too. (An
        answer already published stays: a redaction takes that.)"""
        _, found = _question(blog, question)
        store = get_liveblog().store()
        questions.delete(store.conn, found.id)
        store.scrub(["questions"])
        return current_app.response_class(status=204)
