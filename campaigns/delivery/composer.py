"""Composing campaign emails fast enough for large sends, without changing a byte of what people read.

Rendering one email (Django templates, nh3 twice, css-inline) costs milliseconds, and Python's
email package as much again to build the MIME. A send to 100 000 people renders the same
email with different names. So a batch renders the email once per *shape* (language, landing
URL, which personal fields are empty) with unique placeholder words in place of the personal
values, rewrites its links for tracking once, and cuts it at those words; then a person's copy is a
join of the pieces with their escaped values, and only the lines that carry those values are
quoted-printable encoded again (the rest of each part is encoded once per shape).

Safety: a person whose values the shortcut cannot reproduce exactly (whitespace that the
renderer would fold) takes the normal path, and each shape is checked once per batch against
the normal path (and the line-wise encoding against the whole part's); a difference switches the
shortcut off for that email and is logged.
"""

import html as html_lib
import logging
import re
import smtplib
from dataclasses import dataclass
from types import SimpleNamespace

from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.utils.html import escape

from campaigns.delivery.emails import content_language_of, landing_url_for, render_campaign_email
from campaigns.delivery.mime import (
    PrebuiltEmail,
    build_mime,
    campaign_message,
    quoted_printable,
    quoted_printable_line,
)
from campaigns.delivery.smtp import ConnectionLost, sendmail_tracked
from campaigns.models import Asset, Delivery

__all__ = ["Composer", "PrebuiltEmail", "build_mime", "send_one"]

logger = logging.getLogger(__name__)

PERSONAL = ("first_name", "last_name", "full_name", "department", "site", "title")
# The personal landing link stands in the shape as this URL (it must look like one to survive sanitising).
LANDING = "https://landing.invalid/LpqlandingZx9"
TOKEN_FIELD = "token"  # noqa: S105 - the name of a placeholder, not a secret
_PLACEHOLDER = re.compile(r"Lpq([a-z]+)Zx9")


def _placeholder(name: str) -> str:
    return f"Lpq{name.replace('_', '')}Zx9"


_NAMES = {name.replace("_", ""): name for name in (*PERSONAL, TOKEN_FIELD)}
_SHORT = {name: short for short, name in _NAMES.items()}


def _fill(parts: list[str], values: dict[str, str]) -> str:
    """A cut shape with a person's values in its gaps (an unknown placeholder raises KeyError, as it did)."""
    filled = parts[:]
    filled[1::2] = [values[name] for name in parts[1::2]]
    return "".join(filled)


def send_one(connection, message: EmailMultiAlternatives) -> None:
    """Send over an open backend connection, raising SMTP errors as they come.

    A prebuilt email over Django's SMTP backend goes straight to smtplib: the backend would
    only re-parse both addresses (a third of the time per message on a fast relay).
    A lost connection raises `smtp.ConnectionLost`, which says whether the message may have arrived.
    """
    smtp = getattr(connection, "connection", None)
    if isinstance(message, PrebuiltEmail) and isinstance(connection, SmtpBackend) and smtp is not None:
        sendmail_tracked(smtp, message.envelope_from, message.envelope_to, message.raw)
        return
    try:
        connection.send_messages([message])
    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
        raise
    except OSError as exc:  # another backend cannot tell how far it got
        raise ConnectionLost(exc, may_have_arrived=True) from exc


# The composer


# The shape cut at its personal values: the landing link (group 1 empty) and the placeholders (group 1 the field).
_CUT = re.compile(f"{re.escape(LANDING)}()|{_PLACEHOLDER.pattern}")


def _cut(text: str) -> list[str]:
    """[literal, field, literal, field, …, literal], field "" for the landing link: a person's copy is one join."""
    pieces = _CUT.split(text)  # literal, landing group, field group, literal, …
    parts = [pieces[0]]
    for at in range(1, len(pieces), 3):
        landing, field, literal = pieces[at : at + 3]
        parts += ["" if landing is not None else field, literal]
    return parts


@dataclass
class _Shape:
    subject: str
    text: str
    html: str
    from_email: str
    reply_to: str
    checked: bool = False
    # Whether the line-wise encoding matched the whole one at the check (see `_encode`).
    lines_encode: bool = True

    def __post_init__(self):
        self.parts = (_cut(self.subject), _cut(self.text), _cut(self.html))
        self.lines = (_lines(self.text), _lines(self.html))


def _lines(body: str) -> list:
    """The body's lines for quoted-printable: encoded once where nothing personal is in them, else cut."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    last = len(lines) - 1
    out: list = []
    for at, line in enumerate(lines):
        parts = _cut(line)
        if len(parts) > 1:
            out.append((parts, at == last))
        elif out and isinstance(out[-1], bytes):  # runs of fixed lines are one piece
            out[-1] += b"\r\n" + quoted_printable_line(line, last=at == last)
        else:
            out.append(quoted_printable_line(line, last=at == last))
    return out


def _encode(lines: list, values: dict[str, str]) -> bytes:
    """A person's body part, quoted-printable: only the lines with their values are encoded again."""
    return b"\r\n".join(
        line if isinstance(line, bytes) else quoted_printable_line(_fill(line[0], values), last=line[1])
        for line in lines
    )


