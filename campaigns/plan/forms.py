"""Forms of the plan page: filters, moving go-live, starting from a plan template."""

from django import forms
from django.utils.translation import gettext_lazy as _

from audiences.models import Audience
from campaigns.models import ChangeProject, Channel, PlanTemplate, Stage


class PlanFilterForm(forms.Form):
    """Which part of the timeline to show; every field may be left empty."""

    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[("", _("All channels")), *Channel.choices])
    stage = forms.ChoiceField(label=_("ADKAR stage"), required=False, choices=[("", _("All stages")), *Stage.choices])
    audience = forms.TypedChoiceField(label=_("Audience"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, audiences: list[Audience], **kwargs):
        super().__init__(*args, **kwargs)
        # The choices come from the list already loaded for the coverage matrix: no extra query.
        self.fields["audience"].choices = [("", _("All audiences"))] + [(a.pk, a.name) for a in audiences]
        for field in self.fields.values():
            field.widget.attrs.update({"class": "form-select form-select-sm", "data-autosubmit": ""})

    def values(self) -> dict:
        if not self.is_valid():
            return {"channel": "", "stage": "", "audience_id": None}
        return {
            "channel": self.cleaned_data["channel"],
            "stage": self.cleaned_data["stage"],
            "audience_id": self.cleaned_data["audience"],
        }


class GoLiveForm(forms.ModelForm):
    """Move go-live; every asset placed relative to it moves along."""

    class Meta:
        model = ChangeProject
        fields = ["go_live"]
        widgets = {"go_live": forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")}


class TemplateApplyForm(forms.Form):
    """The items of one plan template to add, and the audiences they go to."""

    template = forms.ModelChoiceField(queryset=PlanTemplate.objects.filter(is_active=True), widget=forms.HiddenInput)
    items = forms.ModelMultipleChoiceField(
        label=_("Assets to add"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one asset to add.")},
    )
    audiences = forms.ModelMultipleChoiceField(
        label=_("Audiences"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("Every added asset goes to these audiences; you can change each asset afterwards."),
    )

    def __init__(self, *args, template: PlanTemplate, project: ChangeProject, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].initial = template.pk
        self.fields["items"].queryset = template.items.order_by("offset_days", "order")
        self.fields["items"].initial = [item.pk for item in self.fields["items"].queryset]
        self.fields["audiences"].queryset = project.audiences.order_by("name")

    def clean(self):
        cleaned = super().clean()
        template, items = cleaned.get("template"), cleaned.get("items")
        if template and items and any(item.template_id != template.pk for item in items):
            raise forms.ValidationError(_("Choose items of one template."))
        return cleaned


class FollowUpForm(forms.Form):
    """A follow-up of an email: when, and its own subject and opening line."""

    days = forms.IntegerField(label=_("Days after the first email"), min_value=1, max_value=60, initial=4)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    opening = forms.CharField(
        label=_("Opening line"),
        max_length=500,
        required=False,
        help_text=_("Above the first email's text, for example: In case you missed it last week."),
    )
