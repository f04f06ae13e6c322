"""The dashboard's rollups: recomputed by campaigns.analytics.services, read by its selectors."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.plan.models import Asset
from campaigns.projects.models import ChangeProject


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
        LANGUAGE = "language", _("Language")

    project = models.ForeignKey(ChangeProject, on_delete=models.CASCADE, related_name="dashboard_figures")
    scope = models.CharField(max_length=16, choices=Scope)
    metric = models.CharField(max_length=32)
    audience = models.ForeignKey(
        "audiences.Audience", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The site of a site's figure; the language code of a language's figure (and of its readiness).
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
