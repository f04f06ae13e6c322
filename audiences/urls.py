from django.urls import path

from . import views

app_name = "audiences"

urlpatterns = [
    path("directory/", views.employee_list, name="employee_list"),
    path("directory/<int:pk>/", views.employee_detail, name="employee_detail"),
    path("projects/<slug:slug>/audiences/", views.audience_list, name="audience_list"),
    path("projects/<slug:slug>/audiences/<int:pk>/", views.audience_detail, name="audience_detail"),
]
