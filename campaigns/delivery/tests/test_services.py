"""Delivery services: dispatching due emails, claiming and sending batches, failures, the stuck-row policy."""

import datetime
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import OperationalError, transaction
from django.utils import timezone, translation

from campaigns.delivery import services as delivery
from campaigns.models import Asset, AssetEvent, Delivery, EmailSend, EngagementCounter, TrackedLink
from campaigns.tests.delivery_helpers import (
    RefusingBackend,
    after_due,
    approved_email,
    employees,
    make_audience,
    make_employee,
    scheduled_email,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(project):
    project.refresh_from_db()
    return project


@pytest.fixture
def published(monkeypatch):
    """The batches handed to the broker, instead of a broker."""
    batches: list[list[int]] = []
    monkeypatch.setattr(delivery, "_publish", lambda ids: batches.append(list(ids)))
    return batches


@pytest.fixture
def refusing(settings):
    settings.EMAIL_BACKEND = "campaigns.tests.delivery_helpers.RefusingBackend"
    RefusingBackend.replies = {}
    RefusingBackend.down = False
    yield RefusingBackend
    RefusingBackend.replies = {}
    RefusingBackend.down = False


def _dispatch(send, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return delivery.dispatch_due(now=kwargs.pop("now", None) or after_due(send), **kwargs)


def _send_all(batches):
    results = [delivery.send_batch(delivery_ids=ids) for ids in batches]
    batches.clear()
    return results


# Dispatch


def test_it_snapshots_active_employees_once_across_overlapping_audiences(
    project, owner, published, django_capture_on_commit_callbacks
):
    shared = make_employee("shared@example.se")
    left = make_employee("left@example.se", is_active=False)
    a = make_audience(project, shared, left, *employees(3, "a"), name="A")
    b = make_audience(project, shared, *employees(2, "b"), name="B")
    asset, send = scheduled_email(project, owner, a, b)

    result = _dispatch(send, django_capture_on_commit_callbacks)

    assert result.started == [send.pk]
    rows = Delivery.objects.filter(asset=asset)
    assert rows.count() == 6
    assert not rows.filter(employee=left).exists()
    assert rows.get(employee=shared).audience == a
    assert set(rows.values_list("status", flat=True)) == {Delivery.Status.QUEUED}
    assert len(set(rows.values_list("message_id", flat=True))) == 6
    send.refresh_from_db()
    assert send.state == EmailSend.State.RUNNING and send.recipients == 6
    assert sorted(i for batch in published for i in batch) == sorted(rows.values_list("pk", flat=True))


def test_it_publishes_batches_of_the_configured_size(
    project, owner, published, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_BATCH_SIZE = 4
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(10)))
    _dispatch(send, django_capture_on_commit_callbacks)
    assert [len(b) for b in published] == [4, 4, 2]


def test_it_does_not_start_before_the_due_time(project, owner, published, django_capture_on_commit_callbacks):
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(2)))
    result = _dispatch(send, django_capture_on_commit_callbacks, now=send.due_at - datetime.timedelta(minutes=1))
    assert result.started == []
    assert not Delivery.objects.exists() and published == []


def test_the_due_time_follows_a_moved_go_live(project, owner, published, django_capture_on_commit_callbacks):
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(1)))
    old_due = send.due_at
    project.go_live = project.go_live + datetime.timedelta(days=7)
    project.save()
    result = _dispatch(send, django_capture_on_commit_callbacks, now=old_due + datetime.timedelta(minutes=1))
    assert result.started == []
    send.refresh_from_db()
    assert send.due_at == old_due + datetime.timedelta(days=7)


def test_a_send_due_outside_the_window_waits_for_it(project, owner, published, django_capture_on_commit_callbacks):
    project.send_window_start = datetime.time(8, 0)
    project.send_window_end = datetime.time(17, 0)
    project.send_on_weekdays_only = True
    project.save()
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(1)))
    saturday_noon = timezone.make_aware(datetime.datetime(2027, 2, 6, 12, 0))
    monday_early = timezone.make_aware(datetime.datetime(2027, 2, 8, 7, 59))
    monday_morning = timezone.make_aware(datetime.datetime(2027, 2, 8, 8, 0))

    assert _dispatch(send, django_capture_on_commit_callbacks, now=saturday_noon).started == []
    assert _dispatch(send, django_capture_on_commit_callbacks, now=monday_early).started == []
    assert _dispatch(send, django_capture_on_commit_callbacks, now=monday_morning).started == [send.pk]


