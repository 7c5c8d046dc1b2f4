"""A partner's webhook receiver, as a process of its own: ``python tests/receiver.py PORT``
(``tests/peers.py`` starts it for tests).

``POST /hook`` keeps each delivery (headers and body) and answers as told: ``POST /control``
``{"status": 200, "delay": 0, "times": null}`` sets the answer (``times``: for that many
deliveries, then 200 again). ``GET /received`` lists what came, oldest first.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_lock = threading.Lock()
_received: list[dict] = []
_behaviour = {"status": 200, "delay": 0.0, "times": None}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def _reply(self, status: int, body: bytes = b"", kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/received":
            with _lock:
                body = json.dumps(_received).encode()
            self._reply(200, body)
        else:
            self._reply(404)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path == "/control":
            with _lock:
                _behaviour.update(json.loads(body))
            self._reply(204)
            return
        with _lock:
            status, delay = _behaviour["status"], float(_behaviour["delay"])
            if _behaviour["times"] is not None:
                _behaviour["times"] -= 1
                if _behaviour["times"] < 0:
                    _behaviour.update(status=200, delay=0.0, times=None)
                    status, delay = 200, 0.0
            _received.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                              "body": body.decode(), "answered": status, "delay": delay,
                              "at": time.time()})
        if delay:
            time.sleep(delay)
        self._reply(status, b"{}")


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()
