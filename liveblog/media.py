"""Media: images editors upload, stored content-addressed in the database (every node serves
them), each checked to be an image of its declared type, with its width and height.

An image's id is the SHA-256 of its bytes, so the same bytes are stored once and an event that
names the id (an image block's ``media_id``) has the hash chain cover the image itself.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from PIL import Image

from events import Connection, database_errors, format_time, write_transaction

#: the types accepted, their Pillow format and the extension of their URL
TYPES = {"image/jpeg": ("JPEG", "jpg"), "image/png": ("PNG", "png"),
         "image/webp": ("WEBP", "webp"), "image/gif": ("GIF", "gif")}
EXTENSIONS = {ext: content_type for content_type, (_, ext) in TYPES.items()}
#: the largest width or height accepted (a decompression bomb is refused before decoding)
MAX_SIDE = 20_000
#: the narrower copies kept of a wider still image, for phones and ordinary screens (srcset)
SIZES = (640, 1280)
#: the types narrower copies are made of (a GIF may move: it is served as it came)
SIZED = ("image/jpeg", "image/png", "image/webp")


class NotAnImageError(ValueError):
    """The bytes are not an image of the declared type."""


class Media(NamedTuple):
    """An uploaded image (its bytes apart)."""
    id: str
    content_type: str
    width: int
    height: int
    bytes: int
    created_at: str

    @property
    def path(self) -> str:
        """Where it is served, relative to the service: ``/media/<sha256>.<ext>``."""
        return f"/media/{self.id}.{TYPES[self.content_type][1]}"

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.path, "content_type": self.content_type,
                "width": self.width, "height": self.height, "bytes": self.bytes,
                "sizes": [{"width": w, "url": sized_path(self.path, w)}
                          for w in widths(self.content_type, self.width)]}


def widths(content_type: str, width: int) -> list[int]:
    """The widths of the narrower copies kept of an image (the rule :func:`store` follows,
    so a page can name them from an image block alone)."""
    return [w for w in SIZES if w < width] if content_type in SIZED else []


def sized_path(path: str, width: int) -> str:
    """Where the copy ``width`` pixels wide of the image served at ``path`` is served."""
    stem, _, ext = path.rpartition(".")
    return f"{stem}-{width}.{ext}"


def srcset(block: dict[str, Any]) -> str:
    """An uploaded image block's ``srcset`` (its narrower copies and itself), or ``""``."""
    url, width = block.get("url") or "", block.get("width")
    content_type = EXTENSIONS.get(url.rpartition(".")[2], "")
    if not block.get("media_id") or not isinstance(width, int):
        return ""
    sized = widths(content_type, width)
    if not sized:
        return ""
    return ", ".join([f"{sized_path(url, w)} {w}w" for w in sized] + [f"{url} {width}w"])


def _narrower(data: bytes, content_type: str, width: int) -> bytes:
    """A copy of the image ``width`` pixels wide (Pillow, high-quality resampling)."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        height = max(1, round(image.height * width / image.width))
        copy = image.resize((width, height), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        kind = TYPES[content_type][0]
        if kind == "JPEG":
            copy.convert("RGB").save(out, kind, quality=82, optimize=True, progressive=True)
        elif kind == "WEBP":
            copy.save(out, kind, quality=80, method=4)
        else:
            copy.save(out, kind, optimize=True)
        return out.getvalue()


#: the tables that hold uploaded images (a redaction erases those only its post showed)
TABLES = ("media", "media_sizes")
_COLUMNS = "id, content_type, width, height, bytes, created_at"


def inspect(data: bytes, content_type: str) -> tuple[int, int]:
    """The width and height of an image of ``content_type``.

    :raises NotAnImageError: the bytes are not a whole image of that type.
    """

    expected = TYPES[content_type][0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[expected]) as image:
                width, height = image.size
                if max(width, height) > MAX_SIDE:
                    raise NotAnImageError(f"the image is {width}x{height}: at most {MAX_SIDE}"
                                          " pixels a side")
                image.verify()  # the whole file, not just its header
    except NotAnImageError:
        raise
    except Exception as e:  # Pillow raises many kinds for bytes it cannot read
        raise NotAnImageError(f"the body is not a {expected} image ({content_type})") from e
    return width, height


def store(conn: Connection, data: bytes, content_type: str,
          now: datetime) -> tuple[Media, bool]:
    """Keep an image (checked first); the same bytes twice are one image.

    :returns: the image and whether it is new.
    :raises NotAnImageError: the bytes are not an image of ``content_type``.
    """
    width, height = inspect(data, content_type)
    digest = hashlib.sha256(data).hexdigest()
    found = get(conn, digest)
    if found is not None:
        return found, False
    media = Media(digest, content_type, width, height, len(data), format_time(now))
    sized = [(digest, w, _narrower(data, content_type, w)) for w in widths(content_type, width)]
    with write_transaction(conn):
        conn.execute(f"INSERT INTO media ({_COLUMNS}, data) VALUES (?, ?, ?, ?, ?, ?, ?)"
                     " ON CONFLICT (id) DO NOTHING", (*media, data))
        conn.executemany("INSERT INTO media_sizes (media_id, width, data) VALUES (?, ?, ?)"
                         " ON CONFLICT (media_id, width) DO NOTHING", sized)
    return get(conn, digest) or media, True


def get(conn: Connection, media_id: str) -> Media | None:
    """An image's record, or None."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM media WHERE id = ?", (media_id,)).fetchone()
    return Media(*row) if row is not None else None


