"""Email delivery: starting due sends, sending batches, recovering from dead workers, tracking.

The database is the truth about what is due and what was sent; the broker only carries
"send these delivery ids now". Every status change is a conditional UPDATE on the old
status, so a task that runs twice, or two workers holding the same ids, cannot send a
delivery twice.

Policy for rows left in `sending` (written down because it decides what a crash costs):

* A batch claims its rows (queued → sending, `claimed_at` = now) before it opens the SMTP
  connection, and marks them sent in small groups as the server accepts them.
* A worker killed mid-batch leaves the rows it had claimed in `sending`. Some of them may
  already be at the server (accepted, not yet marked). Nobody can know which.
* `dispatch_due` (beat, every minute) reclaims rows claimed more than
  `DELIVERY_STUCK_AFTER_SECONDS` ago (longer than the task's hard time limit, so their worker
  is certainly gone): they go back to `queued` with `possible_duplicate` set, and are sent
  again. A recipient may therefore get the email twice, only if they were in the batch in
  flight, and such a row is recorded. Losing an email is never the price.
* Queued rows whose batch message was published more than `DELIVERY_REQUEUE_AFTER_SECONDS`
  ago (the broker lost it, e.g. Redis restarted without persistence) are published again;
  a message that is delivered twice finds its rows already claimed and does nothing.
"""

import datetime
import functools
import html as html_lib
import logging
import re
import secrets
import smtplib
import time
import zoneinfo
from dataclasses import dataclass, field
from email.utils import parseaddr
from itertools import islice

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import InterfaceError, OperationalError, transaction
from django.db import connection as db_connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audiences.models import Employee
from audiences.selectors import audience_members, reachable_employees
from campaigns.cascade.selectors import team_lists
from campaigns.cascade.services import team_talks_create
from campaigns.delivery import reasons
from campaigns.delivery.composer import Composer, send_one
from campaigns.delivery.emails import Briefing
from campaigns.delivery.smtp import ConnectionLost
from campaigns.delivery.stopping import StopWatch, stop_flag_after_commit
from campaigns.models import (
    EMAIL_CHANNELS,
    Asset,
    AssetEvent,
    Booking,
    ChangeProject,
    Channel,
    ComprehensionResponse,
    Delivery,
    EmailSend,
    EngagementCounter,
    LandingToken,
    PulseResponse,
    TeamTalk,
    TrackedLink,
)
from campaigns.plan.services import asset_set_status, asset_update
from lib.pacing import Pace
from lib.tasks import task_queue, task_queue_on_commit

logger = logging.getLogger(__name__)

# Queued by name (campaigns/delivery/tasks.py, campaigns/analytics/tasks.py), never imported back.
SEND_BATCH_TASK = "campaigns.tasks.send_batch"
DISPATCH_TASK = "campaigns.tasks.dispatch_due"
DASHBOARD_REFRESH_TASK = "campaigns.tasks.dashboard_refresh"

# Sent rows are marked in groups this size: a crash can leave at most this many sent-but-unmarked.
MARK_EVERY = 50
MAX_BACKOFF_SECONDS = 1800
# A send of at least this many recipients refreshes the delivery table's planner statistics first.
ANALYZE_AFTER_ROWS = 5000
ACTIVE_STATES = (EmailSend.State.RUNNING, EmailSend.State.PAUSED)


def _setting(name: str) -> int:
    return getattr(settings, name)


def batched(iterable, size: int):
    """itertools.batched, which Python 3.11 lacks."""
    iterator = iter(iterable)
    while chunk := tuple(islice(iterator, size)):
        yield chunk


# Send windows


def within_send_window(project: ChangeProject, at: datetime.datetime) -> bool:
    """Whether emails of `project` may start going out at `at` (its window, in local time)."""
    local = timezone.localtime(at)
    if project.send_on_weekdays_only and local.weekday() >= 5:
        return False
    start, end = project.send_window_start, project.send_window_end
    if start is None and end is None:
        return True
    now = local.time()
    if start is not None and end is not None and end <= start:
        return now >= start or now < end  # a window over midnight
    return (start is None or now >= start) and (end is None or now < end)


# Scheduling and the dispatcher


@dataclass
class DispatchResult:
    started: list[int] = field(default_factory=list)
    reclaimed: int = 0
    requeued: int = 0
    finished: int = 0


def _message_id(domain: str) -> str:
    return f"<{secrets.token_hex(16)}@{domain}>"


def _message_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "launchpad.localhost"


def _audit(asset: Asset, by, action: str, **detail) -> None:
    AssetEvent.objects.create(asset=asset, actor=by, action=action, detail=detail)


# Local time for each recipient


def _zone(name: str) -> datetime.tzinfo:
    return zoneinfo.ZoneInfo(name) if name else timezone.get_default_timezone()


def recipient_zones(*, asset: Asset) -> set[str]:
    """The time zones of the people the email would reach now ("" for the organisation's). One query."""
    members = Q()
    for audience in asset.audiences.all():
        members |= Q(pk__in=audience_members(audience=audience).order_by().values("pk"))
    if not members:
        return set()
    return set(reachable_employees().filter(members).order_by().values_list("time_zone", flat=True).distinct())


def _plan_day(asset: Asset) -> datetime.date:
    """The day the plan puts the email on, in the organisation's time zone."""
    return timezone.localtime(asset.scheduled_for(), timezone.get_default_timezone()).date()


def _due_at(asset: Asset, local_time: datetime.time | None) -> datetime.datetime:
    """When the send starts: its place on the plan, or when the first recipient's zone reaches `local_time`."""
    if local_time is None:
        return asset.scheduled_for()
    day = _plan_day(asset)
    return min(
        datetime.datetime.combine(day, local_time, tzinfo=_zone(z)) for z in recipient_zones(asset=asset) or {""}
    )


