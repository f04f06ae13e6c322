"""Writes to audiences and the directory: one function per change, testable without a request."""

import logging
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from .models import Audience, AudienceMember, Employee
from .selectors import COMBINES, EXTRA_PREFIX, RULE_FIELDS, RULE_OPS, reachable_employees

logger = logging.getLogger(__name__)

# Addresses in .invalid can never be delivered (RFC 2606).
ERASED_EMAIL_DOMAIN = "erased.invalid"
EMAIL_SEPARATORS = re.compile(r"[\s,;]+")


def rules_clean(rules: dict[str, Any] | None) -> dict[str, Any]:
    """Return `rules` normalised (stripped values, empty rules dropped), or raise ValidationError."""
    rules = rules or {}
    combine = rules.get("combine", "and")
    if combine not in COMBINES:
        raise ValidationError(_("Combine rules with “and” or “or”."))
    cleaned = []
    for rule in rules.get("rules", []):
        field_name, op = rule.get("field", ""), rule.get("op", "")
        is_extra = field_name.startswith(EXTRA_PREFIX) and field_name.removeprefix(EXTRA_PREFIX).strip()
        if field_name not in RULE_FIELDS and not is_extra:
            raise ValidationError(_("Unknown field “%(field)s”.") % {"field": field_name})
        if op not in RULE_OPS:
            raise ValidationError(_("Unknown condition “%(op)s”.") % {"op": op})
        values = [str(v).strip() for v in rule.get("values", []) if str(v).strip()]
        if values:
            cleaned.append({"field": field_name, "op": op, "values": values})
    return {"combine": combine, "rules": cleaned}


def _save(audience: Audience) -> Audience:
    audience.full_clean(exclude=["created_by"])
    audience.save()
    return audience


@transaction.atomic
def audience_create(
    *,
    project,
    by,
    name: str,
    kind: str = Audience.Kind.RULES,
    description: str = "",
    rules: dict[str, Any] | None = None,
    is_cross_functional: bool = False,
    members: Iterable[Employee] = (),
) -> Audience:
    """Create an audience in `project`: by rules, or a list with its first `members`."""
    audience = Audience(
        project=project,
        name=name,
        description=description,
        kind=kind,
        rules=rules_clean(rules) if kind == Audience.Kind.RULES else {},
        is_cross_functional=is_cross_functional and kind == Audience.Kind.LIST,
        created_by=by,
    )
    _save(audience)
    if kind == Audience.Kind.LIST:
        audience_members_add(audience=audience, employees=members)
    logger.info("audience %s created in project %s by user %s", audience.pk, project.pk, by.pk)
    return audience


@transaction.atomic
def audience_update(
    *, audience: Audience, by, name: str, description: str = "", rules: dict[str, Any] | None = None
) -> Audience:
    """Rename or redescribe an audience, and for a rules audience replace its rules."""
    audience.name = name
    audience.description = description
    if audience.kind == Audience.Kind.RULES:
        audience.rules = rules_clean(rules)
    return _save(audience)


def audience_delete(*, audience: Audience, by) -> None:
    """Delete an audience (employees are untouched)."""
    logger.info("audience %s deleted from project %s by user %s", audience.pk, audience.project_id, by.pk)
    audience.delete()


def _require_list(audience: Audience) -> None:
    if audience.kind != Audience.Kind.LIST:
        raise ValidationError(_("Members can only be added to or removed from a list audience."))


def audience_members_add(*, audience: Audience, employees: Iterable[Employee]) -> int:
    """Add `employees` to a list audience; those already in it are left alone. Returns how many were new."""
    _require_list(audience)
    ids = {e.pk for e in employees}
    existing = set(
        AudienceMember.objects.filter(audience=audience, employee_id__in=ids).values_list("employee_id", flat=True)
    )
    new = ids - existing
    AudienceMember.objects.bulk_create(
        [AudienceMember(audience=audience, employee_id=pk) for pk in sorted(new)], ignore_conflicts=True
    )
    return len(new)


def audience_member_add(*, audience: Audience, employee: Employee) -> bool:
    """Add one person to a list audience; False if they were already in it."""
    return audience_members_add(audience=audience, employees=[employee]) == 1


def audience_member_remove(*, audience: Audience, employee: Employee) -> bool:
    """Take one person off a list audience; False if they were not in it."""
    _require_list(audience)
    deleted, _ = AudienceMember.objects.filter(audience=audience, employee=employee).delete()
    return deleted > 0


