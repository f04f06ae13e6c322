"""Meeting booking emails and their calendar invites (iCalendar, RFC 5545 / iTIP RFC 5546).

Times are written in UTC (`DTSTART:20270301T080000Z`), which every calendar converts to
the reader's zone, so no VTIMEZONE is needed. The UID is stable for a booking's whole
life; every update or cancellation raises SEQUENCE, so calendars replace the event.
"""

import datetime
import logging
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from campaigns.delivery.mime import django_message_headers
from campaigns.models import Booking, MeetingSession

logger = logging.getLogger(__name__)

REQUEST = "REQUEST"
CANCEL = "CANCEL"


def _meeting_title(session: MeetingSession) -> str:
    """In the language the email is being written in (the caller overrides it), like every part of it."""
    meeting = session.meeting.in_language(translation.get_language())
    return meeting.headline or meeting.title


def _location(session: MeetingSession) -> str:
    session = session.in_language(translation.get_language())
    parts = [p for p in (session.place, session.site) if p]
    if session.online_url:
        parts.append(session.online_url)
    return ", ".join(parts)


def booking_ics(*, booking: Booking, method: str) -> bytes:
    """The invite (REQUEST) or the cancellation (CANCEL) of one booking, as an iCalendar file."""
    session = booking.session
    project = session.meeting.project
    organizer_name, organizer_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    cal = Calendar()
    cal.add("prodid", "-//Launchpad//Meeting bookings//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = Event()
    event.add("uid", booking.ics_uid)
    event.add("sequence", booking.ics_sequence)
    event.add("dtstamp", timezone.now().astimezone(datetime.UTC))
    event.add("dtstart", session.starts_at.astimezone(datetime.UTC))
    event.add("dtend", session.ends_at.astimezone(datetime.UTC))
    event.add("summary", f"{_meeting_title(session)} – {project.name}")
    location = _location(session)
    if location:
        event.add("location", location)
    if session.online_url:
        event.add("url", session.online_url)
    event.add("description", project.in_language(translation.get_language()).lede)
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    event.add("transp", "OPAQUE")
    organizer = vCalAddress(f"mailto:{organizer_address}")
    organizer.params["cn"] = vText(organizer_name or project.name)
    event["organizer"] = organizer
    attendee = vCalAddress(f"mailto:{booking.email}")
    if booking.name:
        attendee.params["cn"] = vText(booking.name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("ACCEPTED")
    attendee.params["rsvp"] = vText("FALSE")
    event.add("attendee", attendee, encode=0)
    cal.add_component(event)
    return cal.to_ical()


def _language_of(booking: Booking) -> str:
    """The language the booker reads the project in: the employee's, or the page's they booked on,
    where the project has a version in it; else the project's primary language."""
    wanted = booking.employee.language if booking.employee_id and booking.employee.language else None
    return booking.session.meeting.project.content_language(wanted or translation.get_language())


def _session_lines(session: MeetingSession) -> dict:
    starts, ends = timezone.localtime(session.starts_at), timezone.localtime(session.ends_at)
    return {
        "day": date_format(starts, "l j F Y"),
        "time": f"{date_format(starts, 'H:i')}–{date_format(ends, 'H:i')}",
        "location": _location(session),
    }


def _send(*, booking: Booking, template: str, subject: str, method: str | None, extra: dict) -> None:
    session = booking.session
    project = session.meeting.project
    context = {
        "booking": booking,
        "project": project.in_language(translation.get_language()),
        "meeting_title": _meeting_title(session),
        "when": _session_lines(session),
        "landing_url": f"{settings.SITE_URL}/l/{project.slug}/",
        **extra,
    }
    message = EmailMultiAlternatives(subject=subject, body=render_to_string(template, context), to=[booking.email])
    # Questions about the meeting reach the team (function mailbox) or the change manager, not the system address.
    reply_name, reply_address = project.reply_address()
    django_message_headers(message, reply_to=formataddr((reply_name, reply_address)) if reply_address else "")
    if method:
        ics = booking_ics(booking=booking, method=method)
        # As an alternative part with the method, Outlook and Gmail show it as an invite;
        # as an attachment too, so any client can add it by hand.
        message.attach_alternative(ics.decode(), f"text/calendar; method={method}")
        message.attach("invite.ics", ics, f"text/calendar; method={method}")  # Django adds the charset
    message.send()
    logger.info("booking %s: %s email sent", booking.pk, template.rsplit("/", 1)[-1])


def _absolute(name: str, token: str) -> str:
    return settings.SITE_URL + reverse(name, args=[token])


def send_confirmation_request(booking: Booking) -> None:
    """The general link's email: follow the link to confirm the seat."""
    with translation.override(_language_of(booking)):
        _send(
            booking=booking,
            template="emails/booking_confirm_request.txt",
            subject=_("Confirm your seat: %(title)s") % {"title": _meeting_title(booking.session)},
            method=None,
            extra={"confirm_url": _absolute("landing:booking_confirm", booking.confirm_token)},
        )


def send_invite(booking: Booking, *, update: bool = False) -> None:
    """The confirmed seat (or its update) with the calendar invite."""
    with translation.override(_language_of(booking)):
        title = _meeting_title(booking.session)
        subject = (_("Changed: %(title)s") if update else _("Your seat is booked: %(title)s")) % {"title": title}
        _send(
            booking=booking,
            template="emails/booking_invite.txt",
            subject=subject,
            method=REQUEST,
            extra={"update": update, "cancel_url": _absolute("landing:booking_cancel", booking.cancel_token)},
        )


def send_cancellation(booking: Booking, *, by_organiser: bool) -> None:
    """The cancellation: the seat is given back, or the session itself is cancelled."""
    with translation.override(_language_of(booking)):
        _send(
            booking=booking,
            template="emails/booking_cancelled.txt",
            subject=_("Cancelled: %(title)s") % {"title": _meeting_title(booking.session)},
            method=CANCEL,
            extra={"by_organiser": by_organiser},
        )
