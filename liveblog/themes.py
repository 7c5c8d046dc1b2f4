"""A blog's theme: its accent, font, light/dark/auto and logo, as editors set them (PATCH
/api/blogs/{blog} ``theme``), turned into the stylesheet its reader page and both embeds load
(``/blogs/<slug>/theme.css``: a page's Content-Security-Policy allows no inline style).

The stylesheet sets ``--theme-*`` custom properties only; ``static/liveblog.css`` reads them
under a host page's own ``--lb-*`` ones (an embed's host has the last word) and over the house
style. What an editor types never reaches the stylesheet as it was typed: the accent is a
``#RRGGBB`` colour, the font a list of family names rebuilt from its parts.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

COLOR_SCHEMES = ("light", "dark", "auto")

#: an accent: #RRGGBB
ACCENT = r"^#[0-9a-fA-F]{6}$"

#: the generic families, written without quotes
GENERIC_FAMILIES = ("serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui",
                    "ui-serif", "ui-sans-serif", "ui-monospace", "ui-rounded")

_FAMILY = re.compile(r"""\s*(?:"([A-Za-z0-9 \-]{1,60})"|'([A-Za-z0-9 \-]{1,60})'|"""
                     r"""([A-Za-z][A-Za-z0-9 \-]{0,59}))\s*""")

#: the dark palette (text, background and the rest at WCAG AA against each other)
DARK = {"text": "#e8e8e8", "background": "#121212", "muted": "#b3b3b3", "rule": "#3d3d3d",
        "link": "#8ab4f8", "soft": "#1f1f1f", "card": "#1a1a1a", "control": "#9a9a9a"}


def font_families(value: str) -> list[str]:
    """The family names of a CSS ``font-family`` list; ValueError when it is anything else
    (quotes that do not pair, a semicolon, a brace, a backslash...)."""
    families = []
    for part in value.split(","):
        match = _FAMILY.fullmatch(part)
        if match is None:
            raise ValueError("Give font family names separated by commas, e.g."
                             ' "Source Serif 4", Georgia, serif.')
        families.append(" ".join(next(g for g in match.groups() if g).split()))
    if len(families) > 10:
        raise ValueError("Give at most 10 font families.")
    return families


#: what the console's preview of a theme not yet saved may give (/blogs/<slug>/theme.css?...)
PREVIEW = ("accent", "font_family", "color_scheme")


def digest(theme: dict[str, Any] | None) -> str:
    """A short name of a theme's content (its stylesheet's URL carries it)."""
    return hashlib.sha256(json.dumps(theme, sort_keys=True).encode()).hexdigest()[:12]


def _font_css(value: str) -> str:
    return ", ".join(name if name in GENERIC_FAMILIES else f'"{name}"'
                     for name in font_families(value))


def _luminance(color: str) -> float:
    """WCAG 2 relative luminance of ``#RRGGBB``."""
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def on_accent(color: str) -> str:
    """The text colour on an accent: white or black, whichever contrasts more (one of them
    always reaches 4.5:1)."""
    lum = _luminance(color)
    return "#ffffff" if (1.05 / (lum + 0.05)) >= ((lum + 0.05) / 0.05) else "#000000"


def css(theme: dict[str, Any] | None) -> str:
    """The theme's stylesheet: custom properties on the page's root or the embed's host."""
    theme = theme or {}
    values = {}
    if theme.get("accent"):
        values["accent"] = theme["accent"]
        values["on-accent"] = on_accent(theme["accent"])
    if theme.get("font_family"):
        values["font"] = _font_css(theme["font_family"])
    lines = ["/* a blog's theme (liveblog/themes.py) */"]
    if values:
        lines.append(_rule(values))
    dark = _rule(DARK, "color-scheme: dark;")
    scheme = theme.get("color_scheme", "light")
    if scheme == "dark":
        lines.append(dark)
    elif scheme == "auto":
        lines.append("@media (prefers-color-scheme: dark) {\n" + dark + "\n}")
    return "\n".join(lines) + "\n"


def _rule(values: dict[str, str], extra: str = "") -> str:
    body = " ".join(f"--theme-{name}: {value};" for name, value in values.items())
    return f":root, :host {{ {body}{' ' + extra if extra else ''} }}"
