"""The manager's "team talk held" page: reached by the link in their briefing, no login."""

from types import SimpleNamespace

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from campaigns.cascade.forms import TeamTalkHeldForm
from campaigns.cascade.selectors import skip_level, talk_for_token, talk_handout
from campaigns.cascade.services import team_talk_confirm
from campaigns.delivery.emails import content_language_of
from campaigns.landing.views import public_page


def _talk(token: str):
    talk = talk_for_token(token)
    if talk is None:
        raise Http404
    return talk


def _use_talk_language(request, talk) -> str:
    """Speak the language the manager reads the team talk in, as their briefing did, so the page is
    never mixed: theirs (or the one they chose with the switcher) where the talk has a version in it,
    else the project's primary language, the page's own words included."""
    chosen = settings.LANGUAGE_COOKIE_NAME in request.COOKIES
    wanted = translation.get_language() if chosen or not talk.manager.language else talk.manager.language
    language = content_language_of(talk.asset.project, SimpleNamespace(language=wanted), talk.asset)
    if language != translation.get_language():
        translation.activate(language)
        request.LANGUAGE_CODE = language
    return language


@public_page
@require_http_methods(["GET", "HEAD", "POST"])
def team_talk_held(request, token):
    talk = _talk(token)
    language = _use_talk_language(request, talk)
    today = timezone.localdate()
    if request.method == "POST":
        form = TeamTalkHeldForm(request.POST)
        if form.is_valid():
            team_talk_confirm(
                talk=talk,
                held_on=form.cleaned_data["held_on"],
                attendees=form.cleaned_data["attendees"],
                questions=form.cleaned_data["questions"],
            )
            messages.success(request, _("Thank you! Your team talk is recorded."))
            return redirect("cascade:team_talk_held", token=token)
    else:
        # One click: today's date is filled in; a confirmed talk shows what was recorded, to correct.
        initial = {"held_on": talk.held_on, "attendees": talk.attendees} if talk.is_confirmed else {"held_on": today}
        form = TeamTalkHeldForm(initial=initial)
    status = 400 if request.method == "POST" else 200
    context = {
        "project": talk.asset.project.in_language(language),
        "talk": talk,
        "asset": talk.asset.in_language(language),
        "next_path": request.path,
        "form": form,
        # Skip-level: a manager of managers sees how far their managers have come.
        "managers": skip_level(talk=talk),
        "handout": talk_handout(talk=talk),
    }
    return render(request, "cascade/team_talk_held.html", context, status=status)


@public_page
@require_safe
def team_talk_handout(request, token):
    """The handout to show the team, as a PDF, for the manager's link only."""
    render = talk_handout(talk=_talk(token))
    if render is None:
        raise Http404
    try:
        handle = render.pdf.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, content_type="application/pdf", as_attachment=True, filename=render.filename)
