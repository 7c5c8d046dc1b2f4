"""The README's curl walk-through runs as it stands against a real server (docs that fail when
they drift): every step answers what the README says it does."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .server import Server, create_database

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"


def walkthrough() -> str:
    text = README.read_text()
    section = text[text.index("## A walk through the API with curl"):]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_the_readme_walkthrough_runs_as_written(tmp_path):
    db = tmp_path / "walk.db"
    create_database(db)
    server = Server(db, workers=1)
    try:
        folder = tmp_path / "project"
        folder.mkdir()  # the reader's project folder: .venv is there, ballots.png lands there
        (folder / ".venv").symlink_to(sys.prefix)  # this run's environment
        script = "set -euo pipefail\n" + walkthrough()
        done = subprocess.run(["bash", "-c", script], cwd=folder, capture_output=True, text=True,
                              timeout=120, env={**os.environ, "BASE": server.base,
                                                "LIVEBLOG_DB": str(db)})
        assert done.returncode == 0, done.stderr
        out = done.stdout
        assert '"slug": "election-night"' in out or '"slug":"election-night"' in out
        assert "HTTP/1.1 304" in out
        feed = server.request("GET", "/api/blogs/election-night/posts").json()
        headlines = [p["headline"] for p in feed["posts"]]
        assert headlines == ["The count", "Polls closed"], headlines
        image = feed["posts"][0]["body"][0]
        assert image["url"].startswith("/media/") and image["width"] == 1600
    finally:
        server.stop()
