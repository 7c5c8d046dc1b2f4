"""HTML for people: the blog list, the reader page, and the rendered API docs."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, current_app, render_template
from markupsafe import Markup

from . import queries
from .db import get_db
from .domain.errors import BlogNotFoundError

bp = Blueprint("pages", __name__)


def display_time(value: str | None, timezone: str) -> str:
    """``9:06 p.m. ET, January 21, 2022`` style, in the blog's time zone."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value).astimezone(ZoneInfo(timezone))
    hour = moment.hour % 12 or 12
    meridiem = "a.m." if moment.hour < 12 else "p.m."
    zone = moment.strftime("%Z")
    zone = {"EST": "ET", "EDT": "ET", "CST": "CT", "CDT": "CT", "MST": "MT", "MDT": "MT",
            "PST": "PT", "PDT": "PT"}.get(zone, zone)
    return f"{hour}:{moment.minute:02d} {meridiem} {zone}, {moment:%B} {moment.day}, {moment.year}"


def byline_text(byline: dict[str, Any]) -> Markup:
    """``From Jane Roe and John Doe in Kyiv`` (parts are sanitised HTML fragments)."""
    names = [Markup(n) for n in byline.get("contributors") or []]
    if not names:
        return Markup("")
    joined = names[0] if len(names) == 1 else Markup(", ").join(names[:-1]) + Markup(
        " and ") + names[-1]
    text = Markup("From ") + joined
    if byline.get("location"):
        text += Markup(" in ") + Markup(byline["location"])
    return text


@bp.route("/")
def index() -> str:
    """Every blog, live ones first."""
    rows = queries.list_blog_rows(get_db().store().conn)
    return render_template("index.html", blogs=[queries.blog_json(r, "") for r in rows])


@bp.route("/blogs/<slug>")
def blog(slug: str) -> str:
    """The reader page of one blog."""
    conn = get_db().store().conn
    head = queries.find_blog_head(conn, slug)
    if head is None:
        raise BlogNotFoundError(f"no blog {slug!r}")
    row = queries.get_blog_row(conn, head.id)
    summary = queries.blog_json(row, "")
    rows, _ = queries.list_posts(conn, head.id, "newest", 100, None)
    posts = [queries.post_json(r) for r in rows]
    return render_template("blog.html", blog=summary, posts=posts)


@bp.route("/docs")
def docs() -> str:
    """The OpenAPI document rendered as a page (no script, nothing from outside)."""
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return render_template("docs.html", spec=spec)


def init_app(app: Flask) -> None:
    """Register the pages and their template filters."""
    app.register_blueprint(bp)
    app.add_template_filter(display_time, "display_time")
    app.add_template_filter(byline_text, "byline")
    app.jinja_env.filters["html"] = Markup
