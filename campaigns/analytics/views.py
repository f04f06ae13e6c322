"""The reach and readiness dashboard: read by every member, refreshed and acted on by editors."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from audiences.models import Audience
from campaigns.analytics import exports as dashboard_exports
from campaigns.analytics import figures, selectors
from campaigns.analytics import services as analytics
from campaigns.models import ChangeProject, Stage
from campaigns.projects.permissions import get_project_for_user
from lib.spreadsheets import sheets_response, spreadsheet_response

NOT_REACHED_PER_PAGE = 50
CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 640, 220, 32
# The chart's lines: colour, and a dash pattern so that colour is not the only difference.
CHART_LINES = (
    ("sent", "#1f4e79", ""),
    ("opens", "#b5451b", "6 4"),
    ("visits", "#2e7d4f", "2 3"),
    ("answers", "#6b3fa0", "10 3 2 3"),
)


class NextStepForm(forms.Form):
    audience = forms.IntegerField(required=False)
    stage = forms.ChoiceField(choices=Stage.choices)


def _chart(board: selectors.Dashboard) -> dict:
    """Server-rendered SVG coordinates of the running totals, day by day (no script needed)."""
    series = board.series
    if not series:
        return {}
    peak = max([1] + [day.totals[m] for day in series for m, _c, _d in CHART_LINES])
    step = (CHART_WIDTH - 2 * CHART_PAD) / max(len(series) - 1, 1)
    plot_h = CHART_HEIGHT - 2 * CHART_PAD

    def y(value: int) -> float:
        return round(CHART_HEIGHT - CHART_PAD - plot_h * value / peak, 1)

    lines = []
    labels = dict(board.series_metrics)
    for metric, colour, dash in CHART_LINES:
        points = " ".join(f"{round(CHART_PAD + i * step, 1)},{y(day.totals[metric])}" for i, day in enumerate(series))
        lines.append(
            {
                "metric": metric,
                "label": labels[metric],
                "colour": colour,
                "dash": dash,
                "points": points,
                "total": series[-1].totals[metric],
            }
        )
    ticks = [{"value": v, "y": y(v)} for v in sorted({0, peak // 2, peak})]
    every = max(len(series) // 6, 1)
    days = [
        {"x": round(CHART_PAD + i * step, 1), "label": date_format(day.day, _("j M"))}
        for i, day in enumerate(series)
        if i % every == 0 or i == len(series) - 1
    ]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "pad": CHART_PAD,
        "right": CHART_WIDTH - CHART_PAD,
        "bottom": CHART_HEIGHT - CHART_PAD,
        "lines": lines,
        "ticks": ticks,
        "days": days,
        # The table under the chart: days with anything in them, newest first.
        "table": [
            {"day": day.day, "values": [day.values[m] for m in figures.SERIES_METRICS]}
            for day in reversed(series)
            if any(day.values.values())
        ],
    }


@require_safe
@login_required
def dashboard(request, slug):
    project, membership = get_project_for_user(request, slug)
    board = analytics.dashboard_computed(project=project)
    context = {
        "project": project,
        "membership": membership,
        "board": board,
        "chart": _chart(board),
        "stages": [(value, label) for value, label in Stage.choices],
        "refresh_every": max(1, round(_refresh_seconds() / 60)),
        "cascade_tables": [
            (_("Team talks held, per department of the managers"), _("Department"), board.cascade_departments),
            (_("Team talks held, per site of the managers"), _("Site"), board.cascade_sites),
        ],
    }
    return render(request, "campaigns/dashboard.html", context)


def _refresh_seconds() -> int:
    from django.conf import settings

    return getattr(settings, "DASHBOARD_REFRESH_SECONDS", 300)


@require_POST
@login_required
def dashboard_refresh(request, slug):
    project, _membership = get_project_for_user(request, slug, need="edit")
    state = analytics.analytics_refresh(project=project)
    messages.success(
        request,
        _("The figures are up to date as of %(time)s.")
        % {"time": date_format(timezone.localtime(state.refreshed_at), "H:i")},
    )
    return redirect("campaigns:dashboard", slug=project.slug)


@require_POST
@login_required
def dashboard_next_step(request, slug):
    """One click: the recommended asset for an audience's barrier stage, as a draft in the plan."""
    project, _membership = get_project_for_user(request, slug, need="edit")
    form = NextStepForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an audience and an ADKAR stage."))
        return redirect("campaigns:dashboard", slug=project.slug)
    audience = None
    if form.cleaned_data["audience"] is not None:
        audience = get_object_or_404(Audience, project=project, pk=form.cleaned_data["audience"])
    asset = analytics.recommendation_create(
        project=project, audience=audience, stage=form.cleaned_data["stage"], by=request.user
    )
    messages.success(
        request, _("“%(title)s” is in the plan as a draft. Write it and set its date.") % {"title": asset.title}
    )
    return redirect("campaigns:asset_detail", slug=project.slug, pk=asset.pk)


NOT_REACHED_FIELDS = ("first_name", "last_name", "email", "department", "site", "title", "manager")


def _not_reached(request, slug, audience_id):
    """Who in an audience has not been reached yet: only where the project tracks individuals."""
    project, membership = get_project_for_user(request, slug)
    if project.tracking_mode != ChangeProject.TrackingMode.INDIVIDUAL:
        raise Http404
    audience = get_object_or_404(Audience, project=project, pk=audience_id)
    people = selectors.not_reached(project=project, audience=audience).only(*NOT_REACHED_FIELDS)
    return project, membership, audience, people


@require_safe
@login_required
def dashboard_not_reached(request, slug, audience_id):
    project, membership, audience, people = _not_reached(request, slug, audience_id)
    page = Paginator(people, NOT_REACHED_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "campaigns/dashboard_not_reached.html",
        {"project": project, "membership": membership, "audience": audience, "page": page},
    )


@require_safe
@login_required
def dashboard_not_reached_export(request, slug, audience_id, fmt):
    """The not-reached list as CSV or XLSX (formula-safe), to follow up through managers or on site."""
    _project, _membership, audience, people = _not_reached(request, slug, audience_id)
    headers = [_("First name"), _("Last name"), _("Email"), _("Department"), _("Site"), _("Title"), _("Manager")]
    rows = people.values_list(*NOT_REACHED_FIELDS).iterator()
    return spreadsheet_response(
        rows, headers, fmt=fmt, filename=_("not reached – %(audience)s") % {"audience": audience.name}
    )


# Exports: the figures as CSV or XLSX, and the steering group's one-page PDF


def _export_filename(project: ChangeProject, what: str) -> str:
    return slugify(f"{project.name or project.slug} {what} {timezone.localdate():%Y-%m-%d}") or project.slug


@require_safe
@login_required
def dashboard_export(request, slug, fmt):
    project, _membership = get_project_for_user(request, slug)
    board = analytics.dashboard_computed(project=project)
    sheets = dashboard_exports.dashboard_sheets(board)
    return sheets_response(sheets, fmt=fmt, filename=_export_filename(project, _("figures")))


@require_safe
@login_required
def dashboard_export_pdf(request, slug):
    project, _membership = get_project_for_user(request, slug)
    pdf = dashboard_exports.report_pdf(board=analytics.dashboard_computed(project=project))
    filename = f"{_export_filename(project, _('status report'))}.pdf"
    return HttpResponse(
        pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": content_disposition_header(True, filename)},
    )
