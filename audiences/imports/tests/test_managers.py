"""Who manages whom, from the manager column: by employee ID or email, in any order; bad rows refused with a reason."""

import pytest

from audiences.imports import ImportRefused, directory_import_plan, directory_import_run, guess_mapping
from audiences.imports.tests.import_files import csv_bytes, excel_cp1252, person
from audiences.models import Employee
from audiences.tests.factories import make_employee

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def reasons(result) -> dict[int, str]:
    return {error["row"]: error["reason"] for error in result.row_errors}


def test_the_manager_column_is_recognised_in_swedish_and_english():
    for header in ("Chef", "Närmaste chef", "Manager", "Manager email", "Chefens e-post", "Manager ID", "Chef anst.nr"):
        assert guess_mapping(["E-post", header]) == {"0": "email", "1": "manager"}, header


def test_a_report_may_name_a_manager_further_down_the_file():
    rows = [
        person("NE2", "Renée", "Åström", manager="ne1@norrstrom.se"),
        person("NE3", "Björn", "Sjöberg", manager="NE2"),
        person("NE1", "Göran", "Ström"),
    ]

    result = directory_import_run(source=excel_cp1252(rows))

    assert result.summary_line() == "created=3 updated=0 unchanged=0 deactivated=0 rejected=0"
    goran, renee, bjorn = (Employee.objects.get(employee_number=n) for n in ("NE1", "NE2", "NE3"))
    assert (renee.manager_employee, renee.manager) == (goran, "Göran Ström")
    assert (bjorn.manager_employee, bjorn.manager) == (renee, "Renée Åström")
    assert list(goran.direct_reports.all()) == [renee]


def test_a_manager_already_in_the_directory_is_found_by_id_or_email():
    boss = make_employee("Eva", "Berg", email="eva.berg@norrstrom.se", employee_number="NE9")
    rows = [person("NE1", manager="NE9"), person("NE2", manager="EVA.BERG@norrstrom.se")]

    directory_import_run(source=excel_cp1252(rows))

    assert {e.manager_employee for e in Employee.objects.exclude(pk=boss.pk)} == {boss}


def test_a_reimport_of_the_same_file_changes_nothing_and_a_new_manager_is_an_update():
    rows = [person("NE1"), person("NE2", manager="NE1"), person("NE3", manager="NE1")]
    directory_import_run(source=excel_cp1252(rows))

    assert directory_import_run(source=excel_cp1252(rows)).summary_line() == (
        "created=0 updated=0 unchanged=3 deactivated=0 rejected=0"
    )
    rows[2] = person("NE3", manager="NE2")
    result = directory_import_run(source=excel_cp1252(rows))

    assert result.summary_line() == "created=0 updated=1 unchanged=2 deactivated=0 rejected=0"
    ne3 = Employee.objects.get(employee_number="NE3")
    assert ne3.manager_employee.employee_number == "NE2"
    assert ne3.changes.filter(action="updated", fields=["manager"]).exists()


def test_a_blank_manager_cell_removes_the_manager():
    rows = [person("NE1"), person("NE2", manager="NE1")]
    directory_import_run(source=excel_cp1252(rows))

    directory_import_run(source=excel_cp1252([person("NE1"), person("NE2")]))

    assert Employee.objects.get(employee_number="NE2").manager_employee is None


