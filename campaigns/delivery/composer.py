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
from campaigns.delivery.mime import PrebuiltEmail, build_mime, campaign_message
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


@dataclass
class _Shape:
    subject: str
    text: str
    html: str
    from_email: str
    reply_to: str
    checked: bool = False


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
        raw_values = {**values, TOKEN_FIELD: token}
        html_values = {name: escape(value) for name, value in values.items()} | {TOKEN_FIELD: token}

        def raw(match: re.Match) -> str:
            return raw_values[_NAMES[match.group(1)]]

        def escaped(match: re.Match) -> str:
            return html_values[_NAMES[match.group(1)]]

        subject = _PLACEHOLDER.sub(raw, shape.subject.replace(LANDING, landing_url))
        text = _PLACEHOLDER.sub(raw, shape.text.replace(LANDING, landing_url))
        html = _PLACEHOLDER.sub(escaped, shape.html.replace(LANDING, escape(landing_url)))
        return campaign_message(
            subject=subject,
            text=text,
            html=html,
            from_email=shape.from_email,
            reply_to=shape.reply_to,
            to=delivery.employee.email,
            message_id=delivery.message_id,
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
