"""HR exports as Swedish HR systems and Excel write them, built in memory for the import tests."""

import csv
import io

import openpyxl

from audiences import demo

HEADERS = (
    demo.HEADERS
)  # Anställningsnummer, Förnamn, Efternamn, E-post, Avdelning, Ort, Befattning, Chef, Språk, Tidszon


def person(number: str = "NE1", first: str = "Åsa", last: str = "Öberg", email: str = "", **fields) -> dict:
    row = {
        "Anställningsnummer": number,
        "Förnamn": first,
        "Efternamn": last,
        "E-post": email or f"{number.lower()}@norrstrom.se",
        "Avdelning": fields.pop("department", "Drift och underhåll"),
        "Ort": fields.pop("site", "Västerås"),
        "Befattning": fields.pop("title", "Elektriker"),
        "Chef": fields.pop("manager", ""),
        "Språk": fields.pop("language", "sv"),
    }
    row.update(fields)
    return row


def csv_text(rows: list[dict], *, headers: list[str] | None = None, delimiter: str = ";") -> str:
    headers = headers or list(rows[0].keys() if rows else HEADERS)
    out = io.StringIO()
    writer = csv.DictWriter(out, headers, delimiter=delimiter, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def csv_bytes(rows: list[dict], *, encoding: str = "utf-8", delimiter: str = ";", **kwargs) -> bytes:
    return csv_text(rows, delimiter=delimiter, **kwargs).encode(encoding)


def excel_cp1252(rows: list[dict]) -> bytes:
    """Excel's plain "CSV" in Sweden: Windows-1252, semicolons."""
    return csv_bytes(rows, encoding="cp1252", delimiter=";")


def utf16_unicode_text(rows: list[dict]) -> bytes:
    """Excel's "Unicode text": UTF-16 with a BOM, tab-separated."""
    return csv_bytes(rows, encoding="utf-16", delimiter="\t")


def xlsx_with_title_on_second_sheet(rows: list[dict]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Info"
    workbook.active["A1"] = "Exporterad från HR-systemet"
    sheet = workbook.create_sheet("Personal")
    sheet["A1"] = "Personallista Norrström Energi AB"
    sheet["A2"] = "Uttag 2026-11-01"
    headers = list(rows[0].keys())
    sheet.append([])
    sheet.append(headers)
    for row in rows:
        sheet.append([row[h] for h in headers])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
