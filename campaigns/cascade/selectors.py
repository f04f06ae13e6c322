"""Reads of the manager cascade: each briefed manager's team, and how far the talks have come.

team_lists(*, asset, manager_ids) -> dict[manager id, TeamList]
    The direct reports of a batch of managers with who has been reached, in one query
    (counts only, still one query, when the project does not track individuals).
talk_for_token(token) -> TeamTalk | None
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Case, Count, Exists, OuterRef, Q, When

from audiences.models import Employee
from campaigns.models import Asset, Booking, ChangeProject, Channel, Delivery, LandingToken, PrintRender, TeamTalk
from lib.collation import Alphabetical, people_order
from lib.converters import is_token


@dataclass
class TeamList:
    """One manager's team as the briefing shows it: names only where the project tracks individuals."""

    size: int = 0
    reached: int = 0
    # (full name or email, reached?) per direct report, in name order; empty unless individual tracking.
    people: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def not_reached(self) -> int:
        return self.size - self.reached


def reached_q(project: ChangeProject) -> Q:
    """Whether a person has been reached by the project so far: an email sent, a confirmed booking or a visit
    to their personal page (the dashboard's meaning of "reached", without the team talk itself)."""
    emailed = Delivery.objects.filter(
        asset__project=project, asset__channel=Channel.EMAIL, status=Delivery.Status.SENT, employee=OuterRef("pk")
    )
    booked = Booking.objects.filter(
        session__meeting__project=project, status=Booking.Status.CONFIRMED, employee=OuterRef("pk")
    )
    visited = LandingToken.objects.filter(project=project, visited_at__isnull=False, employee=OuterRef("pk"))
    return Q(Exists(emailed)) | Q(Exists(booked)) | Q(Exists(visited))


def team_members(*, manager_ids) -> Q:
    """The direct reports who count in a team: active and never erased."""
    return Q(manager_employee_id__in=manager_ids, is_active=True, erased_at__isnull=True)


def team_lists(*, asset: Asset, manager_ids: list[int]) -> dict[int, TeamList]:
    """The teams of a batch of briefed managers: one set-based query for the whole batch."""
    project = asset.project
    people = Employee.objects.filter(team_members(manager_ids=manager_ids))
    lists: dict[int, TeamList] = {manager_id: TeamList() for manager_id in manager_ids}
    if project.tracking_mode != ChangeProject.TrackingMode.INDIVIDUAL:
        rows = (
            people.values("manager_employee_id")
            .annotate(size=Count("pk"), reached=Count("pk", filter=reached_q(project)))
            .order_by()
        )
        for row in rows:
            lists[row["manager_employee_id"]] = TeamList(size=row["size"], reached=row["reached"])
        return lists
    rows = (
        people.annotate(was_reached=reached_q(project))
        .order_by("manager_employee_id", *people_order())
        .values_list("manager_employee_id", "first_name", "last_name", "email", "was_reached")
    )
    for manager_id, first, last, email, was_reached in rows:
        team = lists[manager_id]
        team.size += 1
        team.reached += bool(was_reached)
        team.people.append((f"{first} {last}".strip() or email, bool(was_reached)))
    return lists


def talk_for_token(token: str) -> TeamTalk | None:
    """The team talk a briefing's link names, with its asset, project and manager, or None."""
    if not is_token(token):
        return None
    return (
        TeamTalk.objects.select_related("asset__project", "manager")
        .filter(token=token, manager__isnull=False, manager__erased_at__isnull=True)
        .exclude(asset__status=Asset.Status.CANCELLED)
        .first()
    )


@dataclass(frozen=True)
class TalkProgress:
    """One team talk asset's cascade for the change manager: counts and the managers who are late."""

    briefed: int
    held: int
    late: list[TeamTalk]
    due: object  # datetime.date | None

    @property
    def pct_held(self) -> int:
        return round(100 * self.held / self.briefed) if self.briefed else 0


LATE_SHOWN = 200


def talk_progress(*, asset: Asset, today) -> TalkProgress:
    """Briefed and held counts, and the late list (after the due date, not confirmed): two queries."""
    talks = TeamTalk.objects.filter(asset=asset, manager__isnull=False)
    counts = talks.aggregate(briefed=Count("pk"), held=Count("pk", filter=Q(confirmed_at__isnull=False)))
    due = asset.talk_due_on()
    late: list[TeamTalk] = []
    if due is not None and due < today:
        late = list(
            talks.filter(confirmed_at__isnull=True)
            .select_related("manager")
            .order_by(Alphabetical("manager__department").asc(), *people_order("manager__"))[:LATE_SHOWN]
        )
    return TalkProgress(briefed=counts["briefed"], held=counts["held"], late=late, due=due)


def skip_level(*, talk: TeamTalk) -> list[TeamTalk]:
    """Skip-level: the talks of the managers who report to this talk's manager, for the same asset (one query)."""
    return list(
        TeamTalk.objects.filter(asset_id=talk.asset_id, manager__manager_employee_id=talk.manager_id)
        .select_related("manager")
        .order_by(*people_order("manager__"), "pk")
    )


SHOWN_STATUSES = (Asset.Status.APPROVED, Asset.Status.SCHEDULED, Asset.Status.DONE)


def talk_handout(*, talk: TeamTalk):
    """The team talk's handout as a ready PDF (PrintRender) in the language the manager reads the project in
    when there is one, else in the project's primary language, else any; None without an approved handout
    or a finished render. One query."""
    asset = talk.asset
    if not asset.handout_id:
        return None
    renders = PrintRender.objects.filter(
        asset_id=asset.handout_id,
        asset__status__in=SHOWN_STATUSES,
        status=PrintRender.Status.DONE,
        site="",
        print_ready=False,
    ).exclude(pdf="")
    project = asset.project
    language = project.content_language(talk.manager.language if talk.manager else "")
    preference = Case(When(language=language, then=0), When(language=project.language, then=1), default=2)
    return renders.order_by(preference, "pk").select_related("asset").first()
