"""The employees' landing page: public, no login.

Reached by a personal link (`/p/<token>/`), the general link (`/l/<slug>/`) or a poster's
QR code (`/l/<slug>/?src=<print token>`, counted as a scan and redirected to the clean URL).
A GET changes nothing but a visit or scan counter; every POST has CSRF and a rate limit;
an unknown token is a plain 404.
"""

import hashlib
import re
import secrets
from functools import wraps

from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.formats import date_format
from django.utils.html import escape, format_html
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from audiences.selectors import reachable_employees
from campaigns.delivery import merge
from campaigns.delivery.emails import merged_html
from campaigns.landing import invites, selectors
from campaigns.landing import services as landing
from campaigns.landing.forms import AskForm, BookForm, GeneralBookForm, PersonalAskForm, PulseForm
from campaigns.models import Booking, ChangeProject, LandingCounter, LandingToken, MeetingSession, PrintRender
from campaigns.plan.asset_forms import video_host_allowed
from campaigns.projects.permissions import get_project_for_user
from campaigns.projects.services import project_landing_checked
from lib import ratelimit
from lib.colors import readable_on_white, text_on
from lib.converters import is_token
from lib.csrf import masked_token

# The cached public part is also bumped on every change the page shows; the time limit
# catches changes made elsewhere (the plan's milestones, a new film).
PUBLIC_CACHE_SECONDS = 60
TOKEN_CACHE_SECONDS = 30
# How long a process trusts its copy of a shared version or a person's state: another process's
# change (someone's booking, a published answer) shows on pages served here within this time.
# The person who made a change reads fresh for FRESH_COOKIE_SECONDS after their form (a cookie).
SHARED_COPY_SECONDS = 10
FRESH_COOKIE = "landing_fresh"
FRESH_COOKIE_SECONDS = 30
RATE_LIMIT = (20, 600)  # POSTs per key per window (seconds): a personal token, or an address on the general link


# Finding the project


def _personal(token: str, *, fresh: bool = False) -> LandingToken:
    """The personal link, with its project and employee; pages read it from the cache (short), forms fresh."""
    if len(token) > 64:
        raise Http404
    key = "landing:token:" + hashlib.sha256(token.encode()).hexdigest()
    found = None if fresh else landing.local_cache.get(key)
    if found is None:
        found = (
            LandingToken.objects.select_related("project__logo", "project__hero_image", "employee")
            .filter(token=token, employee__is_active=True, employee__erased_at__isnull=True)
            .first()
        )
        if found is None:
            raise Http404
        # Short: a deactivated employee's link, or a changed story, shows within this time.
        landing.local_cache.set(key, found, TOKEN_CACHE_SECONDS)
    return found


def _general(slug: str) -> ChangeProject:
    return get_object_or_404(ChangeProject.objects.select_related("logo", "hero_image"), slug=slug)


def _use_language_of(request, employee) -> None:
    # The employee's language, unless they chose one with the switcher (the language cookie).
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return
    if employee.language in dict(settings.LANGUAGES) and employee.language != translation.get_language():
        translation.activate(employee.language)
        request.LANGUAGE_CODE = employee.language


