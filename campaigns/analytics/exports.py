"""The dashboard's figures to take away: CSV and XLSX of every table, and a one-page PDF status
report for the steering group (their views are in dashboard_views).

Both read `selectors.dashboard(project=...)`, so they show exactly what the page shows under
the project's tracking mode and anonymity threshold: no rows per audience or site in aggregate
mode, no names anywhere, and readiness cells under the threshold written as "fewer than N
answers", never as their value.
"""

import pypdfium2
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from campaigns.analytics import selectors
from campaigns.models import Channel
from lib.colors import text_on
from lib.pdf import html_to_pdf
from lib.spreadsheets import Sheet

PDF_TIMEOUT = 30
# The one-page report shows at most this many audiences per table ("and N more" below); when
# long names or a long lede still push it onto a second page, it is set again with fewer.
REPORT_AUDIENCES = (8, 6, 4, 2)
REPORT_SITES = 6
REPORT_ASSETS = 5


def _as_of(board: selectors.Dashboard) -> str:
    if board.refreshed_at is None:
        return _("not computed yet")
    return date_format(timezone.localtime(board.refreshed_at), "j F Y H:i")


def _hidden(board: selectors.Dashboard) -> str:
    return ngettext("fewer than %(n)d answer", "fewer than %(n)d answers", board.threshold) % {"n": board.threshold}


# The spreadsheets


def _summary_sheet(board: selectors.Dashboard) -> Sheet:
    project, overall = board.project, board.overall
    reach = overall.reach
    rows = [
        (_("Project"), project.name),
        (_("Go-live"), project.go_live),
        (_("Days to go-live"), board.days_to_go_live),
        (_("Figures as of"), board.refreshed_at.replace(microsecond=0) if board.refreshed_at else None),
        (_("Tracking"), project.get_tracking_mode_display()),
        (_("Anonymity threshold (answers)"), board.threshold),
        (_("Targeted"), reach.targeted),
        (_("Reached at least once"), reach.reached_once),
        (_("Reached at least once (%)"), reach.pct_once),
        (_("Reached at least twice"), reach.reached_twice),
        (_("Reached at least twice (%)"), reach.pct_twice),
        (_("Pulse answers this round"), overall.answers),
        (_("Email opens (counted)"), overall.events["opens"]),
        (_("Email clicks (counted)"), overall.events["clicks"]),
        (_("Page visits (counted)"), overall.events["visits"]),
        (_("Open questions"), board.questions.get("open", 0)),
        (_("Questions answered, not published"), board.questions.get("answered", 0)),
        (_("Questions published"), board.questions.get("published", 0)),
        (_("“Do we have it right?”: yes"), board.reactions.get("right", 0)),
        (_("“Do we have it right?”: partly"), board.reactions.get("partly", 0)),
        (_("“Do we have it right?”: no"), board.reactions.get("wrong", 0)),
    ]
    return Sheet(_("Summary"), [_("Figure"), _("Value")], rows)


def _reach_sheet(board: selectors.Dashboard) -> Sheet:
    headers = [
        _("Group"),
        _("Name"),
        _("Targeted"),
        _("Reached at least once"),
        _("Reached at least once (%)"),
        _("Reached at least twice"),
        _("Reached at least twice (%)"),
    ]

    def line(kind: str, name: str, reach: selectors.Reach) -> list:
        return [kind, name, reach.targeted, reach.reached_once, reach.pct_once, reach.reached_twice, reach.pct_twice]

    rows = [line(_("Audience"), row.name, row.reach) for row in board.audiences]
    rows += [line(_("Site"), site.name, site.reach) for site in board.sites]
    rows += [line(_("Language"), row.name, row.reach) for row in board.languages]
    rows.append(line(_("Everyone"), board.overall.name, board.overall.reach))
    return Sheet(_("Reach"), headers, rows)


def _funnel_sheet(board: selectors.Dashboard) -> Sheet:
    steps = board.overall.funnel
    headers = [_("Audience")]
    # Every step but the first also as a share of those targeted.
    for step in steps:
        headers += [step.label] if step.key == "targeted" else [step.label, _("%(step)s (%%)") % {"step": step.label}]
    headers += [_("Email opens (counted)"), _("Email clicks (counted)"), _("Page visits (counted)")]
    rows = []
    for row in [*board.audiences, board.overall]:
        line: list = [row.name]
        for step in row.funnel:
            line += [step.people] if step.key == "targeted" else [step.people, step.pct]
        line += [row.events["opens"], row.events["clicks"], row.events["visits"]]
        rows.append(line)
    return Sheet(_("Funnel"), headers, rows)


