"""Meeting bookings from the landing page: one click, confirm by email, invites, updates, cancellations, the last seat."""

import datetime
import os
import threading

import pytest
from django.db import connection
from icalendar import Calendar

from campaigns.landing import services as landing
from campaigns.models import Booking, MeetingSession
from campaigns.tests.landing_helpers import bilingual, clean_cache, make_employee, make_meeting, personal_link  # noqa: F401

pytestmark = pytest.mark.usefixtures("clean_cache")


def _invite(message) -> tuple[str, Calendar]:
    """The METHOD of the message's text/calendar part, and the attached calendar parsed."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert parts, "no calendar part"
    attachment = next(p for p in parts if p.get_filename() == "invite.ics")
    return parts[0].get_param("method"), Calendar.from_ical(attachment.get_content())


def _event(calendar: Calendar):
    (event,) = calendar.walk("VEVENT")
    return event


@pytest.mark.django_db
def test_booking_on_a_personal_link_is_one_click_and_the_invite_arrives(
    client, project, smtp_inbox, django_capture_on_commit_callbacks
):
    bilingual(project)
    anna = make_employee(language="en")
    link = personal_link(project, anna)
    _meeting, (session,) = make_meeting(project, capacity=3)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/p/{link.token}/book/", {"session": session.pk})

    assert response.status_code == 302 and response["Location"] == f"/p/{link.token}/#meetings"
    booking = Booking.objects.get()
    assert (booking.status, booking.employee, booking.email) == (Booking.Status.CONFIRMED, anna, anna.email)
    (message,) = smtp_inbox.messages()
    assert message["To"] == anna.email and message["Subject"].startswith("Your seat is booked")
    method, calendar = _invite(message)
    event = _event(calendar)
    assert method == "REQUEST" and str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == booking.ics_uid
    assert event["DTSTART"].dt == session.starts_at and event["DTEND"].dt == session.ends_at
    assert event["DTSTART"].dt.utcoffset() == datetime.timedelta(0)  # UTC: no zone to get wrong
    assert int(event["SEQUENCE"]) == 0
    assert "Storsalen 1" in str(event["LOCATION"])
    assert booking.cancel_token in message.get_body(("plain",)).get_content()

    page = client.get(f"/p/{link.token}/").content.decode()
    assert "2 seats left" in page or "2 platser kvar" in page


@pytest.mark.django_db
def test_booking_on_the_general_link_waits_for_the_emailed_link(
    client, project, smtp_inbox, django_capture_on_commit_callbacks
):
    anna = make_employee("Anna.Berg@example.se", language="sv")
    _meeting, (session,) = make_meeting(project)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/l/{project.slug}/book/", {"session": session.pk, "email": "anna.berg@EXAMPLE.se"})

    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.PENDING and booking.employee == anna
    (request_message,) = smtp_inbox.messages()
    body = request_message.get_body(("plain",)).get_content()
    assert f"/b/confirm/{booking.confirm_token}/" in body
    assert not [p for p in request_message.walk() if p.get_content_type() == "text/calendar"]

    # A link scanner's GET confirms nothing; the person's POST does.
    assert client.get(f"/b/confirm/{booking.confirm_token}/").status_code == 200
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/b/confirm/{booking.confirm_token}/")
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    invite = smtp_inbox.messages()[-1]
    assert _invite(invite)[0] == "REQUEST" and invite["To"] == anna.email

    # Confirming twice sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/b/confirm/{booking.confirm_token}/")
    assert len(smtp_inbox.envelopes) == 2


@pytest.mark.django_db
def test_an_address_outside_the_directory_gets_the_same_answer_and_nothing_is_booked(
    client, project, smtp_inbox, django_capture_on_commit_callbacks
):
    make_employee("leaver@example.se", is_active=False)
    _meeting, (session,) = make_meeting(project)

    answers = []
    for email in ("stranger@example.com", "leaver@example.se"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/l/{project.slug}/book/",
                {"session": session.pk, "email": email},
                follow=True,
                HTTP_ACCEPT_LANGUAGE="en",
            )
        answers.append(response.content.decode().replace(email, "EMAIL"))

    assert "Check your inbox" in answers[0]
    assert not Booking.objects.exists()
    assert smtp_inbox.envelopes == []


@pytest.mark.django_db
def test_a_full_session_is_refused_and_booking_again_keeps_one_booking(project, django_capture_on_commit_callbacks):
    _meeting, (session,) = make_meeting(project, capacity=1)
    anna, sven = make_employee("anna@example.se"), make_employee("sven@example.se")

    first = landing.booking_create(session=session, email=anna.email, employee=anna, confirmed=True)
    again = landing.booking_create(session=session, email=anna.email.upper(), employee=anna, confirmed=True)
    with pytest.raises(landing.SessionFull):
        landing.booking_create(session=session, email=sven.email, employee=sven, confirmed=True)

    assert first.pk == again.pk
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_a_pending_booking_cannot_take_a_seat_that_filled_meanwhile(client, project):
    _meeting, (session,) = make_meeting(project, capacity=1)
    anna, sven = make_employee("anna@example.se"), make_employee("sven@example.se")
    pending = landing.booking_create(session=session, email=sven.email, employee=sven, confirmed=False)
    landing.booking_create(session=session, email=anna.email, employee=anna, confirmed=True)

    response = client.post(f"/b/confirm/{pending.confirm_token}/", follow=True, HTTP_ACCEPT_LANGUAGE="en")

    pending.refresh_from_db()
    assert pending.status == Booking.Status.PENDING
    assert "fullbokat innan du bekräftade" in response.content.decode()  # in the employee's language


@pytest.mark.django_db
def test_a_past_session_cannot_be_booked(project):
    _meeting, (session,) = make_meeting(project)
    MeetingSession.objects.filter(pk=session.pk).update(
        starts_at=session.starts_at - datetime.timedelta(days=30), ends_at=session.ends_at - datetime.timedelta(days=30)
    )
    anna = make_employee()

    with pytest.raises(landing.SessionClosed):
        landing.booking_create(session=session, email=anna.email, employee=anna, confirmed=True)


@pytest.mark.django_db
def test_cancelling_gives_the_seat_back_and_sends_a_cancellation_with_the_same_uid(
    client, project, smtp_inbox, django_capture_on_commit_callbacks
):
    anna = make_employee(language="en")
    link = personal_link(project, anna)
    _meeting, (session,) = make_meeting(project)
    with django_capture_on_commit_callbacks(execute=True):
        booking = landing.booking_create(session=session, email=anna.email, employee=anna, confirmed=True)

    assert client.get(f"/b/cancel/{booking.cancel_token}/").status_code == 200  # asks, changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/b/cancel/{booking.cancel_token}/", {"back": "page"})
        client.post(f"/b/cancel/{booking.cancel_token}/")  # twice: nothing more

    assert response["Location"] == f"/p/{link.token}/#meetings"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and booking.ics_sequence == 1
    invite, cancellation = smtp_inbox.messages()
    method, calendar = _invite(cancellation)
    assert method == "CANCEL" and str(calendar["METHOD"]) == "CANCEL"
    assert str(_event(calendar)["UID"]) == str(_event(_invite(invite)[1])["UID"]) == booking.ics_uid
    assert int(_event(calendar)["SEQUENCE"]) == 1 and str(_event(calendar)["STATUS"]) == "CANCELLED"

    # The seat is free again, and the same person may book it again.
    again = landing.booking_create(session=session, email=anna.email, employee=anna, confirmed=True)
    assert again.pk != booking.pk and again.status == Booking.Status.CONFIRMED


@pytest.mark.django_db
def test_a_changed_session_sends_an_update_and_a_cancelled_one_a_cancellation(
    project, smtp_inbox, django_capture_on_commit_callbacks
):
    _meeting, (session,) = make_meeting(project)
    anna, sven = make_employee("anna@example.se"), make_employee("sven@example.se")
    pending = landing.booking_create(session=session, email=sven.email, employee=sven, confirmed=False)
    with django_capture_on_commit_callbacks(execute=True):
        booking = landing.booking_create(session=session, email=anna.email, employee=anna, confirmed=True)
    smtp_inbox.envelopes.clear()

    session.starts_at += datetime.timedelta(hours=2)
    session.ends_at += datetime.timedelta(hours=2)
    session.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert landing.session_changed(session=session) == 1

    (update,) = smtp_inbox.messages()
    method, calendar = _invite(update)
    assert method == "REQUEST" and update["To"] == anna.email
    assert int(_event(calendar)["SEQUENCE"]) == 1 and str(_event(calendar)["UID"]) == booking.ics_uid
    assert _event(calendar)["DTSTART"].dt == session.starts_at

    with django_capture_on_commit_callbacks(execute=True):
        assert landing.session_cancelled(session=session) == 1
    cancellation = smtp_inbox.messages()[-1]
    method, calendar = _invite(cancellation)
    assert method == "CANCEL" and int(_event(calendar)["SEQUENCE"]) == 2
    booking.refresh_from_db()
    pending.refresh_from_db()
    assert booking.status == pending.status == Booking.Status.CANCELLED
    assert len(smtp_inbox.envelopes) == 2  # the pending one had no invite to cancel


@pytest.mark.django_db(transaction=True)
def test_two_people_taking_the_last_seat_at_once_one_wins(project):
    from conftest import require_service

    require_service(
        "PostgreSQL",
        connection.vendor == "postgresql",
        "set DATABASE_URL=postgres://… — SQLite serialises writers, so there is no race to test",
    )
    _meeting, (session,) = make_meeting(project, capacity=1)
    people = [make_employee(f"p{i}@example.se") for i in range(2)]
    start = threading.Barrier(len(people))
    outcomes: list[str] = []

    def take(employee):
        try:
            start.wait()
            landing.booking_create(session=session, email=employee.email, employee=employee, confirmed=True)
            outcomes.append("booked")
        except landing.SessionFull:
            outcomes.append("full")
        finally:
            connection.close()

    for _round in range(int(os.environ.get("RACE_ROUNDS", "5"))):
        Booking.objects.all().delete()
        outcomes.clear()
        start.reset()
        threads = [threading.Thread(target=take, args=(e,)) for e in people]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcomes) == ["booked", "full"]
        assert Booking.objects.filter(status=Booking.Status.CONFIRMED).count() == 1


@pytest.mark.django_db
def test_editing_a_session_in_the_plan_updates_invites_and_removing_it_cancels_them(
    project, owner, django_capture_on_commit_callbacks
):
    from django.core import mail

    from campaigns.plan import services as plan

    meeting, (moved, removed) = make_meeting(project, sessions=2)
    anna = make_employee()
    with django_capture_on_commit_callbacks(execute=True):
        landing.booking_create(session=moved, email=anna.email, employee=anna, confirmed=True)
        landing.booking_create(session=removed, email=anna.email, employee=anna, confirmed=True)
    mail.outbox.clear()

    moved.place = "Lilla salen"
    with django_capture_on_commit_callbacks(execute=True):
        plan.meeting_sessions_save(meeting=meeting, save=[moved], delete=[removed], by=owner)

    methods = sorted(m.alternatives[-1][1].split("method=")[1] for m in mail.outbox)
    assert methods == ["CANCEL", "REQUEST"]
    assert Booking.objects.filter(status=Booking.Status.CONFIRMED).get().session == moved


@pytest.mark.django_db
def test_a_booked_seat_downloads_as_the_same_calendar_event_as_the_invite(
    client, project, smtp_inbox, django_capture_on_commit_callbacks
):
    anna = make_employee(language="en")
    link = personal_link(project, anna)
    _meeting, (session,) = make_meeting(project, capacity=3)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/p/{link.token}/book/", {"session": session.pk})
    booking = Booking.objects.get()
    url = f"/b/calendar/{booking.cancel_token}/invite.ics"

    assert url in client.get(f"/p/{link.token}/").content.decode()
    response = client.get(url)

    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"].startswith("attachment;") and ".ics" in response["Content-Disposition"]
    downloaded = _event(Calendar.from_ical(response.content))
    _method, emailed = _invite(smtp_inbox.messages()[0])
    assert str(downloaded["UID"]) == str(_event(emailed)["UID"]) == booking.ics_uid
    assert downloaded["DTSTART"].dt == session.starts_at
    assert "no-store" in response["Cache-Control"]

    landing.booking_cancel(booking=booking)
    assert client.get(url).status_code == 404  # a seat given back is no event to add
    assert client.get(f"/b/calendar/{'x' * 32}/invite.ics").status_code == 404


@pytest.mark.django_db
def test_a_booking_waiting_for_its_email_confirmation_has_no_calendar_file_yet(client, project):
    anna = make_employee()
    _meeting, (session,) = make_meeting(project)
    booking = landing.booking_create(session=session, email=anna.email, employee=anna, confirmed=False)
    assert client.get(f"/b/calendar/{booking.cancel_token}/invite.ics").status_code == 404
