"""The launch plan: the timeline by week, coverage and warnings, templates, moving go-live, exports.

Viewers may look and export; editors and owners may change; outsiders get a 404.
"""

import base64
import datetime
import logging
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.validators import slug_re
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from weasyprint import HTML

from campaigns.models import Asset, ChangeProject, Channel, PlanTemplate, SenderKind
from campaigns.plan import selectors
from campaigns.plan import services as plan
from campaigns.plan.forms import GoLiveForm, PlanFilterForm, TemplateApplyForm
from campaigns.projects import services
from campaigns.projects.permissions import get_project_for_user
from lib.pdf import FetchRefused, SafeFetcher, time_limit
from lib.spreadsheets import spreadsheet_response
from lib.views import id_or_none

logger = logging.getLogger(__name__)

PDF_TIMEOUT = 30
# PDF density -> about how many table rows (assets plus week headings) it fits on one page
PDF_ROWS_PER_DENSITY = {"normal": 26, "dense": 36, "densest": 50, "tiny": 70}
FONT_DIR = Path(settings.BASE_DIR) / "static" / "fonts" / "source-sans-3"


@require_safe
@login_required
def plan_page(request, slug):
    project, membership = get_project_for_user(request, slug)
    assets = selectors.plan_assets(project=project)
    audiences = list(project.audiences.order_by("name"))
    filters = PlanFilterForm(request.GET or None, audiences=audiences)
    chosen = filters.values() if request.GET else {"channel": "", "stage": "", "audience_id": None}
    weeks = selectors.plan_timeline(project=project, assets=assets, **chosen)
    return render(
        request,
        "campaigns/plan.html",
        {
            "project": project,
            "membership": membership,
            "weeks": weeks,
            "asset_count": len(assets),
            "shown_count": sum(len(week.items) for week in weeks),
            "filtered": any(chosen.values()),
            "filters": filters,
            "coverage": selectors.plan_coverage(project=project, assets=assets, audiences=audiences),
            "go_live_form": GoLiveForm(instance=project) if membership.can_edit else None,
            "fixed_count": sum(1 for a in assets if not a.is_relative),
        },
    )


