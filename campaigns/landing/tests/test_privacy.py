"""Privacy an employee can see: the note per tracking mode, "what we record about you", withdrawing
pulse answers, asking for erasure, and retention after a project closes."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audiences.models import Audience
from campaigns.analytics import services as analytics
from campaigns.analytics.selectors import dashboard
from campaigns.analytics.tasks import engagement_anonymise_due
from campaigns.models import (
    Asset,
    Booking,
    ChangeProject,
    Channel,
    Delivery,
    ErasureRequest,
    LandingToken,
    PulseResponse,
    Stage,
)
from campaigns.projects import services as projects
from campaigns.tests.landing_helpers import clean_cache, make_employee, make_meeting, personal_link  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]

Mode = ChangeProject.TrackingMode


@pytest.fixture(autouse=True)
def _dates(project):
    project.refresh_from_db()


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        (Mode.INDIVIDUAL, "tied to your name"),
        (Mode.ANONYMOUS, "counted per group, not tied to you"),
        (Mode.AGGREGATE, "totals only"),
    ],
)
@pytest.mark.usefixtures("english_page")
def test_the_privacy_note_says_what_is_measured_in_the_projects_mode(client, project, mode, words):
    project.tracking_mode = mode
    project.save()
    link = personal_link(project, make_employee(language="en"))

    html = client.get(reverse("landing:personal", args=[link.token])).content.decode()

    assert words in html and "Global Privacy Control" in html
    assert f'href="/p/{link.token}/privacy/"' in html


def test_the_general_page_has_no_personal_record_link(client, project):
    html = client.get(reverse("landing:general", args=[project.slug])).content.decode()
    assert "/privacy/" not in html


@pytest.mark.usefixtures("english_page")
def test_what_we_record_lists_everything_tied_to_the_person(client, project, owner):
    project.tracking_mode = Mode.INDIVIDUAL
    project.save()
    anna, other = make_employee(), make_employee("bo@example.se", first_name="Bo")
    link = personal_link(project, anna)
    LandingToken.objects.filter(pk=link.pk).update(visited_at=timezone.now(), read_depth=3, story_seconds=41)
    email = Asset.objects.create(
        project=project,
        channel=Channel.EMAIL,
        stage=Stage.AWARENESS,
        title="T",
        subject="Därför byter vi",
        offset_days=-9,
    )
    Delivery.objects.create(asset=email, employee=anna, message_id="<a@x>", status="sent", opened_at=timezone.now())
    Delivery.objects.create(asset=email, employee=other, message_id="<b@x>", status="sent")
    _meeting, (session,) = make_meeting(project)
    Booking.objects.create(session=session, employee=anna, email=anna.email, status=Booking.Status.CONFIRMED)
    PulseResponse.objects.create(project=project, employee=anna, reaction="right", awareness=4)

    html = client.get(reverse("landing:personal_privacy", args=[link.token])).content.decode()

    assert "Därför byter vi" in html and "opened" in html
    assert "Read everything" in html and "41 seconds" in html
    assert "Atlas på riktigt" in html and "Round 1" in html
    assert "bo@example.se" not in html


@pytest.mark.usefixtures("english_page")
def test_a_person_withdraws_their_pulse_answers(client, project):
    anna, bo = make_employee(), make_employee("bo@example.se")
    link = personal_link(project, anna)
    PulseResponse.objects.create(project=project, employee=anna, reaction="right")
    PulseResponse.objects.create(project=project, employee=bo, reaction="wrong")
    PulseResponse.objects.create(project=project, reaction="partly")

    response = client.post(reverse("landing:personal_privacy", args=[link.token]), {"action": "withdraw"}, follow=True)

    assert "are deleted" in response.content.decode()
    assert set(PulseResponse.objects.values_list("reaction", flat=True)) == {"wrong", "partly"}


@pytest.mark.usefixtures("english_page")
def test_a_person_asks_for_erasure_once_and_it_is_logged(client, project, caplog):
    anna = make_employee()
    link = personal_link(project, anna)
    url = reverse("landing:personal_privacy", args=[link.token])

    client.post(url, {"action": "erase"})
    client.post(url, {"action": "erase"})

    request = ErasureRequest.objects.get()
    assert request.employee == anna and request.project == project
    assert "asked to be erased" in caplog.text
    assert "You asked to be erased on" in client.get(url).content.decode()
    anna.refresh_from_db()
    assert anna.erased_at is None  # the directory's erase flow does the erasing


def test_an_unknown_action_or_link_is_refused(client, project):
    link = personal_link(project, make_employee())
    assert client.post(reverse("landing:personal_privacy", args=[link.token]), {"action": "drop"}).status_code == 400
    assert client.get(reverse("landing:personal_privacy", args=["y" * 40])).status_code == 404


def test_the_privacy_forms_need_csrf(project):
    from django.test import Client

    link = personal_link(project, make_employee())
    PulseResponse.objects.create(project=project, employee=link.employee, reaction="right")
    strict = Client(enforce_csrf_checks=True)
    assert (
        strict.post(reverse("landing:personal_privacy", args=[link.token]), {"action": "withdraw"}).status_code == 403
    )
    assert PulseResponse.objects.count() == 1


# Retention


def _closed_project(project, owner, days_ago: int):
    projects.project_update(project=project, by=owner, status=ChangeProject.Status.CLOSED, retention_days=30)
    ChangeProject.objects.filter(pk=project.pk).update(closed_at=timezone.now() - datetime.timedelta(days=days_ago))
    project.refresh_from_db()
    return project


def test_closing_a_project_starts_its_retention_clock(project, owner):
    projects.project_update(project=project, by=owner, status=ChangeProject.Status.CLOSED)
    assert project.closed_at is not None
    projects.project_update(project=project, by=owner, status=ChangeProject.Status.LIVE)
    assert project.closed_at is None


def test_after_retention_per_person_rows_are_anonymised_and_the_aggregates_stay(project, owner):
    project.tracking_mode = Mode.INDIVIDUAL
    project.save()
    audience = Audience.objects.create(project=project, name="Alla", kind=Audience.Kind.LIST)
    anna = make_employee()
    audience.members.add(anna)
    link = personal_link(project, anna, audience=audience)
    LandingToken.objects.filter(pk=link.pk).update(visited_at=timezone.now(), read_depth=2)
    email = Asset.objects.create(
        project=project, channel=Channel.EMAIL, stage=Stage.AWARENESS, title="T", subject="S", offset_days=-9
    )
    email.audiences.add(audience)
    Delivery.objects.create(
        asset=email,
        employee=anna,
        audience=audience,
        message_id="<a@x>",
        status="sent",
        sent_at=timezone.now(),
        opened_at=timezone.now(),
    )
    PulseResponse.objects.create(project=project, employee=anna, audience=audience, reaction="right", knowledge=4)
    before = dashboard(project=analytics.analytics_refresh(project=project).project)
    _closed_project(project, owner, days_ago=31)

    assert engagement_anonymise_due() == 1

    assert not LandingToken.objects.filter(project=project).exists()
    assert not Delivery.objects.filter(asset=email, employee__isnull=False).exists()
    assert not PulseResponse.objects.filter(project=project, employee__isnull=False).exists()
    analytics.analytics_refresh(project=project)  # a refresh after anonymising changes nothing
    after = dashboard(project=project)
    assert after.overall.reach == before.overall.reach and after.overall.reach.reached_once == 1
    assert engagement_anonymise_due() == 0  # once


def test_a_project_within_retention_is_left_alone(project, owner):
    anna = make_employee()
    personal_link(project, anna)
    _closed_project(project, owner, days_ago=29)

    assert engagement_anonymise_due() == 0
    assert LandingToken.objects.filter(project=project).exists()


@pytest.mark.usefixtures("english")
def test_the_team_sees_the_request_with_a_way_to_the_directorys_erase_flow(client, project, owner, viewer):
    from django.contrib.auth.models import Permission

    anna = make_employee()
    ErasureRequest.objects.create(project=project, employee=anna)
    client.force_login(viewer)
    html = client.get(reverse("campaigns:inbox", args=[project.slug])).content.decode()
    assert "Asked to be erased" in html and "Anna Berg" in html
    assert reverse("audiences:employee_erase", args=[anna.pk]) not in html
    owner.user_permissions.add(Permission.objects.get(codename="change_employee"))
    client.force_login(owner)
    html = client.get(reverse("campaigns:inbox", args=[project.slug])).content.decode()
    assert reverse("audiences:employee_erase", args=[anna.pk]) in html


def test_an_english_reader_sees_their_record_in_english_with_the_emails_as_they_got_them(client, project):
    from campaigns.tests.landing_helpers import bilingual

    bilingual(project)
    ChangeProject.objects.filter(pk=project.pk).update(tracking_mode=Mode.INDIVIDUAL)
    bob = make_employee("bob@example.se", first_name="Bob", language="en")
    link = personal_link(project, bob)
    email = Asset.objects.create(
        project=project,
        channel=Channel.EMAIL,
        stage=Stage.AWARENESS,
        title="T",
        subject="Därför byter vi",
        offset_days=-9,
    )
    email.set_translation("en", {"subject": "Why we are changing", "body": "<p>Hi</p>"})
    email.save()
    Delivery.objects.create(asset=email, employee=bob, message_id="<bob@x>", status="sent", opened_at=timezone.now())

    html = client.get(reverse("landing:personal_privacy", args=[link.token])).content.decode()

    assert '<html lang="en"' in html and "Why we are changing" in html and "opened" in html
    assert "Därför byter vi" not in html
