from django.urls import path, re_path

from . import views

app_name = "scim"

# No trailing slashes: identity providers call /scim/v2/Users?filter=… and /scim/v2/Users/<id> as written.
urlpatterns = [
    path("ServiceProviderConfig", views.service_provider_config_view, name="service_provider_config"),
    path("ResourceTypes", views.resource_types_view, name="resource_types"),
    path("ResourceTypes/<str:name>", views.resource_type_view, name="resource_type"),
    path("Schemas", views.schemas_view, name="schemas"),
    path("Schemas/<str:urn>", views.schema_view, name="schema"),
    path("Users", views.users_view, name="users"),
    path("Users/.search", views.not_found_view, {"rest": ".search"}),
    path("Users/<str:scim_id>", views.user_view, name="user"),
    # A base URL entered with its final slash: the provider adds "/Users" and asks for "…/v2//Users".
    re_path(r"^[/]+(?P<rest>.*)$", views.extra_slash_view),  # [/]: not a leading "/" to Django (urls.W002)
    re_path(r"^(?P<rest>.*)$", views.not_found_view, name="not_found"),
]
