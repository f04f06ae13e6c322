"""Rich text sanitising with nh3: applied when text is saved and again when it is rendered."""

import html as html_lib
import re

import nh3
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "a",
    "ul",
    "ol",
    "li",
    "h2",
    "h3",
    "h4",
    "blockquote",
    "hr",
    "span",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}


def sanitize_html(html: str | None) -> str:
    """Return `html` with everything but a small formatting vocabulary removed.

    Scripts, styles, iframes and their content are dropped entirely; `on*` attributes,
    `style` and `javascript:` links disappear; links get rel="noopener noreferrer".
    """
    if not html:
        return ""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "template", "noscript"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_html(html: str | None) -> SafeString:
    """Sanitise again at render time, so a row written around the forms is still safe."""
    return mark_safe(sanitize_html(html))  # noqa: S308 - sanitised by nh3 on the line above


_LINK = re.compile(r'<a\b[^>]*\bhref="([^"]*)"[^>]*>(.*?)</a>', re.IGNORECASE | re.DOTALL)
_BLOCK_END = re.compile(r"</(p|h2|h3|h4|blockquote|ul|ol)>", re.IGNORECASE)


def html_to_text(html: str) -> str:
    """Sanitised rich text as readable plain text: paragraphs, bullets and links kept."""

    def link(match: re.Match) -> str:
        href, label = html_lib.unescape(match.group(1)), match.group(2)
        return label if strip_tags(label).strip() == href else f"{label} ({href})"

    text = _LINK.sub(link, html)
    text = re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE)
    text = re.sub(r"<li\b[^>]*>", "• ", text, flags=re.IGNORECASE)
    text = re.sub(r"</li>", "\n", text, flags=re.IGNORECASE)
    text = re.sub(r"<hr\b[^>]*>", "\n———\n", text, flags=re.IGNORECASE)
    text = _BLOCK_END.sub("\n\n", text)
    text = html_lib.unescape(strip_tags(text))
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
