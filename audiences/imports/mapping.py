"""Mapping the columns of an HR export to Employee fields: recognised headers, a guessed mapping, overrides, checks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from audiences.models import Employee

from .errors import ImportRefused

# The Employee fields a column can be mapped to, in the order they are compared.
FIELDS = (
    "employee_number",
    "email",
    "first_name",
    "last_name",
    "department",
    "site",
    "title",
    "manager",
    "language",
    "time_zone",
)
EXTRA = "extra"  # the column goes to Employee.extra under its header
IGNORE = ""  # the column is not imported

HEADER_NAMES = {
    "employee_number": [
        "Employee ID",
        "Employee number",
        "Employee no",
        "Emp ID",
        "Employee",
        "Staff ID",
        "Personnel number",
        "Anställningsnummer",
        "Anställningsnr",
        "Anst.nr",
        "Anst nr",
        "Anstnr",
        "Anst.id",
        "Personalnummer",
    ],
    "email": [
        "Email",
        "E-mail",
        "Email address",
        "E-mail address",
        "Mail",
        "Work email",
        "E-post",
        "Epost",
        "E-postadress",
        "Epostadress",
        "Mailadress",
        "E-post arbete",
    ],
    "first_name": ["First name", "Firstname", "Given name", "Förnamn", "Tilltalsnamn"],
    "last_name": ["Last name", "Lastname", "Surname", "Family name", "Efternamn"],
    "department": ["Department", "Dept", "Avdelning", "Enhet", "Organisationsenhet"],
    "site": ["Site", "Location", "Office", "Ort", "Kontor", "Arbetsort", "Arbetsplats"],
    "title": ["Title", "Job title", "Position", "Role", "Befattning", "Roll", "Titel", "Yrkestitel"],
    # The manager by their employee ID or email (see managers.py).
    "manager": [
        "Manager",
        "Line manager",
        "Manager email",
        "Manager e-mail",
        "Manager ID",
        "Manager employee ID",
        "Reports to",
        "Chef",
        "Närmaste chef",
        "Chefens e-post",
        "Chef e-post",
        "Chefens anställningsnummer",
        "Chef anst.nr",
        "Chef anstnr",
    ],
    "language": ["Language", "Preferred language", "Språk", "Föredraget språk"],
    "time_zone": ["Time zone", "Timezone", "TZ", "Tidszon", "Tidzon"],
}


def _normalise_header(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


_RECOGNISED = {_normalise_header(name): field for field, names in HEADER_NAMES.items() for name in names}


def recognise_header(text: str) -> str | None:
    """The Employee field a header names (English or Swedish, any case and punctuation), or None."""
    return _RECOGNISED.get(_normalise_header(text or ""))


def field_choices() -> list[tuple[str, str]]:
    """The choices for mapping one column, labelled in the user's language."""
    choices = [(name, capfirst(Employee._meta.get_field(name).verbose_name)) for name in FIELDS]
    return [*choices, (EXTRA, _("Extra attribute")), (IGNORE, _("Do not import"))]


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """Map each column index (as a string) to a field, an extra attribute or nothing."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for index, header in enumerate(headers):
        recognised = recognise_header(header)
        if recognised and recognised not in used:
            mapping[str(index)] = recognised
            used.add(recognised)
        else:
            mapping[str(index)] = EXTRA if header.strip() else IGNORE
    return mapping


def mapping_with_overrides(headers: list[str], mapping: dict[str, str], overrides: dict[str, str]) -> dict[str, str]:
    """Apply `HEADER=field` overrides (from the command line) to a mapping; raises ImportRefused on unknowns."""
    by_header = {_normalise_header(h): str(i) for i, h in reversed(list(enumerate(headers)))}
    valid = {*FIELDS, EXTRA, IGNORE, "ignore"}
    result = dict(mapping)
    for header, target in overrides.items():
        index = by_header.get(_normalise_header(header))
        if index is None:
            raise ImportRefused(_("The file has no column named %(header)s.") % {"header": header})
        if target not in valid:
            raise ImportRefused(
                _("%(field)s is not a field; use one of %(fields)s.")
                % {"field": target, "fields": ", ".join([*FIELDS, EXTRA, "ignore"])}
            )
        target = IGNORE if target == "ignore" else target
        if target in FIELDS:  # a field comes from one column only: the override wins
            result = {k: (IGNORE if v == target else v) for k, v in result.items()}
        result[index] = target
    return result


@dataclass(frozen=True)
class Columns:
    """A mapping compiled for fast row extraction."""

    fields: tuple[str, ...]  # mapped Employee fields, in FIELDS order
    indexes: tuple[int, ...]  # their column indexes
    extra: tuple[tuple[int, str], ...]  # (column index, key in Employee.extra)


def compile_mapping(headers: list[str], mapping: dict[str, str]) -> Columns:
    chosen: dict[str, int] = {}
    extra: list[tuple[int, str]] = []
    keys: set[str] = set()
    for index_text, target in mapping.items():
        index = int(index_text)
        if index < 0 or index >= len(headers):
            continue
        if target in FIELDS:
            if target in chosen:
                label = Employee._meta.get_field(target).verbose_name
                raise ImportRefused(_("Two columns are mapped to %(field)s; choose one.") % {"field": label})
            chosen[target] = index
        elif target == EXTRA:
            key = headers[index].strip() or f"column {index + 1}"
            while key in keys:
                key = f"{key} ({index + 1})"
            keys.add(key)
            extra.append((index, key))
    if "email" not in chosen:
        raise ImportRefused(
            _("The file has no email column. Every person needs an email address; map the column that holds it.")
        )
    fields = tuple(f for f in FIELDS if f in chosen)
    return Columns(fields=fields, indexes=tuple(chosen[f] for f in fields), extra=tuple(sorted(extra)))


def check_mapping(headers: list[str], mapping: dict[str, str]) -> None:
    """Raise ImportRefused when a mapping cannot be imported (no email column, a field mapped twice)."""
    compile_mapping(headers, mapping)
