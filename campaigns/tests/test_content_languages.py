"""Content in several languages: each employee reads the story, emails, meetings and invites in their
own language where the project has it, in the primary one where it has not, and never a mix."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from icalendar import Calendar

from campaigns.models import Asset, AssetEvent, Booking, ChangeProject, PlanTemplate
from campaigns.plan import services as plan
from campaigns.tests.asset_helpers import make_email
from campaigns.tests.landing_helpers import bilingual, clean_cache, make_employee, make_meeting, personal_link  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


def _story_url(project, language="en"):
    return reverse("campaigns:story_translate", args=[project.slug, language])


def _asset_url(asset, language="en"):
    return reverse("campaigns:asset_translate", args=[asset.project.slug, asset.pk, language])


# The model


def test_a_translation_is_missing_then_up_to_date_then_outdated_when_the_primary_text_changes(project):
    state = project.translation_state("en")
    assert "lede" in state.missing and "why" in state.missing and not state.complete

    project.set_translation("en", {"lede": "On 1 March we change finance systems.", "why": "<p>It is worn out.</p>"})
    project.save()
    state = project.translation_state("en")
    assert {"lede", "why"} <= set(state.done) and not state.outdated

    project.lede = "Den 8 mars byter vi ekonomisystem."
    project.save()
    assert project.translation_state("en").outdated == ["lede"]
    assert project.in_language("en").lede == "On 1 March we change finance systems."  # still shown until rewritten
    assert project.in_language("fi").lede == project.lede  # no Finnish: the primary text


def test_an_empty_field_falls_back_to_the_primary_text_and_a_reader_copy_is_never_saved(project):
    project.set_translation("en", {"lede": "In English", "why": ""})
    project.save()
    english = project.in_language("en")
    assert english.lede == "In English" and english.why == project.why
    assert ChangeProject.objects.get(pk=project.pk).lede != "In English"


def test_the_project_form_sets_the_languages_and_refuses_one_not_offered(client, owner, project):
    client.force_login(owner)
    url = reverse("campaigns:project_edit", args=[project.slug])
    data = {
        "name": project.name,
        "lede": project.lede,
        "go_live": "2027-03-01",
        "status": project.status,
        "tracking_mode": project.tracking_mode,
        "anonymity_threshold": 5,
        "primary_color": "#1f4e79",
        "accent_color": "#b5451b",
        "language": "sv",
    }
    assert client.post(url, {**data, "other_languages": ["en", "sv"]}).status_code == 302
    project.refresh_from_db()
    assert (project.language, project.other_languages) == ("sv", ["en"])  # the primary is not a further one

    response = client.post(url, {**data, "other_languages": ["xx"]})
    assert response.status_code == 200 and "xx" in response.content.decode()  # named in the error
    project.refresh_from_db()
    assert project.other_languages == ["en"]


# The editor


def test_the_story_is_written_beside_the_primary_text_and_hostile_html_is_cleaned(client, editor, project):
    bilingual(project)
    client.force_login(editor)
    page = client.get(_story_url(project)).content.decode()
    assert "Det gamla systemet är uttjänt." in page and ("Missing" in page or "Saknas" in page)

    response = client.post(
        _story_url(project),
        {
            "lede": "On 1 March we change finance systems.",
            "why": '<p onclick="x()">Worn out<script>alert(1)</script></p>',
        },
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.translation("en")["why"] == "<p>Worn out</p>"
    assert project.translation_state("en").done == ["lede", "why"]


def test_a_language_the_project_does_not_have_is_a_plain_404(client, editor, project):
    client.force_login(editor)
    asset = make_email(project, editor)
    assert client.get(_story_url(project, "en")).status_code == 404
    assert client.get(_asset_url(asset, "en")).status_code == 404
    bilingual(project)
    assert client.get(_story_url(project, "de")).status_code == 404
    assert client.get(_asset_url(asset, "en")).status_code == 200


def test_a_viewer_cannot_write_a_translation(client, viewer, project):
    bilingual(project)
    client.force_login(viewer)
    assert client.post(_story_url(project), {"lede": "Hacked"}).status_code == 403
    project.refresh_from_db()
    assert project.translation("en") == {}


def test_an_asset_translation_is_audited_and_withdraws_an_approval(client, owner, project):
    bilingual(project)
    asset = make_email(project, owner)
    plan.asset_set_status(asset=asset, status=Asset.Status.READY, by=owner)
    plan.asset_set_status(asset=asset, status=Asset.Status.APPROVED, by=owner)
    client.force_login(owner)

    response = client.post(_asset_url(asset), {"subject": "Why we change, {{ first_name }}", "body": "<p>Hi</p>"})

    assert response.status_code == 302
    asset.refresh_from_db()
    assert asset.status == Asset.Status.READY
    assert asset.translation("en") == {"subject": "Why we change, {{ first_name }}", "body": "<p>Hi</p>"}
    event = asset.events.filter(action=AssetEvent.Action.CHANGED).latest("pk")
    assert "subject (en)" in event.detail["fields"]
    detail = client.get(asset.get_absolute_url()).content.decode()
    assert reverse("campaigns:asset_translate", args=[project.slug, asset.pk, "en"]) in detail


def test_a_broken_merge_field_or_captions_file_is_refused_and_nothing_is_saved(client, editor, project):
    bilingual(project)
    asset = make_email(project, editor)
    client.force_login(editor)

    response = client.post(_asset_url(asset), {"subject": "Hi {{ first_nam }}", "body": "{% load x %}"})

    assert response.status_code == 200
    assert "first_nam" in response.content.decode()
    asset.refresh_from_db()
    assert asset.translations == {}


def test_a_meeting_translation_covers_its_sessions_places(client, editor, project):
    bilingual(project)
    meeting, (session,) = make_meeting(project)
    client.force_login(editor)
    page = client.get(_asset_url(meeting)).content.decode()
    assert "Storsalen 1" in page

    client.post(_asset_url(meeting), {"title": "Atlas for real", f"place_{session.pk}": "The Great Hall 1"})

    session.refresh_from_db()
    assert session.translation("en") == {"place": "The Great Hall 1"}


# What employees see


def test_a_project_without_english_gives_an_english_reader_the_swedish_page_and_no_switch(client, project):
    link = personal_link(project, make_employee("bob@example.se", language="en"))
    html = client.get(f"/p/{link.token}/").content.decode()
    assert '<html lang="sv">' in html and project.lede in html
    assert 'name="language"' not in html  # no language to switch to


def test_the_english_reader_gets_the_english_story_and_the_switch_offers_swedish_only(client, project):
    bilingual(project)
    project.set_translation("en", {"lede": "On 1 March we change finance systems.", "why": "<p>Worn out.</p>"})
    project.save()
    link = personal_link(project, make_employee("bob@example.se", language="en"))

    english = client.get(f"/p/{link.token}/").content.decode()
    swedish = Client().get(f"/l/{project.slug}/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()

    assert '<html lang="en">' in english and "On 1 March we change finance systems." in english
    assert "Worn out." in english and project.lede not in english
    assert 'value="sv"' in english and 'value="en"' not in english
    assert "Det gamla systemet är uttjänt." in swedish and 'value="en"' in swedish


def test_the_general_link_follows_the_browser_only_into_languages_the_project_has(project):
    html = Client().get(f"/l/{project.slug}/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    assert '<html lang="sv">' in html  # the project is Swedish only


def test_the_booking_email_and_invite_are_in_the_readers_language(
    client, project, smtp_inbox, django_capture_on_commit_callbacks
):
    bilingual(project)
    project.set_translation("en", {"lede": "We change finance systems."})
    project.save()
    meeting, (session,) = make_meeting(project, title="Atlas på riktigt")
    meeting.set_translation("en", {"title": "Atlas for real"})
    meeting.save()
    session.set_translation("en", {"place": "The Great Hall 1"})
    session.save()
    link = personal_link(project, make_employee("bob@example.se", language="en"))

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/p/{link.token}/book/", {"session": session.pk})

    assert Booking.objects.get().employee.email == "bob@example.se"
    (message,) = smtp_inbox.messages()
    assert message["Subject"] == "Your seat is booked: Atlas for real"
    text = message.get_body(("plain",)).get_content()
    assert "The Great Hall 1" in text and "Storsalen" not in text
    ics = next(p for p in message.walk() if p.get_filename() == "invite.ics").get_content()
    (event,) = Calendar.from_ical(ics).walk("VEVENT")
    assert str(event["SUMMARY"]).startswith("Atlas for real") and "The Great Hall 1" in str(event["LOCATION"])
    assert str(event["DESCRIPTION"]) == "We change finance systems."


# Plan templates and test sends


def test_the_templates_offered_follow_the_projects_language_not_the_interface(client, owner, project):
    client.force_login(owner)
    url = reverse("campaigns:plan_template", args=[project.slug])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Standard internlansering" in page and "Standard internal launch" not in page

    ChangeProject.objects.filter(pk=project.pk).update(language="en")
    page = client.get(url).content.decode()
    assert "Standard internal launch" in page and "Standard internlansering" not in page


def test_applying_a_template_fills_the_further_languages_from_the_same_plan_in_them(owner, project):
    bilingual(project)
    template = PlanTemplate.objects.get(slug="standard-internlansering")

    assets = plan.plan_apply_template(project=project, template=template, by=owner)

    teaser = next(a for a in assets if a.title == "Teaser: något nytt är på väg")
    assert teaser.button_label == "Läs mer"
    assert teaser.translation("en")["subject"] == "Something new is coming on {{ go_live }}"
    assert teaser.translation("en")["button_label"] == "Read more"
    assert teaser.translation_state("en").complete


def test_a_test_send_offers_the_projects_languages(client, editor, project):
    bilingual(project)
    asset = make_email(project, editor)
    client.force_login(editor)
    page = client.get(reverse("campaigns:asset_preview", args=[project.slug, asset.pk])).content.decode()
    assert 'value="en"' in page and 'value="fi"' not in page


# The plan


@pytest.mark.usefixtures("english")
def test_the_plan_counts_an_asset_without_the_language_its_audience_reads_as_a_gap(client, owner, project):
    project.refresh_from_db()
    from campaigns.plan.selectors import plan_coverage
    from campaigns.tests.asset_helpers import make_audience

    swedes = make_audience(project, make_employee("sven@example.se", language="sv"), name="Verkstad")
    mixed = make_audience(
        project, make_employee("bob@example.se", language="en"), make_employee("eva@example.se"), name="Ekonomi"
    )
    asset = make_email(project, owner)
    asset.audiences.set([swedes, mixed])

    assert not [w for w in plan_coverage(project=project)["warnings"] if w.kind == "untranslated"]  # Swedish only

    bilingual(project)
    coverage = plan_coverage(project=project)
    gaps = [w for w in coverage["warnings"] if w.kind == "untranslated"]
    assert any(asset.title in w.message and "1 people" in w.message for w in gaps)
    assert any(w.url == reverse("campaigns:story_translate", args=[project.slug, "en"]) for w in gaps)
    assert {row["audience"].name: row["untranslated"] for row in coverage["rows"]} == {"Ekonomi": 1, "Verkstad": 0}

    asset.set_translation("en", {"subject": "Why", "preheader": "Days", "body": "<p>Hi</p>", "button_label": "Read"})
    asset.save()
    project.refresh_from_db()
    gaps = [w for w in plan_coverage(project=project)["warnings"] if w.kind == "untranslated"]
    assert not any(asset.title in w.message for w in gaps)


# The dashboard


def test_the_dashboard_shows_reach_and_readiness_per_language_within_its_query_count(client, owner, viewer, project):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from audiences.models import Audience
    from campaigns.analytics import selectors as dashboard
    from campaigns.analytics import services as analytics
    from campaigns.tests.dashboard_helpers import answer, deliver

    ChangeProject.objects.filter(pk=project.pk).update(tracking_mode="individual", anonymity_threshold=2)
    project.refresh_from_db()
    bilingual(project)
    swedes = [make_employee(f"sv{i}@example.se", language="sv") for i in range(4)]
    english = [make_employee(f"en{i}@example.se", language="en") for i in range(3)]
    everyone = Audience.objects.create(project=project, name="Alla", kind=Audience.Kind.LIST)
    everyone.members.add(*swedes, *english)
    email = make_email(project, owner)
    for person in [*swedes, english[0]]:
        deliver(email, person)
    for person in english[:2]:
        answer(project, person, everyone, all=(4, 4, 2, 2, 2))
    analytics.analytics_refresh(project=project)

    with translation.override("en"):
        board = dashboard.dashboard(project=project)
    rows = {row.name: row for row in board.languages}
    assert set(rows) == {"Swedish", "English"}
    rows["Svenska"] = rows["Swedish"]
    assert (rows["English"].reach.targeted, rows["English"].reach.reached_once) == (3, 2)  # an email; a pulse answer
    assert (rows["Svenska"].reach.targeted, rows["Svenska"].reach.reached_once) == (4, 4)
    assert [c.average for c in rows["English"].readiness] == [4.0, 4.0, 2.0, 2.0, 2.0]
    assert rows["English"].barrier.stage == "knowledge"
    assert all(c.hidden for c in rows["Svenska"].readiness)  # no answers: nothing to show

    client.force_login(viewer)
    url = reverse("campaigns:dashboard", args=[project.slug])
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    assert len(queries) == 12  # the same pinned count as a project in one language
    assert "English" in page and 'id="languages-title"' in page


def test_a_hostile_translation_is_shown_as_text_on_the_page_and_in_the_email(client, owner, project):
    bilingual(project)
    project.set_translation("en", {"lede": '<script>alert("lede")</script><img src=x onerror=alert(1)>'})
    project.save()
    asset = make_email(project, owner)
    plan.asset_translate(
        asset=asset,
        language="en",
        by=owner,
        values={
            "subject": "<b>Hi</b>",
            "body": '<p>Hi</p><script>alert("body")</script><a href="javascript:x()">x</a>',
        },
    )
    asset.refresh_from_db()
    link = personal_link(project, make_employee("bob@example.se", language="en"))

    page = client.get(f"/p/{link.token}/").content.decode()
    from campaigns.delivery.emails import render_campaign_email

    rendered = render_campaign_email(asset=asset, employee=link.employee, landing_url="https://x.example/")

    assert "<script>alert(" not in page and "&lt;script&gt;alert(&quot;lede&quot;)" in page
    assert "<script>" not in rendered.html and "javascript:" not in rendered.html
    assert rendered.subject == "<b>Hi</b>"  # a subject is plain text: shown as typed, never as markup


def test_the_preview_shows_the_email_in_a_chosen_language_of_the_project(client, editor, project):
    bilingual(project)
    asset = make_email(project, editor)
    asset.set_translation("en", {"subject": "Why we change systems", "body": "<p>Hello</p>"})
    asset.save()
    anna = make_employee()  # Swedish
    client.force_login(editor)
    url = reverse("campaigns:asset_preview", args=[project.slug, asset.pk])

    swedish = client.get(url, {"employee": anna.pk}).context["rendered"]
    english = client.get(url, {"employee": anna.pk, "language": "en"}).context["rendered"]
    frame = client.get(
        reverse("campaigns:asset_email_html", args=[project.slug, asset.pk]), {"employee": anna.pk, "language": "en"}
    )

    assert swedish.subject == "Hej Anna, därför byter vi system" and english.subject == "Why we change systems"
    assert 'lang="en"' in frame.content.decode()
    assert client.get(url, {"employee": anna.pk, "language": "de"}).context["rendered"].subject == swedish.subject
