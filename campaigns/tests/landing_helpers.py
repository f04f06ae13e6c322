"""Builders and an SMTP sink shared by the landing-page tests."""

import datetime

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


@pytest.fixture(autouse=False)
def clean_cache():
    from django.core.cache import cache

    from campaigns.landing import services as landing

    cache.clear()
    landing.local_cache.clear()
    # Visits buffered by earlier tests (a live server's, say) belong to projects that are gone.
    with landing._pending_lock:
        landing._pending.clear()
        landing._flushed_at.clear()
    yield
    landing.landing_counters_flush()
    cache.clear()
    landing.local_cache.clear()


def bilingual(project, *, language: str = "en"):
    """The project writes its content in `language` too, so its readers of that language get the page
    and emails in it (a project without it gives them its primary language, never a mix)."""
    project.other_languages = [language]
    project.save(update_fields=["other_languages", "updated_at"])
    return project
