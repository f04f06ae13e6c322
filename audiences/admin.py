from django.contrib import admin

from campaigns.admin import ProjectFilter, ProjectScopedAdmin

from .models import Audience, AudienceMember, DirectoryImport, Employee


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
        "is_active",
    ]
    list_filter = ["is_active", "language", "department", "site"]
    search_fields = ["email", "first_name", "last_name", "employee_number", "title"]
    readonly_fields = ["created_at", "updated_at", "erased_at"]


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
