"""`manage.py import_employees`: one summary line, the rejected rows, a non-zero exit on refusal."""

import io

import pytest
from django.core.management import CommandError, call_command

from audiences.imports.tests.import_files import excel_cp1252, person, utf16_unicode_text
from audiences.models import DirectoryImport, Employee
from audiences.tests.factories import make_employee

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def run(*args) -> list[str]:
    out = io.StringIO()
    call_command("import_employees", *args, stdout=out)
    return out.getvalue().splitlines()


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "personal.csv"
    rows = [person("NE1", "Åsa", "Öberg"), person("NE2", "Björn", "Sjöberg"), person("NE3", email="not-an-email")]
    path.write_bytes(excel_cp1252(rows))
    return path


def test_it_prints_one_summary_line_then_the_rejected_rows(export):
    lines = run(str(export))
    assert lines[0] == "created=2 updated=0 unchanged=0 deactivated=0 rejected=1"
    assert lines[1] == "row 4: not-an-email is not a valid email address."
    assert len(lines) == 2
    assert Employee.objects.get(employee_number="NE1").first_name == "Åsa"
    assert DirectoryImport.objects.get().status == "done"  # recorded in the history


def test_a_second_run_changes_nothing(export):
    run(str(export))
    assert run(str(export))[0] == "created=0 updated=0 unchanged=2 deactivated=0 rejected=1"


def test_dry_run_writes_nothing(export):
    assert run(str(export), "--dry-run")[0] == "created=2 updated=0 unchanged=0 deactivated=0 rejected=1"
    assert Employee.objects.count() == 0
    assert DirectoryImport.objects.count() == 0


def test_deactivate_missing_deactivates_people_not_in_the_file(export):
    leaver = make_employee(employee_number="NE99")
    assert run(str(export), "--deactivate-missing")[0] == "created=2 updated=0 unchanged=0 deactivated=1 rejected=1"
    leaver.refresh_from_db()
    assert not leaver.is_active


def test_a_column_can_be_mapped_by_hand(tmp_path):
    path = tmp_path / "unicode.txt"
    path.write_bytes(utf16_unicode_text([{"Jobbmejl": "anna@norrstrom.se", "Sektion": "IT", "Skift": "Dag"}]))
    lines = run(str(path), "--map", "Jobbmejl=email", "--map", "sektion=department", "--map", "Skift=ignore")
    assert lines[0] == "created=1 updated=0 unchanged=0 deactivated=0 rejected=0"
    anna = Employee.objects.get()
    assert (anna.email, anna.department, anna.extra) == ("anna@norrstrom.se", "IT", {})


def test_it_exits_non_zero_when_the_file_cannot_be_imported(tmp_path):
    path = tmp_path / "names.csv"
    path.write_bytes("Förnamn;Efternamn\nÅsa;Öberg\n".encode("cp1252"))
    with pytest.raises(CommandError, match="no email column"):
        run(str(path))
    assert Employee.objects.count() == 0
    assert DirectoryImport.objects.count() == 0


def test_it_exits_non_zero_on_a_file_with_no_rows(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"E-post;Namn\n")
    with pytest.raises(CommandError, match="no rows"):
        run(str(path))
    assert DirectoryImport.objects.count() == 0


def test_it_exits_non_zero_on_a_missing_file_or_an_unknown_column(tmp_path, export):
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "nope.csv"))
    with pytest.raises(CommandError, match="no column named"):
        run(str(export), "--map", "Personnummer=email")
    with pytest.raises(CommandError, match="not a field"):
        run(str(export), "--map", "E-post=password")


def test_the_exit_code_is_non_zero_from_the_shell(tmp_path):
    import os
    import subprocess
    import sys

    path = tmp_path / "names.csv"
    path.write_bytes(b"Name\nAnna\n")
    env = {**os.environ, "LANGUAGE_CODE": "en"}
    done = subprocess.run(
        [sys.executable, "manage.py", "import_employees", str(path), "--dry-run"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode != 0
    assert "no email column" in done.stderr
