"""Reading the dashboard's rollups: reach and readiness per audience, site and asset.

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
        Dashboard.languages       [Row] reach and readiness per language people read the project in
                                  (a project in several languages; empty in aggregate mode)
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
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audiences.models import Audience, Employee
from audiences.selectors import audience_members
from campaigns.analytics.figures import BARRIER_AT, SERIES_LABELS, SERIES_METRICS, STAGES, Mode, Scope
from campaigns.models import (
    Asset,
    Booking,
    ChangeProject,
    Channel,
    DashboardDay,
    DashboardFigure,
    DashboardRefresh,
    Delivery,
    LandingToken,
    PulseResponse,
    Question,
    Stage,
)
from lib.collation import people_order
from lib.translations import language_label


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
    languages: list[Row] = field(default_factory=list)
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


def _cells(values: dict[tuple, int], audience_id: int | None, threshold: int, language: str = "") -> list[Cell]:
    cells = []
    for stage in STAGES:
        n = values.get((Scope.READINESS, "answers", audience_id, language, None, stage), 0)
        total = values.get((Scope.READINESS, "sum", audience_id, language, None, stage), 0)
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


def _language_rows(values: dict, *, project: ChangeProject, mode: str, threshold: int) -> list[Row]:
    """Reach and readiness per language people read the project in (a project in several languages).
    In anonymous mode a language with fewer targeted people than the threshold is left out."""
    if not project.other_languages:
        return []
    rows = []
    for code in sorted({key[3] for key in values if key[0] == Scope.LANGUAGE}):

        def get(metric: str, code: str = code) -> int:
            return values.get((Scope.LANGUAGE, metric, None, code, None, ""), 0)

        reach = Reach(targeted=get("targeted"), reached_once=get("reached_1"), reached_twice=get("reached_2"))
        if not reach.targeted or (mode == Mode.ANONYMOUS and reach.targeted < threshold):
            continue
        readiness = _cells(values, None, threshold, language=code)
        row = Row(
            audience=None,
            name=language_label(code),
            reach=reach,
            funnel=[],
            events={},
            readiness=readiness,
            answers=max((c.answers for c in readiness), default=0),
        )
        row.barrier = _barrier(readiness)
        rows.append(row)
    return rows


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
        board.languages = _language_rows(values, project=project, mode=mode, threshold=threshold)
    board.assets = _asset_rows(project, values, mode)
    board.series = _series(project)
    board.reactions = {
        r: values.get((Scope.PROJECT, f"reaction_{r}", None, "", None, ""), 0) for r in PulseResponse.Reaction.values
    }
    board.questions = question_summary(project=project)
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
        .order_by(*people_order())
    )
