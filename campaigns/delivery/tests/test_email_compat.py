"""The campaign email against caniemail.com's support data, in the clients Swedish organisations
read mail in: Outlook for Windows (Word), Outlook.com, Gmail (web, and the apps, also with
non-Google accounts) and Apple Mail (macOS, iOS).

Every feature the rendered email uses must be supported, or partly supported in a way the
email's use stays within (WITHIN: the condition is checked on each use), or only degrade
(DEGRADES: listed in the README with the reason that is acceptable). Anything else fails.
"""

import re
from pathlib import Path

import pytest

from campaigns.delivery.tests.email_compat import CLIENTS, Use, declarations, support, uses
from campaigns.delivery.tests.email_samples import every_branch

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[3] / "README.md"
GMAIL_APPS = {"gmail-ios", "gmail-android"}


def _px(value: str) -> list[float]:
    return [float(n) for n in re.findall(r"(-?\d*\.?\d+)px", value)]


def _zero(value: str) -> bool:
    return re.fullmatch(r"(?:0(?:px|%|em)?\s*)+", value.strip()) is not None


def _value(use: Use) -> str:
    return use.detail.split(":", 1)[1] if ":" in use.detail else use.detail


def _line_height_ok(use: Use, client: str) -> bool:
    value = _value(use)
    unitless = re.fullmatch(r"\d*\.?\d+", value.removesuffix("!important").strip()) is not None
    return unitless or ("mso-line-height-rule", "exactly") in declarations(use.style)


# feature → (does this use stay within the client's partial support?, why)
WITHIN = {
    "css-background": (lambda u, c: re.fullmatch(r"#[0-9a-fA-F]{6}", _value(u)) is not None, "a colour only"),
    "css-border": (
        lambda u, c: u.tag not in ("p", "div") and all(n <= 8 for n in _px(_value(u))),
        "on table cells, at most 8 px",
    ),
    "css-display": (
        lambda u, c: (
            _value(u) not in ("flex", "grid", "inline-flex", "inline-grid", "contents", "flow-root")
            and (c != "outlook-windows" or _value(u) == "none" and u.tag != "img" or u.tag == "img")
        ),
        "block and none; Word gives images no baseline gap, which display:block removes elsewhere",
    ),
    "css-display-none": (lambda u, c: u.tag != "img", "never on an image"),
    "css-font-size": (lambda u, c: "rem" not in _value(u), "px, no rem"),
    "css-font-weight": (
        lambda u, c: _value(u) in ("400", "600", "700", "bold", "normal"),
        "600 and up is bold in Word",
    ),
    "css-height": (lambda u, c: u.tag not in ("body", "span", "div", "p"), "on cells and images"),
    "css-important": (
        lambda u, c: u.tag in ("style", "@media") and " !important" in u.detail and "!IMPORTANT" not in u.detail,
        "in a <style>, lowercase, with a space before",
    ),
    "css-letter-spacing": (lambda u, c: "em" not in _value(u) and not _value(u).startswith("-"), "small px values"),
    "css-line-height": (_line_height_ok, "unitless, or px with mso-line-height-rule:exactly"),
    "css-margin": (
        lambda u, c: (
            _zero(_value(u)) or u.tag not in ("span", "body") and "auto" not in _value(u) and "-" not in _value(u)
        ),
        "no negative or auto margins; on span or body only the zero reset",
    ),
    "css-max-width": (
        lambda u, c: u.tag in ("table", "img"),
        "on the container table (inside the 600 px MSO wrapper) and the hero, whose width attribute Word uses",
    ),
    "css-overflow": (lambda u, c: _value(u) in ("hidden",), "hidden only, in the preheader"),
    "css-padding": (lambda u, c: u.tag in ("td", "th") or _zero(_value(u)), "only on table cells"),
    "css-selector-attribute": (
        lambda u, c: "x-apple-data-detectors" in u.detail,
        "only Apple Mail's own data detectors, which Apple Mail supports",
    ),
    "css-text-align": (lambda u, c: _value(u) in ("left", "center", "right"), "left, center, right"),
    "css-text-decoration": (
        lambda u, c: c in GMAIL_APPS or _value(u) in ("none", "underline"),
        "one value (Gmail's apps with non-Google accounts: see DEGRADES)",
    ),
    "css-text-transform": (lambda u, c: _value(u) != "lowercase", "uppercase only"),
    "css-width": (
        lambda u, c: u.tag not in ("body", "span", "div", "p"),
        "on tables and cells; images carry a width attribute Word uses",
    ),
    "css-word-break": (lambda u, c: _value(u) == "break-word", "break-word, which those clients apply anyway"),
    "html-body": (lambda u, c: True, "the outer table carries the background the body has"),
    "html-doctype": (lambda u, c: True, "no effect in Word"),
    "html-height": (lambda u, c: u.detail.split("=")[1].isdigit(), "pixels; PixelsPerInch 96 keeps 120 dpi right"),
    "html-width": (lambda u, c: u.detail.split("=")[1].rstrip("%").isdigit(), "pixels, or 100% on tables"),
    "html-lists": (lambda u, c: True, "no reversed or value attributes (the sanitiser drops them)"),
    "html-style": (lambda u, c: u.tag == "style", "in the head, declared before use, far under 16 KB"),
    "html-target": (lambda u, c: True, "links open in a new window anyway"),
    "css-at-media": (
        lambda u, c: c not in GMAIL_APPS and "height" not in u.detail,
        "one width query, not nested",
    ),
    "css-selector-class": (lambda u, c: c not in GMAIL_APPS, "class selectors"),
}

