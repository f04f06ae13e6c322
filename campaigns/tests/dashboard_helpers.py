"""A small hand-built launch for the dashboard tests: six people, two audiences, two emails,
a meeting, pulse answers and counters, with every figure known in advance."""

import datetime
import itertools

from django.utils import timezone

from audiences.models import Audience
from campaigns.models import Booking, Delivery, EngagementCounter, LandingCounter, LandingToken, PulseResponse
from campaigns.tests.asset_helpers import make_email, make_employee
from campaigns.tests.landing_helpers import make_meeting

_ids = itertools.count(1)

STAGES = ("awareness", "desire", "knowledge", "ability", "reinforcement")


def deliver(asset, employee, status="sent", *, opened=False, clicked=False, audience=None, at=None) -> Delivery:
    at = at or timezone.now()
    return Delivery.objects.create(
        asset=asset,
        employee=employee,
        audience=audience,
        status=status,
        message_id=f"<test-{next(_ids)}@launchpad>",
        sent_at=at if status == "sent" else None,
        opened_at=at if opened else None,
        clicked_at=at if clicked else None,
    )


def answer(project, employee=None, audience=None, **scores) -> PulseResponse:
    values = dict(zip(STAGES, scores.pop("all"), strict=True)) if "all" in scores else scores
    return PulseResponse.objects.create(
        project=project, round=project.pulse_round, employee=employee, audience=audience, reaction="partly", **values
    )


def small_launch(project, owner, mode="individual"):
    """People: ann, bo, cia (audience Office, a list), cia, dan, eva (audience Warehouse, department Lager),
    fia in no audience. Emails: teaser to ann (opened, clicked), bo, cia (failed), dan (queued); why to ann.
    Dan booked a seat, eva's booking waits; bo answered the pulse; eva visited her page."""
    project.tracking_mode = mode
    project.save()
    project.refresh_from_db()
    ann = make_employee("ann@example.se", first_name="Ann", last_name="A", site="Västerås", department="Ekonomi")
    bo = make_employee("bo@example.se", first_name="Bo", last_name="B", site="Västerås", department="Ekonomi")
    cia = make_employee("cia@example.se", first_name="Cia", last_name="C", site="Luleå", department="Lager")
    dan = make_employee("dan@example.se", first_name="Dan", last_name="D", site="Luleå", department="Lager")
    eva = make_employee("eva@example.se", first_name="Eva", last_name="E", site="Luleå", department="Lager")
    fia = make_employee("fia@example.se", first_name="Fia", last_name="F", site="Luleå", department="IT")
    office = Audience.objects.create(project=project, name="Office", kind=Audience.Kind.LIST)
    office.members.add(ann, bo, cia)
    warehouse = Audience.objects.create(
        project=project,
        name="Warehouse",
        kind=Audience.Kind.RULES,
        rules={"combine": "and", "rules": [{"field": "department", "op": "in", "values": ["Lager"]}]},
    )
    teaser = make_email(project, owner, title="Teaser")
    why = make_email(project, owner, title="Why")
    yesterday = timezone.now() - datetime.timedelta(days=1)
    deliver(teaser, ann, opened=True, clicked=True, audience=office, at=yesterday)
    deliver(teaser, bo, audience=office)
    deliver(teaser, cia, "failed", audience=office)
    deliver(teaser, dan, "queued", audience=warehouse)
    deliver(why, ann, audience=office)
    meeting, (session,) = make_meeting(project, capacity=20)
    Booking.objects.create(
        session=session, employee=dan, email=dan.email, status="confirmed", confirmed_at=timezone.now()
    )
    Booking.objects.create(session=session, employee=eva, email=eva.email, status="pending")
    answer(project, bo, office, all=(4, 3, 2, 4, None))
    LandingToken.objects.create(project=project, employee=eva, audience=warehouse, visited_at=timezone.now())
    EngagementCounter.objects.create(asset=teaser, audience=office, opens=7, clicks=2)
    EngagementCounter.objects.create(asset=teaser, audience=None, opens=1, clicks=0)
    LandingCounter.objects.create(project=project, kind="visit", audience=warehouse, count=5)
    LandingCounter.objects.create(project=project, kind="visit", audience=None, count=3)
    return {
        "people": {"ann": ann, "bo": bo, "cia": cia, "dan": dan, "eva": eva, "fia": fia},
        "office": office,
        "warehouse": warehouse,
        "teaser": teaser,
        "why": why,
        "meeting": meeting,
    }
