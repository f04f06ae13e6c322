"""The organisation's OpenID Connect provider, as the settings describe it (all from the environment).

Only the issuer, client and group names are configured; the endpoints come from the provider's
discovery document, fetched on first use and kept for an hour.
"""

import logging
import threading
import time
from dataclasses import dataclass

import requests
from django.conf import settings
from mozilla_django_oidc.utils import import_from_settings

logger = logging.getLogger("accounts.oidc")

DISCOVERY_TTL_SECONDS = 3600
_cache: dict[str, tuple[float, "ProviderMetadata"]] = {}
_lock = threading.Lock()


class ProviderUnavailable(Exception):
    """The discovery document could not be fetched or does not describe the configured issuer."""


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str
    end_session_endpoint: str


def oidc_enabled() -> bool:
    """Single sign-on is on when an issuer is configured."""
    return bool(getattr(settings, "OIDC_ISSUER", ""))


def local_login_enabled() -> bool:
    """Whether passwords are accepted from everyone (LOCAL_LOGIN), not only from break-glass users."""
    return settings.LOCAL_LOGIN or not oidc_enabled()


def is_break_glass(user) -> bool:
    """A user who may sign in with a password even when LOCAL_LOGIN is off: listed, active, superuser."""
    return bool(
        user is not None and user.is_active and user.is_superuser and user.get_username() in settings.BREAK_GLASS_USERS
    )


def discovery_url() -> str:
    return settings.OIDC_DISCOVERY_URL or settings.OIDC_ISSUER.rstrip("/") + "/.well-known/openid-configuration"


def provider_metadata() -> ProviderMetadata:
    """The provider's endpoints from its discovery document (cached), checked against OIDC_ISSUER."""
    url = discovery_url()
    now = time.monotonic()
    cached = _cache.get(url)
    if cached and cached[0] > now:
        return cached[1]
    with _lock:
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            logger.warning("OIDC discovery failed at %s: %s", url, exc)
            raise ProviderUnavailable(str(exc)) from exc
        if document.get("issuer") != settings.OIDC_ISSUER:
            # OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer asked for.
            logger.warning(
                "OIDC discovery at %s names issuer %r, not the configured %r",
                url,
                document.get("issuer"),
                settings.OIDC_ISSUER,
            )
            raise ProviderUnavailable("issuer mismatch")
        try:
            metadata = ProviderMetadata(
                issuer=document["issuer"],
                authorization_endpoint=document["authorization_endpoint"],
                token_endpoint=document["token_endpoint"],
                jwks_uri=document["jwks_uri"],
                userinfo_endpoint=document.get("userinfo_endpoint", ""),
                end_session_endpoint=document.get("end_session_endpoint", ""),
            )
        except KeyError as exc:
            logger.warning("OIDC discovery at %s lacks %s", url, exc)
            raise ProviderUnavailable(f"missing {exc}") from exc
        _cache[url] = (now + DISCOVERY_TTL_SECONDS, metadata)
        return metadata


def forget_provider_metadata() -> None:
    """Drop the cached discovery documents (tests, or after the provider changed its keys' address)."""
    _cache.clear()


# mozilla-django-oidc's options that are not the site's to choose: PKCE with S256, a nonce, our routes.
LIBRARY_SETTINGS = {
    "OIDC_USE_PKCE": True,
    "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
    "OIDC_USE_NONCE": True,
    "OIDC_VERIFY_SSL": True,
    "OIDC_ALLOW_UNSECURED_JWT": False,
    "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc:callback",
    "LOGIN_REDIRECT_URL_FAILURE": "login",
}


def library_setting(attr: str, *default):
    """What mozilla-django-oidc reads through `get_settings`: fixed values first, then Django's settings."""
    if attr in LIBRARY_SETTINGS:
        return LIBRARY_SETTINGS[attr]
    return import_from_settings(attr, *default)
