"""Embeds: an ``embed {url}`` block resolved through oEmbed when the post is saved.

Providers come from ``data/oembed_providers.json`` (oembed.com's ``providers.json`` shape) and
``OEMBED_PROVIDERS`` (a file in the same shape whose entries add to or replace the built-in
ones by ``provider_name``). A resolved block gains ``provider``, ``title``, ``author_name``,
``thumbnail`` (the media id of a copy kept in our media store, so readers never fetch from the
provider before they choose to) and ``player``: an iframe URL on one of the provider's own
player hosts, taken from the iframe the provider's ``html`` names, or the provider's known
player URL for the post. The provider's ``html`` itself is never kept or put in a page.

Every fetch goes through :mod:`liveblog.outbound` (addresses checked after DNS, redirects
checked hop by hop, size caps); all of a save's embeds share one ``OEMBED_TIMEOUT``; a slow,
failing or unknown provider never fails a save: its block stays a link card (or keeps the card
it had, from ``oembed_cache``).
"""

from __future__ import annotations

import fnmatch
import functools
import json
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import nh3

from events import Connection, format_time, write_transaction

from . import media, outbound

log = logging.getLogger(__name__)

_BUILT_IN = Path(__file__).parent / "data" / "oembed_providers.json"
#: where each built-in provider's players live (the iframe hosts a page may frame)
PLAYER_HOSTS = {
    "YouTube": ("https://www.youtube.com", "https://www.youtube-nocookie.com"),
    "Vimeo": ("https://player.vimeo.com",),
    "X": ("https://platform.twitter.com",),
    "TikTok": ("https://www.tiktok.com",),
    "Instagram": ("https://www.instagram.com",),
    "Facebook": ("https://www.facebook.com",),
    "Bluesky": ("https://embed.bsky.app",),
    "SoundCloud": ("https://w.soundcloud.com",),
    "Spotify": ("https://open.spotify.com",),
}
_MAX_ANSWER = 256 * 1024
_MAX_THUMBNAIL = 5 * 1024 * 1024
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="oembed")
#: a URL whose provider was too slow or failed is not asked again for this long (per process):
#: a save that names it does not wait OEMBED_TIMEOUT each time
RETRY_AFTER = 60.0
_failed: dict[str, float] = {}
_failed_lock = threading.Lock()


def _recently_failed(url: str) -> bool:
    with _failed_lock:
        at = _failed.get(url)
        return at is not None and time.monotonic() - at < RETRY_AFTER


def _note_failure(url: str) -> None:
    with _failed_lock:
        if len(_failed) > 10_000:
            _failed.clear()
        _failed[url] = time.monotonic()


@dataclass(frozen=True)
class Provider:
    """One oEmbed provider: its URL schemes, its endpoint, the origins its players live at."""

    name: str
    endpoint: str
    schemes: tuple[re.Pattern[str], ...]
    players: tuple[str, ...]

    def matches(self, url: str) -> bool:
        return any(s.match(url) for s in self.schemes)


@dataclass(frozen=True)
class Settings:
    """How embeds are resolved (from the app's configuration)."""

    providers: tuple[Provider, ...]
    timeout: float = 3.0
    allow: bool | list[str] = False  # private addresses: none, all, or these networks
    meta_token: str = ""
    cache_seconds: float = 86400.0

    @classmethod
    def from_config(cls, config: Any) -> Settings:
        return cls(load_providers(str(config.get("OEMBED_PROVIDERS") or "")),
                   float(config["OEMBED_TIMEOUT"]), config["OEMBED_ALLOW_PRIVATE"],
                   str(config.get("OEMBED_META_TOKEN") or ""),
                   float(config["OEMBED_CACHE_SECONDS"]))

    def provider_for(self, url: str) -> Provider | None:
        return next((p for p in self.providers if p.matches(url)), None)

    @functools.cached_property
    def frame_origins(self) -> list[str]:
        """Every origin a reader page may frame (its CSP's frame-src)."""
        return sorted({origin for p in self.providers for origin in p.players})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _scheme(glob: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(glob).replace(".*", "[^ ]*"), re.IGNORECASE)


