"""Reads of the directory and of audiences.

Resolving an audience is one SQL query whatever its size: rules become one WHERE
clause, a list becomes one join. Only active, never-erased employees are members.
"""

import difflib
import unicodedata
from collections import Counter
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Lower
from django.db.models.lookups import IContains, In, IsNull

from .models import Audience, AudienceMember, Employee, EmployeeChange

# Employee fields a rule may look at; extra attributes are written "extra.<key>".
RULE_FIELDS = ("department", "site", "title", "manager", "language", "email")
EXTRA_PREFIX = "extra."
RULE_OPS = ("in", "not_in", "contains")
COMBINES = ("and", "or")

EXPORT_FIELDS = (
    "employee_number",
    "first_name",
    "last_name",
    "email",
    "department",
    "site",
    "title",
    "manager",
    "language",
    "time_zone",
    "is_active",
)


def employee_history(*, employee: Employee, limit: int = 20) -> list[EmployeeChange]:
    """The latest changes to a person, newest first, with the token or import that made each."""
    return list(employee.changes.select_related("scim_token", "directory_import")[:limit])


# Deeper than any real organisation; a chain that long is a circle or a data error.
MAX_MANAGER_DEPTH = 64


def manager_chain_ids(*, employee_id: int) -> list[int]:
    """The ids above a person, nearest manager first, following `manager_employee` up (one recursive query).

    A circle in the data is walked once: the query stops at MAX_MANAGER_DEPTH and the repeat is cut here.
    """
    table = Employee._meta.db_table
    sql = (
        f"WITH RECURSIVE chain(id, depth) AS ("  # noqa: S608 - the table name comes from the model
        f" SELECT manager_employee_id, 1 FROM {table} WHERE id = %s AND manager_employee_id IS NOT NULL"
        f" UNION ALL"
        f" SELECT e.manager_employee_id, c.depth + 1 FROM chain c JOIN {table} e ON e.id = c.id"
        f" WHERE e.manager_employee_id IS NOT NULL AND c.depth < %s)"
        f" SELECT id FROM chain ORDER BY depth"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [employee_id, MAX_MANAGER_DEPTH])
        ids = [row[0] for row in cursor.fetchall()]
    seen: set[int] = set()
    chain = []
    for manager_id in ids:
        if manager_id in seen:
            break
        seen.add(manager_id)
        chain.append(manager_id)
    return chain


def reachable_employees() -> QuerySet[Employee]:
    """Everyone an audience may contain: active and never erased."""
    return Employee.objects.filter(is_active=True, erased_at__isnull=True)


def _rule_q(rule: dict[str, Any]) -> Q:
    field, op = rule["field"], rule["op"]
    values = [str(v) for v in rule.get("values", []) if str(v) != ""]
    if field.startswith(EXTRA_PREFIX):
        # KeyTextTransform takes the key literally, so a key holding "__" cannot chain lookups.
        target = KeyTextTransform(field.removeprefix(EXTRA_PREFIX), "extra")
        if op == "in":
            return Q(In(target, values))
        if op == "not_in":
            return ~Q(In(target, values)) | Q(IsNull(target, True))
        contains = Q()
        for value in values:
            contains |= Q(IContains(target, value))
        return contains
    if field not in RULE_FIELDS:
        raise ValueError(f"unknown rule field {field!r}")
    if field == "email" and op in ("in", "not_in"):
        # Emails are unique regardless of case, so they are compared regardless of case.
        is_any = Q(In(Lower("email"), [v.lower() for v in values]))
        return is_any if op == "in" else ~is_any
    if op == "in":
        return Q(**{f"{field}__in": values})
    if op == "not_in":
        return ~Q(**{f"{field}__in": values})
    if op == "contains":
        contains = Q()
        for value in values:
            contains |= Q(**{f"{field}__icontains": value})
        return contains
    raise ValueError(f"unknown rule operator {op!r}")


def rules_q(rules: dict[str, Any]) -> Q:
    """The WHERE clause of a rules definition; no rules (or only empty ones) match everyone."""
    combine = rules.get("combine", "and")
    if combine not in COMBINES:
        raise ValueError(f"unknown combination {combine!r}")
    q = Q()
    for rule in rules.get("rules", []):
        if not [v for v in rule.get("values", []) if str(v) != ""]:
            continue
        q = (q & _rule_q(rule)) if combine == "and" else (q | _rule_q(rule))
    return q


def _audience_q(audience: Audience) -> Q:
    """A condition on Employee that holds for the audience's members (before the active filter)."""
    if audience.kind == Audience.Kind.LIST:
        return Q(Exists(AudienceMember.objects.filter(audience_id=audience.pk, employee_id=OuterRef("pk"))))
    return rules_q(audience.rules or {})


