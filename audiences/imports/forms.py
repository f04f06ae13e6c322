"""Forms of the directory import: the upload and the column mapping."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from .detection import Detected
from .errors import ImportRefused
from .mapping import IGNORE, check_mapping, field_choices


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("HR export"),
        help_text=_("CSV (any delimiter, any common encoding) or Excel (.xlsx), as exported from the HR system."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx"}),
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > settings.IMPORT_MAX_BYTES:
            raise ValidationError(
                _("The file is %(size)s MB; the limit is %(limit)s MB."),
                params={"size": round(file.size / 1_048_576, 1), "limit": round(settings.IMPORT_MAX_BYTES / 1_048_576)},
            )
        return file


class ImportMappingForm(forms.Form):
    """One choice per column of the file, prefilled with the recognised field."""

    deactivate_missing = forms.BooleanField(
        label=_("Deactivate employees missing from the file"),
        required=False,
        help_text=_("Only for a full export of everyone: people not in the file are never sent anything again."),
    )

    def __init__(self, *args, detected: Detected, mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = detected.headers
        choices = field_choices()
        for index, header in enumerate(detected.headers):
            examples = [row[index] for row in detected.samples if index < len(row) and row[index]]
            # Cells come from the file: escaped here, because crispy renders help text as markup
            # (the label, the file's header, is escaped by the template).
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or _("Column %(number)s (no header)") % {"number": index + 1},
                choices=choices,
                required=False,
                initial=mapping.get(str(index), IGNORE),
                help_text=_("For example: %(values)s") % {"values": escape(", ".join(examples[:3]))}
                if examples
                else "",
            )
        self.order_fields([*(f"column_{i}" for i in range(len(detected.headers))), "deactivate_missing"])

    def clean(self):
        data = super().clean()
        try:
            check_mapping(self.headers, self.mapping())
        except ImportRefused as refused:
            raise ValidationError(refused.message) from refused
        return data

    def mapping(self) -> dict[str, str]:
        return {str(i): self.cleaned_data.get(f"column_{i}") or IGNORE for i in range(len(self.headers))}