def _public_headers(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    patch_cache_control(response, private=True, no_store=True)
    patch_vary_headers(response, ["Cookie", "Accept-Language"])
    return response


def public_page(view):
    """Public landing views: the page's security headers, and a rate limit on every POST."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST":
            key = kwargs.get("token") or ratelimit.client_address(request)
            limit, window = getattr(settings, "LANDING_RATE_LIMIT", RATE_LIMIT)
            if not ratelimit.allow("landing", key, limit=limit, window=window):
                response = render(request, "landing/too_many.html", status=429)
                response["Retry-After"] = str(window)
                return _public_headers(response)
        response = view(request, *args, **kwargs)
        if request.method == "POST" and response.status_code == 302:
            response.set_cookie(
                FRESH_COOKIE,
                "1",
                max_age=FRESH_COOKIE_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return _public_headers(response)

    return wrapped


# The page


def _use_content_language(request, project: ChangeProject) -> str:
    """Speak the language the reader gets the project's content in, so the page is never mixed:
    theirs (link, switcher or browser) where the project has a version in it, else the primary."""
    language = project.content_language(translation.get_language())
    if language != translation.get_language():
        translation.activate(language)
        request.LANGUAGE_CODE = language
    return language


def _public_part(project: ChangeProject) -> dict:
    """The parts of the page that are the same for everyone, rendered once per language and change."""
    language = translation.get_language()
    key = landing.landing_cache_key(project=project, language=language)
    part = cache.get(key)
    if part is None:
        sessions, invitations = selectors.bookable_sessions(project=project, language=language)
        film = selectors.public_film(project=project)
        tracks = _caption_tracks(project, film, language)
        film = film.in_language(language) if film else None
        sponsor = selectors.sponsor_message(project=project)
        sponsor = sponsor.in_language(language) if sponsor else None
        project = project.in_language(language)
        context = {
            "project": project,
            "film": film,
            "film_type": _video_type(film),
            "film_tracks": tracks,
            "film_link": film.video_url if film and video_host_allowed(film.video_url) else "",
            "sponsor": sponsor,
            "sponsor_html": _sponsor_html(project, sponsor),
            "milestones": selectors.public_milestones(project=project, language=language),
        }
        part = {
            "story_html": render_to_string("landing/_story.html", context),
            "faq_html": render_to_string(
                "landing/_faq.html", {"questions": list(selectors.published_questions(project=project))}
            ),
            "sessions": sessions,
            # Meetings by invitation: shown on the personal pages of their groups' members only.
            "invitations": invitations,
        }
        cache.set(key, part, PUBLIC_CACHE_SECONDS)
    return part


_GREETING = re.compile(r"^\s*<p>[^<]{0,20}\{\{\s*(first_name|last_name|full_name)\s*\}\}[^<]{0,5}</p>", re.IGNORECASE)


def _caption_tracks(project: ChangeProject, film, language: str) -> list[dict]:
    """A captions track per language the film has captions in; the reader's language is the default."""
    if film is None or not film.video:
        return []
    tracks = []
    for code, name in project.language_choices:
        file = film.captions if code == project.language else film.in_language(code).captions
        if file and (code == project.language or film.translation(code).get("captions")):
            tracks.append({"url": file.url, "code": code, "label": name, "default": code == language})
    if tracks and not any(track["default"] for track in tracks):
        tracks[0]["default"] = True
    return tracks


def _video_type(film) -> str:
    if film is None or not film.video:
        return ""
    return "video/webm" if film.video.name.lower().endswith(".webm") else "video/mp4"


def _sponsor_html(project: ChangeProject, sponsor) -> str:
    if sponsor is None:
        return ""
    # Merge fields about the reader stay empty: this part is the same for everyone.
    values = dict.fromkeys(merge.FIELDS, "")
    values.update(
        project_name=project.name,
        sponsor_name=project.sponsor_name,
        sponsor_title=project.sponsor_title,
        go_live=date_format(project.go_live, "j F Y"),
        days_to_go_live=str(project.days_to_go_live()),
        landing_url=settings.SITE_URL + reverse("landing:general", args=[project.slug]),
    )
    # A greeting line that names the reader ("Hej {{ first_name }}!") has no reader here: drop it.
    body = _GREETING.sub("", sponsor.body, count=1)
    return mark_safe(merged_html(body, values))  # noqa: S308 - sanitised, merged escaped, sanitised


# The rendered page is cached (in this process only) with these stand-ins for what differs per
# request or person; they are replaced on the way out (plain ASCII, so escaping and URL-building
# leave them alone). Random per process: text that users wrote (a question, an HR field) cannot
# contain them, so the replacements touch the page's own slots only.
MARK = "lp" + secrets.token_hex(8)
TOKEN_MARK, NAME_MARK, CSRF_MARK = MARK + "token", MARK + "name", MARK + "csrf"
PULSE_NOTE_MARK, PULSE_BUTTON_MARK = MARK + "pulsenote", MARK + "pulsebutton"


def _render_page(request, project, *, link=None, forms=None, status=200):
    """The landing page; `link` is the personal LandingToken, or None on the general link.

    A page without form errors or notices is cached whole per project, language and change
    (and per person once they have booked or answered), so a warm personal page costs no query.
    """
    language = _use_content_language(request, project)
    employee = link.employee if link else None
    # Right after a form (a notice to show) everything is read from the shared cache; otherwise
    # this process may use its copies for a couple of seconds.
    fresh = "messages" in request.COOKIES or FRESH_COOKIE in request.COOKIES or bool(forms)
    version = _shared(landing._version_key(project.pk), fresh=fresh, default=1)
    if link:
        person_key = landing.person_cache_key(project_id=project.pk, employee_id=employee.pk)
        cached = _shared(person_key, fresh=fresh)
        if cached and cached[0] == (version, project.pulse_round):
            state = cached[1]
        else:  # computed afresh: keep a copy here too
            invitations = _public_part(project).get("invitations", {})
            state = landing.person_state(
                project=project, employee=employee, version=version, invitations=invitations.keys()
            )
            landing.local_cache.set(person_key, ((version, project.pulse_round), state), SHARED_COPY_SECONDS)
    else:
        state = {"booked": {}, "pulse": None, "invited": ()}
    notices = messages.get_messages(request) if "messages" in request.COOKIES or forms else []
    cacheable = not forms and not notices
    # Everyone without a booking shares one personal page (their link, name and pulse answers are
    # marks filled in below), apart from the general link's page, which asks for a work email instead;
    # a booking's cancel link is personal, so a booked person's page is their own.
    personal = sorted(state["booked"].items()), sorted(state.get("invited", ()))
    if personal != ([], []):
        who = "p" + hashlib.sha256(repr(personal).encode()).hexdigest()[:16]
    elif link:
        who = "named" if employee.first_name else "unnamed"  # the greeting is there or not
    else:
        who = "g"
    page_key = landing.landing_cache_key(project=project, language=language, version=version, part=f"page:{who}")
    html = landing.local_cache.get(page_key) if cacheable else None
    if html is None:
        context = _page_context(project, link=link, state=state, forms=forms or {}, notices=notices)
        context["marks"] = MARK if cacheable and link else ""
        html = render_to_string("landing/page.html", context)
        if cacheable:  # no typed text in it: indentation (a fifth of the page) can go
            html = _INDENTATION.sub("\n", html)
            landing.local_cache.set(page_key, html, PUBLIC_CACHE_SECONDS)
    if link and cacheable:
        if state["pulse"]:  # the answered page is split once at its marks; each person's copy is a join
            pieces = landing.local_cache.get(page_key + ":answered")
            if pieces is None:
                pieces = _answered_pieces(html)
                landing.local_cache.set(page_key + ":answered", pieces, PUBLIC_CACHE_SECONDS)
            html = _join_answered(pieces, state["pulse"])
        else:  # most people have not answered yet: they share one filled copy
            unanswered = landing.local_cache.get(page_key + ":unanswered")
            if unanswered is None:
                unanswered = _fill_pulse_marks(html, None)
                landing.local_cache.set(page_key + ":unanswered", unanswered, PUBLIC_CACHE_SECONDS)
            html = unanswered
    html = html.replace(CSRF_MARK, masked_token(request))
    if link:
        html = html.replace(TOKEN_MARK, link.token).replace(NAME_MARK, escape(employee.first_name))
    return HttpResponse(html, status=status)


def _shared(key: str, *, fresh: bool, default=None):
    """A value of the shared cache, through a copy in this process that lives SHARED_COPY_SECONDS."""
    if not fresh:
        value = landing.local_cache.get(key)
        if value is not None:
            return value
    value = cache.get(key, default)
    if value is not None:
        landing.local_cache.set(key, value, SHARED_COPY_SECONDS)
    return value


_INDENTATION = re.compile(r"[ \t]*\n\s*")
# The pulse's own fields only, so that no other stand-in (the CSRF one starts "<mark>c" too) is touched.
_PULSE_MARK = re.compile(rf" {MARK}c(reaction|awareness|desire|knowledge|ability|reinforcement)0([a-z0-9]+)")


def _fill_pulse_marks(html: str, pulse: dict | None) -> str:
    """Check the person's own pulse answers in the shared page, and word the note and button."""
    # The marks all lie between the note and the button: leave the rest of the page alone.
    start = html.find(PULSE_NOTE_MARK)
    end = html.find(PULSE_BUTTON_MARK, start) + len(PULSE_BUTTON_MARK)
    head, form, tail = html[:start], html[start:end], html[end:]
    for name, value in (pulse or {}).items():
        if value is not None:
            form = form.replace(f" {MARK}c{name}0{value}", " checked", 1)
    form = _PULSE_MARK.sub("", form)
    note = format_html(" <strong>{}</strong>", _("You have answered already; send again to change your answers."))
    form = form.replace(PULSE_NOTE_MARK, note if pulse else "", 1)
    button = escape(_("Update my answers") if pulse else _("Send my answers"))
    return head + form.replace(PULSE_BUTTON_MARK, button, 1) + tail


def _answered_pieces(html: str) -> tuple[str, list[str], str]:
    """The page for people who have answered, split at its pulse marks: (head, [text, name, value,
    text, …, text], tail), with the note and the button already worded."""
    start = html.find(PULSE_NOTE_MARK)
    end = html.find(PULSE_BUTTON_MARK, start) + len(PULSE_BUTTON_MARK)
    head, form, tail = html[:start], html[start:end], html[end:]
    note = format_html(" <strong>{}</strong>", _("You have answered already; send again to change your answers."))
    form = form.replace(PULSE_NOTE_MARK, note, 1).replace(PULSE_BUTTON_MARK, escape(_("Update my answers")), 1)
    return head, _PULSE_MARK.split(form), tail


def _join_answered(pieces: tuple[str, list[str], str], pulse: dict) -> str:
    """One person's copy of the answered page: their own answers checked."""
    head, parts, tail = pieces
    out = [head]
    for i in range(0, len(parts) - 1, 3):
        out.append(parts[i])
        if str(pulse.get(parts[i + 1])) == parts[i + 2]:
            out.append(" checked")
    out.append(parts[-1])
    out.append(tail)
    return "".join(out)


def _page_context(project, *, link, state, forms, notices) -> dict:
    part = _public_part(project)
    sessions = part["sessions"]
    if state.get("invited", ()):
        invited = [
            s for meeting_id in state.get("invited", ()) for s in part.get("invitations", {}).get(meeting_id, ())
        ]
        sessions = sorted([*sessions, *invited], key=lambda s: (s.starts_at, s.id))
    pulse = state["pulse"]
    if "pulse" not in forms:
        forms["pulse"] = PulseForm(language=translation.get_language(), initial=pulse or {})
    forms.setdefault("ask", PersonalAskForm() if link else AskForm())
    if not link:
        forms.setdefault("book", GeneralBookForm(sessions=part["sessions"]))
    base = reverse("landing:personal", args=[TOKEN_MARK]) if link else reverse("landing:general", args=[project.slug])
    return {
        "project": project.in_language(translation.get_language()),
        "personal": bool(link),
        "greeting_name": NAME_MARK if link and link.employee.first_name else "",
        "base_url": base,
        "next_path": base,
        "csrf_token": CSRF_MARK,
        "messages": notices,
        "story_html": part["story_html"],
        "faq_html": part["faq_html"],
        "sessions": sessions,
        "token": TOKEN_MARK,
        "session_rows": [{"session": s, "cancel_token": state["booked"].get(s.id)} for s in sessions],
        "pulse_answered": bool(pulse),
        "forms": forms,
    }


@public_page
@require_safe
def personal(request, token):
    link = _personal(token)
    _use_language_of(request, link.employee)
    landing.landing_count_buffered(
        project_id=link.project_id, kind=LandingCounter.Kind.VISIT, audience_id=link.audience_id
    )
    landing.landing_visit_record(link=link)
    return _render_page(request, link.project, link=link)


@public_page
@require_safe
def general(request, slug):
    project = _general(slug)
    source = request.GET.get("src")
    if source is not None and not is_token(source):  # not a QR code of ours: just the page
        return redirect("landing:general", slug=project.slug)
    if source is not None:
        # A QR code: count the scan of that printed piece, then show the clean address.
        asset_id = (
            PrintRender.objects.filter(qr_token=source[:32], asset__project=project)
            .values_list("asset_id", flat=True)
            .first()
        )
        if asset_id:
            landing.landing_count(project_id=project.pk, kind=LandingCounter.Kind.SCAN, source_id=asset_id)
        return redirect("landing:general", slug=project.slug)
    landing.landing_count_buffered(project_id=project.pk, kind=LandingCounter.Kind.VISIT)
    return _render_page(request, project)


@require_safe
def brand_css(request, slug):
    """The project's colours for the landing page, public (the page is), cached by browsers for a while."""
    project = get_object_or_404(ChangeProject.objects.only("primary_color", "accent_color"), slug=slug)
    context = {
        "primary": project.primary_color,
        "accent": project.accent_color,
        # White text where it reads on the brand colour (WCAG AA), otherwise near-black.
        "on_primary": text_on(project.primary_color),
        "on_accent": text_on(project.accent_color),
        "accent_text": readable_on_white(project.accent_color, fallback="#6b2a10"),
        "primary_text": readable_on_white(project.primary_color),
    }
    response = render(request, "landing/brand.css", context, content_type="text/css")
    patch_cache_control(response, public=True, max_age=300)
    return response


# The film


FILM_PLAY_LIMIT = (30, 600)  # beacons per address and window (seconds); more are answered but not counted


@csrf_exempt  # a beacon carries no token; it only adds one to an anonymous counter, like the open pixel
@require_POST
def film_play(request, slug, asset_id):
    """The landing page's film was started: count one play of that film (no person, no audience)."""
    project = _general(slug)
    film = selectors.public_film(project=project)
    if film is None or film.pk != asset_id or not film.video:
        raise Http404
    limit, window = getattr(settings, "FILM_PLAY_RATE_LIMIT", FILM_PLAY_LIMIT)
    if ratelimit.allow("film-play", ratelimit.client_address(request), limit=limit, window=window):
        landing.landing_count_buffered(project_id=project.pk, kind=LandingCounter.Kind.PLAY, source_id=film.pk)
    response = HttpResponse(status=204)
    patch_cache_control(response, private=True, no_store=True)
    return response


# Meetings


def _back(link, project, anchor: str) -> HttpResponseRedirect:
    url = reverse("landing:personal", args=[link.token]) if link else reverse("landing:general", args=[project.slug])
    return HttpResponseRedirect(f"{url}#{anchor}")


@public_page
@require_POST
def personal_book(request, token):
    link = _personal(token, fresh=True)
    _use_language_of(request, link.employee)
    form = BookForm(request.POST)
    session = _bookable_session(link.project, form)
    employee = link.employee
    if _book(request, session, employee, confirmed=True):
        text = _("Your seat is booked. The calendar invite is on its way to %(email)s.") % {"email": employee.email}
        messages.success(request, text, extra_tags="meetings")
    return _back(link, link.project, "meetings")


def _book(request, session: MeetingSession, employee, *, confirmed: bool) -> bool:
    """Book the employee a seat; a full or closed session is told on the page. True when booked."""
    try:
        landing.booking_create(
            session=session, email=employee.email, name=employee.full_name, employee=employee, confirmed=confirmed
        )
    except landing.SessionFull:
        messages.error(
            request, _("Sorry, that session has just been filled. Choose another one."), extra_tags="meetings"
        )
    except landing.SessionClosed:
        messages.error(request, _("That session can no longer be booked."), extra_tags="meetings")
    except landing.SessionByInvitation:
        messages.error(request, _("That session is by invitation only."), extra_tags="meetings")
    else:
        return True
    return False


@public_page
@require_POST
def general_book(request, slug):
    project = _general(slug)
    part = _public_part(project)
    form = GeneralBookForm(request.POST, sessions=part["sessions"])
    if not form.is_valid():
        return _render_page(request, project, forms={"book": form}, status=400)
    session = _bookable_session(project, form)
    email = form.cleaned_data["email"]
    employee = reachable_employees().filter(email__iexact=email).first()
    if employee is not None and not _book(request, session, employee, confirmed=False):
        return _back(None, project, "meetings")
    # The same answer whether or not the address is in the directory: the page does not confirm who works here.
    messages.success(
        request,
        _("Check your inbox: if %(email)s is a work address, a link to confirm your seat is on its way.")
        % {"email": email},
        extra_tags="meetings",
    )
    return _back(None, project, "meetings")


def _bookable_session(project, form) -> MeetingSession:
    if not form.is_valid():
        raise Http404
    session = MeetingSession.objects.filter(pk=form.cleaned_data["session"], meeting__project=project).first()
    if session is None:
        raise Http404
    return session


def _booking_by(field: str, token: str) -> Booking:
    if len(token) > 64:
        raise Http404
    return get_object_or_404(
        Booking.objects.select_related("session__meeting__project__logo", "employee"), **{field: token}
    )


@public_page
def booking_confirm(request, token):
    """The emailed link: GET shows the seat and a button (link scanners only GET); POST confirms."""
    booking = _booking_by("confirm_token", token)
    if booking.employee:
        _use_language_of(request, booking.employee)
    if request.method == "POST":
        try:
            booking = landing.booking_confirm(booking=booking)
        except landing.SessionFull:
            messages.error(
                request,
                _("Sorry, the session filled up before you confirmed. Choose another one."),
                extra_tags="meetings",
            )
            return redirect("landing:general", slug=booking.session.meeting.project.slug)
        except landing.SessionClosed:
            messages.error(request, _("That session can no longer be booked."), extra_tags="meetings")
            return redirect("landing:general", slug=booking.session.meeting.project.slug)
        return redirect("landing:booking_confirm", token=token)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    return render(
        request,
        "landing/booking.html",
        {"booking": booking, "project": booking.session.meeting.project, "step": "confirm", "next_path": request.path},
    )


@public_page
def booking_cancel(request, token):
    """The cancel link of the invite: GET asks, POST gives the seat back."""
    booking = _booking_by("cancel_token", token)
    if booking.employee:
        _use_language_of(request, booking.employee)
    project = booking.session.meeting.project
    if request.method == "POST":
        landing.booking_cancel(booking=booking)
        personal_link = LandingToken.objects.filter(project=project, employee_id=booking.employee_id).first()
        messages.success(request, _("Your seat is given back. Thank you!"), extra_tags="meetings")
        if personal_link and request.POST.get("back") == "page":
            return _back(personal_link, project, "meetings")
        return redirect("landing:booking_cancel", token=token)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    return render(
        request,
        "landing/booking.html",
        {"booking": booking, "project": project, "step": "cancel", "next_path": request.path},
    )


@public_page
@require_safe
def booking_calendar(request, token):
    """A confirmed seat as a calendar file to download: the same event (UID) as the emailed invite,
    so opening both leaves one entry. Reached by the booking's own secret (its cancel link)."""
    booking = _booking_by("cancel_token", token)
    if booking.status != Booking.Status.CONFIRMED:
        raise Http404
    response = HttpResponse(invites.booking_ics(booking=booking, method="PUBLISH"), content_type="text/calendar")
    title = slugify(booking.session.meeting.headline or booking.session.meeting.title) or "meeting"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=f"{title}.ics")
    return response


