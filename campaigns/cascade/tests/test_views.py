"""The manager's "team talk held" page: the link in the briefing, the one-click form, hostile input."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from audiences.services import employee_erase
from campaigns.cascade.services import team_talks_create
from campaigns.models import Asset, Delivery, Question, TeamTalk
from campaigns.tests.cascade_helpers import make_audience, make_team_talk, make_teams

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def talk(project, owner) -> TeamTalk:
    bosses, reports = make_teams(managers=1, size=3)
    asset = make_team_talk(project, owner, make_audience(project, *reports))
    Delivery.objects.create(asset=asset, employee=bosses[0], message_id="<a@example.se>")
    team_talks_create(asset=asset)
    return TeamTalk.objects.get()


def url(talk: TeamTalk) -> str:
    return f"/tt/{talk.token}/"


def today() -> str:
    return timezone.localdate().isoformat()


def test_the_page_shows_the_talking_points_sanitised_and_the_form(client, talk):
    response = client.get(url(talk))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Så här påverkar förändringen oss." in page
    assert "<script>alert(1)</script>" not in page
    assert 'name="held_on"' in page and 'name="attendees"' in page
    assert response["Cache-Control"].startswith("private") or "no-store" in response["Cache-Control"]


def test_a_manager_confirms_in_one_post_and_the_questions_reach_the_inbox_as_the_teams(client, talk):
    response = client.post(
        url(talk),
        {
            "held_on": today(),
            "attendees": "3",
            "questions": "Vem ger oss utbildning?\n\n  När stängs gamla systemet? \n",
        },
    )

    assert response.status_code == 302
    talk.refresh_from_db()
    assert (talk.held_on, talk.attendees) == (timezone.localdate(), 3)
    assert talk.confirmed_at is not None
    questions = list(Question.objects.order_by("pk"))
    assert [q.text for q in questions] == ["Vem ger oss utbildning?", "När stängs gamla systemet?"]
    assert {(q.name, q.employee_id, q.answer_to) for q in questions} == {("A team talk (Avd0, Luleå)", None, "")}
    assert "Recorded: held on" in client.get(url(talk)).content.decode()


def test_confirming_again_corrects_the_figures_and_keeps_the_first_confirmation_time(client, talk):
    client.post(url(talk), {"held_on": today(), "attendees": "2"})
    talk.refresh_from_db()
    first = talk.confirmed_at

    client.post(url(talk), {"held_on": today(), "attendees": "3"})

    talk.refresh_from_db()
    assert (talk.attendees, talk.confirmed_at) == (3, first)


@pytest.mark.parametrize(
    "data",
    [
        {"held_on": (timezone.localdate() + datetime.timedelta(days=2)).isoformat(), "attendees": "3"},
        {"held_on": "2001-01-01", "attendees": "3"},
        {"held_on": "not a date", "attendees": "3"},
        {"held_on": "", "attendees": "3"},
        {"attendees": "-1"},
        {"attendees": "99999999999999999999"},
        {"attendees": "3; DROP TABLE"},
        {"questions": "x" * 2001},
        {"questions": "y\n" * 5000},
    ],
)
def test_bad_input_is_refused_with_a_reason_and_nothing_is_written(client, talk, data):
    data = {"held_on": today(), "attendees": "3", **data}

    response = client.post(url(talk), data)

    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    talk.refresh_from_db()
    assert talk.confirmed_at is None and not Question.objects.exists()


def test_question_markup_is_kept_as_plain_text(client, talk):
    client.post(url(talk), {"held_on": today(), "attendees": "1", "questions": "<img src=x onerror=alert(1)>"})

    assert Question.objects.get().text == "<img src=x onerror=alert(1)>"  # escaped wherever it is shown


@pytest.mark.parametrize("token", ["nope", "a" * 64, "%00", "../admin"])
def test_an_unknown_or_malformed_token_is_a_plain_404(client, talk, token):
    assert client.get(f"/tt/{token}/").status_code == 404
    assert client.post(f"/tt/{token}/", {"held_on": today(), "attendees": "1"}).status_code == 404


def test_a_cancelled_talk_or_an_erased_manager_has_no_page(client, talk, owner):
    talk.asset.status = Asset.Status.CANCELLED
    talk.asset.save()
    assert client.get(url(talk)).status_code == 404
    talk.asset.status = Asset.Status.APPROVED
    talk.asset.save()
    employee_erase(employee=talk.manager, by=owner)
    assert client.get(url(talk)).status_code == 404


def test_the_form_needs_its_csrf_token(talk):
    client = Client(enforce_csrf_checks=True)

    response = client.post(url(talk), {"held_on": today(), "attendees": "3"})

    assert response.status_code == 403
    talk.refresh_from_db()
    assert talk.confirmed_at is None


def test_posts_are_rate_limited_per_link(client, talk, settings):
    settings.LANDING_RATE_LIMIT = (2, 600)
    for _ in range(2):
        client.post(url(talk), {"held_on": today(), "attendees": "1"})
    assert client.post(url(talk), {"held_on": today(), "attendees": "1"}).status_code == 429


# The handout to show -------------------------------------------------------------------------


def _rendered_handout(project, owner, status=Asset.Status.APPROVED):
    from django.core.files.base import ContentFile

    from campaigns.models import PrintRender
    from campaigns.plan import services as plan

    handout = plan.asset_create(
        project=project, by=owner, channel="handout", stage="knowledge", title="Atlas för oss", offset_days=-12
    )
    Asset.objects.filter(pk=handout.pk).update(status=status)
    render, _created = PrintRender.objects.get_or_create(asset=handout, site="", language="sv", print_ready=False)
    render.status = PrintRender.Status.DONE
    render.pdf.save("atlas.pdf", ContentFile(b"%PDF-1.4 handout"), save=True)
    return handout


def test_the_manager_downloads_the_handout_from_their_page(client, talk, project, owner):
    handout = _rendered_handout(project, owner)
    Asset.objects.filter(pk=talk.asset_id).update(handout=handout)

    page = client.get(url(talk)).content.decode()
    response = client.get(f"{url(talk)}handout.pdf")

    assert "Download the handout to show your team: Atlas för oss (PDF)" in page
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_a_handout_not_yet_approved_or_not_rendered_is_not_offered(client, talk, project, owner):
    handout = _rendered_handout(project, owner, status=Asset.Status.DRAFT)
    Asset.objects.filter(pk=talk.asset_id).update(handout=handout)

    assert "Download the handout" not in client.get(url(talk)).content.decode()
    assert client.get(f"{url(talk)}handout.pdf").status_code == 404
    assert client.get("/tt/unknown-token/handout.pdf").status_code == 404
