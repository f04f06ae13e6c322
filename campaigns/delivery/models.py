"""Email delivery: the database, not the broker, is the truth about what is due and what was sent."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.delivery.reasons import reason_text
from campaigns.plan.models import Asset


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
    # Set: each recipient gets the email at this time of day in their own time zone, on the day of `due_at`'s
    # plan (the send starts when the first zone reaches it). Empty: everyone at `due_at`.
    local_time = models.TimeField(_("local time for each recipient"), null=True, blank=True)
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

    @property
    def reason(self) -> str:
        """Why it waits or failed, in the reader's language (`last_error` keeps it in none)."""
        return reason_text(self.last_error)


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
