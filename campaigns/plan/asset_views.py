"""Pages for one asset of the plan: create, read, edit, move its status, preview and test-send it."""

import copy
import logging
from email.header import decode_header, make_header

from csp.decorators import csp, csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST, require_safe

from audiences import selectors as audience_selectors
from audiences.models import Employee
from campaigns.delivery import emails
from campaigns.landing.selectors import is_by_invitation, is_public
from campaigns.models import PRINT_CHANNELS, Asset, Channel, Membership, SenderKind, Stage
from campaigns.plan import selectors
from campaigns.plan import services as plan
from campaigns.plan.asset_forms import MeetingSessionFormSet, TestSendForm, form_for_channel
from campaigns.plan.translation_views import language_rows
from campaigns.projects import services
from campaigns.projects.permissions import get_project_for_user
from lib.collation import people_order
from lib.templatetags.days_off import session_day_off
from lib.views import id_or_none

logger = logging.getLogger(__name__)

PREVIEW_EMPLOYEE_LIMIT = 300
# A rendered email shown inside the preview page: no scripts, no fetches, images from anywhere.
EMAIL_FRAME_CSP = {
    "default-src": ["'none'"],
    "img-src": ["'self'", "data:", "http:", "https:"],
    "style-src": ["'unsafe-inline'"],
    "frame-ancestors": ["'self'"],
}
# target status -> the button's words
TRANSITION_LABELS = {
    Asset.Status.DRAFT: gettext_lazy("Back to draft"),
    Asset.Status.READY: gettext_lazy("Ready for approval"),
    Asset.Status.APPROVED: gettext_lazy("Approve"),
    Asset.Status.SCHEDULED: gettext_lazy("Schedule"),
    Asset.Status.CANCELLED: gettext_lazy("Cancel asset"),
}


def _get_asset(project, pk: int) -> Asset:
    return get_object_or_404(
        Asset.objects.select_related("project", "image", "meeting", "project__created_by"), project=project, pk=pk
    )


def timing_label(asset: Asset) -> str:
    """ "T−21 · Mon 3 Mar 09:00": days from go-live and the local date and time."""
    when = timezone.localtime(asset.scheduled_for())
    days = (when.date() - asset.project.go_live).days
    relative = "T" if days == 0 else f"T{'+' if days > 0 else '−'}{abs(days)}"
    return f"{relative} · {date_format(when, _('D j M H:i'))}"


def _transitions(asset: Asset, membership: Membership) -> list[tuple[str, str]]:
    allowed = set(plan.TRANSITIONS[asset.status])
    if not asset.project.requires_approval and asset.status in (Asset.Status.DRAFT, Asset.Status.READY):
        allowed.add(Asset.Status.SCHEDULED)
    if not membership.is_owner:
        allowed.discard(Asset.Status.APPROVED)
    order = list(Asset.Status)
    return [(status, TRANSITION_LABELS[status]) for status in sorted(allowed, key=order.index)]


def _save_image(form, project, user) -> dict:
    """The image fields to save: a new upload goes through the pipeline, an existing one may get new alt text."""
    if "image_upload" not in form.fields:
        return {}
    processed = form.cleaned_data.get("image_upload")
    alt = (form.cleaned_data.get("image_alt") or "").strip()
    if processed:
        upload = form.files.get(form.add_prefix("image_upload"))
        image = services.image_store(
            project=project, processed=processed, by=user, alt_text=alt, name=getattr(upload, "name", "")
        )
        return {"image": image}
    image = form.cleaned_data.get("image")
    if image and alt:
        services.image_set_alt(image=image, alt_text=alt)
    return {"image": image}


def _save_sessions(formset, asset: Asset, user) -> None:
    if formset is None:
        return
    formset.instance = asset
    saved = formset.save(commit=False)
    plan.meeting_sessions_save(meeting=asset, save=saved, delete=list(formset.deleted_objects), by=user)


def _create_initial(request, project, channel: str) -> dict:
    """What the plan's "needs attention" links ask for: `?stage=` and `?audience=` (of this project only)."""
    initial = {}
    stage = request.GET.get("stage", "")
    if stage in Stage.values:
        initial["stage"] = stage
        if channel == Channel.EMAIL and stage == Stage.AWARENESS:
            initial["sender_kind"] = SenderKind.SPONSOR  # the why message comes from the sponsor
    audience = request.GET.get("audience", "")
    if id_or_none(audience) and project.audiences.filter(pk=id_or_none(audience)).exists():
        initial["audiences"] = [int(audience)]
    return initial


