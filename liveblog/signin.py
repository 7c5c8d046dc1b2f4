"""Sign-in for people through the newsroom's OpenID Connect provider (Authlib's Flask client).

``GET /login`` sends the browser to ``OIDC_ISSUER`` (authorization code with PKCE S256, a state
and a nonce kept in a short-lived signed cookie); ``GET /login/callback`` checks them, takes the
ID token's name and groups, records the person and the memberships their groups give
(``OIDC_ROLE_MAP``) as events, and starts a session: a new random id in an HttpOnly,
SameSite=Lax cookie (Secure under an https ``PUBLIC_URL``), its hash kept in the database so
every node knows it and ``POST /logout`` ends it everywhere. Every way a sign-in can fail (a
forged or replayed callback, a wrong issuer, an expired code, no groups claim, a provider that
does not answer) is a page that says so, never a 500.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.base_client.errors import OAuthError  # type: ignore[import-untyped]
from authlib.integrations.flask_client import OAuth  # type: ignore[import-untyped]
from flask import (
    Blueprint,
    Flask,
    current_app,
    redirect,
    render_template,
    request,
    session,
)
from joserfc.errors import JoseError
from requests import RequestException
from werkzeug.wrappers import Response as BaseResponse

from events import write_transaction

from .bootstrap import get_liveblog
from .domain import commands as cmd
from .domain.events import MEMBER_ROLES
from .people import SESSION_COOKIE, end_session, memberships_from, start_session
from .queries import find_blog_head
from .service import Actor

log = logging.getLogger(__name__)

bp = Blueprint("signin", __name__)

#: which newsroom role wins when one's groups give several
_PRECEDENCE = ("admin", "editor", "legal", "auditor")
_NEWSROOM_ROLES = set(_PRECEDENCE)


#: a cookie without a secret that tells the console a session cookie may be there
SIGNED_IN_COOKIE = "liveblog_signed_in"


class SignInError(Exception):
    """A sign-in that cannot go on: shown to the person as a page with ``status``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RoleMap:
    """``OIDC_ROLE_MAP``: group -> a newsroom role, or memberships of blogs (by slug)."""

    newsroom: dict[str, str] = field(default_factory=dict)
    blogs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> RoleMap:
        """``newsroom-admins=admin;politics-desk=editor:election-night,editor:results``.

        :raises ValueError: an entry that names no known role.
        """
        newsroom: dict[str, str] = {}
        blogs: dict[str, list[tuple[str, str]]] = {}
        for entry in filter(None, (e.strip() for e in text.split(";"))):
            group, sep, grants = entry.partition("=")
            if not sep or not group.strip():
                raise ValueError(f"OIDC_ROLE_MAP entry {entry!r} is not group=role")
            for grant in filter(None, (g.strip() for g in grants.split(","))):
                role, _, blog = grant.partition(":")
                if blog and role in MEMBER_ROLES:
                    blogs.setdefault(group.strip(), []).append((role, blog))
                elif not blog and role in _NEWSROOM_ROLES:
                    newsroom[group.strip()] = role
                else:
                    raise ValueError(f"OIDC_ROLE_MAP: {grant!r} is not admin, editor, auditor,"
                                     " legal, or editor:<blog> / contributor:<blog>")
        return cls(newsroom, blogs)

    def roles(self, groups: list[str]) -> tuple[str | None, dict[str, str]]:
        """The newsroom role and the blog memberships (slug -> role) these groups give."""
        held = {self.newsroom[g] for g in groups if g in self.newsroom}
        role = next((r for r in _PRECEDENCE if r in held), None)
        member: dict[str, str] = {}
        for group in groups:
            for grant, blog in self.blogs.get(group, []):
                if member.get(blog) != "editor":
                    member[blog] = grant
        return role, member


def configured(app: Flask) -> bool:
    """Whether an identity provider is set up (else the console signs in with tokens)."""
    return bool(app.config.get("OIDC_ISSUER") and app.config.get("OIDC_CLIENT_ID"))


