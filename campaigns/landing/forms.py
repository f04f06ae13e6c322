"""The landing page's forms: plain HTML forms that work without JavaScript."""

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.models import Comprehension, PulseResponse, Stage

# The pulse statements as Prosci words them (docs: DOMAIN.md), in both languages the page speaks.
PULSE_STATEMENTS = {
    Stage.AWARENESS: {
        "en": "I understand why we are making this change.",
        "sv": "Jag förstår varför vi gör den här förändringen.",
    },
    Stage.DESIRE: {"en": "I want this change to succeed.", "sv": "Jag vill att förändringen ska lyckas."},
    Stage.KNOWLEDGE: {
        "en": "I know what will change in my daily work.",
        "sv": "Jag vet vad som förändras i mitt dagliga arbete.",
    },
    Stage.ABILITY: {
        "en": "I feel able to work the new way.",
        "sv": "Jag känner mig redo att arbeta på det nya sättet.",
    },
    Stage.REINFORCEMENT: {
        "en": "I get the support I need to keep it up.",
        "sv": "Jag får det stöd jag behöver för att fortsätta.",
    },
}
SCORES = [(n, str(n)) for n in range(1, 6)]


def statement(stage: str, language: str) -> str:
    texts = PULSE_STATEMENTS[stage]
    return texts.get(language[:2], texts["en"])


class BookForm(forms.Form):
    session = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class GeneralBookForm(forms.Form):
    session = forms.TypedChoiceField(
        label=_("Choose a session"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a session."),
            "invalid_choice": _("That session cannot be booked any more. Choose another one."),
        },
    )
    email = forms.EmailField(
        label=_("Your work email"),
        max_length=254,
        help_text=_("We send a link to it; your seat is booked when you open the link."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args, sessions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].choices = [(s.id, str(s.id)) for s in sessions if s.free_seats > 0]


class AskForm(forms.Form):
    text = forms.CharField(
        label=_("Your question"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write your question first.")},
    )
    name = forms.CharField(
        label=_("Your name (optional)"),
        max_length=120,
        required=False,
        help_text=_("Leave it empty to ask anonymously."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Your work email (optional)"),
        required=False,
        help_text=_("We email you the answer. The team does not see the address."),
    )


class PersonalAskForm(forms.Form):
    text = AskForm.base_fields["text"]
    show_name = forms.BooleanField(
        label=_("Show my name to the project team"),
        required=False,
        help_text=_("Without it the question reaches the team anonymously."),
    )
    email_answer = forms.BooleanField(label=_("Email me the answer"), required=False)


class PulseForm(forms.Form):
    reaction = forms.ChoiceField(
        label=_("Do we have it right?"),
        choices=PulseResponse.Reaction.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose one of the three answers.")},
    )

    def __init__(self, *args, language: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        for stage in Stage.values:
            self.fields[stage] = forms.TypedChoiceField(
                label=statement(stage, language),
                choices=SCORES,
                coerce=int,
                required=False,
                empty_value=None,
                widget=forms.RadioSelect,
            )

    def stage_fields(self):
        return [self[stage] for stage in Stage.values]

    def scores(self) -> dict[str, int | None]:
        return {stage: self.cleaned_data.get(stage) for stage in Stage.values}


class AnswerForm(forms.Form):
    """The team's answer to a question, in the app's inbox."""

    answer = forms.CharField(
        label=_("Answer"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4, "class": "rich-text", "data-rich-text": "1"}),
    )
    publish = forms.BooleanField(label=_("Publish on the landing page's FAQ"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("publish") and not (data.get("answer") or "").strip():
            self.add_error("answer", _("Write an answer before publishing it."))
        return data


class ComprehensionForm(forms.ModelForm):
    """The project's comprehension question: three or four answers, one of them right."""

    class Meta:
        model = Comprehension
        fields = ["text", "answer_1", "answer_2", "answer_3", "answer_4", "right_answer", "attention_above"]
        widgets = {"right_answer": forms.RadioSelect}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("right_answer") == 4 and not (cleaned.get("answer_4") or "").strip():
            self.add_error("right_answer", _("The right answer must be one of the answers you wrote."))
        return cleaned
