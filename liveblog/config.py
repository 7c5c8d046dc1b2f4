"""Settings: each declared once with its default, what it accepts, and a line of help.

Every key can be set from the environment as LIVEBLOG_<KEY>. :func:`from_environ` reads them
all at start-up and checks each value's type and shape: a wrong one stops the start with one
line naming the setting and what it accepts (:class:`SettingError`), and a ``LIVEBLOG_`` name
that is no setting is returned, to be reported as a likely typo.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from events import check_name

from .domain.events import DEFAULT_ARCHIVE_AFTER_DAYS
from .transparency import parse_witness

#: the environment's prefix for every setting
PREFIX = "LIVEBLOG_"

#: ``LIVEBLOG_`` names read by the command line and the scripts, not settings
OTHER_NAMES = frozenset({"DB", "TOKEN", "TEST_POSTGRES", "TEST_WORKERS"})


class SettingError(ValueError):
    """Raised when a setting's value is not of the type or shape it accepts."""


@dataclass(frozen=True)
class Kind:
    """What a setting accepts: a phrase for the error line, and the parser of its text."""

    accepts: str
    parse: Callable[[str], Any]


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def _boolean(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(text)


def _number(cast: type, *, minimum: float, nullable: bool = False) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        if nullable and text.strip().lower() in ("null", "none", ""):
            return None
        value = cast(text.strip())
        if value < minimum or value != value or value in (float("inf"), float("-inf")):
            raise ValueError(text)
        return value

    return parse


def _items(text: str) -> list[str]:
    """A JSON list of strings, or the same written with commas (``a,b``)."""
    value = _json(text)
    if isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise ValueError(text)
        return value
    if not isinstance(value, str):
        raise ValueError(text)
    return [item.strip() for item in value.split(",") if item.strip()]


def _addresses(text: str) -> list[str]:
    items = _items(text)
    for item in items:
        ipaddress.ip_address(item)
    return items


def _origins(text: str) -> list[str]:
    items = _items(text)
    for item in items:
        parts = urlsplit(item)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in (
                "", "/") or parts.query or parts.fragment:
            raise ValueError(item)
    return [item.rstrip("/") for item in items]


def _networks(text: str) -> list[str]:
    items = _items(text)
    for item in items:
        ipaddress.ip_network(item, strict=False)
    return items


def _private(text: str) -> bool | list[str]:
    try:
        return _boolean(text)
    except ValueError:
        networks = _networks(text)
        if not networks:
            raise
        return networks


def _delays(text: str) -> list[float]:
    value = json.loads(text) if text.strip().startswith("[") else text.split(",")
    delays = [_number(float, minimum=0)(str(item)) for item in value]
    if not delays:
        raise ValueError(text)
    return delays


def _choice(*words: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        for word in words:
            if text.strip().lower() == word.lower():
                return word
        raise ValueError(text)

    return parse


def _witnesses(text: str) -> list[str]:
    items = _items(text)
    for item in items:
        parse_witness(item)
    return items


def _url(text: str) -> str:
    parts = urlsplit(text.strip())
    if text.strip() and (parts.scheme not in ("http", "https") or not parts.hostname):
        raise ValueError(text)
    return text.strip().rstrip("/")


def _text(accepted: Callable[[str], bool]) -> Callable[[str], str]:
    """Text that ``accepted`` takes; empty text is unset (the default)."""
    def parse(text: str) -> str:
        if text and not accepted(text):
            raise ValueError(text)
        return text

    return parse


def _database(text: str) -> str:
    check_name(text)
    return text


TEXT = Kind("any text", str)
#: text another module checks as the app starts (a key, a file, a map): its error names it
CHECKED_AT_START = TEXT
WORD = Kind("text without spaces", _text(lambda text: not any(c.isspace() for c in text)))
WORDS = Kind("text that is not only spaces", _text(lambda text: bool(text.strip())))
SECONDS = Kind("a number of seconds greater than 0 (e.g. 1.5)", _number(float, minimum=1e-9))
COUNT = Kind("a whole number, 0 or more", _number(int, minimum=0))
BYTES = Kind("a whole number of bytes, 1 or more", _number(int, minimum=1))
WHOLE_SECONDS = Kind("a whole number of seconds, 0 or more", _number(int, minimum=0))
BOOLEAN = Kind("true/false/1/0/yes/no", _boolean)
NETWORKS = Kind("networks in CIDR (a JSON list, or comma-separated: 10.0.0.0/8,::1/128)",
                _networks)
PRIVATE = Kind("true/false/1/0/yes/no, or networks in CIDR (a JSON list, or comma-separated)",
               _private)


@dataclass(frozen=True)
class Setting:
    """One setting: its default, what it accepts, and a line of help."""

    default: Any
    kind: Kind
    help: str


SETTINGS: dict[str, Setting] = {
    "DATABASE": Setting("liveblog.db", Kind("a SQLite file path (in a folder that exists) or a"
                                            " postgresql:// URL", _database),
                        "where the log and projections live: a SQLite file path (the embedded "
                        "default) or a postgresql:// URL shared by all nodes (the command "
                        "line's --db; LIVEBLOG_DB is the same)"),
    "SYNCHRONOUS": Setting("FULL", Kind("FULL or NORMAL", _choice("FULL", "NORMAL")),
                           "SQLite synchronous: FULL (survives power loss) or NORMAL; "
                           "PostgreSQL uses the server's synchronous_commit"),
    "MAX_CONTENT_LENGTH": Setting(1024 * 1024, BYTES,
                                  "largest request body accepted, in bytes (else 413)"),
    "MEDIA_MAX_BYTES": Setting(10 * 1024 * 1024, BYTES,
                               "largest image an editor may upload (POST /api/media), in bytes"
                               " (else 413)"),
    "CACHE_MAX_AGE": Setting(2, WHOLE_SECONDS, "max-age (s) of reader responses in "
                                               "Cache-Control"),
    "CACHE_STALE_WHILE_REVALIDATE": Setting(30, WHOLE_SECONDS,
                                            "stale-while-revalidate (s) of reader responses"),
    "ARCHIVE_AFTER_DAYS": Setting(
        DEFAULT_ARCHIVE_AFTER_DAYS,
        Kind("a whole number of days, 1 or more, or null (never)",
             _number(int, minimum=1, nullable=True)),
        "a new blog's archive_after_days when it gives none: closed by the scheduler after "
        "that many days without a visible change (null: never)"),
    "CLOSED_CACHE_MAX_AGE": Setting(8, WHOLE_SECONDS,
                                    "max-age (s) of a closed blog's pages, Atom and their slow "
                                    "poll (a shared cache keeps them half that): a redaction or"
                                    " a reopen reaches every reader within about 1.5 times"
                                    " this"),
    "FEED_CACHE_SIZE": Setting(512, COUNT, "rendered anonymous feed and /changes answers kept"
                                           " per process, by ETag (which names the blog's"
                                           " version)"),
    "SCHEDULER_SYNC_SECONDS": Setting(1.0, SECONDS,
                                      "how often the scheduler publishes what is due and arms "
                                      "jobs for newly scheduled posts"),
    "SCHEDULER_LEASE_SECONDS": Setting(10.0, SECONDS,
                                       "how long one process's claim to run the jobs lasts "
                                       "without renewal (one scheduler per database)"),
    "AUDIT_CHECKPOINT_SECONDS": Setting(300.0, SECONDS,
                                        "how often the chain's head is signed and kept as an "
                                        "audit checkpoint (when it moved)"),
    "AUDIT_SIGNING_KEY": Setting("", CHECKED_AT_START,
                                 "the Ed25519 key that signs audit checkpoints: base64 of its "
                                 "32-byte seed, or PEM (unset: one is made on first start and "
                                 "kept in the database)"),
    "LOG_CHECKPOINT_SECONDS": Setting(30.0, SECONDS,
                                      "how often the transparency log's checkpoint (/log/"
                                      "checkpoint) is signed anew, when the log grew"),
    "LOG_WITNESSES": Setting([], Kind("witnesses: '<URL> <vkey>' pairs, comma-separated (or a"
                                      " JSON list of them)", _witnesses),
                             "tlog-witness endpoints each new checkpoint is offered to, with"
                             " their cosignature vkeys; their cosignatures join the checkpoint"),
    "LOG_STATE_FILE": Setting("", WORDS,
                              "a file outside the database that remembers the last checkpoint"
                              " signed, so a database restored from an older backup cannot"
                              " make the service sign a fork (default: beside a SQLite file;"
                              " none on PostgreSQL unless set)"),
    "LONG_POLL_INTERVAL": Setting(0.25, SECONDS,
                                  "how often (s) each process looks at a SQLite file for a "
                                  "change (one look wakes every long poll it holds)"),
    "PUBLIC_URL": Setting("", Kind("an http:// or https:// URL with a host", _url),
                          "where readers reach the service (https://live.example.com): every "
                          "absolute URL written starts with it, none is built from a "
                          "request's Host (`serve` uses http://HOST:PORT when unset)"),
    "EMBED_FRAME_ANCESTORS": Setting([], Kind("origins such as https://news.example.com (a JSON"
                                              " list, or comma-separated)", _origins),
                                     "the sites that may frame /blogs/<slug>/embed (unset: any"
                                     " site may)"),
    "TRUSTED_PROXIES": Setting([], Kind("IP addresses (a JSON list, or comma-separated)",
                                        _addresses),
                               "addresses of the proxies whose X-Forwarded-For counts (the "
                               "client's address for rate limits); from others it is ignored"),
    "QUESTIONS_PER_HOUR": Setting(5, COUNT, "questions one client address may send in an hour"
                                            " (any blog; else 429)"),
    "QUESTION_RETENTION_DAYS": Setting(30, COUNT, "days a reader's contact is kept with their"
                                                  " question before it is erased"),
    "VOTES_PER_ADDRESS": Setting(20, COUNT, "votes one client address may cast in one poll (a"
                                            " household or an office shares one; else 429)"),
    "AUTH_FAILURE_LIMIT": Setting(10, COUNT,
                                  "failed authentications from one client address within "
                                  "AUTH_FAILURE_WINDOW before its token requests are answered"
                                  " 429"),
    "AUTH_FAILURE_WINDOW": Setting(60.0, SECONDS,
                                   "the window (s) failed authentications are counted in"),
    "METRICS_ALLOWED_NETWORKS": Setting(["127.0.0.0/8", "::1/128"], NETWORKS,
                                        "networks (CIDR) whose clients may read GET /metrics "
                                        "without a token (an auditor token may, from "
                                        "anywhere)"),
    "OIDC_ISSUER": Setting("", Kind("an http:// or https:// URL with a host", _url),
                           "the newsroom's OpenID Connect provider (https://; http:// only on "
                           "a loopback address): people sign in at /login (unset: tokens "
                           "only). Also read from OIDC_ISSUER, as are the other OIDC_ settings"),
    "OIDC_CLIENT_ID": Setting("", WORD, "this service's client id at the provider"),
    "OIDC_CLIENT_SECRET": Setting("", WORDS, "its client secret"),
    "OIDC_SCOPES": Setting("openid profile email",
                           Kind("scopes separated by spaces, openid among them",
                                _text(lambda text: "openid" in text.split())),
                           "the scopes asked for (add the one that carries groups where the "
                           "provider needs it)"),
    "OIDC_GROUPS_CLAIM": Setting("groups", WORD,
                                 "the ID token claim that lists the person's groups"),
    "OIDC_ROLE_MAP": Setting("", CHECKED_AT_START,
                             "groups -> roles: 'newsroom-admins=admin;politics-desk=editor:"
                             "election-night;interns=contributor:election-night,contributor:"
                             "results;standards=auditor'"),
    "OIDC_PROVIDER_NAME": Setting("your newsroom", WORDS,
                                  "how the console's sign-in button names the provider "
                                  "(\"Sign in with ...\")"),
    "SECRET_KEY": Setting("", Kind("text of 16 characters or more",
                                   _text(lambda text: len(text) >= 16)),
                          "signs the short-lived sign-in state cookie (unset: one is made on "
                          "first start and kept in the database, shared by every node)"),
    "OEMBED_PROVIDERS": Setting("", CHECKED_AT_START,
                                "a JSON file in the shape of oembed.com's providers.json: its "
                                "entries add to, or replace by name, the built-in providers"),
    "OEMBED_TIMEOUT": Setting(3.0, SECONDS,
                              "seconds a save waits for every embed's provider together; a "
                              "slower one leaves a link card"),
    "OEMBED_ALLOW_PRIVATE": Setting(False, PRIVATE,
                                    "let oEmbed fetches reach private, loopback and link-local"
                                    " addresses: true, or a list of networks (CIDR)"),
    "OEMBED_META_TOKEN": Setting("", WORD,
                                 "the app access token Instagram's and Facebook's oEmbed need"),
    "OEMBED_CACHE_SECONDS": Setting(86400, WHOLE_SECONDS,
                                    "how long a provider's answer for a URL is used before it "
                                    "is asked again (a failing provider's stays in use)"),
    "WEBHOOK_TIMEOUT": Setting(10.0, SECONDS,
                               "seconds a partner's endpoint has to answer a delivery"),
    "WEBHOOK_RETRY_DELAYS": Setting(
        [5, 30, 120, 600, 1800, 3600, 10800, 21600, 43200],
        Kind("numbers of seconds, 0 or more (a JSON list, or comma-separated)", _delays),
        "seconds to wait after the 1st, 2nd, ... failure in a row (the last one repeats)"),
    "WEBHOOK_GIVE_UP_SECONDS": Setting(259200, WHOLE_SECONDS,
                                       "a webhook failing this long (3 days) is disabled"),
    "REQUEST_METRICS": Setting(True, BOOLEAN,
                               "count every request in /metrics' liveblog_http_requests_total"
                               " and liveblog_http_request_duration_seconds (false: a proxy in"
                               " front counts them already; those series stay empty)"),
    "WEBHOOK_ALLOW_PRIVATE": Setting(False, BOOLEAN,
                                     "allow webhook URLs on private, loopback and link-local "
                                     "addresses (a newsroom's own network; tests)"),
    "WEBHOOK_DELIVERY_SECONDS": Setting(1.0, SECONDS,
                                        "how often the scheduler looks for webhooks to "
                                        "deliver"),
    "LOG_FORMAT": Setting("text", Kind("text or json", _choice("text", "json")),
                          "the request log's lines: text, as a web server writes them, or json"
                          " (time, request_id, method, route, status, duration_ms, bytes, "
                          "actor, client); set, it turns the log on (to stderr, or `serve "
                          "--access-log FILE`), as `serve --log-format` does"),
}

DEFAULTS: dict[str, Any] = {key: setting.default for key, setting in SETTINGS.items()}


def parse(key: str, text: str, *, name: str | None = None) -> Any:
    """The value of setting ``key`` written as ``text``.

    :raises SettingError: one line naming the setting (as ``name``, default LIVEBLOG_<KEY>)
        and what it accepts.
    """
    kind = SETTINGS[key].kind
    try:
        return kind.parse(text)
    except (ValueError, TypeError) as e:
        raise SettingError(f"{name or PREFIX + key}={text!r} is not accepted: it takes"
                           f" {kind.accepts}") from e


def from_environ(environ: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Every setting the environment gives (LIVEBLOG_<KEY>, and the OIDC_ ones also without
    the prefix, as the contract names them), checked, and the ``LIVEBLOG_`` names that are no
    setting, each with the likely one it meant.

    :raises SettingError: a value of the wrong type or shape.
    """
    values: dict[str, Any] = {}
    for key in SETTINGS:
        name = PREFIX + key
        if name in environ and (environ[name] or not key.startswith("OIDC_")):
            values[key] = parse(key, environ[name])
        elif key.startswith("OIDC_") and key in environ:
            values[key] = parse(key, environ[key], name=key)
    unknown = []
    for name in sorted(environ):
        key = name[len(PREFIX):]
        if name.startswith(PREFIX) and key not in SETTINGS and key not in OTHER_NAMES:
            close = difflib.get_close_matches(key, [*SETTINGS, *OTHER_NAMES], n=1)
            unknown.append(f"{name} is no setting" + (
                f" (did you mean {PREFIX}{close[0]}?)" if close else ""))
    return values, unknown
