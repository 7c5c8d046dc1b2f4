"""The application factory. It builds everything and starts nothing (no scheduler, no threads)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from events import utc_now

from . import bootstrap, embeds, pages, signin
from .api import register_api
from .api.auth import FailedAuthentications, authenticate_request, check_session_request
from .api.ballots import Ballots
from .api.freshness import Freshness, LongPolls
from .api.polls import Voting
from .config import DEFAULTS, from_environ
from .http import caching
from .http.requests import RequestLog
from .lru import LRU


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the liveblog app: defaults, then LIVEBLOG_* variables, then ``test_config``.

    ``test_config`` may also carry ``CLOCK``, a callable returning the aware current time.
    """
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.update(from_environ(os.environ)[0])  # a wrong value stops here, named
    if test_config is not None:
        app.config.update(test_config)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    caching.init_app(app)
    bootstrap.init_app(app, clock=app.config.get("CLOCK") or utc_now)
    app.extensions["liveblog.answers"] = LRU(int(app.config["FEED_CACHE_SIZE"]))
    # how many anonymous long polls this process holds: `serve` says, from its connections
    app.extensions["liveblog.long_polls"] = LongPolls(app.extensions["liveblog"],
                                                      int(app.config.get("LONG_POLLS_HELD",
                                                                         10_000)))
    app.extensions["liveblog.auth_failures"] = FailedAuthentications(
        int(app.config["AUTH_FAILURE_LIMIT"]), float(app.config["AUTH_FAILURE_WINDOW"]))
    app.before_request(authenticate_request)
    app.before_request(check_session_request)
    api = register_api(app)

    app.extensions["liveblog.embeds"] = embeds.Settings.from_config(app.config)
    signin.init_app(app)
    pages.init_app(app)
    api.later(lambda spec: pages.document(app, spec))
    app.after_request(_security_headers)
    trusted = app.config["TRUSTED_PROXIES"]
    app.extensions["liveblog.voting"] = voting = Voting(app.extensions["liveblog"], app.config)
    app.wsgi_app = Ballots(app, app.wsgi_app, voting)  # type: ignore[method-assign]
    app.wsgi_app = TrustedProxies(  # type: ignore[method-assign]
        app.wsgi_app, [trusted] if isinstance(trusted, str) else list(trusted))
    app.wsgi_app = Freshness(app, app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = RequestLog(app, app.wsgi_app)  # type: ignore[method-assign]
    # what start-up read went back to the pool: an idle process holds no connection
    app.extensions["liveblog"].release()
    return app


class TrustedProxies:
    """X-Forwarded-For counts (as the client's address) only from the proxies listed in
    TRUSTED_PROXIES; from anyone else it is ignored, so a client cannot pose as another."""

    def __init__(self, wsgi_app: Any, trusted: list[str]) -> None:
        self.wsgi_app = wsgi_app
        self.trusted = frozenset(trusted)
        self.fixed = _proxy_fix(wsgi_app)
        #: the answers at once of the middleware behind, asked with the address fixed alike
        behind = getattr(wsgi_app, "answer_at_once", None)
        self._behind = behind
        self._fixed_behind = None if behind is None else _proxy_fix(
            lambda environ, _start_response: behind(environ))

    def __call__(self, environ: Any, start_response: Any) -> Any:
        if self.trusted and environ.get("REMOTE_ADDR") in self.trusted:
            return self.fixed(environ, start_response)
        return self.wsgi_app(environ, start_response)

    def answer_at_once(self, environ: Any) -> Any:
        """The middleware behind's answer at once (a reader's vote), or None."""
        if self._behind is None:
            return None
        if self.trusted and environ.get("REMOTE_ADDR") in self.trusted:
            return self._fixed_behind(environ, None)  # type: ignore[misc,arg-type]
        return self._behind(environ)


def _proxy_fix(wsgi_app: Any) -> ProxyFix:
    """werkzeug's ProxyFix, the client's address taken from the last X-Forwarded-For."""
    return ProxyFix(wsgi_app, x_for=1, x_proto=0, x_host=0, x_port=0, x_prefix=0)


#: Pages run only their own scripts and styles (post text is sanitised too: this is the second
#: line); images may come from the newsroom's CDN.
PAGE_POLICY = ("default-src 'self'; img-src 'self' https: http: data:; object-src 'none';"
               " base-uri 'none'; form-action 'self'")
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
NO_FRAMES = "'none'"


def _security_headers(response: Response) -> Response:
    if response.status_code == 304:
        return response  # no body; the hot path of a poll stays lean
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if response.mimetype == "text/html":
        # pages frame nothing but the providers' embed players, once a reader asks
        frames = " ".join(current_app.extensions["liveblog.embeds"].frame_origins)
        if request.endpoint == "pages.console":
            frames = f"'self' {frames}"  # the theme's preview: the blog's iframe embed
        # the iframe embed: any site, or those listed (and the console's preview)
        ancestors = ("'self'" if request.endpoint != "pages.embed"
                     else " ".join(["'self'", *current_app.config["EMBED_FRAME_ANCESTORS"]])
                     if current_app.config["EMBED_FRAME_ANCESTORS"] else "*")
        headers.setdefault("Content-Security-Policy", f"{PAGE_POLICY}; frame-ancestors"
                           f" {ancestors}; frame-src {frames or NO_FRAMES}")
    elif not (response.mimetype or "").startswith(("text/css", "image/", "text/javascript")):
        headers.setdefault("Content-Security-Policy", API_POLICY)
    return response
