"""The directory import services: reading messy HR exports, identity, rejections, refusals, deactivation."""

import io

import pytest
from django.utils import timezone, translation

from audiences.imports import (
    ImportRefused,
    directory_import_detect,
    directory_import_plan,
    directory_import_run,
    guess_mapping,
)
from audiences.imports.tests.import_files import (
    csv_bytes,
    excel_cp1252,
    person,
    utf16_unicode_text,
    xlsx_with_title_on_second_sheet,
)
from audiences.models import Employee
from audiences.tests.factories import make_employee

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


SWEDES = [
    person("NE1", "Åsa", "Öberg", department="Drift och underhåll", site="Västerås"),
    person("NE2", "Renée", "Åström", department="Försäljning", site="Örebro", title="Säljare", manager="NE1"),
    person(
        "NE3",
        "Björn",
        "Sjöberg",
        department="Kundservice",
        site="Eskilstuna",
        language="en",
        manager="ne2@norrstrom.se",
    ),
]


def assert_swedes_imported() -> None:
    assert Employee.objects.count() == 3
    asa = Employee.objects.get(employee_number="NE1")
    assert (asa.first_name, asa.last_name, asa.site, asa.manager, asa.manager_employee) == (
        "Åsa",
        "Öberg",
        "Västerås",
        "",
        None,
    )
    renee = Employee.objects.get(employee_number="NE2")
    assert (renee.manager_employee, renee.manager) == (asa, "Åsa Öberg")  # by employee ID
    assert Employee.objects.get(employee_number="NE3").manager_employee == renee  # by email
    assert (renee.first_name, renee.last_name, renee.department, renee.site) == (
        "Renée",
        "Åström",
        "Försäljning",
        "Örebro",
    )
    assert Employee.objects.get(employee_number="NE3").language == "en"


# Formats ------------------------------------------------------------------------------


def test_it_reads_excel_csv_in_windows_1252_with_semicolons():
    data = excel_cp1252(SWEDES)
    detected = directory_import_detect(source=data)
    assert (detected.format, detected.encoding, detected.delimiter, detected.header_row) == ("csv", "cp1252", ";", 1)
    result = directory_import_run(source=data)
    assert result.summary_line() == "created=3 updated=0 unchanged=0 deactivated=0 rejected=0"
    assert_swedes_imported()


def test_it_reads_utf8_with_a_bom_and_comma():
    data = csv_bytes(SWEDES, encoding="utf-8-sig", delimiter=",")
    detected = directory_import_detect(source=data)
    assert (detected.encoding, detected.delimiter) == ("utf-8-sig", ",")
    assert detected.headers[0] == "Anställningsnummer"  # no BOM glued to the first header
    directory_import_run(source=data)
    assert_swedes_imported()


def test_it_reads_utf8_without_a_bom():
    data = csv_bytes(SWEDES, encoding="utf-8")
    assert directory_import_detect(source=data).encoding == "utf-8"
    directory_import_run(source=data)
    assert_swedes_imported()


def test_it_reads_utf16_unicode_text_separated_by_tabs():
    data = utf16_unicode_text(SWEDES)
    detected = directory_import_detect(source=data)
    assert (detected.encoding, detected.delimiter) == ("utf-16", "\t")
    directory_import_run(source=data)
    assert_swedes_imported()


def test_it_reads_pipe_separated_files():
    data = csv_bytes(SWEDES, delimiter="|")
    assert directory_import_detect(source=data).delimiter == "|"
    directory_import_run(source=data)
    assert_swedes_imported()


def test_it_reads_quoted_fields_holding_delimiters_and_line_breaks():
    rows = [person("NE1", title="Arbetsledare; skift 2", department="Drift\nunderhåll")]
    data = csv_bytes(rows, encoding="cp1252")
    assert b'"Arbetsledare; skift 2"' in data
    directory_import_run(source=data)
    employee = Employee.objects.get()
    assert employee.title == "Arbetsledare; skift 2"
    assert employee.department == "Drift\nunderhåll"