def employees_matching(*, rules: dict[str, Any]) -> QuerySet[Employee]:
    """Active, never-erased employees matching `rules` (also for unsaved rules while editing)."""
    return reachable_employees().filter(rules_q(rules))


def audience_members(*, audience: Audience) -> QuerySet[Employee]:
    """The audience's members as one query: active and never-erased employees only."""
    if audience.kind == Audience.Kind.LIST:
        return reachable_employees().filter(audiencemember__audience=audience)
    return employees_matching(rules=audience.rules or {})


def _flag(q: Q) -> ExpressionWrapper | Value:
    return ExpressionWrapper(q, output_field=BooleanField()) if q else Value(True)


def audience_flag(audience: Audience) -> ExpressionWrapper | Value:
    """A boolean expression on Employee that is true for the audience's members (before the active filter).

    Annotate employees with one flag per audience and group by the flags to count people per
    combination of audiences in one query (as `audience_sizes_and_overlaps` does).
    """
    return _flag(_audience_q(audience))


@dataclass(frozen=True)
class AudienceOverview:
    """Sizes of a project's audiences and how many people each pair shares."""

    audiences: list[Audience]
    sizes: dict[int, int]
    overlaps: dict[frozenset[int], int]

    def overlap(self, a: Audience, b: Audience) -> int:
        return self.overlaps.get(frozenset((a.pk, b.pk)), 0)

    def rows(self) -> list[dict[str, Any]]:
        """One row per audience: the audience, its size, and its overlap with every audience (None on the diagonal)."""
        return [
            {
                "audience": a,
                "size": self.sizes.get(a.pk, 0),
                "overlaps": [None if a.pk == b.pk else self.overlap(a, b) for b in self.audiences],
            }
            for a in self.audiences
        ]


def audience_sizes_and_overlaps(*, project) -> AudienceOverview:
    """Each audience's size and pairwise overlaps, in two queries whatever the number of people.

    Every employee gets one boolean per audience; the database groups employees by that
    combination, so the result has at most one row per distinct combination, and sizes
    and overlaps are summed from it here.
    """
    audiences = list(project.audiences.all())
    if not audiences:
        return AudienceOverview(audiences=[], sizes={}, overlaps={})
    flags = {f"in_{i}": _flag(_audience_q(a)) for i, a in enumerate(audiences)}
    groups = reachable_employees().annotate(**flags).order_by().values(*flags).annotate(n=Count("pk"))
    sizes: Counter[int] = Counter()
    overlaps: Counter[frozenset[int]] = Counter()
    for group in groups:
        inside = [a.pk for i, a in enumerate(audiences) if group[f"in_{i}"]]
        for pk in inside:
            sizes[pk] += group["n"]
        for a, b in combinations(inside, 2):
            overlaps[frozenset((a, b))] += group["n"]
    return AudienceOverview(audiences=audiences, sizes=dict(sizes), overlaps=dict(overlaps))


def audience_readers(*, audiences: list[Audience], languages: list[str]) -> dict[int, dict[str, int]]:
    """{audience id: {language: people}} for the members who read one of `languages`, in one query."""
    if not audiences or not languages:
        return {}
    flags = {f"in_{i}": _flag(_audience_q(a)) for i, a in enumerate(audiences)}
    return _readers_by_language(reachable_employees(), audiences, languages, flags)


def audience_manager_readers(*, audiences: list[Audience], languages: list[str]) -> dict[int, dict[str, int]]:
    """{audience id: {language: managers}} for the managers of the audiences' members (whom a team talk
    briefs) who read one of `languages`, in one query."""
    if not audiences or not languages:
        return {}
    flags = {
        f"in_{i}": Exists(reachable_employees().filter(_audience_q(a), manager_employee_id=OuterRef("pk")))
        for i, a in enumerate(audiences)
    }
    managers = reachable_employees().filter(Exists(reachable_employees().filter(manager_employee_id=OuterRef("pk"))))
    return _readers_by_language(managers, audiences, languages, flags)


def _readers_by_language(people, audiences: list[Audience], languages: list[str], flags: dict) -> dict:
    """{audience id: {language: people}}: `people` who read one of `languages`, grouped by language and by
    the `flags` (in_<i>: whether a person counts for audiences[i]), in one query."""
    groups = (
        people.filter(language__in=languages)
        .annotate(**flags)
        .order_by()
        .values("language", *flags)
        .annotate(n=Count("pk"))
    )
    readers: dict[int, Counter[str]] = {}
    for group in groups:
        for i, audience in enumerate(audiences):
            if group[f"in_{i}"]:
                readers.setdefault(audience.pk, Counter())[group["language"]] += group["n"]
    return {pk: dict(counts) for pk, counts in readers.items()}