def named_by(payloads: Iterable[dict[str, Any]]) -> set[str]:
    """The stored images that post event payloads name (image blocks' ``media_id``, embed
    blocks' ``thumbnail``)."""
    found: set[str] = set()
    for data in payloads:
        for key in ("content", "changes"):
            content = data.get(key)
            body = content.get("body") if isinstance(content, dict) else None
            for block in body if isinstance(body, list) else ():
                if not isinstance(block, dict):
                    continue
                for key in ("media_id", "thumbnail"):  # an image's, an embed's copy
                    if isinstance(block.get(key), str):
                        found.add(block[key])
    return found


def forget(conn: Connection, media_ids: set[str], post_id: str) -> list[str]:
    """Erase the images a redacted post named, but those another post still shows or a blog
    has as its logo (a photo may be shared; the redaction covers one post's content, not the
    others')."""
    gone = []
    for media_id in sorted(media_ids):
        shared = conn.execute("SELECT 1 FROM feed_posts WHERE id <> ? AND status <> 'redacted'"
                              " AND media LIKE ? UNION ALL SELECT 1 FROM blogs WHERE theme LIKE ?"
                              " LIMIT 1", (post_id, f"%{media_id}%", f"%{media_id}%")).fetchone()
        if shared is None:
            conn.execute("DELETE FROM media WHERE id = ?", (media_id,))
            conn.execute("DELETE FROM media_sizes WHERE media_id = ?", (media_id,))
            gone.append(media_id)
    return gone


def copy_all(source: Connection, target: Connection) -> int:
    """Copy every image from one database to another (``liveblog copy``), each checked
    against its hash on the way.

    :returns: how many were copied.
    :raises ValueError: an image whose bytes no longer match its id.
    """

    try:
        ids = [row[0] for row in source.execute("SELECT id FROM media ORDER BY id")]
    except database_errors():
        if source.in_transaction:
            raise
        return 0  # a database from before media: none to copy
    for media_id in ids:  # one at a time: images are large
        found = read(source, media_id)
        assert found is not None
        record, data = found
        if hashlib.sha256(data).hexdigest() != media_id:
            raise ValueError(f"image {media_id} no longer matches its hash")
        target.execute(f"INSERT INTO media ({_COLUMNS}, data) VALUES (?, ?, ?, ?, ?, ?, ?)"
                       " ON CONFLICT (id) DO NOTHING", (*record, data))
        for width, sized in source.execute(
                "SELECT width, data FROM media_sizes WHERE media_id = ?", (media_id,)):
            target.execute("INSERT INTO media_sizes (media_id, width, data) VALUES (?, ?, ?)"
                           " ON CONFLICT (media_id, width) DO NOTHING",
                           (media_id, width, bytes(sized)))
    return len(ids)


def read(conn: Connection, media_id: str,
         width: int | None = None) -> tuple[Media, bytes] | None:
    """An image's record and its bytes (those of its copy ``width`` pixels wide, when one is
    asked for), or None."""
    if width is not None:
        columns = ", ".join("m." + c for c in _COLUMNS.split(", "))
        row = conn.execute(f"SELECT {columns}, s.data FROM media m JOIN media_sizes s"
                           " ON s.media_id = m.id WHERE m.id = ? AND s.width = ?",
                           (media_id, width)).fetchone()
    else:
        row = conn.execute(f"SELECT {_COLUMNS}, data FROM media WHERE id = ?",
                           (media_id,)).fetchone()
    return (Media(*row[:6]), bytes(row[6])) if row is not None else None