def test_a_window_over_midnight_is_understood(project):
    project.send_window_start, project.send_window_end = datetime.time(22, 0), datetime.time(2, 0)
    at = lambda h: timezone.make_aware(datetime.datetime(2027, 2, 8, h, 30))  # noqa: E731
    assert delivery.within_send_window(project, at(23))
    assert delivery.within_send_window(project, at(1))
    assert not delivery.within_send_window(project, at(12))


def test_two_dispatchers_start_a_send_once(project, owner, published, django_capture_on_commit_callbacks):
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(3)))
    first = _dispatch(send, django_capture_on_commit_callbacks)
    stale_copy = EmailSend.objects.get(pk=send.pk)
    stale_copy.state = EmailSend.State.SCHEDULED  # what a second dispatcher read before the first committed
    with django_capture_on_commit_callbacks(execute=True):
        second = delivery.email_start(send=stale_copy, now=after_due(send))
    assert first.started == [send.pk] and second is False
    assert Delivery.objects.filter(asset=asset).count() == 3
    assert sum(len(b) for b in published) == 3


def test_an_asset_scheduled_on_the_plan_is_picked_up(project, owner, published, django_capture_on_commit_callbacks):
    from campaigns.plan import services as plan

    asset = approved_email(project, owner, make_audience(project, *employees(2)))
    plan.asset_set_status(asset=asset, status=Asset.Status.SCHEDULED, by=owner)
    with django_capture_on_commit_callbacks(execute=True):
        result = delivery.dispatch_due(now=asset.scheduled_for() + datetime.timedelta(minutes=1))
    assert len(result.started) == 1
    assert Delivery.objects.filter(asset=asset).count() == 2


def test_scheduling_in_a_rolled_back_transaction_sends_nothing(
    project, owner, published, django_capture_on_commit_callbacks
):
    asset = approved_email(project, owner, make_audience(project, *employees(2)))
    with pytest.raises(RuntimeError), transaction.atomic():
        delivery.email_schedule(asset=asset, by=owner)
        raise RuntimeError("the request failed after scheduling")
    with django_capture_on_commit_callbacks(execute=True):
        delivery.dispatch_due(now=asset.scheduled_for() + datetime.timedelta(days=1))
    asset.refresh_from_db()
    assert asset.status == Asset.Status.APPROVED
    assert not EmailSend.objects.exists() and not Delivery.objects.exists() and published == []


def test_scheduling_needs_an_audience(project, owner):
    from django.core.exceptions import ValidationError

    asset = approved_email(project, owner)
    with pytest.raises(ValidationError):
        delivery.email_schedule(asset=asset, by=owner)
    assert not EmailSend.objects.exists()


def test_the_command_runs_the_dispatcher_once(project, owner, published, capsys):
    asset = approved_email(project, owner, make_audience(project, *employees(2)), fixed_at=timezone.now())
    delivery.email_schedule(asset=asset, by=owner)
    call_command("dispatch_due")
    assert "started 1 send(s)" in capsys.readouterr().out
    assert Delivery.objects.filter(asset=asset).count() == 2


# Sending


def test_it_sends_each_delivery_once_with_its_message_id(project, owner, published, django_capture_on_commit_callbacks):
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(3)))
    _dispatch(send, django_capture_on_commit_callbacks)
    batches = [list(b) for b in published]

    results = _send_all(published)
    again = [delivery.send_batch(delivery_ids=ids) for ids in batches]

    assert sum(r.sent for r in results) == 3 and sum(r.sent for r in again) == 0
    assert sorted(m.to[0] for m in mail.outbox) == [f"person{i}@example.se" for i in range(3)]
    rows = {d.employee.email: d for d in Delivery.objects.select_related("employee")}
    for message in mail.outbox:
        row = rows[message.to[0]]
        assert message.extra_headers["Message-ID"] == row.message_id
        assert row.status == Delivery.Status.SENT and row.sent_at and row.attempts == 1
        assert message.subject.startswith("Hej Namn")
        assert message.alternatives[0].mimetype == "text/html"
    send.refresh_from_db()
    asset.refresh_from_db()
    assert send.state == EmailSend.State.DONE and send.finished_at
    assert asset.status == Asset.Status.DONE


