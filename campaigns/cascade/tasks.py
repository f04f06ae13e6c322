"""The manager cascade's Celery task: a thin adapter around one service."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from campaigns.cascade import services as cascade

TRANSIENT = (OperationalError, InterfaceError)


@shared_task(name="campaigns.tasks.team_talks_remind", bind=True, max_retries=3, default_retry_delay=60)
def team_talks_remind(self) -> int:
    """Remind, once, the managers whose team talk is late (beat, hourly)."""
    try:
        return cascade.team_talks_remind_due()
    except TRANSIENT as exc:
        raise self.retry(exc=exc) from exc
