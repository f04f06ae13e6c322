"""Reading an HR export: detect how (format, encoding, delimiter, sheet and header row), then read its rows that way.

Real HR exports are messy, so reading is defensive: the encoding, delimiter, sheet and
header row are detected, never assumed, and files are streamed row by row. Hostile files
are refused before they are parsed, and while they are read, within the bounds of bounds.py.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import charset_normalizer
from django.conf import settings
from django.core.files import File
from django.utils.translation import gettext as _

from .bounds import (
    bounded_lines,
    check_archive,
    check_declared_columns,
    check_workbook_xml,
    limit,
    line_too_long,
    max_line_chars,
    too_many_columns,
    too_many_rows,
)
from .errors import ImportRefused
from .mapping import recognise_header

logger = logging.getLogger(__name__)

Source = str | os.PathLike | bytes | IO[bytes] | File

# Encodings a Swedish HR export can plausibly be in when it is not UTF-8 or UTF-16.
LEGACY_ENCODINGS = ["cp1252", "iso8859_15", "latin_1", "cp850", "mac_roman"]
DELIMITERS = [";", ",", "\t", "|"]
HEADER_SEARCH_ROWS = 30
SNIFF_BYTES = 256 * 1024


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


# Opening and sniffing ------------------------------------------------------------------


@contextlib.contextmanager
def open_binary(source: Source) -> Iterator[IO[bytes]]:
    """The source as a binary file at its start: bytes, a path, a stored FieldFile or an open file."""
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
    may legitimately sit inside a field. A line longer than IMPORT_MAX_LINE_BYTES is refused
    as soon as the part read of it is longer.
    """
    f.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    max_chars = max_line_chars(encoding)
    pending = ""
    read = 0
    lines = 0
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
            lines += 1
            if match.start() - pos > max_chars:
                raise line_too_long(lines)
            yield pending[pos : match.end()]
            pos = match.end()
        pending = pending[pos:]
        if len(pending) > max_chars and len(pending.rstrip("\r")) > max_chars:
            raise line_too_long(lines + 1)
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


def _sniff_csv(f: IO[bytes], head: bytes, size: int, *, read_through: bool = True) -> Detected:
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
    if len(header) > limit("IMPORT_MAX_COLUMNS"):
        raise too_many_columns()
    detected = Detected(
        format="csv",
        encoding=encoding,
        delimiter=delimiter,
        header_row=header_line,
        headers=_clean_headers(header),
        size=size,
        samples=[[c.strip() for c in row] for _, row in records[index + 1 : index + 4]],
    )
    if read_through:  # a text file is read once through now, so a hostile one is refused now
        for _row in iter_rows(f, detected):
            pass
    return detected


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

    check_archive(f)
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
            check_declared_columns(sheet.max_column)
            rows = []
            for row in sheet.iter_rows(max_row=HEADER_SEARCH_ROWS + 3, values_only=True):
                if len(row) > limit("IMPORT_MAX_COLUMNS"):
                    raise too_many_columns()
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


def directory_import_detect(*, source: Source, read_through: bool = True) -> Detected:
    """Find out how to read an HR export: format, encoding, delimiter, sheet and header row.

    Raises ImportRefused for an empty, binary, undecodable or oversized file. With `read_through`
    off, a text file is sniffed from its head only: for a caller that reads every row next anyway,
    within the same bounds, and refuses the file then.
    """
    try:
        return _detect(source, read_through=read_through)
    except ImportRefused as refused:
        logger.warning("Directory import refused: %s: %s", source_name(source), refused.message)
        raise


def _detect(source: Source, *, read_through: bool) -> Detected:
    with open_binary(source) as f:
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
            check_archive(f)
            check_workbook_xml(f, rows_above_data=HEADER_SEARCH_ROWS)  # before openpyxl reads a row
            return _sniff_xlsx(f, size)
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise ImportRefused(_("This is an old Excel file (.xls). Save it as .xlsx or CSV and upload it again."))
        return _sniff_csv(f, head, size, read_through=read_through)


# Reading rows ---------------------------------------------------------------------------


def iter_rows(f: IO[bytes], detected: Detected, *, strip: bool = True) -> Iterator[tuple[int, list[str]]]:
    """Yield (row number, cells) for every non-blank row below the header.

    With `strip` off, a text file's cells come as they are written, spaces around them included (for a
    reader that strips the few cells it looks at); the same rows are yielded.

    Raises ImportRefused past IMPORT_MAX_ROWS rows or IMPORT_MAX_COLUMNS columns, or on a line longer than
    IMPORT_MAX_LINE_BYTES.
    """
    max_rows, max_columns = limit("IMPORT_MAX_ROWS"), limit("IMPORT_MAX_COLUMNS")
    rows = _xlsx_rows(f, detected) if detected.format == "xlsx" else _csv_rows(f, detected, strip=strip)
    with contextlib.closing(rows):
        for count, (number, cells) in enumerate(rows, start=1):
            if count > max_rows:
                raise too_many_rows()
            if len(cells) > max_columns:
                raise too_many_columns()
            yield number, cells


def _xlsx_rows(f: IO[bytes], detected: Detected) -> Iterator[tuple[int, list[str]]]:
    with _workbook(f) as workbook:
        if detected.sheet not in workbook.sheetnames:
            raise ImportRefused(_("The workbook no longer has a sheet named %(sheet)s.") % {"sheet": detected.sheet})
        sheet = workbook[detected.sheet]
        check_declared_columns(sheet.max_column)
        number = detected.header_row
        for row in sheet.iter_rows(min_row=detected.header_row + 1, values_only=True):
            number += 1
            cells = [_cell_text(v) for v in row]
            if not _blank(cells):
                yield number, cells


def _csv_rows(f: IO[bytes], detected: Detected, *, strip: bool = True) -> Iterator[tuple[int, list[str]]]:
    inner = getattr(f, "file", f)
    text = None
    if isinstance(inner, io.IOBase):
        # The C implementation splits lines on \r\n, \n and \r only (newline=""), like _text_lines, but faster.
        inner.seek(0)
        text = io.TextIOWrapper(inner, encoding=detected.encoding, errors="strict", newline="")
    lines = bounded_lines(text, detected.encoding) if text is not None else _text_lines(f, detected.encoding)
    reader = csv.reader(lines, delimiter=detected.delimiter)
    start = 1
    try:
        for row in reader:
            if start > detected.header_row:
                if strip:
                    cells = [c.strip() for c in row]
                    if any(cells):
                        yield start, cells
                elif "".join(row).strip():  # blank exactly when every stripped cell is empty
                    yield start, row
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


def source_name(source: Source) -> str:
    """How the logs name a source: its path or file name, or its size for plain bytes."""
    if isinstance(source, bytes):
        return f"<{len(source)} bytes>"
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return getattr(source, "name", None) or repr(source)
