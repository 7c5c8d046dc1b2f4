"""Imports are at the top of their module: an import inside a function is the exception, and
says why on its line or the line above. And the metrics are safe to import anywhere: nothing
the command line or the app imports loads prometheus_client, which must first see the folder
`serve` sets for its multiprocess mode. Nor psycopg, which only PostgreSQL needs (a fifth of
every process's start on SQLite)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _function_imports() -> list[tuple[str, int, str, str]]:
    """Every import inside a function of events/ and liveblog/: file, line, the line and the
    one above it."""
    found = []
    for path in sorted([*(ROOT / "events").rglob("*.py"), *(ROOT / "liveblog").rglob("*.py")]):
        lines = path.read_text().split("\n")
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        found.append((str(path.relative_to(ROOT)), inner.lineno,
                                      lines[inner.lineno - 1], lines[inner.lineno - 2]))
    return found


def test_every_import_inside_a_function_says_why():
    unexplained = [f"{path}:{line}: {text.strip()}" for path, line, text, above
                   in _function_imports()
                   if "#" not in text and not above.strip().startswith("#")]
    assert unexplained == []
    assert len(_function_imports()) <= 12  # the few that must wait: gevent, prometheus_client,
    # psycopg


def test_importing_the_command_line_and_the_app_loads_no_metrics_library_nor_psycopg():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, liveblog.cli, liveblog.app, liveblog.metrics,"
         " liveblog.server; print('prometheus_client' in sys.modules, 'psycopg' in sys.modules)"],
        capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert loaded.stdout.strip() == "False False", loaded.stderr
