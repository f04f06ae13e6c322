"""Background work of the directory import. Tasks take ids, call one service and are safe to run twice."""

from celery import shared_task

from audiences.models import DirectoryImport

from .errors import ImportRefused
from .services import directory_import_apply, directory_import_claim


# The name it had before the import became a package: messages already queued still find it.
@shared_task(name="audiences.tasks.run_directory_import", ignore_result=True)
def run_directory_import(import_id: int) -> None:
    """Apply a previewed directory import; a second run finds it claimed and does nothing."""
    directory_import = DirectoryImport.objects.select_related("uploaded_by").filter(pk=import_id).first()
    if directory_import is None or not directory_import_claim(directory_import=directory_import):
        return
    try:
        directory_import_apply(directory_import=directory_import, by=directory_import.uploaded_by)
    except ImportRefused:
        pass  # a file problem, recorded on the import as failed; retrying cannot help