def _hold_until_local_time(send: EmailSend, now: datetime.datetime) -> int:
    """Rows of people whose local time has not come yet wait for it; the dispatcher publishes them then."""
    day = _plan_day(send.asset)
    held = 0
    rows = Delivery.objects.filter(asset_id=send.asset_id, status=Delivery.Status.QUEUED)
    for name in set(rows.order_by().values_list("employee__time_zone", flat=True).distinct()):
        moment = datetime.datetime.combine(day, send.local_time, tzinfo=_zone(name or ""))
        if moment > now:
            held += rows.filter(employee__time_zone=name or "").update(next_attempt_at=moment, enqueued_at=None)
    return held


# Scheduling


@transaction.atomic
def email_schedule(*, asset: Asset, by, local_time: bool = False) -> EmailSend:
    """Schedule an email asset to go out at its place on the plan (or at once, if that has passed).

    With `local_time`, each recipient gets it at the plan's time of day in their own time zone
    (09:00 in Helsinki and 09:00 in London), on the plan's day.
    """
    if not asset.is_emailed:
        raise ValidationError(_("Only emails are sent."))
    if not asset.audiences.exists():
        raise ValidationError(_("Choose at least one audience before scheduling."))
    existing = EmailSend.objects.select_for_update().filter(asset=asset).first()
    if existing and existing.state in (EmailSend.State.RUNNING, EmailSend.State.PAUSED, EmailSend.State.DONE):
        raise ValidationError(_("This email has already started going out."))
    if asset.status != Asset.Status.SCHEDULED:
        asset = asset_set_status(asset=asset, status=Asset.Status.SCHEDULED, by=by)
    at = timezone.localtime(asset.scheduled_for(), timezone.get_default_timezone()).time() if local_time else None
    send, _created = EmailSend.objects.update_or_create(
        asset=asset,
        defaults={
            "state": EmailSend.State.SCHEDULED,
            "local_time": at,
            "due_at": _due_at(asset, at),
            "scheduled_by": by,
            "started_at": None,
            "finished_at": None,
        },
    )
    return send


def _sync_scheduled_sends(now: datetime.datetime) -> list[EmailSend]:
    """Scheduled sends of scheduled email assets, due times refreshed from the plan (go-live may move)."""
    orphans = Asset.objects.filter(channel__in=EMAIL_CHANNELS, status=Asset.Status.SCHEDULED, email_send__isnull=True)
    EmailSend.objects.bulk_create(
        [EmailSend(asset=a, due_at=a.scheduled_for()) for a in orphans.select_related("project")],
        ignore_conflicts=True,
    )
    sends = list(
        EmailSend.objects.filter(state=EmailSend.State.SCHEDULED, asset__status=Asset.Status.SCHEDULED).select_related(
            "asset__project"
        )
    )
    for send in sends:
        due = _due_at(send.asset, send.local_time)
        if due != send.due_at:
            EmailSend.objects.filter(pk=send.pk, state=EmailSend.State.SCHEDULED).update(due_at=due)
            send.due_at = due
    return sends


def dispatch_due(*, now: datetime.datetime | None = None) -> DispatchResult:
    """Start every email that is due and inside its send window; recover stuck and lost work."""
    now = now or timezone.now()
    result = DispatchResult()
    for send in _sync_scheduled_sends(now):
        if send.due_at <= now and within_send_window(send.asset.project, now) and email_start(send=send, now=now):
            result.started.append(send.pk)
    result.reclaimed = deliveries_reclaim_stuck(now=now)
    result.requeued = deliveries_requeue_stale(now=now)
    for send in EmailSend.objects.filter(state=EmailSend.State.RUNNING).select_related("asset"):
        result.finished += _finish_if_complete(send.asset_id, now=now)
    return result


# Random values made by the database while it copies an audience into Delivery rows:
# tokens of at least 192 random bits and a random Message-ID local part.
_RANDOM_SQL = {
    "postgresql": (
        "replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')",
        "'<' || replace(gen_random_uuid()::text, '-', '') || '@' || %s || '>'",
    ),
    "sqlite": ("lower(hex(randomblob(24)))", "'<' || lower(hex(randomblob(16))) || '@' || %s || '>'"),
}


def reached_by(*, asset: Asset) -> QuerySet:
    """Employees an email reached as the project's tracking mode can know: they opened or clicked it
    (individual mode), visited their personal page (individual mode), or booked a meeting seat or
    answered the pulse or the comprehension question through their personal link (every mode)."""
    project = asset.project
    person = OuterRef("pk")
    booked = Booking.objects.filter(session__meeting__project=project, status=Booking.Status.CONFIRMED, employee=person)
    answered = PulseResponse.objects.filter(project=project, employee=person)
    understood = ComprehensionResponse.objects.filter(question__project=project, employee=person)
    reached = Exists(booked) | Exists(answered) | Exists(understood)
    if project.tracking_mode == ChangeProject.TrackingMode.INDIVIDUAL:
        opened = Delivery.objects.filter(asset=asset, employee=person).filter(
            Q(opened_at__isnull=False) | Q(clicked_at__isnull=False)
        )
        visited = LandingToken.objects.filter(project=project, employee=person, visited_at__isnull=False)
        reached |= Exists(opened) | Exists(visited)
    return Employee.objects.filter(reached)


def _recipients(asset: Asset, audience) -> QuerySet:
    """Who an audience's copy goes to, as a query of ids: its members (for a follow-up, those its
    first email did not reach), or for a team talk their active managers (a briefing each)."""
    members = audience_members(audience=audience).order_by()
    if asset.channel == Channel.TEAM_TALK:
        managers = members.filter(manager_employee__isnull=False).values("manager_employee_id")
        return reachable_employees().filter(pk__in=managers).order_by().values("pk")
    if asset.follow_up_of_id:
        members = members.exclude(pk__in=reached_by(asset=asset.follow_up_of).values("pk"))
    return members.values("pk")


