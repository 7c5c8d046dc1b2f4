"""A real OpenID Connect provider for the sign-in tests: panva's oidc-provider under Node (from
npm, installed by scripts/test into tests/oidc), in a process of its own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from .server import free_port, stop_process

FOLDER = Path(__file__).resolve().parents[1] / "oidc"
CLIENT_ID, CLIENT_SECRET = "liveblog", "a-client-secret-for-tests"

#: login -> account: the groups map to roles through the service's OIDC_ROLE_MAP
ACCOUNTS = {
    "ada": {"name": "Ada Admin", "groups": ["newsroom-admins"]},
    "carl": {"name": "Carl Contrib", "groups": ["interns"]},
    "edna": {"name": "Edna Editor", "groups": ["politics-desk", "staff"]},
    "nogroups": {"name": "Nora Nogroups"},
    "stranger": {"name": "Sam Stranger", "groups": ["marketing"]},
    "lost": {"name": "Lou Lost", "groups": ["sports-desk"]},  # the map names no such blog
}
ROLE_MAP = ("newsroom-admins=admin;politics-desk=editor:election-night;"
            "interns=contributor:election-night;sports-desk=editor:no-such-blog")


class Provider:
    """``node provider.mjs`` on a free port; ``issuer`` is what it says it is."""

    def __init__(self, redirect_uris: list[str], *, issuer: str | None = None,
                 code_ttl: int = 60) -> None:
        node = shutil.which("node")
        if node is None or not (FOLDER / "node_modules" / "oidc-provider").is_dir():
            pytest.fail("the test identity provider is missing: scripts/test installs Node and"
                        " `npm ci` in tests/oidc", pytrace=False)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.issuer = issuer or self.base
        env = {**os.environ, "PORT": str(self.port), "ISSUER": self.issuer,
               "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET,
               "REDIRECT_URIS": ",".join(redirect_uris), "ACCOUNTS": json.dumps(ACCOUNTS),
               "CODE_TTL": str(code_ttl)}
        self.proc = subprocess.Popen([node, str(FOLDER / "provider.mjs")], cwd=FOLDER, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                        f"{self.base}/.well-known/openid-configuration", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the identity provider did not start")

    def service_env(self, issuer: str | None = None) -> dict[str, str]:
        """What the service is told about this provider (bare OIDC_ names, as documented)."""
        return {"OIDC_ISSUER": issuer or self.base, "OIDC_CLIENT_ID": CLIENT_ID,
                "OIDC_CLIENT_SECRET": CLIENT_SECRET, "OIDC_ROLE_MAP": ROLE_MAP,
                "OIDC_PROVIDER_NAME": "Test IdP", "OIDC_SCOPES": "openid profile groups"}

    def stop(self) -> None:
        stop_process(self.proc, 15, 10)


def sign_in_at_provider(page, login: str) -> None:
    """Through the provider's own pages: the login form (any password), then consent."""
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password")
    page.click("button[type=submit]")
    page.wait_for_selector("button[type=submit]:has-text('Continue')")
    page.click("button[type=submit]:has-text('Continue')")


def walk_to_callback(service_base: str, login: str):
    """Sign in without a browser (requests, following each redirect by hand) and stop before
    the provider's redirect back is followed: returns the session (its cookies) and the
    callback URL, for a test to present late, twice, or not at all."""
    import re
    from urllib.parse import urljoin

    import requests

    session = requests.Session()
    url, method, data = f"{service_base}/login", "GET", None
    for _ in range(20):
        response = session.request(method, url, data=data, allow_redirects=False, timeout=10)
        location = response.headers.get("Location")
        if location and "/login/callback" in location:
            return session, urljoin(url, location)
        if location:
            url, method, data = urljoin(url, location), "GET", None
            continue
        form = re.search(r'<form[^>]*action="([^"]+)"', response.text)
        assert form is not None, response.text[:500]
        prompt = re.search(r'name="prompt" value="(\w+)"', response.text)
        data = {"prompt": prompt.group(1) if prompt else "consent"}
        if data["prompt"] == "login":
            data.update(login=login, password="any password")
        url, method = urljoin(url, form.group(1)), "POST"
    raise AssertionError("the provider never sent the browser back")