class Composer:
    """Builds the message of each delivery of one email asset (see the module docstring)."""

    def __init__(self, asset: Asset, tracker, briefings: dict | None = None):
        self.asset = asset
        self.tracker = tracker
        self.shapes: dict[tuple, _Shape | None] = {}
        # A team talk's briefings differ per manager (their team, their link): each takes the normal path.
        self.briefings = briefings
        self.fast = briefings is None

    def message(self, delivery: Delivery, landing_url: str | None = None) -> EmailMultiAlternatives:
        """The email for one delivery; `landing_url` saves looking the personal link up again."""
        employee = delivery.employee
        landing_url = landing_url or landing_url_for(self.asset.project, employee)
        values = self._values(employee)
        if self.fast and values is not None:
            shape = self._shape(employee, values)
            if shape is not None:
                message = self._from_shape(shape, delivery, values, landing_url)
                if shape.checked:
                    return message
                shape.checked = True
                slow = self._slow(delivery, landing_url)
                if _same(message, slow):
                    return message
                self.fast = False
                logger.warning(
                    "asset %s: the fast composer differs from the renderer; using the renderer", self.asset.pk
                )
                return slow
        return self._slow(delivery, landing_url)

    @staticmethod
    def _values(employee) -> dict[str, str] | None:
        values = {}
        for name in PERSONAL:
            value = str(getattr(employee, name) or "")
            # The renderer folds whitespace in some places; such values take the normal path.
            if value != " ".join(value.split()) or _PLACEHOLDER.search(value):
                return None
            values[name] = value
        return values

    def _shape(self, employee, values: dict[str, str]) -> _Shape | None:
        empty = frozenset(name for name, value in values.items() if not value)
        # Employees whose language the project has no version in read the primary one: one shape.
        language = content_language_of(self.asset.project, employee, self.asset)
        key = (language, empty)
        if key not in self.shapes:
            stand_in = SimpleNamespace(
                **{name: "" if name in empty else _placeholder(name) for name in PERSONAL},
                language=language,
                email="",
                pk=None,
            )
            rendered = render_campaign_email(asset=self.asset, employee=stand_in, landing_url=LANDING)
            hrefs = re.findall(r'href="([^"]*)"', rendered.html)
            if any(_PLACEHOLDER.search(url) for url in hrefs if url != LANDING):
                self.shapes[key] = None  # links built from personal fields: the normal path tracks them
            else:
                html = self.tracker.apply(rendered.html, _placeholder(TOKEN_FIELD), skip=LANDING)
                self.shapes[key] = _Shape(rendered.subject, rendered.text, html, rendered.from_email, rendered.reply_to)
        return self.shapes[key]

    def _from_shape(self, shape: _Shape, delivery: Delivery, values: dict[str, str], landing_url: str) -> PrebuiltEmail:
        token = self.tracker.token_for(delivery)
        raw_values = {_SHORT[name]: value for name, value in values.items()} | {"token": token, "": landing_url}
        html_values = {_SHORT[name]: escape(value) for name, value in values.items()}
        html_values |= {"token": token, "": escape(landing_url)}
        subject_parts, text_parts, html_parts = shape.parts
        subject = _fill(subject_parts, raw_values)
        text = _fill(text_parts, raw_values)
        html = _fill(html_parts, html_values)
        encoded = None
        if shape.lines_encode:
            text_lines, html_lines = shape.lines
            encoded = (_encode(text_lines, raw_values), _encode(html_lines, html_values))
            if not shape.checked and encoded != (quoted_printable(text), quoted_printable(html)):
                shape.lines_encode, encoded = False, None
                logger.warning("asset %s: the line-wise encoding differs; encoding whole parts", self.asset.pk)
        return campaign_message(
            subject=subject,
            text=text,
            html=html,
            from_email=shape.from_email,
            reply_to=shape.reply_to,
            to=delivery.employee.email,
            message_id=delivery.message_id,
            encoded=encoded,
        )

    def _slow(self, delivery: Delivery, landing_url: str) -> EmailMultiAlternatives:
        employee = delivery.employee
        briefing = self.briefings.get(employee.pk) if self.briefings is not None else None
        rendered = render_campaign_email(
            asset=self.asset, employee=employee, landing_url=landing_url, briefing=briefing
        )
        html = self.tracker.apply(
            rendered.html,
            self.tracker.token_for(delivery),
            skip=landing_url,
            also_skip=briefing.confirm_url if briefing else "",
        )
        return campaign_message(
            subject=rendered.subject,
            text=rendered.text,
            html=html,
            from_email=rendered.from_email,
            reply_to=rendered.reply_to,
            to=employee.email,
            message_id=delivery.message_id,
        )


def _same(fast: EmailMultiAlternatives, slow: EmailMultiAlternatives) -> bool:
    """Equal for a reader: same subject, sender, text, and HTML up to how characters are escaped."""
    return (
        fast.subject == slow.subject
        and fast.from_email == slow.from_email
        and fast.reply_to == slow.reply_to
        and fast.body == slow.body
        and html_lib.unescape(fast.alternatives[0].content) == html_lib.unescape(slow.alternatives[0].content)
    )
