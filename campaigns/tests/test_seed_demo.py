import io
import zoneinfo
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from campaigns.models import ChangeProject


def _snapshot(media_root) -> dict:
    """Row count and highest id of every model in the project's apps, plus the media files."""
    shot = {}
    for app_label in ("auth", "campaigns", "audiences"):
        for model in apps.get_app_config(app_label).get_models():
            rows = model._default_manager.all()
            shot[model._meta.label] = (rows.count(), max(rows.values_list("pk", flat=True), default=None))
    shot["media files"] = sorted(str(p) for p in Path(media_root).rglob("*") if p.is_file())
    return shot


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing(settings):
    call_command("seed_demo", "--employees", "60", stdout=io.StringIO())
    first = _snapshot(settings.MEDIA_ROOT)
    project = ChangeProject.objects.get(slug="atlas")
    updated_at = project.updated_at

    call_command("seed_demo", "--employees", "60", stdout=io.StringIO())

    assert _snapshot(settings.MEDIA_ROOT) == first
    project.refresh_from_db()
    assert project.updated_at == updated_at
    assert first["audiences.Employee"][0] == 60
    assert first["campaigns.ProjectImage"][0] >= 2  # logo and hero, and whatever the plan shows
    assert first["audiences.Audience"][0] >= 3
    assert len(first["media files"]) >= 6  # three sizes of each


@pytest.mark.django_db
def test_the_demo_login_works(client, settings):
    call_command("seed_demo", "--employees", "10", stdout=io.StringIO())
    # Through the login page: the throttle (django-axes) checks every sign-in against its request.
    response = client.post(reverse("login"), {"username": "demo", "password": "launchpad-demo"})
    assert response.status_code == 302
    response = client.get(ChangeProject.objects.get(slug="atlas").get_absolute_url())
    assert response.status_code == 200
    demo = get_user_model().objects.get(username="demo")
    assert demo.memberships.get(project__slug="atlas").is_owner


@pytest.mark.django_db
def test_every_demo_email_has_a_preheader_of_its_own(settings):
    from campaigns.models import Asset

    call_command("seed_demo", "--employees", "20", stdout=io.StringIO())
    emails = Asset.objects.filter(channel="email")
    assert emails.count() >= 5
    assert not emails.filter(preheader="").exists()
    assert all(e.preheader not in (e.subject, e.project.lede) for e in emails)  # the inbox line adds something
    atlas = ChangeProject.objects.get(slug="atlas")
    assert atlas.function_mailbox and atlas.assets.filter(reply_to="mailbox").exists()


@pytest.mark.django_db
def test_the_demo_shows_read_depth_a_question_with_answers_and_a_sent_follow_up(settings):
    from campaigns.analytics.selectors import dashboard
    from campaigns.models import Asset, ComprehensionResponse, Delivery

    call_command("seed_demo", "--employees", "220", stdout=io.StringIO())  # the first 120 answer the pulse
    project = ChangeProject.objects.get(slug="atlas")
    board = dashboard(project=project)

    assert board.overall.reading.visits > 0 and board.overall.reading.median_label
    assert ComprehensionResponse.objects.filter(question__project=project).count() > 10
    follow_up = Asset.objects.get(project=project, follow_up_of__isnull=False)
    assert follow_up.status == Asset.Status.DONE
    sent = Delivery.objects.filter(asset=follow_up, status=Delivery.Status.SENT)
    first = Delivery.objects.filter(asset=follow_up.follow_up_of)
    assert 0 < sent.count() < first.count()


@pytest.mark.django_db
def test_the_demo_has_a_manager_cascade_in_flight(settings):
    from campaigns.analytics import selectors
    from campaigns.models import TeamTalk
    from campaigns.plan.selectors import plan_coverage

    call_command("seed_demo", "--employees", "120", stdout=io.StringIO())

    project = ChangeProject.objects.get(slug="atlas")
    talks = TeamTalk.objects.filter(asset__project=project)
    assert talks.count() >= 5
    assert talks.filter(confirmed_at__isnull=False).exists()  # some held
    assert talks.filter(confirmed_at__isnull=True, reminded_at__isnull=False).exists()  # some late
    board = selectors.dashboard(project=project)
    assert board.cascade.held and board.cascade.late and board.cascade_departments
    talk = talks.first().asset
    assert talk.translation_state("en").complete  # managers who read English are briefed in English
    gaps = [w for w in plan_coverage(project=project)["warnings"] if w.kind == "untranslated"]
    assert not any(talk.title in w.message for w in gaps)


@pytest.mark.django_db
def test_the_demo_is_bilingual_and_its_key_assets_have_english_versions(settings):
    from campaigns.delivery.emails import landing_url_for, render_campaign_email
    from campaigns.models import Asset
    from campaigns.plan.selectors import plan_coverage

    call_command("seed_demo", "--employees", "60", stdout=io.StringIO())
    atlas = ChangeProject.objects.get(slug="atlas")

    assert (atlas.language, atlas.other_languages) == ("sv", ["en"])
    assert atlas.translation_state("en").complete
    teaser = Asset.objects.get(project=atlas, title="Teaser: något nytt är på väg")
    assert teaser.translation_state("en").complete
    assert atlas.comprehension.translation_state("en").complete  # the question reads in English too
    english_reader = atlas.audiences.get(name="Alla medarbetare")  # someone who reads English in it
    from audiences.selectors import audience_members

    reader = audience_members(audience=english_reader).filter(language="en").first()
    rendered = render_campaign_email(asset=teaser, employee=reader, landing_url=landing_url_for(atlas))
    assert rendered.subject.startswith("Something new is coming") and 'lang="en"' in rendered.html
    gaps = [w for w in plan_coverage(project=atlas)["warnings"] if w.kind == "untranslated"]
    assert not any(teaser.title in w.message for w in gaps)


@pytest.mark.django_db
def test_the_demo_has_offices_abroad_and_sends_go_live_at_each_ones_local_time(settings):
    from audiences.models import Employee
    from campaigns.models import EmailSend

    call_command("seed_demo", "--employees", "120", stdout=io.StringIO())

    zones = set(Employee.objects.values_list("site", "time_zone", "language").distinct())
    assert ("London", "Europe/London", "en") in zones and ("Helsingfors", "Europe/Helsinki", "sv") in zones
    assert {(site, zone) for site, zone, _language in zones if zone} == {
        ("London", "Europe/London"),
        ("Helsingfors", "Europe/Helsinki"),
    }
    go_live = EmailSend.objects.get(asset__title="Driftstart: så kommer du igång")
    assert go_live.local_time is not None
    helsinki = timezone.localtime(go_live.due_at, zoneinfo.ZoneInfo("Europe/Helsinki"))
    assert helsinki.time() == go_live.local_time  # the first zone to reach the plan's time of day