def test_it_skips_blank_lines_and_empty_trailing_columns():
    data = (
        "Förnamn;Efternamn;E-post;;;\r\n"
        "\r\n"
        "Åke;Ström;ake.strom@norrstrom.se;;;\r\n"
        ";;;;;\r\n"
        "Märta;Åberg;marta.aberg@norrstrom.se;;;\r\n"
        "\r\n"
    ).encode("cp1252")
    detected = directory_import_detect(source=data)
    assert detected.headers == ["Förnamn", "Efternamn", "E-post"]
    result = directory_import_run(source=data)
    assert (result.created, result.rejected, result.total_rows) == (2, 0, 2)
    assert sorted(Employee.objects.values_list("first_name", flat=True)) == ["Märta", "Åke"]
    assert Employee.objects.get(first_name="Åke").extra == {}


def test_it_finds_the_table_below_a_title_on_the_second_sheet_of_a_workbook():
    data = xlsx_with_title_on_second_sheet(SWEDES)
    detected = directory_import_detect(source=data)
    assert (detected.format, detected.sheet, detected.header_row) == ("xlsx", "Personal", 4)
    result = directory_import_run(source=data)
    assert result.created == 3
    assert_swedes_imported()


def test_it_reads_numbers_typed_as_numbers_in_a_workbook_as_ids():
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["Employee ID", "Email"])
    workbook.active.append([10023, "anna@norrstrom.se"])
    out = io.BytesIO()
    workbook.save(out)
    directory_import_run(source=out.getvalue())
    assert Employee.objects.get().employee_number == "10023"


def test_it_recognises_english_headers_in_any_case_and_spacing():
    data = b"  EMPLOYEE ID ,first name,Last Name,E-mail,Department,Location,Job title,Manager,Language\n" + (
        b"7,Anna,Berg,anna.berg@norrstrom.se,IT,Uppsala,Systemutvecklare,per.holm@norrstrom.se,English\n"
        b"8,Per,Holm,per.holm@norrstrom.se,IT,Uppsala,IT-chef,,English\n"
    )
    directory_import_run(source=data)
    anna = Employee.objects.get(employee_number="7")
    assert (anna.employee_number, anna.first_name, anna.last_name, anna.email) == (
        "7",
        "Anna",
        "Berg",
        "anna.berg@norrstrom.se",
    )
    assert (anna.department, anna.site, anna.title, anna.manager, anna.language) == (
        "IT",
        "Uppsala",
        "Systemutvecklare",
        "Per Holm",
        "en",
    )


def test_it_recognises_swedish_header_variants():
    mapping = guess_mapping(["Anst.nr", "Förnamn", "E-postadress", "Kontor", "Roll", "Närmaste chef", "Kostnadsställe"])
    assert mapping == {
        "0": "employee_number",
        "1": "first_name",
        "2": "email",
        "3": "site",
        "4": "title",
        "5": "manager",
        "6": "extra",
    }


def test_unknown_columns_go_to_extra_attributes():
    data = "E-post;Kostnadsställe;Skift\nanna@norrstrom.se;4410;Natt\n".encode("cp1252")
    directory_import_run(source=data)
    assert Employee.objects.get().extra == {"Kostnadsställe": "4410", "Skift": "Natt"}


def test_a_column_can_be_mapped_by_hand():
    data = b"Jobbmejl;Sektion\nanna@norrstrom.se;Ekonomi\n"
    with pytest.raises(ImportRefused):
        directory_import_run(source=data)
    directory_import_run(source=data, mapping={"0": "email", "1": "department"})
    assert Employee.objects.get().department == "Ekonomi"


# Identity and re-import ----------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing():
    data = excel_cp1252(SWEDES)
    directory_import_run(source=data)
    before = list(Employee.objects.order_by("id").values())
    result = directory_import_run(source=data)
    assert result.summary_line() == "created=0 updated=0 unchanged=3 deactivated=0 rejected=0"
    assert list(Employee.objects.order_by("id").values()) == before


