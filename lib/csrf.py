"""The CSRF token of the public landing page, masked as Django masks it, at a tenth of the cost.

`django.middleware.csrf.get_token` masks the visitor's CSRF secret with 32 characters drawn
one `secrets.choice` (one `urandom` call) at a time, and flags the cookie to be sent again.
On the landing page, served from a whole-page cache, that was the largest cost left per
request. `masked_token` makes the same kind of token — a fresh random mask followed by the
secret shifted by it, checked by the unchanged CsrfViewMiddleware — from one `urandom` call,
without bias (bytes that would favour some characters are drawn again). A visitor without a
valid CSRF cookie goes through `get_token`, which creates the secret and sets the cookie.
"""

import secrets

from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, get_token

_CHARS = CSRF_ALLOWED_CHARS
_RADIX = len(_CHARS)
_UNBIASED_BELOW = 256 - 256 % _RADIX  # 248: each character is then equally likely
_INDEX = {char: i for i, char in enumerate(_CHARS)}


def _mask() -> list[int]:
    values: list[int] = []
    while len(values) < CSRF_SECRET_LENGTH:
        values.extend(b % _RADIX for b in secrets.token_bytes(CSRF_SECRET_LENGTH + 8) if b < _UNBIASED_BELOW)
    return values[:CSRF_SECRET_LENGTH]


def masked_token(request) -> str:
    """A CSRF token for a form on this response, freshly masked, valid for the visitor's cookie."""
    secret = request.META.get("CSRF_COOKIE")
    if not secret or len(secret) != CSRF_SECRET_LENGTH or any(char not in _INDEX for char in secret):
        return get_token(request)
    mask = _mask()
    cipher = "".join(_CHARS[(_INDEX[char] + m) % _RADIX] for char, m in zip(secret, mask, strict=True))
    return "".join(_CHARS[m] for m in mask) + cipher
