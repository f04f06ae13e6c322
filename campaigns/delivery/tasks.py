"""Celery tasks: thin adapters that load by id, call one service and retry only transient errors."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import delivery

logger = logging.getLogger(__name__)

# The database going away for a moment is transient; anything else is a bug to see in the logs.
TRANSIENT = (OperationalError, InterfaceError)


@shared_task(bind=True, max_retries=5, default_retry_delay=30)
def dispatch_due(self) -> dict:
    """Start due emails and recover stuck work (beat, every minute)."""
    try:
        result = delivery.dispatch_due()
    except TRANSIENT as exc:
        raise self.retry(exc=exc) from exc
    return {"started": result.started, "reclaimed": result.reclaimed, "requeued": result.requeued}


@shared_task(bind=True, max_retries=None)
def send_batch(self, delivery_ids: list[int]) -> dict:
    """Send one batch of deliveries; rows the SMTP server refused for now are retried with backoff.

    Retries are bounded by DELIVERY_MAX_ATTEMPTS per delivery, after which a row fails.
    """
    try:
        result = delivery.send_batch(delivery_ids=delivery_ids)
    except TRANSIENT as exc:
        raise self.retry(exc=exc, countdown=10) from exc
    if result.deferred:
        logger.info("%s deliveries deferred for %s s", len(result.deferred), result.retry_in)
        raise self.retry(args=(result.deferred,), countdown=result.retry_in)
    return {"sent": result.sent, "failed": result.failed, "skipped": result.skipped}


@shared_task(bind=True, max_retries=3, default_retry_delay=30)
def dashboard_refresh(self, project_id: int) -> int:
    """Recompute one project's dashboard figures (safe to run twice: refreshes queue on a row lock)."""
    from .analytics import analytics_refresh
    from .models import ChangeProject

    project = ChangeProject.objects.filter(pk=project_id).first()
    if project is None:
        return 0
    try:
        return analytics_refresh(project=project).duration_ms
    except TRANSIENT as exc:
        raise self.retry(exc=exc) from exc


@shared_task
def dashboards_refresh_due() -> int:
    """Queue a refresh for every active project whose figures are older than DASHBOARD_REFRESH_SECONDS (beat)."""
    from .analytics import projects_due_for_refresh

    ids = list(projects_due_for_refresh().values_list("pk", flat=True))
    for project_id in ids:
        dashboard_refresh.delay(project_id)
    return len(ids)
