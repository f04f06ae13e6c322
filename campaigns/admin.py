from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import ChangeProject, Membership, ProjectImage


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
        return obj is not None and Membership.objects.filter(
            project=obj, user=request.user, role=Membership.Role.OWNER
        ).exists()

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


@admin.register(Membership)
class MembershipAdmin(ProjectScopedAdmin):
    # Only owners manage the team: an editor must not add anyone, themselves as owner included.
    attach_roles = (Membership.Role.OWNER,)
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__email", "user__username", "project__name"]
    autocomplete_fields = ["user"]
    readonly_fields = ["invited_by", "created_at"]

    def has_change_permission(self, request, obj=None):
        # Only owners manage the team, in the admin as in the app.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or request.user.is_superuser or self._role_for(request, obj) == Membership.Role.OWNER)


@admin.register(ProjectImage)
class ProjectImageAdmin(ProjectScopedAdmin):
    list_display = ["__str__", "project", "original_width", "original_height", "alt_text", "created_at"]
    list_filter = ["project"]
    search_fields = ["original_name", "alt_text"]
    readonly_fields = ["web", "email", "print", "original_width", "original_height", "uploaded_by", "created_at"]


admin.site.site_header = _("Launchpad administration")
admin.site.site_title = _("Launchpad")