def test_it_sends_nothing_for_a_paused_send_and_continues_on_resume(
    project, owner, published, django_capture_on_commit_callbacks
):
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(2)))
    _dispatch(send, django_capture_on_commit_callbacks)
    delivery.email_pause(asset=asset, by=owner)
    assert sum(r.sent for r in _send_all(published)) == 0
    assert Delivery.objects.filter(status=Delivery.Status.QUEUED).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        delivery.email_resume(asset=asset, by=owner)
    assert sum(r.sent for r in _send_all(published)) == 2
    assert len(mail.outbox) == 2


def test_cancel_before_start_unschedules_and_after_start_stops(
    project, owner, published, django_capture_on_commit_callbacks
):
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(2)))
    delivery.email_cancel(asset=asset, by=owner)
    asset.refresh_from_db()
    assert asset.status == Asset.Status.APPROVED
    assert _dispatch(send, django_capture_on_commit_callbacks).started == []

    send = delivery.email_schedule(asset=asset, by=owner)
    _dispatch(send, django_capture_on_commit_callbacks)
    delivery.email_cancel(asset=asset, by=owner)
    assert sum(r.sent for r in _send_all(published)) == 0
    asset.refresh_from_db()
    assert asset.status == Asset.Status.CANCELLED
    assert len(mail.outbox) == 0


def test_a_temporary_refusal_requeues_with_backoff(
    project, owner, published, refusing, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_RETRY_BASE_SECONDS = 30
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(2)))
    _dispatch(send, django_capture_on_commit_callbacks)
    refusing.replies = {"person0@example.se": (451, b"4.7.1 Try again later")}

    [result] = _send_all(published)

    row = Delivery.objects.get(employee__email="person0@example.se")
    assert result.sent == 1 and result.deferred == [row.pk] and result.retry_in == 30
    assert row.status == Delivery.Status.QUEUED and row.attempts == 1
    assert row.last_error == "451 4.7.1 Try again later"
    assert row.next_attempt_at > timezone.now() + datetime.timedelta(seconds=25)
    # Not before its time...
    assert delivery.send_batch(delivery_ids=[row.pk]).skipped == 1
    # ...and afterwards it goes.
    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    refusing.replies = {}
    assert delivery.send_batch(delivery_ids=[row.pk]).sent == 1
    row.refresh_from_db()
    assert row.status == Delivery.Status.SENT and row.attempts == 2


def test_a_permanent_refusal_fails_with_the_servers_reply(
    project, owner, published, refusing, django_capture_on_commit_callbacks
):
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(2)))
    _dispatch(send, django_capture_on_commit_callbacks)
    refusing.replies = {"person1@example.se": (550, b"5.1.1 User unknown")}

    [result] = _send_all(published)

    row = Delivery.objects.get(employee__email="person1@example.se")
    assert result.sent == 1 and result.failed == 1 and result.deferred == []
    assert row.status == Delivery.Status.FAILED and row.last_error == "550 5.1.1 User unknown"
    send.refresh_from_db()
    assert send.state == EmailSend.State.DONE


def test_a_refused_connection_defers_the_whole_batch(
    project, owner, published, refusing, django_capture_on_commit_callbacks
):
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(3)))
    _dispatch(send, django_capture_on_commit_callbacks)
    refusing.down = True
    [result] = _send_all(published)
    assert result.sent == 0 and len(result.deferred) == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.QUEUED}
    assert "Connection refused" in Delivery.objects.first().last_error


