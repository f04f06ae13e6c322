"""The landing page: personal links, visits and scans, meeting bookings, questions and the pulse."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.delivery.models import _tracking_token
from campaigns.plan.models import Asset, MeetingSession
from campaigns.projects.models import ChangeProject


class LandingToken(models.Model):
    """The personal link of one employee to one project's landing page: `/p/<token>/`.

    The token is random and looked up, never derived from the person.
    """

    project = models.ForeignKey(ChangeProject, on_delete=models.CASCADE, related_name="landing_tokens")
    employee = models.ForeignKey("audiences.Employee", on_delete=models.CASCADE, related_name="landing_tokens")
    # The audience the person was reached through, so visits and pulse answers count per audience.
    audience = models.ForeignKey(
        "audiences.Audience", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token = models.CharField(max_length=64, unique=True, default=_tracking_token, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The first visit through this link; recorded only when the project tracks individuals.
    visited_at = models.DateTimeField(null=True, blank=True)
    # How far this person read (ReadDepth) and the longest time the story was on their screen (seconds);
    # recorded only when the project tracks individuals.
    read_depth = models.PositiveSmallIntegerField(null=True, blank=True)
    story_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("personal landing link")
        verbose_name_plural = _("personal landing links")
        constraints = [
            models.UniqueConstraint(fields=["project", "employee"], name="landingtoken_unique_employee_per_project")
        ]

    def __str__(self) -> str:
        return f"{self.project_id}/{self.employee_id}"


class LandingCounter(models.Model):
    """Page visits and QR scans of one project, per source asset and audience (either may be empty)."""

    class Kind(models.TextChoices):
        VISIT = "visit", _("Page visit")
        SCAN = "scan", _("QR scan")
        PLAY = "play", _("Film play")

    project = models.ForeignKey(ChangeProject, on_delete=models.CASCADE, related_name="landing_counters")
    kind = models.CharField(max_length=8, choices=Kind)
    source = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    audience = models.ForeignKey(
        "audiences.Audience", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("landing page counter")
        verbose_name_plural = _("landing page counters")
        constraints = [
            # One row per bucket; empty source/audience count as one bucket each (NULLs are distinct otherwise).
            models.UniqueConstraint(
                "project",
                "kind",
                models.functions.Coalesce("source", models.Value(0)),
                models.functions.Coalesce("audience", models.Value(0)),
                name="landingcounter_unique_bucket",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.kind} {self.source_id or '-'}/{self.audience_id or '-'}: {self.count}"


class ReadDepth(models.IntegerChoices):
    """How far one visit read the landing page."""

    LEDE = 1, _("Read the lede only")
    STORY = 2, _("Read into the story")
    ALL = 3, _("Read everything")


# The lower bounds (seconds) of the buckets the story's time on screen is counted in: the median
# is told to the bucket, which keeps the counters few and says nothing about one visit.
STORY_SECONDS_BUCKETS = (0, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600)


def story_bucket(seconds: int) -> int:
    """The bucket (its lower bound) that `seconds` on the story fall in."""
    found = 0
    for bound in STORY_SECONDS_BUCKETS:
        if seconds >= bound:
            found = bound
    return found


class ReadDepthCounter(models.Model):
    """Visits of one project's page by how far they read and how long the story was on screen,
    per audience (empty on the general link, and for every visit in aggregate mode)."""

    project = models.ForeignKey(ChangeProject, on_delete=models.CASCADE, related_name="read_depth_counters")
    audience = models.ForeignKey(
        "audiences.Audience", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    depth = models.PositiveSmallIntegerField(choices=ReadDepth)
    story_seconds = models.PositiveSmallIntegerField(default=0)  # a bucket's lower bound
    count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("read depth counter")
        verbose_name_plural = _("read depth counters")
        constraints = [
            models.UniqueConstraint(
                "project",
                models.functions.Coalesce("audience", models.Value(0)),
                "depth",
                "story_seconds",
                name="readdepthcounter_unique_bucket",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.audience_id or '-'} depth {self.depth} {self.story_seconds}s: {self.count}"


class Booking(models.Model):
    """A seat at one meeting session. Only confirmed bookings take a seat.

    On a personal link a booking is confirmed at once; on the general link it waits for the
    employee to follow the link sent to their work email.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    session = models.ForeignKey(MeetingSession, on_delete=models.CASCADE, related_name="bookings")
    employee = models.ForeignKey(
        "audiences.Employee", null=True, blank=True, on_delete=models.SET_NULL, related_name="bookings"
    )
    email = models.EmailField(_("email"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PENDING)
    confirm_token = models.CharField(max_length=64, unique=True, default=_tracking_token, editable=False)
    cancel_token = models.CharField(max_length=64, unique=True, default=_tracking_token, editable=False)
    # The invite's SEQUENCE: raised with every update or cancellation sent for this booking.
    ics_sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["session", "created_at"]
        constraints = [
            models.UniqueConstraint(
                "session",
                models.functions.Lower("email"),
                condition=~models.Q(status="cancelled"),
                name="booking_unique_active_email_per_session",
            ),
        ]
        indexes = [
            # free seats: confirmed bookings per session
            models.Index(fields=["session", "status"], name="booking_session_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email} @ {self.session_id} ({self.status})"

    @property
    def ics_uid(self) -> str:
        # Stable for the booking's whole life, so calendars update the same event.
        return f"booking-{self.pk}-{self.confirm_token[:12]}@launchpad"


class Question(models.Model):
    """A question from the landing page, with or without a name; answered and published by the team."""

    project = models.ForeignKey(ChangeProject, on_delete=models.CASCADE, related_name="questions")
    text = models.TextField(_("question"), max_length=2000)
    name = models.CharField(_("name"), max_length=120, blank=True)
    # Where the answer is emailed, when the asker wanted it (a directory address only; never shown to the team).
    answer_to = models.EmailField(_("email the answer to"), blank=True)
    employee = models.ForeignKey(
        "audiences.Employee", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answer = models.TextField(_("answer"), blank=True)
    is_published = models.BooleanField(_("published on the landing page"), default=False)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["-created_at", "-id"]
        indexes = [
            # the landing page's FAQ: a project's published answers
            models.Index(fields=["project", "is_published"], name="question_project_published_idx"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class PulseResponse(models.Model):
    """One answer to "do we have it right?": a reaction and the five ADKAR statements, 1–5.

    On a personal link there is one row per person and round (answering again updates it);
    general-link answers carry no identity.
    """

    class Reaction(models.TextChoices):
        RIGHT = "right", _("Yes, you have it right")
        PARTLY = "partly", _("Partly")
        WRONG = "wrong", _("No, you are on the wrong track")

    project = models.ForeignKey(ChangeProject, on_delete=models.CASCADE, related_name="pulse_responses")
    round = models.PositiveSmallIntegerField(default=1)
    audience = models.ForeignKey(
        "audiences.Audience", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    employee = models.ForeignKey(
        "audiences.Employee", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reaction = models.CharField(_("reaction"), max_length=8, choices=Reaction, blank=True)
    awareness = models.PositiveSmallIntegerField(null=True, blank=True)
    desire = models.PositiveSmallIntegerField(null=True, blank=True)
    knowledge = models.PositiveSmallIntegerField(null=True, blank=True)
    ability = models.PositiveSmallIntegerField(null=True, blank=True)
    reinforcement = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("pulse answer")
        verbose_name_plural = _("pulse answers")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "round", "employee"],
                condition=models.Q(employee__isnull=False),
                name="pulse_unique_employee_per_round",
            ),
            *(
                models.CheckConstraint(
                    condition=models.Q(**{f"{stage}__isnull": True}) | models.Q(**{f"{stage}__range": (1, 5)}),
                    name=f"pulse_{stage}_1_to_5",
                )
                for stage in ("awareness", "desire", "knowledge", "ability", "reinforcement")
            ),
        ]
        indexes = [
            # the readiness dashboard: a round's answers per audience
            models.Index(fields=["project", "round", "audience"], name="pulse_project_round_aud_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} round {self.round}: {self.reaction or '-'}"
