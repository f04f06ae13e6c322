from django.urls import path

from accounts import views

app_name = "oidc"

urlpatterns = [
    path("authenticate/", views.OIDCAuthenticateView.as_view(), name="authenticate"),
    path("callback/", views.OIDCCallbackView.as_view(), name="callback"),
]
