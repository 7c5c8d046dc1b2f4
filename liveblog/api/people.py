"""People: who is asking (/api/me), and each blog's members."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from .. import queries
from ..bootstrap import get_liveblog
from ..domain import commands as cmd
from ..domain.errors import NotFoundError
from ..http.caching import policies
from ..people import find_person, list_candidates, list_members
from .auth import allowed, current_session, may_here, require, signed_in
from .docs import SIGNED_IN, Blueprint, errors
from .edge import json_response
from .schemas import (
    CandidatesQuerySchema,
    CandidatesSchema,
    MemberPutSchema,
    MemberSchema,
    MembersSchema,
    MeSchema,
)
from .views import run

blp = Blueprint("people", __name__, description="People: who is asking, and who may write on"
                                                " each blog (its members).")


def _members(conn: Any, blog_id: str) -> list[dict[str, Any]]:
    return [{"id": m.id, "name": m.name, "role": m.role, "since": m.since}
            for m in list_members(conn, blog_id)]


@blp.route("/api/me")
class Me(MethodView):
    @require()
    @blp.response(200, MeSchema)
    @blp.doc(security=SIGNED_IN)
    def get(self) -> Any:
        """Who is asking: their newsroom role and the blogs they are a member of (a signed-in
        browser also gets the ``csrf_token`` its writes must send as ``X-CSRF-Token``)."""
        actor = signed_in()
        person = actor.person
        assert person is not None
        conn = get_liveblog().store().conn
        slugs = queries.blog_slugs(conn, list(person.memberships))
        memberships = [{"blog": blog, "slug": slugs.get(blog), "role": role}
                       for blog, role in sorted(person.memberships.items())]
        role = actor.role or ("editor" if "editor" in person.memberships.values() else
                              "contributor" if person.memberships else None)
        body: dict[str, Any] = {
            "id": person.id, "token_id": actor.token_id, "name": actor.name, "role": role,
            "newsroom_wide": person.role is not None, "memberships": memberships}
        session = current_session()
        if session is not None:
            body["csrf_token"] = session.csrf_token
        return json_response(body, headers={"Cache-Control": policies().secret})


@blp.route("/api/blogs/<blog>/members")
class Members(MethodView):
    @require()
    @blp.response(200, MembersSchema)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def get(self, blog: str) -> Any:
        """The blog's members (for its members, admins, auditors and legal)."""
        conn = get_liveblog().store().conn
        head = queries.get_blog_head(conn, blog)
        allowed("members.read", head.id)
        return json_response({"members": _members(conn, head.id)},
                             headers={"Cache-Control": policies().private})


@blp.route("/api/blogs/<blog>/candidates")
class Candidates(MethodView):
    @require()
    @blp.arguments(CandidatesQuerySchema, location="query")
    @blp.response(200, CandidatesSchema)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def get(self, args: dict[str, Any], blog: str) -> Any:
        """Who could be made a member of the blog, by name (for those who may add members:
        admins, and the blog's editors): holders of scoped tokens and people who signed in,
        not yet members."""
        conn = get_liveblog().store().conn
        head = queries.get_blog_head(conn, blog)
        if not may_here("members.manage", head.id):
            allowed("members.manage_contributors", head.id)
        return json_response({"candidates": list_candidates(conn, head.id, args["q"])},
                             headers={"Cache-Control": policies().private})


@blp.route("/api/blogs/<blog>/members/<person>")
class Member(MethodView):
    @require()
    @blp.arguments(MemberPutSchema)
    @blp.response(200, MemberSchema)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def put(self, data: dict[str, Any], blog: str, person: str) -> Any:
        """Make a person (a token's id, or a signed-in person's) a member of the blog, or
        change their role there: admins any role, the blog's editors contributors. Recorded
        in the log; the person's access changes at their next request."""
        conn = get_liveblog().store().conn
        head = queries.get_blog_head(conn, blog)
        found = find_person(conn, person)
        if found is None or found["revoked_at"] is not None:
            raise NotFoundError(f"no person {person!r} (a token's id, or someone who signed"
                                " in once)")
        if found["role"] in ("admin", "auditor", "legal") or (
                found["kind"] == "token" and not found["scoped"]):
            raise NotFoundError(f"{found['name']} acts newsroom-wide as {found['role']}:"
                                " memberships are for scoped tokens and people")
        run(cmd.SetMember(head.id, person, data["role"]))
        member = next(m for m in _members(conn, head.id) if m["id"] == person)
        return json_response(member, headers={"Cache-Control": policies().private})

    @require()
    @blp.response(204)
    @blp.doc(security=SIGNED_IN)
    @errors(blp, 404)
    def delete(self, blog: str, person: str) -> Any:
        """End the person's membership of the blog: their access to it ends at their next
        request, on every node."""
        head = queries.get_blog_head(get_liveblog().store().conn, blog)
        run(cmd.RemoveMember(head.id, person))
        return current_app.response_class(status=204)
