# ruff: noqa: S608 - the raw SQL here is built from model table names; every value is a bound parameter.
"""Reach and readiness: the dashboard's rollups and how they are refreshed.

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

The reads are in campaigns.analytics.selectors.
"""

import datetime
import logging
import time

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from audiences.models import Audience, Employee
from audiences.selectors import audience_flag, reachable_employees
from campaigns.analytics.figures import (
    EVENT_METRICS,
    PEOPLE_METRICS,
    READ_METRICS,
    STAGES,
    Mode,
    Scope,
)
from campaigns.analytics.selectors import TALK_HELD, TALK_NOT_HELD, Dashboard, dashboard, recommendation_for
from campaigns.models import (
    Asset,
    Booking,
    ChangeProject,
    Channel,
    Comprehension,
    ComprehensionResponse,
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
    ReadDepthCounter,
    SenderKind,
    Stage,
    TeamTalk,
)
from campaigns.plan import services as plan

logger = logging.getLogger(__name__)


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
    members = reachable_employees().annotate(**flags).filter(anyone).order_by().values("id", "site", "language", *flags)
    sql, params = members.query.sql_with_params()
    return sql, list(params)


def _person_sql(project: ChangeProject) -> tuple[str, list]:
    """SQL of one row per employee with what happened to them in this project (set-based, no loop)."""
    delivery, asset, booking, session = _table(Delivery), _table(Asset), _table(Booking), _table(MeetingSession)
    token, pulse = _table(LandingToken), _table(PulseResponse)
    employee, talk = _table(Employee), _table(TeamTalk)
    parts = [
        f"""SELECT d.employee_id AS employee_id, COUNT(*) AS sent, COUNT(d.opened_at) AS opened,
                COUNT(d.clicked_at) AS clicked, 0 AS visited, 0 AS answered, 0 AS booked, 0 AS talked
            FROM {delivery} d INNER JOIN {asset} a ON a.id = d.asset_id
            WHERE a.project_id = %s AND d.status = %s AND d.employee_id IS NOT NULL
            GROUP BY d.employee_id""",
        # A pulse answer through the personal link proves a visit (in every mode).
        f"""SELECT p.employee_id, 0, 0, 0, 1, MAX(CASE WHEN p.round = %s THEN 1 ELSE 0 END), 0, 0
            FROM {pulse} p WHERE p.project_id = %s AND p.employee_id IS NOT NULL
            GROUP BY p.employee_id""",
        f"""SELECT b.employee_id, 0, 0, 0, 0, 0, COUNT(*), 0
            FROM {booking} b INNER JOIN {session} s ON s.id = b.session_id INNER JOIN {asset} m ON m.id = s.meeting_id
            WHERE m.project_id = %s AND b.status = %s AND b.employee_id IS NOT NULL
            GROUP BY b.employee_id""",
        # A confirmed team talk reaches the manager's direct reports: one contact per talk.
        f"""SELECT e.id, 0, 0, 0, 0, 0, 0, COUNT(*)
            FROM {employee} e INNER JOIN {talk} t ON t.manager_id = e.manager_employee_id
            INNER JOIN {asset} ta ON ta.id = t.asset_id
            WHERE ta.project_id = %s AND ta.status <> %s AND t.confirmed_at IS NOT NULL
            GROUP BY e.id""",
    ]
    params = [
        project.pk,
        Delivery.Status.SENT,
        project.pulse_round,
        project.pk,
        project.pk,
        Booking.Status.CONFIRMED,
        project.pk,
        Asset.Status.CANCELLED,
    ]
    if project.tracking_mode == Mode.INDIVIDUAL:
        parts.append(
            f"""SELECT t.employee_id, 0, 0, 0, 1, 0, 0, 0 FROM {token} t
                WHERE t.project_id = %s AND t.visited_at IS NOT NULL"""
        )
        params.append(project.pk)
    union = " UNION ALL ".join(f"SELECT * FROM ({part}) AS part{i}" for i, part in enumerate(parts))
    sql = f"""SELECT employee_id, SUM(sent) AS sent, SUM(opened) AS opened, SUM(clicked) AS clicked,
                MAX(visited) AS visited, MAX(answered) AS answered, SUM(booked) AS booked, SUM(talked) AS talked
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
    "talked": "x.talked > 0",
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
        SELECT x.site, x.language, {", ".join(columns)}
        FROM (
            SELECT m.site, m.language{flags},
                COALESCE(p.sent, 0) AS sent, COALESCE(p.opened, 0) AS opened, COALESCE(p.clicked, 0) AS clicked,
                COALESCE(p.visited, 0) AS visited, COALESCE(p.answered, 0) AS answered,
                COALESCE(p.booked, 0) AS booked, COALESCE(p.talked, 0) AS talked,
                COALESCE(p.sent, 0) + COALESCE(p.booked, 0) + COALESCE(p.visited, 0) + COALESCE(p.talked, 0) AS touches
            FROM ({members_sql}) AS m LEFT JOIN ({person_sql}) AS p ON p.employee_id = m.id
        ) AS x
        GROUP BY x.site, x.language"""
    figures: dict[tuple, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, members_params + person_params)
        rows = cursor.fetchall()
    by_index = {f"a{i}": a.pk for i, a in enumerate(audiences)}
    for site, language, *values in rows:
        for (group, metric), value in zip(names, values, strict=True):
            value = int(value or 0)
            if group == "all":
                _add(figures, (Scope.PROJECT, metric, None, "", None, ""), value)
                if per_group:
                    _add(figures, (Scope.SITE, metric, None, site or "", None, ""), value)
                    # The language scope keeps its language code where a site's figure keeps the site.
                    _add(figures, (Scope.LANGUAGE, metric, None, language or "", None, ""), value)
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
    # Per language the people who answered read the project in (answers through personal links).
    by_language = (
        answers.filter(employee__isnull=False)
        .values("employee__language")
        .annotate(**{f"s_{s}": Sum(s) for s in STAGES}, **{f"n_{s}": Count(s) for s in STAGES})
        .order_by()
    )
    for row in by_language:
        for stage in STAGES:
            language = row["employee__language"] or ""
            figures[(Scope.READINESS, "sum", None, language, None, stage)] = int(row[f"s_{stage}"] or 0)
            figures[(Scope.READINESS, "answers", None, language, None, stage)] = int(row[f"n_{stage}"] or 0)
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


