"""Builders for the cascade tests: managers with teams, a team talk asset, its briefings sent."""

import datetime

from campaigns.delivery import services as delivery
from campaigns.models import Asset, EmailSend
from campaigns.plan import services as plan
from campaigns.tests.asset_helpers import make_audience, make_employee


def make_teams(managers: int = 2, size: int = 3, *, prefix: str = "", **fields):
    """`managers` managers, each with `size` direct reports (all in one department per manager)."""
    bosses, reports = [], []
    for m in range(managers):
        boss = make_employee(
            f"{prefix}chef{m}@example.se", first_name=f"Chef{m}", last_name="Ledare", department=f"Avd{m}", **fields
        )
        bosses.append(boss)
        for i in range(size):
            reports.append(
                make_employee(
                    f"{prefix}p{m}-{i}@example.se",
                    first_name=f"Namn{i}",
                    last_name=f"Team{m}",
                    department=f"Avd{m}",
                    manager_employee=boss,
                    **fields,
                )
            )
    return bosses, reports


def make_team_talk(project, by, *audiences, **fields) -> Asset:
    values = {
        "channel": "team_talk",
        "stage": "desire",
        "title": "Chefernas teamsamtal",
        "offset_days": -10,
        "talk_by_days": -3,
        "subject": "Ditt teamsamtal om {{ project_name }}",
        "headline": "Prata med ditt team",
        "body": "<p>Så här påverkar förändringen oss.</p><script>alert(1)</script>",
        "sender_kind": "change_manager",
    }
    values.update(fields)
    asset = plan.asset_create(project=project, by=by, **values)
    asset.audiences.set(audiences)
    plan.asset_set_status(asset=asset, status=Asset.Status.READY, by=by)
    return plan.asset_set_status(asset=asset, status=Asset.Status.APPROVED, by=by)


def start_briefings(asset: Asset, by, capture) -> tuple[EmailSend, list[list[int]]]:
    """Schedule and start the briefings; returns the send and the batches handed to the broker."""
    batches: list[list[int]] = []
    original = delivery._publish
    delivery._publish = lambda ids: batches.append(list(ids))
    try:
        send = delivery.email_schedule(asset=asset, by=by)
        with capture(execute=True):
            delivery.dispatch_due(now=send.due_at + datetime.timedelta(minutes=1))
    finally:
        delivery._publish = original
    return send, batches


__all__ = ["make_audience", "make_employee", "make_teams", "make_team_talk", "start_briefings"]
