"""The shared send pace: evenly spaced slots, the stricter of the two limits, one pace across processes."""

import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings

from lib.pacing import Pace

REDIS_URL = settings.REDIS_URL or os.environ.get("REDIS_URL", "")


def _paces():
    yield Pace("t-local", per_minute=600, per_hour=None)
    if REDIS_URL:
        yield Pace(f"t-{uuid.uuid4().hex}", per_minute=600, per_hour=None, redis_url=REDIS_URL)


@pytest.mark.parametrize("pace", list(_paces()), ids=lambda p: "redis" if p._script else "local")
def test_slots_are_spaced_evenly_at_the_limit(pace):
    waits = [pace.reserve() for _ in range(30)]
    # 600 a minute is one every 0.1 s; an idle pace lets a second's worth (10) go at once, then the
    # n-th reservation waits (n - 10) × 0.1 s (less the time the loop took).
    for n, wait in enumerate(waits):
        expected = max(n - 10, 0) * 0.1
        assert expected - 0.05 <= wait <= expected + 0.001


def test_the_stricter_limit_decides_and_no_limit_never_waits():
    assert Pace("t-none", per_minute=None, per_hour=None).reserve() == 0
    assert not Pace("t-none", per_minute=None, per_hour=None).limited
    hourly = Pace("t-hour", per_minute=6000, per_hour=3600)  # 60 a minute in the long run
    assert hourly.per_minute() == 60
    hourly.reserve()
    assert 0.85 <= hourly.reserve() <= 0.9  # a second an email, less the tenth of a second it may catch up


@pytest.mark.skipif(not REDIS_URL and os.environ.get("CI") != "true", reason="needs Redis (set REDIS_URL)")
def test_processes_share_one_pace_through_redis():
    assert REDIS_URL, "CI runs with Redis"
    name = f"t-{uuid.uuid4().hex}"
    code = (
        "from lib.pacing import Pace; "
        f"p = Pace({name!r}, per_minute=600, per_hour=None, redis_url={REDIS_URL!r}); "
        "print(*[p.reserve_slot()[1] for _ in range(10)])"
    )
    runs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(3)]
    slots = sorted(int(t) / 1e6 for run in runs for t in run.communicate(timeout=60)[0].split())
    # 30 slots among three processes, each 0.1 s after the one before, whichever process took it.
    gaps = [b - a for a, b in zip(slots, slots[1:], strict=False)]
    assert len(slots) == 30 and min(gaps) >= 0.0999  # on Redis's clock
