"""The organisation's change load: how many launch assets hit the same people in the same week.

Employees are one directory for the whole organisation while every project plans its own
campaign, so nobody sees that the workshop floor gets six emails and two meetings from three
projects in one week. This selector counts, per department and ISO week, the active employees
reached by more than a threshold of non-cancelled assets across all projects.

The number of queries does not depend on the number of employees: the assets in the window,
their audiences, and one grouped query over the directory that gives one row per department
and combination of audiences (each audience a boolean column, as in
`audiences.selectors.audience_sizes_and_overlaps`). Everything else is summed here from those
few rows. Counts only: no employee is ever named.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q
from django.utils import timezone

from audiences.models import Audience
from audiences.selectors import audience_flag, reachable_employees
from campaigns.models import Asset, Membership

# Members of this group (and staff users) may see the organisation-wide view.
CHANGE_MANAGERS_GROUP = "Change managers"
DEFAULT_THRESHOLD = 3
DEFAULT_WEEKS = 12
# Plan offsets beyond this many days from go-live are not looked for (a bound for the asset query).
MAX_OFFSET_DAYS = 400


def can_see_load(user) -> bool:
    """Staff users and change managers see the organisation's change load."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_staff or user.groups.filter(name=CHANGE_MANAGERS_GROUP).exists()


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of the ISO week of `day`."""
    return day - datetime.timedelta(days=day.weekday())


def iso_week(day: datetime.date) -> str:
    """ "2026-W49", as an <input type="week"> writes it."""
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class LoadAsset:
    """An asset inside the window, with the week it happens in and the audiences it goes to."""

    pk: int
    title: str
    channel: str
    channel_label: str
    project_id: int
    project_name: str
    project_slug: str
    week: datetime.date
    audiences: frozenset[int]


@dataclass
class Cell:
    """One department in one week: how many people are reached at all, and how many too often."""

    week: datetime.date
    targeted: int = 0
    overloaded: int = 0
    size: int = 0

    @property
    def iso(self) -> str:
        return iso_week(self.week)

    @property
    def share(self) -> float:
        return self.overloaded / self.size if self.size else 0.0

    @property
    def level(self) -> int:
        """0 nobody overloaded, 1 a few (under 10 %), 2 many (under a third), 3 most."""
        if not self.overloaded:
            return 0
        if self.share < 0.10:
            return 1
        if self.share < 1 / 3:
            return 2
        return 3


@dataclass
class Row:
    department: str
    size: int
    cells: list[Cell]


@dataclass
class Contribution:
    """An asset that reaches a department in the selected week, named only for its project's members."""

    asset: LoadAsset
    reached: int


@dataclass
class Detail:
    """What makes up one cell: assets of the viewer's projects by name, others only counted."""

    department: str
    week: datetime.date
    cell: Cell
    own: list[Contribution] = field(default_factory=list)
    other_assets: int = 0
    other_projects: int = 0


@dataclass
class OrganisationLoad:
    weeks: list[datetime.date]
    threshold: int
    rows: list[Row]
    asset_count: int
    detail: Detail | None = None


def _assets_in_window(start: datetime.date, end: datetime.date) -> list[LoadAsset]:
    """Non-cancelled assets with at least one audience that happen in [start, end), and their audiences."""
    bound = datetime.timedelta(days=MAX_OFFSET_DAYS)
    tz = timezone.get_current_timezone()
    first = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min), tz)
    last = timezone.make_aware(datetime.datetime.combine(end, datetime.time.min), tz)
    candidates = (
        Asset.objects.exclude(status=Asset.Status.CANCELLED)
        .filter(
            Q(fixed_at__gte=first, fixed_at__lt=last)
            | Q(fixed_at__isnull=True, project__go_live__range=(start - bound, end + bound))
        )
        .select_related("project")
        .only(
            "pk",
            "title",
            "channel",
            "offset_days",
            "local_time",
            "fixed_at",
            "project__name",
            "project__slug",
            "project__go_live",
        )
    )
    timed = []
    for asset in candidates:
        day = timezone.localtime(asset.scheduled_for(), tz).date()
        if start <= day < end:
            timed.append((asset, week_start(day)))
    if not timed:
        return []
    audiences: dict[int, set[int]] = defaultdict(set)
    through = Asset.audiences.through.objects.filter(asset_id__in=[a.pk for a, _ in timed])
    for asset_id, audience_id in through.values_list("asset_id", "audience_id"):
        audiences[asset_id].add(audience_id)
    return [
        LoadAsset(
            pk=asset.pk,
            title=asset.title,
            channel=asset.channel,
            channel_label=asset.get_channel_display(),
            project_id=asset.project_id,
            project_name=asset.project.name,
            project_slug=asset.project.slug,
            week=week,
            audiences=frozenset(audiences[asset.pk]),
        )
        for asset, week in timed
        if audiences[asset.pk]
    ]


