"""The second try: a follow-up email to those of its audiences the first did not reach, as an asset of its own."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from campaigns.delivery import services as delivery
from campaigns.models import Asset, Booking, ChangeProject, Delivery, LandingToken
from campaigns.plan import services as plan
from campaigns.plan.selectors import plan_coverage
from campaigns.tests.delivery_helpers import after_due, approved_email, employees, make_audience, scheduled_email
from campaigns.tests.landing_helpers import make_meeting

pytestmark = pytest.mark.django_db

Mode = ChangeProject.TrackingMode


@pytest.fixture
def project(project):
    project.refresh_from_db()
    return project


@pytest.fixture
def published(monkeypatch):
    batches: list[list[int]] = []
    monkeypatch.setattr(delivery, "_publish", lambda ids: batches.append(list(ids)))
    return batches


def _sent_first(project, owner, people, django_capture_on_commit_callbacks):
    audience = make_audience(project, *people)
    first, send = scheduled_email(project, owner, audience)
    with django_capture_on_commit_callbacks(execute=True):
        delivery.dispatch_due(now=after_due(send))
    Delivery.objects.filter(asset=first).update(status=Delivery.Status.SENT, sent_at=timezone.now())
    return first, audience


def _reach(project, first, opened, visited, booked):
    Delivery.objects.filter(asset=first, employee=opened).update(opened_at=timezone.now())
    LandingToken.objects.create(project=project, employee=visited, visited_at=timezone.now())
    _meeting, (session,) = make_meeting(project)
    Booking.objects.create(session=session, employee=booked, email=booked.email, status=Booking.Status.CONFIRMED)


def _start_follow_up(project, owner, first, django_capture_on_commit_callbacks):
    follow_up = plan.asset_follow_up_create(
        asset=first, days=3, subject="Missade du det?", opening="Ifall du missade det förra veckan.", by=owner
    )
    plan.asset_set_status(asset=follow_up, status=Asset.Status.READY, by=owner)
    plan.asset_set_status(asset=follow_up, status=Asset.Status.APPROVED, by=owner)
    send = delivery.email_schedule(asset=follow_up, by=owner)
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.email_start(send=send, now=after_due(send))
    return follow_up


def test_in_individual_mode_the_follow_up_reaches_only_the_unreached(
    project, owner, published, django_capture_on_commit_callbacks
):
    project.tracking_mode = Mode.INDIVIDUAL
    project.save()
    opened, visited, booked, missed, also_missed = employees(5)
    first, _audience = _sent_first(
        project, owner, [opened, visited, booked, missed, also_missed], django_capture_on_commit_callbacks
    )
    _reach(project, first, opened, visited, booked)

    follow_up = _start_follow_up(project, owner, first, django_capture_on_commit_callbacks)

    recipients = set(Delivery.objects.filter(asset=follow_up).values_list("employee_id", flat=True))
    assert recipients == {missed.pk, also_missed.pk}
    assert Delivery.objects.filter(asset=first).count() == 5  # the first email's own rows are untouched


def test_in_anonymous_mode_only_what_is_known_per_person_counts(
    project, owner, published, django_capture_on_commit_callbacks
):
    opened, visited, booked, missed = employees(4)
    first, _audience = _sent_first(
        project, owner, [opened, visited, booked, missed], django_capture_on_commit_callbacks
    )
    _reach(project, first, opened, visited, booked)

    follow_up = _start_follow_up(project, owner, first, django_capture_on_commit_callbacks)

    recipients = set(Delivery.objects.filter(asset=follow_up).values_list("employee_id", flat=True))
    assert recipients == {opened.pk, visited.pk, missed.pk}  # opens and visits are not known per person


def test_a_follow_up_is_a_draft_asset_of_its_own_a_few_days_later(project, owner):
    audience = make_audience(project, *employees(2))
    first = approved_email(project, owner, audience, include_question=True)

    follow_up = plan.asset_follow_up_create(asset=first, days=4, subject="Missade du?", opening="<b>Hej</b>", by=owner)

    assert follow_up.status == Asset.Status.DRAFT and follow_up.follow_up_of == first
    assert follow_up.offset_days == first.offset_days + 4
    assert list(follow_up.audiences.all()) == [audience]
    assert follow_up.subject == "Missade du?" and follow_up.include_question
    assert follow_up.body.startswith("<p>&lt;b&gt;Hej&lt;/b&gt;</p>")  # the opening line is text, not markup
    assert delivery.recipient_count(asset=follow_up) == 2


@pytest.mark.parametrize("days", [0, 61])
def test_a_follow_up_day_out_of_range_is_refused(project, owner, days):
    first = approved_email(project, owner, make_audience(project))
    with pytest.raises(ValidationError):
        plan.asset_follow_up_create(asset=first, days=days, subject="x", opening="", by=owner)
    assert not Asset.objects.filter(follow_up_of=first).exists()


@pytest.mark.usefixtures("english")
def test_aggregate_mode_offers_no_follow_up_and_says_why(client, project, owner, editor):
    project.tracking_mode = Mode.AGGREGATE
    project.save()
    first = approved_email(project, owner, make_audience(project))
    with pytest.raises(ValidationError):
        plan.asset_follow_up_create(asset=first, days=3, subject="x", opening="", by=owner)

    client.force_login(editor)
    url = reverse("campaigns:asset_follow_up", args=[project.slug, first.pk])
    assert "aggregate tracking" in client.get(url).content.decode()
    client.post(url, {"days": "3", "subject": "x", "opening": ""})
    assert not Asset.objects.filter(follow_up_of=first).exists()


def test_an_editor_adds_a_follow_up_and_a_viewer_may_not(client, project, owner, editor, viewer):
    first = approved_email(project, owner, make_audience(project))
    url = reverse("campaigns:asset_follow_up", args=[project.slug, first.pk])
    client.force_login(viewer)
    assert client.post(url, {"days": "3", "subject": "Missade du?"}).status_code == 403
    client.force_login(editor)

    response = client.post(url, {"days": "3", "subject": "Missade du?", "opening": "Ifall du missade det."})

    follow_up = Asset.objects.get(follow_up_of=first)
    assert response.status_code == 302 and response.url.endswith(f"/assets/{follow_up.pk}/")
    assert "Ifall du missade det." in follow_up.body


@pytest.mark.usefixtures("english")
def test_the_reach_twice_rule_warns_and_offers_the_missing_follow_ups(client, project, owner, editor):
    project.reach_twice = True
    project.save()
    audience = make_audience(project, *employees(1))
    first = approved_email(project, owner, audience, offset_days=-10)
    approved_email(project, owner, audience, offset_days=5, title="Efter driftstart")  # after go-live: not counted

    warnings = [w for w in plan_coverage(project=project)["warnings"] if w.kind == "reach_twice"]
    assert len(warnings) == 1 and "1 email before go-live has no follow-up" in warnings[0].message

    client.force_login(editor)
    assert client.post(warnings[0].url).status_code == 302

    follow_up = Asset.objects.get(follow_up_of=first)
    assert follow_up.offset_days == -6
    assert not [w for w in plan_coverage(project=project)["warnings"] if w.kind == "reach_twice"]
