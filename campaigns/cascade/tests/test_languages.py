"""The manager cascade in a project with content languages: a team talk has a version per language like
any asset, each manager is briefed, reminded and shown their page in their own language from top to
bottom (the primary one whole where the talk has no version in theirs), and lists of people follow the
organisation's alphabetical order."""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from campaigns.cascade.selectors import skip_level, talk_progress, team_lists
from campaigns.cascade.services import team_talk_confirm, team_talks_create, team_talks_remind_due
from campaigns.delivery import services as delivery
from campaigns.models import Asset, ChangeProject, Delivery, Question, TeamTalk
from campaigns.plan.selectors import plan_coverage
from campaigns.tests.cascade_helpers import make_audience, make_employee, make_team_talk, make_teams, start_briefings
from campaigns.tests.landing_helpers import bilingual

pytestmark = pytest.mark.django_db

ENGLISH = {
    "subject": "Your team talk about {{ project_name }}",
    "headline": "Talk to your team about the change",
    "body": "<p>This is how the change affects us.</p>",
    "button_label": "All about the change",
}


@pytest.fixture
def project(project):
    project.refresh_from_db()  # go-live as a date
    return bilingual(project)


def _briefed_managers(project, owner, *, translated: bool = True):
    """An English-reading and a Swedish-reading manager, each with a team of three, briefed by one talk."""
    (english_boss, swedish_boss), reports = make_teams(managers=2, size=3)
    english_boss.language = "en"
    english_boss.save(update_fields=["language"])
    asset = make_team_talk(project, owner, make_audience(project, *reports))
    if translated:
        asset.set_translation("en", ENGLISH)
        asset.save(update_fields=["translations"])
    return asset, english_boss, swedish_boss


def _send_briefings(asset, owner, capture) -> dict[str, object]:
    _send, batches = start_briefings(asset, owner, capture)
    for ids in batches:
        delivery.send_batch(delivery_ids=ids)
    return {message.to[0]: message for message in mail.outbox}


def _due(asset, language: str) -> str:
    with translation.override(language):
        return date_format(asset.talk_due_on(), "l j F")


# The briefing email


def test_each_manager_is_briefed_in_their_own_language_from_top_to_bottom(
    project, owner, django_capture_on_commit_callbacks
):
    asset, english_boss, swedish_boss = _briefed_managers(project, owner)
    messages = _send_briefings(asset, owner, django_capture_on_commit_callbacks)

    english = messages[english_boss.email]
    text, html = english.body, english.alternatives[0].content
    assert english.subject == "Your team talk about Nytt ekonomisystem"
    assert 'lang="en"' in html and "This is how the change affects us." in html
    assert "Så här påverkar förändringen oss." not in html + text
    assert f"Talk to your team by {_due(asset, 'en')}" in text  # "Friday 26 February"
    assert "Your team: 3 people, 0 reached by the launch so far." in text
    assert "We have had our team talk: confirm it in one click" in html
    assert "All about the change" in html and "You are receiving this email because" in html
    for swedish in ("Ditt teamsamtal", "Prata med ditt team senast", "Ditt team:", "Du får det här mejlet", "februari"):
        assert swedish not in text and swedish not in html

    swedish = messages[swedish_boss.email]
    text, html = swedish.body, swedish.alternatives[0].content
    assert swedish.subject == "Ditt teamsamtal om Nytt ekonomisystem"
    assert 'lang="sv"' in html and "Så här påverkar förändringen oss." in html
    assert f"Prata med ditt team senast {_due(asset, 'sv')}" in text  # "fredag 26 februari"
    assert "Ditt team: 3 personer, 0 nådda av lanseringen hittills." in text
    assert "Vi har haft vårt teamsamtal: bekräfta med ett klick" in html and "Du får det här mejlet" in html
    for english_words in ("Your team", "Talk to your team", "This is how", "You are receiving", "February"):
        assert english_words not in text and english_words not in html


def test_a_talk_without_an_english_version_briefs_the_english_manager_wholly_in_the_primary_language(
    project, owner, django_capture_on_commit_callbacks
):
    asset, english_boss, _swedish_boss = _briefed_managers(project, owner, translated=False)
    messages = _send_briefings(asset, owner, django_capture_on_commit_callbacks)

    message = messages[english_boss.email]
    text, html = message.body, message.alternatives[0].content
    assert message.subject == "Ditt teamsamtal om Nytt ekonomisystem" and 'lang="sv"' in html
    assert f"Prata med ditt team senast {_due(asset, 'sv')}" in text
    assert "Ditt team: 3 personer" in text
    assert "Your team" not in text + html and "Talk to your team" not in text + html


