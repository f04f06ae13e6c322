"""The background import: thin, claimed once, safe to run twice."""

import pytest

from audiences.imports import services, tasks
from audiences.imports.errors import ImportRefused
from audiences.imports.tests.import_files import excel_cp1252, person
from audiences.models import DirectoryImport, Employee

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def previewed_import(owner, rows) -> DirectoryImport:
    from django.core.files.base import ContentFile

    directory_import = services.directory_import_create(file=ContentFile(excel_cp1252(rows), name="p.csv"), by=owner)
    services.directory_import_preview(
        directory_import=directory_import, mapping=directory_import.mapping, deactivate_missing=False
    )
    return directory_import


def test_the_task_run_twice_does_the_work_once(owner, monkeypatch):
    directory_import = previewed_import(owner, [person("NE1"), person("NE2")])
    calls = []
    real_apply = tasks.directory_import_apply
    monkeypatch.setattr(tasks, "directory_import_apply", lambda **kw: calls.append(kw) or real_apply(**kw))

    tasks.run_directory_import(directory_import.pk)
    tasks.run_directory_import(directory_import.pk)

    assert len(calls) == 1
    directory_import.refresh_from_db()
    assert (directory_import.status, directory_import.created, directory_import.processed_rows) == ("done", 2, 2)
    assert Employee.objects.count() == 2


def test_the_task_ignores_an_import_that_is_gone_or_not_previewed(owner):
    tasks.run_directory_import(987654)
    directory_import = previewed_import(owner, [person("NE1")])
    DirectoryImport.objects.filter(pk=directory_import.pk).update(status=DirectoryImport.Status.UPLOADED)
    tasks.run_directory_import(directory_import.pk)
    assert Employee.objects.count() == 0


def test_a_file_that_fails_midway_marks_the_import_failed_and_writes_nothing(owner, monkeypatch):
    directory_import = previewed_import(owner, [person("NE1"), person("NE2")])

    def broken(**kwargs):
        raise ImportRefused("The file changed under us.")

    monkeypatch.setattr(services, "_execute", broken)
    tasks.run_directory_import(directory_import.pk)
    directory_import.refresh_from_db()
    assert (directory_import.status, directory_import.error) == ("failed", "The file changed under us.")
    assert Employee.objects.count() == 0


def test_an_import_left_running_by_a_dead_worker_is_claimed_again_after_the_time_limit(db, settings):
    from datetime import timedelta

    from django.utils import timezone

    from audiences.imports.services import directory_import_claim

    stuck = DirectoryImport.objects.create(
        file_name="hr.csv",
        status=DirectoryImport.Status.RUNNING,
        claimed_at=timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60),
    )
    live = DirectoryImport.objects.create(
        file_name="hr2.csv", status=DirectoryImport.Status.RUNNING, claimed_at=timezone.now()
    )

    assert directory_import_claim(directory_import=stuck) is True
    assert directory_import_claim(directory_import=live) is False
    stuck.refresh_from_db()
    assert stuck.status == DirectoryImport.Status.RUNNING
    assert stuck.claimed_at > timezone.now() - timedelta(minutes=1)


def test_the_task_keeps_the_name_messages_already_queued_carry():
    import audiences.tasks  # what Celery's autodiscovery imports
    from launchpad import celery_app

    assert tasks.run_directory_import.name == services.RUN_TASK == "audiences.tasks.run_directory_import"
    assert audiences.tasks.run_directory_import is tasks.run_directory_import
    assert celery_app.tasks[services.RUN_TASK].name == services.RUN_TASK
