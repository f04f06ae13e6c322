import json

from django.contrib.auth import views as auth_views
from django.contrib.auth.models import Group, User
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from oauth2_provider.models import Application


@csrf_exempt
@require_http_methods(["PUT"])
def put_client(request, client_id):
    """Register (or update) a confidential client with its redirect URIs; test set-up only."""
    data = json.loads(request.body)
    app, _ = Application.objects.get_or_create(
        client_id=client_id,
        defaults={
            "name": client_id,
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "algorithm": Application.RS256_ALGORITHM,
            "skip_authorization": True,
        },
    )
    app.client_secret = data["secret"]
    app.redirect_uris = " ".join(data["redirect_uris"])
    app.post_logout_redirect_uris = " ".join(data.get("post_logout_redirect_uris", []))
    app.save()
    return HttpResponse(status=204)


@csrf_exempt
@require_http_methods(["PUT"])
def put_user(request, username):
    """Create (or update) a user with a password, names, e-mail and groups; test set-up only."""
    data = json.loads(request.body)
    user, _ = User.objects.get_or_create(username=username)
    user.email = data.get("email", f"{username}@example.org")
    user.first_name = data.get("first_name", "")
    user.last_name = data.get("last_name", "")
    user.set_password(data["password"])
    user.save()
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in data.get("groups", [])])
    return HttpResponse(status=204)


urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="provider_login.html"), name="login"),
    path("testing/clients/<str:client_id>/", put_client),
    path("testing/users/<str:username>/", put_user),
]
