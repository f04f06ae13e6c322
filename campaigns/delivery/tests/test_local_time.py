"""Sending "at 09:00 local time for each recipient": Helsinki first, Stockholm next, London last."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audiences.models import Employee, validate_time_zone
from campaigns.delivery import services as delivery
from campaigns.models import Delivery, EmailSend
from campaigns.tests.delivery_helpers import approved_email, make_audience, make_employee

pytestmark = pytest.mark.django_db

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")


@pytest.fixture
def published(monkeypatch):
    batches: list[list[int]] = []
    monkeypatch.setattr(delivery, "_publish", lambda ids: batches.append(list(ids)))
    return batches


@pytest.fixture
def email(project, owner):
    people = [
        make_employee(email="anna@example.se"),  # the organisation's zone
        make_employee(email="aino@example.fi", time_zone="Europe/Helsinki"),
        make_employee(email="amy@example.co.uk", time_zone="Europe/London"),
    ]
    project.refresh_from_db()
    nine = datetime.datetime(2027, 3, 1, 9, 0, tzinfo=STOCKHOLM)
    return approved_email(project, owner, make_audience(project, *people), fixed_at=nine)


def _at(hour: int, zone: str) -> datetime.datetime:
    return datetime.datetime(2027, 3, 1, hour, 0, tzinfo=zoneinfo.ZoneInfo(zone))


def test_each_recipient_gets_it_at_nine_in_their_own_zone(email, owner, published, django_capture_on_commit_callbacks):
    send = delivery.email_schedule(asset=email, by=owner, local_time=True)
    assert send.local_time == datetime.time(9, 0)
    assert send.due_at == _at(9, "Europe/Helsinki")  # the first zone to reach 09:00

    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.dispatch_due(now=_at(9, "Europe/Helsinki")).started == [send.pk]
    rows = {d.employee.email: d for d in Delivery.objects.select_related("employee")}
    assert [rows["aino@example.fi"].pk] == [pk for batch in published for pk in batch]
    assert rows["anna@example.se"].next_attempt_at == _at(9, "Europe/Stockholm")
    assert rows["amy@example.co.uk"].next_attempt_at == _at(9, "Europe/London")

    published.clear()
    delivery.send_batch(delivery_ids=[rows["aino@example.fi"].pk])  # Aino's went out at 09:00 in Helsinki
    with django_capture_on_commit_callbacks(execute=True):
        delivery.dispatch_due(now=_at(9, "Europe/Stockholm") + datetime.timedelta(seconds=30))
    assert [pk for batch in published for pk in batch] == [rows["anna@example.se"].pk]
    assert EmailSend.objects.get().state == EmailSend.State.RUNNING


def test_without_local_time_everyone_gets_it_at_the_planned_moment(email, owner):
    send = delivery.email_schedule(asset=email, by=owner)
    assert send.local_time is None and send.due_at == _at(9, "Europe/Stockholm")


def test_a_time_zone_must_be_a_real_one():
    validate_time_zone("Europe/Helsinki")
    validate_time_zone("")
    with pytest.raises(ValidationError):
        validate_time_zone("Europe/Atlantis")
    assert Employee._meta.get_field("time_zone").default == ""


def test_the_schedule_form_offers_local_time(client, email, editor):
    from django.urls import reverse

    client.force_login(editor)
    page = client.get(email.get_absolute_url()).content.decode()
    assert 'name="local_time"' in page
    url = reverse("campaigns:asset_send_schedule", args=[email.project.slug, email.pk])
    client.post(url, {"local_time": "1"})
    assert EmailSend.objects.get().local_time == datetime.time(9, 0)


def test_each_reader_gets_it_in_their_language_at_nine_in_their_zone(
    project, owner, published, django_capture_on_commit_callbacks
):
    from django.core import mail

    from campaigns.tests.landing_helpers import bilingual

    bilingual(project)
    people = [
        make_employee(email="anna@example.se", language="sv"),  # Stockholm, the organisation's zone
        make_employee(email="amy@example.co.uk", first_name="Amy", language="en", time_zone="Europe/London"),
        make_employee(email="aino@example.fi", first_name="Aino", language="en", time_zone="Europe/Helsinki"),
        make_employee(email="axel@example.fi", first_name="Axel", language="sv", time_zone="Europe/Helsinki"),
    ]
    project.refresh_from_db()
    # Yesterday, so that the batches (which claim by the real clock) may send what each 09:00 releases.
    day = timezone.localdate() - datetime.timedelta(days=1)

    def nine_in(zone: str) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(9), tzinfo=zoneinfo.ZoneInfo(zone))

    email = approved_email(project, owner, make_audience(project, *people), fixed_at=nine_in("Europe/Stockholm"))
    email.set_translation("en", {"subject": "Why we are changing, {{ first_name }}", "body": "<p>Hello!</p>"})
    email.save()
    send = delivery.email_schedule(asset=email, by=owner, local_time=True)
    assert send.due_at == nine_in("Europe/Helsinki")

    def run_at(moment: datetime.datetime) -> dict[str, str]:
        published.clear()
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            delivery.dispatch_due(now=moment)
        for batch in list(published):
            delivery.send_batch(delivery_ids=batch)
        return {message.to[0]: message.subject for message in mail.outbox}

    # One batch, two languages: each composed in its reader's.
    assert run_at(nine_in("Europe/Helsinki")) == {
        "aino@example.fi": "Why we are changing, Aino",
        "axel@example.fi": "Hej Axel, därför byter vi system",
    }
    assert run_at(nine_in("Europe/Stockholm")) == {"anna@example.se": "Hej Anna, därför byter vi system"}
    assert run_at(nine_in("Europe/London")) == {"amy@example.co.uk": "Why we are changing, Amy"}
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
    send.refresh_from_db()
    assert send.state == EmailSend.State.DONE