def test_reimporting_a_file_with_extra_columns_changes_nothing():
    data = "E-post;Kostnadsställe\nanna@norrstrom.se;4410\n".encode("cp1252")
    directory_import_run(source=data)
    assert directory_import_run(source=data).unchanged == 1


def test_it_updates_only_the_changed_fields_and_reports_them():
    directory_import_run(source=excel_cp1252(SWEDES))
    moved = [SWEDES[0] | {"Ort": "Örebro", "Befattning": "Arbetsledare"}, *SWEDES[1:]]
    plan = directory_import_plan(source=excel_cp1252(moved))
    assert (plan.updated, plan.unchanged) == (1, 2)
    changes = {c["field"]: (c["old"], c["new"]) for c in plan.changed[0]["changes"]}
    assert changes == {"site": ("Västerås", "Örebro"), "title": ("Elektriker", "Arbetsledare")}
    assert Employee.objects.get(employee_number="NE1").site == "Västerås"  # the plan wrote nothing

    directory_import_run(source=excel_cp1252(moved))
    asa = Employee.objects.get(employee_number="NE1")
    assert (asa.site, asa.title) == ("Örebro", "Arbetsledare")
    assert asa.updated_at > asa.created_at


def test_identity_is_the_employee_number_when_the_file_has_one():
    asa = make_employee("Åsa", "Öberg", employee_number="NE1", email="asa.oberg@norrstrom.se")
    result = directory_import_run(source=excel_cp1252([person("NE1", "Åsa", "Lind", email="asa.lind@norrstrom.se")]))
    assert (result.created, result.updated) == (0, 1)
    asa.refresh_from_db()
    assert (asa.email, asa.last_name) == ("asa.lind@norrstrom.se", "Lind")


def test_identity_is_the_trimmed_case_insensitive_email_when_the_file_has_no_number():
    anna = make_employee("Anna", "Berg", email="anna.berg@norrstrom.se", employee_number="NE9")
    data = "E-post;Förnamn;Avdelning\n  Anna.Berg@Norrstrom.se ;Anna;IT\n".encode("cp1252")
    result = directory_import_run(source=data)
    assert (result.created, result.updated) == (0, 1)
    anna.refresh_from_db()
    assert anna.department == "IT"
    assert anna.employee_number == "NE9"  # a file without numbers never touches them


def test_a_known_person_gets_their_employee_number_from_a_file_that_has_one():
    anna = make_employee("Anna", "Berg", email="anna.berg@norrstrom.se", employee_number=None)
    directory_import_run(source=excel_cp1252([person("NE5", "Anna", "Berg", email="anna.berg@norrstrom.se")]))
    anna.refresh_from_db()
    assert anna.employee_number == "NE5"
    assert Employee.objects.count() == 1


def test_a_returning_employee_is_reactivated():
    make_employee("Åsa", "Öberg", employee_number="NE1", email="ne1@norrstrom.se", is_active=False)
    result = directory_import_run(source=excel_cp1252([person("NE1", "Åsa", "Öberg")]))
    assert result.updated == 1
    assert Employee.objects.get().is_active


# Rejected rows ------------------------------------------------------------------------


def test_it_rejects_a_row_without_email_and_imports_the_rest():
    rows = [person("NE1"), person("NE2", email=" "), person("NE3")]
    rows[1]["E-post"] = ""
    result = directory_import_run(source=excel_cp1252(rows))
    assert (result.created, result.rejected) == (2, 1)
    assert result.row_errors == [
        {"row": 3, "email": "", "employee_number": "NE2", "reason": "The email address is missing."}
    ]
    assert not Employee.objects.filter(employee_number="NE2").exists()


def test_it_rejects_a_row_with_an_invalid_email():
    result = directory_import_run(source=excel_cp1252([person("NE1", email="asa.oberg(at)norrstrom.se")]))
    assert result.rejected == 1
    assert "not a valid email address" in result.row_errors[0]["reason"]
    assert Employee.objects.count() == 0


