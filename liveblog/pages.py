"""HTML for people: the blog list, the reader page (with its live-update fragments), the Atom
feed and the rendered API docs. Server-rendered with Jinja; a little plain JavaScript polls
/changes and swaps in server-rendered fragments, so post HTML is made in one place only.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    render_template,
    request,
    url_for,
)
from jinja2 import pass_context
from markupsafe import Markup, escape
from marshmallow import ValidationError

from events import format_time, read_snapshot

from . import assets, i18n, media, queries, themes
from .api.problems import problem
from .api.schemas import ThemeSchema
from .bootstrap import get_liveblog
from .cursors import MalformedCursorError, decode_cursor, encode_cursor
from .domain.errors import NotFoundError
from .http.caching import conditional, content_etag, head_etag, policies, reader_headers
from .i18n import zone_label
from .queries import BlogHead
from .signin import DOCS, configured

bp = Blueprint("pages", __name__)


def public_url(path: str = "") -> str:
    """An absolute URL: PUBLIC_URL and ``path``. Never built from the request's Host, which a
    client chooses (and a shared cache would keep what one client chose for everyone)."""
    return (str(current_app.config["PUBLIC_URL"]).rstrip("/") or "http://localhost") + path


@pass_context
def own(context: Any, url: str) -> str:
    """``url`` as the template's reader needs it: absolute in a fragment a host page includes
    (``absolute_urls``), else as it is."""
    return absolute(url) if context.get("absolute_urls") else url


@pass_context
def own_srcset(context: Any, srcset: str) -> str:
    """A ``srcset``'s URLs as :func:`own` gives them."""
    return ", ".join(own(context, url) + " " + width for url, _, width in (
        candidate.strip().partition(" ") for candidate in srcset.split(","))) if srcset else ""


def theme_url(blog: dict[str, Any]) -> str:
    """The URL of a blog's theme stylesheet, naming the theme (``v``): a page that follows a
    change asks for the new one, not for a copy a browser still keeps."""
    return url_for("pages.theme", slug=blog["slug"], v=themes.digest(blog["theme"]))


def absolute(url: str) -> str:
    """``url`` as an absolute URL: one of the service's own paths (an uploaded image's
    /media/…) gets PUBLIC_URL in front; any other is already absolute."""
    return public_url(url) if url.startswith("/") else url


def _page_headers(head: BlogHead, status: str, what: str) -> dict[str, str] | Response:
    """Validators of a reader page or feed (the blog's state, the query, this deployment's
    assets and templates): a 304 when the reader's copy is current, else the headers to send."""
    query = request.query_string + b"|" + current_app.extensions["liveblog.assets"].build
    named = policies()
    # the poll is kept half as long by a shared cache, so news waits at most 1.5 max-age
    cache = named.closed if status == "closed" else named.poll if what == "live" else None
    headers = reader_headers(head_etag(head, what, query), head.updated_at, cache)
    return conditional(headers, head.updated_at) or headers


PAGE_SIZE = 20


