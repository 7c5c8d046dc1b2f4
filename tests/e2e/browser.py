"""Playwright for Python driving Debian's Chromium headless shell (installed by scripts/test;
the full browser where only it is installed)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


def chromium_path() -> str:
    # the headless shell first: Chromium's own headless browser, the one Playwright runs
    # headless (the full browser's headless mode is a whole browser with no window)
    for name in ("chromium-headless-shell", "chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("Chromium is missing: scripts/test installs it with apt-get (as root)")
    pytest.skip("Chromium is not installed: run scripts/test as root, or apt-get install "
                "chromium-headless-shell")
    raise AssertionError  # unreachable
