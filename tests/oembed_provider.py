"""An oEmbed provider, as a process of its own: ``python tests/oembed_provider.py PORT``
(``tests/peers.py`` starts it for tests).

``GET /oembed?url=https://clips.example/v/<what>&format=json`` answers as <what> says:
``ok`` (a video with a title, a thumbnail and an iframe player, and hostile markup beside it),
``slow`` (after 10 s), ``fail`` (500), ``redirect`` (to the cloud metadata address). Its player
(``/player/<id>``) and thumbnail (``/thumb.png``) are served too; ``GET /requests`` lists every
request with its User-Agent, so a test can tell the service's fetches from a browser's.
"""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_lock = threading.Lock()
_requests: list[dict[str, str]] = []


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 180), (20, 90, 160)).save(out, "PNG")
    return out.getvalue()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, status, body=b"", kind="application/json", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = urlsplit(self.path)
        if parts.path == "/requests":
            with _lock:
                self._send(200, json.dumps(_requests).encode())
            return
        with _lock:
            _requests.append({"path": parts.path, "ua": self.headers.get("User-Agent", "")})
        port = self.server.server_address[1]
        base = f"http://127.0.0.1:{port}"
        if parts.path == "/oembed":
            url = parse_qs(parts.query).get("url", [""])[0]
            what = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
            if what == "slow":
                time.sleep(10)
            if what == "fail":
                self._send(500, b"{}")
                return
            if what == "redirect":
                self._send(302, headers={"Location": "http://169.254.169.254/latest/meta-data"})
                return
            answer = {
                "version": "1.0", "type": "video", "provider_name": "Clipper",
                "title": "Harbour <b>wall</b> at high tide", "author_name": "Port TV",
                "thumbnail_url": f"{base}/thumb.png", "width": 640, "height": 360,
                "html": f'<iframe src="{base}/player/{what}" width="640" height="360"></iframe>'
                        '<script>window.pwned = 1</script>'
                        '<img src="x" onerror="window.pwned = 2">',
            }
            self._send(200, json.dumps(answer).encode())
        elif parts.path == "/thumb.png":
            self._send(200, _png(), "image/png")
        elif parts.path.startswith("/player/"):
            page = (f"<!doctype html><title>player</title><p id=player>Playing "
                    f"{parts.path.rsplit('/', 1)[-1]}</p>").encode()
            self._send(200, page, "text/html")
        else:
            self._send(404)


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()