@login_required
def asset_create(request, slug):
    project, membership = get_project_for_user(request, slug, need="edit")
    channel = request.GET.get("channel", "")
    if channel not in Channel.values:
        return render(
            request,
            "campaigns/asset_channel.html",
            {"project": project, "membership": membership, "channels": Channel.choices},
        )
    form_class = form_for_channel(channel)
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = form_class(data, files, project=project, prefix="asset", initial=_create_initial(request, project, channel))
    formset = MeetingSessionFormSet(data, instance=Asset(), prefix="sessions") if channel == Channel.MEETING else None
    if request.method == "POST" and form.is_valid() and (formset is None or formset.is_valid()):
        try:
            with transaction.atomic():
                fields = form.asset_fields() | _save_image(form, project, request.user)
                asset = plan.asset_create(
                    project=project,
                    by=request.user,
                    channel=channel,
                    audiences=form.cleaned_data["audiences"],
                    **fields,
                )
                _save_sessions(formset, asset, request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("“%(title)s” is in the plan as a draft.") % {"title": asset.title})
            return redirect(asset)
    return render(
        request,
        "campaigns/asset_form.html",
        {
            "project": project,
            "membership": membership,
            "form": form,
            "formset": formset,
            "channel": channel,
            "channel_label": Channel(channel).label,
            "is_print": channel in PRINT_CHANNELS,
        },
    )


@require_safe
@login_required
def asset_detail(request, slug, pk):
    project, membership = get_project_for_user(request, slug)
    asset = _get_asset(project, pk)
    return render(
        request,
        "campaigns/asset_detail.html",
        {
            "project": project,
            "membership": membership,
            "asset": asset,
            "timing": timing_label(asset),
            "audiences": asset.audiences.order_by("name"),
            "sessions": asset.sessions.all() if asset.channel == Channel.MEETING else None,
            "by_invitation": asset.channel == Channel.MEETING and is_by_invitation(asset),
            "is_public": is_public(asset),
            "transitions": _transitions(asset, membership) if membership.can_edit else [],
            "audit": selectors.asset_history(asset=asset),
            "languages": language_rows(project, asset, "campaigns:asset_translate", asset.pk),
        },
    )


