"""Pause and cancel reach batches already at work, before their next message.

Each worker process listens on a Redis channel (a thread of its own); a pause or cancel is
published there when it commits, so the batch loop reads a set in memory before each message
instead of asking anybody. A flag in the shared cache covers a batch that starts after the
message went out. The database stays the truth: the loop also reads the send's state every few
seconds, which covers the embedded setup without Redis and a message lost in a reconnect.
"""

import logging
import os
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from campaigns.models import EmailSend

logger = logging.getLogger(__name__)

STOPPING_STATES = (EmailSend.State.PAUSED, EmailSend.State.CANCELLED)
DATABASE_EVERY_SECONDS = 2.0
FLAG_TTL = 7 * 24 * 3600


def _key(asset_id: int) -> str:
    return f"delivery:stop:{asset_id}"


def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


def _channel(client) -> str:
    # Channels are server-wide, databases are not: two installations sharing a server stay apart.
    return f"launchpad:{client.connection_pool.connection_kwargs.get('db', 0)}:delivery-stop"


def stop_flag_after_commit(asset_id: int, state: str) -> None:
    """Once the transaction commits, tell batches at work that the send is now `state` (stop, or go on)."""

    def publish() -> None:
        if state in STOPPING_STATES:
            cache.set(_key(asset_id), state, FLAG_TTL)
        else:
            cache.delete(_key(asset_id))
        if settings.REDIS_URL:
            client = _redis()
            client.publish(_channel(client), f"{asset_id}:{state}")

    transaction.on_commit(publish, robust=True)


class _Listener:
    """This process's subscription: the assets whose sends were stopped since it started."""

    def __init__(self):
        self.pid = os.getpid()
        self.stopped: set[int] = set()
        self.client = client = _redis()  # kept: a client that is collected closes its connections
        self.pubsub = client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(**{_channel(client): self._heard})
        self.thread = self.pubsub.run_in_thread(sleep_time=1.0, daemon=True, exception_handler=self._failed)

    def _heard(self, message) -> None:
        asset_id, _sep, state = message["data"].decode().partition(":")
        if state in STOPPING_STATES:
            self.stopped.add(int(asset_id))
        else:
            self.stopped.discard(int(asset_id))

    def _failed(self, exc, pubsub, thread) -> None:
        logger.warning("the stop channel failed (the database check still runs): %s", exc)
        thread.stop()


_listener: _Listener | None = None
_listener_lock = threading.Lock()


def _listening() -> _Listener | None:
    """The process's listener, started on first use (after a fork, again in the child)."""
    global _listener  # noqa: PLW0603 - one subscription per process
    if not settings.REDIS_URL:
        return None
    with _listener_lock:
        if _listener is None or _listener.pid != os.getpid() or not _listener.thread.is_alive():
            try:
                _listener = _Listener()
            except Exception:  # noqa: BLE001 - Redis away: the cache flag and the database check remain
                logger.warning("could not listen for stopped sends", exc_info=True)
                return None
        return _listener


class StopWatch:
    """Answers "should this batch stop before the next message?" for the assets of one batch."""

    def __init__(self, asset_ids: set[int]):
        self.asset_ids = asset_ids
        self.listener = _listening()
        if self.listener is not None:
            # The batch claimed its rows from running sends: an old stop this process heard is over
            # (a resume it missed). A stop since the claim is in the cache flag read next.
            self.listener.stopped.difference_update(asset_ids)
        self.stopped: set[int] = set()
        self.checked_database = time.monotonic()
        try:
            flags = cache.get_many([_key(pk) for pk in asset_ids])
        except Exception:  # noqa: BLE001 - a cache away for a moment: the database check still runs
            logger.warning("the stop flags could not be read", exc_info=True)
            flags = {}
        self.stopped.update(pk for pk in asset_ids if flags.get(_key(pk)) in STOPPING_STATES)

    def should_stop(self, asset_id: int) -> bool:
        if asset_id in self.stopped or (self.listener is not None and asset_id in self.listener.stopped):
            self.stopped.add(asset_id)
            return True
        if time.monotonic() - self.checked_database >= DATABASE_EVERY_SECONDS:
            self.checked_database = time.monotonic()
            states = EmailSend.objects.filter(asset_id__in=self.asset_ids).values_list("asset_id", "state")
            self.stopped.update(pk for pk, state in states if state != EmailSend.State.RUNNING)
        return asset_id in self.stopped
