"""The directory import: read an HR export (CSV or XLSX), map its columns, plan and apply it.

Real HR exports are messy, so reading is defensive: the encoding, delimiter, sheet and
header row are detected, never assumed. Files are streamed row by row, and existing
employees are held as compact tuples with a fingerprint of their imported fields, so a
100 000-row export fits in little memory and an unchanged re-import writes nothing.

Flow: `directory_import_create` (upload, detect) → `directory_import_preview` (mapping,
dry run) → `directory_import_start` (inline, or the Celery task for big files) →
`directory_import_apply` (one transaction). `directory_import_plan` and
`directory_import_run` do the same without a DirectoryImport record (command line, demo).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import json
import logging
import operator
import os
import re
import threading
import uuid
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import charset_normalizer
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import validate_email
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .models import DirectoryImport, Employee

logger = logging.getLogger(__name__)

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
    "manager": ["Manager", "Line manager", "Chef", "Närmaste chef"],
    "language": ["Language", "Preferred language", "Språk", "Föredraget språk"],
}

LANGUAGES = {
    "sv": "sv",
    "se": "sv",
    "sv-se": "sv",
    "sv_se": "sv",
    "svenska": "sv",
    "swedish": "sv",
    "swe": "sv",
    "en": "en",
    "en-gb": "en",
    "en-us": "en",
    "en_gb": "en",
    "en_us": "en",
    "engelska": "en",
    "english": "en",
    "eng": "en",
}

DEFAULT_LANGUAGE = Employee.Language.SWEDISH.value  # a plain str: enums hash and adapt differently

# Encodings a Swedish HR export can plausibly be in when it is not UTF-8 or UTF-16.
LEGACY_ENCODINGS = ["cp1252", "iso8859_15", "latin_1", "cp850", "mac_roman"]
DELIMITERS = [";", ",", "\t", "|"]
HEADER_SEARCH_ROWS = 30
SNIFF_BYTES = 256 * 1024
CHUNK_ROWS = 2000
PROGRESS_EVERY_ROWS = 5000
SAMPLE_LIMIT = 200
MAX_ROW_ERRORS = 10_000

Source = str | os.PathLike | bytes | IO[bytes] | File


class ImportRefused(Exception):
    """The whole file cannot be imported; the message says why, for the person who uploaded it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _normalise_header(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


_RECOGNISED = {_normalise_header(name): field for field, names in HEADER_NAMES.items() for name in names}


def recognise_header(text: str) -> str | None:
    """The Employee field a header names (English or Swedish, any case and punctuation), or None."""
    return _RECOGNISED.get(_normalise_header(text or ""))


@dataclass(frozen=True)
class Detected:
    """What the sniffer found out about a file: enough to read it again the same way."""

    format: str  # "csv" or "xlsx"
    headers: list[str]
    header_row: int  # 1-based line (CSV) or row (XLSX) of the header
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    size: int = 0
    samples: list[list[str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "headers": self.headers,
            "header_row": self.header_row,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "sheet": self.sheet,
            "size": self.size,
            "samples": self.samples,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Detected:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    @property
    def delimiter_name(self) -> str:
        return {";": _("semicolon"), ",": _("comma"), "\t": _("tab"), "|": _("pipe")}.get(self.delimiter, "")


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


# Opening and sniffing ------------------------------------------------------------------


@contextlib.contextmanager
def _open_binary(source: Source) -> Iterator[IO[bytes]]:
    if isinstance(source, bytes):
        yield io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            yield f
    elif hasattr(source, "storage"):  # a FieldFile: open it from its storage
        with source.open("rb") as f:
            yield f
    else:
        source.seek(0)
        yield source


def _size(f: IO[bytes]) -> int:
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(0)
    return size


def _looks_binary(head: bytes) -> bool:
    if not head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    return b"\x00" in head or controls > len(head) // 100


def _looks_utf16_without_bom(head: bytes) -> str | None:
    sample = head[:4096] if len(head) % 2 == 0 else head[:4095]
    if len(sample) < 8:
        return None
    even_zeros = sample[0::2].count(0) / (len(sample) / 2)
    odd_zeros = sample[1::2].count(0) / (len(sample) / 2)
    if odd_zeros > 0.7 and even_zeros < 0.1:
        return "utf-16-le"
    if even_zeros > 0.7 and odd_zeros < 0.1:
        return "utf-16-be"
    return None


def _decodes(f: IO[bytes], encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    f.seek(0)
    try:
        while block := f.read(1 << 20):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        f.seek(0)
    return True


def _detect_encoding(f: IO[bytes], head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "utf-32"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif utf16 := _looks_utf16_without_bom(head):
        encoding = utf16
    elif _looks_binary(head):
        raise ImportRefused(_("This is not a text file or an Excel workbook. Upload a CSV or XLSX export."))
    elif _decodes(f, "utf-8"):
        return "utf-8"
    else:
        best = charset_normalizer.from_bytes(head, cp_isolation=LEGACY_ENCODINGS).best()
        if best is None:
            raise ImportRefused(_("The file's character encoding could not be recognised. Save it as UTF-8 CSV."))
        encoding = best.encoding
        if encoding in ("latin_1", "iso8859_15") and _decodes(f, "cp1252"):
            encoding = "cp1252"  # what Excel in Sweden writes; a superset of Latin-1's letters
    if not _decodes(f, encoding):
        raise ImportRefused(
            _("The file could not be read as %(encoding)s text. Save it as UTF-8 CSV.") % {"encoding": encoding}
        )
    return encoding


_EOL = re.compile(r"\r\n|\r|\n")


def _text_lines(f: IO[bytes], encoding: str, limit_bytes: int | None = None) -> Iterator[str]:
    """Decode a binary file incrementally and yield lines with their endings (\\r\\n, \\n or a lone \\r).

    str.splitlines is not used: it also splits on characters such as \\x85 and \\u2028 that
    may legitimately sit inside a field.
    """
    f.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    pending = ""
    read = 0
    while True:
        block = f.read(1 << 16)
        read += len(block)
        last = not block or (limit_bytes is not None and read >= limit_bytes)
        searched = max(0, len(pending) - 1)  # what is pending has been searched already (bar a trailing \r)
        pending += decoder.decode(block, final=not block)
        pos = 0
        for match in _EOL.finditer(pending, searched):
            if match.group() == "\r" and match.end() == len(pending) and not last:
                break  # maybe the first half of \r\n split across blocks
            yield pending[pos : match.end()]
            pos = match.end()
        pending = pending[pos:]
        if last:
            break
    if pending:
        yield pending


def _blank(row: list[str]) -> bool:
    return not any(cell.strip() for cell in row)


def _find_header(rows: list[list[str]]) -> tuple[int, int]:
    """(index of the header among rows, number of recognised headers): the first row with the most."""
    best_index, best_count = 0, 0
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        count = len({f for f in (recognise_header(c) for c in row) if f})
        if count > best_count:
            best_index, best_count = index, count
    if best_count == 0:
        best_index = next((i for i, row in enumerate(rows) if not _blank(row)), 0)
    return best_index, best_count


def _sniff_csv(f: IO[bytes], head: bytes, size: int) -> Detected:
    encoding = _detect_encoding(f, head)
    lines = []
    for line in _text_lines(f, encoding, limit_bytes=SNIFF_BYTES):
        lines.append(line)
        if len(lines) >= 200:
            break
    best: tuple | None = None
    for delimiter in DELIMITERS:
        records: list[tuple[int, list[str]]] = []
        reader = csv.reader(lines, delimiter=delimiter)
        start = 1
        try:
            for row in reader:
                if not _blank(row):
                    records.append((start, row))
                start = reader.line_num + 1
        except csv.Error:
            pass
        rows = [r for _, r in records]
        if not rows:
            continue
        index, recognised = _find_header(rows)
        width = len([c for c in rows[index] if c.strip()])
        widths = [len(r) for r in rows[index + 1 : index + 51]]
        consistent = sum(1 for w in widths if w == len(rows[index])) if widths else 0
        score = (recognised, width > 1, consistent, width)
        if best is None or score > best[0]:
            best = (score, delimiter, records, index)
    if best is None:
        raise ImportRefused(_("The file is empty."))
    _score, delimiter, records, index = best
    header_line, header = records[index]
    return Detected(
        format="csv",
        encoding=encoding,
        delimiter=delimiter,
        header_row=header_line,
        headers=_clean_headers(header),
        size=size,
        samples=[[c.strip() for c in row] for _, row in records[index + 1 : index + 4]],
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # employee numbers typed as numbers come back as 10023.0
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value).strip()


@contextlib.contextmanager
def _workbook(f: IO[bytes]):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(f, read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, KeyError, openpyxl's InvalidFileException and friends
        raise ImportRefused(_("The file is not a readable Excel workbook (.xlsx).")) from exc
    try:
        yield workbook
    finally:
        workbook.close()


def _sniff_xlsx(f: IO[bytes], size: int) -> Detected:
    best: tuple | None = None
    with _workbook(f) as workbook:
        for position, sheet in enumerate(workbook.worksheets):
            rows = []
            for row in sheet.iter_rows(max_row=HEADER_SEARCH_ROWS + 3, values_only=True):
                rows.append([_cell_text(v) for v in row])
            if all(_blank(r) for r in rows):
                continue
            index, recognised = _find_header(rows)
            score = (recognised, -position)
            if best is None or score > best[0]:
                samples = [r for r in rows[index + 1 :] if not _blank(r)][:3]
                best = (score, sheet.title, index + 1, rows[index], samples)
    if best is None:
        raise ImportRefused(_("The workbook has no data on any sheet."))
    _score, title, header_row, header, samples = best
    return Detected(
        format="xlsx", sheet=title, header_row=header_row, headers=_clean_headers(header), size=size, samples=samples
    )


def _clean_headers(header: list[str]) -> list[str]:
    headers = [str(h).strip() for h in header]
    while headers and not headers[-1]:
        headers.pop()  # the empty trailing columns Excel likes to leave
    return headers


def directory_import_detect(*, source: Source) -> Detected:
    """Find out how to read an HR export: format, encoding, delimiter, sheet and header row.

    Raises ImportRefused for an empty, binary, undecodable or oversized file.
    """
    try:
        return _detect(source)
    except ImportRefused as refused:
        logger.warning("Directory import refused: %s: %s", _source_name(source), refused.message)
        raise


def _detect(source: Source) -> Detected:
    with _open_binary(source) as f:
        size = _size(f)
        if size > settings.IMPORT_MAX_BYTES:
            raise ImportRefused(
                _("The file is %(size)s MB; the limit is %(limit)s MB.")
                % {"size": round(size / 1_048_576, 1), "limit": round(settings.IMPORT_MAX_BYTES / 1_048_576, 1)}
            )
        if size == 0:
            raise ImportRefused(_("The file is empty."))
        head = f.read(SNIFF_BYTES)
        f.seek(0)
        if head.startswith(b"PK\x03\x04"):
            return _sniff_xlsx(f, size)
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise ImportRefused(_("This is an old Excel file (.xls). Save it as .xlsx or CSV and upload it again."))
        return _sniff_csv(f, head, size)


# Reading rows ---------------------------------------------------------------------------


def _iter_rows(f: IO[bytes], detected: Detected) -> Iterator[tuple[int, list[str]]]:
    """Yield (row number, cells) for every non-blank row below the header."""
    if detected.format == "xlsx":
        with _workbook(f) as workbook:
            if detected.sheet not in workbook.sheetnames:
                raise ImportRefused(
                    _("The workbook no longer has a sheet named %(sheet)s.") % {"sheet": detected.sheet}
                )
            sheet = workbook[detected.sheet]
            number = detected.header_row
            for row in sheet.iter_rows(min_row=detected.header_row + 1, values_only=True):
                number += 1
                cells = [_cell_text(v) for v in row]
                if not _blank(cells):
                    yield number, cells
        return
    inner = getattr(f, "file", f)
    text = None
    if isinstance(inner, io.IOBase):
        # The C implementation splits lines on \r\n, \n and \r only (newline=""), like _text_lines, but faster.
        inner.seek(0)
        text = io.TextIOWrapper(inner, encoding=detected.encoding, errors="strict", newline="")
    reader = csv.reader(text or _text_lines(f, detected.encoding), delimiter=detected.delimiter)
    start = 1
    try:
        for row in reader:
            if start > detected.header_row:
                cells = [c.strip() for c in row]
                if any(cells):
                    yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportRefused(
            _("The file cannot be read near line %(line)s (%(problem)s). Is a quote left open?")
            % {"line": start, "problem": exc}
        ) from exc
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            _("The file could not be read as %(encoding)s text.") % {"encoding": detected.encoding}
        ) from exc
    finally:
        if text is not None:
            text.detach()  # leave the binary file open for its owner


# Mapping --------------------------------------------------------------------------------


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
class _Columns:
    """A mapping compiled for fast row extraction."""

    fields: tuple[str, ...]  # mapped Employee fields, in FIELDS order
    indexes: tuple[int, ...]  # their column indexes
    extra: tuple[tuple[int, str], ...]  # (column index, key in Employee.extra)


def _compile_mapping(headers: list[str], mapping: dict[str, str]) -> _Columns:
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
    return _Columns(fields=fields, indexes=tuple(chosen[f] for f in fields), extra=tuple(sorted(extra)))


def check_mapping(headers: list[str], mapping: dict[str, str]) -> None:
    """Raise ImportRefused when a mapping cannot be imported (no email column, a field mapped twice)."""
    _compile_mapping(headers, mapping)


# Planning and applying ------------------------------------------------------------------


_MAX_LENGTHS = {name: Employee._meta.get_field(name).max_length for name in FIELDS}
_SHORTEST_LIMIT = min(length for name, length in _MAX_LENGTHS.items() if name != "language")  # language: normalised
# A common shape of address that Django's EmailValidator always accepts; anything else goes to the validator.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def _valid_email(email: str) -> bool:
    if len(email) <= _MAX_LENGTHS["email"] and _PLAIN_EMAIL.fullmatch(email):
        return True
    try:
        validate_email(email)
    except ValidationError:
        return False
    return len(email) <= _MAX_LENGTHS["email"]


def _label(name: str) -> str:
    if name == "is_active":
        return str(Employee._meta.get_field("is_active").verbose_name)
    if name.startswith("extra:"):
        return name.removeprefix("extra:")
    return str(Employee._meta.get_field(name).verbose_name)


class _Existing:
    """Existing employees as compact tuples: (id, employee number, lower-case email, is_active, fingerprint).

    The fingerprint hashes exactly the fields this file maps, so an unchanged row is
    recognised without loading the employee.
    """

    def __init__(self, columns: _Columns):
        self.rows: list[tuple[int, str | None, str, bool, int]] = []
        self.by_number: dict[str, int] = {}
        self.by_email: dict[str, int] = {}
        extra_keys = [key for _, key in columns.extra]
        names = ["id", "is_active", *columns.fields]
        if "employee_number" not in columns.fields:
            names.append("employee_number")
        if extra_keys:
            names.append("extra")
        end = 2 + len(columns.fields)
        at_number = names.index("employee_number")
        at_email = names.index("email")
        # Plain rows from a server-side cursor: no model instances, no per-row ORM work.
        sql, params = Employee.objects.filter(erased_at__isnull=True).values_list(*names).query.sql_with_params()
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while chunk := cursor.fetchmany(20_000):
                for values in chunk:
                    compared = values[2:end]
                    if extra_keys:
                        extra = values[-1]
                        extra = (json.loads(extra) if isinstance(extra, str) else extra) or {}
                        compared = (*compared, *(extra.get(k) for k in extra_keys))
                    position = len(self.rows)
                    number, email = values[at_number], values[at_email].lower()
                    self.rows.append((values[0], number, email, bool(values[1]), hash(compared)))
                    if number:
                        self.by_number[number] = position
                    self.by_email[email] = position


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


_COPY_COLUMNS = (*FIELDS, "extra", "is_active", "created_at", "updated_at")
_COPY_DEFAULTS = tuple({"employee_number": None, "language": DEFAULT_LANGUAGE}.get(name, "") for name in FIELDS)


def _insert_employees(rows: list[dict[str, Any]], now: dt.datetime) -> None:
    """Insert new employees: COPY on PostgreSQL (several times faster than INSERT), bulk_create elsewhere."""
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {Employee._meta.db_table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN") as copy,
        ):
            for values in rows:
                extra = values["extra"]
                copy.write_row(
                    (*map(values.get, FIELDS, _COPY_DEFAULTS), json.dumps(extra) if extra else "{}", True, now, now)
                )
        return
    Employee.objects.bulk_create(
        [
            Employee(**{k: v for k, v in values.items() if k != "_row"}, created_at=now, updated_at=now)
            for values in rows
        ],
        batch_size=1000,
    )


class _Engine:
    """One pass over the rows: validate, match, and (when writing) create and update in chunks."""

    def __init__(
        self,
        *,
        columns: _Columns,
        deactivate_missing: bool,
        write: bool,
        progress: Callable[[int], None] | None,
    ):
        self.columns = columns
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
        self.seen_at = array("l", [0]) * len(self.existing.rows)
        # Employee IDs and emails this file brings that no existing employee holds yet.
        self.new_numbers: dict[str, int] = {}
        self.new_emails: dict[str, int] = {}
        self.to_create: list[dict[str, Any]] = []
        self.to_update: list[tuple[int, dict[str, Any]]] = []
        self.now = timezone.now()

    def run(self, rows: Iterator[tuple[int, list[str]]]) -> ImportResult:
        result = self.result
        for number, cells in rows:
            result.total_rows += 1
            self._row(number, cells)
            if len(self.to_create) + len(self.to_update) >= CHUNK_ROWS:
                self._flush()
            if self.progress and result.total_rows % PROGRESS_EVERY_ROWS == 0:
                self.progress(result.total_rows)
        self._flush()
        if result.total_rows == 0:
            raise ImportRefused(_("The file has no rows below the header."))
        if self.deactivate_missing:
            if result.created + result.updated + result.unchanged == 0:
                raise ImportRefused(_("No row in the file could be imported, so nobody was deactivated."))
            self._deactivate_missing()
        return result

    def _row(self, row: int, cells: list[str]) -> None:
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        compared = self.getter(cells)  # the mapped fields, then the extra columns, as the fingerprint has them
        # The fast path of a re-import: a known, active person whose values hash to the stored ones is unchanged.
        # Equal values mean the same email and ID as stored, so no other check can fail for this row.
        number = compared[self.number_at] if self.number_at is not None else ""
        key = compared[self.email_at].lower()
        existing = self.existing
        position = existing.by_number.get(number) if number else existing.by_email.get(key)
        if position is not None and not self.seen_at[position]:
            _id, _number, stored_email, is_active, fingerprint = existing.rows[position]
            if is_active and stored_email == key and hash(compared) == fingerprint:
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

        position = existing.by_number.get(number) if number else None
        email_owner = existing.by_email.get(key) if email else None
        if position is None and email_owner is not None:
            owner_number = existing.rows[email_owner][1]
            if number and owner_number and owner_number != number:
                reason = _("%(email)s already belongs to employee ID %(number)s.")
                return self._reject(row, values, reason % {"email": email, "number": owner_number})
            position = email_owner
        elif position is not None and email_owner is not None and email_owner != position:
            reason = _("%(email)s already belongs to another employee (%(number)s).")
            return self._reject(
                row, values, reason % {"email": email, "number": existing.rows[email_owner][1] or "-"}, position
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
            values["language"] = LANGUAGES.get(values["language"].casefold(), DEFAULT_LANGUAGE)
        extra = {key_: cells[i] for i, key_ in columns.extra}
        if position is not None:
            employee_id, old_number, old_email, is_active, fingerprint = existing.rows[position]
            if "employee_number" in values and not number:
                values["employee_number"] = old_number  # a blank cell never erases a known ID
            if is_active and hash((*values.values(), *extra.values())) == fingerprint:
                # Unchanged: the values are the stored ones, valid already. The fast path of a re-import.
                self.seen_at[position] = row
                self.result.unchanged += 1
                return None

        if not email:
            return self._reject(row, values, _("The email address is missing."), position)
        if not _valid_email(email):
            return self._reject(row, values, _("%(email)s is not a valid email address.") % {"email": email}, position)
        if max(map(len, cells)) > _SHORTEST_LIMIT:  # rarely true: only then look at each field
            for name, value in values.items():
                if value and len(value) > _MAX_LENGTHS[name]:
                    reason = _("%(field)s is longer than %(max)s characters.")
                    return self._reject(
                        row, values, reason % {"field": _label(name), "max": _MAX_LENGTHS[name]}, position
                    )

        if position is None:
            if "employee_number" in values and not number:
                values["employee_number"] = None
            self.to_create.append({**values, "extra": extra, "_row": row})
        else:
            self.seen_at[position] = row
            self.to_update.append((employee_id, {**values, "extra": extra, "_row": row}))
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
                _insert_employees(self.to_create, self.now)
            self.to_create = []
        if self.to_update:
            updates = dict(self.to_update)
            employees = Employee.objects.filter(id__in=updates.keys())
            changed_fields: set[str] = set()
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
                for name in self.columns.fields:
                    setattr(employee, name, values[name])
                employee.extra = {**(employee.extra or {}), **values["extra"]}
                employee.is_active = True
                employee.updated_at = self.now
            if self.write and changed_fields:
                changed = [e for e in employees if e.updated_at == self.now]
                Employee.objects.bulk_update(changed, [*sorted(changed_fields), "updated_at"], batch_size=500)
            self.to_update = []

    def _changes(self, employee: Employee, values: dict[str, Any]) -> list[dict[str, Any]]:
        changes = []
        for name in self.columns.fields:
            old, new = getattr(employee, name), values[name]
            if (old or "") != (new or ""):
                changes.append({"field": name, "label": _label(name), "old": old or "", "new": new or ""})
        old_extra = employee.extra or {}
        for key, new in values["extra"].items():
            if old_extra.get(key) != new:
                changes.append({"field": f"extra:{key}", "label": key, "old": old_extra.get(key, ""), "new": new})
        if not employee.is_active:
            changes.append({"field": "is_active", "label": _label("is_active"), "old": _("no"), "new": _("yes")})
        return changes

    def _deactivate_missing(self) -> None:
        seen_at = self.seen_at
        ids = [row[0] for position, row in enumerate(self.existing.rows) if row[3] and not seen_at[position]]
        self.result.deactivated = len(ids)
        sample = Employee.objects.filter(id__in=ids[:SAMPLE_LIMIT]).values(
            "email", "first_name", "last_name", "employee_number", "department"
        )
        self.result.deactivated_people = [_person(values) for values in sample]
        if self.write:
            for start in range(0, len(ids), 5000):
                Employee.objects.filter(id__in=ids[start : start + 5000]).update(is_active=False, updated_at=self.now)


def _execute(
    *,
    source: Source,
    detected: Detected,
    mapping: dict[str, str],
    deactivate_missing: bool,
    write: bool,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    try:
        columns = _compile_mapping(detected.headers, mapping)
        with _open_binary(source) as f:
            engine = _Engine(columns=columns, deactivate_missing=deactivate_missing, write=write, progress=progress)
            return engine.run(_iter_rows(f, detected))
    except ImportRefused as refused:
        logger.warning("Directory import refused: %s: %s", _source_name(source), refused.message)
        raise


def _source_name(source: Source) -> str:
    if isinstance(source, bytes):
        return f"<{len(source)} bytes>"
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return getattr(source, "name", None) or repr(source)


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
    detected = directory_import_detect(source=source)
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
        from .tasks import run_directory_import

        import_id = directory_import.pk
        transaction.on_commit(lambda: run_directory_import.delay(import_id))
        logger.info("Directory import %s queued by %s", import_id, by)
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
            spreadsheet_safe(error.get("email", "")),
            spreadsheet_safe(error.get("employee_number", "")),
            spreadsheet_safe(error.get("reason", "")),
        ]


def spreadsheet_safe(value: Any) -> str:
    """Neutralise a value a spreadsheet would run as a formula (=, +, -, @, tab, CR) with a leading quote."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
