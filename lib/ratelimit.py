"""Rate limits for public POSTs, counted in the Django cache (Redis in production, so shared
by every process and machine), in fixed windows.

The client address is REMOTE_ADDR unless settings.TRUSTED_PROXY_HEADER names the header
the reverse proxy sets; a header the proxy does not set would let anyone pick their own key.
Failed logins are throttled by the same address (lib/login_throttle.py).
"""

import hashlib
import ipaddress
import time

from django.conf import settings
from django.core.cache import cache


def client_address(request) -> str:
    """The client's address: from the trusted proxy's header when configured, else REMOTE_ADDR.

    Each of the TRUSTED_PROXY_COUNT proxies appends the address it saw, so the client is that
    many entries from the right; anything further left came from the client and is not trusted.
    A value that is not an IP address (a request that bypassed the proxy) falls back to REMOTE_ADDR.
    """
    header = getattr(settings, "TRUSTED_PROXY_HEADER", "")
    if header:
        hops = [hop.strip() for hop in request.META.get(header, "").split(",")]
        count = getattr(settings, "TRUSTED_PROXY_COUNT", 1)
        candidate = hops[-count] if len(hops) >= count else hops[0]
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass
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
