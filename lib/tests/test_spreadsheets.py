import csv
import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from lib.spreadsheets import (
    Sheet,
    csv_dialect,
    neutralise,
    sheets_response,
    spreadsheet_response,
    write_csv,
    write_csv_sections,
    write_xlsx,
    write_xlsx_sheets,
)

HOSTILE = ['=HYPERLINK("http://evil")', "+1+2", "-2+3", "@SUM(A1)", "-1e5", "-", "＝1+1", "＋1", "－1", "＠SUM(A1)"]

# Text whose sign is hidden behind something a spreadsheet skips or a reader cannot see, and what is written.
DISGUISED = [
    ("\x00=cmd", "'=cmd"),
    ("\x1b=1+1", "'=1+1"),
    ("\x85=1+1", "'=1+1"),  # C1 next line
    ("\x7f@SUM(A1)", "'@SUM(A1)"),
    ("  =1+1", "'=1+1"),
    ("\t=1+1", "'=1+1"),
    ("\r\n=1+1", "'=1+1"),
    ("\n\t +1", "'+1"),
    ("\u3000=1+1", "'=1+1"),  # ideographic space
    ('\ufeff=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
    ("\u200b=1+1", "'=1+1"),
    ("\u200d\u200c=1+1", "'=1+1"),
    ("\u200e\u200f-2+3", "'-2+3"),
    ("\u202e=1+1", "'=1+1"),
    ("\u202a\u202c@SUM(A1)", "'@SUM(A1)"),
    ("\u2060\u2064=1+1", "'=1+1"),
    ("\u2066\u2069=1+1", "'=1+1"),
    ("\x00 \ufeff\u200b\u202e\t＝1+1", "'＝1+1"),
    ("\u200b-5", "-5"),
    ("  Åsa", "Åsa"),
]


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "a BOM, so Excel reads UTF-8"
    text = content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=csv_dialect()[0]))  # as written, in this language


def test_csv_follows_the_readers_excel_semicolons_and_decimal_commas_in_swedish():
    from django.utils import translation

    rows = [("Åsa", 2.5, 3)]
    with translation.override("sv"):
        swedish = write_csv(rows, ["name", "score", "n"]).decode("utf-8-sig")
    with translation.override("en"):
        english = write_csv(rows, ["name", "score", "n"]).decode("utf-8-sig")
    assert swedish == "name;score;n\r\nÅsa;2,5;3\r\n"
    assert english == "name,score,n\r\nÅsa,2.5,3\r\n"


