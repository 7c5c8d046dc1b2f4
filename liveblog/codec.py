"""The storage edge: event dataclasses <-> JSON through one marshmallow schema per event type.

The stored ``type`` string is looked up in the explicit REGISTRY below, never derived from a
module path, so moving or renaming a class never orphans a stored event. Every event type starts
at schema_version 1; a new version registers an upcaster in UPCASTERS.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import marshmallow as ma

from events import NewEvent, RecordedEvent, Upcasters, format_time

from .domain import events as ev

f = ma.fields


class _EventSchema(ma.Schema):
    """Base: unknown keys raise (a payload never silently loses a field)."""

    class Meta:
        unknown = ma.RAISE


_BLOG_ID: dict[str, ma.fields.Field[Any]] = {"blog_id": f.String(required=True)}
_POST_IDS: dict[str, ma.fields.Field[Any]] = {
    "blog_id": f.String(required=True), "post_id": f.String(required=True),
    "revision": f.Integer(required=True, validate=ma.validate.Range(min=1))}
#: who wrote a post: recorded only when a person did (events from before v1.2, the CLI and
#: imports have none)
_AUTHOR: dict[str, ma.fields.Field[Any]] = {"author": f.String(load_default=None)}
#: fields added since v1, left out of a payload when they hold their default, so an event
#: that does not use them is the same bytes as before they existed
_OMITTED_DEFAULTS: dict[str, Any] = {"author": None, "scoped": False,
                                     "language": ev.DEFAULT_LANGUAGE}
_CONTENT = f.Dict(keys=f.String(validate=ma.validate.OneOf(
    ["headline", "byline", "body", "display_time"])))


def _schema(type_name: str, /, **fields: ma.fields.Field[Any]) -> type[ma.Schema]:
    return _EventSchema.from_dict(fields, name=f"{type_name}Schema")


class _Instant(f.Field[datetime]):
    """An instant, stored in the log's one time format (RFC 3339 UTC, microseconds, ``Z``)."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any,
                   **kwargs: Any) -> str | None:
        return None if value is None else format_time(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise ma.ValidationError("Not a recorded time.")
        try:
            return datetime.fromisoformat(value)
        except ValueError as e:
            raise ma.ValidationError("Not a recorded time.") from e


REGISTRY: dict[str, tuple[type[Any], type[ma.Schema], int]] = {
    "BlogCreated": (ev.BlogCreated, _schema(
        "BlogCreated", **_BLOG_ID, slug=f.String(required=True), title=f.String(required=True),
        description=f.String(required=True), authors=f.List(f.String(), required=True),
        organization=f.String(allow_none=True, required=True),
        timezone=f.String(required=True),
        archive_after_days=f.Integer(allow_none=True,
                                     load_default=ev.DEFAULT_ARCHIVE_AFTER_DAYS),
        language=f.String(load_default=ev.DEFAULT_LANGUAGE)), 1),
    "BlogUpdated": (ev.BlogUpdated, _schema(
        "BlogUpdated", **_BLOG_ID, changes=f.Dict(keys=f.String(), required=True)), 1),
    "BlogClosed": (ev.BlogClosed, _schema("BlogClosed", **_BLOG_ID), 1),
    "BlogReopened": (ev.BlogReopened, _schema("BlogReopened", **_BLOG_ID), 1),
    "PostDrafted": (ev.PostDrafted, _schema(
        "PostDrafted", **_POST_IDS, content=_CONTENT, **_AUTHOR), 1),
    "PostScheduled": (ev.PostScheduled, _schema(
        "PostScheduled", **_POST_IDS, publish_at=_Instant(required=True),
        content=f.Dict(keys=f.String(), allow_none=True, load_default=None), **_AUTHOR), 1),
    "PostPublished": (ev.PostPublished, _schema(
        "PostPublished", **_POST_IDS,
        content=f.Dict(keys=f.String(), allow_none=True, load_default=None), **_AUTHOR), 1),
    "PostSubmitted": (ev.PostSubmitted, _schema("PostSubmitted", **_POST_IDS), 1),
    "PostRejected": (ev.PostRejected, _schema(
        "PostRejected", **_POST_IDS, note=f.String(required=True)), 1),
    "PostUnpublished": (ev.PostUnpublished, _schema(
        "PostUnpublished", **_POST_IDS, reason=f.String(allow_none=True, load_default=None)),
        1),
    "PostEdited": (ev.PostEdited, _schema("PostEdited", **_POST_IDS, changes=_CONTENT), 1),
    "PostDeleted": (ev.PostDeleted, _schema(
        "PostDeleted", **_POST_IDS, reason=f.String(allow_none=True, load_default=None)), 1),
    "PostCorrected": (ev.PostCorrected, _schema(
        "PostCorrected", **_POST_IDS, correction_id=f.String(required=True),
        text=f.String(required=True), reason=f.String(required=True, validate=ma.validate.OneOf(
            ev.CORRECTION_REASONS))), 1),
    "PostRedacted": (ev.PostRedacted, _schema(
        "PostRedacted", **_POST_IDS, reason=f.String(required=True)), 1),
    "PostPinned": (ev.PostPinned, _schema("PostPinned", **_POST_IDS), 1),
    "PostUnpinned": (ev.PostUnpinned, _schema("PostUnpinned", **_POST_IDS), 1),
    "PostMarkedKeyEvent": (ev.PostMarkedKeyEvent, _schema("PostMarkedKeyEvent", **_POST_IDS), 1),
    "PostUnmarkedKeyEvent": (ev.PostUnmarkedKeyEvent,
                             _schema("PostUnmarkedKeyEvent", **_POST_IDS), 1),
    "PollClosed": (ev.PollClosed, _schema(
        "PollClosed", **_POST_IDS, poll_id=f.String(required=True),
        tally=f.Dict(keys=f.String(), values=f.Integer(), required=True),
        total=f.Integer(required=True)), 1),
    "TokenCreated": (ev.TokenCreated, _schema(
        "TokenCreated", token_id=f.String(required=True), name=f.String(required=True),
        role=f.String(required=True, validate=ma.validate.OneOf(ev.ROLES)),
        secret_hash=f.String(required=True), scoped=f.Boolean(load_default=False)), 1),
    "TokenRevoked": (ev.TokenRevoked, _schema("TokenRevoked", token_id=f.String(required=True)),
                     1),
}
REGISTRY.update({
    "MemberAdded": (ev.MemberAdded, _schema(
        "MemberAdded", **_BLOG_ID, person_id=f.String(required=True),
        role=f.String(required=True, validate=ma.validate.OneOf(ev.MEMBER_ROLES)),
        source=f.String(load_default="api")), 1),
    "MemberRemoved": (ev.MemberRemoved, _schema(
        "MemberRemoved", **_BLOG_ID, person_id=f.String(required=True)), 1),
    "PersonRegistered": (ev.PersonRegistered, _schema(
        "PersonRegistered", person_id=f.String(required=True), name=f.String(required=True),
        issuer=f.String(required=True), subject=f.String(required=True),
        role=f.String(allow_none=True, load_default=None)), 1),
})
TYPE_OF = {cls: name for name, (cls, _, _) in REGISTRY.items()}
_SCHEMAS = {name: schema() for name, (_, schema, _) in REGISTRY.items()}

#: schema_version steps for stored events; none yet (every type is at version 1).
UPCASTERS = Upcasters()


def encode(event: Any, metadata: dict[str, Any]) -> NewEvent:
    """A domain event as a NewEvent, its payload validated by its type's schema."""
    name = TYPE_OF[type(event)]
    data = {key: format_time(value) if isinstance(value, datetime) else value
            for key, value in dataclasses.asdict(event).items()
            if not (key in _OMITTED_DEFAULTS and value is _OMITTED_DEFAULTS[key])}
    errors = _SCHEMAS[name].validate(data)
    if errors:
        raise ValueError(f"{name} does not match its schema: {errors}")
    return NewEvent(name, data, metadata, REGISTRY[name][2])


def decode(recorded: RecordedEvent) -> Any:
    """A recorded event (already upcast to the newest shape) as its domain dataclass."""
    cls, _, _ = REGISTRY[recorded.type]
    data = _SCHEMAS[recorded.type].load(recorded.data)
    return cls(**data)
