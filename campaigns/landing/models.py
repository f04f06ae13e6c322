"""The landing page: personal links, visits and scans, meeting bookings, questions and the pulse."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.delivery.models import _tracking_token
from campaigns.plan.models import Asset, MeetingSession
from campaigns.projects.models import ChangeProject
from lib.translations import Translatable


class ReadDepth(models.IntegerChoices):
    """How far one visit read the landing page."""

    LEDE = 1, _("Read the lede only")
    STORY = 2, _("Read into the story")
    ALL = 3, _("Read everything")


class LandingToken(models.Model):
    """The personal link of one employee to one project's landing page: `/p/<token>/`.

    The token is random and looked up, never derived from the person.
    """

    # No index of its own: the unique (project, employee) constraint starts with the project and serves
    # every lookup by project. A separate one misled the planner into reading all of a project's links
    # for each send batch's "who has a link already" query.
    project = models.ForeignKey(ChangeProject, on_delete=models.CASCADE, related_name="landing_tokens", db_index=False)
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
    read_depth = models.PositiveSmallIntegerField(choices=ReadDepth, null=True, blank=True)
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


class Comprehension(Translatable):
    """The project's one comprehension question: three or four answers, one of them right.

    Shown on the landing page after the story, and embeddable in an email as one-click answer links.
    A version per further language of the project holds the question and answers in that language
    (the right answer is the same number in every language).
    """

    TRANSLATED = ("text", "answer_1", "answer_2", "answer_3", "answer_4")

    project = models.OneToOneField(ChangeProject, on_delete=models.CASCADE, related_name="comprehension")
    text = models.CharField(
        _("question"), max_length=200, help_text=_("For example: What changes for you on 13 January?")
    )
    answer_1 = models.CharField(_("answer 1"), max_length=160)
    answer_2 = models.CharField(_("answer 2"), max_length=160)
    answer_3 = models.CharField(_("answer 3"), max_length=160)
    answer_4 = models.CharField(_("answer 4 (optional)"), max_length=160, blank=True)
    right_answer = models.PositiveSmallIntegerField(
        _("the right answer"), choices=[(1, "1"), (2, "2"), (3, "3"), (4, "4")]
    )
    # A wrong-answer rate above this (percent) in an audience becomes a "needs attention" item.
    attention_above = models.PositiveSmallIntegerField(
        _("needs attention above (% wrong)"),
        default=30,
        validators=[MaxValueValidator(100)],
        help_text=_("When more than this share of an audience answers wrong, the plan suggests a next step."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("comprehension question")
        verbose_name_plural = _("comprehension questions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(right_answer__in=(1, 2, 3)) | (models.Q(right_answer=4) & ~models.Q(answer_4="")),
                name="comprehension_right_answer_exists",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    def answers(self) -> list[tuple[int, str]]:
        """(number, text) of the answers given, in order."""
        texts = (self.answer_1, self.answer_2, self.answer_3, self.answer_4)
        return [(i, text) for i, text in enumerate(texts, start=1) if text]

    def answer_text(self, number: int) -> str:
        return dict(self.answers()).get(number, "")


class ComprehensionResponse(models.Model):
    """One answer to the comprehension question. On a personal link one row per person (answering
    again changes it); general-link answers carry no identity."""

    class Source(models.TextChoices):
        PAGE = "page", _("Landing page")
        EMAIL = "email", _("Email link")

    question = models.ForeignKey(Comprehension, on_delete=models.CASCADE, related_name="responses")
    answer = models.PositiveSmallIntegerField()
    is_right = models.BooleanField()
    source = models.CharField(max_length=8, choices=Source, default=Source.PAGE)
    audience = models.ForeignKey(
        "audiences.Audience", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    employee = models.ForeignKey(
        "audiences.Employee", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("comprehension answer")
        verbose_name_plural = _("comprehension answers")
        constraints = [
            models.UniqueConstraint(
                fields=["question", "employee"],
                condition=models.Q(employee__isnull=False),
                name="comprehension_unique_employee",
            ),
            models.CheckConstraint(condition=models.Q(answer__range=(1, 4)), name="comprehension_answer_1_to_4"),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.answer} ({'right' if self.is_right else 'wrong'})"

    @property
    def answer_text(self) -> str:
        return self.question.answer_text(self.answer)


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


class ErasureRequest(models.Model):
    """An employee's request, from their personal link, to be erased from the directory.

    The directory's erase flow (audiences.services.employee_erase, by a person with access to the
    directory) does the erasure; this row is the log of the request and links to it.
    """

    project = models.ForeignKey(ChangeProject, on_delete=models.CASCADE, related_name="erasure_requests")
    employee = models.ForeignKey("audiences.Employee", on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("erasure request")
        verbose_name_plural = _("erasure requests")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "employee"], name="erasurerequest_unique_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} @ {self.requested_at:%Y-%m-%d}"
