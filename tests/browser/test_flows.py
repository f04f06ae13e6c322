"""A change manager's first minutes, clicked through in Chromium, with axe-core on every screen."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from campaigns.models import ChangeProject, Membership
from lib.colors import WCAG_AA_NORMAL_TEXT, contrast_ratio

from .conftest import png

pytestmark = pytest.mark.browser


def test_the_login_page_is_accessible(page, live_server, assert_accessible, screenshot):
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("h1")).to_be_visible()
    assert_accessible()
    screenshot("login")


def test_a_change_manager_creates_a_project_and_invites_a_teammate(
    page, live_server, make_user, log_in, assert_accessible, screenshot
):
    manager = make_user("sara", first_name="Sara", last_name="Lindqvist")
    teammate = make_user("anna", first_name="Anna", last_name="Berg")
    log_in("sara")
    assert_accessible()  # the empty project list

    page.get_by_role("link", name="New change project").first.click()
    page.get_by_label("Name").fill("Nytt intranät")
    page.get_by_label("Lede").fill("Den 1 maj byter vi intranät. Här är vad det betyder för dig.")
    page.get_by_label("Go-live date").fill("2027-05-01")
    page.locator("input[name=hero_upload]").set_input_files(
        {"name": "hero.png", "mimeType": "image/png", "buffer": png()}
    )
    page.get_by_label("Hero image description (alt text)").fill("Ett ljust kontor med skärmar")
    page.get_by_role("button", name="Create project").click()

    page.wait_for_url(re.compile(r"/projects/nytt-intranat/$"))
    hero = page.get_by_alt_text("Ett ljust kontor med skärmar")
    expect(hero).to_be_visible()
    assert page.evaluate("img => img.naturalWidth", hero.element_handle()) == 1600  # the served web variant
    assert_accessible()

    page.get_by_role("link", name="Projects", exact=True).click()
    card = page.locator("article", has_text="Nytt intranät")
    expect(card).to_be_visible()
    expect(card).to_contain_text("Planning")
    assert_accessible()
    screenshot("projects")

    page.goto(f"{live_server.url}/projects/nytt-intranat/team/")
    page.locator("#id_email").fill("anna@example.se")
    page.locator("#id_role").select_option("viewer")
    page.get_by_role("button", name="Invite").click()
    expect(page.locator("table")).to_contain_text("anna@example.se")
    assert_accessible()

    project = ChangeProject.objects.get(slug="nytt-intranat")
    assert project.hero_image.alt_text == "Ett ljust kontor med skärmar"
    assert project.memberships.get(user=manager).role == Membership.Role.OWNER
    assert project.memberships.get(user=teammate).role == Membership.Role.VIEWER


def test_a_bad_hero_is_refused_in_the_form(page, live_server, make_user, log_in, assert_accessible):
    make_user("sara")
    log_in("sara")
    page.goto(f"{live_server.url}/projects/new/")
    page.get_by_label("Name").fill("Nytt intranät")
    page.get_by_label("Lede").fill("Kort.")
    page.get_by_label("Go-live date").fill("2027-05-01")
    page.locator("input[name=hero_upload]").set_input_files(
        {"name": "hero.png", "mimeType": "image/png", "buffer": b"<html><script>alert(1)</script></html>"}
    )
    page.get_by_label("Hero image description (alt text)").fill("Något")
    page.get_by_role("button", name="Create project").click()
    expect(page.locator(".invalid-feedback, .errorlist").first).to_contain_text("JPEG, PNG or WebP")
    assert_accessible()
    assert not ChangeProject.objects.exists()


TEXT_COLOURS = """
els => els.map(el => {
  const [r, g, b] = getComputedStyle(el).color.match(/\\d+/g).map(Number);
  return "#" + [r, g, b].map(c => c.toString(16).padStart(2, "0")).join("");
})
"""


def test_the_demo_project_page(page, live_server, data_migrations, log_in, assert_accessible, screenshot):
    call_command("seed_demo", "--employees", "340", stdout=io.StringIO())
    project = ChangeProject.objects.get(slug="atlas")
    log_in("demo", "launchpad-demo")
    page.goto(f"{live_server.url}/projects/atlas/")
    expect(page.get_by_alt_text("Abstrakt bild av stapeldiagram under en gul sol")).to_be_visible()
    assert_accessible()
    # axe cannot judge text over the hero picture; the text must stand on the brand colour by itself.
    colours = page.locator(".hero-panel .lede, .hero-panel .days-left").evaluate_all(TEXT_COLOURS)
    assert len(colours) == 2
    for colour in colours:
        assert contrast_ratio(colour, project.primary_color) >= WCAG_AA_NORMAL_TEXT, colour
    screenshot("project")
