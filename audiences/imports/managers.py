"""Who manages whom, from an HR export's manager column (the manager's employee ID or email).

The whole file is read once before anything is written, so every report can name a manager
further down the file, and every row that names an unknown person, names itself, or closes a
circle (A → B → A, also through people already in the directory) is rejected with its reason
before the import writes anything. That first read keeps a few strings per row and arrays of
numbers, never the rows. On PostgreSQL a new person is written with their manager's id in the
same COPY (the new managers' ids are reserved from the sequence first); other links are written
after the people, in one statement per chunk, keyed by email (unique in the directory).
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left
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
NO_MANAGER = 0  # the token of a row whose manager cell is blank: the person has no manager


class ExistingPeople(Protocol):
    ids: array  # by position, ascending
    numbers: list[str | None]
    emails: list[str]  # lower case
    manager_ids: array  # the stored manager's id by position, 0 for none
    by_number: dict[str, int]
    by_email: dict[str, int]


NEW_MANAGER = -1  # the token of a manager who arrives with this file


@dataclass
class ManagerPlan:
    """Per row of the file: why it is rejected, or what its manager resolves to.

    A token is what the import compares with the stored `manager_employee_id`: the manager's
    id when they are in the directory already, NEW_MANAGER when they arrive with this file,
    NO_MANAGER for none. The plan is held in arrays by the row's place in the file (a few
    bytes per row), not in objects per row.
    """

    rejections: dict[int, str] = field(default_factory=dict)
    # The file's row numbers, ascending; every other array is by place in this one.
    row_numbers: array = field(default_factory=lambda: array("q"))
    # 1 where the row's email was found valid (the row's own check need not look at it again).
    valid_emails: bytearray = field(default_factory=bytearray)
    # The manager as a node: a position in the existing people (< `existing_count`), `existing_count` + the
    # manager's place in the file when new with this file, -1 for no manager.
    manager_nodes: array = field(default_factory=lambda: array("q"))
    # The place in the file of a manager who is in the file too, -1 if not.
    manager_places: array = field(default_factory=lambda: array("q"))
    # Places in the file of the people new to the directory whom other rows name as their manager: their ids are
    # reserved before writing, so that their reports are written with them.
    new_manager_places: array = field(default_factory=lambda: array("q"))
    existing_count: int = 0
    ids: array = field(default_factory=lambda: array("q"))
    # The lower-case email of each manager new with this file, by their place in the file.
    manager_emails: dict[int, str] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)  # of the managers, by node

    def place(self, row: int) -> int:
        """The place in the file of `row` (a row the plan read)."""
        return bisect_left(self.row_numbers, row)

    def token(self, place: int) -> int:
        """What the manager of the row at `place` compares as."""
        node = self.manager_nodes[place]
        if node < 0:
            return NO_MANAGER
        return self.ids[node] if node < self.existing_count else NEW_MANAGER

    def target(self, place: int) -> tuple[int | None, str | None]:
        """The manager as (id, None) when in the directory already, (None, email in lower case) when new with
        this file, or (None, None) for no manager."""
        node = self.manager_nodes[place]
        if node < 0:
            return None, None
        if node < self.existing_count:
            return self.ids[node], None
        return None, self.manager_emails[node - self.existing_count]

    def name(self, place: int) -> str:
        """The manager's name as the file (or else the directory) has it."""
        manager_place = self.manager_places[place]
        if manager_place >= 0:
            return self.names.get(self.existing_count + manager_place, "")
        node = self.manager_nodes[place]
        return self.names.get(node, "") if node >= 0 else ""

    def manager_place(self, place: int) -> int:
        """The place in the file of the manager when they are in the file too, -1 if not."""
        return self.manager_places[place]


def manager_token(manager_employee_id: int | None) -> int:
    """The token a stored manager compares as."""
    return NO_MANAGER if manager_employee_id is None else manager_employee_id


