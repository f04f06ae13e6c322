"""Signing in with the organisation's provider: the user for a verified set of claims, and their roles."""

import logging
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.db import transaction
from django.utils import timezone

from accounts.models import Identity
from campaigns.analytics.load import CHANGE_MANAGERS_GROUP

logger = logging.getLogger("accounts.oidc")

_NOT_IN_USERNAME = re.compile(r"[^\w.@+-]")


def provider_groups(claims: dict) -> set[str]:
    """The group names (or ids) in the configured claim, compared case-insensitively."""
    value = claims.get(settings.OIDC_GROUPS_CLAIM)
    if value is None:
        return set()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        logger.warning("OIDC claim %r is neither a list nor a string; read as no groups", settings.OIDC_GROUPS_CLAIM)
        return set()
    return {str(item).casefold() for item in value}


def _in_any(groups: set[str], configured: list[str]) -> bool | None:
    # None: no group names configured for this role, so the admin manages it by hand.
    if not configured:
        return None
    return any(name.casefold() in groups for name in configured)


def user_sync_roles(*, user: AbstractUser, claims: dict) -> None:
    """Give and take the change manager, staff and superuser roles as the provider's groups say.

    A role whose group names are not configured is left as it is, for the admin to manage.
    """
    groups = provider_groups(claims)
    change_manager = _in_any(groups, settings.OIDC_CHANGE_MANAGER_GROUPS)
    staff = _in_any(groups, settings.OIDC_STAFF_GROUPS)
    superuser = _in_any(groups, settings.OIDC_SUPERUSER_GROUPS)

    changed = []
    if staff is not None and user.is_staff != staff:
        user.is_staff = staff
        changed.append("is_staff")
    if superuser is not None and user.is_superuser != superuser:
        user.is_superuser = superuser
        changed.append("is_superuser")
    if changed:
        user.save(update_fields=changed)
    if change_manager is not None:
        has_it = user.groups.filter(name=CHANGE_MANAGERS_GROUP).exists()
        if change_manager and not has_it:
            user.groups.add(Group.objects.get_or_create(name=CHANGE_MANAGERS_GROUP)[0])
            changed.append(CHANGE_MANAGERS_GROUP)
        elif has_it and not change_manager:
            user.groups.remove(Group.objects.get(name=CHANGE_MANAGERS_GROUP))
            changed.append(CHANGE_MANAGERS_GROUP)
    if changed:
        logger.info("OIDC sign-in of %s changed roles: %s", user.get_username(), ", ".join(changed))


def _email_verified(claims: dict) -> bool:
    # Okta, Keycloak, Google: email_verified. Entra ID: xms_edov (the e-mail's domain is the tenant's).
    return claims.get("email_verified") is True or claims.get("xms_edov") in (True, "1", "true")


def _linkable_user(*, issuer: str, claims: dict) -> AbstractUser | None:
    """An existing local user with the verified e-mail address, to keep their projects on first sign-in.

    Never a superuser (a break-glass account stays separate), never one already linked to this provider.
    """
    email = claims.get("email") or ""
    if not email or not _email_verified(claims):
        return None
    candidates = list(
        get_user_model().objects.filter(email__iexact=email, is_superuser=False).exclude(identities__issuer=issuer)[:2]
    )
    return candidates[0] if len(candidates) == 1 else None


def _free_username(claims: dict) -> str:
    User = get_user_model()
    wanted = claims.get("preferred_username") or claims.get("email") or claims["sub"]
    base = _NOT_IN_USERNAME.sub("_", str(wanted))[:140] or "user"
    username, n = base, 1
    while User.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


def _new_user(claims: dict) -> AbstractUser:
    user = get_user_model()(username=_free_username(claims))
    # Signs in through the provider only: no password that a reset or the login form could use.
    user.set_unusable_password()
    user.save()
    return user


def _update_profile(user: AbstractUser, claims: dict) -> None:
    fields = {
        "email": claims.get("email"),
        "first_name": claims.get("given_name"),
        "last_name": claims.get("family_name"),
    }
    changed = []
    for field, value in fields.items():
        if value is None:
            continue
        value = str(value)[: user._meta.get_field(field).max_length]
        if getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if changed:
        user.save(update_fields=changed)


@transaction.atomic
def user_sign_in(*, issuer: str, claims: dict) -> AbstractUser:
    """The user for a verified sign-in, created on the first one; name, e-mail and roles brought up to date.

    `claims` are the ID token's claims merged with the userinfo response; `sub` is required.
    """
    subject = str(claims["sub"])
    identity = (
        Identity.objects.select_for_update().select_related("user").filter(issuer=issuer, subject=subject).first()
    )
    if identity is None:
        user = _linkable_user(issuer=issuer, claims=claims)
        if user is not None:
            logger.info("OIDC subject %s linked to the existing user %s by e-mail", subject, user.get_username())
        else:
            user = _new_user(claims)
            logger.info("OIDC subject %s signed in for the first time: user %s created", subject, user.username)
        identity = Identity.objects.create(user=user, issuer=issuer, subject=subject)
    user = identity.user
    _update_profile(user, claims)
    user_sync_roles(user=user, claims=claims)
    identity.last_sign_in_at = timezone.now()
    identity.save(update_fields=["last_sign_in_at"])
    return user
