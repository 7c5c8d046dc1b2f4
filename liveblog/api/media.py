"""Media: editors upload images (raw bytes); anyone fetches them by their hash, immutable."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, current_app, request
from flask.views import MethodView
from werkzeug.exceptions import NotFound, RequestEntityTooLarge, UnsupportedMediaType

from .. import media
from ..bootstrap import get_liveblog
from ..domain.errors import InvalidCommandError
from ..http.caching import conditional, policies
from .auth import require
from .docs import SIGNED_IN, Blueprint, errors
from .edge import json_response

blp = Blueprint("media", __name__, url_prefix="",
                description="Images: uploaded by editors, stored by their SHA-256, served"
                            " immutable to anyone.")

f = ma.fields


class MediaSchema(ma.Schema):
    id = f.String(metadata={"description": "SHA-256 of the bytes (the same bytes, the same id)"})
    url = f.String(metadata={"description": "where it is served, relative to the service:"
                                            " /media/<id>.<ext>"})
    content_type = f.String(metadata={"enum": list(media.TYPES)})
    width = f.Integer()
    height = f.Integer()
    bytes = f.Integer()
    sizes = f.List(f.Dict(), metadata={
        "description": "narrower copies kept of a wide JPEG, PNG or WebP ({width, url}, 640 and"
                       " 1280 px), for srcset; pages use them by themselves"})


_UPLOAD = {"required": True, "description": "the image's bytes, at most MEDIA_MAX_BYTES",
           "content": {kind: {"schema": {"type": "string", "format": "binary"}}
                       for kind in media.TYPES}}


@blp.route("/api/media")
class Upload(MethodView):
    @require("media.upload")
    @blp.doc(security=SIGNED_IN, requestBody=_UPLOAD)
    @blp.response(201, MediaSchema, description="stored now")
    @blp.alt_response(200, schema=MediaSchema, description="the same bytes were stored before")
    @errors(blp, 413, 415, 422)
    def post(self) -> Any:
        """Upload an image (JPEG, PNG, WebP or GIF): checked, measured, kept by its hash.

        Use its ``id`` as an image block's ``media_id``: the event then holds the hash, so the
        hash chain covers the image's bytes.
        """
        content_type = (request.mimetype or "").lower()
        if content_type not in media.TYPES:
            raise UnsupportedMediaType(
                f"upload an image as {', '.join(media.TYPES)} (the raw bytes as the body)")
        limit = int(current_app.config["MEDIA_MAX_BYTES"])
        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge(f"an image may have at most {limit} bytes")
        request.max_content_length = limit
        data = request.get_data(cache=False)
        if not data:
            raise InvalidCommandError("body", "the body is empty: send the image's bytes")
        try:
            stored, new = media.store(get_liveblog().store().conn, data, content_type,
                                      get_liveblog().now())
        except media.NotAnImageError as e:
            raise InvalidCommandError("body", str(e)) from None
        return json_response(stored.json(), 201 if new else 200,
                             {"Location": stored.path, "Cache-Control": policies().secret})


@blp.route("/media/<name>")
class Served(MethodView):
    @blp.doc(responses={200: {"description": "the image, immutable",
                              "content": {kind: {} for kind in media.TYPES}},
                        304: {"description": "not modified"}},
             parameters=[{"in": "path", "name": "name", "required": True,
                          "schema": {"type": "string"},
                          "description": "<sha256>.<ext> as upload gave it, or"
                                         " <sha256>-<width>.<ext> for a narrower copy"},
                         {"in": "header", "name": "If-None-Match", "required": False,
                          "schema": {"type": "string"},
                          "description": "the ETag held: 304 (the bytes never change)"}])
    @errors(blp, 401, 404)
    def get(self, name: str) -> Any:
        """An uploaded image, by its hash: the same URL is always the same bytes."""
        stem, _, ext = name.partition(".")
        digest, _, size = stem.partition("-")  # <sha256>-<width>: a narrower copy
        content_type = media.EXTENSIONS.get(ext)
        width = int(size) if size.isdigit() and len(size) < 6 else None
        found = None
        if content_type and (width is not None or not size):
            found = media.read(get_liveblog().store().conn, digest, width)
        if found is None or found[0].content_type != content_type:
            raise NotFound("no such image")
        record, data = found
        headers = {"ETag": f'"{stem}"', "Cache-Control": policies().immutable,
                   "Access-Control-Allow-Origin": "*"}
        # the bytes never change: any If-Modified-Since holds a current copy
        return conditional(headers, unchanging=True) or Response(data, 200, headers,
                                                                 mimetype=content_type)
