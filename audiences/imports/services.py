"""The directory import's writes: plan and apply an HR export, record it, run it inline or in the background.

Existing employees are held in arrays (a few bytes each besides their ID and email) with a
fingerprint of their imported fields, so a 100 000-row export fits in little memory and an
unchanged re-import writes nothing.

Flow: `directory_import_create` (upload, detect) → `directory_import_preview` (mapping,
dry run) → `directory_import_start` (inline, or the Celery task for big files) →
`directory_import_apply` (one transaction). `directory_import_plan` and
`directory_import_run` do the same without a DirectoryImport record (command line, demo).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import logging
import operator
import os
import threading
import uuid
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files import File
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audiences.models import DirectoryImport, Employee, EmployeeChange
from lib.spreadsheets import neutralise
from lib.tasks import task_queue_on_commit

from .detection import Detected, Source, directory_import_detect, iter_rows, open_binary, source_name
from .errors import ImportRefused
from .managers import (
    NO_MANAGER,
    ManagerPlan,
    link_managers,
    manager_token,
    plan_managers,
    refuse_circles,
    refuse_missing,
    reserve_ids,
)
from .mapping import FIELDS, Columns, compile_mapping, guess_mapping
from .validation import (
    DEFAULT_LANGUAGE,
    field_label,
    normalise_language,
    normalise_time_zone,
    row_problem,
    time_zone_problem,
)

logger = logging.getLogger(__name__)

# The task that applies a big import, by the name it is registered under (audiences/imports/tasks.py).
RUN_TASK = "audiences.tasks.run_directory_import"
CHUNK_ROWS = 2000
PROGRESS_EVERY_ROWS = 5000
SAMPLE_LIMIT = 200
MAX_ROW_ERRORS = 10_000


@dataclass
class ImportResult:
    """What an import did (or, as a plan, would do): counts, samples for the preview, rejected rows."""

    total_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    rejected: int = 0
    # Samples of at most SAMPLE_LIMIT each, for the preview tables.
    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    deactivated_people: list[dict[str, Any]] = field(default_factory=list)
    # [{"row": 12, "email": "...", "employee_number": "...", "reason": "..."}], at most MAX_ROW_ERRORS.
    row_errors: list[dict[str, Any]] = field(default_factory=list)

    def summary_line(self) -> str:
        return (
            f"created={self.created} updated={self.updated} unchanged={self.unchanged} "
            f"deactivated={self.deactivated} rejected={self.rejected}"
        )


class _Existing:
    """Existing employees in arrays by position (ordered by id): id, employee number, lower-case email,
    is_active, a fingerprint of their imported fields and, with a manager column, their manager's id.

    The fingerprint hashes exactly the fields this file maps, so an unchanged row is
    recognised without loading the employee; a few bytes per person besides the two keys.
    """

    def __init__(self, columns: Columns):
        self.ids = array("q")
        self.numbers: list[str | None] = []
        self.emails: list[str] = []
        self.active = bytearray()
        self.fingerprints = array("q")
        self.by_number: dict[str, int] = {}
        self.by_email: dict[str, int] = {}
        # Per position, the stored manager's id, 0 for none (only when the file has a manager column).
        self.manager_ids = array("q")
        extra_keys = [key for _, key in columns.extra]
        # The manager compares as their id (see managers.py), whatever the file's cell names them by.
        names = ["id", "is_active", *("manager_employee_id" if f == "manager" else f for f in columns.fields)]
        manager_at = 2 + columns.fields.index("manager") if "manager" in columns.fields else None
        if "employee_number" not in columns.fields:
            names.append("employee_number")
        if extra_keys:
            names.append("extra")
        end = 2 + len(columns.fields)
        at_number = names.index("employee_number")
        at_email = names.index("email")
        # Plain rows from a server-side cursor: no model instances, no per-row ORM work; by id, not by name
        # (no collation sort), so that a position is found from an id by bisection.
        query = Employee.objects.filter(erased_at__isnull=True).order_by("id").values_list(*names)
        sql, params = query.query.sql_with_params()
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while chunk := cursor.fetchmany(20_000):
                for values in chunk:
                    compared = values[2:end]
                    if manager_at is not None:
                        manager_id = values[manager_at] or NO_MANAGER
                        self.manager_ids.append(manager_id)
                        compared = (*compared[: manager_at - 2], manager_id, *compared[manager_at - 1 :])
                    if extra_keys:
                        extra = values[-1]
                        extra = (json.loads(extra) if isinstance(extra, str) else extra) or {}
                        compared = (*compared, *(extra.get(k) for k in extra_keys))
                    position = len(self.ids)
                    number, email = values[at_number], values[at_email].lower()
                    self.ids.append(values[0])
                    self.numbers.append(number)
                    self.emails.append(email)
                    self.active.append(bool(values[1]))
                    self.fingerprints.append(hash(compared))
                    if number:
                        self.by_number[number] = position
                    self.by_email[email] = position

    def __len__(self) -> int:
        return len(self.ids)


def existing_token(existing: _Existing, position: int, manager_at: int | None) -> int | None:
    """The stored manager token of an existing person, or None when it was not loaded (no manager column)."""
    return existing.manager_ids[position] if manager_at is not None else None


def _record_rejection(result: ImportResult, row: int, email: str, number: str, reason: str) -> None:
    result.rejected += 1
    if len(result.row_errors) < MAX_ROW_ERRORS:
        result.row_errors.append({"row": row, "email": email, "employee_number": number, "reason": reason})


def _person(values: dict[str, Any]) -> dict[str, str]:
    return {
        "email": values.get("email", ""),
        "name": f"{values.get('first_name', '')} {values.get('last_name', '')}".strip(),
        "employee_number": values.get("employee_number") or "",
        "department": values.get("department", ""),
    }


_COPY_COLUMNS = (*FIELDS, "extra", "is_active", "created_at", "updated_at", "manager_employee_id")
_COPY_DEFAULTS = tuple({"employee_number": None, "language": DEFAULT_LANGUAGE}.get(name, "") for name in FIELDS)


def _copy_row(values: dict[str, Any], now: dt.datetime) -> tuple:
    extra = values["extra"]
    return (
        *map(values.get, FIELDS, _COPY_DEFAULTS),
        json.dumps(extra) if extra else "{}",
        True,
        now,
        now,
        values.get("_manager_id"),  # or linked afterwards (link_managers)
    )


class _NewPeople:
    """Writes new employees. On PostgreSQL through one COPY kept open from chunk to chunk, so that the server
    stores the rows sent while the next ones are read and checked (a COPY finished per chunk leaves the server
    idle meanwhile); `pause` finishes it before any other statement. The new managers, written with their
    reserved ids, are kept for a COPY of their own at the end (the foreign keys are checked at commit)."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self.postgresql = connection.vendor == "postgresql"
        self.stack = contextlib.ExitStack()
        self.copy: Any = None
        self.with_ids: list[dict[str, Any]] = []

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not self.postgresql:
            Employee.objects.bulk_create(
                [
                    Employee(
                        **{k: v for k, v in values.items() if not k.startswith("_")},
                        created_at=self.now,
                        updated_at=self.now,
                    )
                    for values in rows
                ],
                batch_size=1000,
            )
            return
        now = self.now
        write_row = None
        for values in rows:
            if "_id" in values:
                self.with_ids.append(values)
                continue
            if write_row is None:
                write_row = self._copy(_COPY_COLUMNS).write_row
            write_row(_copy_row(values, now))

    def _copy(self, columns: tuple[str, ...]) -> Any:
        if self.copy is None:
            cursor = self.stack.enter_context(connection.cursor())
            sql = f"COPY {Employee._meta.db_table} ({', '.join(columns)}) FROM STDIN"
            self.copy = self.stack.enter_context(cursor.cursor.copy(sql))
        return self.copy

    def pause(self) -> None:
        """Finish the open COPY, if any (the connection is then free for other statements)."""
        self.copy = None
        self.stack.close()

    def close(self) -> None:
        """Write what is left: the new managers, with their ids."""
        self.pause()
        if self.with_ids:
            copy = self._copy((*_COPY_COLUMNS, "id"))
            for values in self.with_ids:
                copy.write_row((*_copy_row(values, self.now), values["_id"]))
            self.with_ids = []
            self.pause()

    def abort(self, error: BaseException) -> None:
        """End an open COPY after a failure, so that the transaction can roll back."""
        self.copy = None
        self.stack.__exit__(type(error), error, error.__traceback__)


