from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        # Register the tasks in every process, so a service queueing one by name runs it eagerly
        # where CELERY_TASK_ALWAYS_EAGER says so. Tasks import services, never the other way.
        from campaigns.analytics import tasks as analytics_tasks  # noqa: F401
        from campaigns.cascade import tasks as cascade_tasks  # noqa: F401
        from campaigns.delivery import checks as delivery_checks  # noqa: F401
        from campaigns.delivery import tasks as delivery_tasks  # noqa: F401
        from campaigns.printing import tasks as printing_tasks  # noqa: F401
        from campaigns.projects import tasks as projects_tasks  # noqa: F401
