"""The directory import: read an HR export (CSV or XLSX), map its columns, check its rows, plan and apply it.

    detection   how to read the file, and its rows read that way
    bounds      how much a file may make the server do: limits checked before and while parsing
    mapping     which column holds which Employee field
    validation  what a row's values must look like
    services    plan, record, preview, start and apply an import (the writes)
    errors      ImportRefused: the whole file cannot be imported, and why
    tasks       the background run of a big import; views, forms: the pages

Callers outside the package import from here; modules inside import from each other.
"""

from .detection import Detected, directory_import_detect
from .errors import ImportRefused
from .mapping import EXTRA, FIELDS, IGNORE, check_mapping, field_choices, guess_mapping, mapping_with_overrides
from .services import (
    ImportResult,
    directory_import_apply,
    directory_import_claim,
    directory_import_create,
    directory_import_plan,
    directory_import_preview,
    directory_import_run,
    directory_import_start,
)

__all__ = [
    "EXTRA",
    "FIELDS",
    "IGNORE",
    "Detected",
    "ImportRefused",
    "ImportResult",
    "check_mapping",
    "directory_import_apply",
    "directory_import_claim",
    "directory_import_create",
    "directory_import_detect",
    "directory_import_plan",
    "directory_import_preview",
    "directory_import_run",
    "directory_import_start",
    "field_choices",
    "guess_mapping",
    "mapping_with_overrides",
]
