"""Playwright for Python driving Debian's Chromium (installed by scripts/test)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("Chromium is missing: scripts/test installs it with apt-get (as root)")
    pytest.skip("Chromium is not installed: run scripts/test as root, or apt-get install "
                "chromium")
    raise AssertionError  # unreachable