def _read_figures(project: ChangeProject, audience_ids: set[int], per_group: bool) -> dict[tuple, int]:
    """Visits by read depth, and the median seconds on the story (to its bucket): one query.

    The project's figures count every visit (general link included); an audience's only the
    visits through its members' personal links.
    """
    figures: dict[tuple, int] = {}
    story_times: dict[int | None, dict[int, int]] = {}
    rows = ReadDepthCounter.objects.filter(project=project).values_list(
        "audience_id", "depth", "story_seconds", "count"
    )
    for audience_id, depth, bucket, count in rows:
        groups = [None] + ([audience_id] if per_group and audience_id in audience_ids else [])
        for group in groups:
            scope = Scope.AUDIENCE if group else Scope.PROJECT
            _add(figures, (scope, READ_METRICS[depth], group, "", None, ""), count)
            if depth >= 2:
                times = story_times.setdefault(group, {})
                times[bucket] = times.get(bucket, 0) + count
    for metric in READ_METRICS.values():
        figures.setdefault((Scope.PROJECT, metric, None, "", None, ""), 0)
    for group, times in story_times.items():
        scope = Scope.AUDIENCE if group else Scope.PROJECT
        figures[(scope, "story_median", group, "", None, "")] = _median_bucket(times)
        figures[(scope, "story_visits", group, "", None, "")] = sum(times.values())
    return figures


