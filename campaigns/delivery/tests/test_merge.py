"""Merge fields: a fixed vocabulary, every template tag refused, values escaped for HTML."""

import pytest

from campaigns.delivery import merge
from campaigns.plan.asset_forms import EmailAssetForm

HOSTILE = [
    "{{ settings.SECRET_KEY }}",
    "{{ first_name.__class__ }}",
    "{% load static %}",
    "{% include 'base.html' %}",
    "{% debug %}",
    "{{ favourite_colour }}",
]


@pytest.mark.parametrize("token", HOSTILE)
def test_it_names_every_hostile_token(token):
    problems = merge.find_problems(f"Hej {{{{ first_name }}}}, {token} och hej då.")
    assert [p.token for p in problems] == [token]
    assert token in problems[0].message


def test_it_accepts_every_known_field_with_or_without_spaces():
    text = " ".join(f"{{{{ {name} }}}} {{{{{name}}}}}" for name in merge.FIELDS)
    assert merge.find_problems(text) == []


def test_it_refuses_a_comment_and_a_filter():
    tokens = [p.token for p in merge.find_problems("{# hidden #} {{ first_name|upper }}")]
    assert tokens == ["{# hidden #}", "{{ first_name|upper }}"]


def test_it_reports_nothing_for_empty_text():
    assert merge.find_problems("") == []
    assert merge.find_problems(None) == []


def test_it_escapes_values_for_html():
    html = merge.merge("<p>Hej {{ first_name }}!</p>", {"first_name": "<img src=x onerror=alert(1)>"}, html=True)
    assert html == "<p>Hej &lt;img src=x onerror=alert(1)&gt;!</p>"


def test_it_keeps_values_as_they_are_for_text():
    text = merge.merge("Hej {{first_name}} på {{ site }}", {"first_name": "Åsa <3", "site": "Luleå"}, html=False)
    assert text == "Hej Åsa <3 på Luleå"


def test_it_never_evaluates_a_value_that_looks_like_a_field():
    text = merge.merge("{{ first_name }}", {"first_name": "{{ last_name }}", "last_name": "Berg"}, html=False)
    assert text == "{{ last_name }}"


def test_it_fills_a_missing_value_with_nothing():
    assert merge.merge("Hej {{ department }}!", {}, html=True) == "Hej !"


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["subject", "preheader", "headline", "body", "button_label"])
def test_the_email_form_names_the_token_in_each_text_field(project, field):
    data = {
        "title": "Mejl",
        "stage": "awareness",
        "timing": "relative",
        "offset_days": "-7",
        "local_time": "09:00",
        "subject": "Hej",
        "sender_kind": "sponsor",
        "body": "<p>Hej</p>",
    }
    data[field] = "Hej {{ settings.SECRET_KEY }}"
    form = EmailAssetForm(data, project=project)
    assert not form.is_valid()
    assert any("{{ settings.SECRET_KEY }}" in error for error in form.errors[field])
