"""Import an HR export from the command line: the same service as the browser, recorded in the history."""

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from audiences.imports.detection import directory_import_detect
from audiences.imports.errors import ImportRefused
from audiences.imports.mapping import EXTRA, FIELDS, check_mapping, guess_mapping, mapping_with_overrides
from audiences.imports.services import (
    directory_import_apply,
    directory_import_claim,
    directory_import_create,
    directory_import_plan,
    directory_import_preview,
)


def _mapping_argument(text: str) -> tuple[str, str]:
    header, sep, target = text.rpartition("=")
    if not sep or not header.strip():
        raise ValueError(text)
    return header.strip(), target.strip()


class Command(BaseCommand):
    help = (
        "Import employees from an HR export (CSV or XLSX). Prints one summary line "
        "(created=N updated=N unchanged=N deactivated=N rejected=N) and the rejected rows."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV or XLSX file")
        parser.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
        parser.add_argument(
            "--deactivate-missing", action="store_true", help="deactivate active employees absent from the file"
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            type=_mapping_argument,
            metavar="HEADER=field",
            help=f"map a column by hand; field is one of {', '.join([*FIELDS, EXTRA, 'ignore'])}",
        )

    def handle(self, *args, file: str, dry_run: bool, deactivate_missing: bool, **options):
        overrides = dict(options["map"])
        try:
            with open(file, "rb") as f:
                result = self._import(f, file, overrides, dry_run=dry_run, deactivate_missing=deactivate_missing)
        except FileNotFoundError as exc:
            raise CommandError(f"{file}: no such file") from exc
        except ImportRefused as refused:
            raise CommandError(f"{file}: {refused.message}") from refused
        self.stdout.write(result.summary_line())
        for error in result.row_errors:
            self.stdout.write(f"row {error['row']}: {error['reason']}")
        if len(result.row_errors) < result.rejected:
            self.stdout.write(f"... and {result.rejected - len(result.row_errors)} more rejected rows")

    def _import(self, f, path: str, overrides: dict[str, str], *, dry_run: bool, deactivate_missing: bool):
        detected = directory_import_detect(source=f)
        mapping = mapping_with_overrides(detected.headers, guess_mapping(detected.headers), overrides)
        check_mapping(detected.headers, mapping)
        if dry_run:
            return directory_import_plan(
                source=f, mapping=mapping, deactivate_missing=deactivate_missing, detected=detected
            )
        directory_import = directory_import_create(file=File(f, name=path), by=None)
        try:
            directory_import_preview(
                directory_import=directory_import, mapping=mapping, deactivate_missing=deactivate_missing
            )
        except ImportRefused:
            # Refused means nothing written: not even the history entry.
            directory_import.file.delete(save=False)
            directory_import.delete()
            raise
        if not directory_import_claim(directory_import=directory_import):
            raise ImportRefused("the import was claimed by another process")
        return directory_import_apply(directory_import=directory_import, by=None)
