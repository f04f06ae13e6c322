"""Builders for the delivery tests: a scheduled email to a cast of employees, and an SMTP backend that refuses."""

import datetime
import smtplib

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from campaigns.delivery import services as delivery
from campaigns.models import Asset, EmailSend
from campaigns.plan import services as plan
from campaigns.tests.asset_helpers import make_audience, make_email, make_employee


def employees(n: int, prefix: str = "person", **fields):
    return [
        make_employee(email=f"{prefix}{i}@example.se", first_name=f"Namn{i}", last_name="Testsson", **fields)
        for i in range(n)
    ]


def approved_email(project, owner, *audiences, **fields) -> Asset:
    asset = make_email(project, owner, **fields)
    asset.audiences.set(audiences)
    plan.asset_set_status(asset=asset, status=Asset.Status.READY, by=owner)
    return plan.asset_set_status(asset=asset, status=Asset.Status.APPROVED, by=owner)


def scheduled_email(project, owner, *audiences, **fields) -> tuple[Asset, EmailSend]:
    asset = approved_email(project, owner, *audiences, **fields)
    send = delivery.email_schedule(asset=asset, by=owner)
    asset.refresh_from_db()
    return asset, send


def after_due(send: EmailSend, minutes: int = 1) -> datetime.datetime:
    return send.due_at + datetime.timedelta(minutes=minutes)


class RefusingBackend(LocmemBackend):
    """Locmem, except that recipients listed in `replies` get that SMTP reply, and `down` refuses to connect."""

    replies: dict[str, tuple[int, bytes]] = {}
    down = False

    def open(self):
        if self.down:
            raise ConnectionRefusedError(111, "Connection refused")
        return super().open()

    def send_messages(self, messages):
        for message in messages:
            for address in message.to:
                if address in self.replies:
                    code, text = self.replies[address]
                    raise smtplib.SMTPRecipientsRefused({address: (code, text)})
        return super().send_messages(messages)


__all__ = [
    "make_audience",
    "make_employee",
    "employees",
    "approved_email",
    "scheduled_email",
    "after_due",
    "RefusingBackend",
]
