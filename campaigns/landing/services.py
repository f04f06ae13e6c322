"""The landing page's writes: personal links, counters, bookings, questions, the pulse.

What the page shows is read in campaigns.landing.selectors.

Every write is a service here (`<entity>_<action>`, keyword-only). Emails go out after
commit. Counters are single UPDATEs with F(), so the dashboard never scans raw events.
"""

import atexit
import logging
import threading
from time import monotonic

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.landing import invites
from campaigns.landing.models import story_bucket
from campaigns.landing.selectors import invited_meetings, is_public, may_book
from campaigns.models import (
    Booking,
    ChangeProject,
    Comprehension,
    ComprehensionResponse,
    ErasureRequest,
    LandingCounter,
    LandingToken,
    MeetingSession,
    PulseResponse,
    Question,
    ReadDepthCounter,
    Stage,
)
from lib.richtext import sanitize_html
from lib.tasks import task_queue_on_commit

logger = logging.getLogger(__name__)

# Queued by name (campaigns/projects/tasks.py), never imported back.
NOTIFY_TASK = "campaigns.tasks.notify"

PULSE_STAGES = tuple(Stage.values)


class BookingError(Exception):
    """A booking that cannot be made; the message is shown to the employee."""


class SessionFull(BookingError):
    pass


class SessionClosed(BookingError):
    """The session has started, or its meeting is not approved (any more)."""


class SessionByInvitation(BookingError):
    """The meeting is for its cross-functional groups, and the booking is not one of their members'."""


# Personal links and counters


def landing_token_for(*, project: ChangeProject, employee) -> LandingToken:
    """The personal link of `employee` to `project`, created on first need (idempotent, race-safe)."""
    token = LandingToken.objects.filter(project=project, employee=employee).first()
    if token:
        return token
    from campaigns.models import Delivery

    # The audience the person was last reached through, so answers count per audience.
    audience_id = (
        Delivery.objects.filter(asset__project=project, employee=employee, audience__isnull=False)
        .order_by("-id")
        .values_list("audience_id", flat=True)
        .first()
    )
    try:
        with transaction.atomic():
            return LandingToken.objects.create(project=project, employee=employee, audience_id=audience_id)
    except IntegrityError:
        return LandingToken.objects.get(project=project, employee=employee)


def landing_visit_record(*, link: LandingToken) -> None:
    """Remember the first visit through a personal link, only where the project tracks individuals.

    One UPDATE per person; later visits (and this process for an hour) write nothing.
    """
    if link.visited_at is not None or link.project.tracking_mode != ChangeProject.TrackingMode.INDIVIDUAL:
        return
    key = f"landing:visited:{link.pk}"
    if local_cache.get(key):
        return
    LandingToken.objects.filter(pk=link.pk, visited_at__isnull=True).update(visited_at=timezone.now())
    local_cache.set(key, True, 3600)


def landing_count(
    *, project_id: int, kind: str, source_id: int | None = None, audience_id: int | None = None, by: int = 1
) -> None:
    """Add `by` to a visit or scan counter: one UPDATE, and an INSERT the first time."""
    buckets = LandingCounter.objects.filter(
        project_id=project_id, kind=kind, source_id=source_id, audience_id=audience_id
    )
    if buckets.update(count=F("count") + by, updated_at=timezone.now()):
        return
    try:
        with transaction.atomic():
            LandingCounter.objects.create(
                project_id=project_id, kind=kind, source_id=source_id, audience_id=audience_id, count=by
            )
    except IntegrityError:
        buckets.update(count=F("count") + by, updated_at=timezone.now())


# Visits wait in the process's memory and reach the database in sums (one F() UPDATE per
# bucket at most every LANDING_COUNTER_FLUSH_SECONDS), so a page view costs no write.
_pending: dict[tuple, int] = {}
_flushed_at: dict[tuple, float] = {}
_pending_lock = threading.Lock()


