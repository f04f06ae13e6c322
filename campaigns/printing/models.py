"""Print renders: one PDF per variant of a print asset, re-rendered only when its content changes."""

import secrets
import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.plan.models import Asset
from lib.translations import content_languages


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

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="print_renders")
    site = models.CharField(_("site"), max_length=120, blank=True, help_text=_("Empty for the general version."))
    print_ready = models.BooleanField(_("print-ready (3 mm bleed and crop marks)"), default=False)
    language = models.CharField(_("language"), max_length=8, choices=content_languages)
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
