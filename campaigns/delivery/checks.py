"""Start-up checks of the delivery settings: settings that contradict each other stop every process.

Run by `manage.py check`, `runserver`, `migrate` and, through launchpad/celery.py, by every
Celery worker and beat before they take work.
"""

from django.conf import settings
from django.core import checks


@checks.register("launchpad")
def delivery_settings_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The recovery clocks must agree with the task time limits, and the pace with itself."""
    errors = []
    stuck, hard = settings.DELIVERY_STUCK_AFTER_SECONDS, settings.CELERY_TASK_TIME_LIMIT
    if hard and stuck <= hard:
        errors.append(
            checks.Error(
                f"DELIVERY_STUCK_AFTER_SECONDS ({stuck}) must be longer than CELERY_TASK_TIME_LIMIT ({hard}).",
                hint="Otherwise rows of a batch that is still sending are handed out again and sent twice. "
                f"Raise DELIVERY_STUCK_AFTER_SECONDS (e.g. to {hard + 240}) or lower CELERY_TASK_TIME_LIMIT.",
                id="delivery.E001",
            )
        )
    soft = settings.CELERY_TASK_SOFT_TIME_LIMIT
    if hard and soft and soft >= hard:
        errors.append(
            checks.Error(
                f"CELERY_TASK_SOFT_TIME_LIMIT ({soft}) must be shorter than CELERY_TASK_TIME_LIMIT ({hard}).",
                hint="The soft limit lets a batch hand its unsent rows back before the hard limit kills it.",
                id="delivery.E002",
            )
        )
    if settings.DELIVERY_DISPATCH_INTERVAL_SECONDS <= 0:
        errors.append(checks.Error("DELIVERY_DISPATCH_INTERVAL_SECONDS must be positive.", id="delivery.E003"))
    for name in ("DELIVERY_MAX_PER_MINUTE", "DELIVERY_MAX_PER_HOUR"):
        value = getattr(settings, name, None)
        if value is not None and value <= 0:
            errors.append(checks.Error(f"{name} must be a positive number, or unset for no limit.", id="delivery.E004"))
    return errors