def init_app(app: Flask) -> None:
    """Register the sign-in routes; with a provider configured, its Authlib client too."""
    app.register_blueprint(bp)
    secure = str(app.config.get("PUBLIC_URL") or "").startswith("https://")
    # the short-lived cookie that carries a sign-in's state, nonce and PKCE verifier
    app.config.update(SESSION_COOKIE_NAME="liveblog_signin", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=secure)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _shared_secret(app)
    if not configured(app):
        return
    issuer = str(app.config["OIDC_ISSUER"]).rstrip("/")
    _check_issuer(issuer)
    RoleMap.parse(str(app.config.get("OIDC_ROLE_MAP") or ""))  # a bad map stops the start
    oauth = OAuth(app)
    oauth.register(
        "newsroom", client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config.get("OIDC_CLIENT_SECRET") or None,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["OIDC_SCOPES"], "code_challenge_method": "S256",
                       "timeout": 10})
    app.extensions["liveblog.oauth"] = oauth


def _shared_secret(app: Flask) -> str:
    """The key every node signs sign-in state with: made once, kept in the database."""
    conn = app.extensions["liveblog"].store().conn
    with write_transaction(conn):
        row = conn.execute("SELECT secret FROM app_secret WHERE id = 1").fetchone()
        if row is None:
            secret = secrets.token_urlsafe(32)
            conn.execute("INSERT INTO app_secret (id, secret) VALUES (1, ?)", (secret,))
            return secret
    return str(row[0])


def _check_issuer(issuer: str) -> None:
    """An ``http://`` issuer is accepted only on a loopback address (tests, a local proxy)."""
    parts = urlsplit(issuer)
    if parts.scheme == "https":
        return
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "http" or not loopback:
        raise ValueError(f"OIDC_ISSUER {issuer!r} must be https:// (http:// only on a"
                         " loopback address)")


def _client() -> Any:
    oauth = current_app.extensions.get("liveblog.oauth")
    if oauth is None:
        raise SignInError("Sign-in through an identity provider is not set up here: sign in"
                          " to the console with a token.", 404)
    return oauth.newsroom