def plan_managers(
    rows: Iterable[tuple[int, list[str]]],
    *,
    at: dict[str, int],
    existing: ExistingPeople,
) -> ManagerPlan:
    """Resolve every row's manager cell against the file and the directory, and reject what cannot stand.

    `at` gives the column index of "email", "manager" and, when mapped, "employee_number",
    "first_name" and "last_name". Only a few strings per row are kept (and the names, interned).
    """
    plan = ManagerPlan(existing_count=len(existing.ids), ids=existing.ids)
    count = plan.existing_count
    row_numbers, emails, valid, numbers, refs, firsts, lasts = _read(rows, at)
    plan.row_numbers, plan.valid_emails = row_numbers, valid
    size = len(row_numbers)
    file_by_email: dict[str, int] = {}
    file_by_number: dict[str, int] = {}
    # Rows the import itself will refuse (no or a bad email, a second row for the same person): their
    # person is not created, so a report that names them has no manager to point at.
    refused = bytearray(size)
    refused_by_key: dict[str, int] = {}
    for place in range(size):
        email, number = emails[place], numbers[place]
        duplicate = email in file_by_email or (number and number in file_by_number)
        if not valid[place] or duplicate:
            refused[place] = 1
            if not duplicate:
                for key in (email, number):
                    if key:
                        refused_by_key.setdefault(key, row_numbers[place])
            continue
        file_by_email[email] = place
        if number:
            file_by_number[number] = place

    # Each row's own node: their position in the directory, or `count` + their place in the file.
    by_number, by_email = existing.by_number, existing.by_email
    nodes = array("q", range(count, count + size))
    if count:
        for place in range(size):
            number = numbers[place]
            position = by_number.get(number) if number else None
            if position is None:
                position = by_email.get(emails[place])
            if position is not None:
                nodes[place] = position

    named = array("q", [-1]) * size  # the manager each accepted row names, as a node, or -1
    manager_places = array("q", [-1]) * size
    rejections = plan.rejections
    for place in range(size):
        ref = refs[place]
        if refused[place] or not ref:
            continue
        row = row_numbers[place]
        by_email_ref = "@" in ref
        key = ref.lower() if by_email_ref else ref
        in_file = file_by_email.get(key) if by_email_ref else file_by_number.get(key)
        if in_file is not None:
            target = nodes[in_file]
            manager_places[place] = in_file
        else:
            position = by_email.get(key) if by_email_ref else by_number.get(key)
            if position is None and key in refused_by_key:
                reason = _("The manager's own row (row %(row)s) was rejected.")
                rejections[row] = reason % {"row": refused_by_key[key]}
                continue
            if position is None:
                reason = _("The manager %(manager)s is neither in the file nor in the directory.")
                rejections[row] = reason % {"manager": ref}
                continue
            target = position
        if target == nodes[place]:
            rejections[row] = _("A person cannot be their own manager.")
            continue
        named[place] = target

    stored = _stored_managers(existing)
    graph = _Graph(plan, nodes, named, refused, stored, numbers, emails, existing)
    for _round in range(8):  # a rejected row falls back to its stored manager, which can close another circle
        changed = graph.reject_circles()
        changed |= _reject_missing_managers(plan, named, refused)
        if not changed:
            break

    # Keep the names of the managers only: from the file when they are in it, else from the directory.
    in_directory: set[int] = set()
    for place in range(size):
        if refused[place] or row_numbers[place] in rejections:
            named[place] = -1
            continue
        manager_place = manager_places[place]
        if manager_place >= 0:
            name = f"{firsts[manager_place]} {lasts[manager_place]}".strip()
            node = count + manager_place
            if nodes[manager_place] >= count:
                plan.manager_emails[manager_place] = emails[manager_place]
            if name or nodes[manager_place] >= count:
                plan.names[node] = name or emails[manager_place]
            else:
                in_directory.add(nodes[manager_place])
                manager_places[place] = -1  # nameless in the file: the directory's name stands
        elif named[place] >= 0:
            in_directory.add(named[place])
    plan.names.update(_stored_names(in_directory, existing.ids))
    plan.new_manager_places = array("q", sorted(plan.manager_emails))
    plan.manager_nodes = named
    plan.manager_places = manager_places
    return plan


def _read(
    rows: Iterable[tuple[int, list[str]]], at: dict[str, int]
) -> tuple[array, list[str], bytearray, list[str], list[str], list[str], list[str]]:
    """The row numbers, then per row its lower-case email, whether that email is valid, employee ID, manager
    cell, first and last name.

    The rows may come unstripped (iter_rows with `strip` off): only these cells are stripped."""
    width = 1 + max(at.values())
    row_numbers = array("q")
    emails: list[str] = []
    valid = bytearray()
    numbers: list[str] = []
    refs: list[str] = []
    firsts: list[str] = []
    lasts: list[str] = []
    at_email, at_ref = at["email"], at["manager"]
    at_number, at_first, at_last = at.get("employee_number"), at.get("first_name"), at.get("last_name")
    intern = sys.intern  # managers' IDs and first and last names repeat: one string each
    for row, cells in rows:
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        row_numbers.append(row)
        email = cells[at_email].strip()
        emails.append(email.lower())
        valid.append(bool(email) and valid_email(email))  # as the row's own check has it (same text)
        numbers.append(cells[at_number].strip() if at_number is not None else "")
        refs.append(intern(cells[at_ref].strip()))
        firsts.append(intern(cells[at_first].strip()) if at_first is not None else "")
        lasts.append(intern(cells[at_last].strip()) if at_last is not None else "")
    return row_numbers, emails, valid, numbers, refs, firsts, lasts