def landing_count_buffered(
    *, project_id: int, kind: str, source_id: int | None = None, audience_id: int | None = None
) -> None:
    """Count one visit; the first of a bucket goes to the database at once, the rest in sums.

    A process that dies loses at most its last few seconds of visits (atexit flushes on a
    normal stop); the counters are for reach, not for billing.
    """
    every = getattr(settings, "LANDING_COUNTER_FLUSH_SECONDS", 5)
    if every <= 0:
        return landing_count(project_id=project_id, kind=kind, source_id=source_id, audience_id=audience_id)
    bucket = (project_id, kind, source_id, audience_id)
    now = monotonic()
    with _pending_lock:
        _pending[bucket] = _pending.get(bucket, 0) + 1
        if now - _flushed_at.get(bucket, -every) < every:
            return
        count = _pending.pop(bucket)
        _flushed_at[bucket] = now
    landing_count(project_id=project_id, kind=kind, source_id=source_id, audience_id=audience_id, by=count)


# Read depth: how far a visit read and how long the story was on screen, from the page's beacon.
# Counted in memory like visits and written in sums; a person's own furthest depth (individual
# mode only) waits here too and is written with the next flush.
STORY_SECONDS_MAX = 3600
_read_pending: dict[tuple, int] = {}
_read_people: dict[int, tuple[int, int]] = {}
_read_flushed_at: dict[tuple, float] = {}


def read_depth_count(*, project_id: int, audience_id: int | None, depth: int, bucket: int, by: int = 1) -> None:
    """Add `by` visits to one read-depth bucket: one UPDATE, and an INSERT the first time."""
    rows = ReadDepthCounter.objects.filter(
        project_id=project_id, audience_id=audience_id, depth=depth, story_seconds=bucket
    )
    if rows.update(count=F("count") + by, updated_at=timezone.now()):
        return
    try:
        with transaction.atomic():
            ReadDepthCounter.objects.create(
                project_id=project_id, audience_id=audience_id, depth=depth, story_seconds=bucket, count=by
            )
    except IntegrityError:
        rows.update(count=F("count") + by, updated_at=timezone.now())


def read_depth_record(
    *, project: ChangeProject, depth: int, seconds: int, audience_id: int | None = None, link_id: int | None = None
) -> None:
    """Count one visit's read depth (1 lede, 2 story, 3 everything) and its seconds on the story,
    as the project's tracking mode allows: per audience unless aggregate, per person only when
    individual. Buffered like visits; nothing is written here most of the time."""
    seconds = max(0, min(int(seconds), STORY_SECONDS_MAX))
    if depth < 2:
        seconds = 0  # the story was never on screen
    mode = project.tracking_mode
    if mode == ChangeProject.TrackingMode.AGGREGATE:
        audience_id = None
    bucket = (project.pk, audience_id, depth, story_bucket(seconds))
    every = getattr(settings, "LANDING_COUNTER_FLUSH_SECONDS", 5)
    now = monotonic()
    with _pending_lock:
        _read_pending[bucket] = _read_pending.get(bucket, 0) + 1
        if link_id and mode == ChangeProject.TrackingMode.INDIVIDUAL:
            old_depth, old_seconds = _read_people.get(link_id, (0, 0))
            _read_people[link_id] = (max(old_depth, depth), max(old_seconds, seconds))
        if every > 0 and now - _read_flushed_at.get(bucket, -every) < every:
            return
        _read_flushed_at[bucket] = now
        count = _read_pending.pop(bucket)
        people = list(_read_people.items())
        _read_people.clear()
    read_depth_count(project_id=bucket[0], audience_id=bucket[1], depth=bucket[2], bucket=bucket[3], by=count)
    _read_people_write(people)


def _read_people_write(people: list[tuple[int, tuple[int, int]]]) -> None:
    """Raise each person's furthest depth and longest story time: one UPDATE per person, never lowering."""
    for link_id, (depth, seconds) in people:
        LandingToken.objects.filter(pk=link_id).update(
            read_depth=Greatest(Coalesce("read_depth", 0), depth),
            story_seconds=Greatest(Coalesce("story_seconds", 0), seconds),
        )


