"""The command line: tokens, one-line errors, help for every command (and in the README)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from liveblog.cli import main
from tests.e2e.server import create_database

README = Path(__file__).resolve().parents[2] / "README.md"


def all_commands(group=main, prefix="liveblog"):
    for name, command in group.commands.items():
        full = f"{prefix} {name}"
        if hasattr(command, "commands"):
            yield from all_commands(command, full)
        else:
            yield full, command


@pytest.fixture
def run(db_path):
    create_database(db_path)  # as `liveblog serve` would have
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, list(args), catch_exceptions=False,
                             env={"LIVEBLOG_DB": str(db_path)})

    return invoke


def test_token_create_prints_the_secret_alone_on_the_last_line(run, db_path):
    result = run("token", "create", "--role", "editor", "--name", "Jane Doe")
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("lb_") and " " not in secret
    listing = run("token", "list")
    assert "Jane Doe" in listing.output and "editor" in listing.output
    assert secret not in listing.output
    # only the hash is stored
    import sqlite3

    raw = sqlite3.connect(db_path).execute("SELECT group_concat(data) FROM events").fetchone()[0]
    assert secret not in raw


def test_token_revoke_then_it_is_listed_revoked(run):
    created = run("token", "create", "--role", "auditor", "--name", "Audrey")
    token_id = created.output.split("token ")[1].split()[0]
    assert run("token", "revoke", token_id).exit_code == 0
    assert "revoked" in run("token", "list").output
    again = run("token", "revoke", token_id)
    assert again.exit_code == 1
    assert again.output.strip().count("\n") == 0 and "already revoked" in again.output


@pytest.mark.parametrize("args,message", [
    (("token", "create", "--role", "boss", "--name", "x"), "boss"),
    (("token", "create", "--role", "contributor", "--name", "x"), "needs --blog"),
    (("token", "create", "--role", "auditor", "--name", "x", "--blog", "b"), "no blog 'b'"),
    (("token", "create", "--role", "editor", "--name", "  "), "needs a name"),
    (("token", "revoke", "nope"), "no token nope"),
])
def test_bad_input_is_one_line_and_non_zero(run, args, message):
    result = run(*args)
    assert result.exit_code != 0
    last = result.output.strip().splitlines()[-1]
    assert message in last


def test_db_option_on_every_command():
    for name, command in all_commands():
        params = {p.name for p in command.params}
        if name == "liveblog copy":  # it names two databases
            assert {"source", "target"} <= params
            continue
        if name == "liveblog check-proof":  # offline by design: a file and a key, no database
            assert {"file", "key"} == params
            continue
        assert "db_path" in params, name


def test_every_command_has_help_and_is_in_the_readme():
    readme = README.read_text()
    for name, command in all_commands():
        assert command.help, name
        assert name in readme, f"{name} is not documented in README.md"


@pytest.mark.parametrize("args", [
    ("token", "create", "--role", "editor", "--name", "Jane"), ("token", "list"),
    ("token", "revoke", "abc"), ("verify",), ("rebuild",), ("export", "-"),
    ("replay", "blog", "--as-of", "2026-01-01T00:00:00Z"),
])
def test_a_command_that_needs_a_database_refuses_a_missing_one_and_creates_none(tmp_path, args):
    missing = tmp_path / "elsewhere" / "liveblog.db"
    missing.parent.mkdir()
    result = CliRunner().invoke(main, [*args, "--db", str(missing)])
    assert result.exit_code == 1, result.output
    assert result.output.strip().count("\n") == 0, result.output
    assert f"no database at {missing}" in result.output
    assert list(missing.parent.iterdir()) == []  # nothing made beside it
