"""The organisation's change load and the local outbox, clicked in Chromium and checked with axe-core."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from playwright.sync_api import expect

from audiences.models import Audience, Employee
from campaigns.analytics import load
from campaigns.models import Asset
from campaigns.projects import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def change_manager(make_user):
    sara = make_user("sara", first_name="Sara", last_name="Lindqvist", is_staff=True)
    sara.groups.add(Group.objects.get_or_create(name=load.CHANGE_MANAGERS_GROUP)[0])
    this_week = load.week_start(timezone.localdate())
    project = services.project_create(
        by=sara, name="Flex", lede="Ny tidrapportering.", go_live=this_week + datetime.timedelta(days=1)
    )
    Employee.objects.bulk_create(
        Employee(email=f"drift{i}@example.se", department="Drift och underhåll") for i in range(12)
    )
    Employee.objects.bulk_create(Employee(email=f"it{i}@example.se", department="IT") for i in range(5))
    drift = Audience.objects.create(
        project=project,
        name="Drift",
        rules={"rules": [{"field": "department", "op": "in", "values": ["Drift och underhåll"]}]},
    )
    for offset, channel in enumerate(["email", "meeting", "news", "film"]):
        asset = Asset.objects.create(
            project=project, title=f"Flex {channel}", channel=channel, stage="ability", offset_days=offset
        )
        asset.audiences.set([drift])
    return sara


def test_a_change_manager_finds_the_overloaded_week(page, live_server, change_manager, log_in, assert_accessible):
    log_in("sara")
    page.get_by_role("link", name="Change load across projects").click()
    expect(page.get_by_role("heading", name="Change load across projects")).to_be_visible()
    assert_accessible()
    page.locator("td.load-3 a").first.click()
    expect(page.locator("#detail")).to_contain_text("Flex email")
    expect(page.locator("#detail")).to_contain_text("12 people reached, 12 of them by more than 3 assets.")
    assert_accessible()


def test_staff_read_an_email_in_the_outbox(page, live_server, change_manager, log_in, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    message = EmailMultiAlternatives("Välkommen till Flex", "Hej!", "a@example.se", ["b@example.se"])
    message.attach_alternative(
        '<p id="hello">Hej!</p><script>document.getElementById("hello").textContent = "ran"</script>', "text/html"
    )
    mail.get_connection().send_messages([message])
    log_in("sara")
    page.goto(f"{live_server.url}/projects/outbox/")
    page.get_by_role("link", name="Välkommen till Flex").click()
    frame = page.frame_locator("iframe.email-frame-desktop")
    expect(frame.locator("#hello")).to_have_text("Hej!")  # the script did not run