def landing_counters_flush(*, at_exit: bool = False) -> None:
    """Write every visit and read depth still waiting in this process (at exit, and in tests)."""
    with _pending_lock:
        waiting = list(_pending.items())
        _pending.clear()
        _flushed_at.clear()
        reads = list(_read_pending.items())
        people = list(_read_people.items())
        _read_pending.clear()
        _read_people.clear()
        _read_flushed_at.clear()
    try:
        for (project_id, audience_id, depth, bucket), count in reads:
            read_depth_count(project_id=project_id, audience_id=audience_id, depth=depth, bucket=bucket, by=count)
        _read_people_write(people)
    except Exception:  # as for visits below
        if not at_exit:
            logger.warning("landing: %s read depths could not be written", len(reads))
    for (project_id, kind, source_id, audience_id), count in waiting:
        try:
            landing_count(project_id=project_id, kind=kind, source_id=source_id, audience_id=audience_id, by=count)
        except Exception:  # at exit the database (or a test's) may be gone: the counts are lost, as documented
            if not at_exit:  # at exit even the log stream may be closed
                logger.warning("landing: %s visits could not be written", count)


atexit.register(landing_counters_flush, at_exit=True)


class LocalCache:
    """A small cache in each process, holding objects by reference (no pickling): the rendered
    pages (keyed by the shared version), personal links and copies of shared values for seconds.
    Whatever is put in must not be changed afterwards."""

    def __init__(self, max_entries: int = 5000):
        self._data: dict[str, tuple[float, object]] = {}
        self._max = max_entries

    def get(self, key: str, default=None):
        entry = self._data.get(key)
        if entry is None or entry[0] < monotonic():
            return default
        return entry[1]

    def set(self, key: str, value, timeout: float) -> None:
        if len(self._data) >= self._max:
            self._data = {k: v for k, v in self._data.items() if v[0] >= monotonic()}
            if len(self._data) >= self._max:
                self._data.clear()
        self._data[key] = (monotonic() + timeout, value)

    def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def clear(self) -> None:
        self._data.clear()


local_cache = LocalCache()


# The cached public part of the page


def _version_key(project_id: int) -> str:
    return f"landing:version:{project_id}"


def landing_cache_bump(*, project_id: int) -> None:
    """Make the cached parts of a project's page stale (after a booking, an answer, a session change).

    Bumped now and again after commit: a page read between the two cannot keep the old state.
    """
    _bump(project_id)
    transaction.on_commit(lambda: _bump(project_id))


def _bump(project_id: int) -> None:
    key = _version_key(project_id)
    local_cache.delete(key)  # this process sees its own change at once; others within seconds
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 2, timeout=None)


def landing_cache_version(*, project_id: int) -> int:
    return cache.get(_version_key(project_id), 1)


def landing_cache_key(
    *, project: ChangeProject, language: str, version: int | None = None, part: str = "public"
) -> str:
    if version is None:
        version = landing_cache_version(project_id=project.pk)
    # updated_at: a change of the story or the brand shows at once.
    return f"landing:{part}:{project.pk}:{project.updated_at.timestamp():.6f}:{version}:{language}"


def _person_key(project_id: int, employee_id: int) -> str:
    return f"landing:person:{project_id}:{employee_id}"


def landing_forget_person(*, project_id: int, employee_id: int | None) -> None:
    """Drop the cached state of one person's page (after their booking or pulse answer)."""
    if employee_id:
        key = _person_key(project_id, employee_id)
        cache.delete(key)
        local_cache.delete(key)
        transaction.on_commit(lambda: (cache.delete(key), local_cache.delete(key)))


def person_state(*, project: ChangeProject, employee, version: int, invitations=()) -> dict:
    """What the personal page shows of one person: confirmed bookings (session id → cancel token),
    this round's pulse answer, and which of the meetings by invitation (`invitations`, meeting ids)
    invite them. Cached with the page's `version` until they book, cancel or answer, or it moves."""
    booked = dict(
        Booking.objects.filter(
            employee=employee, session__meeting__project=project, status=Booking.Status.CONFIRMED
        ).values_list("session_id", "cancel_token")
    )
    pulse = (
        PulseResponse.objects.filter(project=project, round=project.pulse_round, employee=employee)
        .values("reaction", *PULSE_STAGES)
        .first()
    )
    invited = tuple(sorted(invited_meetings(employee=employee, meeting_ids=invitations)))
    state = {"booked": booked, "pulse": pulse, "invited": invited}
    cache.set(_person_key(project.pk, employee.pk), ((version, project.pulse_round), state), 3600)
    return state


