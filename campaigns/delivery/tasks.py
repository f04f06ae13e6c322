"""Email delivery's Celery tasks: thin adapters that load by id, call one service and retry only transient errors."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from campaigns.delivery import services as delivery

logger = logging.getLogger(__name__)

# The database or Redis (the shared send rate) going away for a moment is transient; anything else is
# a bug to see in the logs.
TRANSIENT = (OperationalError, InterfaceError, RedisConnectionError)


@shared_task(name="campaigns.tasks.dispatch_due", bind=True, max_retries=5, default_retry_delay=30)
def dispatch_due(self) -> dict:
    """Start due emails and recover stuck work (beat, every minute)."""
    try:
        result = delivery.dispatch_due()
    except TRANSIENT as exc:
        raise self.retry(exc=exc) from exc
    return {"started": result.started, "reclaimed": result.reclaimed, "requeued": result.requeued}


@shared_task(name="campaigns.tasks.send_batch", bind=True, max_retries=None)
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