def _snapshot(asset: Asset, now: datetime.datetime) -> int:
    """Delivery rows for the asset's audiences: active employees, one row per person.

    One INSERT … SELECT per audience, in audience order, so a person in several audiences
    keeps the first; the unique (asset, employee) constraint makes a repeat harmless.
    The rows are born published (`enqueued_at`): email_start publishes them on commit.
    """
    table = Delivery._meta.db_table
    audience_ids = list(asset.audiences.order_by("pk").values_list("pk", flat=True))
    if db_connection.vendor in _RANDOM_SQL:
        token_sql, message_id_sql = _RANDOM_SQL[db_connection.vendor]
        with db_connection.cursor() as cursor:
            for audience in asset.audiences.order_by("pk"):
                members, params = _recipients(asset, audience).query.sql_with_params()
                cursor.execute(
                    f"INSERT INTO {table} (asset_id, employee_id, audience_id, status, token, message_id,"  # noqa: S608 - names from the model, values as parameters
                    " attempts, last_error, possible_duplicate, created_at, enqueued_at)"
                    f" SELECT %s, e.id, %s, %s, {token_sql}, {message_id_sql}, 0, '', %s, %s, %s"
                    f" FROM {Employee._meta.db_table} e WHERE e.id IN ({members}) ORDER BY e.id"
                    " ON CONFLICT DO NOTHING",
                    [
                        asset.pk,
                        audience.pk,
                        str(Delivery.Status.QUEUED),
                        _message_domain(),
                        False,
                        db_connection.ops.adapt_datetimefield_value(now),
                        db_connection.ops.adapt_datetimefield_value(now),
                        *params,
                    ],
                )
    else:  # any other database: the same rows through the ORM
        first_audience: dict[int, int] = {}
        for audience in asset.audiences.order_by("pk"):
            for employee_id in _recipients(asset, audience).values_list("pk", flat=True):
                first_audience.setdefault(employee_id, audience.pk)
        domain = _message_domain()
        rows = (
            Delivery(asset=asset, employee_id=e, audience_id=a, message_id=_message_id(domain), enqueued_at=now)
            for e, a in first_audience.items()
        )
        for chunk in batched(rows, 2000):
            Delivery.objects.bulk_create(chunk, ignore_conflicts=True)
    counters = [EngagementCounter(asset=asset, audience=None)]
    counters += [EngagementCounter(asset=asset, audience_id=pk) for pk in audience_ids]
    EngagementCounter.objects.bulk_create(counters, ignore_conflicts=True)
    return Delivery.objects.filter(asset=asset).count()


def email_start(*, send: EmailSend, now: datetime.datetime | None = None) -> bool:
    """Claim a scheduled send, snapshot its audiences into deliveries and publish the batches.

    Returns False when another dispatcher started it first.
    """
    now = now or timezone.now()
    with transaction.atomic():
        claimed = EmailSend.objects.filter(pk=send.pk, state=EmailSend.State.SCHEDULED).update(
            state=EmailSend.State.RUNNING, started_at=now
        )
        if claimed != 1:
            return False
        stop_flag_after_commit(send.asset_id, EmailSend.State.RUNNING)  # a cancelled earlier start left its flag
        recipients = _snapshot(send.asset, now)
        if send.asset.channel == Channel.TEAM_TALK:
            team_talks_create(asset=send.asset)
        if db_connection.vendor == "postgresql" and recipients >= ANALYZE_AFTER_ROWS:
            # Fresh statistics before the batches start claiming: a planner that still thinks the
            # table holds the rows of the last send picks slow plans for the whole send.
            with db_connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {Delivery._meta.db_table}")
        EmailSend.objects.filter(pk=send.pk).update(recipients=recipients)
        _audit(send.asset, None, AssetEvent.Action.STATUS, send=["scheduled", "running"], recipients=recipients)
        if send.local_time is not None:
            _hold_until_local_time(send, now)
        queued = Delivery.objects.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            asset_id=send.asset_id,
            status=Delivery.Status.QUEUED,
        )
        queued.exclude(enqueued_at=now).update(enqueued_at=now)  # rows left by an earlier, cancelled start
        _publish_ids(list(queued.order_by("pk").values_list("pk", flat=True)))
    logger.info("email send %s (asset %s) started: %s recipients", send.pk, send.asset_id, recipients)
    return True


def _publish_queued(rows, *, now: datetime.datetime) -> int:
    """Mark queued rows as published and publish them in batches once the transaction commits."""
    subquery, params = rows.order_by().values("pk").query.sql_with_params()
    with db_connection.cursor() as cursor:
        # One statement whatever the size; RETURNING gives the ids it marked (PostgreSQL, SQLite ≥ 3.35).
        cursor.execute(
            f"UPDATE {Delivery._meta.db_table} SET enqueued_at = %s WHERE id IN ({subquery}) RETURNING id",  # noqa: S608
            [db_connection.ops.adapt_datetimefield_value(now), *params],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
    return _publish_ids(ids)


def _publish_ids(ids: list[int]) -> int:
    for chunk in batched(ids, _setting("DELIVERY_BATCH_SIZE")):
        _publish_after_commit(list(chunk))
    return len(ids)


def _publish_after_commit(delivery_ids: list[int]) -> None:
    # robust: a broker that is down must not undo the committed snapshot; the rows stay
    # queued and deliveries_requeue_stale publishes them again later. A named function, not a
    # partial: Django names the callback in its log line, and a partial has no name.
    def publish() -> None:
        _publish(delivery_ids)

    transaction.on_commit(publish, robust=True)


def _publish(delivery_ids: list[int]) -> None:
    task_queue(SEND_BATCH_TASK, delivery_ids)


def deliveries_reclaim_stuck(*, now: datetime.datetime | None = None) -> int:
    """Put rows claimed by a dead worker back in the queue, recorded as possible duplicates."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=_setting("DELIVERY_STUCK_AFTER_SECONDS"))
    reclaimed = Delivery.objects.filter(
        status=Delivery.Status.SENDING, claimed_at__lt=cutoff, asset__email_send__state__in=ACTIVE_STATES
    ).update(status=Delivery.Status.QUEUED, possible_duplicate=True, claimed_at=None, enqueued_at=None)
    if reclaimed:
        logger.warning("reclaimed %s deliveries left in sending by a dead worker", reclaimed)
    return reclaimed


def deliveries_requeue_stale(*, now: datetime.datetime | None = None) -> int:
    """Publish again queued rows of running sends whose batch message seems lost."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=_setting("DELIVERY_REQUEUE_AFTER_SECONDS"))
    stale = Delivery.objects.filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=cutoff),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        status=Delivery.Status.QUEUED,
        asset__email_send__state=EmailSend.State.RUNNING,
    )
    with transaction.atomic():
        count = _publish_queued(stale, now=now)
    if count:
        logger.warning("published %s queued deliveries again", count)
    return count


