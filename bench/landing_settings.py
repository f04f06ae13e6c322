"""Settings for the landing benchmark's gunicorn: the app's own, plus one minimal view as the baseline."""

from launchpad.settings import *  # noqa: F403

ROOT_URLCONF = "bench.landing_urls"

# Every beacon is counted (the real work), none skipped by the per-link limit.
READ_BEACON_RATE_LIMIT = (10**9, 600)