def read_xlsx(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("value", HOSTILE)
def test_text_that_could_be_a_formula_gets_a_leading_quote(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value,written", DISGUISED)
def test_the_sign_is_checked_after_what_hides_it_is_removed(value, written):
    assert neutralise(value) == written


@pytest.mark.parametrize(
    "value", ["Åsa Öberg", "a=b", "", "'already", "-5", "-1,5", "-3.25", "Rad 1\nRad 2\tslut", 5, -5, -1.5, None]
)
def test_harmless_values_are_left_alone(value):
    assert neutralise(value) == value


def test_control_and_bidi_characters_go_from_inside_the_text_too():
    assert neutralise("Å\x00s\x1ba\u202e Ö\u2066berg\u2069") == "Åsa Öberg"
    assert neutralise("Ann\u200dBerg") == "Ann\u200dBerg", "joiners inside text are left for the scripts and emoji"


def test_csv_is_formula_safe_when_read_back():
    content = write_csv([[v, "Åsa"] for v in HOSTILE], ["value", "name"])
    rows = read_csv(content)
    assert rows[0] == ["value", "name"]
    assert [row[0] for row in rows[1:]] == ["'" + v for v in HOSTILE]
    assert all(row[1] == "Åsa" for row in rows[1:])


def test_disguised_formulas_are_neutralised_in_csv():
    content = write_csv([[value] for value, _ in DISGUISED], ["=value"])
    rows = read_csv(content)
    assert rows[0] == ["'=value"]
    assert [row[0] for row in rows[1:]] == [written for _, written in DISGUISED]


def test_xlsx_is_formula_safe_when_read_back():
    content = write_xlsx([[v, "Åsa"] for v in HOSTILE], ["value", "name"])
    sheet = load_workbook(io.BytesIO(content)).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == ["'" + v for v in HOSTILE]
    assert all(c.data_type == "s" for c in cells), "stored as text, never as a formula"


def test_disguised_formulas_are_neutralised_in_xlsx():
    content = write_xlsx([[value, -5, -1.5, "-5"] for value, _ in DISGUISED], ["=value", "n", "x", "text"])
    book = load_workbook(io.BytesIO(content))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells), "no cell is a formula"
    rows = [list(row) for row in book.active.iter_rows(min_row=2)]
    assert [row[0].value for row in rows] == [written for _, written in DISGUISED]
    assert all(row[0].data_type == "s" for row in rows)
    assert {(row[1].value, row[2].value, row[3].value) for row in rows} == {(-5, -1.5, "-5")}
    assert (rows[0][1].data_type, rows[0][2].data_type) == ("n", "n"), "numbers stay numbers"


def test_values_of_other_types_are_written_as_neutralised_text():
    from django.utils.functional import lazy

    formula = lazy(lambda: "=1+1", str)()
    assert read_csv(write_csv([[formula]], ["v"]))[1] == ["'=1+1"]
    assert read_xlsx(write_xlsx([[formula]], ["v"]))[1] == ["'=1+1"]


def test_xlsx_keeps_numbers_and_drops_characters_xml_cannot_hold():
    when = datetime.date(2027, 3, 1)
    content = write_xlsx([[-5, "a\x00b", None, True, when]], ["n", "text", "empty", "flag", "date"])
    assert read_xlsx(content)[1] == [-5, "ab", None, True, datetime.datetime(2027, 3, 1)]


def test_aware_datetimes_are_written_in_local_time(settings):
    settings.TIME_ZONE = "Europe/Stockholm"
    moment = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=ZoneInfo("UTC"))
    assert read_xlsx(write_xlsx([[moment]], ["when"]))[1] == [datetime.datetime(2027, 3, 1, 9, 0)]
    assert read_csv(write_csv([[moment]], ["when"]))[1] == ["2027-03-01 09:00:00"]


def test_a_download_is_an_attachment_with_the_right_type():
    response = spreadsheet_response([["Åsa"]], ["name"], fmt="xlsx", filename="Målgrupp")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    assert "M%C3%A5lgrupp.xlsx" in response["Content-Disposition"]


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError):
        spreadsheet_response([], ["name"], fmt="ods", filename="x")


def test_sheets_become_sections_of_one_csv_with_titles_neutralised():
    sheets = [Sheet("=Title", ["Name", "n"], [[HOSTILE[0], 1]]), Sheet("Second", ["x"], [[2]])]
    rows = read_csv(write_csv_sections(sheets))
    assert rows == [["'=Title"], ["Name", "n"], ["'" + HOSTILE[0], "1"], [], ["Second"], ["x"], ["2"], []]


def test_sheets_become_worksheets_with_names_excel_accepts():
    long = "A very long title: more than thirty-one characters"
    book = load_workbook(io.BytesIO(write_xlsx_sheets([Sheet(long, ["a"], [["+1"]]), Sheet(long, ["b"], [[3]])])))
    assert all(len(name) <= 31 and ":" not in name for name in book.sheetnames)
    assert len(set(book.sheetnames)) == 2
    assert list(book.worksheets[0].iter_rows(values_only=True)) == [("a",), ("'+1",)]


def test_a_report_download_is_an_attachment():
    response = sheets_response([Sheet("S", ["a"], [[1]])], fmt="xlsx", filename="report")
    assert response["Content-Disposition"] == 'attachment; filename="report.xlsx"'
    with pytest.raises(ValueError):
        sheets_response([], fmt="ods", filename="report")
