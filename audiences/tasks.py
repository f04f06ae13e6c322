"""Celery's autodiscovery imports `<app>.tasks`; the audiences tasks live with the directory import."""

from audiences.imports.tasks import run_directory_import

__all__ = ["run_directory_import"]
