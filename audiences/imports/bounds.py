"""How much an uploaded HR export may make the server do: checked before and while it is parsed.

A hostile file is refused with a message, in bounded memory, before anything is written:

- a workbook (a zip) by its central directory, before anything is unpacked: too many
  parts, parts that unpack too big in total, or a part packed suspiciously tightly;
- then its XML, streamed through expat, counting cells per row and rows per sheet, and
  refusing a DTD (no real workbook has one; entity tricks need one) before openpyxl,
  which builds each row in memory, reads a single row;
- a text file line by line, each line read in bounded pieces.

The limits are settings, read when a file is checked (so tests and deployments can change them):
IMPORT_MAX_UNCOMPRESSED_BYTES, IMPORT_MAX_COLUMNS, IMPORT_MAX_ROWS and IMPORT_MAX_LINE_BYTES.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO
from xml.parsers import expat

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .errors import ImportRefused

DEFAULT_LIMITS = {
    "IMPORT_MAX_UNCOMPRESSED_BYTES": 200 * 1024 * 1024,  # all parts of a workbook, unpacked
    "IMPORT_MAX_COLUMNS": 200,
    "IMPORT_MAX_ROWS": 500_000,  # rows below the header
    "IMPORT_MAX_LINE_BYTES": 64 * 1024,  # one line of a text file
}
# A workbook has a dozen parts and a few more per sheet.
MAX_ZIP_MEMBERS = 1000
# Real sheets pack 5 to 20 times smaller; a zip bomb thousands of times. Tiny parts are left alone.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM_BYTES = 1024 * 1024
# The element names a worksheet's rows and cells have in openpyxl's eyes (transitional and strict OOXML).
_SHEET_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_ROW = {f"{ns} row" for ns in _SHEET_NAMESPACES}
_CELL = {f"{ns} c" for ns in _SHEET_NAMESPACES}
_VALUE = {f"{ns} {name}" for ns in _SHEET_NAMESPACES for name in ("v", "is")}


def limit(name: str) -> int:
    """The limit a setting sets, or its default."""
    return getattr(settings, name, DEFAULT_LIMITS[name])


def too_many_columns() -> ImportRefused:
    """The refusal of a file with more columns than IMPORT_MAX_COLUMNS."""
    return ImportRefused(
        _("The file has more than %(limit)s columns. Remove the columns that are not needed and upload it again.")
        % {"limit": number_format(limit("IMPORT_MAX_COLUMNS"), force_grouping=True)}
    )


def too_many_rows() -> ImportRefused:
    """The refusal of a file with more rows than IMPORT_MAX_ROWS."""
    return ImportRefused(
        _("The file has more than %(limit)s rows; one import takes at most that many.")
        % {"limit": number_format(limit("IMPORT_MAX_ROWS"), force_grouping=True)}
    )


def unreadable_workbook() -> ImportRefused:
    """The refusal of a file that is not a workbook openpyxl could read."""
    return ImportRefused(_("The file is not a readable Excel workbook (.xlsx)."))


# Workbooks ------------------------------------------------------------------------------


def check_archive(f: IO[bytes]) -> None:
    """Refuse a workbook by its zip central directory, unpacking nothing.

    The sizes it declares are bounds: Python's zipfile never unpacks a part past its declared
    size, and a part that would unpack to more fails its checksum.
    """
    try:
        members = zipfile.ZipFile(f).infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise unreadable_workbook() from exc
    finally:
        f.seek(0)
    if len(members) > MAX_ZIP_MEMBERS:
        raise ImportRefused(
            _("The workbook holds %(count)s parts; a real export has far fewer. Save it again from Excel, or as CSV.")
            % {"count": number_format(len(members), force_grouping=True)}
        )
    unpacked = sum(member.file_size for member in members)
    if unpacked > limit("IMPORT_MAX_UNCOMPRESSED_BYTES"):
        raise ImportRefused(
            _(
                "The workbook unpacks to %(size)s; the limit is %(limit)s. "
                "Remove the sheets that are not needed, or save the sheet as CSV."
            )
            % {"size": filesizeformat(unpacked), "limit": filesizeformat(limit("IMPORT_MAX_UNCOMPRESSED_BYTES"))}
        )
    for member in members:
        if member.file_size >= RATIO_CHECKED_FROM_BYTES and member.file_size > MAX_COMPRESSION_RATIO * max(
            member.compress_size, 1
        ):
            raise ImportRefused(
                _(
                    "A part of the workbook unpacks to over %(ratio)s times its size, which real exports never do. "
                    "Save it again from Excel, or as CSV."
                )
                % {"ratio": MAX_COMPRESSION_RATIO}
            )


def check_workbook_xml(f: IO[bytes], *, rows_above_data: int) -> None:
    """Stream every XML part of a workbook through expat: refuse a DTD, a row too wide, a sheet too long.

    Every part is read, whatever its name: openpyxl finds sheets through the workbook's
    relationships, not by name. Which rows are titles and header is not known yet, so a sheet
    may have `rows_above_data` more; reading the rows later counts exactly. Call check_archive
    first: it bounds what this unpacks.
    """
    max_columns, max_rows = limit("IMPORT_MAX_COLUMNS"), limit("IMPORT_MAX_ROWS") + rows_above_data
    try:
        archive = zipfile.ZipFile(f)
        for member in archive.infolist():
            with archive.open(member) as part:
                _Part(max_columns=max_columns, max_rows=max_rows).read(part)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError, zlib.error) as exc:
        raise unreadable_workbook() from exc  # a bad checksum, encryption, an unknown compression
    finally:
        f.seek(0)


class _Part:
    """Counts, for one XML part, the cells of the current row and the rows that hold a value."""

    def __init__(self, *, max_columns: int, max_rows: int):
        self.max_columns = max_columns
        self.max_rows = max_rows
        self.cells = 0
        self.rows = 0
        self.has_value = False

    def read(self, part: IO[bytes]) -> None:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartElementHandler = self._start
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._doctype
        with contextlib.suppress(expat.ExpatError):
            # Not XML (an image), or broken XML (Excel's VML often is): openpyxl's parser is expat
            # too and stops where this one did, so what it could read has been counted here.
            while block := part.read(1 << 16):
                parser.Parse(block, False)
            parser.Parse(b"", True)
        self._end_row()

    def _start(self, name: str, attributes: dict) -> None:
        if name in _CELL:
            self.cells += 1
            if self.cells > self.max_columns:
                raise too_many_columns()
        elif name in _VALUE:
            self.has_value = True
        elif name in _ROW:
            self._end_row()

    def _end_row(self) -> None:
        if self.has_value:
            self.rows += 1
            if self.rows > self.max_rows:
                raise too_many_rows()
        self.cells, self.has_value = 0, False

    def _doctype(self, *args) -> None:
        raise unreadable_workbook()


def check_declared_columns(declared: int | None) -> None:
    """Refuse a sheet that declares more columns than allowed: openpyxl pads every row to that width."""
    if declared is not None and declared > limit("IMPORT_MAX_COLUMNS"):
        raise too_many_columns()


# Text files -----------------------------------------------------------------------------


def max_line_chars(encoding: str) -> int:
    """IMPORT_MAX_LINE_BYTES in characters of `encoding`: a line with more certainly has more bytes."""
    width = 4 if "32" in encoding else 2 if "16" in encoding else 1
    return max(1, limit("IMPORT_MAX_LINE_BYTES") // width)


def line_too_long(line: int) -> ImportRefused:
    """The refusal of a text file with a line longer than IMPORT_MAX_LINE_BYTES."""
    return ImportRefused(
        _("Line %(line)s is longer than %(limit)s, which no HR export has. Is this the right file?")
        % {"line": line, "limit": filesizeformat(limit("IMPORT_MAX_LINE_BYTES"))}
    )


def bounded_lines(text: io.TextIOBase, encoding: str) -> Iterator[str]:
    """The lines of a text file with their endings, each read in a bounded piece; a longer line is refused."""
    max_chars = max_line_chars(encoding)
    number = 0
    while line := text.readline(max_chars + 2):  # room for \r\n
        number += 1
        if len(line) > max_chars and len(line.rstrip("\r\n")) > max_chars:
            raise line_too_long(number)
        yield line