def test_it_gives_up_after_the_last_attempt(
    project, owner, published, refusing, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_MAX_ATTEMPTS = 2
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(1)))
    _dispatch(send, django_capture_on_commit_callbacks)
    refusing.replies = {"person0@example.se": (452, b"4.2.2 Mailbox full")}
    [ids] = published
    delivery.send_batch(delivery_ids=ids)
    Delivery.objects.update(next_attempt_at=None)
    result = delivery.send_batch(delivery_ids=ids)
    row = Delivery.objects.get()
    assert result.failed == 1 and row.status == Delivery.Status.FAILED
    with translation.override("en"):
        assert row.reason == "Gave up after 2 attempts: 452 4.2.2 Mailbox full"


def test_retry_failed_sends_them_again(project, owner, published, refusing, django_capture_on_commit_callbacks):
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(2)))
    _dispatch(send, django_capture_on_commit_callbacks)
    refusing.replies = {"person1@example.se": (554, b"5.7.1 Rejected")}
    _send_all(published)
    refusing.replies = {}

    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.email_retry_failed(asset=asset, by=owner) == 1
    _send_all(published)

    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["person0@example.se", "person1@example.se"]
    send.refresh_from_db()
    assert send.state == EmailSend.State.DONE


def test_an_erased_recipient_fails_without_a_message(project, owner, published, django_capture_on_commit_callbacks):
    people = employees(2)
    asset, send = scheduled_email(project, owner, make_audience(project, *people))
    _dispatch(send, django_capture_on_commit_callbacks)
    people[0].delete()  # the row survives with employee = NULL
    _send_all(published)
    assert len(mail.outbox) == 1
    assert Delivery.objects.get(employee__isnull=True).status == Delivery.Status.FAILED


# Forward-only status and claiming


def test_a_claim_takes_only_queued_rows_of_a_running_send(
    project, owner, published, django_capture_on_commit_callbacks
):
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(4)))
    _dispatch(send, django_capture_on_commit_callbacks)
    ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))
    Delivery.objects.filter(pk=ids[0]).update(status=Delivery.Status.SENT)
    Delivery.objects.filter(pk=ids[1]).update(status=Delivery.Status.FAILED)
    Delivery.objects.filter(pk=ids[2]).update(status=Delivery.Status.SENDING)

    claimed = delivery._claim(ids, timezone.now())

    assert claimed == [ids[3]]
    assert delivery._claim(ids, timezone.now()) == []


def test_sent_and_failed_are_final(project, owner, published, django_capture_on_commit_callbacks):
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(2)))
    _dispatch(send, django_capture_on_commit_callbacks)
    sent, failed = Delivery.objects.order_by("pk")
    Delivery.objects.filter(pk=sent.pk).update(status=Delivery.Status.SENT)
    Delivery.objects.filter(pk=failed.pk).update(status=Delivery.Status.FAILED)
    result = delivery.BatchResult()
    marker = delivery._Marker(result)

    marker.failed(sent.pk, "late failure")
    marker.sent_one(failed.pk)
    marker.flush()
    marker.temporary([sent], "late 451")
    delivery.deliveries_reclaim_stuck(now=timezone.now() + datetime.timedelta(days=1))

    sent.refresh_from_db()
    failed.refresh_from_db()
    assert (sent.status, sent.last_error) == (Delivery.Status.SENT, "")
    assert failed.status == Delivery.Status.FAILED
    assert result.sent == result.failed == 0 and result.deferred == []


def test_the_one_sending_row_per_person_is_unique(project, owner, published, django_capture_on_commit_callbacks):
    from django.db import IntegrityError

    person = make_employee()
    asset, send = scheduled_email(project, owner, make_audience(project, person))
    _dispatch(send, django_capture_on_commit_callbacks)
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(asset=asset, employee=person, message_id="<x@y>")


# The stuck-row policy


def test_rows_left_sending_by_a_dead_worker_are_reclaimed_as_possible_duplicates(
    project, owner, published, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_STUCK_AFTER_SECONDS = 600
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(3)))
    _dispatch(send, django_capture_on_commit_callbacks)
    published.clear()
    now = timezone.now()
    old, recent, _queued = Delivery.objects.order_by("pk")
    Delivery.objects.filter(pk=old.pk).update(
        status=Delivery.Status.SENDING, claimed_at=now - datetime.timedelta(minutes=11)
    )
    Delivery.objects.filter(pk=recent.pk).update(
        status=Delivery.Status.SENDING, claimed_at=now - datetime.timedelta(minutes=9)
    )

    with django_capture_on_commit_callbacks(execute=True):
        result = delivery.dispatch_due(now=now)

    old.refresh_from_db()
    recent.refresh_from_db()
    assert result.reclaimed == 1
    assert old.status == Delivery.Status.QUEUED and old.possible_duplicate
    assert recent.status == Delivery.Status.SENDING and not recent.possible_duplicate
    assert [old.pk] in published
    _send_all(published)
    old.refresh_from_db()
    assert old.status == Delivery.Status.SENT and old.possible_duplicate