def person_cache_key(*, project_id: int, employee_id: int) -> str:
    return _person_key(project_id, employee_id)


# Meetings


def _active(session: MeetingSession) -> QuerySet[Booking]:
    return Booking.objects.filter(session=session).exclude(status=Booking.Status.CANCELLED)


def booking_create(*, session: MeetingSession, email: str, name: str = "", employee=None, confirmed: bool) -> Booking:
    """Take a seat at `session`.

    `confirmed` (a personal link, where the person is known) takes the seat at once and sends
    the invite; otherwise the booking waits for the link sent to `email`. The session row is
    locked while seats are counted, so two people cannot take the last seat at once.
    Booking again with the same address returns the booking already made.
    """
    with transaction.atomic():
        session = MeetingSession.objects.select_for_update().select_related("meeting__project").get(pk=session.pk)
        if session.starts_at <= timezone.now() or not is_public(session.meeting):
            raise SessionClosed
        # The general link names nobody for sure: an invitation counts on a personal link only.
        if not may_book(session=session, employee=employee if confirmed else None):
            logger.warning("booking refused: session %s is by invitation", session.pk)
            raise SessionByInvitation
        booking = _active(session).filter(email__iexact=email).first()
        if booking is None or (confirmed and booking.status == Booking.Status.PENDING):
            taken = Booking.objects.filter(session=session, status=Booking.Status.CONFIRMED).count()
            if taken >= session.capacity:
                raise SessionFull
        now = timezone.now()
        if booking is None:
            booking = Booking.objects.create(
                session=session,
                employee=employee,
                email=email,
                name=name,
                status=Booking.Status.CONFIRMED if confirmed else Booking.Status.PENDING,
                confirmed_at=now if confirmed else None,
            )
            send = invites.send_invite if confirmed else invites.send_confirmation_request
        elif confirmed and booking.status == Booking.Status.PENDING:
            booking.status, booking.confirmed_at = Booking.Status.CONFIRMED, now
            booking.save(update_fields=["status", "confirmed_at"])
            send = invites.send_invite
        elif booking.status == Booking.Status.PENDING:
            send = invites.send_confirmation_request  # asked again: the link again
        else:
            return booking  # already confirmed: nothing new to send
        landing_cache_bump(project_id=session.meeting.project_id)
        landing_forget_person(project_id=session.meeting.project_id, employee_id=booking.employee_id)
        transaction.on_commit(lambda: _send_safely(send, booking))
    logger.info("booking %s for session %s (%s)", booking.pk, session.pk, booking.status)
    return booking


def booking_confirm(*, booking: Booking) -> Booking:
    """Confirm a pending booking through the emailed link; the seat is counted again under the lock."""
    with transaction.atomic():
        session = (
            MeetingSession.objects.select_for_update().select_related("meeting__project").get(pk=booking.session_id)
        )
        booking = Booking.objects.select_related("employee").get(pk=booking.pk)
        if booking.status != Booking.Status.PENDING:
            return booking
        if session.starts_at <= timezone.now() or not is_public(session.meeting):
            raise SessionClosed
        taken = Booking.objects.filter(session=session, status=Booking.Status.CONFIRMED).count()
        if taken >= session.capacity:
            raise SessionFull
        booking.status, booking.confirmed_at = Booking.Status.CONFIRMED, timezone.now()
        booking.save(update_fields=["status", "confirmed_at"])
        landing_cache_bump(project_id=session.meeting.project_id)
        landing_forget_person(project_id=session.meeting.project_id, employee_id=booking.employee_id)
        transaction.on_commit(lambda: _send_safely(invites.send_invite, booking))
    return booking


