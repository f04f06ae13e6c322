"""Writing the project's further languages: an asset's words, or the project's story, beside the primary text."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from campaigns.landing import services as landing
from campaigns.models import Asset, Channel, Comprehension
from campaigns.plan import services as plan
from campaigns.plan.translation_forms import (
    STORY_FIELDS,
    TranslationForm,
    asset_field_labels,
    asset_translated_fields,
)
from campaigns.projects import services as projects
from campaigns.projects.permissions import get_project_for_user
from lib.translations import language_label


def _form_page(request, project, membership, form, language: str, *, heading, back_url: str, active: str):
    """One language's version beside the primary text: the page every translation form shares."""
    return render(
        request,
        "campaigns/translation_form.html",
        {
            "project": project,
            "membership": membership,
            "form": form,
            "heading": heading,
            "back_url": back_url,
            "language": language,
            "language_name": language_label(language, in_sentence=True),
            "primary_name": language_label(project.language, in_sentence=True),
            "active": active,
        },
    )


def _language_of(project, language: str) -> str:
    if language not in project.other_languages:
        raise Http404  # a language the project does not have: nothing to write
    return language


@login_required
def asset_translate(request, slug, pk, language):
    project, membership = get_project_for_user(request, slug, need="edit")
    language = _language_of(project, language)
    asset = get_object_or_404(Asset.objects.select_related("project"), project=project, pk=pk)
    sessions = asset.sessions.all() if asset.channel == Channel.MEETING else ()
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = TranslationForm(
        data,
        files,
        obj=asset,
        names=asset_translated_fields(asset),
        language=language,
        sessions=sessions,
        labels=asset_field_labels(asset),
    )
    if form.is_bound and form.is_valid():
        status_before = asset.status
        try:
            asset = plan.asset_translate(
                asset=asset, language=language, by=request.user, values=form.values(), places=form.places()
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if asset.status != status_before:
                messages.warning(request, _("Saved. The content changed, so the asset needs approval again."))
            else:
                messages.success(request, _("Saved."))
            return redirect(asset)
    return _form_page(
        request,
        project,
        membership,
        form,
        language,
        heading=asset.title,
        back_url=asset.get_absolute_url(),
        active="plan",
    )


@login_required
def story_translate(request, slug, language):
    project, membership = get_project_for_user(request, slug, need="edit")
    language = _language_of(project, language)
    form = TranslationForm(request.POST or None, obj=project, names=STORY_FIELDS, language=language)
    if form.is_bound and form.is_valid():
        try:
            projects.project_translate(project=project, language=language, values=form.values(), by=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(project)
    return _form_page(
        request,
        project,
        membership,
        form,
        language,
        heading=_("The story"),
        back_url=project.get_absolute_url(),
        active="overview",
    )


@login_required
def question_translate(request, slug, language):
    """The comprehension question and its answers in a further language of the project."""
    project, membership = get_project_for_user(request, slug, need="edit")
    language = _language_of(project, language)
    question = get_object_or_404(Comprehension, project=project)
    names = [name for name in question.TRANSLATED if getattr(question, name)]
    form = TranslationForm(request.POST or None, obj=question, names=names, language=language)
    if form.is_bound and form.is_valid():
        try:
            landing.comprehension_translate(question=question, language=language, values=form.values(), by=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("campaigns:comprehension", slug=project.slug)
    return _form_page(
        request,
        project,
        membership,
        form,
        language,
        heading=_("Comprehension question"),
        back_url=reverse("campaigns:comprehension", args=[project.slug]),
        active="dashboard",
    )


def language_rows(project, obj, url_name: str, *args) -> list[dict]:
    """For a detail page's "Languages" card: each further language, where its version stands, and its page."""
    rows = []
    for code in project.other_languages:
        state = obj.translation_state(code)
        if isinstance(obj, Asset) and obj.channel == Channel.MEETING:
            for session in obj.sessions.all():
                place = session.translation_state(code)
                state.missing += [f"place {session.pk}" for _name in place.missing]
                state.outdated += [f"place {session.pk}" for _name in place.outdated]
        rows.append(
            {
                "code": code,
                "name": language_label(code),
                "state": state,
                "url": reverse(url_name, args=[project.slug, *args, code]),
            }
        )
    return rows