@login_required
def plan_template(request, slug):
    project, membership = get_project_for_user(request, slug, need="edit")
    templates = PlanTemplate.objects.filter(is_active=True).prefetch_related("items")
    chosen = request.POST.get("template") or request.GET.get("template")
    template = None
    if chosen:
        if id_or_none(chosen):
            template = get_object_or_404(templates, pk=id_or_none(chosen))
        elif slug_re.fullmatch(chosen):
            template = get_object_or_404(templates, slug=chosen)
        else:  # not a slug: a NUL byte would even be a database error on PostgreSQL
            raise Http404
    if template is None:
        # The templates written in the project's primary language, whatever the interface speaks.
        own = [t for t in templates if t.language == project.language]
        return render(
            request,
            "campaigns/plan_template_choose.html",
            {"project": project, "membership": membership, "templates": own or list(templates)},
        )
    form = TemplateApplyForm(request.POST or None, template=template, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            added = plan.plan_apply_template(
                project=project,
                template=template,
                items=list(form.cleaned_data["items"]),
                audiences=list(form.cleaned_data["audiences"]),
                by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("%(count)d assets from “%(template)s” are in the plan as drafts. Make them your own.")
                % {"count": len(added), "template": template.name},
            )
            return redirect("campaigns:plan", slug=project.slug)
    items = [
        {
            "item": item,
            "when": project.go_live + datetime.timedelta(days=item.offset_days),
            "t_label": selectors.t_label(item.offset_days),
            "checked": not form.is_bound or str(item.pk) in form.data.getlist("items"),
        }
        for item in form.fields["items"].queryset
    ]
    return render(
        request,
        "campaigns/plan_template.html",
        {
            "project": project,
            "membership": membership,
            "template": template,
            "form": form,
            "items": items,
            "existing_count": project.assets.count(),
        },
    )


@require_POST
@login_required
def plan_go_live(request, slug):
    project, _membership = get_project_for_user(request, slug, need="edit")
    old = project.go_live
    form = GoLiveForm(request.POST, instance=ChangeProject.objects.get(pk=project.pk))
    if not form.is_valid():
        messages.error(request, _("Enter go-live as a date."))
        return redirect("campaigns:plan", slug=project.slug)
    new = form.cleaned_data["go_live"]
    if new == old:
        return redirect("campaigns:plan", slug=project.slug)
    now = timezone.now()
    rushed = [
        asset.title
        for asset in project.assets.filter(channel=Channel.EMAIL, status=Asset.Status.SCHEDULED, fixed_at__isnull=True)
        if asset.scheduled_for(old) >= now > asset.scheduled_for(new)
    ]
    if rushed:
        messages.error(
            request,
            _(
                "Moving go-live to %(date)s would send these scheduled emails at once: %(titles)s. "
                "Unschedule them first, or choose a later date."
            )
            % {"date": date_format(new, "j F Y"), "titles": ", ".join(f"“{t}”" for t in rushed)},
        )
        return redirect("campaigns:plan", slug=project.slug)
    try:
        services.project_update(project=project, by=request.user, go_live=new)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        moved = project.assets.filter(fixed_at__isnull=True).count()
        messages.success(
            request,
            _(
                "Go-live is now %(date)s (%(days)+d days). %(moved)d assets moved with it; assets on a fixed date stayed."
            )
            % {"date": date_format(new, "j F Y"), "days": (new - old).days, "moved": moved},
        )
        warn_of_old_date(request, project=project, old=old)
    return redirect("campaigns:plan", slug=project.slug)


def warn_of_old_date(request, *, project: ChangeProject, old: datetime.date) -> None:
    """After go-live moved: name the texts that still write the old date out."""
    places = selectors.texts_mentioning(project=project, day=old)
    if places:
        messages.warning(
            request,
            _("The old go-live date (%(date)s) is still written in: %(places)s. Change it there, or use {{ go_live }}.")
            % {"date": date_format(old, "j F Y"), "places": ", ".join(places)},
        )


def _sender(asset: Asset, project: ChangeProject) -> str:
    if asset.channel != Channel.EMAIL:
        return ""
    if asset.sender_kind == SenderKind.SPONSOR:
        return project.sponsor_name or str(SenderKind.SPONSOR.label)
    if asset.sender_kind == SenderKind.NAMED:
        return asset.sender_name or asset.sender_email
    return str(SenderKind(asset.sender_kind).label)


def plan_rows(*, project: ChangeProject) -> tuple[list[str], list[list]]:
    """The plan as spreadsheet headers and rows, in date order."""
    headers = [
        _("Date"),
        _("T±days"),
        _("Week"),
        _("Channel"),
        _("ADKAR stage"),
        _("Title"),
        _("Audiences"),
        _("Status"),
        _("Sender"),
    ]
    rows = []
    for week in selectors.plan_timeline(project=project):
        for item in week.items:
            asset = item.asset
            rows.append(
                [
                    item.when,
                    item.days,
                    str(week.label),
                    asset.get_channel_display(),
                    asset.get_stage_display(),
                    asset.title,
                    ", ".join(a.name for a in asset.audiences.all()),
                    asset.get_status_display(),
                    _sender(asset, project),
                ]
            )
    return headers, rows


def _filename(project: ChangeProject) -> str:
    return f"{slugify(project.name) or project.slug}-{_('plan')}"


@require_safe
@login_required
def plan_export(request, slug, fmt):
    project, _membership = get_project_for_user(request, slug)
    headers, rows = plan_rows(project=project)
    return spreadsheet_response(rows, headers, fmt=fmt, filename=_filename(project))


class DataOnlyFetcher(SafeFetcher):
    """The plan PDF is built from our own text and embedded fonts: it may fetch nothing but `data:` URIs."""

    def _fetch(self, url: str):
        if not url.lower().startswith("data:"):
            raise FetchRefused("the plan PDF fetches data: URIs only")
        return super()._fetch(url)


@cache
def _font_data_uris() -> dict[str, str]:
    fonts = {}
    for weight in ("400", "700"):
        path = FONT_DIR / f"source-sans-3-latin-{weight}-normal.woff"
        if path.is_file():
            fonts[weight] = "data:font/woff;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    return fonts


def plan_pdf(*, project: ChangeProject) -> bytes:
    """The one-page communication plan: landscape A4, the brand colours, a table by week.

    A long plan is set tighter until it fits one page; only a plan too long even for the
    tightest setting runs on to a second page.
    """
    weeks = selectors.plan_timeline(project=project)
    count = sum(len(week.items) for week in weeks)
    context = {
        "project": project,
        "weeks": weeks,
        "count": count,
        "fonts": _font_data_uris(),
        "generated": timezone.localtime(),
    }
    fetcher = DataOnlyFetcher("about:blank")
    rows = count + len(weeks)
    # Skip the settings that cannot fit this many rows; each render costs a few hundred ms.
    start = sum(1 for most in PDF_ROWS_PER_DENSITY.values() if rows > most)
    with time_limit(PDF_TIMEOUT):
        for density in list(PDF_ROWS_PER_DENSITY)[min(start, len(PDF_ROWS_PER_DENSITY) - 1) :]:
            html = render_to_string("campaigns/plan_pdf.html", context | {"density": density})
            document = HTML(string=html, base_url="about:blank", url_fetcher=fetcher).render()
            if len(document.pages) == 1:
                break
        return document.write_pdf()


@require_safe
@login_required
def plan_export_pdf(request, slug):
    project, _membership = get_project_for_user(request, slug)
    pdf = plan_pdf(project=project)
    return HttpResponse(
        pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": content_disposition_header(True, f"{_filename(project)}.pdf")},
    )
