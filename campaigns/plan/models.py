import datetime
import secrets
import uuid

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lib.colors import HEX_COLOR

hex_color_validator = RegexValidator(HEX_COLOR, _("Enter a colour as #rrggbb."))


class ChangeProject(models.Model):
    """The change being launched internally, and the home of its whole campaign."""

    class Status(models.TextChoices):
        PLANNING = "planning", _("Planning")
        LAUNCHING = "launching", _("Launching")
        LIVE = "live", _("Live")
        CLOSED = "closed", _("Closed")

    class TrackingMode(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual (who opened and clicked)")
        ANONYMOUS = "anonymous", _("Anonymous (counts per audience)")
        AGGREGATE = "aggregate", _("Aggregate (totals only)")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name"), max_length=80, unique=True)
    lede = models.CharField(
        _("lede"), max_length=300, help_text=_("The two sentences everybody will read. Shown first everywhere.")
    )
    why = models.TextField(_("why"), blank=True)
    what_changes = models.TextField(_("what changes"), blank=True)
    how_it_affects_me = models.TextField(_("how it affects me"), blank=True)
    sponsor_name = models.CharField(_("sponsor"), max_length=120, blank=True)
    sponsor_title = models.CharField(_("sponsor's title"), max_length=120, blank=True)
    go_live = models.DateField(_("go-live date"))
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PLANNING)
    tracking_mode = models.CharField(_("tracking"), max_length=16, choices=TrackingMode, default=TrackingMode.ANONYMOUS)
    requires_approval = models.BooleanField(_("assets need an owner's approval before scheduling"), default=True)
    # Readiness is never shown for fewer answers than this (the dashboard hides smaller cells).
    anonymity_threshold = models.PositiveSmallIntegerField(
        _("anonymity threshold"),
        default=5,
        validators=[MinValueValidator(2)],
        help_text=_("Readiness figures built on fewer answers than this are hidden. At least 2."),
    )
    # The readiness pulse: answers are grouped by round; starting a new round asks everyone again.
    pulse_round = models.PositiveSmallIntegerField(_("pulse round"), default=1)
    # Emails due outside the window wait for it (local time, settings.TIME_ZONE); empty means any time.
    send_window_start = models.TimeField(_("send emails from"), null=True, blank=True)
    send_window_end = models.TimeField(_("send emails until"), null=True, blank=True)
    send_on_weekdays_only = models.BooleanField(_("send emails on weekdays only"), default=False)
    primary_color = models.CharField(
        _("primary colour"), max_length=7, default="#1f4e79", validators=[hex_color_validator]
    )
    accent_color = models.CharField(
        _("accent colour"), max_length=7, default="#b5451b", validators=[hex_color_validator]
    )
    logo = models.ForeignKey(
        "ProjectImage", verbose_name=_("logo"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hero_image = models.ForeignKey(
        "ProjectImage", verbose_name=_("hero image"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", through_fields=("project", "user"), related_name="projects"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("change project")
        verbose_name_plural = _("change projects")
        ordering = ["go_live", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("campaigns:project_detail", args=[self.slug])

    def days_to_go_live(self, today=None) -> int:
        today = today or timezone.localdate()
        return (self.go_live - today).days


class Membership(models.Model):
    """A user's role in one project. Every project-scoped permission derives from this row."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        EDITOR = "editor", _("Editor")
        VIEWER = "viewer", _("Viewer")

    project = models.ForeignKey(ChangeProject, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=8, choices=Role, default=Role.EDITOR)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user_per_project")]
        ordering = ["role", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.project}"

    @property
    def can_edit(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.EDITOR)

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER


def _image_path(instance: "ProjectImage", filename: str) -> str:
    # Random names: media is served without a login, so the name is the only secret.
    return f"projects/{instance.project_id}/images/{uuid.uuid4().hex}{filename[filename.rfind('.') :]}"


class ProjectImage(models.Model):
    """An uploaded image after the safe pipeline: metadata stripped, in web, email and print sizes."""

    project = models.ForeignKey(ChangeProject, on_delete=models.CASCADE, related_name="images")
    web = models.ImageField(upload_to=_image_path)
    email = models.ImageField(upload_to=_image_path)
    print = models.ImageField(upload_to=_image_path)
    web_width = models.PositiveIntegerField(default=0)
    web_height = models.PositiveIntegerField(default=0)
    original_width = models.PositiveIntegerField()
    original_height = models.PositiveIntegerField()
    alt_text = models.CharField(_("alt text"), max_length=250, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("image")
        verbose_name_plural = _("images")

    def __str__(self) -> str:
        return self.original_name or f"image {self.pk}"


class Stage(models.TextChoices):
    """ADKAR: the five stages a person moves through, in order."""

    AWARENESS = "awareness", _("Awareness")
    DESIRE = "desire", _("Desire")
    KNOWLEDGE = "knowledge", _("Knowledge")
    ABILITY = "ability", _("Ability")
    REINFORCEMENT = "reinforcement", _("Reinforcement")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Information meeting")
    HANDOUT = "handout", _("Handout (A4)")
    POSTER = "poster", _("Poster (A3)")
    FLYER = "flyer", _("Flyer (A5)")
    FILM = "film", _("Film")
    NEWS = "news", _("Landing-page news")


PRINT_CHANNELS = (Channel.HANDOUT, Channel.POSTER, Channel.FLYER)


class SenderKind(models.TextChoices):
    SPONSOR = "sponsor", _("The sponsor")
    CHANGE_MANAGER = "change_manager", _("The change manager")
    NAMED = "named", _("A named sender")


class PlanTemplate(models.Model):
    """A reusable set of assets to start a plan from. Admins edit templates as data."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("offered to users"), default=True)

    class Meta:
        verbose_name = _("plan template")
        verbose_name_plural = _("plan templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PlanTemplateItem(models.Model):
    """One proposed asset of a plan template, placed relative to go-live."""

    template = models.ForeignKey(PlanTemplate, on_delete=models.CASCADE, related_name="items")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    stage = models.CharField(_("ADKAR stage"), max_length=16, choices=Stage)
    title = models.CharField(_("title"), max_length=200)
    offset_days = models.IntegerField(_("days from go-live"), help_text=_("Negative before go-live, positive after."))
    subject = models.CharField(_("email subject"), max_length=200, blank=True)
    body = models.TextField(_("suggested text"), blank=True)
    sender_kind = models.CharField(_("sender"), max_length=16, choices=SenderKind, default=SenderKind.CHANGE_MANAGER)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("plan template item")
        verbose_name_plural = _("plan template items")
        ordering = ["template", "offset_days", "order"]

    def __str__(self) -> str:
        return self.title


def _film_path(instance: "Asset", filename: str) -> str:
    return f"projects/{instance.project_id}/films/{uuid.uuid4().hex}{filename[filename.rfind('.') :].lower()}"


class Asset(models.Model):
    """One piece of the launch campaign on one channel, placed on the plan relative to go-live."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        READY = "ready", _("Ready for approval")
        APPROVED = "approved", _("Approved")
        SCHEDULED = "scheduled", _("Scheduled")
        DONE = "done", _("Sent / done")
        CANCELLED = "cancelled", _("Cancelled")

    project = models.ForeignKey(ChangeProject, on_delete=models.CASCADE, related_name="assets")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    stage = models.CharField(_("ADKAR stage"), max_length=16, choices=Stage)
    title = models.CharField(_("title"), max_length=200, help_text=_("The asset's name in the plan."))
    audiences = models.ManyToManyField(
        "audiences.Audience", verbose_name=_("audiences"), blank=True, related_name="assets"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.DRAFT)
    # When: relative to go-live (offset_days at local_time) unless fixed_at is set.
    offset_days = models.IntegerField(_("days from go-live"), null=True, blank=True)
    local_time = models.TimeField(_("time of day"), default=datetime.time(9, 0))
    fixed_at = models.DateTimeField(_("fixed date and time"), null=True, blank=True)
    is_milestone = models.BooleanField(_("show on the landing page's timeline"), default=False)
    # Email
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    preheader = models.CharField(
        _("preheader"), max_length=200, blank=True, help_text=_("The grey line after the subject in the inbox.")
    )
    sender_kind = models.CharField(_("sender"), max_length=16, choices=SenderKind, default=SenderKind.CHANGE_MANAGER)
    sender_name = models.CharField(_("sender's name"), max_length=120, blank=True)
    sender_email = models.EmailField(_("sender's email"), blank=True)
    button_label = models.CharField(_("button text"), max_length=80, blank=True)
    meeting = models.ForeignKey(
        "self",
        verbose_name=_("meeting card"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"channel": "meeting"},
    )
    # Email, print, news: the words and the picture
    headline = models.CharField(_("headline"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)
    image = models.ForeignKey(
        ProjectImage, verbose_name=_("image"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Film
    video = models.FileField(_("video file"), upload_to=_film_path, blank=True)
    captions = models.FileField(_("captions (WebVTT)"), upload_to=_film_path, blank=True)
    video_url = models.URLField(_("video link"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        ordering = ["project", "offset_days", "id"]
        indexes = [
            # the plan timeline: a project's assets in date order
            models.Index(fields=["project", "status"], name="asset_project_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(offset_days__isnull=False) | models.Q(fixed_at__isnull=False),
                name="asset_has_a_date",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("campaigns:asset_detail", args=[self.project.slug, self.pk])

    def scheduled_for(self, go_live: datetime.date | None = None) -> datetime.datetime:
        """When the asset happens: fixed, or go-live + offset at the local time of day."""
        if self.fixed_at:
            return self.fixed_at
        go_live = go_live or self.project.go_live
        day = go_live + datetime.timedelta(days=self.offset_days or 0)
        return timezone.make_aware(datetime.datetime.combine(day, self.local_time))

    @property
    def is_relative(self) -> bool:
        return self.fixed_at is None

    @property
    def is_print(self) -> bool:
        return self.channel in PRINT_CHANNELS


class MeetingSession(models.Model):
    """One occasion of an information meeting: when, where, how many seats."""

    meeting = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    site = models.CharField(_("site"), max_length=120, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True, help_text=_("Room and address."))
    online_url = models.URLField(_("online link"), blank=True)
    capacity = models.PositiveIntegerField(_("seats"), default=30)

    class Meta:
        verbose_name = _("meeting session")
        verbose_name_plural = _("meeting sessions")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting} {self.starts_at:%Y-%m-%d %H:%M}"


class AssetEvent(models.Model):
    """The audit trail of an asset: who changed, approved or scheduled what, and when."""

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        CHANGED = "changed", _("changed")
        STATUS = "status", _("changed status")
        APPROVED = "approved", _("approved")
        SCHEDULED = "scheduled", _("scheduled")
        TEST_SENT = "test_sent", _("sent a test")

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=16, choices=Action)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("asset event")
        verbose_name_plural = _("asset events")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.asset} {self.action} {self.at:%Y-%m-%d %H:%M}"


def _print_path(instance: "PrintRender", filename: str) -> str:
    # Random names: a PDF URL must not be guessable from the asset id.
    return f"projects/{instance.asset.project_id}/print/{uuid.uuid4().hex}-{filename}"


def _print_token() -> str:
    return secrets.token_urlsafe(12)


class PrintRender(models.Model):
    """One printable variant of a print asset (per site, language, trim or print-ready) and its PDF.

    The PDF is re-rendered only when `content_hash` (content, brand, template) changes.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to render")
        RENDERING = "rendering", _("Rendering")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    class Language(models.TextChoices):
        SWEDISH = "sv", _("Swedish")
        ENGLISH = "en", _("English")

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="print_renders")
    site = models.CharField(_("site"), max_length=120, blank=True, help_text=_("Empty for the general version."))
    print_ready = models.BooleanField(_("print-ready (3 mm bleed and crop marks)"), default=False)
    language = models.CharField(_("language"), max_length=8, choices=Language)
    # The QR code points at the landing page with this token, so scans are counted per printed piece.
    qr_token = models.CharField(max_length=32, unique=True, default=_print_token, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PENDING)
    content_hash = models.CharField(max_length=64, blank=True)
    pdf = models.FileField(upload_to=_print_path, blank=True)
    # Storage names of one PNG preview per page, in page order.
    previews = models.JSONField(default=list, blank=True)
    page_count = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(_("reason"), max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("print render")
        verbose_name_plural = _("print renders")
        ordering = ["asset", "site", "language", "print_ready"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "site", "language", "print_ready"], name="printrender_unique_variant"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset} {self.site or '-'} {self.language}{' print-ready' if self.print_ready else ''}"

    @property
    def filename(self) -> str:
        from django.utils.text import slugify

        parts = [
            slugify(self.asset.title) or "print",
            slugify(self.site),
            self.language,
            "bleed" if self.print_ready else "",
        ]
        return "-".join(p for p in parts if p) + ".pdf"


# Email delivery: the database, not the broker, is the truth about what is due and what was sent.


def _tracking_token() -> str:
    # 24 random bytes = 192 bits: tracking URLs cannot be guessed or enumerated.
    return secrets.token_urlsafe(24)


class EmailSend(models.Model):
    """The sending of one email asset: when it is due, and where it stands.

    Created when the asset is scheduled. `due_at` follows the asset's place on the plan until
    the send starts; the beat dispatcher starts it when it is due and inside the send window.
    """

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        RUNNING = "running", _("Sending")
        PAUSED = "paused", _("Paused")
        DONE = "done", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="email_send")
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.SCHEDULED)
    due_at = models.DateTimeField(_("due"))
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    scheduled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("email send")
        verbose_name_plural = _("email sends")
        indexes = [
            # dispatch_due: scheduled sends whose time has come, running sends to watch over
            models.Index(fields=["state", "due_at"], name="emailsend_state_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.asset} ({self.get_state_display()})"


class Delivery(models.Model):
    """One email asset to one employee.

    Status moves queued → sending → sent | failed. `sent` is final. A row goes back to
    `queued` only when the server did not take the message (a temporary refusal), when a
    dead worker's claim is reclaimed (then `possible_duplicate` is set), or when a user
    retries a failed delivery. Every change is a conditional UPDATE on the old status.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    # No index of its own: (asset, employee) and (asset, status) lead with it.
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    # Null after an erasure request: the row stays so that counts stay true.
    employee = models.ForeignKey(
        "audiences.Employee", null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    # The audience through which the person was reached when the send started (the snapshot).
    audience = models.ForeignKey(
        "audiences.Audience", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.QUEUED)
    # Unique through named constraints (below), which spare the extra LIKE index `unique=True` adds.
    token = models.CharField(max_length=64, default=_tracking_token, editable=False)
    message_id = models.CharField(max_length=200, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(_("reason"), max_length=500, blank=True)
    possible_duplicate = models.BooleanField(
        _("possibly sent twice"),
        default=False,
        help_text=_("A worker died while sending it; the server may have received it before."),
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["asset", "id"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "employee"], name="delivery_unique_employee_per_asset"),
            # tracking views look deliveries up by token
            models.UniqueConstraint(fields=["token"], name="delivery_unique_token"),
            models.UniqueConstraint(fields=["message_id"], name="delivery_unique_message_id"),
        ]
        indexes = [
            # progress counts per status, and dispatch_due's search for stale queued/sending rows
            models.Index(fields=["asset", "status"], name="delivery_asset_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} → {self.employee_id} ({self.status})"


class TrackedLink(models.Model):
    """A link of one email. Click redirects read the target from here, never from the URL."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="tracked_links")
    url = models.URLField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("tracked link")
        verbose_name_plural = _("tracked links")
        constraints = [models.UniqueConstraint(fields=["asset", "url"], name="trackedlink_unique_url_per_asset")]

    def __str__(self) -> str:
        return self.url


class EngagementCounter(models.Model):
    """Opens and clicks of one email counted per audience (anonymous) or in total (audience empty).

    Its token goes into the emails of anonymous and aggregate projects instead of a personal
    one, so an open or a click cannot be traced back to a person, not even from the request.
    """

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="engagement_counters")
    audience = models.ForeignKey(
        "audiences.Audience", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    token = models.CharField(max_length=64, unique=True, default=_tracking_token, editable=False)
    opens = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("engagement counter")
        verbose_name_plural = _("engagement counters")
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "audience"],
                condition=models.Q(audience__isnull=False),
                name="engagementcounter_unique_audience",
            ),
            models.UniqueConstraint(
                fields=["asset"], condition=models.Q(audience__isnull=True), name="engagementcounter_unique_total"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id}/{self.audience_id or '*'}: {self.opens} opens, {self.clicks} clicks"


# The landing page: personal links, visits and scans, meeting bookings, questions and the pulse.


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


# The dashboard's rollups: recomputed by campaigns.analytics.analytics_refresh, read by its selectors.


class DashboardRefresh(models.Model):
    """When a project's dashboard figures were last recomputed; its row lock serialises refreshes."""

    project = models.OneToOneField(ChangeProject, on_delete=models.CASCADE, related_name="dashboard_refresh")
    refreshed_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    # The tracking mode the figures were computed under: a changed mode shows only after a refresh.
    tracking_mode = models.CharField(max_length=16, blank=True)

    class Meta:
        verbose_name = _("dashboard refresh")
        verbose_name_plural = _("dashboard refreshes")

    def __str__(self) -> str:
        return f"{self.project_id} @ {self.refreshed_at}"


class DashboardFigure(models.Model):
    """One number of a project's dashboard: a metric in a scope (the project, an audience, a site,
    an asset, or a readiness cell of an audience and ADKAR stage)."""

    class Scope(models.TextChoices):
        PROJECT = "project", _("Project")
        AUDIENCE = "audience", _("Audience")
        SITE = "site", _("Site")
        ASSET = "asset", _("Asset")
        READINESS = "readiness", _("Readiness")

    project = models.ForeignKey(ChangeProject, on_delete=models.CASCADE, related_name="dashboard_figures")
    scope = models.CharField(max_length=16, choices=Scope)
    metric = models.CharField(max_length=32)
    audience = models.ForeignKey(
        "audiences.Audience", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    site = models.CharField(max_length=120, blank=True)
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=16, blank=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("dashboard figure")
        verbose_name_plural = _("dashboard figures")
        constraints = [
            models.UniqueConstraint(
                "project",
                "scope",
                "metric",
                models.functions.Coalesce("audience", models.Value(0)),
                "site",
                models.functions.Coalesce("asset", models.Value(0)),
                "stage",
                name="dashboardfigure_unique_key",
            ),
        ]
        # The unique constraint's index leads with project: the dashboard reads a project's figures by it.

    def __str__(self) -> str:
        return f"{self.project_id} {self.scope}/{self.metric} {self.audience_id or ''}{self.site}{self.asset_id or ''}{self.stage} = {self.value}"


class DashboardDay(models.Model):
    """A project's running total of one engagement metric at the end of a day (today: at the last refresh)."""

    project = models.ForeignKey(ChangeProject, on_delete=models.CASCADE, related_name="dashboard_days")
    day = models.DateField()
    metric = models.CharField(max_length=32)
    total = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("dashboard day")
        verbose_name_plural = _("dashboard days")
        ordering = ["project", "day", "metric"]
        constraints = [
            # its index also serves the chart's read: a project's days in order
            models.UniqueConstraint(fields=["project", "day", "metric"], name="dashboardday_unique_metric_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.day} {self.metric} = {self.total}"
