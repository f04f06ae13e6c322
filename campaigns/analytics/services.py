# ruff: noqa: S608 - the raw SQL here is built from model table names; every value is a bound parameter.
"""Reach and readiness: the dashboard's rollups, how they are refreshed, and how they are read.

Writes
    analytics_refresh(*, project) -> DashboardRefresh
        Recomputes every figure of one project in one transaction, with a handful of set-based
        queries (GROUP BY, SUM(CASE …), COUNT) whatever the number of employees or deliveries,
        and stores them as DashboardFigure rows (changed rows updated in place, so a refresh of
        unchanged data writes nothing new) and DashboardDay running totals for the chart.
        The beat task `campaigns.tasks.dashboards_refresh_due` runs it for every active project
        every DASHBOARD_REFRESH_SECONDS (default 300): figures are at most that old, and the
        page says when they were computed. Editors can refresh at once.
    recommendation_create(*, project, audience, stage, by) -> Asset
        The recommended next step for an audience stuck at `stage`, added to the plan as a draft.

Reads (only rollup rows, a fixed number of queries whatever the number of recipients)
    dashboard(*, project) -> Dashboard
        Everything the dashboard (and the exports) show, already filtered by the project's
        tracking mode and anonymity threshold:

        Dashboard.refreshed_at    datetime | None (None: never computed)
        Dashboard.mode            "individual" | "anonymous" | "aggregate"
        Dashboard.threshold       the anonymity threshold (readiness cells with fewer answers are hidden)
        Dashboard.days_to_go_live int (negative after go-live)
        Dashboard.overall         Row for everyone targeted (audience None)
        Dashboard.audiences       [Row] one per audience (empty in aggregate mode)
        Dashboard.sites           [SiteRow] coverage per employee site (empty in aggregate mode)
        Dashboard.assets          [AssetRow] per asset: recipients, sent, failed, opens, clicks,
                                  openers/clickers (individual mode), QR scans, meeting seats and
                                  bookings, film plays (uploaded films; None: not measured)
        Dashboard.series          [SeriesDay] the last 42 days: per SERIES_METRICS, `values` (new that
                                  day) and `totals` (running total at the end of the day)
        Dashboard.reactions       {"right"|"partly"|"wrong": n} answers of this pulse round
        Dashboard.questions       {"open", "answered", "published": n, "newest_open": [Question]}

        Row: audience, name, reach (Reach: targeted, reached_once, reached_twice, pct_once, pct_twice),
             funnel ([FunnelStep: key, label, people, pct]), events ({"opens", "clicks", "visits"}:
             counted events, not people), readiness ([Cell: stage, label, average, answers,
             hidden, level]), barrier (Cell | None), recommendation (Recommendation | None).
    not_reached(*, project, audience) -> QuerySet[Employee]
        Members of `audience` not reached yet (individual mode only; callers must check).

"Reached" means at least one email delivered (sent) to the person, a confirmed meeting booking,
or a visit to their personal landing page (in individual mode the visit itself; in every mode a
pulse answer given through the personal link proves one). "Twice" counts each email, each
booking and the page (once) as one contact each.
"""

import datetime
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audiences.models import Audience, Employee
from audiences.selectors import audience_flag, audience_members, reachable_employees
from campaigns.models import (
    Asset,
    Booking,
    ChangeProject,
    Channel,
    DashboardDay,
    DashboardFigure,
    DashboardRefresh,
    Delivery,
    EngagementCounter,
    LandingCounter,
    LandingToken,
    MeetingSession,
    PulseResponse,
    Question,
    SenderKind,
    Stage,
)
from campaigns.plan import services as plan

logger = logging.getLogger(__name__)

STAGES = tuple(Stage.values)
Mode = ChangeProject.TrackingMode
Scope = DashboardFigure.Scope

# Per-person facts counted for every audience, every site and the project as a whole.
PEOPLE_METRICS = (
    "targeted",
    "reached_1",
    "reached_2",
    "delivered",
    "opened",
    "clicked",
    "visited",
    "answered",
    "booked",
)
# Engagement counted as events (per audience through which people were reached): not people.
EVENT_METRICS = ("open_events", "click_events", "visit_events")
# The chart's lines: running totals per day.
SERIES_METRICS = ("sent", "opens", "visits", "answers", "bookings", "questions")
SERIES_LABELS = {
    "sent": gettext_lazy("Emails delivered"),
    "opens": gettext_lazy("Email opens"),
    "visits": gettext_lazy("Page visits"),
    "answers": gettext_lazy("Pulse answers"),
    "bookings": gettext_lazy("Meeting bookings"),
    "questions": gettext_lazy("Questions"),
}
# An average at or below this is a stage people are stuck at.
BARRIER_AT = 3.0


# Writing the rollups


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model) -> str:
    return _q(model._meta.db_table)


