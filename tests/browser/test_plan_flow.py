"""A change manager plans the launch: a template, the coverage warnings, moving go-live, the one-page PDF."""

import datetime
import importlib
import re

import pytest
from playwright.sync_api import expect

from audiences.models import Audience
from campaigns.models import Membership
from campaigns.plan import services as plan
from campaigns.projects import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _plan_templates() -> None:
    """The data migration's templates, back if another live-server test's flush took them."""
    from django.apps import apps

    migration = importlib.import_module("campaigns.migrations.0003_standard_plan_templates")
    migration.create(apps, None)


@pytest.fixture
def launch(make_user):
    _plan_templates()
    sara = make_user("sara", first_name="Sara", last_name="Lindqvist")
    viewer = make_user("karin")
    project = services.project_create(
        by=sara,
        name="Nytt intranät",
        lede="Den 1 mars byter vi intranät. Här är vad det betyder för dig.",
        go_live=datetime.date(2027, 3, 1),
        sponsor_name="Karin Lind",
    )
    Membership.objects.create(project=project, user=viewer, role=Membership.Role.VIEWER)
    Audience.objects.create(project=project, name="Alla medarbetare", kind=Audience.Kind.RULES, rules={"rules": []})
    Audience.objects.create(
        project=project,
        name="Verkstaden",
        kind=Audience.Kind.RULES,
        rules={"combine": "and", "rules": [{"field": "site", "op": "in", "values": ["Västerås"]}]},
    )
    return project


def test_a_change_manager_plans_the_launch_from_a_template(
    page, live_server, launch, log_in, assert_accessible, screenshot
):
    log_in("sara")
    page.goto(f"{live_server.url}/projects/{launch.slug}/plan/")
    expect(page.get_by_role("heading", name="Plan the launch backwards from go-live")).to_be_visible()
    assert_accessible()

    page.get_by_role("link", name="Start from a template").first.click()
    page.get_by_role("link", name=re.compile("Standard internal launch")).click()
    expect(page.get_by_role("checkbox", name="Film: see it work")).to_be_checked()
    page.get_by_role("checkbox", name="Film: see it work").uncheck()
    page.get_by_role("checkbox", name="Alla medarbetare").check()
    assert_accessible()
    page.get_by_role("button", name="Add to the plan").click()

    page.wait_for_url(re.compile(r"/plan/$"))
    expect(page.locator(".alert-success")).to_contain_text("in the plan as drafts")
    expect(page.locator(".plan-card")).to_have_count(10)
    expect(page.locator(".plan-card", has_text="Film: see it work")).to_have_count(0)
    expect(page.locator(".plan-go-live-flag")).to_contain_text("1 March")
    expect(page.locator(".plan-all-good")).to_be_visible()
    assert_accessible()
    screenshot("plan")

    # A poster nobody gets is a gap the plan points out
    plan.asset_create(
        project=launch,
        by=launch.created_by,
        channel="poster",
        stage="awareness",
        title="Affisch i verkstaden",
        offset_days=-30,
    )
    page.reload()
    expect(page.locator(".plan-warning")).to_contain_text("Affisch i verkstaden")

    # Filters narrow the timeline
    page.get_by_label("ADKAR stage", exact=True).select_option("reinforcement")
    page.wait_for_url(re.compile(r"stage=reinforcement"))
    expect(page.locator(".plan-card")).to_have_count(2)
    page.get_by_role("link", name="Show everything").click()

    # Moving go-live one week moves the whole plan
    teaser = page.locator(".plan-card", has_text="Teaser: something is coming")
    expect(teaser).to_contain_text("Mon 25 Jan")
    page.get_by_label("New go-live date").fill("2027-03-08")
    page.get_by_role("button", name="Move the plan").click()
    expect(page.locator(".alert-success")).to_contain_text("8 March 2027")
    expect(page.locator(".plan-card", has_text="Teaser: something is coming")).to_contain_text("Mon 1 Feb")
    expect(page.locator(".plan-go-live-flag")).to_contain_text("8 March")

    # The one-page PDF
    with page.expect_download() as download:
        page.get_by_role("button", name="Export").click()
        page.get_by_role("link", name="One-page plan (PDF)").click()
    path = download.value.path()
    with open(path, "rb") as pdf:
        assert pdf.read(4) == b"%PDF"


def test_a_viewer_sees_the_plan_without_change_buttons(page, live_server, launch, log_in, assert_accessible):
    plan.asset_create(
        project=launch,
        by=launch.created_by,
        channel="email",
        stage="awareness",
        title="Sponsorns varför",
        offset_days=-28,
        sender_kind="sponsor",
    )
    log_in("karin")
    page.goto(f"{live_server.url}/projects/{launch.slug}/plan/")
    expect(page.locator(".plan-card")).to_have_count(1)
    expect(page.get_by_role("button", name="Move the plan")).to_have_count(0)
    expect(page.get_by_role("link", name="Start from a template")).to_have_count(0)
    expect(page.locator("#coverage")).to_contain_text("Verkstaden")
    assert_accessible()
