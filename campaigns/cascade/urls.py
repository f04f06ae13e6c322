"""The manager cascade's public page, outside the logged-in app."""

from django.urls import path

from campaigns.cascade import views

app_name = "cascade"

urlpatterns = [
    path("tt/<token:token>/", views.team_talk_held, name="team_talk_held"),
    path("tt/<token:token>/handout.pdf", views.team_talk_handout, name="team_talk_handout"),
]
