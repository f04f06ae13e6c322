"""Checking the values of one row of an HR export: languages, time zones, emails, lengths; each problem a reason for the person who uploaded it."""

from __future__ import annotations

import functools
import re
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _

from audiences.models import Employee

from .mapping import FIELDS

# What HR systems write in a language column, and the language it means: the code in any of its
# forms ("en", "en-GB", "en_US"), the ISO 639-2 code for the two that ship, and each content
# language's name in English, in itself and in Swedish ("Finnish", "suomi", "finska").
LANGUAGES = {"se": "sv", "swe": "sv", "eng": "en"}


@functools.cache  # per process: the settings do not change while it runs
def _known_languages() -> dict[str, str]:
    known = dict(LANGUAGES)
    for code in settings.CONTENT_LANGUAGES:
        known[code] = code
        try:
            info = get_language_info(code)
        except KeyError:
            continue
        with translation.override("sv"):
            swedish = str(info["name_translated"])
        for name in (info["name"], info["name_local"], swedish):
            known.setdefault(name.casefold(), code)
    return known


DEFAULT_LANGUAGE = Employee.Language.SWEDISH.value  # a plain str: enums hash and adapt differently

_MAX_LENGTHS = {name: Employee._meta.get_field(name).max_length for name in FIELDS}
# Language and time zone are normalised (a time zone that is no zone is refused before the lengths are looked at).
_SHORTEST_LIMIT = min(length for name, length in _MAX_LENGTHS.items() if name not in ("language", "time_zone"))
# A common shape of address that Django's EmailValidator always accepts; anything else goes to the validator.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def normalise_language(text: str) -> str:
    """The Employee language a language cell means; Swedish when it means nothing known."""
    folded = text.strip().casefold()
    known = _known_languages()
    return known.get(folded) or known.get(folded.replace("_", "-").split("-")[0]) or DEFAULT_LANGUAGE


@functools.cache
def _time_zones() -> dict[str, str]:
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


def normalise_time_zone(text: str) -> str | None:
    """The IANA name a time zone cell means, in its own spelling ("europe/helsinki" is Europe/Helsinki);
    "" for an empty cell (the organisation's zone), None for something that is no time zone."""
    folded = text.strip().replace(" ", "_").casefold()
    if not folded:
        return ""
    return _time_zones().get(folded)


def time_zone_problem(text: str) -> str:
    """Why a time zone cell cannot be stored, in the words of the directory's own check."""
    return _("%(value)s is not a time zone (for example Europe/Helsinki).") % {"value": text.strip()}


def row_problem(values: dict[str, Any], cells: list[str], *, email_checked: bool = False) -> str | None:
    """Why a row's mapped values cannot be stored (no email, a bad email, a value too long), or None.

    `email_checked`: the same email was found valid already (by the manager column's first pass)."""
    email = values["email"]
    if not email_checked:
        if not email:
            return _("The email address is missing.")
        if not valid_email(email):
            return _("%(email)s is not a valid email address.") % {"email": email}
    if max(map(len, cells)) > _SHORTEST_LIMIT:  # rarely true: only then look at each field
        for name, value in values.items():
            if value and len(value) > _MAX_LENGTHS[name]:
                reason = _("%(field)s is longer than %(max)s characters.")
                return reason % {"field": field_label(name), "max": _MAX_LENGTHS[name]}
    return None


def valid_email(email: str) -> bool:
    """Whether Django's EmailValidator accepts `email` and it fits the email field."""
    if len(email) <= _MAX_LENGTHS["email"] and _PLAIN_EMAIL.fullmatch(email):
        return True
    try:
        validate_email(email)
    except ValidationError:
        return False
    return len(email) <= _MAX_LENGTHS["email"]


def field_label(name: str) -> str:
    """The name of an Employee field (or of an extra attribute) as the person importing reads it."""
    if name == "is_active":
        return str(Employee._meta.get_field("is_active").verbose_name)
    if name.startswith("extra:"):
        return name.removeprefix("extra:")
    return str(Employee._meta.get_field(name).verbose_name)
