"""One pace for many processes on many machines: at most N a minute (and M an hour), evenly spaced.

Each caller reserves the next free slot in Redis and sleeps until it (the generic cell rate
algorithm: one "theoretical arrival time" per limit, moved forward one interval per
reservation; a caller late for its slot may catch up for at most a second). Redis's own clock decides, so machines whose clocks differ still share one pace,
and a reservation is one round trip whatever the number of workers. The small Lua script keeps
the read and the move atomic.

Why not a library: `limits` (the well-kept one) answers "may I now?" in fixed or moving windows,
which lets a whole minute's quota go out in the first second and leaves callers polling; a
corporate relay throttles exactly such bursts.

Without Redis (the embedded development setup, one worker) the same algorithm runs in-process.
"""

import threading
import time

_RESERVE = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000000 + tonumber(now_t[2])
local slot = now - tonumber(ARGV[#KEYS + 1])
for i, key in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat > slot then slot = tat end
end
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[i])
  redis.call('SET', key, slot + interval, 'PX', math.floor((slot - now + interval) / 1000) + 1000)
end
return {slot - now, slot}
"""


class Pace:
    """At most `per_minute` a minute and `per_hour` an hour (either may be None) across every process."""

    def __init__(self, name: str, *, per_minute: int | None, per_hour: int | None, redis_url: str = ""):
        self.intervals_us = [
            60_000_000 // per_minute if per_minute else 0,
            3_600_000_000 // per_hour if per_hour else 0,
        ]
        self.keys = [f"pace:{name}:minute", f"pace:{name}:hour"]
        self.keys, self.intervals_us = (
            [k for k, i in zip(self.keys, self.intervals_us, strict=True) if i],
            [i for i in self.intervals_us if i],
        )
        self._script = None
        if redis_url and self.keys:
            import redis

            self._script = redis.Redis.from_url(redis_url).register_script(_RESERVE)
        # A worker late for its slot (a slow message, a busy core) may catch up for at most this long:
        # the long-run rate stays exact, and a burst is at most one second's worth of messages.
        self.catch_up_us = min(1_000_000, 10 * min(self.intervals_us)) if self.intervals_us else 0
        self._local_tat = [0] * len(self.keys)
        self._lock = threading.Lock()

    @property
    def limited(self) -> bool:
        return bool(self.keys)

    def reserve(self) -> float:
        """Take the next slot; returns the seconds to wait until it (0 when it is now)."""
        if not self.keys:
            return 0.0
        return self.reserve_slot()[0]

    def reserve_slot(self) -> tuple[float, int]:
        """Take the next slot: (seconds to wait until it, the slot in microseconds on the pace's clock)."""
        if self._script is not None:
            args = [*self.intervals_us, self.catch_up_us]
            wait_us, slot = (int(v) for v in self._script(keys=self.keys, args=args))
        else:
            wait_us = self._reserve_here()
            slot = time.monotonic_ns() // 1000 + wait_us
        return max(wait_us, 0) / 1_000_000, slot

    def wait(self) -> float:
        """Wait for the next slot; returns the seconds waited."""
        seconds = self.reserve()
        if seconds:
            time.sleep(seconds)
        return seconds

    def _reserve_here(self) -> int:
        with self._lock:
            now = time.monotonic_ns() // 1000
            slot = max(now - self.catch_up_us, *self._local_tat)
            self._local_tat = [slot + interval for interval in self.intervals_us]
            return slot - now

    def per_minute(self) -> float | None:
        """The pace in emails a minute that the limits allow together, or None when unlimited."""
        if not self.intervals_us:
            return None
        return 60_000_000 / max(self.intervals_us)
