"""The service's peers on the internet, played by local processes for tests: a partner's webhook
receiver (``receiver.py``) and an oEmbed provider (``oembed_provider.py``), each an HTTP server
script started on a free port, ready when it says so."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from tests.e2e.server import free_port

HERE = Path(__file__).parent


class Peer:
    """``python SCRIPT PORT`` in a process of its own, on ``port`` or a free one."""

    script: str

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, str(HERE / self.script), str(self.port)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == b"ready"

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A JSON request to the peer itself (its controls and records)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class Receiver(Peer):
    """A partner's webhook receiver: deliveries go to ``url``."""

    script = "receiver.py"

    def __init__(self, port: int | None = None) -> None:
        super().__init__(port)
        self.url = f"{self.base}/hook"

    def answer(self, status: int = 200, delay: float = 0.0, times: int | None = None) -> None:
        """Answer the next deliveries with ``status`` (after ``delay`` s; ``times`` of them)."""
        self.call("POST", "/control", {"status": status, "delay": delay, "times": times})

    def received(self) -> list[dict[str, Any]]:
        """Every delivery so far, oldest first: headers, body (text), the status answered."""
        return list(self.call("GET", "/received"))


class Provider(Peer):
    """An oEmbed provider, and the providers.json entries (in ``folder``) that name it."""

    script = "oembed_provider.py"

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.providers = folder / "providers.json"
        self.providers.write_text(json.dumps([
            {"provider_name": "Clipper", "provider_url": f"{self.base}/",
             "endpoints": [{"schemes": ["https://clips.example/v/*"],
                            "url": f"{self.base}/oembed"}]},
            # the same provider by a name that resolves to a loopback address
            {"provider_name": "Local", "provider_url": f"http://localhost:{self.port}/",
             "endpoints": [{"schemes": ["https://local.example/v/*"],
                            "url": f"http://localhost:{self.port}/oembed"}]},
        ]))

    def requests(self) -> list[dict[str, str]]:
        """Every request it was sent, with its User-Agent (the service's, or a browser's)."""
        return list(self.call("GET", "/requests"))


class HostPage(Peer):
    """A newsroom's article page on another origin: ``url`` answers the page set by ``show``,
    with its Content-Security-Policy."""

    script = "host_page.py"

    def __init__(self, port: int | None = None) -> None:
        super().__init__(port)
        self.url = f"{self.base}/article"

    def show(self, html: str, csp: str) -> None:
        self.call("POST", "/page", {"html": html, "csp": csp})
