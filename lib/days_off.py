"""Public holidays and weekends, so nobody plans an information meeting on Christmas Day.

The organisation's country is HOLIDAY_COUNTRY (Sweden by default); sites abroad are named in
SITE_COUNTRIES ("Helsingfors=FI,London=GB"). Days people are off in practice count too
(Sweden's julafton, midsommarafton and nyårsafton are de facto holidays).
"""

import datetime
from functools import lru_cache

import holidays
from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

# The holidays library's languages for ours.
_LANGUAGES = {"sv": "sv", "en": "en_US"}
_CATEGORIES = ("public", "de_facto")


def country_of(site: str = "") -> str:
    """The country whose holidays apply at `site`."""
    sites = getattr(settings, "SITE_COUNTRIES", {})
    return sites.get(site.strip().casefold(), getattr(settings, "HOLIDAY_COUNTRY", "SE"))


@lru_cache(maxsize=64)
def _calendar(country: str, year: int, language: str):
    supported = holidays.country_holidays(country).supported_categories
    categories = tuple(c for c in _CATEGORIES if c in supported)
    languages = holidays.country_holidays(country).supported_languages
    return holidays.country_holidays(
        country, years=year, categories=categories, language=language if language in languages else None
    )


def day_off(day: datetime.date, *, site: str = "") -> str:
    """Why `day` is a day off at `site` ("Juldagen", "Saturday"), or "" for a working day."""
    language = _LANGUAGES.get((translation.get_language() or "sv")[:2], "en_US")
    holiday = _calendar(country_of(site), day.year, language).get(day)
    if holiday:
        return holiday.split(";")[0].strip()
    if day.weekday() >= 5:
        return date_format(day, "l").capitalize()
    return ""


def day_off_note(day: datetime.date, *, site: str = "") -> str:
    """A sentence for the editor and the plan, or "" for a working day."""
    reason = day_off(day, site=site)
    if not reason:
        return ""
    return _("%(date)s is a day off: %(reason)s.") % {"date": date_format(day, "j F Y"), "reason": reason}