class _Engine:
    """One pass over the rows: validate, match, and (when writing) create and update in chunks."""

    def __init__(
        self,
        *,
        columns: Columns,
        deactivate_missing: bool,
        write: bool,
        progress: Callable[[int], None] | None,
        directory_import_id: int | None = None,
    ):
        self.columns = columns
        self.directory_import_id = directory_import_id
        self.field_indexes = tuple(zip(columns.fields, columns.indexes, strict=True))
        compared_indexes = (*columns.indexes, *(i for i, _key in columns.extra))
        self.getter = (
            operator.itemgetter(*compared_indexes)
            if len(compared_indexes) > 1
            else lambda cells: (cells[compared_indexes[0]],)  # itemgetter of one index returns no tuple
        )
        self.email_at = columns.fields.index("email")
        self.number_at = columns.fields.index("employee_number") if "employee_number" in columns.fields else None
        self.width = 1 + max((*columns.indexes, *(i for i, _key in columns.extra)))
        self.deactivate_missing = deactivate_missing
        self.write = write
        self.progress = progress
        self.result = ImportResult()
        self.existing = _Existing(columns)
        # Per existing employee: the row that named them (negative when that row was rejected), 0 if none.
        self.seen_at = array("l", [0]) * len(self.existing)
        # Employee IDs and emails this file brings that no existing employee holds yet.
        self.new_numbers: dict[str, int] = {}
        self.new_emails: dict[str, int] = {}
        self.to_create: list[dict[str, Any]] = []
        self.to_update: list[tuple[int, dict[str, Any]]] = []
        self.now = timezone.now()
        self.new_people = _NewPeople(self.now)
        # What each spelling in the language and time zone columns means (a column holds a handful of them).
        self.languages: dict[str, str] = {}
        self.time_zones: dict[str, str | None] = {}
        # Set by `plan_managers` when the file has a manager column: each row's manager, or why it is rejected.
        self.managers: ManagerPlan | None = None
        self.manager_at = columns.fields.index("manager") if "manager" in columns.fields else None
        self.links: list[tuple[int, str, int | None, str | None, str]] = []
        # PostgreSQL: new people are written with their manager's id in the COPY; the ids of the new managers
        # are reserved for that before writing (by place in the file, 0 for none).
        self.manager_in_copy = write and connection.vendor == "postgresql"
        self.reserved = array("q")
        # The managers new people were written with, and the new managers written (where a circle could start).
        self.written_managers: set[int] = set()
        self.written_new_managers = array("q")

    def plan_managers(self, rows: Iterator[tuple[int, list[str]]]) -> None:
        """Read the file's manager column before anything is written (see managers.py)."""
        names = ("email", "manager", "employee_number", "first_name", "last_name")
        at = {name: i for name, i in self.field_indexes if name in names}
        self.managers = plan_managers(rows, at=at, existing=self.existing)
        if self.manager_in_copy:
            new_places = self.managers.new_manager_places
            self.reserved = array("q", bytes(8 * len(self.managers.row_numbers)))
            for place, employee_id in zip(new_places, reserve_ids(len(new_places)), strict=True):
                self.reserved[place] = employee_id

    def run(self, rows: Iterator[tuple[int, list[str]]]) -> ImportResult:
        result = self.result
        try:
            for number, cells in rows:
                result.total_rows += 1
                self._row(number, cells)
                if len(self.to_create) + len(self.to_update) >= CHUNK_ROWS:
                    self._flush()
                if self.progress and result.total_rows % PROGRESS_EVERY_ROWS == 0:
                    self.progress(result.total_rows)
            self._flush()
            self.new_people.close()
        except BaseException as error:
            self.new_people.abort(error)
            raise
        if result.total_rows == 0:
            raise ImportRefused(_("The file has no rows below the header."))
        if self.write and self.links:
            link_managers(self.links)
        if self.write and self.written_managers:
            refuse_missing(self.written_managers)
            # A circle through a link written in the COPY goes through a new person whom another row names as
            # manager: a new manager, whose id was reserved (links to existing people are checked when linked).
            refuse_circles(self.written_new_managers)
        if self.write and result.created:
            self._history_of_created()
        if self.deactivate_missing:
            if result.created + result.updated + result.unchanged == 0:
                raise ImportRefused(_("No row in the file could be imported, so nobody was deactivated."))
            self._deactivate_missing()
        return result

    def _row(self, row: int, cells: list[str]) -> None:
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        if not self.existing.ids:  # nobody to be unchanged: a first import
            return self._check_row(row, cells)
        compared = self.getter(cells)  # the mapped fields, then the extra columns, as the fingerprint has them
        if self.managers is not None:
            if row in self.managers.rejections:
                return self._check_row(row, cells)
            at = self.manager_at
            compared = (*compared[:at], self.managers.token(self.managers.place(row)), *compared[at + 1 :])
        # The fast path of a re-import: a known, active person whose values hash to the stored ones is unchanged.
        # Equal values mean the same email and ID as stored, so no other check can fail for this row.
        number = compared[self.number_at] if self.number_at is not None else ""
        key = compared[self.email_at].lower()
        existing = self.existing
        position = existing.by_number.get(number) if number else existing.by_email.get(key)
        if position is not None and not self.seen_at[position]:
            if (
                existing.active[position]
                and existing.emails[position] == key
                and hash(compared) == existing.fingerprints[position]
            ):
                self.seen_at[position] = row
                self.result.unchanged += 1
                return None
        return self._check_row(row, cells)

    def _check_row(self, row: int, cells: list[str]) -> None:
        columns, existing = self.columns, self.existing
        values: dict[str, Any] = {name: cells[i] for name, i in self.field_indexes}
        email = values["email"]
        number = values.get("employee_number", "")
        key = email.lower()
        managers = self.managers
        if managers is not None:
            if row in managers.rejections:
                return self._reject(row, values, managers.rejections[row])
            place = managers.place(row)
            values["manager"] = managers.token(place)  # compared as the fingerprint has it

        position = existing.by_number.get(number) if number else None
        email_owner = existing.by_email.get(key) if email else None
        if position is None and email_owner is not None:
            owner_number = existing.numbers[email_owner]
            if number and owner_number and owner_number != number:
                reason = _("%(email)s already belongs to employee ID %(number)s.")
                return self._reject(row, values, reason % {"email": email, "number": owner_number})
            position = email_owner
        elif position is not None and email_owner is not None and email_owner != position:
            reason = _("%(email)s already belongs to another employee (%(number)s).")
            return self._reject(
                row, values, reason % {"email": email, "number": existing.numbers[email_owner] or "-"}, position
            )
        if position is not None and self.seen_at[position] > 0:
            reason = _("The same person appears twice in the file (also on row %(row)s).")
            return self._reject(row, values, reason % {"row": self.seen_at[position]})
        if number and number in self.new_numbers:
            reason = _("Employee ID %(number)s appears twice in the file (also on row %(row)s).")
            return self._reject(row, values, reason % {"number": number, "row": self.new_numbers[number]}, position)
        if email and key in self.new_emails:
            reason = _("%(email)s appears twice in the file (also on row %(row)s).")
            return self._reject(row, values, reason % {"email": email, "row": self.new_emails[key]}, position)

        if "language" in values:
            text = values["language"]
            if (language := self.languages.get(text)) is None:
                language = self.languages[text] = normalise_language(text)
            values["language"] = language
        if "time_zone" in values:
            text = values["time_zone"]
            if (zone := self.time_zones.get(text, False)) is False:
                zone = self.time_zones[text] = normalise_time_zone(text)
            if zone is None:
                return self._reject(row, values, time_zone_problem(values["time_zone"]), position)
            values["time_zone"] = zone
        extra = {key_: cells[i] for i, key_ in columns.extra}
        if position is not None:
            employee_id, old_number, old_email = (
                existing.ids[position],
                existing.numbers[position],
                existing.emails[position],
            )
            if "employee_number" in values and not number:
                values["employee_number"] = old_number  # a blank cell never erases a known ID
            if (
                existing.active[position]
                and hash((*values.values(), *extra.values())) == existing.fingerprints[position]
            ):
                # Unchanged: the values are the stored ones, valid already. The fast path of a re-import.
                self.seen_at[position] = row
                self.result.unchanged += 1
                return None

        email_checked = managers is not None and bool(managers.valid_emails[place])
        if problem := row_problem(values, cells, email_checked=email_checked):
            return self._reject(row, values, problem, position)

        if managers is not None:
            token = values["manager"]
            values["manager"] = managers.name(place)
            values["_manager_token"] = token
            manager_id, manager_email = managers.target(place)
            if position is None and self.manager_in_copy:
                # Written with its manager's id in the COPY (and its own, reserved, when it manages others).
                if manager_email is not None:
                    manager_place = managers.manager_place(place)
                    manager_id = self.reserved[manager_place] or None if manager_place >= 0 else None
                if manager_id is not None or manager_email is None:
                    values["_manager_id"] = manager_id
                    if manager_id is not None:
                        self.written_managers.add(manager_id)
                    if reserved_id := self.reserved[place]:
                        values["_id"] = reserved_id
                        self.written_new_managers.append(reserved_id)
            if "_manager_id" not in values and (
                position is None or token != existing_token(existing, position, self.manager_at)
            ):
                self.links.append((row, key, manager_id, manager_email, values["manager"]))

        if position is None:
            if "employee_number" in values and not number:
                values["employee_number"] = None
            values["extra"], values["_row"] = extra, row
            self.to_create.append(values)
        else:
            self.seen_at[position] = row
            values["extra"], values["_row"] = extra, row
            self.to_update.append((employee_id, values))
        if number and (position is None or number != old_number):
            self.new_numbers[number] = row
        if position is None or key != old_email:
            self.new_emails[key] = row
        return None

    def _reject(self, row: int, values: dict[str, Any], reason: str, position: int | None = None) -> None:
        if position is None and values.get("employee_number"):
            position = self.existing.by_number.get(values["employee_number"])
        if position is not None and self.seen_at[position] == 0:
            self.seen_at[position] = -row  # never deactivate a person a rejected row still names
        _record_rejection(self.result, row, values["email"], values.get("employee_number") or "", reason)

    def _flush(self) -> None:
        result = self.result
        if self.to_create:
            result.created += len(self.to_create)
            for values in self.to_create[: max(0, SAMPLE_LIMIT - len(result.new))]:
                result.new.append({**_person(values), "row": values["_row"]})
            if self.write:
                self.new_people.write(self.to_create)
            self.to_create = []
        if self.to_update:
            self.new_people.pause()
            updates = dict(self.to_update)
            employees = Employee.objects.filter(id__in=updates.keys())
            changed_fields: set[str] = set()
            history: list[EmployeeChange] = []
            for employee in employees:
                values = updates[employee.id]
                changes = self._changes(employee, values)
                if not changes:  # a hash collision, in theory
                    result.unchanged += 1
                    continue
                result.updated += 1
                if len(result.changed) < SAMPLE_LIMIT:
                    result.changed.append({**_person(values), "row": values["_row"], "changes": changes})
                changed_fields.update("extra" if c["field"].startswith("extra:") else c["field"] for c in changes)
                history.append(self._change(employee, changes))
                for name in self.columns.fields:
                    setattr(employee, name, values[name])
                employee.extra = {**(employee.extra or {}), **values["extra"]}
                employee.is_active = True
                employee.updated_at = self.now
            if self.write and changed_fields:
                changed = [e for e in employees if e.updated_at == self.now]
                Employee.objects.bulk_update(changed, [*sorted(changed_fields), "updated_at"], batch_size=500)
                EmployeeChange.objects.bulk_create(history, batch_size=1000)
            self.to_update = []

    def _changes(self, employee: Employee, values: dict[str, Any]) -> list[dict[str, Any]]:
        changes = []
        for name in self.columns.fields:
            old, new = getattr(employee, name), values[name]
            if name == "manager" and manager_token(employee.manager_employee_id) != values["_manager_token"]:
                changes.append({"field": name, "label": field_label(name), "old": old or "", "new": new or ""})
            elif (old or "") != (new or ""):
                changes.append({"field": name, "label": field_label(name), "old": old or "", "new": new or ""})
        old_extra = employee.extra or {}
        for key, new in values["extra"].items():
            if old_extra.get(key) != new:
                changes.append({"field": f"extra:{key}", "label": key, "old": old_extra.get(key, ""), "new": new})
        if not employee.is_active:
            changes.append({"field": "is_active", "label": field_label("is_active"), "old": _("no"), "new": _("yes")})
        return changes

    def _deactivate_missing(self) -> None:
        seen_at = self.seen_at
        existing = self.existing
        ids = [existing.ids[p] for p in range(len(existing)) if existing.active[p] and not seen_at[p]]
        self.result.deactivated = len(ids)
        sample = Employee.objects.filter(id__in=ids[:SAMPLE_LIMIT]).values(
            "email", "first_name", "last_name", "employee_number", "department"
        )
        self.result.deactivated_people = [_person(values) for values in sample]
        if self.write:
            for start in range(0, len(ids), 5000):
                chunk = ids[start : start + 5000]
                Employee.objects.filter(id__in=chunk).update(is_active=False, updated_at=self.now)
                EmployeeChange.objects.bulk_create(
                    [
                        self._change_row(employee_id, EmployeeChange.Action.DEACTIVATED, ["is_active"])
                        for employee_id in chunk
                    ],
                    batch_size=1000,
                )

    # The directory's history, person by person (the names of the fields changed, never their values)

    def _change_row(self, employee_id: int, action: str, fields: list[str]) -> EmployeeChange:
        return EmployeeChange(
            employee_id=employee_id,
            source=EmployeeChange.Source.CSV,
            action=action,
            fields=fields,
            directory_import_id=self.directory_import_id,
            at=self.now,
        )

    def _change(self, employee: Employee, changes: list[dict[str, Any]]) -> EmployeeChange:
        fields = sorted({"extra" if c["field"].startswith("extra:") else c["field"] for c in changes})
        reactivated = "is_active" in fields
        action = EmployeeChange.Action.REACTIVATED if reactivated else EmployeeChange.Action.UPDATED
        return self._change_row(employee.id, action, fields)

    def _history_of_created(self) -> None:
        """One "created" row per new employee. COPY returns no ids: the new rows are the ones with this
        import's own timestamp, found in one pass (one INSERT … SELECT on PostgreSQL for the whole import)."""
        fields = sorted(set(self.columns.fields) | ({"extra"} if self.columns.extra else set()))
        created = Employee.objects.filter(created_at=self.now)
        if connection.vendor == "postgresql":
            select, params = created.values("id").query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {EmployeeChange._meta.db_table}"  # noqa: S608 - table names from the models
                    " (employee_id, source, action, fields, directory_import_id, at)"
                    f" SELECT id, %s, %s, %s::jsonb, %s, %s FROM ({select}) AS created",
                    [
                        str(EmployeeChange.Source.CSV),
                        str(EmployeeChange.Action.CREATED),
                        json.dumps(fields),
                        self.directory_import_id,
                        self.now,
                        *params,
                    ],
                )
            return
        EmployeeChange.objects.bulk_create(
            [
                self._change_row(employee_id, EmployeeChange.Action.CREATED, fields)
                for employee_id in created.values_list("id", flat=True).iterator()
            ],
            batch_size=2000,
        )


