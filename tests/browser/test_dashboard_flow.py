"""A change manager reads the demo's dashboard, sees where the workshop floor is stuck, and puts the
recommended next step into the plan with one click."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from campaigns.models import Asset

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_shows_the_barrier_and_one_click_plans_the_next_step(
    page, live_server, data_migrations, log_in, assert_accessible, screenshot
):
    call_command("seed_demo", "--employees", "120", stdout=io.StringIO())
    log_in("demo", "launchpad-demo")

    page.goto(f"{live_server.url}/projects/atlas/dashboard/")
    expect(page.get_by_role("heading", name="Reach and readiness")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Figures as of \d\d:\d\d"))).to_be_visible()
    floor = page.locator(".dash-heatmap tbody tr", has_text="Drift och lager i Västerås")
    expect(floor.locator(".heat-barrier")).to_contain_text("barrier")
    expect(page.locator(".dash-barriers")).to_contain_text("Drift och lager i Västerås is held back at Knowledge")
    expect(page.locator(".dash-chart")).to_be_visible()
    assert_accessible()
    screenshot("dashboard")

    before = Asset.objects.filter(project__slug="atlas").count()
    floor.get_by_role("button", name=re.compile("Add a how-to handout or film to the plan")).click()

    page.wait_for_url(re.compile(r"/projects/atlas/assets/\d+/$"))
    expect(page.locator(".alert-success")).to_contain_text("is in the plan as a draft")
    asset = Asset.objects.filter(project__slug="atlas").latest("pk")
    assert Asset.objects.filter(project__slug="atlas").count() == before + 1
    assert (asset.channel, asset.stage, asset.status) == ("handout", "knowledge", "draft")
    assert [a.name for a in asset.audiences.all()] == ["Drift och lager i Västerås"]
    assert_accessible()

    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/projects/atlas/dashboard/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
