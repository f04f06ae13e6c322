"""Reads of projects: what a user sees of their projects and a project's overview."""

from django.db.models import Count, QuerySet

from campaigns.models import ChangeProject, Membership
from campaigns.plan.selectors import plan_summary


def memberships_of(*, user) -> QuerySet[Membership]:
    """The user's memberships with their projects, soonest go-live first. Two queries at most."""
    return (
        Membership.objects.filter(user=user)
        .select_related("project", "project__logo")
        .annotate(team_size=Count("project__memberships"))
        .order_by("project__go_live", "project__name")
    )


def project_overview(*, project: ChangeProject) -> dict:
    """Figures for the project's overview page; later capabilities add theirs here."""
    return {
        "team_size": project.memberships.count(),
        "audience_count": project.audiences.count(),
        "plan": plan_summary(project=project),
    }