@functools.lru_cache(maxsize=64)
def zone_labels(timezone: str, first_year: int = 1990, last_year: int = 2060) -> list[
        tuple[int, str]]:
    """``zone_label`` over the years as ``(from, label)`` steps (Unix ms, ascending), so the
    console names a time's zone exactly as the reader page does without asking each time:
    the label can change only where the zone's offset or abbreviation does, or an offset's
    width from such a change (where the hour that happens twice begins and ends)."""
    zone = ZoneInfo(timezone)
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)

    def state(t: datetime) -> tuple[Any, str]:
        local = t.astimezone(zone)
        return local.utcoffset(), local.strftime("%Z")

    breaks = {start}
    step = timedelta(hours=12)
    t, before = start, state(start)
    while t < end:
        after = state(t + step)
        if after != before:
            # the change lies in (low, high]: narrow it to its second (zones change on one)
            low, high = int(t.timestamp()), int((t + step).timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if state(datetime.fromtimestamp(middle, UTC)) != before:
                    high = middle
                else:
                    low = middle
            width = abs(after[0] - before[0])
            change = datetime.fromtimestamp(high, UTC)
            breaks.update((change, change - width, change + width))
        t, before = t + step, after
    steps: list[tuple[int, str]] = []
    for moment in sorted(breaks):
        label = zone_label(moment.astimezone(zone))
        if not steps or steps[-1][1] != label:
            steps.append((int(moment.timestamp() * 1000), label))
    return steps


def plain(fragment: str | None) -> str:
    """The text of a sanitised fragment (for titles, JSON-LD and Atom titles)."""
    return Markup(fragment or "").striptags()


def current_words() -> i18n.Words:
    """The words of the page being made: its blog's language (the house style else)."""
    words: i18n.Words = g.words if "words" in g else i18n.words(i18n.HOUSE)
    return words


def _blog(slug: str) -> tuple[Any, BlogHead, dict[str, Any]]:
    """The connection, the blog's head and its summary (an HTML 404 when there is none); the
    page is made in the blog's language from here on."""
    conn = get_liveblog().store().conn
    head = queries.find_blog_head(conn, slug)
    if head is None:
        raise NotFoundError(f"no blog {slug!r}")
    summary = queries.blog_json(queries.get_blog_row(conn, head.id),
                                encode_cursor("c", head.visible_position))
    g.words = i18n.words(summary["language"])
    return conn, head, summary


#: entries an Atom document holds; older ones are on the documents its ``next`` link leads to
ATOM_PAGE_SIZE = 50


def _order() -> str:
    order = request.args.get("order", "newest")
    return order if order in ("newest", "oldest") else "newest"


def _after(order: str) -> int | None:
    cursor = request.args.get("cursor")
    if not cursor:
        return None
    try:
        return decode_cursor(order[0], cursor)
    except MalformedCursorError:
        return None


@bp.route("/")
def index() -> Response:
    """Every blog, live ones first (validated by its bytes, cached like every reader page)."""
    rows = queries.list_blog_rows(get_liveblog().store().conn)
    body = render_template("index.html", blogs=[queries.blog_json(r, "") for r in rows]).encode()
    latest = max((r.updated_at for r in rows), default=None)
    headers = reader_headers(content_etag(body), latest)
    return conditional(headers, latest) or Response(body, mimetype="text/html", headers=headers)


@bp.route("/blogs/<slug>")
def blog(slug: str) -> Any:
    """The reader page of one blog."""
    return _reader_page(slug, "blog.html", "page")


@bp.route("/blogs/<slug>/embed")
def embed(slug: str) -> Any:
    """The reader page without the site's chrome, for a newsroom's iframe: any origin may frame
    it, unless EMBED_FRAME_ANCESTORS names those that may (the Content-Security-Policy says
    which); it tells its parent its height (static/frame.js)."""
    return _reader_page(slug, "embed.html", "embed")


@bp.route("/blogs/<slug>/fragment")
def fragment(slug: str) -> Any:
    """The blog's first page as HTML, to include (ESI, nginx SSI) as the children of a host
    page's ``<div data-liveblog=...>``: what search engines and the first paint see, in a
    declarative shadow root with its styles (embed.js fetches it too, and takes over either).
    Its URLs are absolute (it is read on the host's origin); ``header=false`` hides the
    blog's header."""
    return _reader_page(slug, "fragment.html", "fragment", included=True)


#: a preview's theme, as the API takes one (no logo: the console shows that itself)
_PREVIEW = ThemeSchema(only=themes.PREVIEW)


@bp.route("/blogs/<slug>/theme.css")
def theme(slug: str) -> Any:
    """The blog's theme as a stylesheet (themes.py), cached as its pages are. With a theme in
    the query (accent, font_family, color_scheme): that one, for the console's preview."""
    _, head, summary = _blog(slug)
    shown = summary["theme"]
    if set(request.args) & set(themes.PREVIEW):  # checked as a saved theme is (its schema)
        try:
            shown = _PREVIEW.load({name: value for name, value in request.args.items()
                                   if name in themes.PREVIEW and value})
        except ValidationError as e:
            return problem(400, "; ".join(f"{name}: {' '.join(said)}" for name, said in
                                          e.messages_dict.items()),
                           slug="malformed-theme", title="Not a theme")
    headers = _page_headers(head, summary["status"], "theme")
    if isinstance(headers, Response):
        return headers
    return Response(themes.css(shown), mimetype="text/css", headers=headers)


@bp.route("/embed.js")
def embed_script() -> Response:
    """The host page's script for script embeds, at a fixed URL: every ``<div data-liveblog>``
    on the page shows its blog in a shadow root, live (static/shadow.js, after the reader
    page's own scripts, in one closure)."""
    return assets.fixed_url_asset("embed.js")


def _reader_page(slug: str, template: str, what: str, *, included: bool = False) -> Any:
    """A blog's feed rendered with ``template``; ``included``: the first page only, its URLs
    absolute, for another site's page (which has its own head: no JSON-LD)."""
    conn, head, summary = _blog(slug)
    headers = _page_headers(head, summary["status"], what)
    if isinstance(headers, Response):
        return headers
    order = _order()
    after = None if included else _after(order)
    page, _ = queries.feed_page(conn, summary["id"], order, PAGE_SIZE, after, encode_cursor)
    key_events = [queries.post_json(r) for r in queries.key_event_posts(conn, summary["id"])]
    page_url = public_url(url_for("pages.blog", slug=summary["slug"]))
    body = render_template(template, blog=summary, page=page, order=order,
                           key_events=key_events, first_page=after is None, page_url=page_url,
                           absolute_urls=included,
                           header=request.args.get("header") != "false",
                           json_ld=None if included else _json_ld(summary, page, page_url))
    return Response(body, mimetype="text/html", headers=headers)


@bp.route("/blogs/<slug>/jsonld")
def jsonld(slug: str) -> Any:
    """The blog's schema.org LiveBlogPosting for a host page's head: its updates' URLs are the
    host's permalinks when ``permalink_base`` names the host page, else the reader page's."""
    conn, head, summary = _blog(slug)
    headers = _page_headers(head, summary["status"], "jsonld")
    if isinstance(headers, Response):
        return headers
    page, _ = queries.feed_page(conn, summary["id"], "newest", PAGE_SIZE, None, encode_cursor)
    base = request.args.get("permalink_base", "")
    if not re.fullmatch(r"https?://[^\s#]+", base):
        base = public_url(url_for("pages.blog", slug=summary["slug"]))
    return Response(json.dumps(_json_ld(summary, page, base)), mimetype="application/ld+json",
                    headers=headers)


@bp.route("/embed-frame.js")
def embed_frame() -> Response:
    """The host page's script for iframe embeds, at a fixed URL (hosts copy it into their
    pages): resizes every liveblog iframe to its content, and passes the host's permalinks."""
    return assets.fixed_url_asset("embed-frame.js")


@bp.route("/blogs/<slug>/live")
def live(slug: str) -> Response:
    """The reader page's poll: what changed since a cursor, each post with its HTML from the
    page's own template. The same URL gives every reader at one state the same bytes, so a
    shared cache answers them all and no reader needs a request of its own."""

    conn = get_liveblog().store().conn
    try:
        position = decode_cursor("c", request.args.get("since", ""), field="since")
    except MalformedCursorError as e:

        return problem(400, str(e), slug="malformed-cursor", title="Malformed cursor")
    with read_snapshot(conn):
        _, head, summary = _blog(slug)
        headers = _page_headers(head, summary["status"], "live")
        if isinstance(headers, Response):
            return headers
        rows, more = queries.changes_since(conn, head.id, position, 100)
        key_events = [queries.post_json(r) for r in queries.key_event_posts(conn, head.id)]
    changes = []
    for row in rows:
        if row.status == "published":
            post = queries.post_json(row)
            changes.append({"op": "upsert", "id": row.id, "pinned": post["pinned"],
                            "html": render_template("_post.html", post=post, blog=summary)})
        else:
            changes.append({"op": "delete", "id": row.id})
    out = {"changes": changes, "more": more,
           "cursor": encode_cursor("c", queries.changes_cursor(rows, more,
                                                                head.visible_position,
                                                                position)),
           "header": {"updated": current_words().display_time(summary["updated_at"],
                                                               summary["timezone"]),
                      "updated_at": summary["updated_at"], "count": summary["post_count"],
                      "status": summary["status"]},
           "key_events": render_template("_key_events.html", key_events=key_events,
                                         blog=summary).strip()}
    return Response(json.dumps(out), mimetype="application/json", headers=headers)


@bp.route("/blogs/<slug>/fragments")
def fragments(slug: str) -> Response:
    """Server-rendered pieces for the page's script: posts by id, a page of older posts, and
    the header's "updated" line and post count."""
    conn, head, summary = _blog(slug)
    headers = _page_headers(head, summary["status"], "fragments")
    if isinstance(headers, Response):
        return headers
    out: dict[str, Any] = {"updated": current_words().display_time(summary["updated_at"],
                                                                   summary["timezone"]),
                           "updated_at": summary["updated_at"],
                           "count": summary["post_count"], "status": summary["status"]}
    ids = [i for i in request.args.get("ids", "").split(",") if i][:100]
    posts = {}
    for post_id in ids:
        try:
            row = queries.get_post_row(conn, summary["id"], post_id)
        except NotFoundError:
            continue
        posts[post_id] = render_template("_post.html", post=queries.post_json(row),
                                         blog=summary)
    out["posts"] = posts
    if "cursor" in request.args:
        order = _order()
        page, _ = queries.feed_page(conn, summary["id"], order, PAGE_SIZE, _after(order),
                                    encode_cursor)
        out["page"] = "".join(render_template("_post.html", post=p, blog=summary)
                              for p in page["posts"])
        out["next_cursor"] = page["next_cursor"]
    return Response(json.dumps(out), mimetype="application/json", headers=headers)


@bp.route("/blogs/<slug>/feed.atom")
def atom(slug: str) -> Response:
    """An Atom feed of the newest published posts, ATOM_PAGE_SIZE a document, paged (RFC 5005):
    each document links the next older one (``next`` and ``prev-archive``) and the newest
    (``first``)."""
    conn, head, summary = _blog(slug)
    headers = _page_headers(head, summary["status"], "atom")
    if isinstance(headers, Response):
        return headers
    page, _ = queries.feed_page(conn, summary["id"], "newest", ATOM_PAGE_SIZE,
                                _after("newest"), encode_cursor)
    base = public_url()
    feed_url = base + url_for("pages.atom", slug=summary["slug"])
    older = (base + url_for("pages.atom", slug=summary["slug"], cursor=page["next_cursor"])
             if page["next_cursor"] else None)
    body = render_template("feed.atom.xml", blog=summary, posts=page["posts"], base=base,
                           page_url=base + url_for("pages.blog", slug=summary["slug"]),
                           feed_url=feed_url, self_url=base + request.full_path.rstrip("?"),
                           older=older)
    return Response(body, mimetype="application/atom+xml", headers=headers)


@bp.route("/console")
def console() -> str:
    """The newsroom console: a page that talks to the API with a token, or with the session of
    someone signed in through the newsroom's identity provider."""

    provider = current_app.config["OIDC_PROVIDER_NAME"] if configured(current_app) else None
    return render_template("console.html", provider=provider)


@bp.route("/console/zones/<path:zone>")
def zone(zone: str) -> Response:
    """How the blog's pages name a time zone over the years, for the console's clock: one
    label for a time everywhere, decided here (``zone_label``)."""


    if zone not in available_timezones():
        return problem(404, f"no time zone {zone!r}", slug="not-found", title="Not Found")
    body = json.dumps({"zone": zone, "labels": zone_labels(zone)}).encode()
    headers = reader_headers(content_etag(body))
    return conditional(headers) or Response(body, mimetype="application/json", headers=headers)


@bp.route("/docs")
def docs() -> str:
    """The OpenAPI document rendered as a page (no script, nothing from outside)."""
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return render_template("docs.html", spec=spec, intro=_blocks(spec["info"]["description"]))


def _code_spans(text: str) -> Markup:
    """Escape ``text``, then show its `backquoted` spans as code."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def _blocks(text: str) -> list[tuple[str, Any]]:
    """Plain-text paragraphs and "- " lists as ("p", text) and ("ul", [items]) blocks, their
    `code` spans marked up."""
    blocks: list[tuple[str, Any]] = []
    for chunk in text.strip().split("\n\n"):
        lines = [line.strip() for line in chunk.splitlines()]
        if lines and lines[0].startswith("- "):
            items: list[str] = []
            for line in lines:
                if line.startswith("- "):
                    items.append(line[2:])
                else:
                    items[-1] += " " + line
            blocks.append(("ul", [_code_spans(item) for item in items]))
        else:
            blocks.append(("p", _code_spans(" ".join(lines))))
    return blocks


#: how far ahead a live blog with no auto-archive says its coverage runs (a rolling horizon
#: from its latest change, as Google's live-blog guidance asks for a coverageEndTime)
COVERAGE_HORIZON = timedelta(days=1)


def _block_text(block: dict[str, Any]) -> str:
    parts = [block.get("text"), block.get("attribution"), block.get("caption"),
             block.get("credit")]
    return " ".join(plain(part) for part in parts if part)


def _json_ld(blog: dict[str, Any], page: dict[str, Any], url: str) -> dict[str, Any]:
    """schema.org LiveBlogPosting of the page, as Google's live-blog guidance describes it."""
    updates = []
    images: list[str] = []
    for post in page["posts"]:
        blocks = [text for text in (_block_text(b) for b in post["body"]) if text]
        update: dict[str, Any] = {
            "@type": "BlogPosting", "headline": plain(post["headline"]),
            "datePublished": post["published_at"], "dateModified": post["updated_at"],
            "url": f"{url}#lb-post-{post['id']}",
            "mainEntityOfPage": f"{url}#lb-post-{post['id']}",
            "articleBody": "\n\n".join(blocks),  # one paragraph a block
        }
        byline = post.get("byline") or {}
        if byline.get("contributors"):
            update["author"] = [{"@type": "Person", "name": plain(name)}
                                for name in byline["contributors"]]
        post_images = [absolute(b["url"]) for b in post["body"] if b.get("type") == "image"]
        if post_images:
            update["image"] = post_images
            images += post_images
        if post["corrections"]:
            update["correction"] = [{"@type": "CorrectionComment", "text": plain(c["text"]),
                                     "datePublished": c["recorded_at"]}
                                    for c in post["corrections"]]
        updates.append(update)
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "LiveBlogPosting",
        "headline": plain(blog["title"]), "description": plain(blog["description"]),
        "url": url, "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "coverageStartTime": blog["created_at"], "coverageEndTime": _coverage_end(blog),
        "datePublished": blog["created_at"], "dateModified": blog["updated_at"],
        "author": [{"@type": "Person", "name": plain(a)} for a in blog["authors"]],
        "inLanguage": blog["language"], "liveBlogUpdate": updates,
    }
    if images:
        data["image"] = images[:3]
    if blog["organization"]:
        data["publisher"] = {"@type": "Organization", "name": plain(blog["organization"])}
    return data


