"""What an email's HTML uses, and how caniemail.com says the clients we care about support it.

`uses(html, client)` lists every HTML element, attribute and CSS property (inline or in a
`<style>`) the client would see: Outlook for Windows sees the `<!--[if mso]>` parts and not the
`<!--[if !mso]>` ones, and nothing hidden with `mso-hide:all`; the others see the opposite.
`support(feature, client)` reads the vendored caniemail snapshot (caniemail/support.json).
"""

import json
import re
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "caniemail" / "support.json"

# Client → (caniemail family, platform). Gmail's apps cover non-Google (IMAP, Exchange) accounts in the notes.
CLIENTS = {
    "outlook-windows": ("outlook", "windows"),
    "outlook-com": ("outlook", "outlook-com"),
    "gmail-web": ("gmail", "desktop-webmail"),
    "gmail-ios": ("gmail", "ios"),
    "gmail-android": ("gmail", "android"),
    "apple-mail-macos": ("apple-mail", "macos"),
    "apple-mail-ios": ("apple-mail", "ios"),
}

ELEMENTS = {
    "table": "html-table",
    "img": "html-img",
    "p": "html-p",
    "div": "html-div",
    "span": "html-span",
    "h1": "html-h1-h6",
    "h2": "html-h1-h6",
    "h3": "html-h1-h6",
    "h4": "html-h1-h6",
    "ul": "html-lists",
    "ol": "html-lists",
    "li": "html-lists",
    "blockquote": "html-blockquote",
    "strong": "html-strong",
    "b": "html-strong",
    "hr": "html-hr",
    "wbr": "html-wbr",
    "style": "html-style",
    "body": "html-body",
}
# Elements caniemail has no entry for, and which every client renders (text-level or document structure).
PLAIN_ELEMENTS = {"html", "head", "meta", "title", "tbody", "tr", "td", "a", "br", "em", "i", "u", "s", "center"}
PLAIN_ELEMENTS |= {"noscript", "xml"}  # around Outlook's OfficeDocumentSettings, which only Outlook reads
ATTRIBUTES = {
    "align": "html-align",
    "valign": "html-valign",
    "width": "html-width",
    "height": "html-height",
    "cellpadding": "html-cellpadding",
    "cellspacing": "html-cellspacing",
    "role": "html-role",
    "lang": "html-lang",
    "target": "html-target",
    "aria-hidden": "html-aria-hidden",
    "background": "html-background",
}
# Attributes with no caniemail entry that every client honours (or that are only metadata).
PLAIN_ATTRIBUTES = {
    "href", "src", "alt", "class", "style", "bgcolor", "border", "charset", "name", "content",
    "http-equiv", "rel", "xmlns", "xmlns:v", "xmlns:o", "xmlns:w", "title", "data-css-inline",
}  # fmt: skip
PROPERTIES = {
    "padding": "css-padding",
    "margin": "css-margin",
    "border": "css-border",
    "border-collapse": "css-border-collapse",
    "border-radius": "css-border-radius",
    "background": "css-background",
    "background-color": "css-background-color",
    "width": "css-width",
    "max-width": "css-max-width",
    "height": "css-height",
    "max-height": "css-max-height",
    "display": "css-display",
    "font-size": "css-font-size",
    "font-weight": "css-font-weight",
    "line-height": "css-line-height",
    "letter-spacing": "css-letter-spacing",
    "text-transform": "css-text-transform",
    "text-align": "css-text-align",
    "text-decoration": "css-text-decoration",
    "word-break": "css-word-break",
    "overflow": "css-overflow",
    "opacity": "css-opacity",
    "outline": "css-outline",
    "vertical-align": "css-vertical-align",
}
# Properties with no caniemail entry that every client honours.
PLAIN_PROPERTIES = {"color", "font-family", "font-style"}
VENDOR = re.compile(r"^(mso-|-ms-|-webkit-|v-text-anchor$)")


@dataclass(frozen=True)
class Use:
    feature: str
    tag: str
    detail: str  # the property's value, the attribute, or the rule
    style: str = ""  # the element's whole inline style, for rules that look at neighbours


def _shorthand(prop: str) -> str:
    for base in ("padding", "margin", "border-radius", "border-collapse"):
        if prop == base or prop.startswith(base + "-"):
            return base
    if prop.startswith("border"):
        return "border"
    return prop


def declarations(style: str) -> list[tuple[str, str]]:
    out = []
    for part in style.split(";"):
        if ":" in part:
            prop, value = part.split(":", 1)
            out.append((prop.strip().lower(), value.strip()))
    return out


def view(html: str, client: str) -> str:
    """The HTML as `client` parses it: Outlook for Windows opens the mso conditionals, others skip them."""
    if client == "outlook-windows":
        html = re.sub(r"<!--\[if !mso\]><!-->.*?<!--<!\[endif\]-->", "", html, flags=re.DOTALL)
        return re.sub(r"<!--\[if mso\]>(.*?)<!\[endif\]-->", r"\1", html, flags=re.DOTALL)
    return re.sub(r"<!--\[if mso\]>.*?<!\[endif\]-->", "", html, flags=re.DOTALL)


