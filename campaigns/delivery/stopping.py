"""Pause and cancel reach batches already at work: a flag in the shared cache, read before each message.

A GET on Redis costs a fraction of a millisecond, a query per message would cost more than
the message. The database stays the truth: the loop also reads the send's state every few
seconds, which covers a cache that is not shared between processes (the embedded default)
or a flag lost with a Redis restart.
"""

import logging
import time

from django.core.cache import cache
from django.db import transaction

from campaigns.models import EmailSend

logger = logging.getLogger(__name__)

STOPPING_STATES = (EmailSend.State.PAUSED, EmailSend.State.CANCELLED)
DATABASE_EVERY_SECONDS = 2.0
FLAG_TTL = 7 * 24 * 3600


def _key(asset_id: int) -> str:
    return f"delivery:stop:{asset_id}"


def stop_flag_after_commit(asset_id: int, state: str) -> None:
    """Once the transaction commits, tell batches at work that the send is now `state` (stop, or go on)."""

    def publish() -> None:
        if state in STOPPING_STATES:
            cache.set(_key(asset_id), state, FLAG_TTL)
        else:
            cache.delete(_key(asset_id))

    transaction.on_commit(publish, robust=True)


class StopWatch:
    """Answers "should this batch stop before the next message?" for the assets of one batch."""

    def __init__(self, asset_ids: set[int]):
        self.keys = {_key(pk): pk for pk in asset_ids}
        self.stopped: set[int] = set()
        self.checked_database = time.monotonic()

    def should_stop(self, asset_id: int) -> bool:
        if asset_id in self.stopped:
            return True
        try:
            flag = cache.get(_key(asset_id))
        except Exception:  # noqa: BLE001 - a cache away for a moment: the database check below still runs
            logger.warning("the stop flag could not be read", exc_info=True)
            flag = None
        if flag in STOPPING_STATES:
            self.stopped.add(asset_id)
        elif time.monotonic() - self.checked_database >= DATABASE_EVERY_SECONDS:
            self.checked_database = time.monotonic()
            states = EmailSend.objects.filter(asset_id__in=self.keys.values()).values_list("asset_id", "state")
            self.stopped.update(pk for pk, state in states if state != EmailSend.State.RUNNING)
        return asset_id in self.stopped