def _stored_managers(existing: ExistingPeople) -> array:
    """Who manages whom in the directory now, as positions in the existing people (-1 for none)."""
    ids = existing.ids
    stored = array("q", [-1]) * len(ids)
    for position, manager_id in enumerate(existing.manager_ids):
        if manager_id:
            manager = bisect_left(ids, manager_id)
            if manager < len(ids) and ids[manager] == manager_id:
                stored[position] = manager
    return stored


def _stored_names(positions: set[int], ids: array) -> dict[int, str]:
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


class _Graph:
    """The graph after the import: the directory's links, overlaid by the file's accepted rows, as arrays of
    nodes (a node is a position in the directory, or the existing count + a place in the file)."""

    def __init__(self, plan: ManagerPlan, nodes, named, refused, stored, numbers, emails, existing: ExistingPeople):
        self.plan, self.nodes, self.named, self.refused = plan, nodes, named, refused
        self.stored, self.numbers, self.emails, self.existing = stored, numbers, emails, existing

    def reject_circles(self) -> bool:
        """Reject the rows whose manager chain comes back to them; True when any was rejected."""
        plan, nodes, named = self.plan, self.nodes, self.named
        size = len(nodes)
        up = self.stored + array("q", [-1]) * size
        place_of = array("q", [-1]) * len(up)
        rejections, row_numbers = plan.rejections, plan.row_numbers
        starts = []
        for place in range(size):
            if self.refused[place] or row_numbers[place] in rejections:
                continue
            node = nodes[place]
            up[node] = named[place]
            place_of[node] = place
            starts.append(node)
        state = bytearray(len(up))  # 1: on the current walk, 2: known to end
        rejected = False
        for start in starts:
            walk: list[int] = []
            node = start
            while node >= 0 and not state[node]:
                state[node] = 1
                walk.append(node)
                node = up[node]
            if node >= 0 and state[node] == 1:  # the walk met itself: a circle from `node`
                circle = walk[walk.index(node) :]
                labels = " → ".join(self._label(n, place_of) for n in [*circle, node])
                for member in circle:
                    place = place_of[member]
                    if place >= 0 and row_numbers[place] not in rejections:
                        reason = _("The managers go round in a circle: %(chain)s.")
                        rejections[row_numbers[place]] = reason % {"chain": labels}
                        rejected = True
            for member in walk:
                state[member] = 2
        return rejected

    def _label(self, node: int, place_of: array) -> str:
        place = place_of[node]
        if place < 0 and node >= self.plan.existing_count:
            place = node - self.plan.existing_count
        if place >= 0:
            return self.numbers[place] or self.emails[place]
        return self.existing.numbers[node] or self.existing.emails[node]


def _reject_missing_managers(plan: ManagerPlan, named: array, refused: bytearray) -> bool:
    """Reject the rows whose manager is new with this file but whose own row was rejected."""
    rejected = False
    rejections, row_numbers, count = plan.rejections, plan.row_numbers, plan.existing_count
    for place, target in enumerate(named):
        if target < count or refused[place] or row_numbers[place] in rejections:
            continue
        manager_row = row_numbers[target - count]
        if manager_row in rejections:
            reason = _("The manager's own row (row %(row)s) was rejected.")
            rejections[row_numbers[place]] = reason % {"row": manager_row}
            rejected = True
    return rejected


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


def _refuse_circles(ids: Iterable[int]) -> None:
    """The safety net: after linking, no chain above a linked person may come back to them.

    One query for the links above them (on PostgreSQL the chains above `ids` only, in one recursive
    statement; elsewhere the directory's links), then a walk in memory that visits each person once.
    """
    ids = list(ids)
    if not ids:
        return
    up = dict(_links_above(ids))
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


def _links_above(ids: list[int]) -> Iterator[tuple[int, int]]:
    """(id, manager id) of `ids` and of everyone above them (UNION, not UNION ALL: a circle ends the recursion)."""
    if connection.vendor != "postgresql":
        yield from (
            Employee.objects.filter(manager_employee__isnull=False)
            .values_list("id", "manager_employee_id")
            .iterator(chunk_size=20_000)
        )
        return
    table = Employee._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE up(id, manager_id) AS ("  # noqa: S608 - the table name from the model
            f" SELECT id, manager_employee_id FROM {table} WHERE id = ANY(%s)"
            f" UNION SELECT e.id, e.manager_employee_id FROM {table} AS e JOIN up ON e.id = up.manager_id"
            f") SELECT id, manager_id FROM up WHERE manager_id IS NOT NULL",
            [ids],
        )
        yield from cursor.fetchall()


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
