"""Spreadsheet files for people to open in Excel: CSV and XLSX, safe against formula injection.

A cell that starts with `=`, `+`, `-` or `@` can be run as a formula by a spreadsheet
program (CSV injection), so such text gets a leading single quote. The check comes after
the text is cleaned, so nothing can hide the sign from it: control characters go (tabs and
line breaks inside the text stay), bidi embeddings, overrides and isolates go, and so do
leading whitespace (tabs and carriage returns too) and invisible format characters (BOM,
zero-width, bidi marks). Full-width and small signs (`＝`, `＋`, `－`, `＠`) count as signs.
Only text is touched: numbers, dates and booleans are written as they are, and text that is
just a number ("-5", "-1,5") is left alone; any other value is written as its text.

    write_csv(rows, headers) -> bytes    # UTF-8 with BOM, so Excel shows å, ä and ö; a semicolon and
                                         # a decimal comma for a Swedish reader, as Swedish Excel expects
    write_xlsx(rows, headers) -> bytes   # one sheet, streamed by openpyxl's write-only mode
    spreadsheet_response(rows, headers, fmt="csv" | "xlsx", filename="people") -> HttpResponse

A report of several tables is a list of `Sheet`s: one worksheet each in XLSX, one section each
(its title, its headers, its rows, a blank line) in a single CSV file.

    write_csv_sections(sheets) -> bytes
    write_xlsx_sheets(sheets) -> bytes
    sheets_response(sheets, fmt="csv" | "xlsx", filename="report") -> HttpResponse
"""

import csv
import datetime
import decimal
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple

from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from openpyxl import Workbook

FORMULA_PREFIXES = ("=", "+", "-", "@")  # tabs and carriage returns before them are stripped
# C0 controls but tab, line feed and carriage return; DEL; C1 (XLSX cannot hold most of them anyway);
# and the bidi embeddings, overrides and isolates, which reorder what the reader sees wherever they are.
UNWANTED_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
PLAIN_NUMBER_RE = re.compile(r"-?[0-9]+([.,][0-9]+)?")
# Kept as themselves; anything else (lazy translations, UUIDs, ...) is written as its text, neutralised.
SCALARS = (str, bool, int, float, decimal.Decimal, datetime.date, datetime.time, datetime.timedelta)
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Format = Literal["csv", "xlsx"]


class Sheet(NamedTuple):
    """One table of a report: a worksheet in XLSX, a section in CSV."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]


def neutralise(value: Any) -> Any:
    """Return `value` cleaned, with a leading single quote if it is text a spreadsheet could run as a formula."""
    if not isinstance(value, str):
        return value
    text = _strip_leading_invisible(UNWANTED_RE.sub("", value))
    # NFKC folds the full-width and small forms (＝, ﹢, －, ＠) into the signs they stand for.
    if unicodedata.normalize("NFKC", text[:1]).startswith(FORMULA_PREFIXES) and not PLAIN_NUMBER_RE.fullmatch(text):
        return "'" + text
    return text


def _strip_leading_invisible(text: str) -> str:
    """`text` without leading whitespace and format characters (BOM, zero-width, bidi marks, word joiner)."""
    start = 0
    while start < len(text) and (text[start].isspace() or unicodedata.category(text[start]) == "Cf"):
        start += 1
    return text[start:]


def _plain(value: Any) -> Any:
    """A value both writers understand: None as empty text, aware datetimes in local time without zone."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    if not isinstance(value, SCALARS):
        return str(value)
    return value


# Excel reads a CSV file with the list separator and decimal sign of the reader's regional settings:
# in Swedish (and most of Europe) a semicolon and a decimal comma, in English a comma and a point.
SEMICOLON_LANGUAGES = {"sv", "fi", "da", "de", "nb", "no", "nl", "fr", "pl", "es", "it", "pt"}


def csv_dialect(language: str | None = None) -> tuple[str, str]:
    """(delimiter, decimal sign) Excel expects from a reader of `language` (the current one by default)."""
    language = (language or translation.get_language() or "").split("-")[0]
    return (";", ",") if language in SEMICOLON_LANGUAGES else (",", ".")