# Questions


@public_page
@require_POST
def personal_ask(request, token):
    link = _personal(token, fresh=True)
    _use_language_of(request, link.employee)
    form = PersonalAskForm(request.POST)
    if not form.is_valid():
        return _render_page(request, link.project, link=link, forms={"ask": form}, status=400)
    employee = link.employee if form.cleaned_data["show_name"] else None
    landing.question_ask(
        project=link.project,
        text=form.cleaned_data["text"],
        name=employee.full_name if employee else "",
        employee=employee,
        answer_to=link.employee.email if form.cleaned_data["email_answer"] else "",
    )
    messages.success(request, _("Thank you! Your question has reached the project team."), extra_tags="questions")
    return _back(link, link.project, "questions")


@public_page
@require_POST
def general_ask(request, slug):
    project = _general(slug)
    form = AskForm(request.POST)
    if not form.is_valid():
        return _render_page(request, project, forms={"ask": form}, status=400)
    # An answer goes only to an address in the directory (the page does not say which are).
    email = form.cleaned_data["email"]
    known = reachable_employees().filter(email__iexact=email).values_list("email", flat=True).first() if email else None
    landing.question_ask(
        project=project, text=form.cleaned_data["text"], name=form.cleaned_data["name"], answer_to=known or ""
    )
    messages.success(request, _("Thank you! Your question has reached the project team."), extra_tags="questions")
    return _back(None, project, "questions")