def test_the_briefings_team_list_is_in_swedish_alphabetical_order(project, owner, django_capture_on_commit_callbacks):
    ChangeProject.objects.filter(pk=project.pk).update(tracking_mode=ChangeProject.TrackingMode.INDIVIDUAL)
    project.refresh_from_db()
    boss = make_employee("chef@example.se", first_name="Chef", last_name="Ledare")
    names = ["Öberg", "Åberg", "Zetterberg", "Ärlig", "Andersson"]
    for i, last_name in enumerate(names):
        make_employee(f"p{i}@example.se", first_name="Kim", last_name=last_name, manager_employee=boss)

    if connection.vendor == "sqlite":  # no ICU collations in the embedded database
        pytest.skip("SQLite sorts without the organisation's collation")

    (team,) = team_lists(asset=make_team_talk(project, owner), manager_ids=[boss.pk]).values()

    expected = ["Kim Andersson", "Kim Zetterberg", "Kim Åberg", "Kim Ärlig", "Kim Öberg"]
    assert [name for name, _reached in team.people] == expected


# The reminder and the manager's page


def test_the_reminder_is_in_the_language_of_the_managers_briefing(project, owner):
    asset, english_boss, swedish_boss = _briefed_managers(project, owner)
    Asset.objects.filter(pk=asset.pk).update(status=Asset.Status.SCHEDULED, talk_by_days=-400)
    for boss in (english_boss, swedish_boss):
        Delivery.objects.create(asset=asset, employee=boss, message_id=f"<{boss.pk}@example.se>")
    team_talks_create(asset=asset)

    assert team_talks_remind_due() == 2

    reminders = {message.to[0]: message for message in mail.outbox}
    english, swedish = reminders[english_boss.email], reminders[swedish_boss.email]
    assert english.subject == "Reminder: your team talk about Nytt ekonomisystem"
    due = Asset.objects.get(pk=asset.pk).talk_due_on()
    with translation.override("en"):
        assert f"was due by {date_format(due, 'j F')}, and" in english.body  # "25 January"
    assert english.body.startswith("Hi Chef0,") and "Hej" not in english.body
    assert swedish.subject == "Påminnelse: ditt teamsamtal om Nytt ekonomisystem"
    with translation.override("sv"):
        assert f"skulle ha hållits senast {date_format(due, 'j F')}," in swedish.body  # "25 januari"
    assert swedish.body.startswith("Hej Chef1!") and "Hi " not in swedish.body


def test_without_an_english_version_the_english_manager_is_reminded_in_the_primary_language(project, owner):
    asset, english_boss, _swedish_boss = _briefed_managers(project, owner, translated=False)
    Asset.objects.filter(pk=asset.pk).update(status=Asset.Status.SCHEDULED, talk_by_days=-400)
    Delivery.objects.create(asset=asset, employee=english_boss, message_id="<en@example.se>")
    team_talks_create(asset=asset)

    assert team_talks_remind_due() == 1

    (reminder,) = mail.outbox
    assert reminder.subject == "Påminnelse: ditt teamsamtal om Nytt ekonomisystem"
    assert reminder.body.startswith("Hej Chef0!") and "Hi " not in reminder.body


@pytest.fixture
def english_talk(project, owner):
    asset, english_boss, _swedish_boss = _briefed_managers(project, owner)
    Delivery.objects.create(asset=asset, employee=english_boss, message_id="<en@example.se>")
    team_talks_create(asset=asset)
    return TeamTalk.objects.get(manager=english_boss)


def test_the_english_managers_page_is_english_words_and_talking_points_alike(english_talk):
    page = Client().get(f"/tt/{english_talk.token}/").content.decode()

    assert '<html lang="en">' in page
    assert "Talk to your team about the change" in page and "This is how the change affects us." in page
    assert "We have had our team talk" in page and "Confirm the team talk" in page
    assert "Så här påverkar förändringen oss." not in page and "Bekräfta teamsamtalet" not in page
    assert 'lang="sv"' in page  # the switch offers Swedish


def test_the_page_follows_the_managers_switch_and_falls_back_whole_to_the_primary_language(english_talk):
    client = Client()
    client.post(reverse("set_language"), {"language": "sv", "next": f"/tt/{english_talk.token}/"})
    page = client.get(f"/tt/{english_talk.token}/").content.decode()
    assert '<html lang="sv">' in page and "Så här påverkar förändringen oss." in page
    assert "Bekräfta teamsamtalet" in page and "This is how" not in page

    Asset.objects.filter(pk=english_talk.asset_id).update(translations={})  # no English version any more
    page = Client().get(f"/tt/{english_talk.token}/").content.decode()
    assert '<html lang="sv">' in page and "Bekräfta teamsamtalet" in page
    assert "Confirm the team talk" not in page and "This is how" not in page


