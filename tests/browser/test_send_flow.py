"""A change manager watches an email go out: the send panel's progress bar fills as the batches land."""

import datetime

import pytest
from playwright.sync_api import expect

from campaigns.delivery import services as delivery
from campaigns.projects import services
from campaigns.tests.delivery_helpers import after_due, employees, make_audience, scheduled_email

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PEOPLE = 30


@pytest.fixture
def send(make_user):
    sara = make_user("sara", first_name="Sara", last_name="Lindqvist")
    project = services.project_create(
        by=sara,
        name="Atlas",
        lede="Den 7 januari byter vi till Atlas.",
        go_live=datetime.date(2027, 1, 7),
        tracking_mode="individual",
    )
    audience = make_audience(project, *employees(PEOPLE), name="Ekonomi")
    asset, email_send = scheduled_email(project, sara, audience)
    return project, asset, email_send


def _send_batches(email_send, size: int) -> list[list[int]]:
    """Start the send as the beat would, and return its deliveries in the batches a worker would take."""
    delivery.email_start(send=email_send, now=after_due(email_send))
    ids = list(email_send.asset.deliveries.order_by("pk").values_list("pk", flat=True))
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def test_the_progress_bar_fills_as_the_email_goes_out(
    page, live_server, send, smtp_inbox, log_in, assert_accessible, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    project, asset, email_send = send
    log_in("sara")
    page.goto(f"{live_server.url}/projects/{project.slug}/assets/{asset.pk}/send/")
    panel = page.locator("[data-send-status-url]")
    expect(panel).to_have_attribute("data-send-state", "scheduled")
    assert_accessible()

    first, *rest = _send_batches(email_send, size=10)
    delivery.send_batch(delivery_ids=first)
    expect(panel.locator("[data-send-field=sent]")).to_have_text("10", timeout=10_000)
    expect(panel.locator("[data-send-field=remaining]")).to_have_text(str(PEOPLE - 10))
    bar = panel.locator("[data-send-bar=sent]").locator("..")
    width = bar.evaluate("el => el.style.width")
    assert float(width.rstrip("%")) == pytest.approx(100 * 10 / PEOPLE, abs=0.1)

    for batch in rest:
        delivery.send_batch(delivery_ids=batch)
    expect(panel.locator("[data-send-field=sent]")).to_have_text(str(PEOPLE), timeout=10_000)
    expect(panel.locator("[data-send-field=remaining]")).to_have_text("0")
    expect(panel).to_have_attribute("data-send-state", "done", timeout=10_000)
    assert bar.evaluate("el => el.style.width") == "100%"
    assert len(smtp_inbox.envelopes) == PEOPLE
    assert_accessible()
