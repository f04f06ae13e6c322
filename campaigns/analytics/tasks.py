"""The dashboard's background work: thin adapters from a project id to `analytics.services`."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from campaigns.analytics.services import (
    analytics_refresh,
    engagement_anonymise,
    projects_due_for_anonymising,
    projects_due_for_refresh,
)
from campaigns.models import ChangeProject
from lib.tasks import task_queue

# The database going away for a moment is transient; anything else is a bug to see in the logs.
TRANSIENT = (OperationalError, InterfaceError)


@shared_task(name="campaigns.tasks.dashboard_refresh", bind=True, max_retries=3, default_retry_delay=30)
def dashboard_refresh(self, project_id: int) -> int:
    """Recompute one project's dashboard figures (safe to run twice: refreshes queue on a row lock)."""
    project = ChangeProject.objects.filter(pk=project_id).first()
    if project is None:
        return 0
    try:
        return analytics_refresh(project=project).duration_ms
    except TRANSIENT as exc:
        raise self.retry(exc=exc) from exc


@shared_task(name="campaigns.tasks.dashboards_refresh_due")
def dashboards_refresh_due() -> int:
    """Queue a refresh for every active project whose figures are older than DASHBOARD_REFRESH_SECONDS (beat)."""
    ids = list(projects_due_for_refresh().values_list("pk", flat=True))
    for project_id in ids:
        task_queue("campaigns.tasks.dashboard_refresh", project_id)
    return len(ids)


@shared_task(name="campaigns.tasks.engagement_anonymise_due")
def engagement_anonymise_due() -> int:
    """Anonymise the per-person engagement of closed projects past their retention (beat, hourly)."""
    projects = projects_due_for_anonymising()
    for project in projects:
        engagement_anonymise(project=project)
    return len(projects)
