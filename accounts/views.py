"""Signing in and out: the login page, the provider's redirect flow, and logout at both ends."""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.oidc import ProviderUnavailable, library_setting, local_login_enabled, oidc_enabled, provider_metadata

logger = logging.getLogger("accounts.oidc")


class LoginView(auth_views.LoginView):
    """Django's login, with the provider's button; without the password form when LOCAL_LOGIN is off."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if not local_login_enabled():
            logger.warning("Password sign-in refused on the login page: LOCAL_LOGIN is off")
            messages.error(request, _("Signing in with a password is switched off. Use the button below."))
            response = self.get(request, *args, **kwargs)
            response.status_code = 403
            return response
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            oidc_enabled=oidc_enabled(),
            oidc_provider_name=settings.OIDC_PROVIDER_NAME,
            local_login=local_login_enabled(),
            **kwargs,
        )


class OIDCAuthenticateView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider with state, nonce and a PKCE challenge kept in the session."""

    get_settings = staticmethod(library_setting)

    def __init__(self, **kwargs):
        # The library reads its endpoint from settings here; ours comes from discovery, per request.
        View.__init__(self, **kwargs)

    def get(self, request):
        if not oidc_enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_metadata().authorization_endpoint
        except ProviderUnavailable:
            messages.error(request, _("The sign-in service could not be reached. Try again in a moment."))
            return redirect("login")
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class OIDCCallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer: state checked and used up, the code exchanged, the ID token verified."""

    get_settings = staticmethod(library_setting)

    def get(self, request):
        if not oidc_enabled():
            raise Http404
        if request.GET.get("error"):
            logger.warning(
                "OIDC provider returned an error from %s: %s",
                request.META.get("REMOTE_ADDR", "?"),
                request.GET.get("error")[:100],
            )
            request.oidc_refusal = _("The sign-in service did not sign you in.")
        elif "code" in request.GET and request.GET.get("state") not in request.session.get("oidc_states", {}):
            # A state this session did not start, or one already used: a replay or a forged callback.
            logger.warning("OIDC callback with an unknown or used state from %s", request.META.get("REMOTE_ADDR", "?"))
            request.oidc_refusal = _("This sign-in has been used already or has expired. Please sign in again.")
            return self.login_failure()
        return super().get(request)

    def login_failure(self):
        messages.error(self.request, getattr(self.request, "oidc_refusal", _("Signing in failed. Please try again.")))
        return redirect("login")


@require_POST
def logout(request):
    """Ends the session here and, where the provider offers it, there too (RP-initiated logout)."""
    target = resolve_url(settings.LOGOUT_REDIRECT_URL)
    id_token = request.session.get("oidc_id_token")
    if id_token and oidc_enabled():
        try:
            endpoint = provider_metadata().end_session_endpoint
        except ProviderUnavailable:
            endpoint = ""
        if endpoint:
            query = urlencode(
                {
                    "id_token_hint": id_token,
                    "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
                    "client_id": settings.OIDC_RP_CLIENT_ID,
                }
            )
            target = f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
    auth.logout(request)
    return HttpResponseRedirect(target)