class _Collector(HTMLParser):
    VOID = {"meta", "img", "br", "hr", "wbr", "input", "link"}

    def __init__(self, client: str):
        super().__init__(convert_charrefs=True)
        self.client = client
        self.uses: list[Use] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden from this client)
        self.styles: list[str] = []
        self._in_style = False

    def _hidden(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_decl(self, decl):
        if decl.lower().startswith("doctype"):
            self.uses.append(Use("html-doctype", "!doctype", decl))

    def handle_comment(self, data):
        if not self._hidden():
            self.uses.append(Use("html-comments", "!--", data[:30]))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        style = attrs.get("style") or ""
        hidden = self._hidden() or (self.client == "outlook-windows" and ("mso-hide", "all") in declarations(style))
        if tag not in self.VOID:
            self.stack.append((tag, hidden))
        self._in_style = tag == "style"
        if hidden or ":" in tag:  # VML (v:roundrect, w:anchorlock): Outlook's own, not in caniemail
            return
        if tag in ELEMENTS:
            self.uses.append(Use(ELEMENTS[tag], tag, ""))
        elif tag not in PLAIN_ELEMENTS:
            self.uses.append(Use(f"unknown element <{tag}>", tag, ""))
        for name, value in attrs.items():
            if name in ATTRIBUTES:
                self.uses.append(Use(ATTRIBUTES[name], tag, f"{name}={value}", style))
            elif name not in PLAIN_ATTRIBUTES:
                self.uses.append(Use(f"unknown attribute {name}", tag, str(value)))
        for prop, value in declarations(style):
            self.uses.extend(_property_uses(tag, prop, value, style))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_endtag(self, tag):
        self._in_style = False
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self._in_style and not self._hidden():
            self.styles.append(data)


def _property_uses(tag: str, prop: str, value: str, style: str) -> list[Use]:
    raw = f"{prop}:{value}"
    important = value.lower().endswith("!important")
    value = value[: -len("!important")].strip() if important else value
    if VENDOR.match(prop):
        return []  # vendor properties: each client skips the ones that are not its own
    base = _shorthand(prop)
    if base in PROPERTIES:
        uses = [Use(PROPERTIES[base], tag, f"{prop}:{value}", style)]
    elif prop in PLAIN_PROPERTIES:
        uses = []
    else:
        uses = [Use(f"unknown property {prop}", tag, value)]
    if prop == "display" and value == "none":
        uses.append(Use("css-display-none", tag, value, style))
    if re.search(r"\d(em)\b", value):
        uses.append(Use("css-unit-em", tag, f"{prop}:{value}", style))
    if important:
        uses.append(Use("css-important", tag, raw, style))
    return uses


def _stylesheet_uses(css: str) -> list[Use]:
    """Rules of a `<style>`; those inside a media query have the tag "@media"."""
    uses = []
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    media = [(m.start(), _block_end(css, m.end())) for m in re.finditer(r"@media[^{]*\{", css)]
    for start, _end in media:
        uses.append(Use("css-at-media", "style", css[start : css.index("{", start)].strip()))
    for rule in re.finditer(r"([^{}@]+)\{([^{}]*)\}", css):
        selectors, body = rule.groups()
        tag = "@media" if any(start < rule.start() < end for start, end in media) else "style"
        for selector in selectors.split(","):
            selector = selector.strip()
            if "." in selector:
                uses.append(Use("css-selector-class", tag, selector))
            if "[" in selector:
                uses.append(Use("css-selector-attribute", tag, selector))
        for prop, value in declarations(body):
            uses.extend(_property_uses(tag, prop, value, body))
    return uses


def _block_end(css: str, position: int) -> int:
    depth = 1
    while depth and position < len(css):
        depth += {"{": 1, "}": -1}.get(css[position], 0)
        position += 1
    return position


def uses(html: str, client: str) -> list[Use]:
    """Every feature of `html` that `client` meets, once per element, attribute and declaration.
    A client that ignores media queries never meets the rules inside them."""
    collector = _Collector(client)
    collector.feed(view(html, client))
    collector.close()
    found = collector.uses + [u for css in collector.styles for u in _stylesheet_uses(css)]
    if support("css-at-media", client)[0] == "n":
        found = [u for u in found if u.tag != "@media"]
    return found


@cache
def _snapshot() -> dict:
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def support(feature: str, client: str) -> tuple[str, list[str]]:
    """("y" | "a" | "n" | "u", [the notes that apply]) for the client's latest tested version."""
    data = _snapshot()["features"].get(feature)
    if data is None:
        raise KeyError(f"{feature} is not in the caniemail snapshot (caniemail/support.json)")
    value = data["support"].get(client)
    if value is None:
        return "u", []
    status, *marks = value.split()
    return status, [data["notes"][mark.lstrip("#")] for mark in marks if mark.lstrip("#") in data["notes"]]
