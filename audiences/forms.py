from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Audience, Employee
from .selectors import EXTRA_PREFIX, reachable_employees
from .services import employees_by_emails

FIELD_LABELS = {
    "department": _("Department"),
    "site": _("Site"),
    "title": _("Title"),
    "manager": _("Manager"),
    "language": _("Language"),
    "email": _("Email"),
}
EXTRA = "extra"
OP_LABELS = {"in": _("is any of"), "not_in": _("is not"), "contains": _("contains")}
COMBINE_CHOICES = [("and", _("People matching every rule")), ("or", _("People matching any rule"))]
ACTIVE_CHOICES = [("", _("Active and inactive")), ("yes", _("Active")), ("no", _("Inactive"))]


def split_values(text: str) -> list[str]:
    """Values typed one per line or separated by commas."""
    return [v.strip() for line in text.splitlines() for v in line.split(",") if v.strip()]


def describe_rules(rules: dict[str, Any]) -> list[str]:
    """Each rule as a short sentence, e.g. “Department is any of IT, Ekonomi”."""
    lines = []
    for rule in rules.get("rules", []):
        field = rule["field"]
        label = field.removeprefix(EXTRA_PREFIX) if field.startswith(EXTRA_PREFIX) else FIELD_LABELS.get(field, field)
        lines.append(f"{label} {OP_LABELS.get(rule['op'], rule['op'])} {', '.join(rule['values'])}")
    return lines


class DirectoryFilterForm(forms.Form):
    """Search and filters of the employee directory (a GET form)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    department = forms.ChoiceField(label=_("Department"), required=False)
    site = forms.ChoiceField(label=_("Site"), required=False)
    active = forms.ChoiceField(label=_("Status"), required=False, choices=ACTIVE_CHOICES)

    def __init__(self, *args, facets: dict[str, list[str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", _("All departments"))] + [(d, d) for d in facets["departments"]]
        self.fields["site"].choices = [("", _("All sites"))] + [(s, s) for s in facets["sites"]]

    def search_kwargs(self) -> dict[str, Any]:
        """Arguments for `selectors.employee_search`; an invalid filter is ignored rather than refused."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "query": data.get("q", ""),
            "department": data.get("department", ""),
            "site": data.get("site", ""),
            "active": {"yes": True, "no": False}.get(data.get("active", "")),
        }


class AudienceForm(forms.Form):
    """Name and description of an audience, unique within its project."""

    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)

    def __init__(self, *args, project, audience: Audience | None = None, **kwargs):
        self.project, self.audience = project, audience
        if audience is not None:
            kwargs.setdefault("initial", {"name": audience.name, "description": audience.description})
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = Audience.objects.filter(project=self.project, name=name)
        if self.audience is not None:
            others = others.exclude(pk=self.audience.pk)
        if others.exists():
            raise ValidationError(_("This project already has an audience with that name."))
        return name


class AudienceRulesForm(AudienceForm):
    """An audience by rules: name, description and how the rules combine (the rules are a formset)."""

    combine = forms.ChoiceField(
        label=_("Who is in it"), choices=COMBINE_CHOICES, initial="and", required=False, widget=forms.RadioSelect
    )

    def __init__(self, *args, audience: Audience | None = None, **kwargs):
        if audience is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": audience.name,
                    "description": audience.description,
                    "combine": (audience.rules or {}).get("combine", "and"),
                },
            )
        super().__init__(*args, audience=audience, **kwargs)


class RuleForm(forms.Form):
    """One rule: a field (or extra attribute), a condition and the values."""

    field = forms.ChoiceField(
        label=_("Field"), choices=[*FIELD_LABELS.items(), (EXTRA, _("Extra attribute…"))], required=False
    )
    extra_key = forms.CharField(label=_("Attribute name"), max_length=100, required=False)
    op = forms.ChoiceField(label=_("Condition"), choices=list(OP_LABELS.items()), required=False)
    values = forms.CharField(
        label=_("Values"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 1}),
        help_text=_("One per line, or separated by commas."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            data.get("field") == EXTRA
            and split_values(data.get("values", ""))
            and not data.get("extra_key", "").strip()
        ):
            self.add_error("extra_key", _("Name the extra attribute."))
        return data

    def to_rule(self) -> dict[str, Any] | None:
        """The rule as stored on the audience, or None for an empty or removed row."""
        data = self.cleaned_data
        values = split_values(data.get("values", ""))
        if not values or data.get("DELETE") or not data.get("field"):
            return None
        field = data["field"]
        if field == EXTRA:
            field = EXTRA_PREFIX + data["extra_key"].strip()
        return {"field": field, "op": data.get("op") or "in", "values": values}


