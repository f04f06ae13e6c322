"""Composing campaign emails fast enough for large sends, without changing a byte of what people read.

Rendering one email (Django templates, nh3 twice, css-inline) costs milliseconds, and Python's
email package as much again to build the MIME. A send to 100 000 people renders the same
email with different names. So a batch renders the email once per *shape* (language, landing
URL, which personal fields are empty) with unique placeholder words in place of the personal
values, rewrites its links for tracking once, and then only substitutes escaped values and
encodes the MIME with C codecs per person.

Safety: a person whose values the shortcut cannot reproduce exactly (whitespace that the
renderer would fold) takes the normal path, and each shape is checked once per batch against
the normal path; a difference switches the shortcut off for that email and is logged.
"""

import base64
import binascii
import html as html_lib
import logging
import re
import secrets
import time
from dataclasses import dataclass
from email.utils import formatdate
from types import SimpleNamespace

from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.utils.html import escape

from campaigns.delivery.emails import landing_url_for, render_campaign_email
from campaigns.models import Asset, Delivery

logger = logging.getLogger(__name__)

PERSONAL = ("first_name", "last_name", "full_name", "department", "site", "title")
# The personal landing link stands in the shape as this URL (it must look like one to survive sanitising).
LANDING = "https://landing.invalid/LpqlandingZx9"
TOKEN_FIELD = "token"  # noqa: S105 - the name of a placeholder, not a secret
_PLACEHOLDER = re.compile(r"Lpq([a-z]+)Zx9")


def _placeholder(name: str) -> str:
    return f"Lpq{name.replace('_', '')}Zx9"


_NAMES = {name.replace("_", ""): name for name in (*PERSONAL, TOKEN_FIELD)}


# MIME without the email package: same structure Django produces, built with C codecs.


class _RawMime:
    """Enough of email.message.Message for Django's SMTP, file, console and locmem backends."""

    def __init__(self, raw: bytes):
        self.raw = raw

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n", policy=None) -> bytes:
        return self.raw if linesep == "\r\n" else self.raw.replace(b"\r\n", linesep.encode())

    def as_string(self, unixfrom: bool = False, linesep: str = "\n", policy=None) -> str:
        return self.as_bytes(linesep=linesep).decode("utf-8")

    def get_charset(self):
        return None


class PrebuiltEmail(EmailMultiAlternatives):
    """An email whose MIME bytes are already built; the usual attributes stay for tests and the outbox."""

    def __init__(self, *, raw: bytes, envelope_from: str, envelope_to: list[str], **kwargs):
        super().__init__(**kwargs)
        self.raw = raw
        self.envelope_from = envelope_from
        self.envelope_to = envelope_to

    def message(self, *args, **kwargs):
        return _RawMime(self.raw)


def send_one(connection, message: EmailMultiAlternatives) -> None:
    """Send over an open backend connection, raising SMTP errors as they come.

    A prebuilt email over Django's SMTP backend goes straight to smtplib: the backend would
    only re-parse both addresses (a third of the time per message on a fast relay).
    """
    smtp = getattr(connection, "connection", None)
    if isinstance(message, PrebuiltEmail) and isinstance(connection, SmtpBackend) and smtp is not None:
        smtp.sendmail(message.envelope_from, message.envelope_to, message.raw)
    else:
        connection.send_messages([message])


def _header(value: str) -> str:
    """An RFC 2047 header value: as is when ASCII, else base64 encoded words, one per folded line."""
    value = " ".join(value.split())
    if value.isascii():
        return value
    words, chunk = [], b""
    for char in value:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > 39:  # 52 base64 characters: each line stays under 78
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def _qp(text: str) -> bytes:
    body = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(body, quotetabs=False, istext=True, header=False).replace(b"\n", b"\r\n")


_DATE = [0, ""]


def _date() -> str:
    now = int(time.time())
    if _DATE[0] != now:
        _DATE[:] = [now, formatdate(now, localtime=True)]
    return _DATE[1]


