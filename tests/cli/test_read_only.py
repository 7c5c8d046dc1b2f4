"""A database on a read-only file system: tools that read work, the service serves reads and
answers writes 503, saying so. A real read-only bind mount (the tests run as root, as CI does)."""

from __future__ import annotations

import contextlib
import subprocess

import pytest
from click.testing import CliRunner

from liveblog import create_app
from liveblog.cli import main

from ..api.helpers import assert_problem, create_blog, create_post
from ..conftest import Tokens


@contextlib.contextmanager
def read_only_view(folder, view):
    """``view`` shows ``folder`` on a read-only file system while the block runs."""
    view.mkdir()
    for command in (["mount", "--bind", str(folder), str(view)],
                    ["mount", "-o", "remount,bind,ro", str(view)]):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            subprocess.run(["umount", str(view)], capture_output=True)
            pytest.fail(f"cannot make a read-only mount ({' '.join(command)}: "
                        f"{done.stderr.strip()}); these tests need root, as CI has")
    try:
        yield view
    finally:
        if subprocess.run(["umount", str(view)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(view)], check=True)  # still open somewhere
            pytest.fail(f"{view} was still in use after the test (a connection left open)")


@pytest.fixture
def stored(tmp_path, clock):
    folder = tmp_path / "data"
    folder.mkdir()
    app = create_app({"TESTING": True, "DATABASE": str(folder / "story.db"), "CLOCK": clock})
    client = app.test_client()
    editor = Tokens(app).headers()
    blog = create_blog(client, editor, slug="story")
    create_post(client, editor, blog["id"], headline="kept")
    feed = client.get("/api/blogs/story/posts").get_json()
    app.extensions["liveblog"].shutdown()
    return folder, editor, feed


def test_verify_and_export_work_on_a_read_only_file_system(stored, tmp_path):
    folder, _, _ = stored
    with read_only_view(folder, tmp_path / "ro") as view:
        result = CliRunner().invoke(main, ["verify", "--db", str(view / "story.db")])
        assert result.exit_code == 0 and result.output.startswith("ok: "), result.output
        result = CliRunner().invoke(main, ["export", "--db", str(view / "story.db"), "-"])
        assert result.exit_code == 0, result.output
        assert len([line for line in result.output.splitlines() if line.startswith("{")]) == 3


def test_the_service_starts_read_only_serves_reads_and_refuses_writes(stored, tmp_path):
    folder, editor, feed = stored
    with read_only_view(folder, tmp_path / "ro") as view:
        app = create_app({"TESTING": True, "DATABASE": str(view / "story.db")})
        try:
            assert app.config["READ_ONLY"]
            client = app.test_client()
            assert client.get("/api/blogs/story/posts").get_json() == feed
            assert client.get("/blogs/story").status_code == 200
            refused = client.post("/api/blogs/story/posts", json={"headline": "no"},
                                  headers=editor)
            assert_problem(refused, 503)
            assert refused.headers["Retry-After"]
            health = client.get("/healthz")
            assert health.status_code == 503
            assert health.get_json()["status"] == "degraded"
            assert health.get_json()["writes"] == "failing"
        finally:
            app.extensions["liveblog"].shutdown()
