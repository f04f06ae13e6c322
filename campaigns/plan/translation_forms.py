"""One language's version of what employees read, written beside the primary text.

The same form serves an asset (subject, headline, text…, and its meeting sessions' places) and the
project's story (lede, why, what changes, how it affects me). Each field shows whether its
translation is missing, outdated (the primary text changed after it was written) or up to date.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.delivery import merge
from campaigns.models import Asset
from campaigns.plan.asset_forms import MERGE_CHECKED, checked_captions, form_for_channel
from campaigns.projects.forms import RICH_TEXT_ATTRS

RICH = ("body", "why", "what_changes", "how_it_affects_me")
STORY_FIELDS = ("lede", "why", "what_changes", "how_it_affects_me", "sponsor_title")


def asset_translated_fields(asset: Asset) -> list[str]:
    """The words of `asset` an employee reads that its own form has, in the order the form shows them."""
    own = form_for_channel(asset.channel).base_fields
    return [name for name in asset.translated_fields() if name in own or name == "captions"]


class TranslationForm(forms.Form):
    def __init__(self, *args, obj, names, language: str, sessions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.obj, self.language, self.sessions = obj, language, list(sessions)
        stored = obj.translation(language)
        self.state = obj.translation_state(language)
        for name in names:
            if name == "captions":
                field = forms.FileField(
                    label=_("Captions (WebVTT)"),
                    required=False,
                    help_text=_("A .vtt file in this language. Leave empty to keep the one there is."),
                    widget=forms.FileInput(attrs={"accept": ".vtt,text/vtt"}),
                )
            else:
                field = obj._meta.get_field(name).formfield(required=False)
                field.initial = stored.get(name, "")
                if name in RICH:
                    field.widget = forms.Textarea(attrs=RICH_TEXT_ATTRS)
                elif name == "lede":  # two sentences, as in the project's own form
                    field.widget = forms.Textarea(attrs={"rows": 2, "maxlength": field.max_length})
                field.help_text = ""
            self.fields[name] = field
        for session in self.sessions:
            self.fields[f"place_{session.pk}"] = forms.CharField(
                label=_("Place: %(session)s") % {"session": session.starts_at.strftime("%Y-%m-%d %H:%M")},
                max_length=200,
                required=False,
                initial=session.translation(language).get("place", ""),
            )

    def clean_captions(self):
        return checked_captions(self.cleaned_data.get("captions"))

    def clean(self):
        cleaned = super().clean()
        for name in MERGE_CHECKED:
            if name in cleaned:
                for problem in merge.find_problems(cleaned[name]):
                    self.add_error(name, problem.message)
        return cleaned

    def rows(self) -> list[dict]:
        """Each field beside its primary text, with where its translation stands."""
        rows = []
        for name in self.fields:
            if name.startswith("place_"):
                session = next(s for s in self.sessions if f"place_{s.pk}" == name)
                primary, status = session.place, _place_status(session, self.language)
            else:
                primary = getattr(self.obj, name)
                primary = getattr(primary, "name", primary) or ""
                status = (
                    "missing"
                    if name in self.state.missing
                    else "outdated"
                    if name in self.state.outdated
                    else "done"
                    if name in self.state.done
                    else ""
                )
            rows.append({"field": self[name], "primary": primary, "rich": name in RICH, "status": status})
        return rows

    def values(self) -> dict:
        values = {name: self.cleaned_data[name] for name in self.fields if not name.startswith("place_")}
        if "captions" in values and not values["captions"]:
            del values["captions"]  # no new file: the language keeps the one it has
        return values

    def places(self) -> dict[int, str]:
        return {s.pk: self.cleaned_data[f"place_{s.pk}"].strip() for s in self.sessions}


def _place_status(session, language: str) -> str:
    state = session.translation_state(language)
    return "missing" if state.missing else "outdated" if state.outdated else "done" if state.done else ""
