"""The README stays true: every setting and every event type is documented there."""

from __future__ import annotations

from pathlib import Path

from liveblog.codec import REGISTRY
from liveblog.config import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_settings_are_documented():
    for key in SETTINGS:
        assert f"`{key}`" in README, key


def test_event_types_are_documented():
    for name in REGISTRY:
        assert f"`{name}`" in README, name
