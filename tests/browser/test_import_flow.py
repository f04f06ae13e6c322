"""The directory import clicked through in Chromium: Excel's CSV in, people out; the progress page under CSP."""

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from audiences.imports import tasks
from audiences.imports.tests.import_files import excel_cp1252, person
from audiences.models import DirectoryImport, Employee
from launchpad import celery_app

pytestmark = pytest.mark.browser

PEOPLE = [person("NE1", "Åsa", "Öberg"), person("NE2", "Björn", "Sjöberg", email="not-an-email")]


@pytest.fixture
def importer(make_user):
    user = make_user("importer")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_directoryimport", "view_directoryimport", "view_employee"])
    )
    return user


def test_a_change_manager_imports_an_excel_csv(
    page, live_server, importer, log_in, assert_accessible, screenshot, tmp_path
):
    export = tmp_path / "Personal.csv"
    export.write_bytes(excel_cp1252(PEOPLE))
    log_in("importer")
    page.goto(f"{live_server.url}/directory/import/new/")
    assert_accessible()
    page.locator("input[type=file]").set_input_files(str(export))
    page.get_by_role("button", name="Upload and continue").click()

    expect(page.get_by_text("cp1252")).to_be_visible()
    expect(page.get_by_label("Förnamn")).to_have_value("first_name")
    assert_accessible()
    screenshot("import-columns")
    page.get_by_role("button", name="Preview the import").click()

    expect(page.get_by_role("heading", name="New people")).to_be_visible()
    expect(page.get_by_text("not-an-email is not a valid email address.")).to_be_visible()
    assert_accessible()
    screenshot("import-preview")
    page.get_by_role("button", name="Apply the import").click()

    expect(page.get_by_role("link", name="Download as CSV")).to_be_visible()
    assert_accessible()
    asa = Employee.objects.get()
    assert (asa.first_name, asa.last_name, asa.site) == ("Åsa", "Öberg", "Västerås")


def test_the_progress_page_follows_a_background_import(page, live_server, importer, log_in, settings, monkeypatch):
    settings.IMPORT_INLINE_MAX_ROWS = 0
    monkeypatch.setattr(celery_app, "send_task", lambda *args, **kwargs: None)  # no worker here
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    from django.core.files.base import ContentFile

    from audiences import imports

    directory_import = imports.directory_import_create(
        file=ContentFile(excel_cp1252(PEOPLE), name="p.csv"), by=importer
    )
    imports.directory_import_preview(
        directory_import=directory_import, mapping=directory_import.mapping, deactivate_missing=False
    )
    log_in("importer")
    page.goto(f"{live_server.url}/directory/import/{directory_import.pk}/")
    expect(page.locator("progress")).to_be_visible()

    tasks.run_directory_import(directory_import.pk)  # the worker's turn; the page notices and reloads
    expect(page.get_by_role("link", name="Download as CSV")).to_be_visible(timeout=10_000)
    assert DirectoryImport.objects.get().status == DirectoryImport.Status.DONE
    assert not problems, problems  # no CSP violations, no script errors
