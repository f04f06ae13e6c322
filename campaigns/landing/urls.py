"""The employees' public landing page (campaigns/landing_views.py), outside the logged-in app."""

from django.urls import path

from campaigns.landing import views

app_name = "landing"

urlpatterns = [
    path("p/<token:token>/", views.personal, name="personal"),
    path("p/<token:token>/book/", views.personal_book, name="personal_book"),
    path("p/<token:token>/ask/", views.personal_ask, name="personal_ask"),
    path("p/<token:token>/pulse/", views.personal_pulse, name="personal_pulse"),
    path("p/<token:token>/read/", views.personal_read, name="personal_read"),
    path("p/<token:token>/privacy/", views.personal_privacy, name="personal_privacy"),
    path("p/<token:token>/answer/", views.personal_answer, name="personal_answer"),
    path("p/<token:token>/answer/<int:number>/", views.personal_answer_link, name="personal_answer_link"),
    path("l/<slug:slug>/", views.general, name="general"),
    path("l/<slug:slug>/brand.css", views.brand_css, name="brand_css"),
    path("l/<slug:slug>/book/", views.general_book, name="general_book"),
    path("l/<slug:slug>/ask/", views.general_ask, name="general_ask"),
    path("l/<slug:slug>/pulse/", views.general_pulse, name="general_pulse"),
    path("l/<slug:slug>/read/", views.general_read, name="general_read"),
    path("l/<slug:slug>/answer/", views.general_answer, name="general_answer"),
    path("l/<slug:slug>/answer/<int:number>/", views.general_answer_link, name="general_answer_link"),
    path("l/<slug:slug>/play/<int:asset_id>/", views.film_play, name="film_play"),
    path("b/confirm/<token:token>/", views.booking_confirm, name="booking_confirm"),
    path("b/cancel/<token:token>/", views.booking_cancel, name="booking_cancel"),
    path("b/calendar/<token:token>/invite.ics", views.booking_calendar, name="booking_calendar"),
]
