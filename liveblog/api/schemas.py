"""Request and response schemas: marshmallow at the HTTP edge.

Unknown fields raise (422). Text fields are sanitised with nh3 on input, so no stored event ever
holds script: block ``text``, captions, credits and attributions keep the inline subset
(``a[href]``, ``strong``, ``em``, ``b``, ``i``, ``br``); headlines, names, places and alt texts keep
no tags at all. Every text field is therefore an HTML fragment, safe to render as is (``&`` in a
headline arrives as ``&amp;``). URLs must be http(s). Times must carry an offset.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
import nh3

from events import format_time

from ..domain.events import CORRECTION_REASONS
from ..i18n import LANGUAGES
from ..themes import ACCENT, COLOR_SCHEMES, font_families

f = ma.fields
v = ma.validate

INLINE_TAGS = {"a", "strong", "em", "b", "i", "br"}
_TIMEZONES = zoneinfo.available_timezones()
SLUG_PATTERN = r"^[a-z0-9-]{1,80}$"


#: characters XML 1.0 forbids (C0 controls but tab and newline, U+FFFE, U+FFFF, surrogates):
#: text holding one could never be served in an Atom feed, so none is ever stored
XML_ILLEGAL = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]")


def _illegal_characters(value: Any) -> Any:
    """Messages shaped like ``value`` for each string holding an XML-illegal character."""
    if isinstance(value, str):
        found = XML_ILLEGAL.search(value)
        if found is None:
            return None
        return [f"Character U+{ord(found.group()):04X} is not allowed in text."]
    if isinstance(value, Mapping):
        nested = {key: _illegal_characters(item) for key, item in value.items()}
        return {key: item for key, item in nested.items() if item} or None
    if isinstance(value, list):
        nested_list = {index: _illegal_characters(item) for index, item in enumerate(value)}
        return {index: item for index, item in nested_list.items() if item} or None
    return None


class StrictSchema(ma.Schema):
    """Unknown fields are an error (marshmallow's default, made explicit), and so is a character
    XML forbids, in any field."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _refuse_xml_illegal_characters(self, data: Any, **kwargs: Any) -> Any:
        errors = _illegal_characters(data)
        if errors:
            raise ma.ValidationError(errors)
        return data


class Html(f.String):
    """A string sanitised with nh3: the inline subset when ``inline``, else no tags at all."""
    def __init__(self, *, inline: bool = False, max_length: int = 20_000, min_length: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(validate=v.Length(min=min_length, max=max_length), **kwargs)
        self.inline = inline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if self.inline:
            return nh3.clean(text, tags=INLINE_TAGS, attributes={"a": {"href"}},
                             url_schemes={"http", "https", "mailto"},
                             link_rel="noopener noreferrer nofollow")
        return nh3.clean(text, tags=set())


class Time(f.AwareDateTime):
    """An RFC 3339 time with an offset (a time without one is an error)."""
    default_error_messages = {
        "invalid": "Not a valid RFC 3339 time.",
        "invalid_awareness": "The time needs an offset (e.g. Z or +01:00).",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            format_time(moment)  # in UTC it must still be a year from 1 to 9999
        except OverflowError as e:
            raise ma.ValidationError("The time is out of range.") from e
        return moment


def _http_url(**kwargs: Any) -> f.Url:
    return f.Url(schemes={"http", "https"}, require_tld=False, validate=v.Length(max=2000),
                 **kwargs)


class BylineSchema(StrictSchema):
    contributors = f.List(Html(max_length=200), validate=v.Length(max=20), load_default=list)
    organization = Html(max_length=200, allow_none=True)
    location = Html(max_length=200, allow_none=True)


class ParagraphSchema(StrictSchema):
    type = f.String(required=True)
    text = Html(inline=True, required=True)


class QuoteSchema(StrictSchema):
    type = f.String(required=True)
    text = Html(inline=True, required=True)
    attribution = Html(inline=True, max_length=500)


_IMAGE_URL = v.URL(schemes={"http", "https"}, require_tld=False)


class ImageSchema(StrictSchema):
    """An image: from elsewhere (``url``) or uploaded here (``media_id``, the SHA-256 POST
    /api/media gave). For an uploaded one the service fills in ``url`` (/media/<id>.<ext>),
    ``width`` and ``height``."""

    type = f.String(required=True)
    url = f.String(validate=v.Length(max=2000), metadata={
        "description": "http(s) URL of an image elsewhere; for media_id, where it is served"})
    media_id = f.String(validate=v.Regexp("^[0-9a-f]{64}$", error="Not a media id (SHA-256)."),
                        metadata={"description": "an uploaded image's id (POST /api/media)"})
    width = f.Integer(validate=v.Range(min=1, max=100_000), metadata={
        "description": "in pixels, with height: the page reserves the image's room before it "
                       "loads (filled in for a media_id)"})
    height = f.Integer(validate=v.Range(min=1, max=100_000), metadata={
        "description": "in pixels, with width"})
    caption = Html(inline=True, max_length=2000)
    credit = Html(inline=True, max_length=500)
    alt = Html(max_length=1000)

    @ma.validates_schema
    def _one_source(self, data: dict[str, Any], **kwargs: Any) -> None:
        media_id = data.get("media_id")
        if media_id is None:
            if "url" not in data:
                raise ma.ValidationError("An image needs a url or a media_id.", "url")
            try:
                _IMAGE_URL(data["url"])
            except ma.ValidationError as e:
                raise ma.ValidationError(e.messages, "url") from None
            # an image from elsewhere may say its size, both numbers or neither
            for name, other in (("width", "height"), ("height", "width")):
                if name in data and other not in data:
                    raise ma.ValidationError(f"Give {other} too (or neither).", other)
        elif "url" in data and not data["url"].startswith(f"/media/{media_id}."):
            raise ma.ValidationError("Give a url or a media_id, not both.", "url")


class EmbedSchema(StrictSchema):
    type = f.String(required=True)
    url = _http_url(required=True)
    provider = Html(max_length=100)


def Plain(**kwargs: Any) -> f.String:  # noqa: N802 (a field, named as fields are)
    """Plain text (a reader's words, a poll's): kept as written, always escaped when shown."""
    max_length = kwargs.pop("max_length")
    return f.String(validate=[v.Length(min=kwargs.pop("min_length", 0), max=max_length),
                              _printable], **kwargs)


def _printable(value: str) -> None:
    if any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t" for c in value):
        raise ma.ValidationError("Control characters are not text.")


class QuestionBlockSchema(StrictSchema):
    """A reader's question, quoted in the post that answers it (POST .../questions/{id}/answer
    makes it)."""
    type = f.String(required=True)
    text = Plain(required=True, min_length=1, max_length=500)
    name = Plain(allow_none=True, max_length=80)


class PollOptionSchema(StrictSchema):
    id = f.String(validate=v.Length(max=40))
    text = Plain(required=True, min_length=1, max_length=200)
    votes = f.Integer(metadata={"description": "the final tally, once closed"})


class PollOption(f.Field[Any]):
    """An option: its text (a new poll) or ``{"id", "text"}`` as the service gave it."""
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            return PollOptionSchema().load({"text": value})["text"]
        if isinstance(value, dict):
            return PollOptionSchema().load(value)
        raise ma.ValidationError("An option is its text.")


class PollSchema(StrictSchema):
    """A poll readers vote in (POST /api/polls/{id}/votes). The service gives it its ``id``
    and each option ``{"id", "text"}``; once saved, its question and options stay."""
    type = f.String(required=True)
    id = f.String(validate=v.Length(max=60))
    question = Plain(required=True, min_length=1, max_length=300)
    options = f.List(PollOption(), required=True, validate=v.Length(min=2, max=6))
    closes_at = Time(allow_none=True, metadata={"description": "when it stops taking votes"})
    closed_at = f.String(metadata={"description": "set by the service when it closed"})
    total = f.Integer(metadata={"description": "the final total, once closed"})


BLOCK_SCHEMAS: dict[str, ma.Schema] = {
    "paragraph": ParagraphSchema(), "heading": ParagraphSchema(), "quote": QuoteSchema(),
    "image": ImageSchema(), "embed": EmbedSchema(), "question": QuestionBlockSchema(),
    "poll": PollSchema(),
}


class Block(f.Field[Any]):
    """One body block, validated by the schema of its ``type``."""
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise ma.ValidationError("A block must be an object with a type.")
        kind = value.get("type")
        schema = BLOCK_SCHEMAS.get(kind) if isinstance(kind, str) else None
        if schema is None:
            raise ma.ValidationError(
                {"type": [f"Must be one of: {', '.join(BLOCK_SCHEMAS)}."]})
        return schema.load(value)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class _PostContent(StrictSchema):
    byline = f.Nested(BylineSchema)
    body = f.List(Block(), validate=v.Length(max=500))
    display_time = Time(allow_none=True)
    pinned = f.Boolean()
    key_event = f.Boolean()
    publish_at = Time()


class PostCreateSchema(_PostContent):
    """Body of POST /api/blogs/{blog}/posts."""
    headline = Html(required=True, min_length=1, max_length=500)
    status = f.String(validate=v.OneOf(["published", "draft", "submitted"]), metadata={
        "description": "published (an editor's default), draft (a contributor's default) or"
                       " submitted (for an editor's approval)"})

    @ma.validates_schema
    def _one_way_to_publish(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "publish_at" in data and "status" in data:
            raise ma.ValidationError("give status or publish_at, not both", "publish_at")


class PostPatchSchema(_PostContent):
    """Body of PATCH /api/blogs/{blog}/posts/{post}: any subset of the fields."""
    headline = Html(min_length=1, max_length=500)
    status = f.String(validate=v.OneOf(["published"]))

    @ma.validates_schema
    def _something_and_one_way(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("give at least one field to change")
        if "publish_at" in data and "status" in data:
            raise ma.ValidationError("give status or publish_at, not both", "publish_at")


def _timezone(value: str) -> None:
    if value not in _TIMEZONES:
        raise ma.ValidationError("Not an IANA time zone (e.g. America/New_York).")


class _BlogFields(StrictSchema):
    slug = f.String(validate=v.Regexp(SLUG_PATTERN, error="Use 1-80 of a-z, 0-9 and -."))
    description = Html(max_length=5000)
    authors = f.List(Html(max_length=200), validate=v.Length(max=50))
    organization = Html(max_length=200, allow_none=True)
    timezone = f.String(validate=_timezone)
    archive_after_days = f.Integer(allow_none=True, validate=v.Range(min=1, max=36500), metadata={
        "description": "close the blog after this many days without a change readers can see"
                       " (null: never; default ARCHIVE_AFTER_DAYS)"})
    language = f.String(validate=v.OneOf(list(LANGUAGES)), metadata={
        "description": "BCP 47: the language of the reader page, Atom and JSON-LD (default"
                       " en-US)", "enum": list(LANGUAGES)})


def _font_family(value: str) -> None:
    try:
        font_families(value)
    except ValueError as e:
        raise ma.ValidationError(str(e)) from e


class ThemeSchema(StrictSchema):
    """A blog's theme (PATCH replaces it whole; null: the house style)."""
    accent = f.String(validate=v.Regexp(ACCENT, error="Use #RRGGBB."), metadata={
        "description": "the live badge, the new-posts button, quotes' rule (#RRGGBB)"})
    font_family = f.String(validate=[v.Length(max=300), _font_family], metadata={
        "description": 'a CSS font-family list, e.g. "Source Serif 4", Georgia, serif'})
    color_scheme = f.String(load_default="light", validate=v.OneOf(COLOR_SCHEMES), metadata={
        "description": "auto: the reader's own preference", "enum": list(COLOR_SCHEMES)})
    logo_media_id = f.String(allow_none=True, validate=v.Regexp(
        "^[0-9a-f]{64}$", error="Not a media id (SHA-256)."), metadata={
        "description": "an uploaded image (POST /api/media), shown above the title"})


class ThemeOutSchema(ThemeSchema):
    """A blog's theme as it is read."""
    logo_url = f.String(metadata={"description": "where the logo is served"})
    logo_width = f.Integer()
    logo_height = f.Integer()


class BlogCreateSchema(_BlogFields):
    """Body of POST /api/blogs."""
    title = Html(required=True, min_length=1, max_length=300)


class BlogPatchSchema(_BlogFields):
    """Body of PATCH /api/blogs/{blog}: any subset of the fields."""
    title = Html(min_length=1, max_length=300)
    theme = f.Nested(ThemeSchema, allow_none=True, metadata={
        "description": "accent, font, light/dark/auto and logo of the reader page and embeds"})
    questions_enabled = f.Boolean(metadata={
        "description": "readers may send the blog questions (its inbox: .../questions)"})

    @ma.validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("give at least one field to change")


class FeedQuerySchema(StrictSchema):
    """Query of GET /api/blogs/{blog}/posts."""
    order = f.String(load_default="newest", validate=v.OneOf(["newest", "oldest", "updated"]))
    limit = f.Integer(load_default=20, validate=v.Range(min=1, max=100))
    cursor = f.String(validate=v.Length(max=200))
    status = f.String(validate=v.Regexp(
        r"^(draft|submitted|scheduled|published|deleted|redacted)"
        r"(,(draft|submitted|scheduled|published|deleted|redacted))*$",
        error="Use any of draft, submitted, scheduled, published, deleted, redacted, separated"
              " by commas."),
                      metadata={"description": "the blog's members, auditors and legal only:"
                                               " every post with these statuses, most recently"
                                               " changed first (a contributor: their own)"})
    as_of = f.String(validate=v.Length(min=1, max=200), metadata={
        "description": "auditors only: an RFC 3339 time or a cursor; the feed exactly as"
                       " readers saw it then, replayed from the log"})


#: the longest a /changes long poll may be held, in seconds
MAX_LONG_POLL_WAIT = 30


class ChangesQuerySchema(StrictSchema):
    """Query of GET /api/blogs/{blog}/changes."""
    since = f.String(required=True, validate=v.Length(max=200))
    limit = f.Integer(load_default=100, validate=v.Range(min=1, max=500))
    wait = f.Integer(load_default=0, validate=v.Range(min=0, max=MAX_LONG_POLL_WAIT))


class ApproveSchema(StrictSchema):
    """Body of POST .../posts/{post}/approve (optional)."""
    publish_at = Time(metadata={
        "description": "a future time: the post is scheduled for it instead of published now"})


class RejectSchema(StrictSchema):
    """Body of POST .../posts/{post}/reject."""
    note = Html(required=True, min_length=1, max_length=2000, metadata={
        "description": "what the author should change; shown to them with the draft"})


class UnpublishSchema(StrictSchema):
    """Body of POST .../posts/{post}/unpublish (optional)."""
    reason = Html(max_length=500)


class MemberPutSchema(StrictSchema):
    """Body of PUT /api/blogs/{blog}/members/{person}."""
    role = f.String(required=True, validate=v.OneOf(["editor", "contributor"]))


class MemberSchema(ma.Schema):
    """A member of a blog."""
    id = f.String(metadata={"description": "the person's id (a token's id, or a signed-in"
                                           " person's)"})
    name = f.String()
    role = f.String(metadata={"enum": ["editor", "contributor"]})
    since = f.String(metadata={"format": "date-time"})


class MembersSchema(ma.Schema):
    """A blog's members."""
    members = f.List(f.Nested(MemberSchema))


class CandidateSchema(ma.Schema):
    """Someone who could be made a member of a blog."""
    id = f.String(metadata={"description": "the person's id, for PUT .../members/{person}"})
    name = f.String()
    kind = f.String(metadata={"enum": ["token", "signed in"], "description": "a token's"
                                                                           " holder, or a person"
                                                                           " who signed in"})


class CandidatesSchema(ma.Schema):
    """Who could be made a member of a blog."""
    candidates = f.List(f.Nested(CandidateSchema))


class CandidatesQuerySchema(StrictSchema):
    """Query of GET /api/blogs/{blog}/candidates."""
    q = f.String(load_default="", validate=v.Length(max=200), metadata={
        "description": "only those whose name holds these words (any case)"})


class MembershipSchema(ma.Schema):
    blog = f.String(metadata={"description": "the blog's id"})
    slug = f.String()
    role = f.String(metadata={"enum": ["editor", "contributor"]})


class MeSchema(ma.Schema):
    """Who is asking."""
    id = f.String()
    token_id = f.String(allow_none=True, metadata={"description": "a token's id (v1)"})
    name = f.String()
    role = f.String(allow_none=True, metadata={
        "enum": ["admin", "editor", "contributor", "auditor", "legal"],
        "description": "the newsroom-wide role; for a person whose roles all come from"
                       " memberships, the highest of them (null: none)"})
    newsroom_wide = f.Boolean(metadata={"description": "whether the role holds on every blog"})
    memberships = f.List(f.Nested(MembershipSchema))
    csrf_token = f.String(metadata={"description": "a signed-in browser's only: send it as"
                                                   " X-CSRF-Token with every write"})


class DeleteQuerySchema(StrictSchema):
    """Query of DELETE /api/blogs/{blog}/posts/{post}."""
    reason = Html(max_length=500)


# -- responses (for the OpenAPI document; views render JSON themselves) ----------------------

_time = {"format": "date-time", "example": "2022-01-21T13:31:00.000000Z"}


class BylineOutSchema(ma.Schema):
    contributors = f.List(f.String())
    organization = f.String(allow_none=True)
    location = f.String(allow_none=True)




class CorrectionCreateSchema(StrictSchema):
    """Body of POST /api/blogs/{blog}/posts/{post}/corrections."""
    text = Html(inline=True, required=True, min_length=1, max_length=2000,
                metadata={"description": "what was wrong and what is right (inline HTML)"})
    reason = f.String(required=True, validate=v.OneOf(CORRECTION_REASONS))


class CorrectionSchema(ma.Schema):
    """A public correction of a post."""
    id = f.String()
    text = f.String()
    reason = f.String(metadata={"enum": CORRECTION_REASONS})
    recorded_at = f.String(metadata={"format": "date-time"})


class BlogCorrectionSchema(CorrectionSchema):
    """A correction in a blog's list: with the post it corrects."""
    post_id = f.String()


class CorrectionsSchema(ma.Schema):
    """Every correction of a blog, newest first."""
    corrections = f.List(f.Nested(BlogCorrectionSchema))


class RedactionCreateSchema(StrictSchema):
    """Body of POST /api/blogs/{blog}/posts/{post}/redact."""
    reason = Html(required=True, min_length=1, max_length=2000, metadata={
        "description": "why the content must leave the record (e.g. the court order); kept"})


class RedactionSchema(ma.Schema):
    """A redaction, as recorded."""
    blog_id = f.String()
    post_id = f.String()
    status = f.String(metadata={"enum": ["redacted"]})
    redacted = f.Boolean()
    version = f.Integer(metadata={"description": "the post's revision that records the"
                                                " redaction"})
    reason = f.String()
    recorded_at = f.String(metadata=_time)
    actor = f.Dict(metadata={"description": "who redacted (the legal token's id and name)"})
    erased_events = f.Integer(metadata={"description": "the post's earlier events whose"
                                                      " content was erased from storage"})


class PostSchema(ma.Schema):
    """A post."""
    id = f.String()
    blog_id = f.String()
    status = f.String(metadata={"enum": ["draft", "submitted", "scheduled", "published",
                                         "deleted", "redacted"]})
    author = f.Dict(metadata={"description": "only to the blog's members, auditors and legal:"
                                             " {id, name} of who wrote it"})
    review_note = f.String(allow_none=True, metadata={
        "description": "only to the blog's members, auditors and legal: the note an editor"
                       " sent back when rejecting it (cleared when it is submitted again)"})
    redacted = f.Boolean(metadata={
        "description": "present, true, only on a post whose content a legal redaction erased:"
                       " auditors see one in history and as-of, with no content"})
    updated_by = f.Dict(metadata={
        "description": "only in answers to a token: {name} of who made the latest change"
                       " (the console names the other editor of a conflicting save)"})
    headline = f.String()
    byline = f.Nested(BylineOutSchema)
    body = f.List(f.Dict(), metadata={"description": "blocks: paragraph, heading, quote,"
                                                     " image, embed"})
    display_time = f.String(allow_none=True, metadata=_time)
    published_at = f.String(allow_none=True, metadata=_time)
    updated_at = f.String(metadata=_time)
    publish_at = f.String(allow_none=True, metadata=_time)
    pinned = f.Boolean()
    key_event = f.Boolean()
    version = f.Integer()
    edited = f.Boolean(metadata={"description": "edited after it was published"})
    edited_at = f.String(allow_none=True, metadata=_time)
    corrections = f.List(f.Nested(CorrectionSchema), metadata={
        "description": "public corrections, oldest first"})


class BlogSchema(ma.Schema):
    """A blog summary."""
    id = f.String()
    slug = f.String()
    title = f.String()
    description = f.String()
    authors = f.List(f.String())
    organization = f.String(allow_none=True)
    timezone = f.String()
    status = f.String(metadata={"enum": ["live", "closed"]})
    created_at = f.String(metadata=_time)
    updated_at = f.String(metadata=_time)
    post_count = f.Integer()
    cursor = f.String()
    archive_after_days = f.Integer(allow_none=True, metadata={
        "description": "closed by the scheduler after this many idle days (null: never)"})
    language = f.String(metadata={"enum": list(LANGUAGES), "description": "BCP 47"})
    theme = f.Nested(ThemeOutSchema, allow_none=True, metadata={
        "description": "null: the house style"})
    questions_enabled = f.Boolean()


class BlogListSchema(ma.Schema):
    blogs = f.List(f.Nested(BlogSchema))


class FeedSchema(ma.Schema):
    """A feed page."""
    blog = f.Nested(BlogSchema)
    pinned = f.List(f.Nested(PostSchema))
    posts = f.List(f.Nested(PostSchema))
    total = f.Integer()
    next_cursor = f.String(allow_none=True)
    cursor = f.String()


class ChangeSchema(ma.Schema):
    op = f.String(metadata={"enum": ["upsert", "delete"]})
    post = f.Nested(PostSchema)
    id = f.String()


class ChangesSchema(ma.Schema):
    """Changes since a cursor."""
    changes = f.List(f.Nested(ChangeSchema))
    blog = f.Nested(BlogSchema)
    cursor = f.String()
    more = f.Boolean()


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details."""
    type = f.String()
    title = f.String()
    status = f.Integer()
    detail = f.String()
    errors = f.Dict(keys=f.String(), values=f.List(f.String()))


def slugify(title: str) -> str:
    """A slug made from a title: lowercase ASCII words joined by hyphens (at most 80)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:80].strip("-") or "blog"