def _members_sql(audiences: list[Audience]) -> tuple[str, list]:
    """SQL of the project's targeted employees (members of any audience) with one flag per audience."""
    flags = {f"a{i}": audience_flag(a) for i, a in enumerate(audiences)}
    anyone = Q()
    for name in flags:
        anyone |= Q(**{name: True})
    members = reachable_employees().annotate(**flags).filter(anyone).order_by().values("id", "site", *flags)
    sql, params = members.query.sql_with_params()
    return sql, list(params)


def _person_sql(project: ChangeProject) -> tuple[str, list]:
    """SQL of one row per employee with what happened to them in this project (set-based, no loop)."""
    delivery, asset, booking, session = _table(Delivery), _table(Asset), _table(Booking), _table(MeetingSession)
    token, pulse = _table(LandingToken), _table(PulseResponse)
    parts = [
        f"""SELECT d.employee_id AS employee_id, COUNT(*) AS sent, COUNT(d.opened_at) AS opened,
                COUNT(d.clicked_at) AS clicked, 0 AS visited, 0 AS answered, 0 AS booked
            FROM {delivery} d INNER JOIN {asset} a ON a.id = d.asset_id
            WHERE a.project_id = %s AND d.status = %s AND d.employee_id IS NOT NULL
            GROUP BY d.employee_id""",
        # A pulse answer through the personal link proves a visit (in every mode).
        f"""SELECT p.employee_id, 0, 0, 0, 1, MAX(CASE WHEN p.round = %s THEN 1 ELSE 0 END), 0
            FROM {pulse} p WHERE p.project_id = %s AND p.employee_id IS NOT NULL
            GROUP BY p.employee_id""",
        f"""SELECT b.employee_id, 0, 0, 0, 0, 0, COUNT(*)
            FROM {booking} b INNER JOIN {session} s ON s.id = b.session_id INNER JOIN {asset} m ON m.id = s.meeting_id
            WHERE m.project_id = %s AND b.status = %s AND b.employee_id IS NOT NULL
            GROUP BY b.employee_id""",
    ]
    params = [project.pk, Delivery.Status.SENT, project.pulse_round, project.pk, project.pk, Booking.Status.CONFIRMED]
    if project.tracking_mode == Mode.INDIVIDUAL:
        parts.append(
            f"""SELECT t.employee_id, 0, 0, 0, 1, 0, 0 FROM {token} t
                WHERE t.project_id = %s AND t.visited_at IS NOT NULL"""
        )
        params.append(project.pk)
    union = " UNION ALL ".join(f"SELECT * FROM ({part}) AS part{i}" for i, part in enumerate(parts))
    sql = f"""SELECT employee_id, SUM(sent) AS sent, SUM(opened) AS opened, SUM(clicked) AS clicked,
                MAX(visited) AS visited, MAX(answered) AS answered, SUM(booked) AS booked
              FROM ({union}) AS facts GROUP BY employee_id"""
    return sql, params


_CONDITIONS = {
    "targeted": "1 = 1",
    "reached_1": "x.touches >= 1",
    "reached_2": "x.touches >= 2",
    "delivered": "x.sent > 0",
    "opened": "x.opened > 0",
    "clicked": "x.clicked > 0",
    "visited": "x.visited > 0",
    "answered": "x.answered > 0",
    "booked": "x.booked > 0",
}


def _people_figures(project: ChangeProject, audiences: list[Audience], per_group: bool) -> dict[tuple, int]:
    """Per-person facts summed per site × (everyone and each audience): one query."""
    if not audiences:
        return {}
    members_sql, members_params = _members_sql(audiences)
    person_sql, person_params = _person_sql(project)
    groups = [("all", "1 = 1")] + ([(f"a{i}", f"x.a{i}") for i in range(len(audiences))] if per_group else [])
    columns, names = [], []
    for group, flag in groups:
        for metric, condition in _CONDITIONS.items():
            columns.append(f"SUM(CASE WHEN ({flag}) AND ({condition}) THEN 1 ELSE 0 END)")
            names.append((group, metric))
    flags = "".join(f", m.a{i}" for i in range(len(audiences)))
    sql = f"""
        SELECT x.site, {", ".join(columns)}
        FROM (
            SELECT m.site{flags},
                COALESCE(p.sent, 0) AS sent, COALESCE(p.opened, 0) AS opened, COALESCE(p.clicked, 0) AS clicked,
                COALESCE(p.visited, 0) AS visited, COALESCE(p.answered, 0) AS answered,
                COALESCE(p.booked, 0) AS booked,
                COALESCE(p.sent, 0) + COALESCE(p.booked, 0) + COALESCE(p.visited, 0) AS touches
            FROM ({members_sql}) AS m LEFT JOIN ({person_sql}) AS p ON p.employee_id = m.id
        ) AS x
        GROUP BY x.site"""
    figures: dict[tuple, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, members_params + person_params)
        rows = cursor.fetchall()
    by_index = {f"a{i}": a.pk for i, a in enumerate(audiences)}
    for site, *values in rows:
        for (group, metric), value in zip(names, values, strict=True):
            value = int(value or 0)
            if group == "all":
                _add(figures, (Scope.PROJECT, metric, None, "", None, ""), value)
                if per_group:
                    _add(figures, (Scope.SITE, metric, None, site or "", None, ""), value)
            else:
                _add(figures, (Scope.AUDIENCE, metric, by_index[group], "", None, ""), value)
    return figures


