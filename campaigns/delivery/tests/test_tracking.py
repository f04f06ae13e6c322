"""Open pixel and click redirect: each tracking mode stores what it promises and nothing more."""

import re

import pytest
from django.core import mail

from campaigns.delivery import services as delivery
from campaigns.models import Delivery, EngagementCounter, TrackedLink
from campaigns.tests.delivery_helpers import after_due, employees, make_audience, scheduled_email

pytestmark = pytest.mark.django_db

LINK = "https://intranet.example.se/nytt-system"


@pytest.fixture
def sent(project, owner, monkeypatch, django_capture_on_commit_callbacks):
    """Make a project with two audiences, send it an email in a given mode, return what each person got."""
    project.refresh_from_db()

    def send(mode: str):
        project.tracking_mode = mode
        project.save()
        a = make_audience(project, *employees(2, "a"), name="Ekonomi")
        b = make_audience(project, *employees(1, "b"), name="Lager")
        batches = []
        monkeypatch.setattr(delivery, "_publish", lambda ids: batches.append(ids))
        asset, email_send = scheduled_email(project, owner, a, b, body=f'<p><a href="{LINK}">Läs mer</a></p>')
        with django_capture_on_commit_callbacks(execute=True):
            delivery.dispatch_due(now=after_due(email_send))
        for ids in batches:
            delivery.send_batch(delivery_ids=ids)
        got = {}
        for message in mail.outbox:
            html = message.alternatives[0].content
            [pixel] = re.findall(r"/t/o/([\w-]+)\.gif", html)
            link_id = TrackedLink.objects.get(asset=asset, url=LINK).pk
            assert f"/t/c/{pixel}/{link_id}/" in html
            got[message.to[0]] = {"pixel": f"/t/o/{pixel}.gif", "click": f"/t/c/{pixel}/{link_id}/"}
        return asset, a, b, got

    return send


def _counters(asset):
    return {
        (c.audience.name if c.audience else None): (c.opens, c.clicks)
        for c in EngagementCounter.objects.filter(asset=asset).select_related("audience")
    }


def _engagement_columns():
    return list(Delivery.objects.order_by("pk").values_list("opened_at", "clicked_at"))


def test_individual_mode_records_the_person_and_the_audience(client, sent):
    asset, a, b, got = sent("individual")
    response = client.get(got["a0@example.se"]["pixel"])
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    response = client.get(got["b0@example.se"]["click"])
    assert response.status_code == 302 and response["Location"] == LINK

    rows = {d.employee.email: d for d in Delivery.objects.select_related("employee")}
    assert rows["a0@example.se"].opened_at and rows["a0@example.se"].clicked_at is None
    assert rows["b0@example.se"].opened_at and rows["b0@example.se"].clicked_at  # a click implies an open
    assert rows["a1@example.se"].opened_at is None
    assert _counters(asset) == {None: (0, 0), "Ekonomi": (1, 0), "Lager": (0, 1)}


def test_anonymous_mode_counts_per_audience_and_stores_nothing_personal(client, sent):
    asset, a, b, got = sent("anonymous")
    # Two people in the same audience got the very same tracking URLs.
    assert got["a0@example.se"] == got["a1@example.se"] != got["b0@example.se"]
    before = _engagement_columns()

    client.get(got["a0@example.se"]["pixel"])
    client.get(got["a1@example.se"]["pixel"])
    response = client.get(got["b0@example.se"]["click"])

    assert response.status_code == 302 and response["Location"] == LINK
    assert _counters(asset) == {None: (0, 0), "Ekonomi": (2, 0), "Lager": (0, 1)}
    assert _engagement_columns() == before == [(None, None)] * 3
    tokens = set(Delivery.objects.values_list("token", flat=True))
    assert not any(
        url.split("/")[3].removesuffix(".gif") in tokens for person in got.values() for url in person.values()
    )


def test_aggregate_mode_counts_totals_only(client, sent):
    asset, a, b, got = sent("aggregate")
    assert got["a0@example.se"] == got["b0@example.se"]
    client.get(got["a0@example.se"]["pixel"])
    client.get(got["b0@example.se"]["click"])
    assert _counters(asset) == {None: (1, 1), "Ekonomi": (0, 0), "Lager": (0, 0)}
    assert _engagement_columns() == [(None, None)] * 3


def test_a_project_that_became_less_personal_stores_less_from_then_on(client, sent):
    asset, a, b, got = sent("individual")
    asset.project.tracking_mode = "aggregate"
    asset.project.save()
    client.get(got["a0@example.se"]["pixel"])
    assert _engagement_columns() == [(None, None)] * 3
    assert _counters(asset)[None] == (1, 0)


@pytest.mark.parametrize(
    "url",
    [
        "/t/o/{unknown}.gif",
        "/t/o/short.gif",
        "/t/o/{token}%00.gif",
        "/t/c/{unknown}/{link}/",
        "/t/c/{token}/999999/",
        "/t/c/{token}/{other_link}/",
        "/t/c/not%20a%20token!/{link}/",
    ],
)
def test_unknown_malformed_or_foreign_links_get_a_plain_404(client, sent, project, owner, url):
    asset, a, b, got = sent("individual")
    token = Delivery.objects.first().token
    other = scheduled_email(project, owner, a, title="Annat mejl")[0]
    other_link = TrackedLink.objects.create(asset=other, url="https://evil.example/")
    link = TrackedLink.objects.get(asset=asset, url=LINK).pk
    response = client.get(url.format(unknown="A" * 32, token=token, link=link, other_link=other_link.pk))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/plain")
    assert "Location" not in response
    assert _engagement_columns() == [(None, None)] * 3
    assert all(v == (0, 0) for v in _counters(asset).values())


def test_tracking_needs_no_login_and_refuses_post(client, sent):
    asset, a, b, got = sent("individual")
    assert client.post(got["a0@example.se"]["pixel"]).status_code == 405
    assert client.head(got["a0@example.se"]["pixel"]).status_code == 200


def test_tokens_are_long_and_random(sent):
    sent("individual")
    tokens = list(Delivery.objects.values_list("token", flat=True)) + list(
        EngagementCounter.objects.values_list("token", flat=True)
    )
    assert len(set(tokens)) == len(tokens)
    assert all(len(t) >= 32 for t in tokens)  # 24 random bytes, base64: 192 bits
