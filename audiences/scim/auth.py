"""Who is calling the SCIM endpoint: the bearer token in the Authorization header, looked up by its hash."""

from __future__ import annotations

from django.http import HttpRequest

from audiences.models import ScimToken
from audiences.scim.models import token_hash

# Longer than any token Launchpad issues: refused before hashing or the database.
MAX_TOKEN_LENGTH = 128


def scim_token_for(request: HttpRequest) -> ScimToken | None:
    """The unrevoked token the request carries as `Authorization: Bearer <token>`, or None."""
    scheme, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw or len(raw) > MAX_TOKEN_LENGTH or not raw.isascii():
        return None
    return ScimToken.objects.filter(token_hash=token_hash(raw), revoked_at__isnull=True).first()
