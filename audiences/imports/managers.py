"""Who manages whom, from an HR export's manager column (the manager's employee ID or email).

The whole file is read once before anything is written, so every report can name a manager
further down the file, and every row that names an unknown person, names itself, or closes a
circle (A → B → A, also through people already in the directory) is rejected with its reason
before the import writes anything. The links themselves are written after the people, in one
statement per chunk, keyed by email (unique in the directory).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from django.db import connection
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from audiences.models import Employee

from .errors import ImportRefused
from .validation import valid_email

LINK_CHUNK = 5000
ANALYZE_AFTER_LINKS = 5000
NO_MANAGER = ""  # the token of a row whose manager cell is blank: the person has no manager


class ExistingPeople(Protocol):
    rows: list[tuple[int, str | None, str, bool, int]]
    by_number: dict[str, int]
    by_email: dict[str, int]


@dataclass
class ManagerPlan:
    """Per row of the file: why it is rejected, or what its manager resolves to.

    A token is what the import compares with the stored `manager_employee_id`: the manager's
    id as text when they are in the directory already, "new" when they arrive with this file,
    "" for no manager.
    """

    rejections: dict[int, str] = field(default_factory=dict)
    tokens: dict[int, str] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    # The manager as (id, None) when in the directory already, (None, email in lower case) when new with this
    # file, or (None, None) for no manager.
    targets: dict[int, tuple[int | None, str | None]] = field(default_factory=dict)
    # The row of a manager who arrives with this file, per report's row (their id is reserved before writing).
    manager_rows: dict[int, int] = field(default_factory=dict)
    # Rows of people new to the directory that may be created (ids can be reserved for them).
    new_rows: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Row:
    row: int
    email: str  # lower case
    number: str
    ref: str
    name: str


def manager_token(manager_employee_id: int | None) -> str:
    """The token a stored manager compares as."""
    return NO_MANAGER if manager_employee_id is None else str(manager_employee_id)


def plan_managers(
    rows: Iterable[tuple[int, list[str]]],
    *,
    at: dict[str, int],
    existing: ExistingPeople,
) -> ManagerPlan:
    """Resolve every row's manager cell against the file and the directory, and reject what cannot stand.

    `at` gives the column index of "email", "manager" and, when mapped, "employee_number",
    "first_name" and "last_name".
    """
    people = list(_read(rows, at))
    plan = ManagerPlan()
    file_by_email: dict[str, _Row] = {}
    file_by_number: dict[str, _Row] = {}
    # Rows the import itself will refuse (no or a bad email, a second row for the same person): their
    # person is not created, so a report that names them has no manager to point at.
    refused: set[int] = set()
    refused_by_key: dict[str, int] = {}
    for person in people:
        duplicate = person.email in file_by_email or (person.number and person.number in file_by_number)
        if not person.email or not valid_email(person.email) or duplicate:
            refused.add(person.row)
            if not duplicate:
                for key in (person.email, person.number):
                    if key:
                        refused_by_key.setdefault(key, person.row)
            continue
        file_by_email[person.email] = person
        if person.number:
            file_by_number[person.number] = person

    ids = [row[0] for row in existing.rows]
    position_of_id = {employee_id: position for position, employee_id in enumerate(ids)}

    def node_of(person: _Row) -> tuple[str, int]:
        position = existing.by_number.get(person.number) if person.number else None
        if position is None:
            position = existing.by_email.get(person.email)
        return ("db", position) if position is not None else ("file", person.row)

    # The manager each accepted row names, as a node: ("db", position) or ("file", row), or None.
    named: dict[int, tuple[str, int] | None] = {}
    manager_rows: dict[int, _Row] = {}
    for person in people:
        if person.row in refused:
            continue
        ref = person.ref
        if not ref:
            named[person.row] = None
            continue
        key = ref.lower() if "@" in ref else ref
        in_file = file_by_email.get(key) if "@" in ref else file_by_number.get(key)
        if in_file is not None:
            target = node_of(in_file)
            manager_rows[person.row] = in_file
        else:
            position = existing.by_email.get(key) if "@" in ref else existing.by_number.get(key)
            if position is None and key in refused_by_key:
                reason = _("The manager's own row (row %(row)s) was rejected.")
                plan.rejections[person.row] = reason % {"row": refused_by_key[key]}
                continue
            if position is None:
                reason = _("The manager %(manager)s is neither in the file nor in the directory.")
                plan.rejections[person.row] = reason % {"manager": ref}
                continue
            target = ("db", position)
        if target == node_of(person):
            plan.rejections[person.row] = _("A person cannot be their own manager.")
            continue
        named[person.row] = target

    plan.new_rows = [p.row for p in people if p.row not in refused and node_of(p)[0] == "file"]
    stored = _stored_managers(position_of_id)
    by_row = {person.row: person for person in people}
    for _round in range(8):  # a rejected row falls back to its stored manager, which can close another circle
        changed = _reject_circles(named, by_row, node_of, stored, plan, existing)
        changed |= _reject_missing_managers(named, manager_rows, plan)
        if not changed:
            break

    names = _stored_names(
        {target[1] for row, target in named.items() if target and target[0] == "db" and row not in plan.rejections},
        ids,
    )
    for row, target in named.items():
        if row in plan.rejections:
            continue
        if target is None:
            plan.tokens[row], plan.names[row], plan.targets[row] = NO_MANAGER, "", (None, None)
        elif target[0] == "db":
            position = target[1]
            plan.tokens[row] = str(ids[position])
            plan.names[row] = names.get(position, "")
            plan.targets[row] = (ids[position], None)
            if (manager := manager_rows.get(row)) is not None and manager.name:  # in the file too: its name wins
                plan.names[row] = manager.name
        else:
            manager = by_row[target[1]]
            plan.tokens[row], plan.names[row] = "new", manager.name or manager.email
            plan.targets[row] = (None, manager.email)
            plan.manager_rows[row] = manager.row
    return plan


def _read(rows: Iterable[tuple[int, list[str]]], at: dict[str, int]) -> Iterator[_Row]:
    width = 1 + max(at.values())

    def cell(cells: list[str], name: str) -> str:
        index = at.get(name)
        return cells[index].strip() if index is not None else ""

    for row, cells in rows:
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        name = f"{cell(cells, 'first_name')} {cell(cells, 'last_name')}".strip()
        yield _Row(row, cell(cells, "email").lower(), cell(cells, "employee_number"), cell(cells, "manager"), name)


def _stored_managers(position_of_id: dict[int, int]) -> dict[int, int]:
    """Who manages whom in the directory now, by position in the existing rows (one query)."""
    pairs = Employee.objects.filter(erased_at__isnull=True, manager_employee__isnull=False).values_list(
        "id", "manager_employee_id"
    )
    return {
        position_of_id[employee_id]: position_of_id[manager_id]
        for employee_id, manager_id in pairs.iterator(chunk_size=20_000)
        if employee_id in position_of_id and manager_id in position_of_id
    }


def _stored_names(positions: set[int], ids: list[int]) -> dict[int, str]:
    if not positions:
        return {}
    position_of = {ids[p]: p for p in positions}
    names: dict[int, str] = {}
    for chunk in _chunks(list(position_of), 10_000):
        for employee_id, first, last, email in Employee.objects.filter(id__in=chunk).values_list(
            "id", "first_name", "last_name", "email"
        ):
            names[position_of[employee_id]] = f"{first} {last}".strip() or email
    return names


def _reject_circles(named, by_row, node_of, stored, plan: ManagerPlan, existing: ExistingPeople) -> bool:
    """Reject the rows whose manager chain comes back to them; True when any was rejected."""
    # The graph after the import: the directory's links, overlaid by the file's accepted rows.
    up: dict[tuple[str, int], tuple[str, int] | None] = {("db", a): ("db", b) for a, b in stored.items()}
    row_of: dict[tuple[str, int], int] = {}
    for row, target in named.items():
        if row in plan.rejections:
            continue
        node = node_of(by_row[row])
        up[node] = target
        row_of[node] = row
    state: dict[tuple[str, int], int] = {}  # 1: on the current walk, 2: known to end
    rejected = False
    for start in list(row_of):
        walk: list[tuple[str, int]] = []
        node: tuple[str, int] | None = start
        while node is not None and state.get(node) is None:
            state[node] = 1
            walk.append(node)
            node = up.get(node)
        if node is not None and state.get(node) == 1:  # the walk met itself: a circle from `node`
            circle = walk[walk.index(node) :]
            labels = " → ".join(_label(n, by_row, row_of, existing) for n in [*circle, node])
            for member in circle:
                if member in row_of and row_of[member] not in plan.rejections:
                    reason = _("The managers go round in a circle: %(chain)s.")
                    plan.rejections[row_of[member]] = reason % {"chain": labels}
                    rejected = True
        for member in walk:
            state[member] = 2
    return rejected


def _reject_missing_managers(named, manager_rows: dict[int, _Row], plan: ManagerPlan) -> bool:
    """Reject the rows whose manager is new with this file but whose own row was rejected."""
    rejected = False
    for row, target in named.items():
        if row in plan.rejections or target is None or target[0] != "file":
            continue
        if target[1] in plan.rejections:
            reason = _("The manager's own row (row %(row)s) was rejected.")
            plan.rejections[row] = reason % {"row": target[1]}
            rejected = True
    return rejected


def _label(node, by_row, row_of, existing: ExistingPeople) -> str:
    if node in row_of:
        person = by_row[row_of[node]]
        return person.number or person.email
    kind, index = node
    if kind == "file":
        person = by_row[index]
        return person.number or person.email
    _id, number, email, _active, _fingerprint = existing.rows[index]
    return number or email


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


Link = tuple[int, str, int | None, str | None, str]


def link_managers(links: list[Link]) -> list[int]:
    """Point each person (by email) at their manager and store the manager's name.

    `links` holds (row, email, manager id, manager email, manager name): the manager by id when they were in
    the directory already, by email when they came with this file, neither for no manager. Returns the ids linked. Raises ImportRefused
    when a manager is missing after all (the whole import then rolls back).
    """
    linked: list[int] = []
    table = Employee._meta.db_table
    if connection.vendor == "postgresql" and len(links) >= ANALYZE_AFTER_LINKS:
        # The people were just written in this transaction: without fresh statistics the planner takes the
        # table for as small as it was and joins each chunk by scanning it row by row.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
    for chunk in _chunks(links, LINK_CHUNK):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} AS e SET manager_employee_id = COALESCE(v.manager_id, m.id), manager = v.name"  # noqa: S608
                    f" FROM unnest(%s::int[], %s::text[], %s::bigint[], %s::text[], %s::text[])"
                    f" AS v(row, email, manager_id, manager_email, name)"
                    f" LEFT JOIN {table} AS m ON lower(m.email) = v.manager_email"
                    f" WHERE lower(e.email) = v.email"
                    f" RETURNING e.id, v.row, v.manager_email IS NOT NULL AND m.id IS NULL",
                    [[c[i] for c in chunk] for i in range(5)],
                )
                result = cursor.fetchall()
            missing = sorted(row for _id, row, lost in result if lost)
            linked.extend(employee_id for employee_id, _row, _lost in result)
        else:
            missing, ids = _link_with_the_orm(chunk)
            linked.extend(ids)
        if missing:
            raise ImportRefused(
                _("The manager named on row %(row)s could not be imported; nothing was changed.") % {"row": missing[0]}
            )
    _refuse_circles(linked)
    return linked


def _link_with_the_orm(chunk: list[Link]) -> tuple[list[int], list[int]]:
    emails = {c[1] for c in chunk} | {c[3] for c in chunk if c[3]}
    id_of = dict(
        Employee.objects.annotate(email_ci=Lower("email")).filter(email_ci__in=emails).values_list("email_ci", "id")
    )
    missing = [c[0] for c in chunk if c[3] and c[3] not in id_of]
    people = [
        Employee(id=id_of[email], manager_employee_id=manager_id or id_of.get(manager_email or ""), manager=name)
        for _row, email, manager_id, manager_email, name in chunk
        if email in id_of
    ]
    Employee.objects.bulk_update(people, ["manager_employee", "manager"], batch_size=500)
    return missing, [p.id for p in people]


def _refuse_circles(ids: list[int]) -> None:
    """The safety net: after linking, no chain above a linked person may come back to them.

    One query for the directory's links, then a walk in memory that visits each person once.
    """
    if not ids:
        return
    up = dict(
        Employee.objects.filter(manager_employee__isnull=False)
        .values_list("id", "manager_employee_id")
        .iterator(chunk_size=20_000)
    )
    state: dict[int, int] = {}  # 1: on the current walk, 2: known to end
    for start in ids:
        walk = []
        node: int | None = start
        while node is not None and node not in state:
            state[node] = 1
            walk.append(node)
            node = up.get(node)
        if node is not None and state[node] == 1:
            raise ImportRefused(_("The managers in the file would go round in a circle; nothing was changed."))
        for member in walk:
            state[member] = 2


def reserve_ids(count: int) -> list[int]:
    """`count` ids from the employee table's sequence (PostgreSQL), so that new people can be written with their
    manager's id in the same COPY instead of being updated afterwards."""
    if not count:
        return []
    table = Employee._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
        return [row[0] for row in cursor.fetchall()]


def refuse_missing(ids: set[int]) -> None:
    """The safety net of reserved ids: every manager a new person was written with must exist now."""
    if ids and Employee.objects.filter(id__in=ids).count() != len(ids):
        raise ImportRefused(_("A manager named in the file could not be imported; nothing was changed."))


def refuse_circles(ids: list[int]) -> None:
    """Refuse the import when a chain above one of `ids` comes back to it (see _refuse_circles)."""
    _refuse_circles(ids)