def _coverage_end(blog: dict[str, Any]) -> str:
    """When coverage ends: when it did (closed); while live, when the blog would be archived
    for want of news, else a rolling horizon a day past its latest change. Never "now": the
    page's bytes depend on the blog's state only (its ETag names them)."""
    if blog["status"] == "closed":
        return str(blog["updated_at"])
    last = datetime.fromisoformat(str(blog["updated_at"]).replace("Z", "+00:00"))
    days = blog.get("archive_after_days")
    end = last + (timedelta(days=days) if days else COVERAGE_HORIZON)
    return format_time(end)


@bp.errorhandler(NotFoundError)
def not_found(error: Exception) -> tuple[str, int]:
    """Pages answer a missing blog with an HTML 404 (the API answers problem+json)."""
    return render_template("404.html", message=str(error)), 404


def _page_doc(operation_id: str, summary: str, media: str, statuses: tuple[int, ...],
              parameters: tuple[dict[str, Any], ...] = (), *,
              missing: str = "text/html") -> dict[str, Any]:
    descriptions = {200: "OK", 304: "Not modified (If-None-Match)", 400: "Malformed cursor",
                    401: "A token was sent and is not valid", 404: "No such blog or file"}
    statuses = tuple(sorted({*statuses, 401}))
    errors = {400: "application/problem+json", 401: "application/problem+json",
              404: missing}  # a page's 404 is a page
    if 304 in statuses:
        parameters += ({"name": "If-None-Match", "in": "header", "schema": {"type": "string"},
                        "description": "the ETag of the copy held: 304 when it is current"},)
    return {"get": {
        "operationId": operation_id, "summary": summary, "tags": ["pages"],
        "parameters": list(parameters),
        "responses": {str(status): {"description": descriptions[status], **(
            {"content": {errors.get(status, media): {"schema": {
                "type": "object" if errors.get(status, media).endswith("json") else "string"}}}}
            if status != 304 else {})}
            for status in statuses}}}


