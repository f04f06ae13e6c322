from django.urls import path

from . import views
from .imports import views as import_views

app_name = "audiences"

urlpatterns = [
    path("directory/", views.employee_list, name="employee_list"),
    path("directory/export.csv", views.employee_export, {"fmt": "csv"}, name="employee_export_csv"),
    path("directory/export.xlsx", views.employee_export, {"fmt": "xlsx"}, name="employee_export_xlsx"),
    path("directory/<int:pk>/", views.employee_detail, name="employee_detail"),
    path("directory/<int:pk>/erase/", views.employee_erase, name="employee_erase"),
    path("directory/import/", import_views.import_list, name="import_list"),
    path("directory/import/new/", import_views.import_upload, name="import_upload"),
    path("directory/import/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("directory/import/<int:pk>/columns/", import_views.import_mapping, name="import_mapping"),
    path("directory/import/<int:pk>/preview/", import_views.import_preview, name="import_preview"),
    path("directory/import/<int:pk>/apply/", import_views.import_apply, name="import_apply"),
    path("directory/import/<int:pk>/status.json", import_views.import_status, name="import_status"),
    path("directory/import/<int:pk>/rejected.csv", import_views.import_rejected_csv, name="import_rejected_csv"),
    path("projects/<slug:slug>/audiences/", views.audience_list, name="audience_list"),
    path("projects/<slug:slug>/audiences/new/", views.audience_create, name="audience_create"),
    path("projects/<slug:slug>/audiences/new-list/", views.audience_create_list, name="audience_create_list"),
    path("projects/<slug:slug>/audiences/count/", views.audience_count, name="audience_count"),
    path("projects/<slug:slug>/audiences/cross-functional/", views.cross_functional, name="cross_functional"),
    path("projects/<slug:slug>/audiences/<int:pk>/", views.audience_detail, name="audience_detail"),
    path("projects/<slug:slug>/audiences/<int:audience_id>/edit/", views.audience_edit, name="audience_edit"),
    path("projects/<slug:slug>/audiences/<int:audience_id>/delete/", views.audience_delete, name="audience_delete"),
    path(
        "projects/<slug:slug>/audiences/<int:audience_id>/members/add/",
        views.audience_members_add,
        name="audience_members_add",
    ),
    path(
        "projects/<slug:slug>/audiences/<int:audience_id>/members/remove/",
        views.audience_member_remove,
        name="audience_member_remove",
    ),
    path(
        "projects/<slug:slug>/audiences/<int:audience_id>/export.csv",
        views.audience_export,
        {"fmt": "csv"},
        name="audience_export_csv",
    ),
    path(
        "projects/<slug:slug>/audiences/<int:audience_id>/export.xlsx",
        views.audience_export,
        {"fmt": "xlsx"},
        name="audience_export_xlsx",
    ),
]
