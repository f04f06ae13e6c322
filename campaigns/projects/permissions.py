"""Project-scoped access: every project view starts by calling `get_project_for_user`.

An outsider gets a plain 404 (the project's existence is not revealed); a member
without the needed role gets a 403.
"""

from typing import Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404

from campaigns.models import ChangeProject, Membership

Need = Literal["view", "edit", "own"]


def membership_for(user, project: ChangeProject) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(project=project, user=user).first()


def get_project_for_user(request, slug: str, need: Need = "view") -> tuple[ChangeProject, Membership]:
    """Return the project and the user's membership, or raise 404/403."""
    if not request.user.is_authenticated:
        raise Http404
    membership = (
        Membership.objects.select_related("project", "project__logo", "project__hero_image")
        .filter(project__slug=slug, user=request.user)
        .first()
    )
    if membership is None:
        raise Http404
    if need == "edit" and not membership.can_edit:
        raise PermissionDenied
    if need == "own" and not membership.is_owner:
        raise PermissionDenied
    project = membership.project
    request.membership = membership
    return project, membership