def _add(figures: dict, key: tuple, value: int) -> None:
    figures[key] = figures.get(key, 0) + value


def _readiness_figures(project: ChangeProject, audiences: list[Audience], per_group: bool) -> dict[tuple, int]:
    """Sum and number of answers per ADKAR stage: for everyone, and per audience by membership
    (answers without a person count in the audience they came through). Three queries."""
    figures: dict[tuple, int] = {}
    answers = PulseResponse.objects.filter(project=project, round=project.pulse_round)
    totals = answers.aggregate(**{f"s_{s}": Sum(s) for s in STAGES}, **{f"n_{s}": Count(s) for s in STAGES})
    for stage in STAGES:
        figures[(Scope.READINESS, "sum", None, "", None, stage)] = int(totals[f"s_{stage}"] or 0)
        figures[(Scope.READINESS, "answers", None, "", None, stage)] = int(totals[f"n_{stage}"] or 0)
    reactions = answers.exclude(reaction="").values_list("reaction").annotate(n=Count("pk")).order_by()
    for reaction, n in reactions:
        figures[(Scope.PROJECT, f"reaction_{reaction}", None, "", None, "")] = n
    if not per_group or not audiences:
        return figures
    for audience in audiences:
        for stage in STAGES:
            figures[(Scope.READINESS, "sum", audience.pk, "", None, stage)] = 0
            figures[(Scope.READINESS, "answers", audience.pk, "", None, stage)] = 0
    members_sql, members_params = _members_sql(audiences)
    columns, names = [], []
    for i, audience in enumerate(audiences):
        for stage in STAGES:
            column = _q(stage)
            columns.append(f"SUM(CASE WHEN m.a{i} AND p.{column} IS NOT NULL THEN p.{column} ELSE 0 END)")
            columns.append(f"SUM(CASE WHEN m.a{i} AND p.{column} IS NOT NULL THEN 1 ELSE 0 END)")
            names += [(audience.pk, "sum", stage), (audience.pk, "answers", stage)]
    sql = f"""SELECT {", ".join(columns)} FROM {_table(PulseResponse)} p
              INNER JOIN ({members_sql}) AS m ON m.id = p.employee_id
              WHERE p.project_id = %s AND p.round = %s"""
    with connection.cursor() as cursor:
        cursor.execute(sql, members_params + [project.pk, project.pulse_round])
        row = cursor.fetchone()
    for (audience_id, metric, stage), value in zip(names, row or (), strict=False):
        figures[(Scope.READINESS, metric, audience_id, "", None, stage)] += int(value or 0)
    known = {a.pk for a in audiences}
    unnamed = (
        answers.filter(employee__isnull=True, audience__isnull=False)
        .values("audience_id")
        .annotate(**{f"s_{s}": Sum(s) for s in STAGES}, **{f"n_{s}": Count(s) for s in STAGES})
        .order_by()
    )
    for row in unnamed:
        if row["audience_id"] not in known:
            continue
        for stage in STAGES:
            figures[(Scope.READINESS, "sum", row["audience_id"], "", None, stage)] += int(row[f"s_{stage}"] or 0)
            figures[(Scope.READINESS, "answers", row["audience_id"], "", None, stage)] += int(row[f"n_{stage}"] or 0)
    return figures


def _event_figures(project: ChangeProject, audience_ids: set[int], per_group: bool) -> dict[tuple, int]:
    """Counted opens, clicks, visits and scans, per asset and per audience: three small queries."""
    figures: dict[tuple, int] = {}

    def put(key: tuple, value: int) -> None:
        _add(figures, key, int(value or 0))

    for metric in EVENT_METRICS:
        put((Scope.PROJECT, metric, None, "", None, ""), 0)
    counters = EngagementCounter.objects.filter(asset__project=project).values_list(
        "asset_id", "audience_id", "opens", "clicks"
    )
    for asset_id, audience_id, opens, clicks in counters:
        put((Scope.ASSET, "open_events", None, "", asset_id, ""), opens)
        put((Scope.ASSET, "click_events", None, "", asset_id, ""), clicks)
        put((Scope.PROJECT, "open_events", None, "", None, ""), opens)
        put((Scope.PROJECT, "click_events", None, "", None, ""), clicks)
        if per_group and audience_id in audience_ids:
            put((Scope.AUDIENCE, "open_events", audience_id, "", None, ""), opens)
            put((Scope.AUDIENCE, "click_events", audience_id, "", None, ""), clicks)
    landing = LandingCounter.objects.filter(project=project).values_list("kind", "source_id", "audience_id", "count")
    for kind, source_id, audience_id, count in landing:
        if kind == LandingCounter.Kind.SCAN:
            put((Scope.PROJECT, "scan_events", None, "", None, ""), count)
            if source_id:
                put((Scope.ASSET, "scan_events", None, "", source_id, ""), count)
            continue
        if kind == LandingCounter.Kind.PLAY:
            if source_id:
                put((Scope.ASSET, "play_events", None, "", source_id, ""), count)
            continue
        put((Scope.PROJECT, "visit_events", None, "", None, ""), count)
        if per_group and audience_id in audience_ids:
            put((Scope.AUDIENCE, "visit_events", audience_id, "", None, ""), count)
    return figures