_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
_SINCE = {"name": "since", "in": "query", "required": True, "schema": {"type": "string"},
          "description": "the cursor of the last answer (the page's own at first)"}

#: the routes for people and feed readers (by endpoint), in the OpenAPI document beside the API's
PAGE_DOCS = {
    "pages.index": _page_doc("listBlogPage", "Every blog, as a page", "text/html", (200, 304)),
    "pages.blog": _page_doc("readBlogPage", "A blog's reader page (server-rendered; its"
                               " script polls /live)", "text/html", (200, 304, 404), (_SLUG,)),
    "pages.embed": _page_doc("readBlogEmbed", "A blog's reader page without the site's chrome,"
                             " for a newsroom's iframe (it posts its height to the parent)",
                             "text/html", (200, 304, 404), (_SLUG,)),
    "pages.fragment": _page_doc(
        "readBlogFragment", "The blog's first page as HTML with absolute URLs, in a"
        " declarative shadow root, to include (ESI, SSI) in a host page's"
        " <div data-liveblog=...>", "text/html", (200, 304, 404),
        (_SLUG, {"name": "order", "in": "query", "schema": {"type": "string"},
                 "description": "oldest, else newest"},
         {"name": "header", "in": "query", "schema": {"type": "string"},
          "description": "false: the blog's header hidden"})),
    "pages.theme": _page_doc(
        "readBlogTheme", "The blog's theme as a stylesheet (custom properties); with a theme"
        " in the query, that one (the console's preview)", "text/css", (200, 304, 400, 404),
        (_SLUG, *({"name": name, "in": "query", "schema": {"type": "string"}}
                  for name in ("accent", "font_family", "color_scheme")))),
    "pages.embed_script": _page_doc(
        "readEmbedScript", "The host page's script for script embeds: shows each"
        " <div data-liveblog=...> in a shadow root, live", "text/javascript", (200, 304)),
    "pages.jsonld": _page_doc(
        "readBlogJsonLd", "The blog's schema.org LiveBlogPosting, for a host page's head",
        "application/ld+json", (200, 304, 404),
        (_SLUG, {"name": "permalink_base", "in": "query", "schema": {"type": "string"},
                 "description": "the host page's URL: updates link to its #lb-post-{id}"})),
    "pages.embed_frame": _page_doc(
        "readEmbedFrameScript", "The host page's script for iframe embeds: resizes them to"
        " their content", "text/javascript", (200, 304)),
    "pages.live": _page_doc(
        "pollBlogPage", "What changed on a reader page since its cursor, as HTML fragments",
        "application/json", (200, 304, 400, 404), (_SLUG, _SINCE)),
    "pages.fragments": _page_doc(
        "readPostFragments", "Posts as the page's HTML fragments: by id, or the next page of"
        " the feed (Load more)", "application/json", (200, 304, 404),
        (_SLUG, {"name": "ids", "in": "query", "schema": {"type": "string"},
                 "description": "comma-separated post ids (at most 100)"},
         {"name": "cursor", "in": "query", "schema": {"type": "string"}},
         {"name": "order", "in": "query", "schema": {"type": "string"},
          "description": "oldest, else newest (a page forgives what a person typed)"})),
    "pages.atom": _page_doc(
        "readBlogAtom", "The blog as an Atom feed, 50 entries a document, paged (RFC 5005)",
        "application/atom+xml", (200, 304, 404),
        (_SLUG, {"name": "cursor", "in": "query", "schema": {"type": "string"},
                 "description": "from a document's next link: the entries older than it"})),
    "pages.console": _page_doc("openConsole", "The newsroom console (talks to the API with an"
                          " editor token)", "text/html", (200,)),
    "pages.zone": _page_doc(
        "readZoneLabels", "How pages name a time zone at each moment: [[from (Unix ms), label],"
        " ...], ascending (the console shows times with them)", "application/json",
        (200, 304, 404), ({"name": "zone", "in": "path", "required": True,
                           "schema": {"type": "string"}, "description": "IANA, e.g. Europe/Oslo"},),
        missing="application/problem+json"),
    "pages.docs": _page_doc("readApiDocs", "This document, as a page", "text/html", (200,)),
    "assets.asset": _page_doc(
        "readAsset", "A static file (script, style, font) by its content hash, immutable",
        "application/octet-stream", (200, 304, 404),
        ({"name": "digest", "in": "path", "required": True, "schema": {"type": "string"}},
         {"name": "filename", "in": "path", "required": True, "schema": {"type": "string"}}),
        missing="application/problem+json"),
}


