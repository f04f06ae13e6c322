from django.urls import path

from campaigns.analytics import load_views
from campaigns.analytics import views as dashboard_views
from campaigns.delivery import outbox_views
from campaigns.delivery import views as send_views
from campaigns.landing import inbox_views
from campaigns.landing import views as landing_views
from campaigns.plan import asset_views, translation_views
from campaigns.plan import views as plan_views
from campaigns.printing import views as print_views
from campaigns.projects import views

app_name = "campaigns"

urlpatterns = [
    # First: the builder's signed file links are the most requested and need no project lookup.
    path("print/file/<str:token>/", print_views.print_file, name="print_file"),
    path("", views.project_list, name="project_list"),
    path("new/", views.project_create, name="project_create"),
    # Pages outside any project come before "<slug>/" (services.RESERVED_SLUGS keeps projects off them).
    path("load/", load_views.organisation_load, name="organisation_load"),
    path("outbox/", outbox_views.outbox_list, name="outbox"),
    path("outbox/<str:name>/<int:index>/", outbox_views.outbox_message, name="outbox_message"),
    path("outbox/<str:name>/<int:index>/body.html", outbox_views.outbox_message_html, name="outbox_message_html"),
    path("<slug:slug>/", views.project_detail, name="project_detail"),
    path("<slug:slug>/edit/", views.project_edit, name="project_edit"),
    path("<slug:slug>/story/<slug:language>/", translation_views.story_translate, name="story_translate"),
    path("<slug:slug>/delete/", views.project_delete, name="project_delete"),
    path("<slug:slug>/team/", views.team, name="team"),
    path("<slug:slug>/team/<int:member_id>/role/", views.member_role, name="member_role"),
    path("<slug:slug>/team/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path("<slug:slug>/team/my-emails/", views.member_notifications, name="member_notifications"),
    path("<slug:slug>/brand.css", views.brand_css, name="brand_css"),
    path("<slug:slug>/landing-preview/", landing_views.preview, name="landing_preview"),
    path("<slug:slug>/dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("<slug:slug>/dashboard/refresh/", dashboard_views.dashboard_refresh, name="dashboard_refresh"),
    path(
        "<slug:slug>/dashboard/export.csv",
        dashboard_views.dashboard_export,
        {"fmt": "csv"},
        name="dashboard_export_csv",
    ),
    path(
        "<slug:slug>/dashboard/export.xlsx",
        dashboard_views.dashboard_export,
        {"fmt": "xlsx"},
        name="dashboard_export_xlsx",
    ),
    path("<slug:slug>/dashboard/export.pdf", dashboard_views.dashboard_export_pdf, name="dashboard_export_pdf"),
    path("<slug:slug>/dashboard/next-step/", dashboard_views.dashboard_next_step, name="dashboard_next_step"),
    path(
        "<slug:slug>/dashboard/not-reached/<int:audience_id>/",
        dashboard_views.dashboard_not_reached,
        name="dashboard_not_reached",
    ),
    path(
        "<slug:slug>/dashboard/not-reached/<int:audience_id>/export.csv",
        dashboard_views.dashboard_not_reached_export,
        {"fmt": "csv"},
        name="dashboard_not_reached_csv",
    ),
    path(
        "<slug:slug>/dashboard/not-reached/<int:audience_id>/export.xlsx",
        dashboard_views.dashboard_not_reached_export,
        {"fmt": "xlsx"},
        name="dashboard_not_reached_xlsx",
    ),
    path("<slug:slug>/questions/", inbox_views.inbox, name="inbox"),
    path("<slug:slug>/questions/<int:pk>/answer/", inbox_views.question_answer, name="question_answer"),
    path("<slug:slug>/questions/<int:pk>/delete/", inbox_views.question_delete, name="question_delete"),
    path("<slug:slug>/plan/", plan_views.plan_page, name="plan"),
    path("<slug:slug>/plan/template/", plan_views.plan_template, name="plan_template"),
    path("<slug:slug>/plan/go-live/", plan_views.plan_go_live, name="plan_go_live"),
    path("<slug:slug>/plan/export.csv", plan_views.plan_export, {"fmt": "csv"}, name="plan_export_csv"),
    path("<slug:slug>/plan/export.xlsx", plan_views.plan_export, {"fmt": "xlsx"}, name="plan_export_xlsx"),
    path("<slug:slug>/plan/export.pdf", plan_views.plan_export_pdf, name="plan_export_pdf"),
    path("<slug:slug>/print/", print_views.print_overview, name="print_overview"),
    path("<slug:slug>/print/pack.zip", print_views.print_pack_download, name="print_pack"),
    path("<slug:slug>/print/<int:asset_id>/", print_views.print_asset, name="print_asset"),
    path("<slug:slug>/print/<int:asset_id>/render/", print_views.print_render_request, name="print_render"),
    path("<slug:slug>/print/pdf/<int:render_id>/", print_views.print_download, name="print_download"),
    path("<slug:slug>/print/pdf/<int:render_id>/page-<int:page>/", print_views.print_preview, name="print_preview"),
    path("<slug:slug>/assets/new/", asset_views.asset_create, name="asset_create"),
    path("<slug:slug>/assets/<int:pk>/", asset_views.asset_detail, name="asset_detail"),
    path("<slug:slug>/assets/<int:pk>/edit/", asset_views.asset_edit, name="asset_edit"),
    path("<slug:slug>/assets/<int:pk>/status/", asset_views.asset_status, name="asset_status"),
    path("<slug:slug>/assets/<int:pk>/preview/", asset_views.asset_preview, name="asset_preview"),
    path("<slug:slug>/assets/<int:pk>/preview/email.html", asset_views.asset_email_html, name="asset_email_html"),
    path("<slug:slug>/assets/<int:pk>/test-send/", asset_views.asset_test_send, name="asset_test_send"),
    path(
        "<slug:slug>/assets/<int:pk>/language/<slug:language>/",
        translation_views.asset_translate,
        name="asset_translate",
    ),
    path("<slug:slug>/assets/<int:pk>/send/", send_views.asset_send, name="asset_send"),
    path("<slug:slug>/assets/<int:pk>/send/status.json", send_views.asset_send_status, name="asset_send_status"),
    path("<slug:slug>/assets/<int:pk>/send/schedule/", send_views.asset_send_schedule, name="asset_send_schedule"),
    path("<slug:slug>/assets/<int:pk>/send/now/", send_views.asset_send_now, name="asset_send_now"),
    path("<slug:slug>/assets/<int:pk>/send/pause/", send_views.asset_send_pause, name="asset_send_pause"),
    path("<slug:slug>/assets/<int:pk>/send/resume/", send_views.asset_send_resume, name="asset_send_resume"),
    path("<slug:slug>/assets/<int:pk>/send/cancel/", send_views.asset_send_cancel, name="asset_send_cancel"),
    path("<slug:slug>/assets/<int:pk>/send/retry-failed/", send_views.asset_send_retry, name="asset_send_retry"),
]
