"""Worker and fault layers: real Celery workers, our own Redis, PostgreSQL and an aiosmtpd server.

Nothing is lost and nothing is sent twice: a worker killed mid-send, Redis restarted mid-send,
an SMTP server answering 451 for a while, two dispatchers at once, a rolled-back schedule.
"""

import datetime
import time

import pytest
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from audiences.models import Audience, AudienceMember, Employee
from campaigns.delivery import services as delivery
from campaigns.models import Asset, Delivery, EmailSend
from campaigns.tests.delivery_helpers import approved_email
from campaigns.tests.worker_harness import dispatch, run_dispatch, wait_for, worker_env

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BATCH = 100


def _audience(project, n: int) -> Audience:
    Employee.objects.bulk_create(
        [
            Employee(email=f"p{i:05d}@example.se", first_name=f"Person{i}", last_name="Test", department="Ekonomi")
            for i in range(n)
        ],
        batch_size=2000,
    )
    audience = Audience.objects.create(project=project, name=f"Alla {n}", kind=Audience.Kind.LIST)
    AudienceMember.objects.bulk_create(
        [AudienceMember(audience=audience, employee_id=pk) for pk in Employee.objects.values_list("pk", flat=True)],
        batch_size=2000,
    )
    return audience


def _due_email(project, owner, n: int) -> Asset:
    project.refresh_from_db()
    asset = approved_email(
        project, owner, _audience(project, n), fixed_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    delivery.email_schedule(asset=asset, by=owner)
    return asset


def _sent(asset) -> int:
    return Delivery.objects.filter(asset=asset, status=Delivery.Status.SENT).count()


def _assert_each_once(asset, sink, n: int, allowed_duplicates: int = 0):
    emails = {f"p{i:05d}@example.se" for i in range(n)}
    received = sink.handler.received
    assert set(received) == emails, f"missing: {sorted(emails - set(received))[:5]}"
    twice = {address for address, count in received.items() if count > 1}
    assert all(received[a] == 2 for a in twice), "nobody may get it three times"
    assert len(twice) <= allowed_duplicates
    recorded = set(
        Delivery.objects.filter(asset=asset, possible_duplicate=True).values_list("employee__email", flat=True)
    )
    assert twice <= recorded, f"unrecorded duplicates: {sorted(twice - recorded)[:5]}"
    assert Delivery.objects.filter(asset=asset).exclude(status=Delivery.Status.SENT).count() == 0
    assert EmailSend.objects.get(asset=asset).state == EmailSend.State.DONE


def _until_sent(asset, n: int, env, timeout: float, dispatch_every: float = 0):
    """Wait until every delivery is sent, running the dispatcher now and then as beat would."""
    deadline = time.monotonic() + timeout
    last = 0.0
    while time.monotonic() < deadline:
        if _sent(asset) == n and EmailSend.objects.get(asset=asset).state == EmailSend.State.DONE:
            return
        if dispatch_every and time.monotonic() - last > dispatch_every:
            dispatch(env)
            last = time.monotonic()
        time.sleep(0.3)
    counts = dict(Delivery.objects.filter(asset=asset).values_list("status").annotate(n=Count("pk")).order_by())
    raise AssertionError(f"not all sent within {timeout} s: {counts}")


def test_a_send_goes_out_through_a_real_worker(project, owner, redis, sink, workers):
    n = 300
    asset = _due_email(project, owner, n)
    env = worker_env(redis, sink, DELIVERY_BATCH_SIZE=BATCH)
    workers(env)

    assert "started 1 send(s)" in dispatch(env)
    _until_sent(asset, n, env, timeout=60)

    _assert_each_once(asset, sink, n)
    row = Delivery.objects.filter(asset=asset).first()
    assert row.sent_at and row.attempts == 1


def test_a_worker_killed_mid_send_loses_nothing_and_records_its_duplicates(project, owner, redis, sink, workers):
    n = 2000
    asset = _due_email(project, owner, n)
    env = worker_env(
        redis,
        sink,
        DELIVERY_BATCH_SIZE=BATCH,
        DELIVERY_STUCK_AFTER_SECONDS=8,
        DELIVERY_REQUEUE_AFTER_SECONDS=30,
        CELERY_TASK_SOFT_TIME_LIMIT=6,  # the stuck-after time must exceed the hard limit (a start-up check)
        CELERY_TASK_TIME_LIMIT=7,
    )
    first = workers(env)
    dispatch(env)

    wait_for(lambda: sink.handler.total >= 500, 90, interval=0.02, what="the first 500 emails")
    first.kill()
    in_flight = Delivery.objects.filter(asset=asset, status=Delivery.Status.SENDING).count()
    assert 0 < sink.handler.total < n
    workers(env)
    _until_sent(asset, n, env, timeout=150, dispatch_every=3)

    # Only the batch in flight can have reached the server twice, and each such row is recorded.
    assert in_flight <= BATCH
    _assert_each_once(asset, sink, n, allowed_duplicates=BATCH)


def test_a_redis_restart_mid_send_still_completes(project, owner, redis, sink, workers):
    n = 2000
    asset = _due_email(project, owner, n)
    env = worker_env(redis, sink, DELIVERY_BATCH_SIZE=BATCH, DELIVERY_REQUEUE_AFTER_SECONDS=5)
    workers(env)
    dispatch(env)

    wait_for(lambda: sink.handler.total >= 300, 90, interval=0.02, what="the first 300 emails")
    redis.restart(down_for=1.0)  # no persistence: every queued batch message is gone
    _until_sent(asset, n, env, timeout=150, dispatch_every=3)

    _assert_each_once(asset, sink, n)


def test_an_smtp_server_answering_451_for_a_while_gets_everything_after(project, owner, redis, sink, workers):
    n = 300
    asset = _due_email(project, owner, n)
    env = worker_env(redis, sink, DELIVERY_BATCH_SIZE=BATCH, DELIVERY_RETRY_BASE_SECONDS=1)
    workers(env)
    sink.handler.refuse_until = time.monotonic() + 6
    sink.handler.refuse_first = 2 * BATCH  # a spell of refusals even when the workers start late
    dispatch(env)

    _until_sent(asset, n, env, timeout=90)

    assert sink.handler.refused >= BATCH
    _assert_each_once(asset, sink, n)
    assert Delivery.objects.filter(asset=asset, attempts__gt=1).exists()


def test_two_dispatchers_at_once_send_each_email_once(project, owner, redis, sink, workers):
    n = 500
    asset = _due_email(project, owner, n)
    env = worker_env(redis, sink, DELIVERY_BATCH_SIZE=BATCH)
    workers(env, "a")
    workers(env, "b")

    both = [run_dispatch(env), run_dispatch(env)]
    outputs = [p.communicate(timeout=120)[0] for p in both]
    _until_sent(asset, n, env, timeout=90)

    assert sorted(o.split(" send(s)")[0][-9:] for o in outputs) == ["started 0", "started 1"], outputs
    _assert_each_once(asset, sink, n)


def test_scheduling_in_a_rolled_back_transaction_sends_nothing(project, owner, redis, sink, workers):
    project.refresh_from_db()
    asset = approved_email(
        project, owner, _audience(project, 20), fixed_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    env = worker_env(redis, sink)
    workers(env)

    with pytest.raises(RuntimeError), transaction.atomic():
        delivery.email_schedule(asset=asset, by=owner)
        raise RuntimeError("the request failed after scheduling")
    assert "started 0 send(s)" in dispatch(env)
    time.sleep(2)

    assert sink.handler.total == 0
    assert not EmailSend.objects.exists() and not Delivery.objects.exists()
