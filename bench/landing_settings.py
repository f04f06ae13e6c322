"""Settings for the landing benchmark's gunicorn: the app's own, plus one minimal view as the baseline."""

from launchpad.settings import *  # noqa: F403

ROOT_URLCONF = "bench.landing_urls"
