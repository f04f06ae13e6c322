from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from campaigns.models import (
    Asset,
    AssetEvent,
    Booking,
    ChangeProject,
    Comprehension,
    ComprehensionResponse,
    Delivery,
    EmailSend,
    EngagementCounter,
    ErasureRequest,
    LandingCounter,
    LandingToken,
    MeetingSession,
    Membership,
    PlanTemplate,
    PlanTemplateItem,
    PrintRender,
    ProjectImage,
    PulseResponse,
    Question,
    ReadDepthCounter,
)
from lib.views import id_or_none


class ProjectScopedAdmin(admin.ModelAdmin):
    """Admin for project-owned rows: staff who are not superusers see and change only their projects.

    `project_path` is the lookup from the model to its ChangeProject ("" for the project itself).
    Viewers may look, editors and owners may change, owners may delete.
    """

    project_path = "project"
    # Roles that may attach a row to a project (the project choices in add and change forms).
    attach_roles = (Membership.Role.OWNER, Membership.Role.EDITOR)

    def _lookup(self, suffix: str) -> str:
        return f"{self.project_path}__{suffix}" if self.project_path else suffix

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{self._lookup("memberships__user"): request.user}).distinct()

    def _role_for(self, request, obj) -> str | None:
        project = obj
        for part in filter(None, self.project_path.split("__")):
            project = getattr(project, part)
        membership = Membership.objects.filter(project=project, user=request.user).first()
        return membership.role if membership else None

    def has_view_permission(self, request, obj=None):
        if not super().has_view_permission(request, obj):
            return False
        return obj is None or request.user.is_superuser or self._role_for(request, obj) is not None

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        if obj is None or request.user.is_superuser:
            return True
        return self._role_for(request, obj) in (Membership.Role.OWNER, Membership.Role.EDITOR)

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        if obj is None or request.user.is_superuser:
            return True
        return self._role_for(request, obj) == Membership.Role.OWNER

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is ChangeProject and not request.user.is_superuser:
            kwargs["queryset"] = ChangeProject.objects.filter(
                memberships__user=request.user, memberships__role__in=self.attach_roles
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ProjectFilter(admin.SimpleListFilter):
    """Filter by project, offering only the user's projects (a related-field filter would list them all)."""

    title = _("change project")
    parameter_name = "project"

    def __init__(self, request, params, model, model_admin):
        self.project_lookup = model_admin._lookup("id")
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        projects = ChangeProject.objects.order_by("name")
        if not request.user.is_superuser:
            projects = projects.filter(memberships__user=request.user)
        return [(str(pk), name) for pk, name in projects.values_list("pk", "name")]

    def queryset(self, request, queryset):
        if id_or_none(self.value()):
            return queryset.filter(**{self.project_lookup: id_or_none(self.value())})
        return queryset


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "project"
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["invited_by", "created_at"]

    def _manages_team(self, request, obj) -> bool:
        # An editor may change the project but not its team, here as in the app.
        if request.user.is_superuser:
            return True
        return (
            obj is not None
            and Membership.objects.filter(project=obj, user=request.user, role=Membership.Role.OWNER).exists()
        )

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._manages_team(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._manages_team(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._manages_team(request, obj)


@admin.register(ChangeProject)
class ChangeProjectAdmin(ProjectScopedAdmin):
    project_path = ""
    list_display = ["name", "status", "go_live", "tracking_mode", "created_at"]
    list_filter = ["status", "tracking_mode", "go_live"]
    search_fields = ["name", "slug", "lede", "sponsor_name"]
    prepopulated_fields = {"slug": ["name"]}
    date_hierarchy = "go_live"
    inlines = [MembershipInline]
    raw_id_fields = ["logo", "hero_image"]
    readonly_fields = ["created_by", "created_at", "updated_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # The logo and hero come from the project's own images, never another project's (by id).
        images = ProjectImage.objects.filter(project=obj) if obj else ProjectImage.objects.none()
        for name in ("logo", "hero_image"):
            if name in form.base_fields:
                form.base_fields[name].queryset = images
        return form


@admin.register(Membership)
class MembershipAdmin(ProjectScopedAdmin):
    # Only owners manage the team: an editor must not add anyone, themselves as owner included.
    attach_roles = (Membership.Role.OWNER,)
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", ProjectFilter]
    search_fields = ["user__email", "user__username", "project__name"]
    autocomplete_fields = ["user"]
    readonly_fields = ["invited_by", "created_at"]

    def has_change_permission(self, request, obj=None):
        # Only owners manage the team, in the admin as in the app.
        allowed = super().has_change_permission(request, obj)
        return allowed and (
            obj is None or request.user.is_superuser or self._role_for(request, obj) == Membership.Role.OWNER
        )


@admin.register(ProjectImage)
class ProjectImageAdmin(ProjectScopedAdmin):
    list_display = ["__str__", "project", "original_width", "original_height", "alt_text", "created_at"]
    list_filter = ["project"]
    search_fields = ["original_name", "alt_text"]
    readonly_fields = ["web", "email", "print", "original_width", "original_height", "uploaded_by", "created_at"]


# The landing page, email delivery and print: rows written by the app's own flows. Most are
# read-only here (counts, audit trails, what was sent); the team may fix a question's wording
# or a booking's name. Secret tokens (personal links, tracking, confirmation) are never shown.


class ReadOnly:
    """Viewed, never added, changed or deleted in the admin: the app's flows own these rows."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyProjectAdmin(ReadOnly, ProjectScopedAdmin):
    pass


class PeopleTrackedAdmin(ProjectScopedAdmin):
    """Rows that say what one person did (opened, visited, booked): shown to staff who are not
    superusers only for projects that track individuals, as the app does. A project measured
    anonymously or in aggregate shows its figures in the dashboard, above its anonymity threshold."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{self._lookup("tracking_mode"): ChangeProject.TrackingMode.INDIVIDUAL})


@admin.register(LandingToken)
class LandingTokenAdmin(ReadOnly, PeopleTrackedAdmin):
    # The token is the employee's key to their personal page: it is shown nowhere.
    exclude = ["token"]
    list_display = ["employee", "project", "audience", "created_at"]
    list_filter = [ProjectFilter]
    list_select_related = ["employee", "project", "audience"]
    search_fields = ["employee__email", "employee__first_name", "employee__last_name"]


@admin.register(Booking)
class BookingAdmin(PeopleTrackedAdmin):
    project_path = "session__meeting__project"
    exclude = ["confirm_token", "cancel_token"]
    list_display = ["email", "name", "session", "status", "created_at", "confirmed_at"]
    list_filter = ["status", ProjectFilter]
    list_select_related = ["session__meeting"]
    search_fields = ["email", "name"]
    # Seats and invites follow the status: only the landing page's flows change it.
    readonly_fields = [
        "session",
        "employee",
        "status",
        "ics_sequence",
        "created_at",
        "confirmed_at",
        "cancelled_at",
    ]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Question)
class QuestionAdmin(ProjectScopedAdmin):
    list_display = ["__str__", "project", "name", "is_published", "answered_at", "created_at"]
    list_filter = ["is_published", ProjectFilter]
    list_select_related = ["project"]
    search_fields = ["text", "answer", "name"]
    readonly_fields = ["project", "employee", "answered_by", "answered_at", "published_at", "created_at"]
    exclude = ["answer_to"]  # where the answer is emailed: for the mail only, never shown

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PulseResponse)
class PulseResponseAdmin(ReadOnlyProjectAdmin):
    """One person's answers: superusers only. The team reads readiness in the dashboard, per
    audience and above the project's anonymity threshold, whatever the tracking mode."""

    exclude = ["employee"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.none()

    list_display = [
        "project",
        "round",
        "audience",
        "reaction",
        "awareness",
        "desire",
        "knowledge",
        "ability",
        "reinforcement",
        "updated_at",
    ]
    list_filter = ["round", "reaction", ProjectFilter]
    list_select_related = ["project", "audience"]
    search_fields = ["audience__name"]


class SuperuserOnly:
    """Rows about one person (their answer, their wish to be forgotten): superusers only. The team
    reads understanding in the dashboard, per audience and above the anonymity threshold."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.none()


@admin.register(Comprehension)
class ComprehensionAdmin(ProjectScopedAdmin):
    list_display = ["text", "project", "right_answer", "attention_above", "updated_at"]
    list_filter = [ProjectFilter]
    list_select_related = ["project"]
    search_fields = ["text", "answer_1", "answer_2", "answer_3", "answer_4"]
    readonly_fields = ["project", "updated_at"]  # the further languages are written in the app

    def has_add_permission(self, request, obj=None):
        return False  # set on the project's question page, one per project


@admin.register(ComprehensionResponse)
class ComprehensionResponseAdmin(SuperuserOnly, ReadOnlyProjectAdmin):
    project_path = "question__project"
    exclude = ["employee"]
    list_display = ["question", "answer", "is_right", "source", "audience", "updated_at"]
    list_filter = ["is_right", "source", ProjectFilter]
    list_select_related = ["question", "audience"]
    search_fields = ["audience__name"]


@admin.register(ReadDepthCounter)
class ReadDepthCounterAdmin(ReadOnlyProjectAdmin):
    list_display = ["project", "audience", "depth", "story_seconds", "count", "updated_at"]
    list_filter = ["depth", ProjectFilter]
    list_select_related = ["project", "audience"]
    search_fields = ["audience__name"]


@admin.register(ErasureRequest)
class ErasureRequestAdmin(SuperuserOnly, ReadOnlyProjectAdmin):
    list_display = ["project", "employee", "requested_at"]
    list_filter = [ProjectFilter]
    list_select_related = ["project", "employee"]
    search_fields = ["employee__email"]


@admin.register(LandingCounter)
class LandingCounterAdmin(ReadOnlyProjectAdmin):
    list_display = ["project", "kind", "source", "audience", "count", "updated_at"]
    list_filter = ["kind", ProjectFilter]
    list_select_related = ["project", "source", "audience"]
    search_fields = ["source__title", "audience__name"]


@admin.register(EngagementCounter)
class EngagementCounterAdmin(ReadOnlyProjectAdmin):
    project_path = "asset__project"
    exclude = ["token"]
    list_display = ["asset", "audience", "opens", "clicks", "updated_at"]
    list_filter = [ProjectFilter]
    list_select_related = ["asset", "audience"]
    search_fields = ["asset__title", "audience__name"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly, PeopleTrackedAdmin):
    project_path = "asset__project"
    exclude = ["token", "last_error"]
    readonly_fields = ["reason"]
    list_display = [
        "employee",
        "asset",
        "status",
        "attempts",
        "possible_duplicate",
        "sent_at",
        "opened_at",
        "clicked_at",
    ]
    list_filter = ["status", "possible_duplicate", ProjectFilter]
    list_select_related = ["employee", "asset"]
    search_fields = ["employee__email", "asset__title", "message_id", "last_error"]
    show_full_result_count = False  # a send may have 100 000 rows; counting them twice per page is waste

    @admin.display(description=_("reason"))
    def reason(self, obj: Delivery) -> str:
        return obj.reason  # the stored reason, in the reader's language


@admin.register(EmailSend)
class EmailSendAdmin(ReadOnlyProjectAdmin):
    project_path = "asset__project"
    list_display = ["asset", "state", "due_at", "recipients", "started_at", "finished_at"]
    list_filter = ["state", ProjectFilter]
    list_select_related = ["asset"]
    search_fields = ["asset__title"]


@admin.register(PrintRender)
class PrintRenderAdmin(ReadOnlyProjectAdmin):
    project_path = "asset__project"
    exclude = ["qr_token"]
    list_display = ["asset", "site", "language", "print_ready", "status", "page_count", "rendered_at"]
    list_filter = ["status", "language", "print_ready", ProjectFilter]
    list_select_related = ["asset"]
    search_fields = ["asset__title", "site"]


# The plan: assets are written in the app, whose services sanitise rich text, keep the audit trail
# and queue print renders; here they are read, with their sessions and that trail, for audits.


class MeetingSessionInline(ReadOnly, admin.TabularInline):
    model = MeetingSession
    extra = 0
    fields = ["starts_at", "ends_at", "site", "place", "online_url", "capacity"]
    readonly_fields = fields


class AssetEventInline(MeetingSessionInline):
    model = AssetEvent
    fields = ["at", "actor", "action", "detail"]
    readonly_fields = fields
    ordering = ["-at"]


@admin.register(Asset)
class AssetAdmin(ReadOnlyProjectAdmin):
    list_display = ["title", "project", "channel", "stage", "status", "offset_days", "fixed_at", "updated_at"]
    list_filter = ["channel", "stage", "status", ProjectFilter]
    list_select_related = ["project"]
    search_fields = ["title", "subject", "headline"]
    exclude = ["body"]  # rich text is shown sanitised in the app, not as raw HTML here
    inlines = [MeetingSessionInline, AssetEventInline]


# Plan templates are shared data: admins with the model permissions edit what "start from a
# template" proposes, for every project.


class PlanTemplateItemInline(admin.TabularInline):
    model = PlanTemplateItem
    extra = 1
    fields = ["order", "channel", "stage", "title", "offset_days", "sender_kind", "subject", "body"]
    ordering = ["order", "offset_days"]


@admin.register(PlanTemplate)
class PlanTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "language", "family", "is_active", "item_count"]
    list_filter = ["is_active", "language"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [PlanTemplateItemInline]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(description=_("items"), ordering="item_count")
    def item_count(self, obj) -> int:
        return obj.item_count


admin.site.site_header = _("Launchpad administration")
admin.site.site_title = _("Launchpad")