def test_it_rejects_the_same_person_twice_in_one_file():
    rows = [person("NE1"), person("NE1", email="other@norrstrom.se"), person("NE2", email="NE1@norrstrom.se")]
    result = directory_import_run(source=excel_cp1252(rows))
    assert (result.created, result.rejected) == (1, 2)
    assert [e["row"] for e in result.row_errors] == [3, 4]
    assert "also on row 2" in result.row_errors[0]["reason"]
    assert "also on row 2" in result.row_errors[1]["reason"]


def test_it_rejects_an_email_that_belongs_to_another_employee_number():
    make_employee(employee_number="NE7", email="ne1@norrstrom.se")
    result = directory_import_run(source=excel_cp1252([person("NE1")]))
    assert result.rejected == 1
    assert "NE7" in result.row_errors[0]["reason"]


def test_it_rejects_a_value_too_long_for_its_field():
    result = directory_import_run(source=excel_cp1252([person("NE1", department="x" * 121)]))
    assert result.rejected == 1
    assert "120" in result.row_errors[0]["reason"]


# Refused files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("Förnamn;Efternamn\nÅsa;Öberg\n".encode("cp1252"), "no email column"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "not a text file"),
        (b"\xef\xbb\xbfE-post\nasa@x.se\n\xc3\x28\xa0\xa1\n", "could not be read"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "old Excel file"),
        (b"PK\x03\x04not really a workbook", "not a readable Excel workbook"),
        (b"", "empty"),
        (b"E-post;Namn\n\n", "no rows below the header"),
    ],
    ids=["no-email-column", "binary", "undecodable", "xls", "broken-xlsx", "empty", "header-only"],
)
def test_it_refuses_a_file_it_cannot_import_and_writes_nothing(data, message):
    make_employee(employee_number="NE9")
    with pytest.raises(ImportRefused) as refused:
        directory_import_run(source=data, deactivate_missing=True)
    assert message in refused.value.message
    assert Employee.objects.count() == 1
    assert Employee.objects.get().is_active


def test_it_refuses_a_file_over_the_size_limit(settings):
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(ImportRefused) as refused:
        directory_import_run(source=excel_cp1252(SWEDES))
    assert "limit" in refused.value.message
    assert Employee.objects.count() == 0


def test_a_failure_halfway_rolls_back_every_row(monkeypatch):
    from audiences.imports import services

    monkeypatch.setattr(services, "CHUNK_ROWS", 2)
    read_rows = services.iter_rows

    def rows_that_break_after_eight(f, detected, **options):
        for count, row in enumerate(read_rows(f, detected, **options), start=1):
            if count > 8:  # four chunks of two are written by now
                raise ImportRefused("The file changed under us.")
            yield row

    monkeypatch.setattr(services, "iter_rows", rows_that_break_after_eight)
    with pytest.raises(ImportRefused):
        directory_import_run(source=excel_cp1252([person(f"NE{i}") for i in range(10)]))
    assert Employee.objects.count() == 0


def test_a_file_broken_near_its_end_is_refused_before_any_row_is_written(settings):
    settings.IMPORT_MAX_LINE_BYTES = 1024 * 1024  # so the open quote is what stops it, not the line's length
    rows = [person(f"NE{i}") for i in range(10)]
    data = excel_cp1252(rows) + b'NE99;"Ola;Nordmann;ola@x.se\n' + b"x" * 140_000
    with pytest.raises(ImportRefused) as refused:
        directory_import_run(source=data)
    assert "near line 12" in refused.value.message
    assert Employee.objects.count() == 0


# Deactivation -------------------------------------------------------------------------


def test_deactivate_missing_deactivates_active_employees_absent_from_the_file():
    directory_import_run(source=excel_cp1252(SWEDES))
    erased = make_employee(employee_number="NE8", erased_at=timezone.now())
    already_gone = make_employee(employee_number="NE9", is_active=False)
    plan = directory_import_plan(source=excel_cp1252(SWEDES[:2]), deactivate_missing=True)
    assert (plan.unchanged, plan.deactivated) == (2, 1)
    assert plan.deactivated_people[0]["employee_number"] == "NE3"
    assert Employee.objects.get(employee_number="NE3").is_active

    result = directory_import_run(source=excel_cp1252(SWEDES[:2]), deactivate_missing=True)
    assert result.deactivated == 1
    assert not Employee.objects.get(employee_number="NE3").is_active
    assert Employee.objects.filter(is_active=True).count() == 2 + 1  # the erased row is left alone
    erased.refresh_from_db()
    already_gone.refresh_from_db()
    assert erased.is_active and not already_gone.is_active