def _finish_if_complete(asset_id: int, *, now: datetime.datetime) -> int:
    open_rows = Delivery.objects.filter(asset_id=asset_id, status__in=(Delivery.Status.QUEUED, Delivery.Status.SENDING))
    if open_rows.exists():
        return 0
    with transaction.atomic():
        done = EmailSend.objects.filter(asset_id=asset_id, state=EmailSend.State.RUNNING).update(
            state=EmailSend.State.DONE, finished_at=now
        )
        if done:
            Asset.objects.filter(pk=asset_id, status=Asset.Status.SCHEDULED).update(status=Asset.Status.DONE)
            _refresh_dashboard_after_commit(asset_id)
            counts = dict(
                Delivery.objects.filter(asset_id=asset_id).values_list("status").annotate(n=Count("pk")).order_by()
            )
            _audit(Asset(pk=asset_id), None, AssetEvent.Action.STATUS, send=["running", "done"], counts=counts)
    return done


def _refresh_dashboard_after_commit(asset_id: int) -> None:
    """A finished send moves the dashboard: recompute it now rather than at the next beat."""
    project_id = Asset.objects.filter(pk=asset_id).values_list("project_id", flat=True).first()
    if project_id is not None:  # with the broker down, the beat refreshes it within minutes
        task_queue_on_commit(DASHBOARD_REFRESH_TASK, project_id)


# Pause, resume, cancel, retry


def _lock_send(asset: Asset) -> EmailSend:
    send = EmailSend.objects.select_for_update().filter(asset=asset).first()
    if send is None:
        raise ValidationError(_("This email is not scheduled."))
    return send


@transaction.atomic
def email_pause(*, asset: Asset, by) -> EmailSend:
    """Stop handing out new batches; a batch already at the SMTP server finishes."""
    send = _lock_send(asset)
    if send.state != EmailSend.State.RUNNING:
        raise ValidationError(_("Only an email that is going out can be paused."))
    send.state = EmailSend.State.PAUSED
    send.save(update_fields=["state"])
    stop_flag_after_commit(asset.pk, send.state)
    _audit(asset, by, AssetEvent.Action.STATUS, send=["running", "paused"])
    return send


@transaction.atomic
def email_resume(*, asset: Asset, by) -> EmailSend:
    """Continue a paused send where it stopped."""
    send = _lock_send(asset)
    if send.state != EmailSend.State.PAUSED:
        raise ValidationError(_("Only a paused email can be resumed."))
    send.state = EmailSend.State.RUNNING
    send.save(update_fields=["state"])
    stop_flag_after_commit(asset.pk, send.state)
    _audit(asset, by, AssetEvent.Action.STATUS, send=["paused", "running"])
    _publish_queued(Delivery.objects.filter(asset=asset, status=Delivery.Status.QUEUED), now=timezone.now())
    return send


@transaction.atomic
def email_cancel(*, asset: Asset, by) -> EmailSend:
    """Cancel a send. Before it starts the email goes back to approved; after, it is cancelled.

    Emails already sent stay sent; queued ones are never sent.
    """
    send = _lock_send(asset)
    if send.state not in (EmailSend.State.SCHEDULED, *ACTIVE_STATES):
        raise ValidationError(_("This email cannot be cancelled any more."))
    started = send.state != EmailSend.State.SCHEDULED
    old = send.state
    send.state = EmailSend.State.CANCELLED
    send.finished_at = timezone.now() if started else None
    send.save(update_fields=["state", "finished_at"])
    stop_flag_after_commit(asset.pk, send.state)
    asset = Asset.objects.select_for_update().get(pk=asset.pk)
    if asset.status == Asset.Status.SCHEDULED:
        asset_set_status(asset=asset, status=Asset.Status.CANCELLED if started else Asset.Status.APPROVED, by=by)
    _audit(asset, by, AssetEvent.Action.STATUS, send=[old, "cancelled"])
    return send


@transaction.atomic
def email_retry_failed(*, asset: Asset, by) -> int:
    """Send the failed deliveries of an email again. Returns how many."""
    send = _lock_send(asset)
    if send.state not in (EmailSend.State.RUNNING, EmailSend.State.DONE):
        raise ValidationError(_("Only failed deliveries of a running or finished email can be retried."))
    now = timezone.now()
    retried = Delivery.objects.filter(asset=asset, status=Delivery.Status.FAILED).update(
        status=Delivery.Status.QUEUED, attempts=0, next_attempt_at=None, enqueued_at=None, claimed_at=None
    )
    if retried:
        if send.state == EmailSend.State.DONE:
            send.state = EmailSend.State.RUNNING
            send.finished_at = None
            send.save(update_fields=["state", "finished_at"])
            stop_flag_after_commit(asset.pk, send.state)
        _audit(asset, by, AssetEvent.Action.STATUS, send=["failed", "retry"], deliveries=retried)
        _publish_queued(Delivery.objects.filter(asset=asset, status=Delivery.Status.QUEUED), now=now)
    return retried


# Sending a batch


@dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0
    deferred: list[int] = field(default_factory=list)
    retry_in: int = 0
    skipped: int = 0
    handed_back: int = 0


