"""Understanding and the second try in Chromium: the one-click (scanner-safe) answer from an email,
the question on the page, what we record about you, and a follow-up that reaches only the unreached."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.delivery import services as delivery
from campaigns.landing import services as landing
from campaigns.models import Asset, Booking, ChangeProject, ComprehensionResponse, Delivery, PulseResponse
from campaigns.projects import services
from campaigns.tests.delivery_helpers import after_due, employees, make_audience, scheduled_email
from campaigns.tests.landing_helpers import make_meeting

from .test_landing import launch  # noqa: F401 - the shared launch fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def question(launch):  # noqa: F811
    project, link = launch
    landing.comprehension_save(
        project=project,
        by=project.created_by,
        text="Vad ändras den 7 januari?",
        answer_1="Inget",
        answer_2="Fakturor attesteras i Atlas",
        answer_3="Vi byter kontor",
        right_answer=2,
    )
    return project, link


def test_an_answer_link_from_an_email_answers_only_when_the_person_confirms(
    page, live_server, question, assert_accessible
):
    project, link = question
    url = f"{live_server.url}/p/{link.token}/answer/2/"

    # A mail scanner follows every link in the message: GETs, no clicks.
    for _ in range(2):
        assert page.request.get(url).status == 200
    assert ComprehensionResponse.objects.count() == 0

    page.goto(url)
    expect(page.get_by_role("heading", name="Is this your answer?")).to_be_visible()
    expect(page.get_by_text("Fakturor attesteras i Atlas")).to_be_visible()
    assert_accessible()
    page.get_by_role("button", name="Yes, send my answer").click()

    expect(page.locator("#understanding .notice")).to_contain_text("Right!")
    row = ComprehensionResponse.objects.get()
    assert (row.answer, row.is_right, row.source, row.employee_id) == (2, True, "email", link.employee_id)


def test_the_question_on_the_page_and_what_we_record(page, live_server, question, assert_accessible):
    project, link = question
    page.goto(f"{live_server.url}/p/{link.token}/")
    page.get_by_label("Vi byter kontor").check()
    page.get_by_role("button", name="Send my answer", exact=True).click()

    expect(page.locator("#understanding .notice")).to_contain_text("Fakturor attesteras i Atlas")
    assert_accessible()
    assert ComprehensionResponse.objects.get().is_right is False

    PulseResponse.objects.create(project=project, employee=link.employee, reaction="right", awareness=4)
    page.get_by_role("link", name="What we record about you").click()
    expect(page.get_by_role("heading", name="What we record about you")).to_be_visible()
    assert_accessible()
    page.get_by_role("button", name="Delete my answers").click()
    expect(page.locator(".notice")).to_contain_text("are deleted")
    assert not PulseResponse.objects.filter(employee=link.employee).exists()


@pytest.fixture
def sent_email(make_user):
    sara = make_user("sara", first_name="Sara", last_name="Lindqvist")
    project = services.project_create(
        by=sara,
        name="Atlas",
        lede="Den 7 januari byter vi till Atlas.",
        go_live=datetime.date(2027, 1, 7),
        tracking_mode=ChangeProject.TrackingMode.INDIVIDUAL,
    )
    opened, booked, missed, also_missed = employees(4)
    audience = make_audience(project, opened, booked, missed, also_missed, name="Ekonomi")
    asset, send = scheduled_email(project, sara, audience)
    delivery.email_start(send=send, now=after_due(send))
    Delivery.objects.filter(asset=asset).update(status=Delivery.Status.SENT, sent_at=timezone.now())
    Delivery.objects.filter(asset=asset, employee=opened).update(opened_at=timezone.now())
    _meeting, (session,) = make_meeting(project)
    Booking.objects.create(session=session, employee=booked, email=booked.email, status=Booking.Status.CONFIRMED)
    return project, asset, {missed.pk, also_missed.pk}


def test_a_follow_up_made_in_the_editor_reaches_only_the_unreached(
    page, live_server, log_in, sent_email, assert_accessible
):
    project, first, unreached = sent_email
    log_in("sara")
    page.goto(f"{live_server.url}/projects/{project.slug}/assets/{first.pk}/")
    page.get_by_role("link", name="Add a follow-up to those not reached").click()
    assert_accessible()
    page.get_by_label("Days after the first email").fill("3")
    page.get_by_label("Subject").fill("Missade du det?")
    page.get_by_label("Opening line").fill("Ifall du missade det förra veckan.")
    page.get_by_role("button", name="Add the follow-up as a draft").click()

    expect(page.locator("body")).to_contain_text("A follow-up of")
    follow_up = Asset.objects.get(follow_up_of=first)
    assert follow_up.status == Asset.Status.DRAFT
    # Approval and scheduling as for any email, then the beat starts it.
    page.get_by_role("button", name="Ready for approval").click()
    page.get_by_role("button", name="Approve").click()
    follow_up.refresh_from_db()
    assert follow_up.status == Asset.Status.APPROVED
    send = delivery.email_schedule(asset=follow_up, by=project.created_by)
    delivery.email_start(send=send, now=after_due(send))

    assert set(Delivery.objects.filter(asset=follow_up).values_list("employee_id", flat=True)) == unreached


def test_the_team_sets_the_question_and_reads_depth_and_understanding(
    page, live_server, log_in, sent_email, assert_accessible
):
    project, _first, _unreached = sent_email
    log_in("sara")
    page.goto(f"{live_server.url}/projects/{project.slug}/understanding/")
    assert_accessible()
    page.locator("#id_text").fill("Vad ändras den 7 januari?")
    page.locator("#id_answer_1").fill("Inget")
    page.locator("#id_answer_2").fill("Fakturor attesteras i Atlas")
    page.locator("#id_answer_3").fill("Vi byter kontor")
    page.locator("input[name=right_answer][value='2']").check()
    page.get_by_role("button", name="Save the question").click()
    expect(page.locator("body")).to_contain_text("The question is on the landing page.")

    page.goto(f"{live_server.url}/projects/{project.slug}/dashboard/")
    expect(page.get_by_role("heading", name="How far they read")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Answered the question right")).to_be_visible()
    assert_accessible()
