"""URL converters for the random tokens in public links.

A token is what `secrets.token_urlsafe` makes: letters, digits, "-" and "_". Anything else in
its place (a NUL byte, which PostgreSQL refuses in text; a slash; a megabyte) never reaches a
view or the database: the URL does not match, and the answer is a plain 404.
"""

import re

TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class TokenConverter:
    regex = TOKEN.pattern

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


def is_token(value: str | None) -> bool:
    """Whether `value` has the shape of a token (for tokens that arrive in a query string)."""
    return bool(value) and TOKEN.fullmatch(value) is not None
