"""The send panel in the browser: who may act, what they see, and what each button changes."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.delivery import services as delivery
from campaigns.models import Asset, Delivery, EmailSend
from campaigns.tests.delivery_helpers import RefusingBackend, after_due, approved_email, employees, make_audience

pytestmark = pytest.mark.django_db


@pytest.fixture
def email(project, owner):
    project.refresh_from_db()
    return approved_email(project, owner, make_audience(project, *employees(3)))


@pytest.fixture
def running(email, owner, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(delivery, "_publish", lambda ids: None)
    send = delivery.email_schedule(asset=email, by=owner)
    with django_capture_on_commit_callbacks(execute=True):
        delivery.dispatch_due(now=after_due(send))
    return email


def _url(name: str, asset: Asset) -> str:
    return reverse(f"campaigns:{name}", args=[asset.project.slug, asset.pk])


def test_an_editor_schedules_from_the_asset_page(client, email, editor):
    client.force_login(editor)
    response = client.post(_url("asset_send_schedule", email))
    assert response.status_code == 302 and response["Location"] == email.get_absolute_url()
    send = EmailSend.objects.get(asset=email)
    email.refresh_from_db()
    assert send.state == EmailSend.State.SCHEDULED and email.status == Asset.Status.SCHEDULED
    assert send.due_at == email.scheduled_for()


def test_a_viewer_cannot_schedule(client, email, viewer):
    client.force_login(viewer)
    assert client.post(_url("asset_send_schedule", email)).status_code == 403
    assert not EmailSend.objects.exists()


@pytest.mark.parametrize("name", ["asset_send_pause", "asset_send_cancel", "asset_send_retry"])
def test_a_viewer_cannot_act_on_a_running_send(client, running, viewer, name):
    client.force_login(viewer)
    assert client.post(_url(name, running)).status_code == 403
    assert EmailSend.objects.get().state == EmailSend.State.RUNNING


@pytest.mark.parametrize("name", ["asset_send", "asset_send_status", "asset_send_pause", "asset_send_retry"])
def test_an_outsider_gets_404(client, running, outsider, name):
    client.force_login(outsider)
    send = client.post if name in ("asset_send_pause", "asset_send_retry") else client.get
    assert send(_url(name, running)).status_code == 404
    assert EmailSend.objects.get().state == EmailSend.State.RUNNING


def test_pause_resume_and_cancel_through_the_buttons(client, running, editor):
    client.force_login(editor)
    client.post(_url("asset_send_pause", running))
    assert EmailSend.objects.get().state == EmailSend.State.PAUSED
    client.post(_url("asset_send_resume", running))
    assert EmailSend.objects.get().state == EmailSend.State.RUNNING
    client.post(_url("asset_send_cancel", running))
    running.refresh_from_db()
    assert EmailSend.objects.get().state == EmailSend.State.CANCELLED
    assert running.status == Asset.Status.CANCELLED


def test_a_refused_action_explains_itself(client, email, editor):
    client.force_login(editor)
    response = client.post(_url("asset_send_pause", email), follow=True)
    assert "not scheduled" in response.content.decode() or "inte schemalagt" in response.content.decode()
    assert not EmailSend.objects.exists()


def test_a_viewer_sees_progress_and_failures_but_no_buttons(client, running, viewer, settings):
    settings.EMAIL_BACKEND = "campaigns.tests.delivery_helpers.RefusingBackend"
    RefusingBackend.replies = {"person1@example.se": (550, b"5.1.1 No such user here")}
    try:
        delivery.send_batch(delivery_ids=list(Delivery.objects.values_list("pk", flat=True)))
    finally:
        RefusingBackend.replies = {}
    client.force_login(viewer)

    page = client.get(running.get_absolute_url())
    status = client.get(_url("asset_send_status", running))

    html = page.content.decode()
    assert page.status_code == 200
    assert "5.1.1 No such user here" in html and "person1@example.se" in html
    assert _url("asset_send_status", running) in html and "js/send_progress.js" in html
    assert _url("asset_send_pause", running) not in html and _url("asset_send_retry", running) not in html
    assert "<script>" not in html  # no inline scripts under the CSP
    assert status.status_code == 200
    assert status.json() | {"opens": 0} == status.json()
    assert (status.json()["sent"], status.json()["failed"], status.json()["remaining"]) == (2, 1, 0)


def test_a_reason_written_by_a_swedish_worker_reads_in_each_viewers_language(client, running, viewer):
    from django.utils import translation

    from campaigns.delivery import reasons

    with translation.override("sv"):  # the worker runs in the organisation's language
        stored = reasons.gave_up(5, reasons.could_not_compose("bad header"))
    Delivery.objects.filter(pk=Delivery.objects.order_by("pk")[1].pk).update(
        status=Delivery.Status.FAILED, last_error=stored, attempts=5
    )
    client.force_login(viewer)

    english = client.get(running.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    swedish = client.get(running.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="sv").content.decode()

    assert "Gave up after 5 attempts: The email could not be composed: bad header" in english
    assert "Gav upp efter 5 försök: E-postmeddelandet kunde inte sättas ihop: bad header" in swedish
    assert "code&quot;" not in english and "code&quot;" not in swedish  # never the stored form


def test_an_editor_retries_failed_from_the_panel(client, running, editor, settings, monkeypatch):
    settings.EMAIL_BACKEND = "campaigns.tests.delivery_helpers.RefusingBackend"
    RefusingBackend.replies = {"person1@example.se": (550, b"5.1.1 No such user here")}
    try:
        delivery.send_batch(delivery_ids=list(Delivery.objects.values_list("pk", flat=True)))
    finally:
        RefusingBackend.replies = {}
    client.force_login(editor)
    assert _url("asset_send_retry", running) in client.get(running.get_absolute_url()).content.decode()

    client.post(_url("asset_send_retry", running))

    assert Delivery.objects.filter(status=Delivery.Status.QUEUED).count() == 1
    assert EmailSend.objects.get().state == EmailSend.State.RUNNING


def test_the_progress_page_and_status_do_a_fixed_number_of_queries(
    client, running, viewer, django_assert_max_num_queries
):
    client.force_login(viewer)
    with django_assert_max_num_queries(12):
        assert client.get(_url("asset_send", running)).status_code == 200
    with django_assert_max_num_queries(7):
        assert client.get(_url("asset_send_status", running)).status_code == 200


# The panel offers what can succeed


def test_the_panel_shows_the_recipients_each_counted_once(client, project, owner, email, viewer):
    people = list(email.audiences.get().members.all())
    email.audiences.add(make_audience(project, people[0], *employees(2, prefix="extra"), name="Fler"))
    client.force_login(viewer)
    page = client.get(email.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "To 5 people" in page  # 3 + 2 new; the one in both audiences once
    assert delivery.recipient_count(asset=email) == 5


def test_a_draft_offers_no_schedule_and_says_why(client, project, owner, editor):
    project.refresh_from_db()
    draft = approved_email(project, owner, make_audience(project, *employees(2)))
    Asset.objects.filter(pk=draft.pk).update(status=Asset.Status.DRAFT)
    client.force_login(editor)
    page = client.get(draft.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert _url("asset_send_schedule", draft) not in page and _url("asset_send_now", draft) not in page
    assert "An owner approves the email first." in page
    response = client.post(_url("asset_send_now", draft))  # and a forged post is refused, nothing written
    assert response.status_code == 302 and not EmailSend.objects.exists()


def test_send_now_moves_the_email_to_now_and_starts_the_dispatcher(
    client, email, editor, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(
        "campaigns.delivery.tasks.dispatch_due.apply_async", lambda args=None, kwargs=None, **o: queued.append(1)
    )
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("asset_send_now", email))
    assert response.status_code == 302
    send = EmailSend.objects.get(asset=email)
    email.refresh_from_db()
    assert send.state == EmailSend.State.SCHEDULED and email.fixed_at is not None
    assert abs((send.due_at - email.fixed_at).total_seconds()) < 1 and queued == [1]
    page = client.get(email.get_absolute_url()).content.decode()
    assert _url("asset_send_now", email) not in page  # scheduled: the panel offers cancel, not another send


def test_a_finished_send_offers_neither_schedule_nor_cancel(client, running, editor):
    Delivery.objects.filter(asset=running).update(status=Delivery.Status.SENT)
    EmailSend.objects.filter(asset=running).update(state=EmailSend.State.DONE)
    client.force_login(editor)
    page = client.get(running.get_absolute_url()).content.decode()
    for action in ("asset_send_schedule", "asset_send_now", "asset_send_cancel", "asset_send_pause"):
        assert _url(action, running) not in page, action
    assert _url("asset_send", running) in page  # the send page is linked wherever the send is shown


@pytest.mark.parametrize("state", ["none", "scheduled", "running", "paused", "done", "cancelled"])
def test_the_panel_offers_exactly_the_actions_that_succeed(client, email, owner, editor, state):
    """Every button on the panel works in that state, and every action it hides is refused."""
    if state != "none":
        delivery.email_schedule(asset=email, by=owner)
    if state in ("running", "paused", "done", "cancelled"):
        delivery.email_start(send=EmailSend.objects.get(asset=email), now=timezone.now())
    if state == "paused":
        delivery.email_pause(asset=email, by=owner)
    if state == "done":
        EmailSend.objects.filter(asset=email).update(state=EmailSend.State.DONE)
    if state == "cancelled":
        delivery.email_cancel(asset=email, by=owner)
    client.force_login(editor)
    page = client.get(email.get_absolute_url()).content.decode()
    names = {
        "schedule": "asset_send_schedule",
        "now": "asset_send_now",
        "pause": "asset_send_pause",
        "resume": "asset_send_resume",
        "cancel": "asset_send_cancel",
    }
    offered = {action for action, name in names.items() if _url(name, email) in page}
    expected = {
        "none": {"schedule", "now"},
        "scheduled": {"cancel"},
        "running": {"pause", "cancel"},
        "paused": {"resume", "cancel"},
        "done": set(),
        "cancelled": set(),
    }[state]
    assert offered == expected
    for action in set(names) - offered:
        before = list(EmailSend.objects.values_list("state", flat=True))
        response = client.post(_url(names[action], email), follow=True)
        assert response.status_code == 200
        assert list(EmailSend.objects.values_list("state", flat=True)) == before, f"{action} must be refused"


def test_the_panel_shows_the_expected_finish_at_the_send_rate(client, running, editor, settings):
    client.force_login(editor)
    assert "expected_finish" not in client.get(running.get_absolute_url()).content.decode()
    assert client.get(_url("asset_send_status", running)).json()["expected_finish"] == ""

    settings.DELIVERY_MAX_PER_MINUTE = 2  # three remaining: a minute and a half from now
    page = client.get(running.get_absolute_url()).content.decode()
    status = client.get(_url("asset_send_status", running)).json()
    finish = timezone.localtime(timezone.now() + datetime.timedelta(minutes=1.5)).strftime("%H:%M")
    assert finish in status["expected_finish"] and " 2 " in status["expected_finish"]
    assert 'data-send-field="expected_finish"' in page and finish in page
