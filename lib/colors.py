"""Colour helpers for brand kits: WCAG 2.x relative luminance and contrast ratio."""

import re

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
WCAG_AA_NORMAL_TEXT = 4.5


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_color: str) -> float:
    """Relative luminance of a `#rrggbb` colour as defined by WCAG 2.x."""
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """Contrast ratio between two `#rrggbb` colours, from 1 to 21."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def contrast_with_white(hex_color: str) -> float:
    return contrast_ratio(hex_color, "#ffffff")


def text_on(color: str) -> str:
    """The text colour that reads on `color` as a background: white on dark colours, near-black on light."""
    return "#ffffff" if contrast_with_white(color) >= WCAG_AA_NORMAL_TEXT else "#16181d"


def readable_on_white(color: str, *, fallback: str = "#1d1d1d") -> str:
    """`color` for text on a white page where it keeps AA contrast; otherwise `fallback`."""
    return color if contrast_with_white(color) >= WCAG_AA_NORMAL_TEXT else fallback
