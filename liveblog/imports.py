"""What an imported log may hold: every event checked as the API checked the request behind it.

A log file's hash chain proves nothing about where it came from (anyone can recompute it), so
``liveblog import`` distrusts it: an unknown type, an unknown schema version, a payload its
type's schema refuses, or text the API would have sanitised differently (script, say) is
refused with its line number, and so are token events (they grant access) unless the operator
asks for them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import marshmallow as ma

from .api import schemas
from .codec import _SCHEMAS, REGISTRY, UPCASTERS
from .domain.events import erase

TOKEN_EVENTS = ("TokenCreated", "TokenRevoked")
#: a post event's fields that hold what the API loaded (PostPatchSchema), and the text in them
_POST_INPUT = ("content", "changes")
_POST_TEXT = ("headline", "byline", "body")
_BLOG_TEXT = ("title", "description", "authors", "organization")


def checker(*, with_tokens: bool, text: bool = True) -> Callable[[Mapping[str, Any]], None]:
    """A check for :func:`events.import_jsonl`: raises ValueError naming what is wrong.

    :param text: also require text as the sanitiser leaves it now (an import from outside);
        a copy between this deployment's own databases checks types and schemas only, so a log
        sanitised by an older version still moves.
    """

    def check(record: Mapping[str, Any]) -> None:
        if record.get("redacted"):
            check_erased(record["type"], record["schema_version"], record["data"])
            return
        check_event(record["type"], record["schema_version"], record["data"],
                    with_tokens=with_tokens, text=text)

    return check


def check_event(type_: str, schema_version: int, data: dict[str, Any], *,
                with_tokens: bool, text: bool = True) -> None:
    """Refuse an event the API could not have recorded.

    :raises ValueError: saying why.
    """
    known = REGISTRY.get(type_)
    if known is None:
        raise ValueError(f"unknown event type {type_!r}")
    if type_ in TOKEN_EVENTS and not with_tokens:
        raise ValueError(f"{type_} events grant access and are refused; give --with-tokens"
                         " to import them from a log you trust")
    if not 1 <= schema_version <= known[2]:
        raise ValueError(f"{type_} has no schema version {schema_version}")
    _, payload = UPCASTERS.upcast(type_, schema_version, data)
    errors = _SCHEMAS[type_].validate(payload)
    if errors:
        raise ValueError(f"{type_} does not match its schema: {errors}")
    if not text:
        return
    if type_ in ("BlogCreated", "BlogUpdated"):
        fields = payload if type_ == "BlogCreated" else payload["changes"]
        _same_as_the_api(schemas.BlogPatchSchema, {k: fields[k] for k in _BLOG_TEXT
                                                    if k in fields}, _BLOG_TEXT, type_)
    for field in _POST_INPUT:
        given = payload.get(field) if type_.startswith("Post") else None
        if given:
            _same_as_the_api(schemas.PostPatchSchema,
                             {k: given[k] for k in _POST_TEXT if k in given}, _POST_TEXT, type_)
    if type_ == "PostDeleted" and payload.get("reason"):
        _same_as_the_api(schemas.DeleteQuerySchema, {"reason": payload["reason"]}, ("reason",),
                         type_)


def check_erased(type_: str, schema_version: int, data: dict[str, Any]) -> None:
    """Refuse an event marked redacted that is not one a redaction leaves: a post event of a
    known shape, with no content left in it (what it said is gone; its hash stands in).

    :raises ValueError: saying why.
    """
    if not type_.startswith("Post") or type_ == "PostRedacted":
        raise ValueError(f"a {type_} event is never redacted")
    check_event(type_, schema_version, data, with_tokens=False, text=False)
    if erase(type_, data) != data:
        raise ValueError(f"{type_} is marked redacted but still holds content")


def _same_as_the_api(schema: type[ma.Schema], given: dict[str, Any], names: tuple[str, ...],
                     type_: str) -> None:
    if not given:
        return
    try:
        loaded = schema(partial=True).load(given)
    except ma.ValidationError as e:
        raise ValueError(f"{type_} holds what the API refuses: {e.messages}") from None
    for name in names:
        if name in given and loaded.get(name) != given[name]:
            raise ValueError(f"{type_} holds {name} the API would have sanitised (markup it"
                             " does not keep, such as script)")