def write_csv(rows: Iterable[Sequence[Any]], headers: Sequence[str], *, delimiter: str | None = None) -> bytes:
    """Write `headers` then `rows` as CSV in UTF-8 with a BOM; every text cell is neutralised.
    Separator and decimal sign follow the reader's language unless `delimiter` is given."""
    out = io.StringIO()
    default, decimal_sign = csv_dialect()
    writer = csv.writer(out, delimiter=delimiter or default, lineterminator="\r\n")
    _csv_table(writer, headers, rows, decimal_sign if (delimiter or default) == ";" else ".")
    return out.getvalue().encode("utf-8-sig")


def write_csv_sections(sheets: Iterable[Sheet], *, delimiter: str | None = None) -> bytes:
    """Write each sheet as a section of one CSV file: its title, headers and rows, then a blank line."""
    out = io.StringIO()
    default, decimal_sign = csv_dialect()
    writer = csv.writer(out, delimiter=delimiter or default, lineterminator="\r\n")
    for sheet in sheets:
        writer.writerow([neutralise(str(sheet.title))])
        _csv_table(writer, sheet.headers, sheet.rows, decimal_sign if (delimiter or default) == ";" else ".")
        writer.writerow([])
    return out.getvalue().encode("utf-8-sig")


def _csv_table(writer, headers: Sequence[str], rows: Iterable[Sequence[Any]], decimal_sign: str = ".") -> None:
    writer.writerow([neutralise(str(h)) for h in headers])
    for row in rows:
        writer.writerow([_csv_cell(v, decimal_sign) for v in row])


def _csv_cell(value: Any, decimal_sign: str) -> Any:
    if decimal_sign != "." and isinstance(value, float | decimal.Decimal) and not isinstance(value, bool):
        return str(value).replace(".", decimal_sign)
    return neutralise(_plain(value))


def write_xlsx(rows: Iterable[Sequence[Any]], headers: Sequence[str], *, title: str = "Sheet1") -> bytes:
    """Write `headers` then `rows` as an XLSX workbook; every text cell is neutralised."""
    return write_xlsx_sheets([Sheet(title, headers, rows)])


def _xlsx_cell(value: Any) -> Any:
    return neutralise(_plain(value))


def _sheet_title(title: str, taken: set[str]) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of []:*?/\\, unique in the book."""
    base = "".join(" " if c in "[]:*?/\\" else c for c in str(title)).strip()[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" {n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def write_xlsx_sheets(sheets: Iterable[Sheet]) -> bytes:
    """Write each sheet as a worksheet of one XLSX workbook, neutralised like `write_xlsx`."""
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    for sheet in sheets:
        worksheet = workbook.create_sheet(title=_sheet_title(sheet.title, taken))
        worksheet.append([_xlsx_cell(str(h)) for h in sheet.headers])
        for row in sheet.rows:
            worksheet.append([_xlsx_cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def spreadsheet_response(
    rows: Iterable[Sequence[Any]], headers: Sequence[str], *, fmt: Format, filename: str
) -> HttpResponse:
    """An attachment download of `rows` as `filename`.csv or `filename`.xlsx."""
    if fmt == "csv":
        return _attachment(write_csv(rows, headers), fmt=fmt, filename=filename)
    if fmt == "xlsx":
        return _attachment(write_xlsx(rows, headers), fmt=fmt, filename=filename)
    raise ValueError(f"unknown spreadsheet format {fmt!r}")


def sheets_response(sheets: Sequence[Sheet], *, fmt: Format, filename: str) -> HttpResponse:
    """An attachment download of a report of several tables as `filename`.csv or `filename`.xlsx."""
    if fmt == "csv":
        return _attachment(write_csv_sections(sheets), fmt=fmt, filename=filename)
    if fmt == "xlsx":
        return _attachment(write_xlsx_sheets(sheets), fmt=fmt, filename=filename)
    raise ValueError(f"unknown spreadsheet format {fmt!r}")


def _attachment(content: bytes, *, fmt: Format, filename: str) -> HttpResponse:
    return HttpResponse(
        content,
        content_type=CONTENT_TYPES[fmt],
        headers={"Content-Disposition": content_disposition_header(True, f"{filename}.{fmt}")},
    )
