"""Where the service's own requests may go: the private-address switches read the usual words
the usual way, and a request connects to the very address that was checked (a name that
resolves elsewhere the second time, DNS rebinding, reaches nothing it should not)."""

from __future__ import annotations

import http.server
import socket
import threading

import pytest

from liveblog import create_app, outbound

from .helpers import assert_problem


@pytest.mark.parametrize("word, allowed", [
    ("no", False), ("False", False), ("0", False), ("false", False),
    ("yes", True), ("1", True), ("true", True), ("TRUE", True)])
def test_webhook_allow_private_reads_the_word_it_is_given(word, allowed, tmp_path, monkeypatch):
    from liveblog.api.views import service
    from liveblog.service import Actor
    from liveblog.tokens import create_token

    monkeypatch.setenv("LIVEBLOG_WEBHOOK_ALLOW_PRIVATE", word)
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "w.db")})
    try:
        with app.app_context():
            _, secret = create_token(service(), "admin", "Ada Admin", Actor("cli", "tests"))
        answer = app.test_client().post("/api/webhooks", json={"url": "http://127.0.0.1:9/h"},
                                        headers={"Authorization": f"Bearer {secret}"})
        if allowed:
            assert answer.status_code == 201, answer.get_json()
        else:
            assert_problem(answer, 422, fields=["url"])
    finally:
        app.extensions["liveblog"].shutdown()


@pytest.mark.parametrize("word, allowed", [("no", False), ("1", True), ("yes", True),
                                           ('["127.0.0.0/8"]', ["127.0.0.0/8"])])
def test_oembed_allow_private_reads_the_word_it_is_given(word, allowed, tmp_path, monkeypatch):
    monkeypatch.setenv("LIVEBLOG_OEMBED_ALLOW_PRIVATE", word)
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "o.db")})
    try:
        assert app.extensions["liveblog.embeds"].allow == allowed
    finally:
        app.extensions["liveblog"].shutdown()


class _Named(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = self.server.name.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _server(address: str, port: int, name: str) -> http.server.HTTPServer:
    server = http.server.HTTPServer((address, port), _Named)
    server.name = name  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_request_connects_to_the_address_it_checked_not_a_rebound_one(monkeypatch):
    """rebind.test resolves to 127.0.0.2 (a network the caller allows) when checked, then to
    127.0.0.1 (which it does not): the answer comes from 127.0.0.2, and the name was looked
    up once."""
    checked = _server("127.0.0.2", 0, "checked")
    port = checked.server_address[1]
    rebound = _server("127.0.0.1", port, "rebound")
    real = socket.getaddrinfo
    lookups = []

    def resolve(host, *args, **kwargs):
        if host != "rebind.test":
            return real(host, *args, **kwargs)
        lookups.append(host)
        address = "127.0.0.2" if len(lookups) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    try:
        answer = outbound.request("GET", f"http://rebind.test:{port}/", timeout=5,
                                  max_bytes=100, allow_private=["127.0.0.2/32"])
        assert answer.body == b"checked"
        assert lookups == ["rebind.test"]
        # and the Host header still names the URL's host
        with pytest.raises(outbound.RefusedAddressError):
            outbound.request("GET", f"http://rebind.test:{port}/", timeout=5, max_bytes=100,
                             allow_private=["127.0.0.2/32"])  # now resolves to 127.0.0.1
    finally:
        for server in (checked, rebound):
            server.shutdown()
            server.server_close()