@dataclass
class EmailLookup:
    """What a pasted list of emails turned out to be."""

    found: list[Employee] = field(default_factory=list)
    # Deactivated or erased people: never sent anything, so not added.
    inactive: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def employees_by_emails(*, text: str) -> EmailLookup:
    """Look up the emails in `text` (separated by new lines, commas, semicolons or spaces) in one query.

    Emails are compared case-insensitively; `Name <email>` is understood.
    """
    lookup = EmailLookup()
    wanted: dict[str, str] = {}
    for token in EMAIL_SEPARATORS.split(text.replace("<", " ").replace(">", " ")):
        token = token.strip().strip("\"'()[]")
        if not token or "@" not in token:
            continue
        try:
            validate_email(token)
        except ValidationError:
            lookup.invalid.append(token)
            continue
        wanted.setdefault(token.lower(), token)
    if not wanted:
        return lookup
    employees = {
        e.email_lower: e for e in Employee.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=wanted)
    }
    for key, original in wanted.items():
        employee = employees.get(key)
        if employee is None:
            lookup.unknown.append(original)
        elif not employee.is_active or employee.erased_at:
            lookup.inactive.append(original)
        else:
            lookup.found.append(employee)
    return lookup


@dataclass
class PasteResult:
    """The outcome of pasting emails into a list audience."""

    added: list[Employee]
    already: list[Employee]
    unknown: list[str]
    inactive: list[str]
    invalid: list[str]


@transaction.atomic
def audience_add_emails(*, audience: Audience, text: str) -> PasteResult:
    """Add the people whose emails are pasted in `text` to a list audience; report the rest.

    Unknown, invalid and inactive addresses are returned, not added; people already in the
    audience are returned as `already`.
    """
    _require_list(audience)
    lookup = employees_by_emails(text=text)
    existing = set(
        AudienceMember.objects.filter(audience=audience, employee__in=lookup.found).values_list(
            "employee_id", flat=True
        )
    )
    added = [e for e in lookup.found if e.pk not in existing]
    audience_members_add(audience=audience, employees=added)
    return PasteResult(
        added=added,
        already=[e for e in lookup.found if e.pk in existing],
        unknown=lookup.unknown,
        inactive=lookup.inactive,
        invalid=lookup.invalid,
    )


@transaction.atomic
def employee_erase(*, employee: Employee, by) -> Employee:
    """Anonymise a person on request and keep the row, so aggregate history stays true.

    Names, title, manager, employee number, the identity provider's ids and extra attributes are cleared, the email becomes
    a unique address that can never be delivered, and the person is deactivated. Department,
    site and language stay for aggregates, as do audience memberships. Erasing twice is harmless.
    """
    employee = Employee.objects.select_for_update().get(pk=employee.pk)
    if employee.erased_at:
        return employee
    now = timezone.now()
    employee.first_name = employee.last_name = employee.title = employee.manager = ""
    employee.email = f"erased-{employee.pk}-{get_random_string(8).lower()}@{ERASED_EMAIL_DOMAIN}"
    employee.employee_number = None
    # The identity provider's identifiers for the person go too; SCIM no longer finds the row.
    employee.external_id = None
    employee.user_name = ""
    employee.manager_employee = None
    employee.extra = {}
    employee.is_active = False
    employee.erased_at = now
    employee.updated_at = now
    employee.save()
    logger.info("employee %s erased by user %s", employee.pk, by.pk)
    return employee


def cross_functional_proposal(
    *, size: int, departments: list[str], sites: list[str] | None = None, seed: int | None = None
) -> list[Employee]:
    """Propose up to `size` active people mixing `departments` as evenly as the directory allows.

    Departments take turns (round-robin, starting from a shuffled order), so their counts differ
    by at most one while each still has people. With `sites`, only people there are considered,
    and each department's turn goes to its site with the fewest people picked so far. The same
    `seed` gives the same proposal.
    """
    rng = random.Random(seed)
    candidates = reachable_employees().filter(department__in=departments)
    if sites:
        candidates = candidates.filter(site__in=sites)
    pool: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for pk, department, site in candidates.order_by("pk").values_list("pk", "department", "site"):
        pool[department][site if sites else ""].append(pk)
    for by_site in pool.values():
        for ids in by_site.values():
            rng.shuffle(ids)
    order = [d for d in dict.fromkeys(departments) if d in pool]
    rng.shuffle(order)
    picked: list[int] = []
    site_counts: Counter[str] = Counter()
    while len(picked) < size and order:
        for department in list(order):
            if len(picked) >= size:
                break
            by_site = pool[department]
            open_sites = [s for s, ids in by_site.items() if ids]
            if not open_sites:
                order.remove(department)
                continue
            site = min(open_sites, key=lambda s: site_counts[s])
            picked.append(by_site[site].pop())
            site_counts[site] += 1
    employees = Employee.objects.in_bulk(picked)
    return [employees[pk] for pk in picked]