def _claim(delivery_ids: list[int], now: datetime.datetime) -> list[int]:
    """Move the batch's claimable rows queued → sending; returns the ids this worker now owns."""
    claimable = Delivery.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        pk__in=delivery_ids,
        status=Delivery.Status.QUEUED,
        asset__email_send__state=EmailSend.State.RUNNING,
    )
    with transaction.atomic():
        if db_connection.vendor == "postgresql":
            ids = list(
                claimable.select_for_update(skip_locked=True, of=("self",)).order_by("pk").values_list("pk", flat=True)
            )
            Delivery.objects.filter(pk__in=ids).update(
                status=Delivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
            return ids
        ids = []
        for pk in claimable.order_by("pk").values_list("pk", flat=True):
            won = Delivery.objects.filter(pk=pk, status=Delivery.Status.QUEUED).update(
                status=Delivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
            if won == 1:
                ids.append(pk)
        return ids


_HREF = re.compile(r'(<a\b[^>]*?\bhref=")(https?://[^"]+)(")', re.IGNORECASE)


class _Tracker:
    """Rewrites links for click tracking and adds the open pixel, honouring the tracking mode."""

    def __init__(self, asset: Asset):
        self.asset = asset
        self.mode = asset.project.tracking_mode
        self.site = settings.SITE_URL
        self.links: dict[str, int] = dict(TrackedLink.objects.filter(asset=asset).values_list("url", "pk"))
        self.counters: dict[int | None, str] = {
            c.audience_id: c.token for c in EngagementCounter.objects.filter(asset=asset)
        }

    def token_for(self, delivery: Delivery) -> str:
        if self.mode == ChangeProject.TrackingMode.INDIVIDUAL:
            return delivery.token
        audience = delivery.audience_id if self.mode == ChangeProject.TrackingMode.ANONYMOUS else None
        if audience not in self.counters:
            counter, _created = EngagementCounter.objects.get_or_create(asset=self.asset, audience_id=audience)
            self.counters[audience] = counter.token
        return self.counters[audience]

    def _link_id(self, url: str) -> int:
        if url not in self.links:
            TrackedLink.objects.bulk_create([TrackedLink(asset=self.asset, url=url)], ignore_conflicts=True)
            self.links[url] = TrackedLink.objects.get(asset=self.asset, url=url).pk
        return self.links[url]

    def apply(self, html: str, token: str, skip: str = "", also_skip: str = "") -> str:
        """Links through the click redirect, except `skip`: the personal landing link counts its own visits
        (and `also_skip`: a manager's own "team talk held" link, which is never stored as a tracked link)."""

        def rewrite(match: re.Match) -> str:
            url = html_lib.unescape(match.group(2))
            if len(url) > 2000 or url == skip or (also_skip and url == also_skip):
                return match.group(0)
            return f"{match.group(1)}{self.site}/t/c/{token}/{self._link_id(url)}/{match.group(3)}"

        html = _HREF.sub(rewrite, html)
        pixel = (
            f'<img src="{self.site}/t/o/{token}.gif" width="1" height="1" alt="" '
            'style="display:block;width:1px;height:1px;border:0;">'
        )
        head, tag, tail = html.rpartition("</body>")
        return f"{head}{pixel}{tag}{tail}" if tag else html + pixel


def _backoff(attempts: int) -> int:
    return min(_setting("DELIVERY_RETRY_BASE_SECONDS") * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


def _smtp_error(exc: Exception, address: str) -> tuple[int | None, str]:
    """(reply code, reply text) of an SMTP exception; code None for network failures."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = exc.recipients.get(address, next(iter(exc.recipients.values()), (None, b"")))
        return code, reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error
        return exc.smtp_code, reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return None, f"{type(exc).__name__}: {exc}"


def _load_asset(asset_id: int) -> Asset:
    return (
        Asset.objects.select_related("project__logo", "project__hero_image", "project__created_by", "image", "meeting")
        .prefetch_related("meeting__sessions")
        .get(pk=asset_id)
    )


def _commit_without_waiting() -> None:
    """Let this transaction's commit return before its WAL reaches the disk (PostgreSQL).

    Only for marking rows sent: a mark that a database crash loses leaves its rows in `sending`,
    which the stuck-row policy sends again flagged as possible duplicates, exactly as after a
    worker that dies before its mark. Claims stay durable: a lost claim would resend unflagged.
    """
    if db_connection.vendor == "postgresql":
        with db_connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


class _Marker:
    """Writes outcomes back, sent rows in small groups (see MARK_EVERY)."""

    def __init__(self, result: BatchResult):
        self.result = result
        self.sent: list[int] = []

    def sent_one(self, pk: int) -> None:
        self.sent.append(pk)
        if len(self.sent) >= MARK_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.sent:
            with transaction.atomic():
                _commit_without_waiting()
                self.result.sent += Delivery.objects.filter(pk__in=self.sent, status=Delivery.Status.SENDING).update(
                    status=Delivery.Status.SENT, sent_at=timezone.now(), claimed_at=None, last_error=""
                )
            self.sent = []

    def failed(self, pk: int, reason: str) -> None:
        self.result.failed += Delivery.objects.filter(pk=pk, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.FAILED, last_error=reason[:500], claimed_at=None
        )

    def hand_back(self, deliveries: list[Delivery], defer: str = "", delay: int | None = None) -> None:
        """Rows this batch claimed but never handed to the server go back to the queue, no attempt used.

        With `defer` (the connection is gone) they wait a first backoff and are retried by the task;
        without (the send was paused or cancelled) they wait for a resume.
        """
        if not deliveries:
            return
        now = timezone.now()
        delay = _backoff(1) if delay is None else delay
        changes = {"status": Delivery.Status.QUEUED, "claimed_at": None, "attempts": F("attempts") - 1}
        if defer:
            changes.update(last_error=defer[:500], next_attempt_at=now + datetime.timedelta(seconds=delay))
        pks = [d.pk for d in deliveries]
        back = Delivery.objects.filter(pk__in=pks, status=Delivery.Status.SENDING).update(enqueued_at=now, **changes)
        if defer:
            self.result.deferred.extend(pks)
            self.result.retry_in = max(self.result.retry_in, delay)
        else:
            self.result.handed_back += back

    def temporary(self, deliveries: list[Delivery], reason: str) -> None:
        """Back to queued with a backoff, or failed once the attempts are used up."""
        now = timezone.now()
        for delivery in deliveries:
            if delivery.attempts >= _setting("DELIVERY_MAX_ATTEMPTS"):
                self.failed(delivery.pk, reasons.gave_up(delivery.attempts, reason))
                continue
            delay = _backoff(delivery.attempts)
            updated = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(
                status=Delivery.Status.QUEUED,
                claimed_at=None,
                last_error=reason[:500],
                next_attempt_at=now + datetime.timedelta(seconds=delay),
                enqueued_at=now,
            )
            if updated:
                self.result.deferred.append(delivery.pk)
                self.result.retry_in = max(self.result.retry_in, delay)


def _landing_urls(deliveries: list[Delivery]) -> dict[int, str]:
    """Each delivery's personal landing link, made in bulk: two queries a batch instead of two a person.

    Same links as `emails.landing_url_for` (a test holds them together); new ones remember the
    audience the person is reached through.
    """
    project_of = dict(Asset.objects.filter(pk__in={d.asset_id for d in deliveries}).values_list("pk", "project_id"))
    wanted = {(project_of[d.asset_id], d.employee_id): d.audience_id for d in deliveries if d.employee_id}
    if not wanted:
        return {}
    projects = {project for project, _employee in wanted}
    employees = {employee for _project, employee in wanted}

    def known() -> dict[tuple[int, int], str]:
        return {
            (p, e): t
            for p, e, t in LandingToken.objects.filter(project_id__in=projects, employee_id__in=employees).values_list(
                "project_id", "employee_id", "token"
            )
        }

    tokens = known()
    missing = {key: wanted[key] for key in wanted if key not in tokens}
    if missing:
        tokens.update(_landing_tokens_create(missing))
        if any(key not in tokens for key in missing):  # another worker made them first
            tokens = known()
    return {
        d.pk: f"{settings.SITE_URL}/p/{tokens[(project_of[d.asset_id], d.employee_id)]}/"
        for d in deliveries
        if (project_of[d.asset_id], d.employee_id) in tokens
    }


def _landing_tokens_create(audiences: dict[tuple[int, int], int | None]) -> dict[tuple[int, int], str]:
    """New personal links for {(project, employee): audience}; returns the tokens of those it made.

    On PostgreSQL one INSERT … RETURNING from arrays: bulk_create spent as long building its SQL
    for a batch's thousand rows as the database took to store them, and a second read followed.
    """
    new_token = LandingToken._meta.get_field("token").default
    now = timezone.now()
    if db_connection.vendor != "postgresql":
        LandingToken.objects.bulk_create(
            [LandingToken(project_id=p, employee_id=e, audience_id=a) for (p, e), a in audiences.items()],
            ignore_conflicts=True,
        )
        return {}
    keys = list(audiences)
    with db_connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LandingToken._meta.db_table} (project_id, employee_id, audience_id, token, created_at)"  # noqa: S608 - the model's table, values as parameters
            " SELECT p, e, a, t, %s FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::text[]) AS x (p, e, a, t)"
            " ON CONFLICT DO NOTHING RETURNING project_id, employee_id, token",
            [
                now,
                [p for p, _e in keys],
                [e for _p, e in keys],
                [audiences[key] for key in keys],
                [new_token() for _key in keys],
            ],
        )
        return {(p, e): t for p, e, t in cursor.fetchall()}


def _briefings(asset: Asset, deliveries: list[Delivery]) -> dict[int, Briefing] | None:
    """For a team talk, each manager's briefing in this batch: their team and their "team talk held" link.

    Two queries for the whole batch (the talks, the teams), never one per manager.
    """
    if asset.channel != Channel.TEAM_TALK:
        return None
    manager_ids = [d.employee_id for d in deliveries if d.asset_id == asset.pk and d.employee_id]
    tokens = dict(TeamTalk.objects.filter(asset=asset, manager_id__in=manager_ids).values_list("manager_id", "token"))
    teams = team_lists(asset=asset, manager_ids=manager_ids)
    return {
        manager_id: Briefing(team=teams[manager_id], confirm_url=f"{settings.SITE_URL}/tt/{tokens[manager_id]}/")
        for manager_id in manager_ids
        if manager_id in tokens
    }


def _reopen(connection) -> bool:
    """A fresh SMTP connection after the server closed the last one; False when it cannot be had now."""
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - closing a broken connection must not hide the outcome
        logger.debug("closing the SMTP connection failed", exc_info=True)
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("SMTP reconnect failed: %s", exc)
        return False
    return True


@functools.lru_cache(maxsize=4)
def _pace_for(per_minute: int | None, per_hour: int | None, redis_url: str) -> Pace:
    return Pace("delivery", per_minute=per_minute, per_hour=per_hour, redis_url=redis_url)


def delivery_pace() -> Pace:
    """The organisation's one send rate (DELIVERY_MAX_PER_MINUTE / _PER_HOUR), shared through Redis."""
    return _pace_for(settings.DELIVERY_MAX_PER_MINUTE, settings.DELIVERY_MAX_PER_HOUR, settings.REDIS_URL)


def _compose(composers, assets, delivery, landing_url, batch):
    """The message for one delivery; each asset's composer is made once per batch (a team talk's
    with the briefings of the batch's managers)."""
    if delivery.asset_id not in assets:
        assets[delivery.asset_id] = asset = _load_asset(delivery.asset_id)
        composers[delivery.asset_id] = Composer(asset, _Tracker(asset), briefings=_briefings(asset, batch))
    return composers[delivery.asset_id].message(delivery, landing_url)


def send_batch(*, delivery_ids: list[int]) -> BatchResult:
    """Claim, render and send a batch of deliveries over one SMTP connection.

    Temporary failures (4xx replies, refused connections, timeouts) put rows back in the
    queue with a backoff and are listed in `deferred`; permanent ones (5xx) fail the row
    with the server's reply. A row that cannot be composed is tried again like a temporary
    failure and fails alone after DELIVERY_MAX_ATTEMPTS. A pause or cancel is seen before
    the next message: the rows not yet sent go back to the queue. A connection the server
    closes is opened again once; only a message whose body reached the server is recorded
    as possibly sent twice.
    """
    result = BatchResult()
    now = timezone.now()
    claimed = _claim(delivery_ids, now)
    result.skipped = len(delivery_ids) - len(claimed)
    if not claimed:
        return result
    deliveries = list(Delivery.objects.filter(pk__in=claimed).select_related("employee").order_by("asset_id", "pk"))
    landing_urls = _landing_urls(deliveries)
    marker = _Marker(result)
    assets: dict[int, Asset] = {}
    composers: dict[int, Composer] = {}
    watch = StopWatch({d.asset_id for d in deliveries})
    pace = delivery_pace()
    # A slow pace must not run into the task's soft time limit: the rest goes back to the queue first.
    hand_back_at = time.monotonic() + 0.8 * (settings.CELERY_TASK_SOFT_TIME_LIMIT or 3600)
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as exc:
        marker.temporary(deliveries, _smtp_error(exc, "")[1])
        logger.warning("SMTP connection failed, %s deliveries deferred: %s", len(deliveries), exc)
        return result
    index, handing, reconnected = 0, False, False
    try:
        while index < len(deliveries):
            delivery = deliveries[index]
            if pace.limited:
                pace.wait()  # before the stop check: a pause during the wait still stops this message
                if time.monotonic() > hand_back_at:
                    marker.flush()
                    marker.hand_back(deliveries[index:], defer=reasons.paced(), delay=0)
                    break
            if watch.should_stop(delivery.asset_id):
                end = index
                while end < len(deliveries) and deliveries[end].asset_id == delivery.asset_id:
                    end += 1
                marker.flush()
                marker.hand_back(deliveries[index:end])
                index = end
                continue
            employee = delivery.employee
            if employee is None or not employee.email or employee.erased_at is not None:
                marker.failed(delivery.pk, reasons.erased())
                index += 1
                continue
            try:
                message = _compose(composers, assets, delivery, landing_urls.get(delivery.pk), deliveries)
            except (OperationalError, InterfaceError):
                raise  # the database, not this person: the whole batch is retried
            except Exception as exc:
                logger.exception("delivery %s could not be composed", delivery.pk)
                marker.temporary([delivery], reasons.could_not_compose(exc))
                index += 1
                continue
            handing = True
            try:
                send_one(connection, message)
            except ConnectionLost as exc:
                handing = False
                marker.flush()
                reason = _smtp_error(exc.cause, employee.email)[1]
                if exc.may_have_arrived:
                    # The body reached the server and no answer came: it may have taken it.
                    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(
                        possible_duplicate=True
                    )
                    marker.temporary([delivery], reason)
                    index += 1
                if not reconnected and _reopen(connection):
                    reconnected = True
                    logger.info("SMTP connection lost mid-batch and opened again: %s", exc)
                    continue
                rest = deliveries[index:]
                if rest and not exc.may_have_arrived:
                    marker.temporary(rest[:1], reason)  # the one the server turned away uses an attempt
                    rest = rest[1:]
                marker.hand_back(rest, defer=reason)  # never tried: no attempt used
                logger.warning("SMTP connection lost mid-batch, %s deliveries wait: %s", len(rest) + 1, exc)
                break
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                handing = False
                code, reply = _smtp_error(exc, employee.email)
                reason = f"{code} {reply}".strip()
                if code is not None and 500 <= code < 600:
                    marker.failed(delivery.pk, reason)
                else:
                    marker.temporary([delivery], reason)
                index += 1
                continue
            except smtplib.SMTPException as exc:
                # Any other protocol failure comes before the body: this one and the rest wait, unflagged.
                handing = False
                marker.flush()
                marker.temporary(deliveries[index : index + 1], _smtp_error(exc, employee.email)[1])
                marker.hand_back(deliveries[index + 1 :], defer=str(exc))
                logger.warning("SMTP failed mid-batch: %s", exc)
                break
            handing, reconnected = False, False
            marker.sent_one(delivery.pk)
            index += 1
    except BaseException:
        # A bug, a database error or a time limit: what was never handed to the server goes
        # back to the queue at once instead of waiting for the stuck-row policy.
        untouched = [d.pk for d in deliveries[index + 1 if handing else index :]]
        try:
            marker.flush()
            Delivery.objects.filter(pk__in=untouched, status=Delivery.Status.SENDING).update(
                status=Delivery.Status.QUEUED, claimed_at=None, attempts=F("attempts") - 1
            )
        except Exception:  # noqa: BLE001 - the stuck-row policy recovers them; the first error matters
            logger.exception("could not release %s claimed deliveries", len(untouched))
        raise
    finally:
        marker.flush()
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - closing a broken connection must not hide the outcome
            logger.debug("closing the SMTP connection failed", exc_info=True)
    for asset_id in assets:
        _finish_if_complete(asset_id, now=timezone.now())
    return result


# Progress


def send_progress(*, asset: Asset) -> dict:
    """Counts for the progress bar, in two queries."""
    send = EmailSend.objects.filter(asset=asset).first()
    counts = dict(Delivery.objects.filter(asset=asset).values_list("status").annotate(n=Count("pk")).order_by())
    total = sum(counts.values())
    sent = counts.get(Delivery.Status.SENT, 0)
    failed = counts.get(Delivery.Status.FAILED, 0)
    engagement = EngagementCounter.objects.filter(asset=asset).aggregate(opens=Sum("opens"), clicks=Sum("clicks"))
    return {
        "state": send.state if send else "",
        "state_label": str(send.get_state_display()) if send else str(_("Not scheduled")),
        "due_at": send.due_at.isoformat() if send else None,
        "total": total,
        "sent": sent,
        "failed": failed,
        "remaining": total - sent - failed,
        "percent_sent": round(100 * sent / total, 1) if total else 0,
        "percent_failed": round(100 * failed / total, 1) if total else 0,
        "opens": engagement["opens"] or 0,
        "clicks": engagement["clicks"] or 0,
        "expected_finish": _expected_finish(send, total - sent - failed),
    }


def _expected_finish(send: EmailSend | None, remaining: int) -> str:
    """When the rest will have gone out at the organisation's send rate ("" without a limit or when done)."""
    rate = delivery_pace().per_minute()
    if not rate or not send or send.state != EmailSend.State.RUNNING or not remaining:
        return ""
    finish = timezone.localtime(timezone.now() + datetime.timedelta(minutes=remaining / rate))
    return _("about %(time)s at %(rate)d emails a minute") % {
        "time": date_format(finish, "H:i" if finish.date() == timezone.localdate() else "D j M H:i"),
        "rate": rate,
    }


FAILURES_SHOWN = 50


def recipient_count(*, asset: Asset) -> int:
    """How many people the email would reach now: the asset's audiences' reachable members, each
    person once however many audiences they are in. One query."""
    audiences = list(asset.audiences.all())
    if not audiences:
        return 0
    members = Q()
    for audience in audiences:
        members |= Q(pk__in=_recipients(asset, audience))
    return reachable_employees().filter(members).count()


def schedule_blocker(*, asset: Asset, send: EmailSend | None) -> str:
    """Why the email cannot be scheduled now, or "" when it can (the panel offers only what succeeds)."""
    if send and send.state in (EmailSend.State.RUNNING, EmailSend.State.PAUSED, EmailSend.State.DONE):
        return _("This email has already started going out.")
    if send and send.state == EmailSend.State.SCHEDULED:
        return _("This email is scheduled.")
    if not asset.audiences.exists():
        return _("Choose at least one audience before scheduling.")
    needs_approval = asset.project.requires_approval and asset.status in (Asset.Status.DRAFT, Asset.Status.READY)
    if needs_approval or asset.status == Asset.Status.CANCELLED:
        return _("An owner approves the email first.") if needs_approval else _("The email is cancelled.")
    return ""


def send_actions(*, asset: Asset, send: EmailSend | None, has_failures: bool) -> set[str]:
    """The actions the send's state allows now; the panel offers these and the views refuse the rest."""
    state = send.state if send else ""
    actions = set() if schedule_blocker(asset=asset, send=send) else {"schedule", "now"}
    if state == EmailSend.State.RUNNING:
        actions.add("pause")
    if state == EmailSend.State.PAUSED:
        actions.add("resume")
    if state in (EmailSend.State.SCHEDULED, *ACTIVE_STATES):
        actions.add("cancel")
    if has_failures and state in (EmailSend.State.RUNNING, EmailSend.State.DONE):
        actions.add("retry")
    return actions


@transaction.atomic
def email_send_now(*, asset: Asset, by) -> EmailSend:
    """Schedule the email for this minute: it moves to now on the plan and the dispatcher starts it at once."""
    blocker = schedule_blocker(asset=asset, send=EmailSend.objects.filter(asset=asset).first())
    if blocker:
        raise ValidationError(blocker)
    asset = asset_update(asset=asset, by=by, fixed_at=timezone.now().replace(second=0, microsecond=0))
    send = email_schedule(asset=asset, by=by)
    task_queue_on_commit(DISPATCH_TASK)  # not waiting for the beat's next minute
    return send


def send_panel(*, asset: Asset) -> dict:
    """Everything the send panel shows: the send, its progress and the first failures with reasons."""
    failures = (
        Delivery.objects.filter(asset=asset, status=Delivery.Status.FAILED)
        .select_related("employee")
        .only("pk", "last_error", "attempts", "employee__first_name", "employee__last_name", "employee__email")
        .order_by("pk")
    )
    progress = send_progress(asset=asset)
    send = EmailSend.objects.filter(asset=asset).first()
    blocker = schedule_blocker(asset=asset, send=send)
    failures = list(failures[:FAILURES_SHOWN])
    return {
        "send": send,
        "actions": send_actions(asset=asset, send=send, has_failures=bool(failures)),
        "schedule_blocker": blocker,
        "recipients": recipient_count(asset=asset) if not send or send.state == EmailSend.State.SCHEDULED else None,
        "progress": progress,
        "failures": failures,
        "possible_duplicates": Delivery.objects.filter(asset=asset, possible_duplicate=True).count(),
    }


# Tracking


def _bump(counter_id: int, kind: str) -> None:
    column = "opens" if kind == "open" else "clicks"
    EngagementCounter.objects.filter(pk=counter_id).update(**{column: F(column) + 1}, updated_at=timezone.now())


def _counter_id(asset_id: int, audience_id: int | None) -> int:
    counter, _created = EngagementCounter.objects.get_or_create(asset_id=asset_id, audience_id=audience_id)
    return counter.pk


def engagement_record(*, token: str, kind: str, link_id: int | None = None) -> str | None:
    """Record an open or a click for a tracking token, as the project's tracking mode allows.

    Individual: the delivery's first open and click time (and the audience's count).
    Anonymous: the count of the email and audience only. Aggregate: the email's total only.
    Returns the click target (or "" for an open), or None when the token or link is unknown.
    """
    now = timezone.now()
    delivery = Delivery.objects.filter(token=token).select_related("asset__project").first()
    if delivery is not None:
        asset_id, audience_id, mode = delivery.asset_id, delivery.audience_id, delivery.asset.project.tracking_mode
    else:
        counter = EngagementCounter.objects.filter(token=token).select_related("asset__project").first()
        if counter is None:
            return None
        asset_id, audience_id, mode = counter.asset_id, counter.audience_id, counter.asset.project.tracking_mode
    target = ""
    if kind == "click":
        target = TrackedLink.objects.filter(pk=link_id, asset_id=asset_id).values_list("url", flat=True).first()
        if target is None:
            return None
    # The current mode decides: a project that became less personal stores less from then on.
    if mode == ChangeProject.TrackingMode.AGGREGATE:
        audience_id = None
    with transaction.atomic():
        if delivery is not None and mode == ChangeProject.TrackingMode.INDIVIDUAL:
            Delivery.objects.filter(pk=delivery.pk, opened_at__isnull=True).update(opened_at=now)
            if kind == "click":
                Delivery.objects.filter(pk=delivery.pk, clicked_at__isnull=True).update(clicked_at=now)
        _bump(_counter_id(asset_id, audience_id), kind)
    return target