def test_without_deactivate_missing_absent_employees_stay_active():
    directory_import_run(source=excel_cp1252(SWEDES))
    result = directory_import_run(source=excel_cp1252(SWEDES[:1]))
    assert result.deactivated == 0
    assert Employee.objects.filter(is_active=True).count() == 3


def test_a_rejected_row_does_not_deactivate_the_person_it_names():
    directory_import_run(source=excel_cp1252(SWEDES))
    broken = [SWEDES[0] | {"E-post": "not-an-email"}, *SWEDES[1:]]
    result = directory_import_run(source=excel_cp1252(broken), deactivate_missing=True)
    assert (result.rejected, result.deactivated) == (1, 0)
    assert Employee.objects.get(employee_number="NE1").is_active


def test_a_file_where_every_row_is_rejected_deactivates_nobody():
    directory_import_run(source=excel_cp1252(SWEDES))
    with pytest.raises(ImportRefused):
        directory_import_run(source=b"E-post\nnot-an-email\n", deactivate_missing=True)
    assert Employee.objects.filter(is_active=True).count() == 3


def test_an_unknown_language_falls_back_to_swedish_and_reimports_unchanged():
    data = excel_cp1252([person("NE1", language="Finska"), person("NE2", language="Engelska")])
    directory_import_run(source=data)
    assert dict(Employee.objects.values_list("employee_number", "language")) == {"NE1": "sv", "NE2": "en"}
    assert directory_import_run(source=data).unchanged == 2


@pytest.mark.parametrize("header", ["Time zone", "Timezone", "TZ", "Tidszon", "time_zone"])
def test_a_time_zone_column_is_recognised_by_any_common_header(header):
    assert guess_mapping(["E-post", "Språk", header]) == {"0": "email", "1": "language", "2": "time_zone"}


def test_the_import_reads_both_the_language_and_the_time_zone_of_each_person():
    rows = [
        person("NE1", language="Engelska", Tidszon="europe/london"),
        person("NE2", language="sv", Tidszon=" Europe/Helsinki "),
        person("NE3", language="English", Tidszon=""),  # empty: the organisation's zone
    ]
    data = excel_cp1252(rows)
    result = directory_import_run(source=data)

    assert result.created == 3
    people = {e.employee_number: (e.language, e.time_zone) for e in Employee.objects.all()}
    assert people == {"NE1": ("en", "Europe/London"), "NE2": ("sv", "Europe/Helsinki"), "NE3": ("en", "")}
    assert directory_import_run(source=data).unchanged == 3


def test_a_time_zone_that_is_no_time_zone_rejects_the_row_with_a_reason():
    directory_import_run(source=excel_cp1252([person("NE1", Tidszon="Europe/Helsinki")]))
    rows = [person("NE1", Tidszon="Helsingfors"), person("NE2", Tidszon="Europe/London")]

    result = directory_import_run(source=excel_cp1252(rows), deactivate_missing=True)

    assert (result.created, result.rejected, result.deactivated) == (1, 1, 0)
    assert result.row_errors[0]["row"] == 2
    assert result.row_errors[0]["reason"] == "Helsingfors is not a time zone (for example Europe/Helsinki)."
    assert Employee.objects.get(employee_number="NE1").time_zone == "Europe/Helsinki"  # unchanged, still active
    assert Employee.objects.get(employee_number="NE1").is_active


