"""Authentication backends: the organisation's OpenID Connect provider, and local passwords behind LOCAL_LOGIN."""

import logging

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.oidc import (
    ProviderUnavailable,
    is_break_glass,
    library_setting,
    local_login_enabled,
    oidc_enabled,
    provider_metadata,
)
from accounts.services import user_sign_in

logger = logging.getLogger("accounts.oidc")

# How far the provider's clock may be from ours when checking a token's exp, iat and nbf.
CLOCK_SKEW_SECONDS = 60


class SignInRefused(Exception):
    """A sign-in the provider's answer does not allow: `message` for the user, `reason` for the log."""

    def __init__(self, message: str, reason: str):
        super().__init__(reason)
        self.message = message
        self.reason = reason


class OIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow, with the endpoints from discovery and the ID token checked in full.

    Beyond the library: audience (and azp), issuer, expiry and issue time are verified, the user is
    found by the issuer and subject (accounts.services.user_sign_in), and a refusal is logged and
    explained to the user instead of ending in a bare redirect.
    """

    get_settings = staticmethod(library_setting)

    def __init__(self, *args, **kwargs):
        # The library reads its endpoints from settings here; ours come from discovery, at sign-in.
        self.UserModel = get_user_model()

    def _configure(self) -> None:
        metadata = provider_metadata()
        self.issuer = metadata.issuer
        self.OIDC_OP_TOKEN_ENDPOINT = metadata.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = metadata.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = metadata.jwks_uri
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(self, request, **kwargs):
        # Only the callback's call (with the nonce and code verifier it kept in the session) is ours:
        # a password login with ?code=…&state=… in its URL must never reach the token endpoint.
        if request is None or "nonce" not in kwargs or "password" in kwargs or not oidc_enabled():
            return None
        try:
            self._configure()
            user = super().authenticate(request, **kwargs)
        except SignInRefused as refusal:
            return self._refuse(request, refusal)
        except ProviderUnavailable as exc:
            return self._refuse(
                request,
                SignInRefused(_("The sign-in service could not be reached. Try again in a moment."), str(exc)),
            )
        except requests.HTTPError as exc:
            return self._refuse(
                request, SignInRefused(_("The sign-in service did not accept the sign-in. Please try again."), str(exc))
            )
        except requests.RequestException as exc:
            return self._refuse(
                request,
                SignInRefused(_("The sign-in service could not be reached. Try again in a moment."), str(exc)),
            )
        except SuspiciousOperation as exc:
            return self._refuse(request, SignInRefused(_("The sign-in could not be verified."), str(exc)))
        if user is not None and not user.is_active:
            return self._refuse(
                request, SignInRefused(_("Your account is deactivated."), f"user {user.username} is inactive")
            )
        return user

    def _refuse(self, request, refusal: SignInRefused) -> None:
        logger.warning("OIDC sign-in refused from %s: %s", request.META.get("REMOTE_ADDR", "?"), refusal.reason)
        request.oidc_refusal = refusal.message
        return None

    def retrieve_matching_jwk(self, token):
        try:
            return super().retrieve_matching_jwk(token)
        except (jwt.DecodeError, KeyError) as exc:
            raise SignInRefused(_("The sign-in token is malformed."), f"unreadable token header: {exc}") from exc
        except SuspiciousOperation as exc:
            raise SignInRefused(
                _("The sign-in token is not signed by a key of the sign-in service."), str(exc)
            ) from exc

    def verify_token(self, token, **kwargs):
        if not token:
            raise SignInRefused(_("The sign-in service sent no ID token."), "no id_token in the token response")
        payload = self._verify_jws(token, self.retrieve_matching_jwk(token))
        if "nonce" in kwargs and payload.get("nonce") != kwargs["nonce"]:
            raise SignInRefused(_("The sign-in token belongs to another sign-in."), "nonce mismatch")
        return payload

    def _verify_jws(self, payload, key):
        try:
            algorithm = jwt.get_unverified_header(payload).get("alg")
        except jwt.DecodeError as exc:
            raise SignInRefused(_("The sign-in token is malformed."), f"unreadable token: {exc}") from exc
        if algorithm != self.OIDC_RP_SIGN_ALGO:
            raise SignInRefused(
                _("The sign-in token is signed with an unexpected algorithm."),
                f"algorithm {algorithm!r}, expected {self.OIDC_RP_SIGN_ALGO!r}",
            )
        try:
            claims = jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=self.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.InvalidSignatureError as exc:
            raise SignInRefused(_("The sign-in token's signature is not valid."), f"bad signature: {exc}") from exc
        except jwt.ExpiredSignatureError as exc:
            raise SignInRefused(_("The sign-in token has expired. Please sign in again."), f"expired: {exc}") from exc
        except jwt.InvalidAudienceError as exc:
            raise SignInRefused(
                _("The sign-in token was issued for another application."), f"wrong audience: {exc}"
            ) from exc
        except jwt.InvalidIssuerError as exc:
            raise SignInRefused(
                _("The sign-in token was issued by an unknown sign-in service."), f"unknown issuer: {exc}"
            ) from exc
        except jwt.InvalidTokenError as exc:
            raise SignInRefused(_("The sign-in token is not valid."), f"invalid token: {exc}") from exc
        audience = claims["aud"]
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != self.OIDC_RP_CLIENT_ID:
            # OpenID Connect Core 3.1.3.7: with several audiences, the authorised party must be us.
            raise SignInRefused(
                _("The sign-in token was issued for another application."), f"azp {claims.get('azp')!r}"
            )
        return claims

    def store_tokens(self, access_token, id_token):
        # The ID token is the hint that RP-initiated logout sends back to the provider.
        self.request.session["oidc_id_token"] = id_token

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims, completed by the userinfo endpoint where the provider has one."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            info = super().get_userinfo(access_token, id_token, payload)
            if str(info.get("sub")) != str(payload["sub"]):
                # OpenID Connect Core 5.3.2: a userinfo response for another subject must not be used.
                raise SignInRefused(_("The sign-in could not be verified."), "userinfo sub differs from the ID token")
            claims.update(info)
        return claims

    # The library's get_user keeps a deactivated user signed in; Django's ends their session.
    get_user = ModelBackend.get_user

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        return user_sign_in(issuer=self.issuer, claims=claims)


class LocalBackend(ModelBackend):
    """Passwords: from everyone while LOCAL_LOGIN is on; with it off, only from BREAK_GLASS_USERS."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None or local_login_enabled() or is_break_glass(user):
            return user
        logger.warning("Password sign-in of %s refused: LOCAL_LOGIN is off and it is no break-glass user", username)
        return None