@contextlib.contextmanager
def _without_gc_pauses() -> Iterator[None]:
    """The cyclic collector off while an import runs, on again after it, however it ends.

    An import allocates several objects per row and frees them by reference counting (nothing it builds
    refers back to itself); the collections these allocations trigger walk the growing set of live
    objects again and again: about a third of a re-import's time when measured.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _execute(
    *,
    source: Source,
    detected: Detected,
    mapping: dict[str, str],
    deactivate_missing: bool,
    write: bool,
    progress: Callable[[int], None] | None = None,
    directory_import_id: int | None = None,
) -> ImportResult:
    try:
        columns = compile_mapping(detected.headers, mapping)
        with _without_gc_pauses():
            engine = _Engine(
                columns=columns,
                deactivate_missing=deactivate_missing,
                write=write,
                progress=progress,
                directory_import_id=directory_import_id,
            )
            if "manager" in columns.fields:  # a first pass: every manager is known before a row is written
                with open_binary(source) as f:
                    engine.plan_managers(iter_rows(f, detected, strip=False))
            with open_binary(source) as f:
                return engine.run(iter_rows(f, detected))
    except ImportRefused as refused:
        logger.warning("Directory import refused: %s: %s", source_name(source), refused.message)
        raise


def directory_import_plan(
    *,
    source: Source,
    mapping: dict[str, str] | None = None,
    deactivate_missing: bool = False,
    detected: Detected | None = None,
) -> ImportResult:
    """Dry run: what importing `source` would create, update, leave, deactivate and reject. Writes nothing.

    Raises ImportRefused when the whole file cannot be imported.
    """
    detected = detected or directory_import_detect(source=source)
    mapping = mapping if mapping is not None else guess_mapping(detected.headers)
    return _execute(
        source=source, detected=detected, mapping=mapping, deactivate_missing=deactivate_missing, write=False
    )


def directory_import_run(
    *,
    source: Source,
    mapping: dict[str, str] | None = None,
    deactivate_missing: bool = False,
) -> ImportResult:
    """Import `source` in one transaction without recording a DirectoryImport (scripts, the demo seed)."""
    # The import reads every row right after, within the same bounds: a hostile file is refused then, unwritten.
    detected = directory_import_detect(source=source, read_through=False)
    mapping = mapping if mapping is not None else guess_mapping(detected.headers)
    with transaction.atomic():
        return _execute(
            source=source, detected=detected, mapping=mapping, deactivate_missing=deactivate_missing, write=True
        )


def directory_import_create(*, file: File, by: AbstractBaseUser | None) -> DirectoryImport:
    """Record an uploaded HR export after detecting how to read it, with an automatic column mapping.

    Raises ImportRefused (and writes nothing) when the file cannot be imported at all.
    """
    file_name = os.path.basename(file.name or "import")[:255]
    detected = directory_import_detect(source=file)
    suffix = ".xlsx" if detected.format == "xlsx" else ".csv"
    file.seek(0)
    directory_import = DirectoryImport(
        file_name=file_name,
        uploaded_by=by,
        detected=detected.to_dict(),
        mapping=guess_mapping(detected.headers),
    )
    # A random stored name: the original may hold personal data or odd characters.
    directory_import.file.save(f"{uuid.uuid4().hex}{suffix}", file, save=False)
    directory_import.save()
    return directory_import


def directory_import_preview(
    *, directory_import: DirectoryImport, mapping: dict[str, str], deactivate_missing: bool
) -> ImportResult:
    """Save the chosen mapping and run a dry run; the import is then ready to apply.

    Raises ImportRefused when the mapping or the file cannot be imported; the mapping is kept.
    """
    if directory_import.status not in (DirectoryImport.Status.UPLOADED, DirectoryImport.Status.PREVIEWED):
        raise ImportRefused(_("This import has already been applied."))
    directory_import.mapping = mapping
    directory_import.deactivate_missing = deactivate_missing
    try:
        result = directory_import_plan(
            source=directory_import.file,
            mapping=mapping,
            deactivate_missing=deactivate_missing,
            detected=Detected.from_dict(directory_import.detected),
        )
    except ImportRefused as refused:
        directory_import.status = DirectoryImport.Status.UPLOADED
        directory_import.error = refused.message
        directory_import.save(update_fields=["mapping", "deactivate_missing", "status", "error"])
        raise
    _store_counts(directory_import, result)
    directory_import.status = DirectoryImport.Status.PREVIEWED
    directory_import.error = ""
    directory_import.save()
    return result


def directory_import_claim(*, directory_import: DirectoryImport) -> bool:
    """Move a previewed import to running; False when someone else already did (or it is not ready).

    An import left running by a worker that died is claimed again once it is older than the
    task's hard time limit: its transaction rolled back with the worker, and no live run lasts longer.
    """
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    claimed = (
        DirectoryImport.objects.filter(pk=directory_import.pk)
        .filter(
            Q(status=DirectoryImport.Status.PREVIEWED) | Q(status=DirectoryImport.Status.RUNNING, claimed_at__lt=stale)
        )
        .update(status=DirectoryImport.Status.RUNNING, processed_rows=0, claimed_at=now)
    )
    if claimed:
        directory_import.status = DirectoryImport.Status.RUNNING
        directory_import.processed_rows = 0
    return claimed == 1


def directory_import_start(*, directory_import: DirectoryImport, by: AbstractBaseUser | None) -> bool:
    """Apply a previewed import: inline when small, in the Celery task when it has many rows.

    Returns True when the import runs in the background.
    """
    if directory_import.total_rows > settings.IMPORT_INLINE_MAX_ROWS:
        # By the task's name: this module never imports the task, which imports it. With the broker
        # down the import stays previewed, so applying it again queues it again.
        task_queue_on_commit(RUN_TASK, directory_import.pk)
        logger.info("Directory import %s queued by %s", directory_import.pk, by)
        return True
    if directory_import_claim(directory_import=directory_import):
        with contextlib.suppress(ImportRefused):  # recorded on the import as failed
            directory_import_apply(directory_import=directory_import, by=by)
    return False


def _store_counts(directory_import: DirectoryImport, result: ImportResult) -> None:
    for name in ("total_rows", "created", "updated", "unchanged", "deactivated", "rejected", "row_errors"):
        setattr(directory_import, name, getattr(result, name))


def _report_progress(import_id: int, processed: int) -> None:
    # The import's own transaction is still open, so progress goes through another
    # connection (a short-lived thread has its own). SQLite allows one writer: it waits.
    if connection.vendor != "postgresql":
        return

    def write() -> None:
        try:
            DirectoryImport.objects.filter(pk=import_id).update(processed_rows=processed)
        except DatabaseError:
            logger.warning("Could not record the progress of directory import %s", import_id)
        finally:
            connections.close_all()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    thread.join(timeout=5)


def directory_import_apply(*, directory_import: DirectoryImport, by: AbstractBaseUser | None) -> ImportResult:
    """Apply a claimed (running) import in one transaction and record its outcome.

    On any failure nothing is written, the import is marked failed with the reason, and the
    error is raised again (ImportRefused for a file problem).
    """
    import_id = directory_import.pk
    try:
        with transaction.atomic():
            result = _execute(
                source=directory_import.file,
                detected=Detected.from_dict(directory_import.detected),
                mapping=directory_import.mapping,
                deactivate_missing=directory_import.deactivate_missing,
                write=True,
                progress=lambda n: _report_progress(import_id, n),
                directory_import_id=import_id,
            )
            _store_counts(directory_import, result)
            directory_import.processed_rows = result.total_rows
            directory_import.status = DirectoryImport.Status.DONE
            directory_import.error = ""
            directory_import.finished_at = timezone.now()
            directory_import.save()
    except Exception as exc:
        message = (
            exc.message if isinstance(exc, ImportRefused) else _("The import failed unexpectedly; nothing was changed.")
        )
        logger.exception("Directory import %s failed (applied by %s)", import_id, by)
        DirectoryImport.objects.filter(pk=import_id).update(
            status=DirectoryImport.Status.FAILED, error=message, finished_at=timezone.now()
        )
        directory_import.status, directory_import.error = DirectoryImport.Status.FAILED, message
        raise
    logger.info("Directory import %s applied by %s: %s", import_id, by, result.summary_line())
    return result


def rejected_rows_csv_lines(directory_import: DirectoryImport) -> Iterator[list[str]]:
    """The rejected rows of an import as CSV rows, each value safe to open in a spreadsheet."""
    yield [_("Row"), _("Email"), _("Employee ID"), _("Reason")]
    for error in directory_import.row_errors:
        yield [
            str(error.get("row", "")),
            neutralise(str(error.get("email") or "")),
            neutralise(str(error.get("employee_number") or "")),
            neutralise(str(error.get("reason") or "")),
        ]
