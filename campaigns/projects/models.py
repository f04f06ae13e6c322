"""The change project, its team and its brand images."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lib.colors import HEX_COLOR
from lib.translations import Translatable, content_languages, language_label, language_name, normalise

hex_color_validator = RegexValidator(HEX_COLOR, _("Enter a colour as #rrggbb."))


def _default_language() -> str:
    return settings.LANGUAGE_CODE


class ChangeProject(Translatable):
    """The change being launched internally, and the home of its whole campaign."""

    TRANSLATED = ("lede", "why", "what_changes", "how_it_affects_me", "sponsor_title")

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
    # The language the content is written in first; employees whose language the project has no
    # version in read this one. Further languages: `other_languages` (codes from CONTENT_LANGUAGES).
    language = models.CharField(
        _("primary language"),
        max_length=8,
        choices=content_languages,
        default=_default_language,
        help_text=_("The language the story, emails and print are written in first."),
    )
    other_languages = models.JSONField(_("further languages"), default=list, blank=True)
    function_mailbox = models.EmailField(
        _("function mailbox"),
        blank=True,
        help_text=_("A shared mailbox the team reads. Emails can send replies there instead of to one person."),
    )
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
    # When a team member first looked at the landing page through the team's preview (getting started).
    landing_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
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

    def clean(self):
        known = set(settings.CONTENT_LANGUAGES)
        if not isinstance(self.other_languages, list) or not set(self.other_languages) <= known:
            raise ValidationError({"other_languages": _("Choose languages from the list.")})
        self.other_languages = [code for code in dict.fromkeys(self.other_languages) if code != self.language]

    @property
    def languages(self) -> list[str]:
        """Every language the project's content has a version in, the primary one first."""
        return [self.language, *(code for code in self.other_languages or () if code != self.language)]

    @property
    def language_choices(self) -> list[tuple[str, str]]:
        """(code, name in the team's language) of the project's languages, the primary one first."""
        return [(code, language_label(code)) for code in self.languages]

    @property
    def language_switch(self) -> list[tuple[str, str]]:
        """(code, name in its own language) of the project's languages: what a reader chooses from."""
        return [(code, language_name(code)) for code in self.languages]

    def content_language(self, wanted: str | None) -> str:
        """The language a reader who wants `wanted` gets: theirs when the project has it, else the primary."""
        wanted = normalise(wanted)
        return wanted if wanted in self.languages else self.language

    def days_to_go_live(self, today=None) -> int:
        today = today or timezone.localdate()
        return (self.go_live - today).days

    def reply_address(self) -> tuple[str, str]:
        """(name, address) that replies to the project's automatic mail reach: the function mailbox,
        else the change manager who created the project; ("", "") when there is neither."""
        if self.function_mailbox:
            return self.name, self.function_mailbox
        if self.created_by and self.created_by.email:
            return self.created_by.get_full_name(), self.created_by.email
        return "", ""


class Membership(models.Model):
    """A user's role in one project. Every project-scoped permission derives from this row."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        EDITOR = "editor", _("Editor")
        VIEWER = "viewer", _("Viewer")

    project = models.ForeignKey(ChangeProject, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=8, choices=Role, default=Role.EDITOR)
    # Each member's own switches for the emails the team gets.
    notify_approvals = models.BooleanField(_("email me when an asset waits for my approval"), default=True)
    notify_questions = models.BooleanField(_("email me when an employee asks a question"), default=True)
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