def booking_cancel(*, booking: Booking) -> Booking:
    """Give the seat back; a confirmed booking gets a calendar cancellation. Safe to repeat."""
    with transaction.atomic():
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.status == Booking.Status.CANCELLED:
            return locked
        was_confirmed = locked.status == Booking.Status.CONFIRMED
        locked.status, locked.cancelled_at = Booking.Status.CANCELLED, timezone.now()
        locked.ics_sequence += 1 if was_confirmed else 0
        locked.save(update_fields=["status", "cancelled_at", "ics_sequence"])
        booking = Booking.objects.select_related("session__meeting__project", "employee").get(pk=booking.pk)
        landing_cache_bump(project_id=booking.session.meeting.project_id)
        landing_forget_person(project_id=booking.session.meeting.project_id, employee_id=booking.employee_id)
        if was_confirmed:
            transaction.on_commit(lambda: _send_safely(invites.send_cancellation, booking, by_organiser=False))
    return booking


def session_changed(*, session: MeetingSession) -> int:
    """The session's time or place changed: every confirmed booking gets an updated invite (SEQUENCE+1)."""
    with transaction.atomic():
        bookings = Booking.objects.filter(session=session, status=Booking.Status.CONFIRMED)
        bookings.update(ics_sequence=F("ics_sequence") + 1)
        updated = list(bookings.select_related("session__meeting__project", "employee"))
        landing_cache_bump(project_id=session.meeting.project_id)
        for booking in updated:
            transaction.on_commit(lambda b=booking: _send_safely(invites.send_invite, b, update=True))
    return len(updated)


def session_cancelled(*, session: MeetingSession) -> int:
    """The session is called off: bookings are cancelled and confirmed ones get METHOD:CANCEL.

    Call before deleting the session; the emails are built now, while the session still exists.
    """
    with transaction.atomic():
        active = Booking.objects.filter(session=session).exclude(status=Booking.Status.CANCELLED)
        confirmed = list(
            active.filter(status=Booking.Status.CONFIRMED).select_related("session__meeting__project", "employee")
        )
        active.update(status=Booking.Status.CANCELLED, cancelled_at=timezone.now(), ics_sequence=F("ics_sequence") + 1)
        messages = []
        for booking in confirmed:
            booking.ics_sequence += 1
            booking.status = Booking.Status.CANCELLED
            messages.append(booking)
        landing_cache_bump(project_id=session.meeting.project_id)
        for booking in messages:
            transaction.on_commit(lambda b=booking: _send_safely(invites.send_cancellation, b, by_organiser=True))
    return len(messages)


def _send_safely(send, booking: Booking, **kwargs) -> None:
    # After commit: a failing SMTP server must not undo the booking; the failure is logged.
    try:
        send(booking, **kwargs)
    except Exception:
        logger.exception("booking %s: email failed", booking.pk)


# Questions


def question_ask(*, project: ChangeProject, text: str, name: str = "", employee=None, answer_to: str = "") -> Question:
    """A question from the page, anonymous unless a name is given. Plain text, kept as written.

    `answer_to`, an address in the directory, gets the answer by email; the team is told of the
    question (campaigns/projects/notifications.py).
    """
    question = Question.objects.create(
        project=project, text=text.strip(), name=name.strip(), employee=employee, answer_to=answer_to
    )
    logger.info("project %s: question %s asked", project.pk, question.pk)
    task_queue_on_commit(NOTIFY_TASK, "question", question.pk, None)
    return question


@transaction.atomic
def question_answer(*, question: Question, answer: str, publish: bool, by) -> Question:
    """Answer a question (rich text, sanitised) and publish or unpublish it on the page's FAQ."""
    question = Question.objects.select_for_update().get(pk=question.pk)
    answer = sanitize_html(answer).strip()
    now = timezone.now()
    if answer != question.answer:
        question.answer, question.answered_by, question.answered_at = answer, by, now
        if answer and question.answer_to:  # the asker wanted the answer by email
            task_queue_on_commit(NOTIFY_TASK, "answer", question.pk, by.pk if by else None)
    publish = publish and bool(answer)
    if publish and not question.is_published:
        question.published_at = now
    question.is_published = publish
    question.save()
    landing_cache_bump(project_id=question.project_id)
    return question


@transaction.atomic
def question_delete(*, question: Question, by) -> None:
    """Remove a question (spam, a duplicate); it leaves the FAQ at once."""
    logger.info("question %s deleted by user %s", question.pk, by.pk)
    project_id = question.project_id
    question.delete()
    landing_cache_bump(project_id=project_id)


# The pulse


