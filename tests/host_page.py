"""A newsroom's article page on another origin, as a process of its own: ``python
tests/host_page.py PORT`` (``tests/peers.py`` starts it for tests).

``POST /page`` ``{"html": ..., "csp": ...}`` sets the page; ``GET /article`` answers it with
that Content-Security-Policy header, as a strict newsroom's server would.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_page = {"html": "<!doctype html><title>empty</title>", "csp": "default-src 'none'"}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def _reply(self, status: int, body: bytes = b"", kind: str = "application/json",
               csp: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        if csp:
            self.send_header("Content-Security-Policy", csp)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.split("?")[0] == "/article":
            self._reply(200, _page["html"].encode(), "text/html; charset=utf-8", _page["csp"])
        else:
            self._reply(404)

    def do_POST(self):
        if self.path == "/page":
            length = int(self.headers.get("Content-Length", "0"))
            _page.update(json.loads(self.rfile.read(length)))
            self._reply(200, b"null")
        else:
            self._reply(404)


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    server.serve_forever()