def _understanding_figures(project: ChangeProject, audience_ids: set[int], per_group: bool) -> dict[tuple, int]:
    """Answers to the comprehension question and how many were right, for everyone and per
    audience the person was reached through, and the question's attention threshold: two queries."""
    figures: dict[tuple, int] = {
        (Scope.PROJECT, "quiz_answers", None, "", None, ""): 0,
        (Scope.PROJECT, "quiz_right", None, "", None, ""): 0,
    }
    rows = (
        ComprehensionResponse.objects.filter(question__project=project)
        .values_list("audience_id")
        .annotate(n=Count("pk"), right=Count("pk", filter=Q(is_right=True)))
        .order_by()
    )
    attention = Comprehension.objects.filter(project=project).values_list("attention_above", flat=True).first()
    if attention is not None:  # the plan reads it with the figures: one query there
        figures[(Scope.PROJECT, "quiz_attention_above", None, "", None, "")] = attention
    for audience_id, n, right in rows:
        groups = [None] + ([audience_id] if per_group and audience_id in audience_ids else [])
        for group in groups:
            scope = Scope.AUDIENCE if group else Scope.PROJECT
            _add(figures, (scope, "quiz_answers", group, "", None, ""), n)
            _add(figures, (scope, "quiz_right", group, "", None, ""), right)
    return figures


def _median_bucket(times: dict[int, int]) -> int:
    """The bucket (lower bound, seconds) holding the median of the counted story times."""
    total, seen = sum(times.values()), 0
    for bucket in sorted(times):
        seen += times[bucket]
        if 2 * seen >= total:
            return bucket
    return 0


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
    tz = timezone.get_default_timezone()  # the organisation's days, whoever looks and from wherever
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


def _cascade_figures(project: ChangeProject, per_group: bool) -> dict[tuple, int]:
    """The manager cascade: managers briefed, talks held and talks late (due and not confirmed), for the
    project and per department and site of the managers (not in aggregate mode). One query."""
    today = timezone.localdate()
    rows = (
        TeamTalk.objects.filter(asset__project=project, manager__isnull=False)
        .exclude(asset__status=Asset.Status.CANCELLED)
        .values("asset__talk_by_days", "manager__department", "manager__site")
        .annotate(
            briefed=Count("pk"),
            held=Count("pk", filter=Q(confirmed_at__isnull=False)),
            open=Count("pk", filter=Q(confirmed_at__isnull=True)),
        )
        .order_by()
    )
    figures: dict[tuple, int] = {}
    for row in rows:
        due = row["asset__talk_by_days"]
        late = row["open"] if due is not None and project.go_live + datetime.timedelta(days=due) < today else 0
        scopes = [(Scope.PROJECT, "")]
        if per_group:
            scopes += [(Scope.DEPARTMENT, row["manager__department"] or ""), (Scope.SITE, row["manager__site"] or "")]
        for scope, name in scopes:
            for metric, value in (("talks_briefed", row["briefed"]), ("talks_held", row["held"]), ("talks_late", late)):
                _add(figures, (scope, metric, None, name, None, ""), value)
    return figures