def _reading_sheet(board: selectors.Dashboard) -> Sheet:
    headers = [
        _("Audience"),
        _("Reached at least once (%)"),
        _("Visits measured"),
        _("Lede only"),
        _("Lede only (%)"),
        _("Into the story"),
        _("Into the story (%)"),
        _("Everything"),
        _("Everything (%)"),
        _("Median time on the story"),
    ]
    rows = []
    for row in [*board.audiences, board.overall]:
        r = row.reading
        rows.append(
            [
                row.name,
                row.reach.pct_once,
                r.visits,
                r.lede,
                r.pct_lede,
                r.story,
                r.pct_story,
                r.everything,
                r.pct_everything,
                r.median_label or _("too few visits"),
            ]
        )
    return Sheet(_("Read depth"), headers, rows)


def _readiness_sheet(board: selectors.Dashboard) -> Sheet:
    headers = [_("Audience")]
    for cell in board.overall.readiness:
        headers += [
            _("%(stage)s: average (1–5)") % {"stage": cell.label},
            _("%(stage)s: answers") % {"stage": cell.label},
        ]
    headers += [_("Barrier"), _("Recommended next step")]
    hidden = _hidden(board)
    rows = []
    for row in [*board.audiences, *board.languages, board.overall]:
        line: list = [_("All answers") if row is board.overall else row.name]
        for cell in row.readiness:
            # A hidden cell says so in both columns: neither its average nor its count is given.
            line += [hidden, hidden] if cell.hidden else [cell.average, cell.answers]
        line += [row.barrier.label if row.barrier else "", row.recommendation.step if row.recommendation else ""]
        rows.append(line)
    return Sheet(_("Readiness"), headers, rows)


def _asset_sheet(board: selectors.Dashboard) -> Sheet:
    headers = [
        _("Date"),
        _("Asset"),
        _("Channel"),
        _("ADKAR stage"),
        _("Status"),
        _("Recipients"),
        _("Delivered"),
        _("Failed"),
        _("Opens (counted)"),
        _("Clicks (counted)"),
        _("People who opened"),
        _("People who clicked"),
        _("Open rate (%)"),
        _("QR scans"),
        _("Meeting sessions"),
        _("Seats"),
        _("Seats booked"),
        _("Seats booked (%)"),
        _("Film plays"),
    ]
    go_live = board.project.go_live
    rows = []
    for row in board.assets:
        asset = row.asset
        email = asset.channel == Channel.EMAIL
        film = asset.channel == Channel.FILM
        rows.append(
            [
                asset.scheduled_for(go_live),
                asset.title,
                asset.get_channel_display(),
                asset.get_stage_display(),
                asset.get_status_display(),
                row.recipients if email else None,
                row.sent if email else None,
                row.failed if email else None,
                row.opens if email else None,
                row.clicks if email else None,
                row.openers,
                row.clickers,
                row.open_rate,
                row.scans,
                row.sessions,
                row.seats,
                row.booked,
                row.fill_pct,
                row.plays if row.plays is not None else (_("not measured") if film else None),
            ]
        )
    return Sheet(_("Per asset"), headers, rows)


def _days_sheet(board: selectors.Dashboard) -> Sheet:
    metrics = board.series_metrics
    headers = [_("Day")]
    headers += [_("%(metric)s, new") % {"metric": label} for _m, label in metrics]
    headers += [_("%(metric)s, total") % {"metric": label} for _m, label in metrics]
    rows = [
        [day.day, *(day.values[m] for m, _l in metrics), *(day.totals[m] for m, _l in metrics)] for day in board.series
    ]
    return Sheet(_("Engagement per day"), headers, rows)


def _cascade_sheet(board: selectors.Dashboard) -> Sheet:
    """The manager cascade: team talks briefed, held and late, in all and per department and site."""
    headers = [_("Group"), _("Name"), _("Managers briefed"), _("Talks held"), _("Talks held (%)"), _("Late")]

    def line(kind: str, row: selectors.CascadeRow) -> list:
        return [kind, row.name, row.briefed, row.held, row.pct_held, row.late]

    rows = [line(_("Project"), board.cascade)]
    rows += [line(_("Department"), row) for row in board.cascade_departments]
    rows += [line(_("Site"), row) for row in board.cascade_sites]
    return Sheet(_("Team talks"), headers, rows)


def dashboard_sheets(board: selectors.Dashboard) -> list[Sheet]:
    """Every table of the dashboard, as the tracking mode allows it (aggregate: no audience or site rows);
    the team talks' sheet when the project has a manager cascade."""
    sheets = [
        _summary_sheet(board),
        _reach_sheet(board),
        _funnel_sheet(board),
        _reading_sheet(board),
        _readiness_sheet(board),
        _asset_sheet(board),
        _days_sheet(board),
    ]
    if board.cascade:
        sheets.insert(-1, _cascade_sheet(board))
    return sheets


# The one-page status report


