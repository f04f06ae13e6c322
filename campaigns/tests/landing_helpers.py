"""Builders and an SMTP sink shared by the landing-page tests."""

import datetime
import socket

import pytest
from django.utils import timezone

from audiences.models import Audience, Employee
from campaigns.models import Asset, Channel, LandingToken, MeetingSession, Stage


def make_employee(email: str = "anna.berg@example.se", **fields) -> Employee:
    defaults = {"first_name": "Anna", "last_name": "Berg", "department": "Ekonomi", "site": "Luleå", "language": "sv"}
    return Employee.objects.create(email=email, **{**defaults, **fields})


def personal_link(project, employee, *, audience: Audience | None = None) -> LandingToken:
    return LandingToken.objects.create(project=project, employee=employee, audience=audience)


def make_meeting(
    project, *, sessions: int = 1, capacity: int = 30, status=Asset.Status.SCHEDULED, title="Atlas på riktigt"
):
    meeting = Asset.objects.create(
        project=project, channel=Channel.MEETING, stage=Stage.KNOWLEDGE, title=title, offset_days=-14, status=status
    )
    start = timezone.now().replace(microsecond=0, second=0) + datetime.timedelta(days=10)
    made = [
        MeetingSession.objects.create(
            meeting=meeting,
            starts_at=start + datetime.timedelta(days=i),
            ends_at=start + datetime.timedelta(days=i, hours=1),
            site="Luleå",
            place=f"Storsalen {i + 1}",
            capacity=capacity,
        )
        for i in range(sessions)
    ]
    return meeting, made


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self):
        import email
        from email import policy

        return [email.message_from_bytes(e.original_content, policy=policy.default) for e in self.envelopes]


def run_smtp_inbox(settings):
    """A real SMTP server on a free port, and Django's SMTP backend pointed at it (a fixture's body)."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


@pytest.fixture(autouse=False)
def clean_cache():
    from django.core.cache import cache

    from campaigns import landing

    cache.clear()
    landing.local_cache.clear()
    yield
    landing.landing_counters_flush()
    cache.clear()
    landing.local_cache.clear()