def _groups(audience_ids: set[int]) -> list[tuple[str, frozenset[int], int]]:
    """(department, the audiences these people are in, how many people) for every active employee.

    One query: each audience is a boolean column and the database groups by department and the
    columns, so the answer has one row per department and combination, however many people.
    """
    audiences = list(Audience.objects.filter(pk__in=audience_ids).only("pk", "kind", "rules"))
    flags = {f"in_{a.pk}": audience_flag(a) for a in audiences}
    rows = reachable_employees().annotate(**flags).order_by().values("department", *flags).annotate(n=Count("pk"))
    return [(row["department"], frozenset(a.pk for a in audiences if row[f"in_{a.pk}"]), row["n"]) for row in rows]


def organisation_load(
    *,
    start: datetime.date,
    threshold: int = DEFAULT_THRESHOLD,
    weeks: int = DEFAULT_WEEKS,
    user: AbstractBaseUser | None = None,
    detail: tuple[str, datetime.date] | None = None,
) -> OrganisationLoad:
    """Per department and week from `start`: people reached by any asset, and by more than `threshold`.

    An employee counts once per asset however many of the asset's audiences they are in; inactive
    and erased employees and cancelled assets do not count. With `detail` (department, week), the
    assets behind that cell are listed: by name for projects `user` is a member of, counted otherwise.
    """
    start = week_start(start)
    week_list = [start + datetime.timedelta(weeks=i) for i in range(weeks)]
    end = start + datetime.timedelta(weeks=weeks)
    assets = _assets_in_window(start, end)
    by_week: dict[datetime.date, list[LoadAsset]] = defaultdict(list)
    for asset in assets:
        by_week[asset.week].append(asset)
    groups = _groups({pk for a in assets for pk in a.audiences}) if assets else _department_sizes()

    sizes: dict[str, int] = defaultdict(int)
    cells: dict[str, dict[datetime.date, Cell]] = defaultdict(dict)
    for department, inside, n in groups:
        sizes[department] += n
        row = cells[department]
        for week in week_list:
            cell = row.setdefault(week, Cell(week=week))
            hits = sum(1 for a in by_week.get(week, ()) if a.audiences & inside)
            if hits:
                cell.targeted += n
            if hits > threshold:
                cell.overloaded += n
    rows = []
    for department in sorted(sizes, key=lambda d: (d == "", d.lower())):
        row_cells = [cells[department][week] for week in week_list]
        for cell in row_cells:
            cell.size = sizes[department]
        rows.append(Row(department=department, size=sizes[department], cells=row_cells))

    result = OrganisationLoad(weeks=week_list, threshold=threshold, rows=rows, asset_count=len(assets))
    if detail and detail[1] in week_list and detail[0] in sizes:
        result.detail = _detail(detail, by_week.get(detail[1], []), groups, cells, user)
    return result


def _department_sizes() -> list[tuple[str, frozenset[int], int]]:
    rows = reachable_employees().order_by().values("department").annotate(n=Count("pk"))
    return [(row["department"], frozenset(), row["n"]) for row in rows]


def _detail(detail, assets: list[LoadAsset], groups, cells, user) -> Detail:
    department, week = detail
    mine = set()
    if user is not None and user.is_authenticated:
        mine = set(Membership.objects.filter(user=user).values_list("project_id", flat=True))
    result = Detail(department=department, week=week, cell=cells[department][week])
    others: set[int] = set()
    for asset in sorted(assets, key=lambda a: (a.project_name, a.title, a.pk)):
        reached = sum(n for d, inside, n in groups if d == department and asset.audiences & inside)
        if not reached:
            continue
        if asset.project_id in mine:
            result.own.append(Contribution(asset=asset, reached=reached))
        else:
            result.other_assets += 1
            others.add(asset.project_id)
    result.other_projects = len(others)
    return result
