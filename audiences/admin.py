from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from campaigns.admin import ProjectFilter, ProjectScopedAdmin

from .models import Audience, AudienceMember, DirectoryImport, Employee, EmployeeChange, ScimToken


class EmployeeChangeInline(admin.TabularInline):
    """The person's history: each change with its source (SCIM or the CSV import)."""

    model = EmployeeChange
    fk_name = "employee"
    extra = 0
    can_delete = False
    fields = ["at", "source", "action", "fields", "scim_token", "directory_import"]
    readonly_fields = fields
    ordering = ["-at", "-id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "first_name",
        "last_name",
        "employee_number",
        "department",
        "site",
        "language",
        "time_zone",
        "is_active",
    ]
    list_filter = ["is_active", "language", "time_zone", "department", "site"]
    search_fields = ["email", "first_name", "last_name", "employee_number", "title", "external_id", "user_name"]
    # The identity provider owns its ids; an edit here would break the link SCIM keeps.
    readonly_fields = ["created_at", "updated_at", "erased_at", "external_id", "user_name", "deprovisioned_at"]
    raw_id_fields = ["manager_employee"]
    inlines = [EmployeeChangeInline]


@admin.register(ScimToken)
class ScimTokenAdmin(admin.ModelAdmin):
    """Tokens for directory provisioning: created here (the secret is shown once), revoked, never deleted."""

    list_display = ["name", "prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    fields = ["name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        from .scim.services import scim_token_create  # SCIM's models (pydantic) load only when needed

        token, raw = scim_token_create(name=obj.name, by=request.user)
        obj.pk, obj.prefix, obj.created_at = token.pk, token.prefix, token.created_at
        obj.secret_once = raw

    def response_add(self, request, obj, post_url_continue=None):
        # The secret goes into this one page only: not into a message, a cookie or a log.
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "token": obj,
            "secret": obj.secret_once,
            "scim_url": request.build_absolute_uri(reverse("scim:users")).removesuffix("Users"),
            "title": _("SCIM token created"),
        }
        response = TemplateResponse(request, "admin/audiences/scimtoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def has_delete_permission(self, request, obj=None):
        return False  # revoked tokens stay, so the history still says which one made each change

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        from .scim.services import scim_token_revoke  # SCIM's models (pydantic) load only when needed

        revoked = sum(scim_token_revoke(token=token, by=request.user) for token in queryset)
        message = ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", revoked)
        messages.success(request, message % {"count": revoked})


@admin.register(DirectoryImport)
class DirectoryImportAdmin(admin.ModelAdmin):
    list_display = [
        "file_name",
        "status",
        "uploaded_by",
        "created_at",
        "created",
        "updated",
        "unchanged",
        "deactivated",
        "rejected",
    ]
    list_filter = ["status"]
    search_fields = ["file_name", "uploaded_by__email"]
    readonly_fields = [f.name for f in DirectoryImport._meta.fields]


class AudienceMemberInline(admin.TabularInline):
    model = AudienceMember
    extra = 0
    raw_id_fields = ["employee"]


@admin.register(Audience)
class AudienceAdmin(ProjectScopedAdmin):
    list_display = ["name", "project", "kind", "is_cross_functional", "updated_at"]
    list_filter = ["kind", "is_cross_functional", ProjectFilter]
    search_fields = ["name", "description"]
    inlines = [AudienceMemberInline]
