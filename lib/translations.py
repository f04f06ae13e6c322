"""Per-language versions of what employees read: a small explicit design, no library.

A translatable model keeps its primary-language text in its ordinary fields, so every read, form,
query count and cache that existed before is unchanged, and its further languages in one JSON
column, `translations`:

    {"en": {"subject": "…", "body": "…", "_of": {"subject": "3f2a…", "body": "9c1e…"}}}

`_of` holds a fingerprint of the primary text each translated field was made from: when the
primary text changes afterwards, that field's translation is *outdated*. A field whose primary
text is set and whose translation is empty is *missing*; a reader then gets the primary text.

Which languages content may be written in is a setting (CONTENT_LANGUAGES), so adding Finnish or
Polish is configuration, never a migration. Why not django-parler or django-modeltranslation:
parler moves every translated field into a side table (a join or prefetch on every read of a
project, asset and session, and a rewrite of every form, query and pinned query count);
modeltranslation adds a column per language, so a new language is a schema migration.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from django.utils.translation import get_language_info

SOURCES = "_of"


def content_languages() -> list[tuple[str, str]]:
    """(code, name in its own language) for every language content may be written in."""
    languages = []
    for code in settings.CONTENT_LANGUAGES:
        try:
            name = get_language_info(code)["name_local"]
        except KeyError:
            name = code
        languages.append((code, name[:1].upper() + name[1:]))
    return languages


def language_name(code: str) -> str:
    """The language's name in itself ("Svenska", "English", "Suomi"): for a switch readers choose from."""
    return dict(content_languages()).get(code, code)


def language_label(code: str, *, in_sentence: bool = False) -> str:
    """The language's name in the language being spoken now, for the team: "Swedish", or "Svenska"
    in Swedish ("svenska" within a sentence, where Swedish writes it in lower case)."""
    try:
        name = str(get_language_info(code)["name_translated"])
    except KeyError:
        return code
    return name if in_sentence else name[:1].upper() + name[1:]


def normalise(code: str | None) -> str:
    """ "en-GB" and "EN" are "en": a content language is its primary subtag."""
    return (code or "").split("-")[0].split("_")[0].lower()


def fingerprint(text) -> str:
    return hashlib.sha256(str(text or "").encode()).hexdigest()[:12]


@dataclass
class TranslationState:
    """How one language's version of an object stands against its primary text."""

    language: str
    missing: list[str] = field(default_factory=list)
    outdated: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.outdated

    @property
    def needed(self) -> bool:
        """Whether anything has primary text to translate at all."""
        return bool(self.missing or self.outdated or self.done)


class Translatable(models.Model):
    """A model whose `TRANSLATED` fields have a version per content language."""

    TRANSLATED: tuple[str, ...] = ()

    translations = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        abstract = True

    def translated_fields(self) -> tuple[str, ...]:
        """The fields readers see on this object (a subclass may narrow TRANSLATED by its kind)."""
        return self.TRANSLATED

    def translation(self, language: str) -> dict[str, str]:
        """The stored text of `language`, field by field (empty fields left out)."""
        stored = (self.translations or {}).get(language) or {}
        return {name: stored[name] for name in self.TRANSLATED if stored.get(name)}

    def in_language(self, language: str):
        """A copy whose translated fields read in `language`, each falling back to the primary
        text where that language has none. Never saved: it is what one reader sees."""
        values = self.translation(normalise(language))
        if not values:
            return self
        version = copy.copy(self)
        for name, value in values.items():
            setattr(version, name, value)
        return version

    def translation_state(self, language: str) -> TranslationState:
        state = TranslationState(language)
        stored = (self.translations or {}).get(language) or {}
        sources = stored.get(SOURCES) or {}
        for name in self.translated_fields():
            primary = getattr(self, name)
            primary = getattr(primary, "name", primary)  # a file: its stored name
            if not primary:
                continue
            if not stored.get(name):
                state.missing.append(name)
            elif sources.get(name) != fingerprint(primary):
                state.outdated.append(name)
            else:
                state.done.append(name)
        return state

    def set_translation(self, language: str, values: dict[str, str]) -> None:
        """Store `language`'s text for the given fields, made from the primary text as it is now.
        An empty value removes that field's translation. The caller saves."""
        translations = dict(self.translations or {})
        stored = dict(translations.get(language) or {})
        sources = dict(stored.get(SOURCES) or {})
        for name, value in values.items():
            if name not in self.TRANSLATED:
                raise ValueError(f"{name} is not translated")
            value = getattr(value, "name", value)
            if value:
                primary = getattr(self, name)
                stored[name] = value
                sources[name] = fingerprint(getattr(primary, "name", primary))
            else:
                stored.pop(name, None)
                sources.pop(name, None)
        stored[SOURCES] = sources
        if any(name != SOURCES for name in stored):
            translations[language] = stored
        else:
            translations.pop(language, None)
        self.translations = translations