# (feature, client) → why it only degrades. The README lists these.
DEGRADES = {
    ("css-border-radius", "outlook-windows"): "square corners on the card; the button is a VML round rectangle",
    ("css-at-media", "gmail-ios"): "no phone tweaks with non-Google accounts; the layout is fluid without them",
    ("css-at-media", "gmail-android"): "no phone tweaks with non-Google accounts; the layout is fluid without them",
    ("css-selector-class", "gmail-ios"): "the media query's rules, as above",
    ("css-selector-class", "gmail-android"): "the media query's rules, as above",
    ("html-style", "gmail-ios"): "the <style> left after inlining holds only the phone tweaks",
    ("html-style", "gmail-android"): "the <style> left after inlining holds only the phone tweaks",
    ("css-text-decoration", "gmail-ios"): "links stay underlined with non-Google accounts (the button's label too)",
    ("css-text-decoration", "gmail-android"): "links stay underlined with non-Google accounts (the button's label too)",
    ("html-wbr", "outlook-windows"): "long addresses break where Word breaks them, not after slashes",
    ("html-wbr", "gmail-ios"): "long addresses break anywhere (word-break), not after slashes",
    ("html-wbr", "gmail-android"): "long addresses break anywhere (word-break), not after slashes",
}


def verdicts(html: str, client: str) -> tuple[list[str], set[str]]:
    """(problems that break the email in `client`, features that only degrade there)."""
    problems, degraded = [], set()
    for use in uses(html, client):
        if use.feature.startswith("unknown"):
            problems.append(f"{use.feature} on <{use.tag}>: map it to a caniemail feature")
            continue
        status, notes = support(use.feature, client)
        if status == "y":
            continue
        if (use.feature, client) in DEGRADES:
            degraded.add(use.feature)
            continue
        rule = WITHIN.get(use.feature)
        if rule is None or not rule[0](use, client):
            problems.append(f"{use.feature} ({status}: {' '.join(notes) or 'unsupported'}) on <{use.tag}> {use.detail}")
    return problems, degraded


@pytest.fixture
def emails(project, owner):
    project.refresh_from_db()
    return every_branch(project, owner)


@pytest.mark.parametrize("client", list(CLIENTS))
def test_nothing_in_the_email_breaks_in(emails, client):
    for name, html in emails:
        problems, _degraded = verdicts(html, client)
        assert problems == [], f"{name} email in {client}"


def test_what_only_degrades_is_in_the_readme(emails):
    degraded = set()
    for client in CLIENTS:
        for _name, html in emails:
            degraded |= {(feature, client) for feature in verdicts(html, client)[1]}
    assert degraded, "the samples use features that degrade: the check must see them"
    readme = README.read_text(encoding="utf-8")
    for feature, _client in degraded:
        assert f"`{feature}`" in readme, f"{feature} degrades but the README does not say so"


def test_the_check_catches_what_word_ignores():
    broken = (
        '<table><tr><td><div style="padding:12px;border-left:3px solid #ccc">Quote</div>'
        '<p style="line-height:24px;margin:0 auto">Text</p><img src="x.png" width="600" style="display:none"></td></tr></table>'
    )
    problems, _degraded = verdicts(broken, "outlook-windows")
    found = " ".join(problems)
    assert "css-padding" in found and "css-border" in found and "css-line-height" in found
    assert "css-margin" in found and "css-display-none" in found
    assert verdicts('<p style="filter:blur(2px)">x</p>', "apple-mail-ios")[0]  # unmapped CSS is a failure


def test_outlook_sees_the_vml_button_and_others_the_padded_link(emails):
    _name, html = emails[0]
    outlook = uses(html, "outlook-windows")
    assert not any(u.tag == "a" and "padding" in u.detail for u in outlook)  # the !mso link is hidden from Word
    assert re.search(r'<!--\[if mso\]><v:roundrect href="[^"]+/p/[^"]+"', html)
    assert any(u.tag == "a" and u.detail.startswith("padding") for u in uses(html, "gmail-web"))


def test_every_image_has_both_width_and_height(emails):
    for name, html in emails:
        for tag in re.findall(r"<img\b[^>]*>", html):
            assert re.search(r'\bwidth="\d+"', tag) and re.search(r'\bheight="\d+"', tag), (name, tag)


def test_spacer_rows_keep_their_height_in_word(emails):
    _name, html = emails[0]
    spacers = re.findall(r'<td class="(?:stripe|bottom|spacer-16)[^"]*"[^>]*>', html)
    assert len(spacers) >= 3
    assert all("mso-line-height-rule: exactly" in td or "mso-line-height-rule:exactly" in td for td in spacers)