def test_queued_rows_whose_message_was_lost_are_published_again(
    project, owner, published, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_REQUEUE_AFTER_SECONDS = 900
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(2)))
    _dispatch(send, django_capture_on_commit_callbacks)
    published.clear()  # the broker lost them
    start = send.due_at

    with django_capture_on_commit_callbacks(execute=True):
        early = delivery.dispatch_due(now=start + datetime.timedelta(minutes=10))
        late = delivery.dispatch_due(now=start + datetime.timedelta(minutes=17))

    assert early.requeued == 0 and late.requeued == 2
    _send_all(published)
    assert len(mail.outbox) == 2


# Rendering with tracking


def _html(message) -> str:
    return message.alternatives[0].content


@pytest.mark.parametrize("mode", ["individual", "anonymous", "aggregate"])
def test_links_are_rewritten_and_the_pixel_carries_a_token_the_mode_allows(
    mode, project, owner, published, django_capture_on_commit_callbacks
):
    project.tracking_mode = mode
    project.save()
    audience = make_audience(project, *employees(2))
    asset, send = scheduled_email(
        project, owner, audience, body='<p>Läs <a href="https://intranet.example.se/faq?a=1&amp;b=2">FAQ</a></p>'
    )
    _dispatch(send, django_capture_on_commit_callbacks)
    _send_all(published)

    html = _html(mail.outbox[0])
    assert "https://intranet.example.se/faq" not in html
    links = re.findall(r'href="http://localhost:8000/t/c/([\w-]+)/(\d+)/"', html)
    assert links, html
    tokens = {t for t, _ in links}
    [pixel] = re.findall(r'src="http://localhost:8000/t/o/([\w-]+)\.gif"', html)
    assert tokens == {pixel}
    faq = TrackedLink.objects.get(asset=asset, url="https://intranet.example.se/faq?a=1&b=2")
    assert str(faq.pk) in {link for _, link in links}
    personal = set(Delivery.objects.values_list("token", flat=True))
    if mode == "individual":
        assert pixel in personal
    else:
        assert pixel not in personal
        counter = EngagementCounter.objects.get(token=pixel)
        assert counter.audience == (audience if mode == "anonymous" else None)
        # Everyone in the audience gets the same token: nothing in the email tells people apart.
        assert pixel in _html(mail.outbox[1])


def test_progress_counts_and_audit(project, owner, published, refusing, django_capture_on_commit_callbacks):
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(3)))
    _dispatch(send, django_capture_on_commit_callbacks)
    refusing.replies = {"person2@example.se": (550, b"5.1.1 No such user")}
    _send_all(published)
    progress = delivery.send_progress(asset=asset)
    assert progress | {} == progress
    assert (progress["total"], progress["sent"], progress["failed"], progress["remaining"]) == (3, 2, 1, 0)
    assert progress["state"] == "done"
    panel = delivery.send_panel(asset=asset)
    assert [d.employee.email for d in panel["failures"]] == ["person2@example.se"]
    assert AssetEvent.objects.filter(asset=asset, detail__send=["running", "done"]).exists()


# Tasks and the beat schedule


def test_beat_runs_the_dispatcher_every_minute(settings):
    from campaigns.delivery import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["dispatch-due-emails"]
    assert entry["schedule"] == 60.0
    assert entry["task"] == tasks.dispatch_due.name


def test_the_batch_task_retries_deferred_rows_with_the_backoff(monkeypatch):
    from celery.exceptions import Retry

    from campaigns.delivery import tasks

    monkeypatch.setattr(delivery, "send_batch", lambda delivery_ids: delivery.BatchResult(deferred=[7], retry_in=45))
    retried = {}

    def retry(**kwargs):
        retried.update(kwargs)
        return Retry()

    monkeypatch.setattr(tasks.send_batch, "retry", retry)
    with pytest.raises(Retry):
        tasks.send_batch.run([7, 8])
    assert retried == {"args": ([7],), "countdown": 45}