@login_required
def asset_edit(request, slug, pk):
    project, membership = get_project_for_user(request, slug, need="edit")
    asset = _get_asset(project, pk)
    form_class = form_for_channel(asset.channel)
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    more_rows = data is not None and "add_sessions" in data
    if more_rows:  # three more empty session rows, nothing saved (works without JavaScript)
        data = data.copy()
        data["sessions-TOTAL_FORMS"] = str(min(int(data.get("sessions-TOTAL_FORMS") or 0), 200) + 3)
    form = form_class(data, files, instance=asset, project=project, prefix="asset")
    formset = (
        MeetingSessionFormSet(data, instance=asset, prefix="sessions") if asset.channel == Channel.MEETING else None
    )
    status_before = asset.status
    if not more_rows and request.method == "POST" and form.is_valid() and (formset is None or formset.is_valid()):
        try:
            with transaction.atomic():
                fields = form.asset_fields() | _save_image(form, project, request.user)
                asset = plan.asset_update(
                    asset=asset, by=request.user, audiences=list(form.cleaned_data["audiences"]), **fields
                )
                _save_sessions(formset, asset, request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            asset.refresh_from_db()
            if asset.status != status_before:
                messages.warning(request, _("Saved. The content changed, so the asset needs approval again."))
            else:
                messages.success(request, _("Saved."))
            for session in asset.sessions.all() if asset.channel == Channel.MEETING else ():
                if note := session_day_off(session):
                    messages.warning(request, note)
            return redirect(asset)
    return render(
        request,
        "campaigns/asset_form.html",
        {
            "project": project,
            "membership": membership,
            "form": form,
            "formset": formset,
            "asset": asset,
            "channel": asset.channel,
            "channel_label": asset.get_channel_display(),
            "is_print": asset.is_print,
            "by_invitation": asset.channel == Channel.MEETING and is_by_invitation(asset),
        },
    )


@require_POST
@login_required
def asset_status(request, slug, pk):
    project, _membership = get_project_for_user(request, slug, need="edit")
    asset = _get_asset(project, pk)
    status = request.POST.get("status", "")
    if status not in Asset.Status.values:
        messages.error(request, _("Choose a status."))
        return redirect(asset)
    try:
        asset = plan.asset_set_status(asset=asset, status=status, by=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("The asset is now “%(status)s”.") % {"status": asset.get_status_display()})
    return redirect(asset)


def _preview_employees(asset: Asset):
    """Employees in the asset's audiences, or every reachable employee when it has none (or they are empty)."""
    reachable = audience_selectors.reachable_employees()
    members = Q(pk__in=[])
    for audience in asset.audiences.all():
        members |= Q(pk__in=audience_selectors.audience_members(audience=audience).values("pk"))
    chosen = reachable.filter(members)
    if not chosen.exists():
        chosen = reachable
    return chosen.order_by(*people_order())[:PREVIEW_EMPLOYEE_LIMIT]


def _preview_employee(request, asset: Asset, candidates) -> Employee:
    raw = request.GET.get("employee") or request.POST.get("employee") or ""
    if id_or_none(raw):
        found = audience_selectors.reachable_employees().filter(pk=id_or_none(raw)).first()
        if found is not None:
            return found
    first = next(iter(candidates), None)
    return first if first is not None else _stand_in(request)


def _stand_in(request) -> Employee:
    """The logged-in user dressed as an employee, for previews and test sends without a directory."""
    user = request.user
    return Employee(
        email=user.email,
        first_name=user.first_name or user.get_username(),
        last_name=user.last_name,
        language=getattr(request, "LANGUAGE_CODE", "") or Employee.Language.SWEDISH,
    )


def _in_language(request, project, employee: Employee) -> Employee:
    """The employee as they would read the email in the language chosen on the preview (`?language=`)."""
    language = request.GET.get("language", "")
    if language not in project.languages or language == employee.language:
        return employee
    employee = copy.copy(employee)
    employee.language = language  # this preview only; nothing is saved
    return employee


def _readable_header(value: str) -> str:
    """An address header as a mail program shows it: "Karin Åström <…>", not its encoded form."""
    return str(make_header(decode_header(value))) if value else ""


@require_safe
@login_required
@csp_update({"frame-src": ["'self'"]})
def asset_preview(request, slug, pk):
    project, membership = get_project_for_user(request, slug)
    asset = _get_asset(project, pk)
    context = {"project": project, "membership": membership, "asset": asset, "timing": timing_label(asset)}
    if asset.channel == Channel.EMAIL:
        candidates = list(_preview_employees(asset))
        employee = _preview_employee(request, asset, candidates)
        if employee.pk and employee not in candidates:
            candidates.insert(0, employee)
        rendered = emails.render_campaign_email(
            asset=asset,
            employee=_in_language(request, project, employee),
            landing_url=emails.preview_landing_url(project),
        )
        context |= {
            "employees": candidates,
            "employee": employee,
            "preview_language": request.GET.get("language", "")
            if request.GET.get("language") in project.languages
            else "",
            "languages": project.language_choices if project.other_languages else [],
            "rendered": rendered,
            "from_display": _readable_header(rendered.from_email),
            "test_form": TestSendForm(initial={"to": request.user.email}, languages=project.language_choices),
            "reply_to_display": _readable_header(getattr(rendered, "reply_to", "") or ""),
        }
    return render(request, "campaigns/asset_preview.html", context)


@require_safe
@login_required
@xframe_options_sameorigin
@csp(EMAIL_FRAME_CSP)
def asset_email_html(request, slug, pk):
    """The rendered email alone, to be shown in the preview page's frames."""
    project, _membership = get_project_for_user(request, slug)
    asset = _get_asset(project, pk)
    if asset.channel != Channel.EMAIL:
        raise Http404
    employee = _in_language(request, project, _preview_employee(request, asset, _preview_employees(asset)))
    rendered = emails.render_campaign_email(
        asset=asset, employee=employee, landing_url=emails.preview_landing_url(project)
    )
    response = HttpResponse(rendered.html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def asset_test_send(request, slug, pk):
    project, _membership = get_project_for_user(request, slug, need="edit")
    asset = _get_asset(project, pk)
    if asset.channel != Channel.EMAIL:
        raise Http404
    data = request.POST.copy()
    data.setdefault("to", request.user.email)  # an older form: the user's own address
    form = TestSendForm(data, languages=project.language_choices)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("campaigns:asset_preview", slug=project.slug, pk=asset.pk)
    employee = copy.copy(_preview_employee(request, asset, _preview_employees(asset)))
    if form.cleaned_data["language"]:
        employee.language = form.cleaned_data["language"]  # this test only; nothing is saved
    try:
        for address in form.cleaned_data["to"]:
            emails.email_send_test(asset=asset, employee=employee, to=address, by=request.user)
    except OSError as exc:
        logger.warning("asset %s: test send failed: %s", asset.pk, exc)
        messages.error(request, _("The mail server did not accept the test: %(error)s") % {"error": exc})
    else:
        messages.success(request, _("A test was sent to %(emails)s.") % {"emails": ", ".join(form.cleaned_data["to"])})
    return redirect("campaigns:asset_preview", slug=project.slug, pk=asset.pk)