def test_unknown_managers_self_references_and_circles_are_rejected_each_with_its_reason():
    rows = [
        person("NE1", "Göran", "Ström"),
        person("NE2", manager="NE404"),  # nobody
        person("NE3", manager="nobody@norrstrom.se"),
        person("NE4", manager="NE4"),  # oneself, by ID
        person("NE5", manager="ne5@norrstrom.se"),  # oneself, by email
        person("NE6", manager="NE7"),  # NE6 → NE7 → NE8 → NE6
        person("NE7", manager="NE8"),
        person("NE8", manager="NE6"),
        person("NE9", manager="NE1"),  # fine
    ]

    result = directory_import_run(source=excel_cp1252(rows))

    why = reasons(result)
    assert sorted(why) == [3, 4, 5, 6, 7, 8, 9]
    assert why[3] == "The manager NE404 is neither in the file nor in the directory."
    assert why[4] == "The manager nobody@norrstrom.se is neither in the file nor in the directory."
    assert why[5] == why[6] == "A person cannot be their own manager."
    assert why[7].startswith("The managers go round in a circle: NE6 → NE7 → NE8 → NE6")
    assert {why[8], why[9]} == {why[8]} and "circle" in why[9]
    # Nothing partial: a rejected row's person was not created without a manager.
    assert sorted(Employee.objects.values_list("employee_number", flat=True)) == ["NE1", "NE9"]
    assert Employee.objects.get(employee_number="NE9").manager == "Göran Ström"


def test_a_circle_through_people_already_in_the_directory_is_rejected_and_they_keep_their_manager():
    directory_import_run(
        source=excel_cp1252([person("NE1"), person("NE2", manager="NE1"), person("NE3", manager="NE2")])
    )

    # NE1 now names NE3, who reports to NE2, who reports to NE1 (NE2 and NE3 are not in this file).
    result = directory_import_run(source=excel_cp1252([person("NE1", manager="NE3")]))

    assert result.rejected == 1 and "circle" in result.row_errors[0]["reason"]
    assert Employee.objects.get(employee_number="NE1").manager_employee is None


def test_a_report_of_a_manager_whose_own_row_is_rejected_is_rejected_too():
    rows = [person("NE1", email="not-an-address"), person("NE2", manager="NE1")]

    result = directory_import_run(source=excel_cp1252(rows))

    assert reasons(result)[3] == "The manager's own row (row 2) was rejected."
    assert not Employee.objects.exists()


def test_the_preview_says_the_same_and_writes_nothing():
    rows = [person("NE1"), person("NE2", manager="NE1"), person("NE3", manager="NE3")]

    result = directory_import_plan(source=excel_cp1252(rows))

    assert result.summary_line() == "created=2 updated=0 unchanged=0 deactivated=0 rejected=1"
    assert not Employee.objects.exists()


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://evil")',
        "' OR 1=1 --",
        "NE1\u202e",
        "x" * 300,
        "%",
        "*@*",
    ],
)
def test_hostile_manager_cells_are_rejected_and_nothing_is_written_for_the_row(value):
    rows = [person("NE1"), person("NE2", manager=value)]

    result = directory_import_run(source=csv_bytes(rows))

    assert result.rejected == 1, result.row_errors
    assert list(Employee.objects.values_list("employee_number", flat=True)) == ["NE1"]


def test_a_file_whose_managers_vanish_after_all_is_refused_whole(monkeypatch):
    """The safety net: if the pre-read missed a reason, the links are checked after writing, all or nothing."""
    from audiences.imports import managers

    rows = [person("NE1"), person("NE2", manager="NE1")]
    real = managers.plan_managers

    def plan_pointing_at_a_stranger(*args, **kwargs):
        plan = real(*args, **kwargs)
        ne2 = plan.place(3)
        plan.target = lambda place: (None, "stranger@norrstrom.se") if place == ne2 else type(plan).target(plan, place)
        plan.token = lambda place: managers.NEW_MANAGER if place == ne2 else type(plan).token(plan, place)
        plan.manager_place = lambda place: -1 if place == ne2 else type(plan).manager_place(plan, place)
        return plan

    monkeypatch.setattr("audiences.imports.services.plan_managers", plan_pointing_at_a_stranger)
    with pytest.raises(ImportRefused):
        directory_import_run(source=excel_cp1252(rows))
    assert not Employee.objects.exists()


def test_new_people_are_written_with_their_manager_in_one_pass_on_postgresql(django_assert_max_num_queries):
    from django.db import connection

    rows = [person("NE1"), *(person(f"NE{i}", manager="NE1") for i in range(2, 40))]

    directory_import_run(source=excel_cp1252(rows))

    boss = Employee.objects.get(employee_number="NE1")
    assert boss.direct_reports.count() == 38
    if connection.vendor == "postgresql":  # ids reserved from the sequence: no update of the new rows
        assert not Employee.objects.filter(manager_employee=boss).exclude(updated_at=boss.updated_at).exists()