def employee_audiences(*, employee: Employee, user) -> list[Audience]:
    """The audiences, in the projects `user` is a member of, that `employee` belongs to (two queries)."""
    audiences = list(
        Audience.objects.filter(project__memberships__user=user)
        .select_related("project")
        .order_by("project__name", "name")
    )
    if not audiences:
        return []
    flags = {f"in_{i}": _flag(_audience_q(a)) for i, a in enumerate(audiences)}
    row = Employee.objects.filter(pk=employee.pk).annotate(**flags).values(*flags).first() or {}
    return [a for i, a in enumerate(audiences) if row.get(f"in_{i}")]


def employee_search(
    *, query: str = "", department: str = "", site: str = "", active: bool | None = None
) -> QuerySet[Employee]:
    """The directory filtered by free text (every word must match a name, email, ID or title) and facets."""
    employees = Employee.objects.all()
    for word in query.split():
        employees = employees.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(employee_number__icontains=word)
            | Q(title__icontains=word)
        )
    if department:
        employees = employees.filter(department=department)
    if site:
        employees = employees.filter(site=site)
    if active is not None:
        employees = employees.filter(is_active=active)
    return employees


def directory_facets() -> dict[str, list[str]]:
    """The departments and sites present in the directory, for filters and rule suggestions."""

    def distinct(field: str) -> list[str]:
        return list(Employee.objects.exclude(**{field: ""}).order_by(field).values_list(field, flat=True).distinct())

    return {"departments": distinct("department"), "sites": distinct("site")}


def balance_of(employees: list[Employee]) -> dict[str, list[tuple[str, int]]]:
    """How many of `employees` work in each department and at each site, most common first."""
    return {
        "departments": Counter(e.department for e in employees).most_common(),
        "sites": Counter(e.site for e in employees).most_common(),
    }


def employee_export_rows(employees: QuerySet[Employee]) -> QuerySet:
    """Rows for a spreadsheet, in the order of EXPORT_FIELDS, as one query."""
    return employees.values_list(*EXPORT_FIELDS)


# Rule values against the directory's own values


# Fields whose values are few and repeated, so a rule picks from what the directory holds.
VALUE_FIELDS = ("department", "site", "title", "language")


def directory_values(*, field: str) -> list[tuple[str, int]]:
    """The values of `field` in the directory with how many reachable people have each, most common first."""
    if field not in VALUE_FIELDS:
        raise ValueError(f"not a value field: {field!r}")
    rows = reachable_employees().exclude(**{field: ""}).values_list(field).annotate(n=Count("pk"))
    return sorted(rows, key=lambda row: (-row[1], row[0].casefold()))


def fold(text: str) -> str:
    """`text` compared as people read it: case and accents aside ("vasteras" is "Västerås")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def rules_in_directory_spelling(*, rules: dict[str, Any]) -> dict[str, Any]:
    """`rules` with each value of an "is any of" / "is not" rule spelled as the directory spells it,
    where the directory has exactly one value that differs only in case or accents."""
    known: dict[str, dict[str, list[str]]] = {}
    spelled = []
    for rule in rules.get("rules", []):
        field = rule["field"]
        if field in VALUE_FIELDS and rule["op"] in ("in", "not_in"):
            if field not in known:
                known[field] = {}
                for value, _n in directory_values(field=field):
                    known[field].setdefault(fold(value), []).append(value)
            values = []
            for value in rule["values"]:
                candidates = known[field].get(fold(value), [])
                values.append(candidates[0] if len(candidates) == 1 and value not in candidates else value)
            rule = {**rule, "values": values}
        spelled.append(rule)
    return {**rules, "rules": spelled}


@dataclass(frozen=True)
class UnmatchedValue:
    field: str
    value: str
    suggestion: str  # the closest value in the directory, or ""


def unmatched_values(*, rules: dict[str, Any]) -> list[UnmatchedValue]:
    """The rule values that no reachable person has, with the directory's closest value as a hint
    (why an audience is empty, or smaller than expected)."""
    found = []
    for rule in rules.get("rules", []):
        field = rule["field"]
        if field not in VALUE_FIELDS:
            continue
        values = [value for value, _n in directory_values(field=field)]
        folded = {fold(value): value for value in values}
        for value in rule["values"]:
            if rule["op"] == "contains":  # as the query compares: ignoring case, not accents
                if any(value.casefold() in known.casefold() for known in values):
                    continue
                close = [key for key in folded if fold(value) in key][:1]
            elif value in values:
                continue
            else:
                close = difflib.get_close_matches(fold(value), list(folded), n=1, cutoff=0.6)
            found.append(UnmatchedValue(field=field, value=value, suggestion=folded[close[0]] if close else ""))
    return found