def test_it_rejects_a_known_person_named_twice_in_one_file():
    directory_import_run(source=excel_cp1252(SWEDES))
    rows = [*SWEDES, SWEDES[0] | {"Ort": "Örebro"}]
    result = directory_import_run(source=excel_cp1252(rows))
    assert (result.unchanged, result.rejected) == (3, 1)
    assert result.row_errors[0]["row"] == 5
    assert "also on row 2" in result.row_errors[0]["reason"]
    assert Employee.objects.get(employee_number="NE1").site == "Västerås"


def test_a_file_with_only_an_email_column_imports_and_reimports():
    data = b"Email\r\nanna@norrstrom.se\r\nbo@norrstrom.se\r\n"
    assert directory_import_run(source=data).created == 2
    assert directory_import_run(source=data).unchanged == 2


@pytest.mark.parametrize(
    "email",
    [
        "anna.berg@norrstrom.se",
        "ANNA.BERG@Norrstrom.SE",
        "anna+hr@mail.norrstrom.se",
        "a..b@norrstrom.se",
        ".anna@norrstrom.se",
        "anna@-norrstrom.se",
        "anna@norrstrom",
        "anna@localhost",
        "åsa@norrstrom.se",
        "anna@norrström.se",
        "a@b.c",
        "anna@@norrstrom.se",
        "anna@[127.0.0.1]",
        "o'brien@norrstrom.se",
        "x" * 250 + "@norrstrom.se",
    ],
)
def test_the_quick_email_check_agrees_with_djangos_validator(email):
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from audiences.imports.validation import valid_email

    try:
        validate_email(email)
        expected = len(email) <= 254
    except ValidationError:
        expected = False
    assert valid_email(email) is expected


def test_a_refused_file_is_logged_with_its_reason(caplog):
    with pytest.raises(ImportRefused):
        directory_import_run(source="Förnamn;Efternamn\nÅsa;Öberg\n".encode("cp1252"))
    assert "Directory import refused" in caplog.text
    assert "no email column" in caplog.text


def test_rejection_reasons_speak_swedish_to_a_swedish_user():
    rows = [person("NE1", email="")]
    rows[0]["E-post"] = ""
    with translation.override("sv"):
        result = directory_import_run(source=excel_cp1252(rows))
    assert result.row_errors[0]["reason"] == "E-postadress saknas."


# The directory's history: a CSV import writes one row per person it changes, like SCIM


def test_an_import_records_each_person_it_creates_changes_and_deactivates():
    from audiences.models import EmployeeChange

    directory_import_run(source=excel_cp1252(SWEDES))
    created = EmployeeChange.objects.filter(action="created")
    assert created.count() == 3 and {c.source for c in created} == {"csv"}
    assert "department" in created.first().fields and "email" in created.first().fields

    changed = [
        *SWEDES[:1],
        person("NE2", "Renée", "Åström", department="Ekonomi", site="Örebro", title="Säljare", manager="NE1"),
    ]
    directory_import_run(source=excel_cp1252(changed), deactivate_missing=True)

    renee = Employee.objects.get(employee_number="NE2")
    (update,) = renee.changes.filter(action="updated")
    assert update.fields == ["department"]  # the names of the fields, never their values
    bjorn = Employee.objects.get(employee_number="NE3")
    assert bjorn.changes.filter(action="deactivated", fields=["is_active"]).exists()
    assert not Employee.objects.get(employee_number="NE1").changes.exclude(action="created").exists()  # unchanged

    directory_import_run(source=excel_cp1252(SWEDES))  # Björn is back
    assert bjorn.changes.filter(action="reactivated").exists()


def test_a_dry_run_writes_no_history():
    from audiences.models import EmployeeChange

    directory_import_plan(source=excel_cp1252(SWEDES))
    assert not EmployeeChange.objects.exists()


def test_the_garbage_collector_is_on_again_after_an_import_that_succeeds_or_is_refused():
    import gc

    directory_import_run(source=csv_bytes([person("NE1")]))
    assert gc.isenabled()
    with pytest.raises(ImportRefused):
        directory_import_run(source=csv_bytes([person("NE1")]) + b"x" * (1024 * 1024) + b"\r\n")
    assert gc.isenabled()
