"""Background work for the audiences app. Tasks take ids and are safe to run twice."""

from celery import shared_task

from . import imports
from .models import DirectoryImport


@shared_task(ignore_result=True)
def run_directory_import(import_id: int) -> None:
    """Apply a previewed directory import; a second run finds it claimed and does nothing."""
    directory_import = DirectoryImport.objects.select_related("uploaded_by").filter(pk=import_id).first()
    if directory_import is None or not imports.directory_import_claim(directory_import=directory_import):
        return
    try:
        imports.directory_import_apply(directory_import=directory_import, by=directory_import.uploaded_by)
    except imports.ImportRefused:
        pass  # a file problem, recorded on the import as failed; retrying cannot help
