"""Hostile HR exports: refused before they are parsed, with a message, in bounded memory, with nothing written.

Each file is built here: a zip bomb, a workbook of 10 000 columns, a text file with a 10 MB line.
"""

import io
import random
import tracemalloc
import zipfile
from collections.abc import Iterable

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audiences.imports.detection import directory_import_detect
from audiences.imports.errors import ImportRefused
from audiences.imports.services import directory_import_create, directory_import_plan, directory_import_run
from audiences.imports.tests.import_files import csv_bytes, person
from audiences.models import DirectoryImport, Employee

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

MB = 1024 * 1024
SHEET = "xl/worksheets/sheet1.xml"
SHEET_START = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
PEOPLE = [person(f"NE{i}") for i in range(6)]


def refusal(data: bytes, name: str) -> str:
    """Upload `data` through the service; its refusal's message, once it is clear it came in bounded memory
    and wrote nothing."""
    before = DirectoryImport.objects.count()
    file = ContentFile(data, name=name)
    tracemalloc.start()
    try:
        with pytest.raises(ImportRefused) as refused:
            directory_import_create(file=file, by=None)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * MB, f"{peak / MB:.0f} MB"
    assert DirectoryImport.objects.count() == before
    assert Employee.objects.count() == 0
    return refused.value.message


