"""The yardstick of bench_http.py: a minimal Flask app returning the same bytes and headers.

It answers the feed URL with the body and headers captured from liveblog (304 when
If-None-Match matches), and a publish with a fixed 201. Served by gunicorn with the same settings.
"""

from __future__ import annotations

import json
import os

from flask import Flask, Response, request

with open(os.environ["BENCH_CAPTURE"], encoding="utf-8") as capture:
    CAPTURED = json.load(capture)
BODY = CAPTURED["body"].encode()
HEADERS = CAPTURED["headers"]
CREATED = CAPTURED["created"].encode()

app = Flask(__name__)


@app.get("/api/blogs/<blog>/posts")
def feed(blog: str) -> Response:
    if request.headers.get("If-None-Match") == HEADERS["ETag"]:
        response = Response(status=304)
    else:
        response = Response(BODY, mimetype="application/json")
    response.headers.update(HEADERS)
    return response


@app.post("/api/blogs/<blog>/posts")
def publish(blog: str) -> Response:
    request.get_json()
    return Response(CREATED, status=201, mimetype="application/json")