# The pulse


@public_page
@require_POST
def personal_pulse(request, token):
    link = _personal(token, fresh=True)
    _use_language_of(request, link.employee)
    form = PulseForm(request.POST, language=translation.get_language())
    if not form.is_valid():
        return _render_page(request, link.project, link=link, forms={"pulse": form}, status=400)
    landing.pulse_submit(
        project=link.project,
        reaction=form.cleaned_data["reaction"],
        scores=form.scores(),
        employee=link.employee,
        audience_id=link.audience_id,
    )
    messages.success(
        request, _("Thank you for telling us. You can change your answers here any time."), extra_tags="pulse"
    )
    return _back(link, link.project, "pulse")


@public_page
@require_POST
def general_pulse(request, slug):
    project = _general(slug)
    form = PulseForm(request.POST, language=translation.get_language())
    if not form.is_valid():
        return _render_page(request, project, forms={"pulse": form}, status=400)
    landing.pulse_submit(project=project, reaction=form.cleaned_data["reaction"], scores=form.scores())
    messages.success(request, _("Thank you for telling us!"), extra_tags="pulse")
    return _back(None, project, "pulse")


# The team's preview: the page as an audience sees it now


@require_safe
@login_required
@csp_replace({"form-action": ["'none'"]})
def preview(request, slug):
    """The page as a member of one audience (or anyone on the general link) sees it now.

    Project members only. Nothing personal: no real employee's link, no booking or answer of
    theirs; the forms are switched off (the browser refuses to send them) and nothing is counted.
    """
    project, _membership = get_project_for_user(request, slug)
    project_landing_checked(project=project)
    audiences = list(project.audiences.order_by("name"))
    chosen = request.GET.get("audience", "")
    audience = next((a for a in audiences if str(a.pk) == chosen), None)
    part = _public_part(project)
    invited = ()
    if audience is not None:
        invited = tuple(sorted(selectors.meetings_inviting(audience=audience, meeting_ids=part.get("invitations", {}))))
    state = {"booked": {}, "pulse": None, "invited": invited}
    context = _page_context(project, link=None, state=state, forms={}, notices=[])
    context["preview"] = {
        "audience": audience,
        "audiences": audiences,
        "url": reverse("campaigns:landing_preview", args=[project.slug]),
    }
    html = render_to_string("landing/page.html", context, request=request).replace(CSRF_MARK, "")
    response = HttpResponse(html)
    response["X-Robots-Tag"] = "noindex, nofollow"
    patch_cache_control(response, private=True, no_store=True)
    return response
