"""Sending an email asset from the browser: schedule, pause, resume, cancel, retry failed, progress.

Members see the progress; editors and owners act (403 for viewers, 404 for outsiders).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from campaigns.delivery import services as delivery
from campaigns.models import Asset, EmailSend
from campaigns.projects.permissions import get_project_for_user


def _asset(project, pk: int) -> Asset:
    return get_object_or_404(Asset.objects.select_related("project"), project=project, pk=pk)


@require_safe
@login_required
def asset_send(request, slug: str, pk: int):
    project, membership = get_project_for_user(request, slug)
    asset = _asset(project, pk)
    context = {"project": project, "membership": membership, "asset": asset, **delivery.send_panel(asset=asset)}
    return render(request, "campaigns/asset_send.html", context)


@never_cache
@require_safe
@login_required
def asset_send_status(request, slug: str, pk: int):
    project, _membership = get_project_for_user(request, slug)
    return JsonResponse(delivery.send_progress(asset=_asset(project, pk)))


def _act(request, slug: str, pk: int, name: str, action, done: str):
    project, _membership = get_project_for_user(request, slug, need="edit")
    asset = _asset(project, pk)
    if name == "schedule":  # the service alone would also re-schedule what the panel does not offer
        blocker = delivery.schedule_blocker(asset=asset, send=EmailSend.objects.filter(asset=asset).first())
        if blocker:
            messages.error(request, blocker)
            return redirect(asset.get_absolute_url())
    try:
        outcome = action(asset=asset, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done % {"n": outcome} if "%(n)" in done else done)
    return redirect(asset.get_absolute_url())


@require_POST
@login_required
def asset_send_schedule(request, slug: str, pk: int):
    local = request.POST.get("local_time") == "1"

    def schedule(*, asset, by):
        return delivery.email_schedule(asset=asset, by=by, local_time=local)

    return _act(request, slug, pk, "schedule", schedule, _("The email is scheduled."))


@require_POST
@login_required
def asset_send_now(request, slug: str, pk: int):
    return _act(request, slug, pk, "now", delivery.email_send_now, _("The email goes out now."))


@require_POST
@login_required
def asset_send_pause(request, slug: str, pk: int):
    return _act(request, slug, pk, "pause", delivery.email_pause, _("Sending is paused."))


@require_POST
@login_required
def asset_send_resume(request, slug: str, pk: int):
    return _act(request, slug, pk, "resume", delivery.email_resume, _("Sending continues."))


@require_POST
@login_required
def asset_send_cancel(request, slug: str, pk: int):
    return _act(request, slug, pk, "cancel", delivery.email_cancel, _("The send is cancelled."))


@require_POST
@login_required
def asset_send_retry(request, slug: str, pk: int):
    return _act(request, slug, pk, "retry", delivery.email_retry_failed, _("%(n)d failed emails will be sent again."))
