from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AudiencesConfig(AppConfig):
    name = "audiences"
    verbose_name = _("Audiences")

    def ready(self) -> None:
        # Register the import task in every process, so queueing it by name runs it eagerly where
        # CELERY_TASK_ALWAYS_EAGER says so. The task imports the services, never the other way.
        from audiences.imports import tasks  # noqa: F401