RuleFormSet = forms.formset_factory(RuleForm, extra=1, can_delete=True, max_num=30, validate_max=True)


def rule_formset_initial(rules: dict[str, Any]) -> list[dict[str, Any]]:
    """Formset rows for stored rules."""
    rows = []
    for rule in rules.get("rules", []):
        field, extra_key = rule["field"], ""
        if field.startswith(EXTRA_PREFIX):
            field, extra_key = EXTRA, field.removeprefix(EXTRA_PREFIX)
        rows.append({"field": field, "extra_key": extra_key, "op": rule["op"], "values": "\n".join(rule["values"])})
    return rows


def rules_from(form: AudienceRulesForm, formset) -> dict[str, Any]:
    """The rules definition from a valid form and formset."""
    rules = [rule for f in formset.forms if f.is_bound and f.is_valid() and (rule := f.to_rule())]
    return {"combine": form.cleaned_data.get("combine") or "and", "rules": rules}


class AudienceListForm(AudienceForm):
    """A new list audience, optionally with pasted emails."""

    emails = forms.CharField(
        label=_("Members’ emails"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Paste emails separated by new lines, commas or semicolons."),
    )


class PasteEmailsForm(forms.Form):
    emails = forms.CharField(
        label=_("Add people by email"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=200_000,
        help_text=_("Paste emails separated by new lines, commas or semicolons."),
    )


class MemberForm(forms.Form):
    employee = forms.ModelChoiceField(queryset=Employee.objects.all(), widget=forms.HiddenInput)


class CrossFunctionalForm(forms.Form):
    """What the cross-functional group should mix (a GET form)."""

    size = forms.IntegerField(label=_("Number of people"), min_value=2, max_value=200, initial=8)
    departments = forms.MultipleChoiceField(
        label=_("Departments"), widget=forms.CheckboxSelectMultiple, help_text=_("Choose at least two.")
    )
    sites = forms.MultipleChoiceField(
        label=_("Sites"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Leave empty to take people from every site."),
    )
    seed = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, facets: dict[str, list[str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departments"].choices = [(d, d) for d in facets["departments"]]
        self.fields["sites"].choices = [(s, s) for s in facets["sites"]]

    def clean_departments(self) -> list[str]:
        departments = self.cleaned_data["departments"]
        if len(departments) < 2:
            raise ValidationError(_("Choose at least two departments to mix."))
        return departments


class CrossFunctionalSaveForm(AudienceForm):
    """The proposal as edited by the user: who stays, who is added by email."""

    employees = forms.ModelMultipleChoiceField(queryset=reachable_employees(), required=False)
    add_emails = forms.CharField(
        label=_("Add people by email"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Paste emails separated by new lines, commas or semicolons."),
    )
    name = forms.CharField(label=_("Name"), max_length=120, required=False)

    def __init__(self, *args, saving: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.saving = saving

    def clean_add_emails(self) -> list[Employee]:
        lookup = employees_by_emails(text=self.cleaned_data.get("add_emails", ""))
        problems = lookup.unknown + lookup.invalid + lookup.inactive
        if problems:
            raise ValidationError(
                _("Not in the directory, or no longer active: %(emails)s") % {"emails": ", ".join(problems)}
            )
        return lookup.found

    def members(self) -> list[Employee]:
        """The people kept from the proposal, then those added by email, without duplicates."""
        people = {e.pk: e for e in self.cleaned_data.get("employees", [])}
        for e in self.cleaned_data.get("add_emails", []):
            people.setdefault(e.pk, e)
        return list(people.values())

    def clean_name(self) -> str:
        if not self.saving:
            return self.cleaned_data.get("name", "").strip()
        if not self.cleaned_data.get("name", "").strip():
            raise ValidationError(_("Give the group a name."))
        return super().clean_name()
