"""Queueing Celery tasks by their registered name, so a service never imports the task that calls it.

Tasks are thin entry points that import services; services ask for work by name after commit.
The names are part of the broker's contract (messages already queued and the beat schedule
refer to them), so every task declares its name explicitly.
"""

from celery import current_app
from django.db import transaction


def task_queue(name: str, *args) -> None:
    """Queue the task registered as `name` now (eagerly run where CELERY_TASK_ALWAYS_EAGER says so)."""
    current_app.signature(name, args=args).delay()


def task_queue_on_commit(name: str, *args) -> None:
    """Queue the task `name` once the current transaction commits, and never before.

    Robust: a broker outage must not undo or break the write that asked for the work. Django
    logs the failure, and each caller's recovery (the beat dispatcher, a Render button) takes
    the work up later.
    """

    # A named function, not a partial: Django names the callback in its log line.
    def queue_task() -> None:
        task_queue(name, *args)

    transaction.on_commit(queue_task, robust=True)