def _asset_figures(project: ChangeProject) -> dict[tuple, int]:
    """Per email: recipients by status and unique openers; per meeting: sessions, seats, bookings."""
    figures: dict[tuple, int] = {}
    deliveries = (
        Delivery.objects.filter(asset__project=project)
        .values_list("asset_id", "status")
        .annotate(n=Count("pk"), opened=Count("opened_at"), clicked=Count("clicked_at"))
        .order_by()
    )
    for asset_id, status, n, opened, clicked in deliveries:
        _add(figures, (Scope.ASSET, "recipients", None, "", asset_id, ""), n)
        if status in (Delivery.Status.SENT, Delivery.Status.FAILED):
            _add(figures, (Scope.ASSET, status, None, "", asset_id, ""), n)
        if project.tracking_mode == Mode.INDIVIDUAL:
            _add(figures, (Scope.ASSET, "openers", None, "", asset_id, ""), opened)
            _add(figures, (Scope.ASSET, "clickers", None, "", asset_id, ""), clicked)
    sessions = (
        MeetingSession.objects.filter(meeting__project=project)
        .values_list("meeting_id")
        .annotate(n=Count("pk"), seats=Sum("capacity"))
        .order_by()
    )
    for meeting_id, n, seats in sessions:
        figures[(Scope.ASSET, "sessions", None, "", meeting_id, "")] = n
        figures[(Scope.ASSET, "seats", None, "", meeting_id, "")] = int(seats or 0)
    booked = (
        Booking.objects.filter(session__meeting__project=project, status=Booking.Status.CONFIRMED)
        .values_list("session__meeting_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for meeting_id, n in booked:
        figures[(Scope.ASSET, "booked", None, "", meeting_id, "")] = n
    return figures


def _daily_totals(project: ChangeProject, today: datetime.date, events: dict[tuple, int]) -> dict[tuple, int]:
    """Running totals per day: from timestamps where rows have them, today's counter values otherwise."""
    tz = timezone.get_current_timezone()
    per_day: dict[str, dict[datetime.date, int]] = {}

    def by_day(metric: str, queryset: QuerySet, stamp: str) -> None:
        rows = (
            queryset.filter(**{f"{stamp}__isnull": False})
            .annotate(day=TruncDate(stamp, tzinfo=tz))
            .values_list("day")
            .annotate(n=Count("pk"))
            .order_by()
        )
        per_day[metric] = {day: n for day, n in rows if day is not None}

    by_day("sent", Delivery.objects.filter(asset__project=project, status=Delivery.Status.SENT), "sent_at")
    by_day(
        "bookings",
        Booking.objects.filter(session__meeting__project=project, status=Booking.Status.CONFIRMED),
        "confirmed_at",
    )
    by_day("answers", PulseResponse.objects.filter(project=project, round=project.pulse_round), "created_at")
    by_day("questions", Question.objects.filter(project=project), "created_at")
    totals: dict[tuple, int] = {}
    for metric, days in per_day.items():
        running = 0
        for day in sorted(days):
            running += days[day]
            totals[(day, metric)] = running
    # Counters have no time of their own: today's value is recorded, earlier days keep theirs.
    totals[(today, "opens")] = events.get((Scope.PROJECT, "open_events", None, "", None, ""), 0)
    totals[(today, "visits")] = events.get((Scope.PROJECT, "visit_events", None, "", None, ""), 0)
    return totals


def _apply_figures(project: ChangeProject, figures: dict[tuple, int]) -> None:
    existing = {
        (f.scope, f.metric, f.audience_id, f.site, f.asset_id, f.stage): f
        for f in DashboardFigure.objects.filter(project=project)
    }
    create, update = [], []
    for key, value in figures.items():
        row = existing.pop(key, None)
        if row is None:
            scope, metric, audience_id, site, asset_id, stage = key
            create.append(
                DashboardFigure(
                    project=project,
                    scope=scope,
                    metric=metric,
                    audience_id=audience_id,
                    site=site,
                    asset_id=asset_id,
                    stage=stage,
                    value=value,
                )
            )
        elif row.value != value:
            row.value = value
            update.append(row)
    if existing:
        DashboardFigure.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()
    DashboardFigure.objects.bulk_update(update, ["value"], batch_size=500)
    DashboardFigure.objects.bulk_create(create, batch_size=500)


def _apply_days(project: ChangeProject, totals: dict[tuple, int], today: datetime.date) -> None:
    existing = {(d.day, d.metric): d for d in DashboardDay.objects.filter(project=project)}
    create, update = [], []
    for (day, metric), total in totals.items():
        row = existing.pop((day, metric), None)
        if row is None:
            create.append(DashboardDay(project=project, day=day, metric=metric, total=total))
        elif row.total != total:
            row.total = total
            update.append(row)
    # Timestamped metrics are recomputed whole; counter snapshots of earlier days are history.
    stale = [row.pk for (day, metric), row in existing.items() if metric not in ("opens", "visits") or day > today]
    if stale:
        DashboardDay.objects.filter(pk__in=stale).delete()
    DashboardDay.objects.bulk_update(update, ["total"], batch_size=500)
    DashboardDay.objects.bulk_create(create, batch_size=500)


def analytics_refresh(*, project: ChangeProject) -> DashboardRefresh:
    """Recompute the project's dashboard figures in one transaction.

    Refreshes of one project queue behind each other on the DashboardRefresh row lock; figures
    that did not change are not written again.
    """
    started = time.monotonic()
    DashboardRefresh.objects.get_or_create(project=project)
    with transaction.atomic():
        state = DashboardRefresh.objects.select_for_update().get(project=project)
        project = ChangeProject.objects.get(pk=project.pk)
        per_group = project.tracking_mode != Mode.AGGREGATE
        audiences = list(project.audiences.order_by("pk"))
        figures: dict[tuple, int] = {}
        figures.update(_people_figures(project, audiences, per_group))
        if not audiences:
            for metric in PEOPLE_METRICS:
                figures[(Scope.PROJECT, metric, None, "", None, "")] = 0
        events = _event_figures(project, {a.pk for a in audiences}, per_group)
        figures.update(events)
        figures.update(_asset_figures(project))
        figures.update(_readiness_figures(project, audiences, per_group))
        _apply_figures(project, figures)
        today = timezone.localdate()
        _apply_days(project, _daily_totals(project, today, events), today)
        state.refreshed_at = timezone.now()
        state.duration_ms = int((time.monotonic() - started) * 1000)
        state.tracking_mode = project.tracking_mode
        state.save()
    logger.info("dashboard of project %s refreshed in %s ms", project.pk, state.duration_ms)
    return state


def projects_due_for_refresh(*, now: datetime.datetime | None = None) -> QuerySet[ChangeProject]:
    """Projects whose figures may have moved: not closed, or closed within the last 30 days,
    and not refreshed within DASHBOARD_REFRESH_SECONDS."""
    now = now or timezone.now()
    every = getattr(settings, "DASHBOARD_REFRESH_SECONDS", 300)
    fresh = Q(dashboard_refresh__refreshed_at__gt=now - datetime.timedelta(seconds=every * 0.9))
    recent = Q(updated_at__gt=now - datetime.timedelta(days=30))
    return ChangeProject.objects.filter(~Q(status=ChangeProject.Status.CLOSED) | recent).exclude(fresh)


# Reading the rollups


@dataclass(frozen=True)
class Reach:
    targeted: int
    reached_once: int
    reached_twice: int

    @property
    def pct_once(self) -> int:
        return _pct(self.reached_once, self.targeted)

    @property
    def pct_twice(self) -> int:
        return _pct(self.reached_twice, self.targeted)


def _pct(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


@dataclass(frozen=True)
class FunnelStep:
    key: str
    label: str
    people: int
    pct: int


@dataclass(frozen=True)
class Cell:
    stage: str
    label: str
    average: float | None
    answers: int
    hidden: bool

    @property
    def level(self) -> str:
        """A colour band for the heatmap; the number is always printed beside it."""
        if self.hidden or self.average is None:
            return "none"
        if self.average <= 2.0:
            return "1"
        if self.average <= BARRIER_AT:
            return "2"
        if self.average < 4.0:
            return "3"
        return "4"


@dataclass(frozen=True)
class Recommendation:
    stage: str
    channel: str
    step: str
    title: str


@dataclass
class Row:
    audience: Audience | None
    name: str
    reach: Reach
    funnel: list[FunnelStep]
    events: dict[str, int]
    readiness: list[Cell]
    answers: int = 0
    barrier: Cell | None = None
    recommendation: Recommendation | None = None


@dataclass(frozen=True)
class SiteRow:
    site: str
    reach: Reach
    # In anonymous mode, sites with fewer targeted people than the anonymity threshold are
    # counted together in one row (this many sites), so that nobody can be told apart.
    small_sites: int = 0
    threshold: int = 0

    @property
    def name(self) -> str:
        if self.small_sites:
            return _("%(n)s smaller sites (fewer than %(threshold)s people each)") % {
                "n": self.small_sites,
                "threshold": self.threshold,
            }
        return self.site or _("No site")


@dataclass(frozen=True)
class AssetRow:
    asset: Asset
    recipients: int
    sent: int
    failed: int
    opens: int
    clicks: int
    openers: int | None
    clickers: int | None
    scans: int | None
    sessions: int | None
    seats: int | None
    booked: int | None
    plays: int | None  # None: not measured (not a film, or a film linked on a video service)

    @property
    def fill_pct(self) -> int | None:
        return _pct(self.booked or 0, self.seats) if self.seats else None

    @property
    def open_rate(self) -> int | None:
        return _pct(self.openers, self.sent) if self.openers is not None and self.sent else None


@dataclass(frozen=True)
class SeriesDay:
    day: datetime.date
    values: dict[str, int]  # new that day
    totals: dict[str, int]  # running total at the end of the day


@dataclass
class Dashboard:
    project: ChangeProject
    refreshed_at: datetime.datetime | None
    mode: str
    threshold: int
    days_to_go_live: int
    overall: Row
    audiences: list[Row] = field(default_factory=list)
    sites: list[SiteRow] = field(default_factory=list)
    assets: list[AssetRow] = field(default_factory=list)
    series: list[SeriesDay] = field(default_factory=list)
    reactions: dict[str, int] = field(default_factory=dict)
    questions: dict = field(default_factory=dict)

    @property
    def series_metrics(self) -> list[tuple[str, str]]:
        return [(m, str(SERIES_LABELS[m])) for m in SERIES_METRICS]

    @property
    def barriers(self) -> list[Row]:
        """The audiences (or, in aggregate mode, everyone) held back at a stage, earliest stage first."""
        rows = self.audiences if self.mode != Mode.AGGREGATE else [self.overall]
        stuck = [row for row in rows if row.barrier]
        return sorted(stuck, key=lambda row: (STAGES.index(row.barrier.stage), row.barrier.average))

    @property
    def people_tracked(self) -> bool:
        """Opens and page visits are known per person (individual mode), not only counted."""
        return self.mode == Mode.INDIVIDUAL


STEP_LABELS = {
    "targeted": gettext_lazy("Targeted"),
    "delivered": gettext_lazy("Email delivered"),
    "opened": gettext_lazy("Opened an email"),
    "visited": gettext_lazy("Visited the page"),
    "answered": gettext_lazy("Answered the pulse"),
    "booked": gettext_lazy("Booked a meeting"),
}


def recommendation_for(stage: str, *, project: ChangeProject, audience_name: str) -> Recommendation:
    """The next step for people stuck at `stage`, and the asset that carries it."""
    names = {"audience": audience_name, "project": project.name, "sponsor": project.sponsor_name or _("the sponsor")}
    options = {
        Stage.AWARENESS: (
            Channel.EMAIL,
            _("A why message from the sponsor"),
            _("Why we are doing this – %(sponsor)s to %(audience)s"),
        ),
        Stage.DESIRE: (
            Channel.MEETING,
            _("A meeting with the nearest manager"),
            _("Talk it through with your manager – %(audience)s"),
        ),
        Stage.KNOWLEDGE: (
            Channel.HANDOUT,
            _("A how-to handout or film"),
            _("How to: %(project)s step by step – %(audience)s"),
        ),
        Stage.ABILITY: (Channel.MEETING, _("A training session"), _("Training session: %(project)s – %(audience)s")),
        Stage.REINFORCEMENT: (
            Channel.EMAIL,
            _("A success story"),
            _("Success story: %(project)s in practice – %(audience)s"),
        ),
    }
    channel, step, title = options[Stage(stage)]
    return Recommendation(stage=stage, channel=channel, step=str(step), title=(title % names)[:200])


def _cells(values: dict[tuple, int], audience_id: int | None, threshold: int) -> list[Cell]:
    cells = []
    for stage in STAGES:
        n = values.get((Scope.READINESS, "answers", audience_id, "", None, stage), 0)
        total = values.get((Scope.READINESS, "sum", audience_id, "", None, stage), 0)
        hidden = n < threshold
        average = None if hidden or not n else round(total / n, 1)
        cells.append(Cell(stage=stage, label=str(Stage(stage).label), average=average, answers=n, hidden=hidden))
    return cells


def _barrier(cells: list[Cell]) -> Cell | None:
    """The first ADKAR stage whose (visible) average is at or below 3."""
    return next((c for c in cells if c.average is not None and c.average <= BARRIER_AT), None)


def _row(values: dict[tuple, int], *, scope: str, audience: Audience | None, name: str, mode: str, project, threshold):
    key_id = audience.pk if audience else None

    def get(metric: str) -> int:
        return values.get((scope, metric, key_id, "", None, ""), 0)

    targeted = get("targeted")
    steps = ["targeted", "delivered"]
    if mode == Mode.INDIVIDUAL:
        steps += ["opened", "visited"]
    steps += ["answered", "booked"]
    funnel = [FunnelStep(key=s, label=str(STEP_LABELS[s]), people=get(s), pct=_pct(get(s), targeted)) for s in steps]
    readiness = _cells(values, key_id, threshold)
    row = Row(
        audience=audience,
        name=name,
        reach=Reach(targeted=targeted, reached_once=get("reached_1"), reached_twice=get("reached_2")),
        funnel=funnel,
        events={"opens": get("open_events"), "clicks": get("click_events"), "visits": get("visit_events")},
        readiness=readiness,
        answers=max((c.answers for c in readiness), default=0),
    )
    row.barrier = _barrier(readiness)
    if row.barrier:
        row.recommendation = recommendation_for(row.barrier.stage, project=project, audience_name=name)
    return row


def _site_rows(values: dict, *, mode: str, threshold: int) -> list[SiteRow]:
    rows = []
    for site in sorted({key[3] for key in values if key[0] == Scope.SITE}):
        reach = Reach(
            targeted=values.get((Scope.SITE, "targeted", None, site, None, ""), 0),
            reached_once=values.get((Scope.SITE, "reached_1", None, site, None, ""), 0),
            reached_twice=values.get((Scope.SITE, "reached_2", None, site, None, ""), 0),
        )
        rows.append(SiteRow(site=site, reach=reach))
    if mode != Mode.ANONYMOUS:
        return rows
    small = [row for row in rows if row.reach.targeted < threshold]
    if not small:
        return rows
    merged = Reach(
        targeted=sum(row.reach.targeted for row in small),
        reached_once=sum(row.reach.reached_once for row in small),
        reached_twice=sum(row.reach.reached_twice for row in small),
    )
    rows = [row for row in rows if row.reach.targeted >= threshold]
    # One small site alone would still be one small group: it is left out, not shown merged.
    if len(small) > 1 and merged.targeted >= threshold:
        rows.append(SiteRow(site="", reach=merged, small_sites=len(small), threshold=threshold))
    return rows


def dashboard(*, project: ChangeProject) -> Dashboard:
    """The project's dashboard from its rollups: six queries, whatever the number of recipients."""
    state = DashboardRefresh.objects.filter(project=project).first()
    mode, threshold = project.tracking_mode, max(project.anonymity_threshold, 2)
    values = {
        (f.scope, f.metric, f.audience_id, f.site, f.asset_id, f.stage): f.value
        for f in DashboardFigure.objects.filter(project=project)
    }
    everyone = _("Everyone targeted")
    overall = _row(
        values, scope=Scope.PROJECT, audience=None, name=everyone, mode=mode, project=project, threshold=threshold
    )
    # The overall readiness row is every answer of the round, general link included.
    board = Dashboard(
        project=project,
        refreshed_at=state.refreshed_at if state else None,
        mode=mode,
        threshold=threshold,
        days_to_go_live=project.days_to_go_live(),
        overall=overall,
    )
    audiences = list(project.audiences.order_by("name"))
    if mode != Mode.AGGREGATE:
        board.audiences = [
            _row(values, scope=Scope.AUDIENCE, audience=a, name=a.name, mode=mode, project=project, threshold=threshold)
            for a in audiences
        ]
        board.sites = _site_rows(values, mode=mode, threshold=threshold)
    board.assets = _asset_rows(project, values, mode)
    board.series = _series(project)
    board.reactions = {
        r: values.get((Scope.PROJECT, f"reaction_{r}", None, "", None, ""), 0) for r in PulseResponse.Reaction.values
    }
    board.questions = question_summary(project=project)
    return board


def dashboard_computed(*, project: ChangeProject) -> Dashboard:
    """`dashboard`, after a first refresh when the project's figures were never computed
    (its very first view or export shows figures at once, not after the next beat)."""
    board = dashboard(project=project)
    if board.refreshed_at is None:
        analytics_refresh(project=project)
        board = dashboard(project=project)
    return board


def _asset_rows(project: ChangeProject, values: dict[tuple, int], mode: str) -> list[AssetRow]:
    rows = []
    assets = project.assets.exclude(status=Asset.Status.CANCELLED).exclude(channel=Channel.NEWS)
    for asset in assets.order_by(F("offset_days").asc(nulls_last=True), "pk"):

        def get(metric: str, asset_id: int = asset.pk) -> int:
            return values.get((Scope.ASSET, metric, None, "", asset_id, ""), 0)

        email, meeting = asset.channel == Channel.EMAIL, asset.channel == Channel.MEETING
        rows.append(
            AssetRow(
                asset=asset,
                recipients=get("recipients"),
                sent=get("sent"),
                failed=get("failed"),
                opens=get("open_events"),
                clicks=get("click_events"),
                openers=get("openers") if email and mode == Mode.INDIVIDUAL else None,
                clickers=get("clickers") if email and mode == Mode.INDIVIDUAL else None,
                scans=get("scan_events") if asset.is_print else None,
                sessions=get("sessions") if meeting else None,
                seats=get("seats") if meeting else None,
                booked=get("booked") if meeting else None,
                # Plays are counted for uploaded films only; a link plays on the video service.
                plays=get("play_events") if asset.channel == Channel.FILM and asset.video else None,
            )
        )
    return rows


def _series(project: ChangeProject, days: int = 42) -> list[SeriesDay]:
    """New events per day over the last `days` days (up to today), from the running totals."""
    today = timezone.localdate()
    start = today - datetime.timedelta(days=days - 1)
    rows = DashboardDay.objects.filter(project=project).order_by("day").values_list("day", "metric", "total")
    latest: dict[str, int] = dict.fromkeys(SERIES_METRICS, 0)
    by_day: dict[datetime.date, dict[str, int]] = {}
    before: dict[str, int] = dict.fromkeys(SERIES_METRICS, 0)
    for day, metric, total in rows:
        if metric not in latest:
            continue
        if day < start:
            before[metric] = total
            continue
        by_day.setdefault(day, {})[metric] = total
    latest.update(before)
    series = []
    for offset in range(days):
        day = start + datetime.timedelta(days=offset)
        totals = by_day.get(day, {})
        values = {}
        for metric in SERIES_METRICS:
            total = totals.get(metric, latest[metric])
            values[metric] = max(total - latest[metric], 0)
            latest[metric] = total
        series.append(SeriesDay(day=day, values=values, totals=dict(latest)))
    return series


def question_summary(*, project: ChangeProject, newest: int = 5) -> dict:
    """Open, answered-not-published and published questions, and the newest open ones: two queries."""
    counts = Question.objects.filter(project=project).aggregate(
        open=Count("pk", filter=Q(answer="")),
        answered=Count("pk", filter=~Q(answer="") & Q(is_published=False)),
        published=Count("pk", filter=Q(is_published=True)),
    )
    counts["newest_open"] = list(
        Question.objects.filter(project=project, answer="").order_by("-created_at", "-id")[:newest]
    )
    return counts


def not_reached(*, project: ChangeProject, audience: Audience) -> QuerySet[Employee]:
    """Members of `audience` nobody has reached yet (the same rule as the rollups), by name.

    Live, not a rollup: it is a drill-down for individual tracking; callers check the mode.
    """
    sent = Delivery.objects.filter(asset__project=project, status=Delivery.Status.SENT, employee=OuterRef("pk"))
    booked = Booking.objects.filter(
        session__meeting__project=project, status=Booking.Status.CONFIRMED, employee=OuterRef("pk")
    )
    visited = LandingToken.objects.filter(project=project, visited_at__isnull=False, employee=OuterRef("pk"))
    answered = PulseResponse.objects.filter(project=project, employee=OuterRef("pk"))
    return (
        audience_members(audience=audience)
        .filter(~Exists(sent), ~Exists(booked), ~Exists(visited), ~Exists(answered))
        .order_by("last_name", "first_name", "pk")
    )


# The one-click next step


def _workday(day: datetime.date) -> datetime.date:
    return day + datetime.timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def recommendation_create(*, project: ChangeProject, audience: Audience | None, stage: str, by) -> Asset:
    """Add the recommended asset for people stuck at `stage` to the plan, as a draft a few
    workdays ahead. Without an audience (aggregate mode) it goes to every audience that is not a
    cross-functional group."""
    name = audience.name if audience else _("Everyone targeted")
    recommendation = recommendation_for(stage, project=project, audience_name=name)
    when = _workday(timezone.localdate() + datetime.timedelta(days=3))
    fields = {
        "channel": recommendation.channel,
        "stage": stage,
        "title": recommendation.title,
        "offset_days": (when - project.go_live).days,
        "body": format_html(
            "<p>{}</p>",
            _("Suggested by the dashboard: %(step)s for %(audience)s.")
            % {"step": recommendation.step, "audience": name},
        ),
    }
    if recommendation.channel == Channel.EMAIL:
        fields["subject"] = recommendation.title
        fields["button_label"] = _("Read more")
        if stage == Stage.AWARENESS:
            fields["sender_kind"] = SenderKind.SPONSOR
    else:
        fields["headline"] = recommendation.title
    audiences = [audience] if audience else list(project.audiences.filter(is_cross_functional=False))
    return plan.asset_create(project=project, by=by, audiences=audiences, **fields)
