from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from campaigns.analytics.load import can_see_load
from campaigns.models import Membership
from campaigns.plan.translation_views import language_rows
from campaigns.plan.views import warn_of_old_date
from campaigns.projects import selectors, services
from campaigns.projects.forms import InviteForm, ProjectForm, RoleForm
from campaigns.projects.permissions import get_project_for_user
from lib.colors import readable_on_white, text_on


@require_safe
@login_required
def project_list(request):
    context = {"memberships": selectors.memberships_of(user=request.user), "can_see_load": can_see_load(request.user)}
    return render(request, "campaigns/project_list.html", context)


def _save_images(request, form: ProjectForm, project) -> None:
    for field, slot in (("logo_upload", "logo"), ("hero_upload", "hero_image")):
        processed = form.cleaned_data.get(field)
        if processed:
            alt = form.cleaned_data["hero_alt"] if slot == "hero_image" else _("%(name)s logo") % {"name": project.name}
            services.project_set_image(
                project=project,
                slot=slot,
                processed=processed,
                by=request.user,
                alt_text=alt,
                name=getattr(request.FILES.get(field), "name", "") or form.kept_names()[field],
            )
    if project.hero_image_id and not form.cleaned_data.get("hero_upload"):
        services.image_set_alt(image=project.hero_image, alt_text=form.cleaned_data["hero_alt"])


@login_required
def project_create(request):
    form = ProjectForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            project = services.project_create(by=request.user, **form.project_fields())
            _save_images(request, form, project)
        messages.success(request, _("The project is created. Now invite your team."))
        return redirect(project)
    form.keep_uploads()
    return render(request, "campaigns/project_form.html", {"form": form})


@require_safe
@login_required
def project_detail(request, slug):
    project, membership = get_project_for_user(request, slug)
    return render(
        request,
        "campaigns/project_detail.html",
        {
            "project": project,
            "membership": membership,
            "overview": selectors.project_overview(project=project),
            "steps": _unfinished(selectors.getting_started(project=project)),
            "languages": language_rows(project, project, "campaigns:story_translate"),
        },
    )


@login_required
def project_edit(request, slug):
    project, membership = get_project_for_user(request, slug, need="edit")
    form = ProjectForm(request.POST or None, request.FILES or None, instance=project)
    old_go_live = project.go_live
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            services.project_update(project=project, by=request.user, **form.project_fields())
            _save_images(request, form, project)
        messages.success(request, _("Saved."))
        if project.go_live != old_go_live:
            warn_of_old_date(request, project=project, old=old_go_live)
        return redirect(project)
    form.keep_uploads()
    return render(request, "campaigns/project_form.html", {"form": form, "project": project, "membership": membership})


def _unfinished(steps: list) -> list:
    """The getting-started list while any step is open; nothing once all are done."""
    return steps if not all(step.done for step in steps) else []


@login_required
def project_delete(request, slug):
    project, membership = get_project_for_user(request, slug, need="own")
    if request.method == "POST":
        services.project_delete(project=project, by=request.user)
        messages.success(request, _("The project “%(name)s” was deleted.") % {"name": project.name})
        return redirect("campaigns:project_list")
    return render(request, "campaigns/project_confirm_delete.html", {"project": project, "membership": membership})


@login_required
def team(request, slug):
    project, membership = get_project_for_user(request, slug)
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        if not membership.is_owner:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.membership_invite(project=project, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error("email", exc)
            else:
                messages.success(
                    request,
                    _("%(email)s is in the team, and an email with the way in is on its way.") % form.cleaned_data,
                )
                return redirect("campaigns:team", slug=project.slug)
    return render(
        request,
        "campaigns/team.html",
        {
            "project": project,
            "membership": membership,
            "form": form,
            "team": project.memberships.select_related("user").order_by("role", "user__email"),
            "roles": Membership.Role.choices,
        },
    )


@require_POST
@login_required
def member_notifications(request, slug):
    """A member's own switches for the team's emails (any member, for themselves only)."""
    project, membership = get_project_for_user(request, slug)
    services.membership_set_notifications(
        membership=membership, approvals="approvals" in request.POST, questions="questions" in request.POST
    )
    messages.success(request, _("Your choices are saved."))
    return redirect("campaigns:team", slug=project.slug)


@require_POST
@login_required
def member_role(request, slug, member_id):
    project, _membership = get_project_for_user(request, slug, need="own")
    member = get_object_or_404(Membership, project=project, pk=member_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_change_role(membership=member, role=form.cleaned_data["role"], by=request.user)
            messages.success(request, _("Role changed."))
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
    return redirect("campaigns:team", slug=project.slug)


@require_POST
@login_required
def member_remove(request, slug, member_id):
    project, _membership = get_project_for_user(request, slug, need="own")
    member = get_object_or_404(Membership, project=project, pk=member_id)
    try:
        services.membership_remove(membership=member, by=request.user)
        messages.success(request, _("%(user)s was removed from the team.") % {"user": member.user.email})
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect("campaigns:team", slug=project.slug)


@require_safe
@login_required
def brand_css(request, slug):
    """The project's colours as CSS variables, so pages need no inline styles under the CSP."""
    project, _membership = get_project_for_user(request, slug)
    context = {
        "project": project,
        "on_primary": text_on(project.primary_color),
        "primary_text": readable_on_white(project.primary_color),
        "accent_text": readable_on_white(project.accent_color, fallback="#6b2a10"),
    }
    return render(request, "campaigns/brand.css", context, content_type="text/css")