def pulse_submit(
    *, project: ChangeProject, reaction: str, scores: dict[str, int | None], employee=None, audience_id=None
) -> PulseResponse:
    """Record "do we have it right?" for the current round. A known person answering again updates."""
    values = {stage: scores.get(stage) for stage in PULSE_STAGES}
    fields = {"reaction": reaction, "audience_id": audience_id, **values}
    if employee is None:
        return PulseResponse.objects.create(project=project, round=project.pulse_round, **fields)
    try:
        with transaction.atomic():
            response, _created = PulseResponse.objects.update_or_create(
                project=project, round=project.pulse_round, employee=employee, defaults=fields
            )
    except IntegrityError:  # a double submit raced us to the insert
        response, _created = PulseResponse.objects.update_or_create(
            project=project, round=project.pulse_round, employee=employee, defaults=fields
        )
    landing_forget_person(project_id=project.pk, employee_id=employee.pk)
    return response


# The comprehension question


class NotAnAnswer(ValueError):
    """The number given is not one of the question's answers."""


def comprehension_save(*, project: ChangeProject, by, **fields) -> Comprehension:
    """Create or change the project's comprehension question; the page shows the change at once."""
    with transaction.atomic():
        question, created = Comprehension.objects.update_or_create(project=project, defaults=fields)
        landing_cache_bump(project_id=project.pk)
    logger.info(
        "comprehension question of project %s %s by user %s", project.pk, "set" if created else "changed", by.pk
    )
    return question


def comprehension_translate(*, question: Comprehension, language: str, values: dict, by) -> Comprehension:
    """Store `language`'s version of the question and its answers (plain text, shown escaped)."""
    with transaction.atomic():
        question = Comprehension.objects.select_for_update().select_related("project").get(pk=question.pk)
        if language not in question.project.other_languages:
            raise ValidationError(
                _("This project has no version in that language. Add the language to the project first.")
            )
        question.set_translation(language, {name: (value or "").strip() for name, value in values.items()})
        question.save(update_fields=["translations", "updated_at"])
        landing_cache_bump(project_id=question.project_id)
    logger.info(
        "comprehension question of project %s: %s version changed by user %s", question.project_id, language, by.pk
    )
    return question


def comprehension_answer(
    *, question: Comprehension, answer: int, employee=None, audience_id: int | None = None, source: str = "page"
) -> ComprehensionResponse:
    """Record an answer. A person's answer is one row (answering again changes it); a general-link
    answer is a row without anyone. Numbers that are not an answer are refused, writing nothing."""
    if answer not in dict(question.answers()):
        raise NotAnAnswer(answer)
    values = {"answer": answer, "is_right": answer == question.right_answer, "source": source}
    if employee is None:
        return ComprehensionResponse.objects.create(question=question, audience_id=audience_id, **values)
    try:
        with transaction.atomic():
            response, _created = ComprehensionResponse.objects.update_or_create(
                question=question, employee=employee, defaults={**values, "audience_id": audience_id}
            )
    except IntegrityError:  # two answers of one person at once: the other one won; change it
        response = ComprehensionResponse.objects.get(question=question, employee=employee)
        for name, value in values.items():
            setattr(response, name, value)
        response.save()
    return response


# What we record about you


@transaction.atomic
def pulse_withdraw(*, project: ChangeProject, employee) -> int:
    """Delete every pulse answer the person gave in this project (all rounds); how many went.
    The dashboard's figures follow at its next refresh."""
    deleted, _rows = PulseResponse.objects.filter(project=project, employee=employee).delete()
    landing_forget_person(project_id=project.pk, employee_id=employee.pk)
    landing_cache_bump(project_id=project.pk)
    logger.info("project %s: employee %s withdrew %s pulse answers", project.pk, employee.pk, deleted)
    return deleted


def erasure_request(*, project: ChangeProject, employee) -> ErasureRequest:
    """Log a person's request to be erased; it is carried out by the directory's erase flow
    (audiences.services.employee_erase), which the team reaches from the request. Asking twice is one request."""
    request, created = ErasureRequest.objects.get_or_create(project=project, employee=employee)
    if created:
        logger.warning("project %s: employee %s asked to be erased (request %s)", project.pk, employee.pk, request.pk)
    return request
