"""A schema-driven fuzz of the whole API over real HTTP (Schemathesis, from /openapi.json).

Thousands of generated requests, valid and invalid, single and chained (create a blog, post to
it, edit, delete ...), as an editor and as an auditor. Every answer must be a documented status
with a documented content type and headers, match its documented schema, and never be a 5xx;
requests that break the schema must be refused. Then the log must still verify.

Not checked: that every schema-valid request is accepted. Some rules cannot be said in a
schema (a time zone must exist, a cursor must be one the API issued, `status` and `publish_at`
exclude each other), and those requests are refused with a 400/422 problem, as they should be.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .server import Server, cli, editor_token

pytestmark = pytest.mark.slow

CHECKS = ",".join([
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_headers_conformance", "response_schema_conformance", "negative_data_rejection",
    "missing_required_header", "unsupported_method", "use_after_free",
    "ensure_resource_availability", "ignored_auth",
])


#: invalid input may also be refused as too long (a URL past the HTTP server's limit: 414);
#: a change sent without If-Match is a 428, as the contract says
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415",
                     "422", "428", "429", "431"]

[checks.missing_required_header]
expected-statuses = ["400", "401", "403", "406", "415", "422", "428"]

[generation]
database = "none"
"""


@pytest.mark.parametrize("role", ["editor", "auditor"])
def test_the_api_survives_a_schema_driven_fuzz(tmp_path, role):
    db = tmp_path / "fuzz.db"
    token = editor_token(db, "Fuzz", role=role)
    setup = editor_token(db, "Setup")
    server = Server(db, workers=1)
    try:
        server.request("POST", "/api/blogs", {"title": "Fuzzed", "slug": "fuzzed"},
                       {"Authorization": f"Bearer {setup}"})
        schemathesis = Path(sys.executable).with_name("schemathesis")
        config = tmp_path / "schemathesis.toml"
        config.write_text(CONFIG)
        run = subprocess.run(
            [str(schemathesis), "--config-file", str(config), "run",
             f"{server.base}/openapi.json",
             "-H", f"Authorization: Bearer {token}", "--checks", CHECKS,
             "--max-examples", "40", "--seed", "20261125", "--workers", "1",
             "--request-timeout", "30", "--no-color"],
            capture_output=True, text=True, timeout=900, cwd=tmp_path)
        assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    finally:
        server.stop()
    assert "ok" in cli(db, "verify").lower()
