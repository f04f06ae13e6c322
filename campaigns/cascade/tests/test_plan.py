"""A team talk in the plan: created by an editor like any asset, its due date relative to go-live."""

import datetime

import pytest
from django.urls import reverse

from campaigns.models import Asset, Channel
from campaigns.tests.cascade_helpers import make_audience, make_team_talk, make_teams

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def data(**fields) -> dict:
    values = {
        "title": "Chefernas teamsamtal",
        "stage": "desire",
        "timing": "relative",
        "offset_days": "-10",
        "local_time": "09:00",
        "talk_by_days": "-3",
        "subject": "Ditt teamsamtal",
        "sender_kind": "change_manager",
        "body": '<p>Tre saker att säga.</p><img src=x onerror="alert(1)"><a href="javascript:alert(1)">x</a>',
    }
    values.update(fields)
    return {f"asset-{k}": v for k, v in values.items()}


def create_url(project) -> str:
    return reverse("campaigns:asset_create", args=[project.slug]) + "?channel=team_talk"


def test_the_channel_is_offered_and_an_editor_adds_a_team_talk_with_sanitised_talking_points(client, project, editor):
    _bosses, reports = make_teams(1, 2)
    audience = make_audience(project, *reports)
    client.force_login(editor)
    assert "?channel=team_talk" in client.get(reverse("campaigns:asset_create", args=[project.slug])).content.decode()

    response = client.post(create_url(project), data(audiences=str(audience.pk)))

    assert response.status_code == 302
    asset = Asset.objects.get()
    assert (asset.channel, asset.offset_days, asset.talk_by_days) == (Channel.TEAM_TALK, -10, -3)
    assert "onerror" not in asset.body and "javascript:" not in asset.body and "Tre saker" in asset.body
    page = client.get(asset.get_absolute_url()).content.decode()
    assert 'id="talks"' in page and "No manager has been briefed yet" in page


def test_the_due_date_moves_with_go_live(project, owner):
    project.refresh_from_db()
    asset = make_team_talk(project, owner)

    assert asset.talk_due_on() == project.go_live - datetime.timedelta(days=3)
    assert asset.talk_due_on(datetime.date(2027, 6, 1)) == datetime.date(2027, 5, 29)


@pytest.mark.parametrize(
    "fields, field",
    [({"talk_by_days": ""}, "talk_by_days"), ({"talk_by_days": "-20"}, "talk_by_days"), ({"subject": ""}, "subject")],
)
def test_a_team_talk_needs_a_due_date_after_the_briefings_and_a_subject(client, project, editor, fields, field):
    client.force_login(editor)

    response = client.post(create_url(project), data(**fields))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Asset.objects.exists()


def test_viewers_cannot_add_one_and_outsiders_see_nothing(client, project, viewer, outsider, owner):
    asset = make_team_talk(project, owner)
    client.force_login(viewer)
    assert client.post(create_url(project), data()).status_code in (403, 404)
    assert Asset.objects.count() == 1
    client.force_login(outsider)
    assert client.get(asset.get_absolute_url()).status_code == 404