def workbook(rows: Iterable[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_sheet(parts: Iterable[bytes], *, extra_members: int = 0, extra: dict[str, bytes] | None = None) -> bytes:
    """A real workbook whose first sheet is replaced by `parts`, written and packed piece by piece."""
    real = zipfile.ZipFile(io.BytesIO(workbook([["E-post"], ["asa@norrstrom.se"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as packed:
        for member in real.infolist():
            if member.filename == SHEET:
                with packed.open(SHEET, "w", force_zip64=True) as sheet:
                    for part in parts:
                        sheet.write(part)
            else:
                packed.writestr(member, real.read(member))
        for number in range(extra_members):
            packed.writestr(f"customXml/item{number}.xml", b"<a/>")
        for name, content in (extra or {}).items():
            packed.writestr(name, content)
    return out.getvalue()


def blanks(megabytes: int) -> Iterable[bytes]:
    yield SHEET_START + b"<sheetData>"
    for _ in range(megabytes):
        yield b" " * MB  # whitespace between elements: valid XML, packs a thousand times smaller
    yield b"</sheetData></worksheet>"


# Workbooks --------------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_by_its_directory_without_unpacking_it():
    bomb = with_sheet(blanks(300))
    assert len(bomb) < 2 * MB
    message = refusal(bomb, "Personal.xlsx")
    assert message == (
        "The workbook unpacks to 300.0\xa0MB; the limit is 200.0\xa0MB. "
        "Remove the sheets that are not needed, or save the sheet as CSV."
    )


def test_a_part_packed_suspiciously_tightly_is_refused_even_under_the_size_limit():
    message = refusal(with_sheet(blanks(20)), "Personal.xlsx")
    assert "unpacks to over 100 times its size" in message


def test_the_size_limit_is_a_setting(settings):
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 1 * MB
    data = workbook([["E-post", "Namn"], *([f"ne{i}@norrstrom.se", f"Person {i}"] for i in range(20_000))])
    assert "the limit is 1.0\xa0MB" in refusal(data, "Personal.xlsx")


def test_a_workbook_of_too_many_parts_is_refused():
    message = refusal(with_sheet([SHEET_START + b"<sheetData/></worksheet>"], extra_members=1000), "Personal.xlsx")
    assert "a real export has far fewer" in message


def test_a_workbook_of_10_000_columns_is_refused():
    data = workbook([[f"Kolumn {i}" for i in range(10_000)], ["x"] * 10_000])
    assert refusal(data, "Personal.xlsx") == (
        "The file has more than 200 columns. Remove the columns that are not needed and upload it again."
    )


def test_a_sheet_declaring_10_000_columns_is_refused_before_its_rows_are_padded_to_that_width():
    sheet = (
        SHEET_START + b'<dimension ref="A1:NTP2"/><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>E-post</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>asa@norrstrom.se</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    assert "more than 200 columns" in refusal(with_sheet([sheet]), "Personal.xlsx")


def test_a_row_of_a_million_cells_is_refused_before_openpyxl_builds_it():
    numbers = random.Random(1)

    def cells():  # random numbers, so it packs like real data, not like a bomb
        yield SHEET_START + b'<sheetData><row r="1">'
        for _ in range(100):
            yield b"".join(b"<c><v>%d</v></c>" % numbers.randrange(10**9) for _ in range(10_000))
        yield b"</row></sheetData></worksheet>"

    assert "more than 200 columns" in refusal(with_sheet(cells()), "Personal.xlsx")


def test_a_workbook_with_a_dtd_is_refused_so_no_entity_can_expand():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "hahahahaha">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c t="inlineStr"><is><t>&c;</t></is></c></row></sheetData></worksheet>'
    )
    assert refusal(with_sheet([laughs]), "Personal.xlsx") == "The file is not a readable Excel workbook (.xlsx)."


def test_a_workbook_with_an_image_and_a_sloppy_comment_drawing_is_read():
    sheet = (
        SHEET_START + b'<dimension ref="A1:A2"/><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>E-post</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>asa@norrstrom.se</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    extra = {
        "xl/media/image1.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        "xl/drawings/vmlDrawing1.vml": b"<xml><v:shape><br></v:shape></xml>",  # VML as Excel writes it: not XML
    }
    assert directory_import_plan(source=with_sheet([sheet], extra=extra)).created == 1


def test_a_workbook_with_far_more_rows_than_the_limit_is_refused_on_upload(settings):
    settings.IMPORT_MAX_ROWS = 5  # the rows above the header are not known yet: 30 are allowed for
    data = workbook([["E-post"], *([f"ne{i}@norrstrom.se"] for i in range(36))])
    assert refusal(data, "Personal.xlsx") == "The file has more than 5 rows; one import takes at most that many."


def test_a_workbook_at_the_row_limit_is_read(settings):
    settings.IMPORT_MAX_ROWS = 5
    data = workbook([["Titel: personal"], ["E-post"], *([f"ne{i}@norrstrom.se"] for i in range(5))])
    assert directory_import_plan(source=data).created == 5


def test_rows_past_the_limit_are_refused_while_reading_too(settings):
    data = workbook([["E-post"], *([f"ne{i}@norrstrom.se"] for i in range(6))])
    detected = directory_import_detect(source=data)
    settings.IMPORT_MAX_ROWS = 5
    with pytest.raises(ImportRefused, match="more than 5 rows"):
        directory_import_plan(source=data, detected=detected)
    assert Employee.objects.count() == 0


# Text files -------------------------------------------------------------------------------


def test_a_csv_with_a_10_mb_line_is_refused():
    data = b"E-post;Namn\r\n" + b"a;" * (5 * MB) + b"\r\n"
    assert refusal(data, "personal.csv") == (
        "Line 2 is longer than 64.0\xa0KB, which no HR export has. Is this the right file?"
    )


def test_a_long_line_far_below_the_first_lines_is_refused_while_the_rows_are_read():
    data = csv_bytes([person(f"NE{i}") for i in range(3000)]) + b"x" * (10 * MB) + b"\r\n"
    assert "Line 3002 is longer than 64.0\xa0KB" in refusal(data, "personal.csv")


def test_a_long_line_in_utf16_is_refused():
    data = ("E-post\tNamn\r\n" + "å" * 100_000 + "\r\n").encode("utf-16")
    assert "Line 2 is longer than" in refusal(data, "personal.txt")


def test_the_line_limit_is_a_setting(settings):
    settings.IMPORT_MAX_LINE_BYTES = 100
    data = csv_bytes([person("NE1", title="Elektriker " * 10)])
    assert "Line 2 is longer than 100\xa0bytes" in refusal(data, "personal.csv")


def test_a_csv_with_more_rows_than_the_limit_is_refused(settings):
    settings.IMPORT_MAX_ROWS = 5
    assert refusal(csv_bytes(PEOPLE), "personal.csv") == (
        "The file has more than 5 rows; one import takes at most that many."
    )


def test_a_csv_at_the_row_limit_is_read(settings):
    settings.IMPORT_MAX_ROWS = 6
    assert directory_import_plan(source=csv_bytes(PEOPLE)).created == 6


def test_a_csv_with_too_many_columns_is_refused():
    header = ";".join(f"Kolumn {i}" for i in range(300)).encode()
    assert "more than 200 columns" in refusal(header + b"\r\n" + b"x;" * 299 + b"x\r\n", "personal.csv")


def test_a_csv_row_wider_than_the_limit_below_the_header_is_refused(settings):
    settings.IMPORT_MAX_COLUMNS = 12
    data = csv_bytes(PEOPLE) + b"NE9;" + b"x;" * 12 + b"x\r\n"
    assert "more than 12 columns" in refusal(data, "personal.csv")


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        (b"x" * (10 * MB) + b"\r\n", "Line 3002 is longer than 64.0\xa0KB"),
        (b"NE9;" + b"x;" * 300 + b"x\r\n", "more than 200 columns"),
    ],
    ids=["10mb-line", "wide-row"],
)
def test_an_import_run_refuses_a_hostile_text_file_read_once_and_writes_nothing(tail, message):
    """The run sniffs the head only and reads the file once while importing: the tail is refused then."""
    data = csv_bytes([person(f"NE{i}", manager="NE0" if i else "") for i in range(3000)]) + tail

    with pytest.raises(ImportRefused) as refused:
        directory_import_run(source=data)

    assert message in refused.value.message
    assert Employee.objects.count() == 0


# Through the upload page ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("Personal.xlsx", lambda: with_sheet(blanks(300)), "The workbook unpacks to 300.0\xa0MB"),
        ("Personal.xlsx", lambda: workbook([[f"K{i}" for i in range(10_000)]]), "more than 200 columns"),
        ("personal.csv", lambda: b"E-post;Namn\r\n" + b"a;" * (5 * MB) + b"\r\n", "Line 2 is longer than 64.0\xa0KB"),
        ("personal.csv", lambda: csv_bytes(PEOPLE), "The file has more than 5 rows"),
    ],
    ids=["zip-bomb", "10000-columns", "10mb-line", "too-many-rows"],
)
def test_the_upload_page_shows_the_refusal_and_keeps_nothing(client, importer, settings, name, data, message):
    settings.IMPORT_MAX_ROWS = 5
    client.force_login(importer)
    response = client.post(reverse("audiences:import_upload"), {"file": SimpleUploadedFile(name, data())})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert DirectoryImport.objects.count() == 0
    assert not any(path.is_file() for path in _media_files(settings))


def _media_files(settings):
    from pathlib import Path

    return Path(settings.MEDIA_ROOT).rglob("*")