def load_providers(path: str = "") -> tuple[Provider, ...]:
    """The built-in providers, with a providers.json-shaped file's entries added or put in
    place of the built-in ones of the same name.

    :raises ValueError: the file is not in that shape.
    """
    entries = {e["provider_name"]: e for e in json.loads(_BUILT_IN.read_text())}
    if path:
        try:
            extra = json.loads(Path(path).read_text())
            entries.update({e["provider_name"]: e for e in extra})
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f"OEMBED_PROVIDERS {path!r}: not a providers.json file ({e})"
                             ) from e
    providers = []
    for name, entry in entries.items():
        for endpoint in entry.get("endpoints", []):
            url = str(endpoint["url"]).replace("{format}", "json")
            players = PLAYER_HOSTS.get(name) or tuple(dict.fromkeys(
                (_origin(url), _origin(entry.get("provider_url") or url))))
            providers.append(Provider(name, url, tuple(_scheme(s) for s in
                                                       endpoint.get("schemes", [])), players))
    return tuple(providers)


# -- resolving -------------------------------------------------------------------------------


@dataclass
class _Fetched:
    """What one block's resolution brought back (bytes of the thumbnail, not yet stored)."""

    fields: dict[str, Any]
    thumbnail: tuple[bytes, str] | None = None


def _plain(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return nh3.clean(value, tags=set()).strip()[:limit] or None


_IFRAME = re.compile(r"""<iframe\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def _player(provider: Provider, url: str, html: str) -> str | None:
    """An iframe URL on one of the provider's player origins, or None."""
    found = _IFRAME.search(html or "")
    candidates = [found.group(1).replace("&amp;", "&")] if found else []
    candidates += _known_players(provider.name, url, html or "")
    for candidate in candidates:
        if candidate.startswith("//"):
            candidate = "https:" + candidate
        if _origin(candidate) in provider.players and urlsplit(candidate).scheme in (
                "https", "http"):
            return candidate
    return None


def _known_players(name: str, url: str, html: str) -> list[str]:
    """The players of providers whose oEmbed ``html`` is a script, not an iframe."""
    if name == "X" and (m := re.search(r"/status(?:es)?/(\d+)", url)):
        return [f"https://platform.twitter.com/embed/Tweet.html?id={m.group(1)}"]
    if name == "TikTok" and (m := re.search(r"/video/(\d+)", url)):
        return [f"https://www.tiktok.com/embed/v2/{m.group(1)}"]
    if name == "Instagram" and (m := re.search(r"instagram\.com/(p|reel)/([\w-]+)", url)):
        return [f"https://www.instagram.com/{m.group(1)}/{m.group(2)}/embed"]
    if name == "Facebook":
        return ["https://www.facebook.com/plugins/post.php?href=" + quote(url, safe="")]
    if name == "Bluesky" and (m := re.search(r'data-bluesky-uri="at://([^/"]+)/'
                                             r'app\.bsky\.feed\.post/([^"]+)"', html)):
        return [f"https://embed.bsky.app/embed/{m.group(1)}/app.bsky.feed.post/{m.group(2)}"]
    return []


def _fetch(settings: Settings, provider: Provider, url: str, deadline: float) -> _Fetched:
    query = {"url": url, "format": "json", "maxwidth": "720"}
    if provider.name in ("Instagram", "Facebook") and settings.meta_token:
        query["access_token"] = settings.meta_token
    endpoint = provider.endpoint + ("&" if "?" in provider.endpoint else "?") + urlencode(query)
    answer = outbound.request("GET", endpoint, timeout=max(0.1, deadline - time.monotonic()),
                              max_bytes=_MAX_ANSWER, allow_private=settings.allow)
    if answer.status != 200:
        raise ValueError(f"{provider.name} answered {answer.status}")
    data = json.loads(answer.body)
    if not isinstance(data, dict):
        raise ValueError("not an oEmbed answer")
    fields = {"provider": _plain(data.get("provider_name"), 100) or provider.name,
              "title": _plain(data.get("title"), 300),
              "author_name": _plain(data.get("author_name"), 200),
              "player": _player(provider, url, str(data.get("html") or ""))}
    fetched = _Fetched({k: v for k, v in fields.items() if v is not None})
    thumb = data.get("thumbnail_url")
    if isinstance(thumb, str) and thumb.startswith(("https://", "http://")):
        try:
            image = outbound.request("GET", thumb, max_bytes=_MAX_THUMBNAIL,
                                     timeout=max(0.1, deadline - time.monotonic()),
                                     allow_private=settings.allow)
            kind = image.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if image.status == 200 and kind in media.TYPES:
                fetched.thumbnail = (image.body, kind)
        except Exception as e:  # a missing thumbnail leaves a card without a picture
            log.info("oEmbed thumbnail of %s not copied: %s", url, e)
    return fetched


def resolve_blocks(conn: Connection, body: list[dict[str, Any]], settings: Settings,
                   now: datetime) -> list[dict[str, Any]]:
    """The body with each embed block resolved (within one OEMBED_TIMEOUT for them all)."""
    embeds = [i for i, b in enumerate(body) if b.get("type") == "embed"]
    if not embeds:
        return body
    out = [dict(b) for b in body]
    deadline = time.monotonic() + settings.timeout
    cached = _cached(conn, [out[i]["url"] for i in embeds])
    fresh_after = format_time(now - timedelta(seconds=settings.cache_seconds))
    jobs = {}
    for i in embeds:
        url = out[i]["url"]
        provider = settings.provider_for(url)
        hit = cached.get(url)
        if provider is None or (hit and hit[1] >= fresh_after) or _recently_failed(url):
            continue
        jobs[i] = _pool.submit(_fetch, settings, provider, url, deadline)
    if jobs:
        wait(list(jobs.values()), timeout=max(0.0, deadline - time.monotonic()))
    for i in embeds:
        url = out[i]["url"]
        job = jobs.get(i)
        fields = None
        if job is not None and job.done() and job.exception() is None:
            fields = _keep(conn, url, job.result(), now)
        elif job is not None:
            log.info("oEmbed for %s: %s", url, job.exception() if job.done() else "too slow")
            _note_failure(url)
        if fields is None and url in cached:
            fields = cached[url][0]  # what the provider said before (a card, not a link)
        out[i].update(fields or {})
    return out


def _keep(conn: Connection, url: str, fetched: _Fetched, now: datetime) -> dict[str, Any]:
    fields = dict(fetched.fields)
    if fetched.thumbnail is not None:
        try:
            stored, _ = media.store(conn, fetched.thumbnail[0], fetched.thumbnail[1], now)
            fields.update(thumbnail=stored.id, thumbnail_url=stored.path,
                          thumbnail_width=stored.width, thumbnail_height=stored.height)
        except media.NotAnImageError:
            pass
    with write_transaction(conn):
        conn.execute("INSERT INTO oembed_cache (url, data, fetched_at) VALUES (?, ?, ?)"
                     " ON CONFLICT (url) DO UPDATE SET data = excluded.data,"
                     " fetched_at = excluded.fetched_at",
                     (url, json.dumps(fields), format_time(now)))
    return fields


def _cached(conn: Connection, urls: list[str]) -> dict[str, tuple[dict[str, Any], str]]:
    marks = ",".join("?" * len(urls))
    return {url: (json.loads(data), at) for url, data, at in conn.execute(
        f"SELECT url, data, fetched_at FROM oembed_cache WHERE url IN ({marks})", urls)}


def embedded_urls(payloads: list[dict[str, Any]]) -> set[str]:
    """The embed URLs that post event payloads name (what a redaction forgets too)."""
    found: set[str] = set()
    for data in payloads:
        for key in ("content", "changes"):
            content = data.get(key)
            body = content.get("body") if isinstance(content, dict) else None
            for block in body if isinstance(body, list) else ():
                if isinstance(block, dict) and block.get("type") == "embed":
                    found.add(str(block.get("url")))
    return found


#: the table this module keeps beside the log (what a redaction rewrites)
TABLES = ("oembed_cache",)


def forget(conn: Connection, urls: set[str], post_id: str = "") -> None:
    """Drop what providers said of these URLs (a redaction erases ``post_id``'s embeds too;
    a card another post shows is fetched again when it is next saved)."""
    for url in urls:
        conn.execute("DELETE FROM oembed_cache WHERE url = ?", (url,))
