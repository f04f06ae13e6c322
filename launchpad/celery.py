"""The Celery app. Configuration lives in settings under the CELERY_ namespace."""

import os

from celery import Celery

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
