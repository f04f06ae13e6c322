"""The MIME of every email Launchpad sends: one set of headers, one Date, one encoding.

Campaign emails (the real send and the test send) are built here without the email
package: multipart/alternative, both parts quoted-printable UTF-8, headers RFC 2047 base64
words, Date in the server's time zone. Booking emails carry an invite, so Django builds them,
told to use the same charset, encodings, Date and headers (`django_message_headers`).

Every message asks auto-responders to stay quiet (RFC 3834 `Auto-Submitted`, and Exchange's
`X-Auto-Response-Suppress`, which Outlook's out-of-office honours): a campaign reaches
hundreds of people, and around holidays their out-of-office replies would bury the person
the Reply-To leads to.
"""

import base64
import binascii
import email.charset
import secrets
import time
from email.utils import formatdate
from functools import lru_cache

from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import sanitize_address

AUTO_RESPONSE_HEADERS = {
    "Auto-Submitted": "auto-generated",
    # Out-of-office and other auto-replies; delivery reports (NDR) still come back.
    "X-Auto-Response-Suppress": "OOF, AutoReply",
}

# The charset Django's messages use, so that booking mail encodes like campaign mail.
UTF8_QP = email.charset.Charset("utf-8")
UTF8_QP.header_encoding = email.charset.BASE64
UTF8_QP.body_encoding = email.charset.QP


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


def _header(value: str) -> str:
    """An RFC 2047 header value: as is when ASCII, else base64 encoded words, one per folded line."""
    value = " ".join(value.split())
    if value.isascii():
        return value
    encoded, words = value.encode("utf-8"), []
    while len(encoded) > 39:  # 52 base64 characters: each line stays under 78
        cut = 39
        while encoded[cut] & 0xC0 == 0x80:  # never inside a character: back to where it starts
            cut -= 1
        words.append(encoded[:cut])
        encoded = encoded[cut:]
    words.append(encoded)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def _qp(text: str) -> bytes:
    body = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(body, quotetabs=False, istext=True, header=False).replace(b"\n", b"\r\n")


def quoted_printable(text: str) -> bytes:
    """A body part as build_mime encodes it (quoted-printable UTF-8, CRLF line ends)."""
    return _qp(text)


def quoted_printable_line(line: str, *, last: bool) -> bytes:
    """One line of a body part (no line break in it) as `quoted_printable` encodes it inside the whole.

    Each line encodes on its own (soft breaks start again after every line break); only whitespace at
    the very end of the text is treated differently, hence `last`. The lines joined with CRLF equal
    the whole text's encoding; the composer checks that once per shape.
    """
    if last:
        return binascii.b2a_qp(line.encode("utf-8"), quotetabs=False, istext=True, header=False).replace(b"\n", b"\r\n")
    encoded = binascii.b2a_qp(line.encode("utf-8") + b"\n", quotetabs=False, istext=True, header=False)
    return encoded[:-1].replace(b"\n", b"\r\n")


_DATE = [0, ""]


def mail_date() -> str:
    """The Date header: now, in the server's time zone (as Outlook shows it), cached per second."""
    now = int(time.time())
    if _DATE[0] != now:
        _DATE[:] = [now, formatdate(now, localtime=True)]
    return _DATE[1]


@lru_cache(maxsize=256)
def address_header(address: str) -> str:
    """An address as a header value: display names RFC 2047 encoded, IDN domains punycoded."""
    return sanitize_address(address, "utf-8")


def build_mime(
    *,
    from_header: str,
    to: str,
    subject: str,
    message_id: str,
    text: str,
    html: str,
    reply_to: str = "",
    encoded: tuple[bytes, bytes] | None = None,
) -> bytes:
    """multipart/alternative (text, then HTML), both quoted-printable UTF-8, CRLF line ends.

    `encoded`: the two parts already encoded exactly as `quoted_printable` would (the composer's shortcut).
    """
    boundary = f"=_lp{secrets.token_hex(12)}"  # "=_" never occurs in quoted-printable text
    head = (
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'
        "MIME-Version: 1.0\r\n"
        f"Subject: {_header(subject)}\r\n"
        f"From: {from_header}\r\n" + (f"Reply-To: {reply_to}\r\n" if reply_to else "") + f"To: {to}\r\n"
        f"Date: {mail_date()}\r\n"
        f"Message-ID: {message_id}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in AUTO_RESPONSE_HEADERS.items())
        + "\r\n"
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
    text_part, html_part = encoded or (_qp(text), _qp(html))
    return b"".join((head, text_part, middle, html_part, tail))


def campaign_message(
    *,
    subject: str,
    text: str,
    html: str,
    from_email: str,
    reply_to: str,
    to: str,
    message_id: str,
    encoded: tuple[bytes, bytes] | None = None,
) -> PrebuiltEmail:
    """A campaign email ready to send: the same bytes for a recipient's copy and a test send."""
    from_header = address_header(from_email)
    # A line break in an address would add headers of its own: the sanitiser refuses it.
    plain = to.isascii() and "\r" not in to and "\n" not in to
    to_header = to if plain else address_header(to)
    raw = build_mime(
        from_header=from_header,
        to=to_header,
        subject=subject,
        message_id=message_id,
        text=text,
        html=html,
        reply_to=address_header(reply_to) if reply_to else "",
        encoded=encoded,
    )
    message = PrebuiltEmail(
        raw=raw,
        envelope_from=from_header,
        envelope_to=[to_header],
        subject=subject,
        body=text,
        from_email=from_email,
        to=[to],
        reply_to=[reply_to] if reply_to else None,
        headers={"Message-ID": message_id},
    )
    message.attach_alternative(html, "text/html")
    return message


def django_message_headers(message: EmailMultiAlternatives, *, reply_to: str = "") -> EmailMultiAlternatives:
    """Give a message Django builds (booking mail) the campaign mail's charset, Date and headers."""
    message.encoding = UTF8_QP
    message.extra_headers = {"Date": mail_date(), **AUTO_RESPONSE_HEADERS, **message.extra_headers}
    if reply_to:
        message.reply_to = [reply_to]
    return message