def document(app: Flask, spec: Any) -> None:
    """Add the pages to the OpenAPI document (they are not flask-smorest views)."""
    for endpoint, operations in {**PAGE_DOCS, **DOCS}.items():
        spec.path(rule=next(app.url_map.iter_rules(endpoint)), operations=operations)


def init_app(app: Flask) -> None:
    """Register the pages, their assets and template filters."""
    assets.init_app(app)
    app.register_blueprint(bp)
    # in the language of the page's blog (i18n.Words); en-US is the house style above
    app.add_template_filter(lambda v, tz: current_words().display_time(v, tz), "display_time")
    app.add_template_filter(lambda v, tz: current_words().short_time(v, tz), "short_time")
    app.add_template_filter(lambda b: current_words().byline(b), "byline")
    app.add_template_global(lambda message, **values: current_words().gettext(
        message, **values), "_")
    app.add_template_global(lambda singular, plural, n, **values: current_words().ngettext(
        singular, plural, n, **values), "ngettext")
    app.add_template_global(current_words, "words")
    app.add_template_filter(plain, "plain")
    app.add_template_filter(absolute, "absolute")
    app.add_template_filter(own, "own")
    app.add_template_filter(own_srcset, "own_srcset")
    app.add_template_filter(theme_url, "theme_url")
    app.add_template_filter(media.srcset, "srcset")
    app.jinja_env.filters["html"] = Markup