def build_mime(*, from_header: str, to: str, subject: str, message_id: str, text: str, html: str) -> bytes:
    """multipart/alternative (text, then HTML), both quoted-printable UTF-8, CRLF line ends."""
    boundary = f"=_lp{secrets.token_hex(12)}"  # "=_" never occurs in quoted-printable text
    head = (
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'
        "MIME-Version: 1.0\r\n"
        f"Subject: {_header(subject)}\r\n"
        f"From: {from_header}\r\n"
        f"To: {to}\r\n"
        f"Date: {_date()}\r\n"
        f"Message-ID: {message_id}\r\n"
        "\r\n"
        f"--{boundary}\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode("ascii")
    middle = (
        f"\r\n--{boundary}\r\n"
        'Content-Type: text/html; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode("ascii")
    tail = f"\r\n--{boundary}--\r\n".encode("ascii")
    return b"".join((head, _qp(text), middle, _qp(html), tail))


# The composer


@dataclass
class _Shape:
    subject: str
    text: str
    html: str
    from_email: str
    checked: bool = False


class Composer:
    """Builds the message of each delivery of one email asset (see the module docstring)."""

    def __init__(self, asset: Asset, tracker):
        self.asset = asset
        self.tracker = tracker
        self.shapes: dict[tuple, _Shape | None] = {}
        self.fast = True

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
        language = getattr(employee, "language", "")
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
                self.shapes[key] = _Shape(rendered.subject, rendered.text, html, rendered.from_email)
        return self.shapes[key]

    def _from_shape(self, shape: _Shape, delivery: Delivery, values: dict[str, str], landing_url: str) -> PrebuiltEmail:
        token = self.tracker.token_for(delivery)
        raw_values = {**values, TOKEN_FIELD: token}
        html_values = {name: escape(value) for name, value in values.items()} | {TOKEN_FIELD: token}

        def raw(match: re.Match) -> str:
            return raw_values[_NAMES[match.group(1)]]

        def escaped(match: re.Match) -> str:
            return html_values[_NAMES[match.group(1)]]

        subject = _PLACEHOLDER.sub(raw, shape.subject.replace(LANDING, landing_url))
        text = _PLACEHOLDER.sub(raw, shape.text.replace(LANDING, landing_url))
        html = _PLACEHOLDER.sub(escaped, shape.html.replace(LANDING, escape(landing_url)))
        to = delivery.employee.email
        if not to.isascii():
            to = sanitize_address(to, "utf-8")
        mime = build_mime(
            from_header=self._from_header(shape.from_email),
            to=to,
            subject=subject,
            message_id=delivery.message_id,
            text=text,
            html=html,
        )
        message = PrebuiltEmail(
            raw=mime,
            envelope_from=self._from_header(shape.from_email),
            envelope_to=[to],
            subject=subject,
            body=text,
            from_email=shape.from_email,
            to=[delivery.employee.email],
            headers={"Message-ID": delivery.message_id},
        )
        message.attach_alternative(html, "text/html")
        return message

    def _from_header(self, from_email: str) -> str:
        cached = getattr(self, "_from_cache", None)
        if cached is None or cached[0] != from_email:
            self._from_cache = (from_email, sanitize_address(from_email, "utf-8"))
        return self._from_cache[1]

    def _slow(self, delivery: Delivery, landing_url: str) -> EmailMultiAlternatives:
        employee = delivery.employee
        rendered = render_campaign_email(asset=self.asset, employee=employee, landing_url=landing_url)
        html = self.tracker.apply(rendered.html, self.tracker.token_for(delivery), skip=landing_url)
        message = EmailMultiAlternatives(
            subject=rendered.subject,
            body=rendered.text,
            from_email=rendered.from_email,
            to=[employee.email],
            headers={"Message-ID": delivery.message_id},
        )
        message.attach_alternative(html, "text/html")
        return message


def _same(fast: EmailMultiAlternatives, slow: EmailMultiAlternatives) -> bool:
    """Equal for a reader: same subject, sender, text, and HTML up to how characters are escaped."""
    return (
        fast.subject == slow.subject
        and fast.from_email == slow.from_email
        and fast.body == slow.body
        and html_lib.unescape(fast.alternatives[0].content) == html_lib.unescape(slow.alternatives[0].content)
    )
