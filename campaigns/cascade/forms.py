"""The manager's one-click "team talk held" form."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_QUESTION_CHARS = 2000
MAX_ATTENDEES = 10_000


class TeamTalkHeldForm(forms.Form):
    held_on = forms.DateField(
        label=_("When did you hold it?"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    attendees = forms.IntegerField(label=_("How many took part?"), min_value=0, max_value=MAX_ATTENDEES)
    questions = forms.CharField(
        label=_("Questions your team raised (one per line)"),
        help_text=_("They go to the project team as your team's questions, without names."),
        required=False,
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def clean_held_on(self) -> datetime.date:
        held_on = self.cleaned_data["held_on"]
        today = timezone.localdate()
        if held_on > today:
            raise forms.ValidationError(_("The talk cannot have been held in the future."))
        if held_on < today - datetime.timedelta(days=365):
            raise forms.ValidationError(_("Choose a date within the last year."))
        return held_on

    def clean_questions(self) -> list[str]:
        lines = [" ".join(line.split()) for line in self.cleaned_data["questions"].splitlines()]
        questions = [line for line in lines if line]
        if any(len(q) > MAX_QUESTION_CHARS for q in questions):
            raise forms.ValidationError(
                _("A question can be at most %(max)s characters long.") % {"max": MAX_QUESTION_CHARS}
            )
        return questions
