"""The launch plan: ADKAR stages, channels, plan templates, assets, meeting sessions and their audit trail."""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.projects.models import ChangeProject, ProjectImage
from lib.translations import Translatable, content_languages


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


class ReplyTo(models.TextChoices):
    SENDER = "sender", _("The sender")
    MAILBOX = "mailbox", _("The project's function mailbox")


class PlanTemplate(models.Model):
    """A reusable set of assets to start a plan from. Admins edit templates as data."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("offered to users"), default=True)
    # A project is offered the templates in its primary language. The same plan written in several
    # languages shares a family: applying one fills the project's further languages from its siblings.
    language = models.CharField(_("language"), max_length=8, choices=content_languages, default="sv")
    family = models.SlugField(
        _("family"), blank=True, help_text=_("The same plan in other languages has the same family.")
    )

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


class Asset(Translatable):
    """One piece of the launch campaign on one channel, placed on the plan relative to go-live."""

    # What employees read, with a version per content language (lib/translations.py).
    TRANSLATED = ("title", "subject", "preheader", "headline", "body", "button_label", "captions")

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
        _("preheader"),
        max_length=200,
        blank=True,
        help_text=_("The grey line after the subject in the inbox. Empty: the project's lede."),
    )
    sender_kind = models.CharField(_("sender"), max_length=16, choices=SenderKind, default=SenderKind.CHANGE_MANAGER)
    sender_name = models.CharField(_("sender's name"), max_length=120, blank=True)
    sender_email = models.EmailField(_("sender's email"), blank=True)
    reply_to = models.CharField(
        _("replies go to"),
        max_length=16,
        choices=ReplyTo,
        default=ReplyTo.SENDER,
        help_text=_(
            "The sender: the sender's email, or the change manager's own when it is empty. "
            "Automatic out-of-office replies are asked not to come at all."
        ),
    )
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

    def translated_fields(self) -> tuple[str, ...]:
        """What readers see of this asset: an email's title is the team's name for it, a film has captions."""
        if self.channel == Channel.EMAIL:
            return ("subject", "preheader", "headline", "body", "button_label")
        if self.channel == Channel.FILM:
            return ("title", "headline", "body", "captions")
        return ("title", "headline", "body")

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


class MeetingSession(Translatable):
    """One occasion of an information meeting: when, where, how many seats."""

    TRANSLATED = ("place",)

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
