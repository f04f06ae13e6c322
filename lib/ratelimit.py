"""Rate limits for public POSTs, counted in the Django cache (Redis in production, so shared
by every process and machine), in fixed windows.

The client address is REMOTE_ADDR unless settings.TRUSTED_PROXY_HEADER names the header
the reverse proxy sets; a header the proxy does not set would let anyone pick their own key.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache


def client_address(request) -> str:
    """The client's address: the trusted proxy's header (its last hop) when configured, else REMOTE_ADDR."""
    header = getattr(settings, "TRUSTED_PROXY_HEADER", "")
    if header:
        value = request.META.get(header, "")
        # The proxy appends the address it saw; anything before it came from the client.
        last = value.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR", "")


def allow(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Count one hit of `key` in `scope`; False once more than `limit` hits fall in the current window."""
    bucket = int(time.time() // window)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # no addresses or tokens in the cache's keys
    cache_key = f"ratelimit:{scope}:{digest}:{bucket}"
    cache.add(cache_key, 0, timeout=window + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=window + 5)
        count = 1
    return count <= limit