def test_questions_from_an_english_team_reach_the_inbox_named_in_the_projects_language(english_talk):
    team_talk_confirm(talk=english_talk, held_on=timezone.localdate(), attendees=3, questions=["Who trains us?"])

    (question,) = Question.objects.all()
    assert question.text == "Who trains us?" and question.name == "Ett teamsamtal (Avd0, Luleå)"


# The plan and the editor


@pytest.mark.usefixtures("english")
def test_the_plan_counts_a_team_talk_without_the_language_its_managers_read_as_a_gap(owner, project):
    """The talk's readers are the managers it briefs: Swedish-reading teams with an English-reading manager
    need the English version; an email to the same teams does not."""
    (boss,), reports = make_teams(managers=1, size=3)
    boss.language = "en"
    boss.save(update_fields=["language"])
    audience = make_audience(project, *reports, name="Avd0")
    talk = make_team_talk(project, owner, audience)
    email = make_team_talk(project, owner, audience, channel="email", title="Mejl till teamen")

    coverage = plan_coverage(project=project)
    gaps = [w for w in coverage["warnings"] if w.kind == "untranslated"]
    assert any(talk.title in w.message and "1 manager it briefs reads English" in w.message for w in gaps)
    assert not any(email.title in w.message for w in gaps)  # its readers read Swedish
    assert any(w.url == reverse("campaigns:asset_translate", args=[project.slug, talk.pk, "en"]) for w in gaps)
    assert {row["audience"].name: row["untranslated"] for row in coverage["rows"]} == {"Avd0": 1}

    talk.set_translation("en", ENGLISH)
    talk.save(update_fields=["translations"])
    gaps = [w for w in plan_coverage(project=project)["warnings"] if w.kind == "untranslated"]
    assert not any(talk.title in w.message for w in gaps)


@pytest.mark.usefixtures("english")
def test_a_team_talk_is_translated_like_an_email_with_its_own_labels_and_hostile_html_cleaned(
    client, editor, project, owner
):
    talk = make_team_talk(project, owner)
    url = reverse("campaigns:asset_translate", args=[project.slug, talk.pk, "en"])
    client.force_login(editor)

    page = client.get(url).content.decode()
    assert "Talking points" in page and 'name="subject"' in page and 'name="button_label"' in page
    assert "Så här påverkar förändringen oss." in page  # the primary text beside it

    response = client.post(
        url, {"subject": "Your team talk", "headline": "Talk", "body": '<p onclick="x()">Points<script>y</script></p>'}
    )
    assert response.status_code == 302
    talk.refresh_from_db()
    assert talk.translation("en")["body"] == "<p>Points</p>"
    assert set(talk.translation_state("en").done) >= {"subject", "headline", "body"}


def test_a_viewer_cannot_translate_a_team_talk(client, viewer, project, owner):
    talk = make_team_talk(project, owner)
    client.force_login(viewer)
    response = client.post(
        reverse("campaigns:asset_translate", args=[project.slug, talk.pk, "en"]), {"subject": "Hacked"}
    )
    assert response.status_code == 403
    talk.refresh_from_db()
    assert talk.translation("en") == {}


# Lists of managers for the change manager


def test_the_late_list_and_the_skip_level_list_are_in_swedish_alphabetical_order(project, owner):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite sorts without the organisation's collation")
    top = make_employee("vd@example.se", first_name="Vera", last_name="Direktör")
    names = ["Öberg", "Åberg", "Zetterberg", "Ärlig", "Andersson"]
    managers = []
    for i, last_name in enumerate(names):
        manager = make_employee(f"m{i}@example.se", first_name="Kim", last_name=last_name, manager_employee=top)
        make_employee(f"r{i}@example.se", manager_employee=manager)
        managers.append(manager)
    asset = make_team_talk(project, owner, talk_by_days=-400)
    for person in (top, *managers):
        Delivery.objects.create(asset=asset, employee=person, message_id=f"<{person.pk}@example.se>")
    team_talks_create(asset=asset)

    expected = ["Andersson", "Zetterberg", "Åberg", "Ärlig", "Öberg"]
    progress = talk_progress(asset=asset, today=timezone.localdate() + datetime.timedelta(days=1))
    assert [t.manager.last_name for t in progress.late if t.manager != top] == expected
    assert [t.manager.last_name for t in skip_level(talk=TeamTalk.objects.get(manager=top))] == expected
