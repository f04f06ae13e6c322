"""Reads of projects: what a user sees of their projects and a project's overview."""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

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


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    done: bool
    url: str


def getting_started(*, project: ChangeProject) -> list[Step]:
    """The first steps of a launch, each ticked from the project's own state: one query."""
    from audiences.models import Audience  # the directory's app; no cycle, read only here
    from campaigns.models import Asset, Channel, PrintRender

    assets = Asset.objects.filter(project=OuterRef("pk"))
    state = (
        ChangeProject.objects.filter(pk=project.pk)
        .annotate(
            has_audience=Exists(Audience.objects.filter(project=OuterRef("pk"))),
            has_plan=Exists(assets),
            has_approved_email=Exists(
                assets.filter(
                    channel=Channel.EMAIL, status__in=(Asset.Status.APPROVED, Asset.Status.SCHEDULED, Asset.Status.DONE)
                )
            ),
            has_print=Exists(PrintRender.objects.filter(asset__project=OuterRef("pk"), status=PrintRender.Status.DONE)),
        )
        .values("has_audience", "has_plan", "has_approved_email", "has_print")
        .get()
    )
    defaults = ChangeProject._meta
    branded = bool(project.logo_id or project.hero_image_id) or (
        project.primary_color != defaults.get_field("primary_color").default
        or project.accent_color != defaults.get_field("accent_color").default
    )
    edit = reverse("campaigns:project_edit", args=[project.slug])
    return [
        Step(
            "story",
            _("Tell the story: why, what changes, how it affects people"),
            bool(project.why and project.what_changes and project.how_it_affects_me),
            edit,
        ),
        Step("brand", _("Give it the brand: colours, a logo or a hero image"), branded, edit),
        Step(
            "audiences",
            _("Make the audiences from the directory"),
            state["has_audience"],
            reverse("audiences:audience_list", args=[project.slug]),
        ),
        Step(
            "plan",
            _("Start the plan from a template"),
            state["has_plan"],
            reverse("campaigns:plan_template", args=[project.slug]),
        ),
        Step(
            "email",
            _("Get the first email approved"),
            state["has_approved_email"],
            reverse("campaigns:plan", args=[project.slug]),
        ),
        Step(
            "landing",
            _("Look at the landing page as employees will (on your phone too)"),
            project.landing_checked_at is not None,
            reverse("campaigns:landing_preview", args=[project.slug]),
        ),
        Step(
            "print",
            _("Render the first poster or handout"),
            state["has_print"],
            reverse("campaigns:print_overview", args=[project.slug]),
        ),
    ]
