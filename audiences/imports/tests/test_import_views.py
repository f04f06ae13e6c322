"""The directory import in the browser: permissions, upload → columns → preview → apply, status, CSV."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audiences.imports.tests.import_files import csv_bytes, excel_cp1252, person, xlsx_with_title_on_second_sheet
from audiences.models import DirectoryImport, Employee

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


PEOPLE = [person("NE1", "Åsa", "Öberg"), person("NE2", "Björn", "Sjöberg")]


@pytest.fixture
def reader(make_user):
    user = make_user("reader")
    user.user_permissions.add(Permission.objects.get(codename="view_directoryimport"))
    return user


def upload(client, data: bytes, name: str = "personal.csv"):
    return client.post(reverse("audiences:import_upload"), {"file": SimpleUploadedFile(name, data)})


def columns(directory_import: DirectoryImport, **overrides) -> dict:
    data = {f"column_{k}": v for k, v in directory_import.mapping.items()}
    data.update(overrides)
    return data


def test_it_sends_an_anonymous_visitor_to_log_in(client):
    response = client.get(reverse("audiences:import_upload"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_it_forbids_a_user_without_the_import_permission(client, outsider, reader):
    client.force_login(outsider)
    assert client.get(reverse("audiences:import_list")).status_code == 403
    assert upload(client, excel_cp1252(PEOPLE)).status_code == 403
    client.force_login(reader)
    assert client.get(reverse("audiences:import_list")).status_code == 200
    assert upload(client, excel_cp1252(PEOPLE)).status_code == 403
    assert DirectoryImport.objects.count() == 0


def test_it_imports_an_excel_csv_through_upload_columns_preview_and_apply(client, importer):
    client.force_login(importer)
    response = upload(client, excel_cp1252(PEOPLE), name="Personal 2026.csv")
    directory_import = DirectoryImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("audiences:import_mapping", args=[directory_import.pk])
    assert (directory_import.file_name, directory_import.uploaded_by) == ("Personal 2026.csv", importer)

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "cp1252" in page.content.decode()
    assert "Förnamn" in page.content.decode()

    response = client.post(reverse("audiences:import_mapping", args=[directory_import.pk]), columns(directory_import))
    assert response.status_code == 302
    directory_import.refresh_from_db()
    assert (directory_import.status, directory_import.total_rows, directory_import.created) == ("previewed", 2, 2)
    assert Employee.objects.count() == 0

    preview = client.get(response["Location"])
    assert preview.status_code == 200
    assert "Åsa" in preview.content.decode() and "Sjöberg" in preview.content.decode()

    response = client.post(reverse("audiences:import_apply", args=[directory_import.pk]))
    assert response.status_code == 302
    directory_import.refresh_from_db()
    assert (directory_import.status, directory_import.created, directory_import.processed_rows) == ("done", 2, 2)
    assert directory_import.finished_at is not None
    assert sorted(Employee.objects.values_list("first_name", flat=True)) == ["Björn", "Åsa"]

    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert "Personal 2026.csv" in detail.content.decode()


def test_the_preview_shows_changed_fields_and_deactivated_people(client, importer):
    client.force_login(importer)
    upload(client, excel_cp1252(PEOPLE))
    first = DirectoryImport.objects.get()
    client.post(reverse("audiences:import_mapping", args=[first.pk]), columns(first))
    client.post(reverse("audiences:import_apply", args=[first.pk]))

    upload(client, excel_cp1252([PEOPLE[0] | {"Ort": "Örebro"}]))
    second = DirectoryImport.objects.exclude(pk=first.pk).get()
    client.post(reverse("audiences:import_mapping", args=[second.pk]), columns(second, deactivate_missing="on"))
    content = client.get(reverse("audiences:import_preview", args=[second.pk])).content.decode()
    assert "Västerås" in content and "Örebro" in content
    assert "Björn" in content  # to be deactivated
    client.post(reverse("audiences:import_apply", args=[second.pk]))
    second.refresh_from_db()
    assert (second.updated, second.deactivated) == (1, 1)
    assert not Employee.objects.get(employee_number="NE2").is_active


def test_it_finds_the_table_in_a_workbook(client, importer):
    client.force_login(importer)
    upload(client, xlsx_with_title_on_second_sheet(PEOPLE), name="personal.xlsx")
    directory_import = DirectoryImport.objects.get()
    assert directory_import.detected["sheet"] == "Personal"
    content = client.get(reverse("audiences:import_mapping", args=[directory_import.pk])).content.decode()
    assert "Personal" in content


def test_it_refuses_a_binary_upload_with_a_message_and_writes_nothing(client, importer):
    client.force_login(importer)
    response = upload(client, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, name="photo.csv")
    assert response.status_code == 200
    assert "not a text file" in response.content.decode()
    assert DirectoryImport.objects.count() == 0


def test_it_refuses_a_file_over_the_limit(client, importer, settings):
    settings.IMPORT_MAX_BYTES = 50
    client.force_login(importer)
    response = upload(client, excel_cp1252(PEOPLE))
    assert response.status_code == 200
    assert "limit" in response.content.decode()
    assert DirectoryImport.objects.count() == 0


def test_it_asks_for_an_email_column_when_none_is_recognised(client, importer):
    client.force_login(importer)
    upload(client, b"Namn;Jobbmejl\nAnna;anna@norrstrom.se\n")
    directory_import = DirectoryImport.objects.get()
    response = client.post(reverse("audiences:import_mapping", args=[directory_import.pk]), columns(directory_import))
    assert response.status_code == 200
    assert "no email column" in response.content.decode()
    directory_import.refresh_from_db()
    assert directory_import.status == "uploaded"

    response = client.post(
        reverse("audiences:import_mapping", args=[directory_import.pk]), columns(directory_import, column_1="email")
    )
    assert response.status_code == 302
    client.post(reverse("audiences:import_apply", args=[directory_import.pk]))
    assert Employee.objects.get().extra == {"Namn": "Anna"}


def test_a_large_file_runs_in_the_background_with_a_progress_page(
    client, importer, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from audiences.imports import tasks
    from launchpad import celery_app

    settings.IMPORT_INLINE_MAX_ROWS = 1
    queued = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, args=None, *a, **kw: queued.append((name, list(args))))
    client.force_login(importer)
    upload(client, excel_cp1252(PEOPLE))
    directory_import = DirectoryImport.objects.get()
    client.post(reverse("audiences:import_mapping", args=[directory_import.pk]), columns(directory_import))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("audiences:import_apply", args=[directory_import.pk]))
    assert queued == [("audiences.tasks.run_directory_import", [directory_import.pk])]
    assert Employee.objects.count() == 0

    page = client.get(response["Location"]).content.decode()
    assert "import-progress.js" in page
    assert "<progress" in page
    assert 'http-equiv="refresh"' in page
    assert "style=" not in page.split("<main", 1)[1]  # CSP: no inline styles

    status = client.get(reverse("audiences:import_status", args=[directory_import.pk])).json()
    assert (status["status"], status["finished"], status["total_rows"]) == ("previewed", False, 2)

    tasks.run_directory_import(directory_import.pk)
    status = client.get(reverse("audiences:import_status", args=[directory_import.pk])).json()
    assert (status["status"], status["finished"], status["percent"]) == ("done", True, 100)
    assert Employee.objects.count() == 2


def test_a_broker_that_is_down_leaves_the_import_previewed_to_apply_again(
    client, importer, settings, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from kombu.exceptions import OperationalError

    from launchpad import celery_app

    def broker_down(*args, **kwargs):
        raise OperationalError("Connection refused")

    settings.IMPORT_INLINE_MAX_ROWS = 1
    monkeypatch.setattr(celery_app, "send_task", broker_down)
    client.force_login(importer)
    upload(client, excel_cp1252(PEOPLE))
    directory_import = DirectoryImport.objects.get()
    client.post(reverse("audiences:import_mapping", args=[directory_import.pk]), columns(directory_import))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("audiences:import_apply", args=[directory_import.pk]))

    assert response.status_code == 302
    assert "Connection refused" in caplog.text  # logged by Django's robust on_commit, not raised
    directory_import.refresh_from_db()
    assert directory_import.status == DirectoryImport.Status.PREVIEWED
    assert Employee.objects.count() == 0


def test_the_rejected_rows_download_is_safe_to_open_in_a_spreadsheet(client, importer, reader):
    client.force_login(importer)
    rows = [person("NE1"), person("=HYPERLINK(1)", email="=cmd|' /C calc'!A0"), person("@SUM(A1)", email="")]
    upload(client, excel_cp1252(rows))
    directory_import = DirectoryImport.objects.get()
    client.post(reverse("audiences:import_mapping", args=[directory_import.pk]), columns(directory_import))
    client.post(reverse("audiences:import_apply", args=[directory_import.pk]))

    client.force_login(reader)
    response = client.get(reverse("audiences:import_rejected_csv", args=[directory_import.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(lines) == 3 and len(lines[0]) == 4  # a header (in the user's language), then two rejected rows
    assert lines[1][1] == "'=cmd|' /C calc'!A0"
    assert lines[1][2] == "'=HYPERLINK(1)"
    assert lines[2][2] == "'@SUM(A1)"
    assert all(not cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)


def test_the_rejected_rows_download_sees_through_full_width_and_hidden_signs(client, importer):
    client.force_login(importer)
    rows = [person("\uff1dHYPERLINK(1)", email=""), person("\u200b=HYPERLINK(2)", email="")]
    upload(client, csv_bytes(rows))
    directory_import = DirectoryImport.objects.get()
    client.post(reverse("audiences:import_mapping", args=[directory_import.pk]), columns(directory_import))
    client.post(reverse("audiences:import_apply", args=[directory_import.pk]))

    response = client.get(reverse("audiences:import_rejected_csv", args=[directory_import.pk]))
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert [line[2] for line in lines[1:]] == ["'\uff1dHYPERLINK(1)", "'=HYPERLINK(2)"]


def test_the_history_lists_who_imported_what(client, importer, django_assert_max_num_queries):
    client.force_login(importer)
    for _ in range(3):
        upload(client, excel_cp1252(PEOPLE), name="personal.csv")
    with django_assert_max_num_queries(8):
        response = client.get(reverse("audiences:import_list"))
    content = response.content.decode()
    assert content.count("personal.csv") == 3
    assert "Ingrid Import" in content


def test_an_applied_import_cannot_be_applied_again(client, importer):
    client.force_login(importer)
    upload(client, excel_cp1252(PEOPLE))
    directory_import = DirectoryImport.objects.get()
    client.post(reverse("audiences:import_mapping", args=[directory_import.pk]), columns(directory_import))
    client.post(reverse("audiences:import_apply", args=[directory_import.pk]))
    Employee.objects.all().delete()
    client.post(reverse("audiences:import_apply", args=[directory_import.pk]))
    response = client.get(reverse("audiences:import_mapping", args=[directory_import.pk]))
    assert response.status_code == 302
    assert Employee.objects.count() == 0


def test_the_column_page_shows_the_files_headers_and_cells_as_text(client, importer):
    """Threat: an HR export is not trusted input; its headers and cells are shown as samples."""
    client.force_login(importer)
    hostile = '<script>alert(1)</script><meta http-equiv="refresh" content="0;url=https://evil.example/">'
    upload(client, f"E-post;{hostile}\nanna@norrstrom.se;{hostile}\n".encode())
    directory_import = DirectoryImport.objects.get()

    page = client.get(reverse("audiences:import_mapping", args=[directory_import.pk])).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the header and the sample, as text
    assert "<script>alert(1)" not in page and "<meta http-equiv" not in page