def test_the_batch_task_retries_when_the_database_is_away(monkeypatch):
    from celery.exceptions import Retry
    from django.db import OperationalError

    from campaigns.delivery import tasks

    def down(delivery_ids):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(delivery, "send_batch", down)
    monkeypatch.setattr(tasks.send_batch, "retry", lambda **kwargs: Retry())
    with pytest.raises(Retry):
        tasks.send_batch.run([1])


def test_a_batch_that_breaks_midway_releases_what_it_never_sent(
    project, owner, published, monkeypatch, django_capture_on_commit_callbacks
):
    from campaigns.delivery import composer as delivery_render

    asset, send = scheduled_email(project, owner, make_audience(project, *employees(4)))
    _dispatch(send, django_capture_on_commit_callbacks)
    calls = []
    real = delivery_render.Composer.message

    def flaky(self, d, *args):
        calls.append(d.pk)
        if len(calls) == 3:
            raise OperationalError("the database went away")
        return real(self, d, *args)

    monkeypatch.setattr(delivery_render.Composer, "message", flaky)
    with pytest.raises(OperationalError):
        delivery.send_batch(delivery_ids=published[0])

    statuses = dict(Delivery.objects.values_list("pk", "status"))
    first, second, third, fourth = sorted(statuses)
    assert [statuses[pk] for pk in (first, second)] == [Delivery.Status.SENT] * 2
    assert [statuses[pk] for pk in (third, fourth)] == [Delivery.Status.QUEUED] * 2
    assert not Delivery.objects.filter(possible_duplicate=True).exists()
    assert Delivery.objects.get(pk=third).attempts == 0
    assert len(mail.outbox) == 2


def test_a_connection_lost_mid_message_records_a_possible_duplicate(
    project, owner, published, refusing, monkeypatch, django_capture_on_commit_callbacks
):
    import smtplib

    asset, send = scheduled_email(project, owner, make_audience(project, *employees(3)))
    _dispatch(send, django_capture_on_commit_callbacks)
    real = RefusingBackend.send_messages
    handed = []

    def drop(self, messages):
        handed.append(messages[0].to[0])
        if len(handed) == 2:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real(self, messages)

    monkeypatch.setattr(RefusingBackend, "send_messages", drop)
    [result] = _send_all(published)

    rows = {d.employee.email: d for d in Delivery.objects.select_related("employee")}
    first, dropped, after = handed
    assert result.sent == 2 and result.deferred == [rows[dropped].pk]
    assert rows[first].status == "sent"
    # This backend cannot say how far it got: the message is recorded; the next goes over a new connection.
    assert rows[dropped].possible_duplicate and rows[dropped].status == "queued"
    assert not rows[after].possible_duplicate and rows[after].status == "sent"


def test_a_row_that_cannot_be_composed_is_retried_then_fails_alone(
    project, owner, published, monkeypatch, django_capture_on_commit_callbacks, settings
):
    from campaigns.delivery import composer as delivery_render

    settings.DELIVERY_MAX_ATTEMPTS = 2
    asset, send = scheduled_email(project, owner, make_audience(project, *employees(3)))
    _dispatch(send, django_capture_on_commit_callbacks)
    poison = Delivery.objects.order_by("pk")[1]
    real = delivery_render.Composer.message

    def broken_for_one(self, d, *args):
        if d.pk == poison.pk:
            raise ValueError("a value the renderer cannot take")
        return real(self, d, *args)

    monkeypatch.setattr(delivery_render.Composer, "message", broken_for_one)
    first = delivery.send_batch(delivery_ids=published[0])
    assert first.sent == 2 and first.deferred == [poison.pk]
    Delivery.objects.filter(pk=poison.pk).update(next_attempt_at=None)
    second = delivery.send_batch(delivery_ids=[poison.pk])

    poison.refresh_from_db()
    assert second.failed == 1 and poison.status == Delivery.Status.FAILED and poison.attempts == 2
    with translation.override("en"):
        assert "could not be composed" in poison.reason and "cannot take" in poison.reason
    assert len(mail.outbox) == 2
    assert EmailSend.objects.get(asset=asset).state == EmailSend.State.DONE


