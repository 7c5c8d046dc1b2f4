"""A script that uses the app and leaves an answer unclosed still exits: the answer, finalized
while the interpreter shuts down, records its metrics without starting the flushing thread
(which never starts then, and the exit waited for it forever)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from liveblog import create_app
app = create_app({"TESTING": True, "DATABASE": sys.argv[1]})
answer = app.test_client().post("/logout")  # never closed
print(answer.status_code)
"""


def test_a_script_leaving_an_answer_unclosed_exits(tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "exit.db")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "303"