def test_a_circle_among_new_people_that_the_pre_read_missed_is_refused_whole(monkeypatch):
    """The safety net after writing: a circle through links written with the new people refuses the import."""
    from audiences.imports import managers

    rows = [person("NE1", manager="NE2"), person("NE2", manager="NE1"), person("NE3", manager="NE1")]
    real = managers._Graph.reject_circles
    monkeypatch.setattr(managers._Graph, "reject_circles", lambda self: False)  # the pre-read sees no circle

    with pytest.raises(ImportRefused, match="circle"):
        directory_import_run(source=excel_cp1252(rows))
    assert not Employee.objects.exists()

    monkeypatch.setattr(managers._Graph, "reject_circles", real)
    result = directory_import_run(source=excel_cp1252(rows))
    assert sorted(reasons(result)) == [2, 3, 4]  # NE1 and NE2 close the circle, NE3's manager is in it


def test_a_chain_of_new_managers_is_written_in_one_pass_and_deep_chains_are_walked():
    rows = [person(f"NE{i}", manager=f"NE{i + 1}" if i < 500 else "") for i in range(1, 501)]

    result = directory_import_run(source=excel_cp1252(list(reversed(rows))))

    assert result.summary_line() == "created=500 updated=0 unchanged=0 deactivated=0 rejected=0"
    ne1 = Employee.objects.get(employee_number="NE1")
    assert (ne1.manager_employee.employee_number, ne1.manager) == ("NE2", "Åsa Öberg")
    assert Employee.objects.filter(manager_employee__isnull=False).count() == 499


def test_a_new_manager_whose_row_is_rejected_while_writing_refuses_the_import_whole():
    """The pre-read checks emails and duplicates; a manager's row refused later (its time zone here) leaves their
    reports pointing at nobody, so the safety net refuses the whole file rather than write them partly."""
    rows = [person("NE1", Tidszon="Mars/Olympus"), person("NE2", manager="NE1"), person("NE3")]

    with pytest.raises(ImportRefused, match="could not be imported"):
        directory_import_run(source=excel_cp1252(rows))
    assert not Employee.objects.exists()


def test_a_circle_through_people_already_in_the_directory_that_the_pre_read_missed_is_refused_whole(monkeypatch):
    from audiences.imports import managers

    directory_import_run(source=excel_cp1252([person("NE1"), person("NE2", manager="NE1"), person("NE3")]))
    monkeypatch.setattr(managers._Graph, "reject_circles", lambda self: False)

    with pytest.raises(ImportRefused, match="circle"):
        directory_import_run(source=excel_cp1252([person("NE1", manager="NE2"), person("NE2", manager="NE1")]))
    assert Employee.objects.get(employee_number="NE1").manager_employee is None
    assert Employee.objects.get(employee_number="NE2").manager_employee.employee_number == "NE1"


def test_spaces_around_cells_and_rows_of_spaces_read_the_same_in_both_passes():
    data = (
        "Anställningsnummer;E-post;Förnamn;Efternamn;Chef\r\n"
        " NE2 ; ne2@norrstrom.se ;Renée;Åström;  NE1 \r\n"
        "   ;  ;\t; ;  \r\n"
        "NE1;ne1@norrstrom.se; Göran ; Ström ;\r\n"
        "NE3;NE3@norrstrom.se;Björn;Sjöberg; ne1@NORRSTROM.se \r\n"
    ).encode()

    result = directory_import_run(source=data)

    assert result.summary_line() == "created=3 updated=0 unchanged=0 deactivated=0 rejected=0", result.row_errors
    goran = Employee.objects.get(employee_number="NE1")
    assert {(e.employee_number, e.manager) for e in goran.direct_reports.all()} == {
        ("NE2", "Göran Ström"),
        ("NE3", "Göran Ström"),
    }
    assert directory_import_run(source=data).unchanged == 3