def test_the_demo_has_a_due_teaser_and_a_scheduled_go_live_email(published, django_capture_on_commit_callbacks):
    import io

    from campaigns.models import ChangeProject

    call_command("seed_demo", "--employees", "60", stdout=io.StringIO())
    project = ChangeProject.objects.get(slug="atlas")
    sends = {s.asset.title: s for s in EmailSend.objects.filter(asset__project=project).select_related("asset")}
    teaser, go_live = sends["Teaser: något nytt är på väg"], sends["Driftstart: så kommer du igång"]
    assert teaser.due_at < timezone.now() < go_live.due_at

    with django_capture_on_commit_callbacks(execute=True):
        result = delivery.dispatch_due()
    assert result.started == [teaser.pk]
    _send_all(published)
    teaser.refresh_from_db()
    assert teaser.state == EmailSend.State.DONE and len(mail.outbox) == teaser.recipients > 0


def test_a_large_send_refreshes_the_planner_statistics_on_postgresql(project, owner, published, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    audience = make_audience(project, *employees(3))
    asset, send = scheduled_email(project, owner, audience)
    monkeypatch.setattr(delivery, "ANALYZE_AFTER_ROWS", 3)

    with CaptureQueriesContext(connection) as queries:
        assert delivery.email_start(send=send, now=after_due(send))

    analyzed = any(q["sql"].startswith("ANALYZE") for q in queries.captured_queries)
    assert analyzed == (connection.vendor == "postgresql")
    assert asset.deliveries.count() == 3


def test_a_finished_send_refreshes_the_dashboard_once(
    project, owner, published, monkeypatch, django_capture_on_commit_callbacks
):
    from campaigns.analytics import tasks

    refreshed = []
    monkeypatch.setattr(
        tasks.dashboard_refresh, "apply_async", lambda args, kwargs=None, **options: refreshed.append(*args)
    )
    audience = make_audience(project, *employees(3))
    asset, send = scheduled_email(
        project,
        owner,
        audience,
    )
    _dispatch(send, django_capture_on_commit_callbacks)
    first, *rest = [[pk] for batch in published for pk in batch]
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        delivery.send_batch(delivery_ids=first)
    assert refreshed == []  # two still to go
    with django_capture_on_commit_callbacks(execute=True):
        for ids in rest:
            delivery.send_batch(delivery_ids=ids)
        delivery.send_batch(delivery_ids=rest[-1])  # a repeat finishes nothing new
    assert refreshed == [project.pk]


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_is_down_at_start_leaves_the_rows_queued_and_the_start_done(project, owner, monkeypatch, caplog):
    def broker_down(ids):
        raise ConnectionError("Error 111 connecting to the broker")

    monkeypatch.setattr(delivery, "_publish", broker_down)
    audience = make_audience(project, *employees(3))
    asset, send = scheduled_email(project, owner, audience)

    assert delivery.email_start(send=send, now=after_due(send))  # committed, and no error escapes

    send.refresh_from_db()
    assert send.state == EmailSend.State.RUNNING
    assert asset.deliveries.filter(status=Delivery.Status.QUEUED).count() == 3
    assert "Error 111 connecting to the broker" in caplog.text


def test_a_batch_costs_the_same_queries_for_three_people_as_for_forty(
    project, owner, published, django_capture_on_commit_callbacks
):
    """No query per person: claim, people, landing links, marks and the finish are each one per batch."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for prefix, size in (("few", 3), ("many", 40)):
        audience = make_audience(project, *employees(size, prefix=prefix), name=prefix)
        _asset, send = scheduled_email(project, owner, audience)
        _dispatch(send, django_capture_on_commit_callbacks)
        (batch,) = published
        published.clear()
        with CaptureQueriesContext(connection) as queries:
            result = delivery.send_batch(delivery_ids=batch)
        assert result.sent == size
        counts.append(len(queries))

    assert counts[0] == counts[1]