def _readiness_by_talk(project: ChangeProject) -> dict[tuple, int]:
    """Readiness by manager: the pulse answers (this round, through personal links) of people whose manager was
    briefed, split by whether the manager's team talk was held. One query; the reads hide small groups."""
    talks = TeamTalk.objects.filter(
        asset__project=project, manager_id=OuterRef("employee__manager_employee_id")
    ).exclude(asset__status=Asset.Status.CANCELLED)
    rows = (
        PulseResponse.objects.filter(project=project, round=project.pulse_round, employee__isnull=False)
        .filter(Exists(talks))
        .annotate(held=Exists(talks.filter(confirmed_at__isnull=False)))
        .values("held")
        .annotate(**{f"s_{s}": Sum(s) for s in STAGES}, **{f"n_{s}": Count(s) for s in STAGES})
        .order_by()
    )
    figures: dict[tuple, int] = {}
    for group in (TALK_HELD, TALK_NOT_HELD):
        for stage in STAGES:
            figures[(Scope.READINESS, "sum", None, group, None, stage)] = 0
            figures[(Scope.READINESS, "answers", None, group, None, stage)] = 0
    for row in rows:
        group = TALK_HELD if row["held"] else TALK_NOT_HELD
        for stage in STAGES:
            figures[(Scope.READINESS, "sum", None, group, None, stage)] = int(row[f"s_{stage}"] or 0)
            figures[(Scope.READINESS, "answers", None, group, None, stage)] = int(row[f"n_{stage}"] or 0)
    return figures


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
        if project.engagement_anonymised_at and state.refreshed_at:
            return state  # the per-person rows are anonymised: the figures stay as they were computed
        per_group = project.tracking_mode != Mode.AGGREGATE
        audiences = list(project.audiences.order_by("pk"))
        figures: dict[tuple, int] = {}
        figures.update(_people_figures(project, audiences, per_group))
        if not audiences:
            for metric in PEOPLE_METRICS:
                figures[(Scope.PROJECT, metric, None, "", None, "")] = 0
        events = _event_figures(project, {a.pk for a in audiences}, per_group)
        figures.update(events)
        figures.update(_read_figures(project, {a.pk for a in audiences}, per_group))
        figures.update(_understanding_figures(project, {a.pk for a in audiences}, per_group))
        figures.update(_asset_figures(project))
        figures.update(_readiness_figures(project, audiences, per_group))
        figures.update(_cascade_figures(project, per_group))
        if per_group:
            figures.update(_readiness_by_talk(project))
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
    return (
        ChangeProject.objects.filter(~Q(status=ChangeProject.Status.CLOSED) | recent)
        .filter(engagement_anonymised_at__isnull=True)
        .exclude(fresh)
    )


# Retention


def projects_due_for_anonymising(*, now: datetime.datetime | None = None) -> list[ChangeProject]:
    """Closed projects whose retention has run out and whose engagement is still per person."""
    now = now or timezone.now()
    closed = ChangeProject.objects.filter(
        status=ChangeProject.Status.CLOSED, closed_at__isnull=False, engagement_anonymised_at__isnull=True
    )
    return [p for p in closed if p.closed_at + datetime.timedelta(days=p.retention_days) <= now]


def engagement_anonymise(*, project: ChangeProject) -> ChangeProject:
    """Cut every per-person engagement row of the project loose from the person: deliveries,
    bookings, pulse and comprehension answers, questions keep their counts and audiences but no
    one's name; personal links (visits, read depth) are deleted. The dashboard is refreshed once
    first and its figures are frozen from then on, so the aggregates stay true. Safe to run twice."""
    analytics_refresh(project=project)
    with transaction.atomic():
        project = ChangeProject.objects.select_for_update().get(pk=project.pk)
        if project.engagement_anonymised_at:
            return project
        Delivery.objects.filter(asset__project=project).update(employee=None)
        bookings = Booking.objects.filter(session__meeting__project=project)
        for booking_id in bookings.values_list("pk", flat=True):
            Booking.objects.filter(pk=booking_id).update(
                employee=None, name="", email=f"anonymised-{booking_id}@invalid.invalid"
            )
        PulseResponse.objects.filter(project=project).update(employee=None)
        ComprehensionResponse.objects.filter(question__project=project).update(employee=None)
        Question.objects.filter(project=project).update(employee=None, name="", answer_to="")
        LandingToken.objects.filter(project=project).delete()
        project.engagement_anonymised_at = timezone.now()
        project.save(update_fields=["engagement_anonymised_at"])
    logger.info("project %s: per-person engagement anonymised after %s days", project.pk, project.retention_days)
    return project


# Reading the rollups


def dashboard_computed(*, project: ChangeProject) -> Dashboard:
    """`dashboard`, after a first refresh when the project's figures were never computed
    (its very first view or export shows figures at once, not after the next beat)."""
    board = dashboard(project=project)
    if board.refreshed_at is None:
        analytics_refresh(project=project)
        board = dashboard(project=project)
    return board


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
