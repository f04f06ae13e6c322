"""The manager cascade: one row per manager briefed for a team talk, and what they confirmed."""

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.plan.models import Asset


def _talk_token() -> str:
    # 24 random bytes: the "team talk held" link cannot be guessed; it is looked up, never derived.
    return secrets.token_urlsafe(24)


class TeamTalk(models.Model):
    """A manager briefed to talk to their team (direct reports), and whether they confirmed the talk.

    Created when the team talk's briefings start going out, one per manager of someone in the
    asset's audiences. The manager confirms through the link in their briefing (no login).
    """

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="team_talks", db_index=False)
    # Null after an erasure request: the row stays so that counts stay true.
    manager = models.ForeignKey(
        "audiences.Employee", null=True, blank=True, on_delete=models.SET_NULL, related_name="team_talks"
    )
    token = models.CharField(max_length=64, default=_talk_token, editable=False)
    # Direct reports in the asset's audiences when the briefing went out.
    team_size = models.PositiveIntegerField(_("team size"), default=0)
    held_on = models.DateField(_("held on"), null=True, blank=True)
    attendees = models.PositiveIntegerField(_("attendees"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("team talk")
        verbose_name_plural = _("team talks")
        ordering = ["asset", "id"]
        constraints = [
            # its index serves every read of an asset's talks (and makes a second start harmless)
            models.UniqueConstraint(fields=["asset", "manager"], name="teamtalk_unique_manager_per_asset"),
            # the "team talk held" page looks talks up by token
            models.UniqueConstraint(fields=["token"], name="teamtalk_unique_token"),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} / {self.manager_id}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None
