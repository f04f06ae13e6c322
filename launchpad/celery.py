"""The Celery app. Configuration lives in settings under the CELERY_ namespace."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchpad.settings")

app = Celery("launchpad")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each app registers its tasks in AppConfig.ready(); this finds any plain `<app>.tasks` module.
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_filesystem_broker_folders(sender, **kwargs):
    # The embedded broker keeps messages in folders that must exist before the first task.
    from pathlib import Path

    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_contradictory_settings(**kwargs):
    # Workers and beat do not run Django's system checks by themselves; settings that contradict
    # each other (campaigns/delivery/checks.py) must stop them as they stop the web process.
    from django.core import checks

    errors = [e for e in checks.run_checks(tags=["launchpad"]) if e.is_serious() and not e.is_silenced()]
    if errors:
        # SystemExit, not an exception: Celery logs and swallows exceptions raised by signal handlers.
        raise SystemExit("\n".join(f"{e.id}: {e.msg} {e.hint or ''}".strip() for e in errors))
