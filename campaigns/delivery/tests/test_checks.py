"""Settings that contradict each other stop start-up with a message naming them."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from campaigns.delivery.checks import delivery_settings_check


def test_the_default_settings_pass():
    assert delivery_settings_check() == []


def test_a_stuck_after_time_shorter_than_the_hard_limit_stops_start_up(settings):
    settings.CELERY_TASK_TIME_LIMIT = 360
    settings.DELIVERY_STUCK_AFTER_SECONDS = 300
    [error] = delivery_settings_check()
    assert error.id == "delivery.E001" and "(300)" in error.msg and "(360)" in error.msg
    with pytest.raises(SystemCheckError, match="DELIVERY_STUCK_AFTER_SECONDS"):
        call_command("check")


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("CELERY_TASK_SOFT_TIME_LIMIT", 400, "delivery.E002"),
        ("DELIVERY_DISPATCH_INTERVAL_SECONDS", 0, "delivery.E003"),
        ("DELIVERY_MAX_PER_MINUTE", 0, "delivery.E004"),
        ("DELIVERY_MAX_PER_HOUR", -5, "delivery.E004"),
    ],
)
def test_other_contradictions_are_named(settings, name, value, code):
    setattr(settings, name, value)
    assert [e.id for e in delivery_settings_check()] == [code]


def test_the_dispatcher_runs_at_the_configured_interval(settings):
    from launchpad import settings as configured

    schedule = configured.CELERY_BEAT_SCHEDULE["dispatch-due-emails"]["schedule"]
    assert schedule == configured.DELIVERY_DISPATCH_INTERVAL_SECONDS
