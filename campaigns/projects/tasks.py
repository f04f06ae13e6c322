"""The team's and employees' notification emails: a thin adapter to `projects.notifications`."""

from celery import shared_task

from campaigns.projects import notifications


@shared_task(name="campaigns.tasks.notify", bind=True, max_retries=5, default_retry_delay=60, ignore_result=True)
def notify(self, kind: str, object_id: int, by_id: int | None = None) -> None:
    """Send one notification; an SMTP server that is away for a moment is tried again."""
    try:
        notifications.notify(kind=kind, object_id=object_id, by_id=by_id)
    except OSError as exc:  # the mail server refused or was unreachable
        raise self.retry(exc=exc) from exc
