"""Requests the service makes to other hosts (webhook deliveries, oEmbed): the one place that
decides where it may go.

Every hop (the first request and each redirect) is checked after DNS resolution: an address in
a private, loopback, link-local, multicast or reserved range is refused unless the caller
allows private addresses (tests, a newsroom's own network). Each request has a timeout and a
cap on the bytes read, and redirects are followed by hand, a few at most.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection

#: the most redirects one fetch follows
MAX_REDIRECTS = 3


class RefusedAddressError(ValueError):
    """Raised for a URL the service will not request (its scheme, or where its host resolves)."""


@dataclass(frozen=True)
class Answer:
    """What came back: the status, the headers, and at most the capped bytes of the body."""

    status: int
    headers: dict[str, str]
    body: bytes
    url: str


#: which private addresses a caller allows: none (False), all (True), or these networks
Allowed = bool | Sequence[str]


def _public(address: str, allow: Allowed) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_global and not ip.is_multicast:
        return True
    return not isinstance(allow, bool) and any(
        ip in ipaddress.ip_network(net, strict=False) for net in allow)


def check_url(url: str, *, allow_private: Allowed = False) -> str | None:
    """The address the request must connect to: the host's, resolved once and checked (None
    when ``allow_private`` is True: any address will do, so the connection resolves it).

    :raises RefusedAddressError: not http(s), no host, or a host that resolves to an address
        outside the public internet (unless ``allow_private`` is True, or names its network).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedAddressError("only http:// and https:// URLs with a host")
    if allow_private is True:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise RefusedAddressError(f"{parts.hostname} does not resolve") from e
    for *_, sockaddr in infos:
        if not _public(str(sockaddr[0]), allow_private):
            raise RefusedAddressError(f"{parts.hostname} resolves to {sockaddr[0]}: a private,"
                                      " loopback or link-local address")
    return str(infos[0][4][0])


def _connect_to(conn: HTTPConnection, address: str) -> socket.socket:
    """urllib3's ``_new_conn`` with the checked address instead of a second DNS look-up (which
    a name that rebinds between the check and the connection would answer otherwise); the
    URL's host still names the server (Host header, TLS SNI and certificate)."""
    try:
        return connection.create_connection(
            (address, conn.port), conn.timeout, source_address=conn.source_address,
            socket_options=conn.socket_options)
    except TimeoutError as e:
        raise ConnectTimeoutError(conn, f"Connection to {conn.host} timed out") from e
    except OSError as e:
        raise NewConnectionError(conn, f"Failed to establish a new connection: {e}") from e


def _pinned_session(address: str | None) -> requests.Session:
    """A session whose connections go to ``address`` (when given), whatever the name says."""
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: the checked address is the peer
    if address is None:
        return session
    pinned: str = address

    class PinnedHTTP(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return _connect_to(self, pinned)

    class PinnedHTTPS(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return _connect_to(self, pinned)

    class HTTPPool(HTTPConnectionPool):
        ConnectionCls = PinnedHTTP

    class HTTPSPool(HTTPSConnectionPool):
        ConnectionCls = PinnedHTTPS

    class Pinned(HTTPAdapter):
        def init_poolmanager(self, *args: object, **kwargs: object) -> None:
            super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]
            self.poolmanager.pool_classes_by_scheme = {"http": HTTPPool, "https": HTTPSPool}

    for scheme in ("http://", "https://"):
        session.mount(scheme, Pinned())
    return session


def request(method: str, url: str, *, timeout: float, max_bytes: int,
            allow_private: Allowed = False, data: bytes | None = None,
            headers: dict[str, str] | None = None,
            follow: bool = True) -> Answer:
    """One request (with its redirects when ``follow``), every hop checked first.

    :raises RefusedAddressError: a hop the service may not request.
    :raises requests.RequestException: the connection failed or timed out.
    """
    deadline = time.monotonic() + timeout  # for the whole fetch, redirects included
    for _ in range(MAX_REDIRECTS + 1):
        address = check_url(url, allow_private=allow_private)
        with _pinned_session(address) as session, session.request(
                method, url, data=data, headers=headers, timeout=timeout,
                allow_redirects=False, stream=True) as response:
            location = response.headers.get("Location")
            if follow and response.is_redirect and location:
                url = urljoin(url, location)
                if response.status_code in (301, 302, 303):
                    method, data = "GET", None
                continue
            body = b""
            for chunk in response.iter_content(65536):
                body += chunk
                if time.monotonic() > deadline:
                    raise requests.exceptions.Timeout(f"no whole answer within {timeout} s")
                if len(body) > max_bytes:
                    raise requests.exceptions.ContentDecodingError(
                        f"the answer is larger than {max_bytes} bytes")
            return Answer(response.status_code, dict(response.headers), body, url)
    raise requests.exceptions.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects")
