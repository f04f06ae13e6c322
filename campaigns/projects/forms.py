from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.models import ChangeProject, Membership
from lib.colors import HEX_COLOR
from lib.images import ImageRejected, process_image
from lib.translations import content_languages, language_label
from lib.uploads import keep_upload, kept_filename, kept_upload

RICH_TEXT_ATTRS = {"rows": 6, "class": "rich-text", "data-rich-text": "1"}


class ProjectForm(forms.ModelForm):
    """The story, sponsor, dates and brand kit of a change project."""

    logo_upload = forms.FileField(label=_("Logo"), required=False, help_text=_("JPEG, PNG or WebP."))
    hero_upload = forms.FileField(
        label=_("Hero image"), required=False, help_text=_("JPEG, PNG or WebP, at least 1200 px wide.")
    )
    # A valid upload on a form that came back with another error is kept (lib.uploads).
    logo_kept = forms.CharField(required=False, widget=forms.HiddenInput)
    hero_kept = forms.CharField(required=False, widget=forms.HiddenInput)
    hero_alt = forms.CharField(
        label=_("Hero image description (alt text)"),
        required=False,
        max_length=250,
        help_text=_("What the image shows, for people who cannot see it."),
    )

    other_languages = forms.MultipleChoiceField(
        label=_("Further languages"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Employees whose language is one of these get the story, emails and meetings in it, once you "
            "have written that version; the rest read the primary language."
        ),
    )

    class Meta:
        model = ChangeProject
        fields = [
            "name",
            "lede",
            "why",
            "what_changes",
            "how_it_affects_me",
            "sponsor_name",
            "sponsor_title",
            "function_mailbox",
            "go_live",
            "status",
            "tracking_mode",
            "anonymity_threshold",
            "language",
            "other_languages",
            "primary_color",
            "accent_color",
        ]
        widgets = {
            "lede": forms.Textarea(attrs={"rows": 2, "maxlength": 300}),
            "why": forms.Textarea(attrs=RICH_TEXT_ATTRS),
            "what_changes": forms.Textarea(attrs=RICH_TEXT_ATTRS),
            "how_it_affects_me": forms.Textarea(attrs=RICH_TEXT_ATTRS),
            "go_live": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "anonymity_threshold": forms.NumberInput(attrs={"min": 2, "max": 100}),
            "primary_color": forms.TextInput(attrs={"type": "color"}),
            "accent_color": forms.TextInput(attrs={"type": "color"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.hero_image_id:
            self.fields["hero_alt"].initial = self.instance.hero_image.alt_text
        # Left empty (or missing from an older form), the threshold stays as it is.
        self.fields["anonymity_threshold"].required = False
        labels = [(code, language_label(code)) for code, _name in content_languages()]
        self.fields["other_languages"].choices = labels
        self.fields["language"].choices = labels
        # A form without the language fields (an older page, a script) leaves the languages as they are.
        self.fields["language"].required = False

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or self.instance.language

    def clean_other_languages(self) -> list[str]:
        if self.add_prefix("other_languages") not in self.data and self.add_prefix("language") not in self.data:
            return list(self.instance.other_languages or [])
        return self.cleaned_data.get("other_languages") or []

    def clean_anonymity_threshold(self) -> int:
        value = self.cleaned_data.get("anonymity_threshold")
        return self.instance.anonymity_threshold if value is None else value

    def _check_colour(self, field: str) -> str:
        color = self.cleaned_data[field].strip().lower()
        if not HEX_COLOR.match(color):  # before any arithmetic on it: a forged value is a form error
            raise forms.ValidationError(_("Enter a colour as #rrggbb."), code="invalid")
        return color

    def clean_primary_color(self) -> str:
        return self._check_colour("primary_color")

    def clean_accent_color(self) -> str:
        return self._check_colour("accent_color")

    KEPT = {"logo_upload": "logo_kept", "hero_upload": "hero_kept"}

    def _clean_image(self, field: str):
        upload = self.cleaned_data.get(field) or kept_upload(self.data.get(self.add_prefix(self.KEPT[field])))
        if not upload:
            return None
        try:
            return process_image(upload)
        except ImageRejected as exc:
            raise forms.ValidationError(str(exc), code="image") from None

    def clean_logo_upload(self):
        return self._clean_image("logo_upload")

    def clean_hero_upload(self):
        return self._clean_image("hero_upload")

    def clean(self):
        cleaned = super().clean()
        if "other_languages" in cleaned:  # the primary language is not a further one
            cleaned["other_languages"] = [c for c in cleaned["other_languages"] if c != cleaned.get("language")]
        has_hero = cleaned.get("hero_upload") or self.instance.hero_image_id
        if has_hero and not cleaned.get("hero_alt"):
            self.add_error("hero_alt", _("Describe the hero image for people who cannot see it."))
        return cleaned

    def keep_uploads(self) -> None:
        """After an error elsewhere in the form: keep its valid new uploads for the next submission."""
        if not self.is_bound or not hasattr(self, "cleaned_data"):
            return
        self.data = self.data.copy()
        for field, kept in self.KEPT.items():
            if self.cleaned_data.get(field) and field in self.files and field not in self.errors:
                self.data[self.add_prefix(kept)] = keep_upload(self.files[field])

    def kept_names(self) -> dict[str, str]:
        """The file names kept for each upload field, to tell the user they need not upload again."""
        return {field: kept_filename(self.data.get(self.add_prefix(kept))) for field, kept in self.KEPT.items()}

    def project_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        help_text=_("A colleague without a Launchpad account gets one, with an email to set a password."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)