def _callback_url() -> str:
    base = str(current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")
    return f"{base}/login/callback"


@bp.errorhandler(SignInError)
def _failed(error: SignInError) -> tuple[str, int]:
    return render_template("signin_error.html", message=str(error)), error.status


@bp.route("/login")
def login() -> BaseResponse:
    """Start signing in at the identity provider."""
    client = _client()
    try:
        metadata = client.load_server_metadata()
    except (RequestException, ValueError) as e:
        raise SignInError(f"The identity provider does not answer ({type(e).__name__}); try"
                          " again in a moment.", 502) from e
    issuer = str(current_app.config["OIDC_ISSUER"]).rstrip("/")
    if str(metadata.get("issuer", "")).rstrip("/") != issuer:
        raise SignInError(f"The identity provider calls itself {metadata.get('issuer')!r},"
                          f" not {issuer!r} (OIDC_ISSUER): sign-in is refused.", 502)
    session.clear()
    session["nonce"] = secrets.token_urlsafe(24)
    target = request.args.get("next", "/console")
    session["next"] = target if target.startswith("/") and not target.startswith("//") else "/"
    response: BaseResponse = client.authorize_redirect(_callback_url(), nonce=session["nonce"])
    return response


@bp.route("/login/callback")
def callback() -> BaseResponse:
    """Finish signing in: check the answer, record who it is, start a session."""
    client = _client()
    if "error" in request.args:
        raise SignInError(f"The identity provider refused the sign-in:"
                          f" {request.args.get('error_description') or request.args['error']}",
                          403)
    nonce = session.pop("nonce", None)
    target = session.pop("next", "/console")
    if nonce is None:
        raise SignInError("This sign-in was not started here, or was used already: start"
                          " again.")
    try:
        token = client.authorize_access_token()
        claims = token.get("userinfo") or client.parse_id_token(token, nonce=nonce)
    except OAuthError as e:
        raise SignInError(f"The sign-in could not be completed ({e.error}): start again.") from e
    except JoseError as e:
        raise SignInError(f"The identity provider's ID token is not valid ({e.error}):"
                          " sign-in is refused.") from e
    except RequestException as e:
        raise SignInError("The identity provider does not answer; try again in a moment.",
                          502) from e
    if claims.get("nonce") != nonce:
        raise SignInError("The ID token does not belong to this sign-in: start again.")
    secret = _sign_in(claims)
    session.clear()
    response = redirect(target, 303)
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"], path="/")
    # a marker the console's script can see (it holds nothing): a signed-out page then never
    # asks /api/me only to be told 401
    response.set_cookie(SIGNED_IN_COOKIE, "1", samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"], path="/")
    return response


def _sign_in(claims: dict[str, Any]) -> str:
    """Record the person and the memberships their groups give; returns the new session's
    cookie value."""
    config = current_app.config
    claim = str(config["OIDC_GROUPS_CLAIM"])
    groups = claims.get(claim)
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise SignInError(f"The identity provider sent no {claim!r} claim: ask the newsroom's"
                          " administrator to add it (OIDC_GROUPS_CLAIM).", 403)
    role, blogs = RoleMap.parse(str(config.get("OIDC_ROLE_MAP") or "")).roles(groups)
    if role is None and not blogs:
        raise SignInError("None of your groups gives a role here (OIDC_ROLE_MAP): ask the"
                          " newsroom's administrator.", 403)
    issuer, subject = str(config["OIDC_ISSUER"]).rstrip("/"), str(claims["sub"])
    person_id = "p_" + hashlib.sha256(f"{issuer}\0{subject}".encode()).hexdigest()[:16]
    name = str(claims.get("name") or claims.get("preferred_username") or subject)[:200]
    liveblog = get_liveblog()
    service = liveblog.service()
    wanted = _blogs_named(service.store.conn, blogs, name)
    if role is None and not wanted:
        raise SignInError(f"Your groups give you a role only on {', '.join(sorted(blogs))},"
                          " which is no blog here: ask the newsroom's administrator to correct"
                          " OIDC_ROLE_MAP (the server's log names it too).", 403)
    actor = Actor("sign-in", name)  # the identity provider's word: trusted, recorded as such
    service.handle(cmd.RegisterPerson(person_id, name, issuer, subject, role), actor)
    _sync_memberships(service, person_id, wanted, actor)
    return start_session(liveblog.store().conn, person_id, name, role, liveblog.store().clock())


def _blogs_named(conn: Any, blogs: dict[str, str], name: str) -> dict[str, str]:
    """The blogs (by id -> role) that the role map's slugs name; a slug that names no blog is
    the administrator's to fix, and the log tells them."""
    wanted: dict[str, str] = {}
    for slug, role in blogs.items():
        head = find_blog_head(conn, slug)
        if head is None:
            log.error("OIDC_ROLE_MAP names a blog that does not exist: %r (signing in: %s);"
                      " correct the map or create the blog", slug, name)
            continue
        wanted[head.id] = role
    return wanted


def _sync_memberships(service: Any, person_id: str, wanted: dict[str, str],
                      actor: Actor) -> None:
    """Memberships as the groups give them now (``wanted``: blog id -> role): added or
    changed, and those an earlier sign-in gave that the groups no longer give, removed (ones
    an admin gave stay)."""
    conn = service.store.conn
    for blog_id, role in wanted.items():
        service.handle(cmd.SetMember(blog_id, person_id, role, source="sign-in"), actor)
    for blog_id, source in memberships_from(conn, person_id).items():
        if source == "sign-in" and blog_id not in wanted:
            service.handle(cmd.RemoveMember(blog_id, person_id), actor)


@bp.route("/logout", methods=["POST"])
def logout() -> BaseResponse:
    """End the session on every node, and forget the cookie."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        end_session(get_liveblog().store().conn, secret)
    response = redirect("/", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(SIGNED_IN_COOKIE, path="/")
    return response


def _doc(method: str, operation_id: str, summary: str,
         responses: dict[int, str]) -> dict[str, Any]:
    responses = {**responses, 401: "a page: an Authorization header that is not a live token"}
    return {method: {"operationId": operation_id, "summary": summary, "tags": ["sign-in"],
                     "responses": {str(status): {"description": text, **(
                         {"content": {"text/html": {"schema": {"type": "string"}}}}
                         if status >= 400 else {})} for status, text in responses.items()}}}


#: the sign-in routes (by endpoint), in the OpenAPI document beside the pages
DOCS = {
    "signin.login": _doc("get", "signIn", "Start signing in at the newsroom's OpenID Connect"
                         " provider (OIDC_ISSUER)", {
                             302: "to the provider", 404: "a page: no provider is set up",
                             502: "a page: the provider does not answer or is not OIDC_ISSUER"}),
    "signin.callback": _doc("get", "finishSignIn", "Where the provider sends the browser back:"
                            " sets the session cookie", {
                                303: "signed in: to the console", 400: "a page: a forged,"
                                " replayed or expired sign-in", 403: "a page: refused, or no"
                                " groups claim, or no role for these groups",
                                404: "a page: no provider is set up"}),
    "signin.logout": _doc("post", "signOut", "End the session on every node", {
        303: "signed out: to the front page"}),
}