def headline(board: selectors.Dashboard) -> str:
    """One sentence a sponsor reads first: how many were reached, and where people are stuck."""
    reach = board.overall.reach
    if not reach.targeted:
        reached = _("Nobody is targeted yet")
    else:
        reached = ngettext(
            "%(pct)d %% of the %(n)d targeted employee reached at least once",
            "%(pct)d %% of the %(n)d targeted employees reached at least once",
            reach.targeted,
        ) % {"pct": reach.pct_once, "n": reach.targeted}
    # Every answer of the round counts overall, so the whole may be held back where no audience shows it.
    barriers = board.barriers or ([board.overall] if board.overall.barrier else [])
    if barriers:
        first = barriers[0]
        stage = first.barrier.label.lower()
        name = Truncator(first.name).chars(60)
        if first.audience is None:
            readiness = _("readiness is held back at %(stage)s") % {"stage": stage}
        elif len(barriers) == 1:
            readiness = _("%(audience)s is held back at %(stage)s") % {"audience": name, "stage": stage}
        else:
            more = len(barriers) - 1
            readiness = ngettext(
                "%(audience)s is held back at %(stage)s (%(more)d more audience has a barrier)",
                "%(audience)s is held back at %(stage)s (%(more)d more audiences have a barrier)",
                more,
            ) % {"audience": name, "stage": stage, "more": more}
    elif board.overall.answers >= board.threshold:
        readiness = _("no audience is held back at any stage")
    else:
        readiness = _("too few pulse answers yet to tell where people are stuck")
    return _("%(reached)s; %(readiness)s.") % {"reached": reached, "readiness": readiness}


def _asset_figure(row: selectors.AssetRow) -> tuple[int, str] | None:
    """The figure that says most about one asset, and how much it weighs in choosing the top few."""
    channel = row.asset.channel
    if channel == Channel.EMAIL and row.sent:
        if row.open_rate is not None:
            text = _("%(sent)d delivered · %(rate)d %% opened") % {"sent": row.sent, "rate": row.open_rate}
        else:
            text = _("%(sent)d delivered · %(opens)d opens") % {"sent": row.sent, "opens": row.opens}
        return row.sent, text
    if channel == Channel.MEETING and row.seats:
        return row.booked or 0, _("%(booked)d of %(seats)d seats booked (%(pct)d %%)") % {
            "booked": row.booked or 0,
            "seats": row.seats,
            "pct": row.fill_pct or 0,
        }
    if row.scans:
        return row.scans, ngettext("%(n)d QR scan", "%(n)d QR scans", row.scans) % {"n": row.scans}
    if row.plays:
        return row.plays, ngettext("%(n)d film play", "%(n)d film plays", row.plays) % {"n": row.plays}
    return None


def _key_assets(board: selectors.Dashboard) -> list[dict]:
    figures = [(row, _asset_figure(row)) for row in board.assets]
    measured = [(row, figure) for row, figure in figures if figure]
    top = sorted(measured, key=lambda pair: -pair[1][0])[:REPORT_ASSETS]
    chosen = {row.asset.pk for row, _f in top}
    return [
        {"title": row.asset.title, "channel": row.asset.get_channel_display(), "figure": figure[1]}
        for row, figure in measured
        if row.asset.pk in chosen
    ]


def _heat_rows(board: selectors.Dashboard) -> list[selectors.Row]:
    """Audiences held back first (earliest stage first), then the rest by name."""
    stuck = board.barriers if board.mode != "aggregate" else []
    ids = {id(row) for row in stuck}
    return stuck + [row for row in board.audiences if id(row) not in ids]


def report_context(board: selectors.Dashboard, *, rows: int = REPORT_AUDIENCES[0]) -> dict:
    project = board.project
    reach_rows = sorted(board.audiences, key=lambda row: (-row.reach.targeted, row.name.lower()))
    heat_rows = _heat_rows(board)
    sites = sorted(board.sites, key=lambda site: -site.reach.targeted)
    return {
        "project": project,
        "board": board,
        "headline": headline(board),
        "as_of": _as_of(board),
        "reach_rows": reach_rows[:rows],
        "reach_more": max(len(reach_rows) - rows, 0),
        "heat_rows": heat_rows[:rows],
        "heat_more": max(len(heat_rows) - rows, 0),
        "sites": sites[:REPORT_SITES],
        "sites_more": max(len(sites) - REPORT_SITES, 0),
        "key_assets": _key_assets(board),
        "stages": [cell.label for cell in board.overall.readiness],
        "hidden_text": _hidden(board),
        "primary": project.primary_color,
        "accent": project.accent_color,
        "on_primary": text_on(project.primary_color),
        "on_accent": text_on(project.accent_color),
        "logo_url": project.logo.print.url if project.logo_id and project.logo.print else "",
        "language": (get_language() or settings.LANGUAGE_CODE)[:2],
        "generated": timezone.localtime(),
    }


def report_pdf(*, board: selectors.Dashboard) -> bytes:
    """The steering group's one-page status report: A4 portrait in the project's colours."""
    base_url = (settings.SITE_URL or "http://localhost") + "/"
    for rows in REPORT_AUDIENCES:
        html = render_to_string("campaigns/dashboard_pdf.html", report_context(board, rows=rows))
        pdf = html_to_pdf(html, base_url=base_url, timeout=PDF_TIMEOUT)
        if len(pypdfium2.PdfDocument(pdf)) == 1:
            break
    return pdf
