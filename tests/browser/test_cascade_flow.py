"""The manager cascade as a new user tries it: a directory with managers, a team talk in the plan with its
English version, the briefings sent (each manager's in their language), one opened by a manager on a phone and
confirmed, and the dashboard moving. axe on each page."""

import datetime
import re

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from audiences.imports.tests.import_files import excel_cp1252, person
from audiences.models import Audience, Employee
from campaigns.delivery import services as delivery
from campaigns.models import Question, TeamTalk
from campaigns.projects import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
# Two managers; Göran's team of three names him by employee ID, Eva's team of two by email.
STAFF = [
    person("NE1", "Göran", "Ström", department="Drift", site="Västerås"),
    person("NE2", "Åsa", "Öberg", department="Drift", site="Västerås", manager="NE1"),
    person("NE3", "Björn", "Sjöberg", department="Drift", site="Västerås", manager="NE1"),
    person("NE4", "Renée", "Åström", department="Drift", site="Västerås", manager="NE1"),
    person("NE5", "Eva", "Berg", department="Kundservice", site="Örebro", manager="NE1", language="en"),
    person("NE6", "Per", "Holm", department="Kundservice", site="Örebro", manager="ne5@norrstrom.se"),
    person("NE7", "Lisa", "Lund", department="Kundservice", site="Örebro", manager="ne5@norrstrom.se"),
    person("NE8", "Olof", "Nyman", manager="NE8"),  # names himself: rejected with the reason
]


@pytest.fixture
def sara(make_user):
    user = make_user("sara", first_name="Sara", last_name="Lindqvist")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_directoryimport", "view_directoryimport", "view_employee"])
    )
    return user


def test_a_change_manager_runs_a_manager_cascade(
    page, live_server, sara, log_in, assert_accessible, smtp_inbox, settings, tmp_path, monkeypatch, screenshot
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr("lib.tasks.task_queue", lambda *args: None)  # the test plays the worker's part below
    url = live_server.url
    project = services.project_create(
        by=sara,
        name="Atlas",
        lede="Den 7 januari byter vi till Atlas.",
        go_live=datetime.date.today() + datetime.timedelta(days=30),
        tracking_mode="individual",
    )
    project.other_languages = ["en"]  # written in Swedish and English; Eva reads English
    project.save(update_fields=["other_languages"])
    Audience.objects.create(project=project, name="Alla medarbetare", kind=Audience.Kind.RULES, rules={"rules": []})
    log_in("sara")

    # 1. The directory, with managers
    export = tmp_path / "Personal.csv"
    export.write_bytes(excel_cp1252(STAFF))
    page.goto(f"{url}/directory/import/new/")
    page.locator("input[type=file]").set_input_files(str(export))
    page.get_by_role("button", name="Upload and continue").click()
    expect(page.get_by_label("Chef")).to_have_value("manager")
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_text("A person cannot be their own manager.")).to_be_visible()
    assert_accessible()
    page.get_by_role("button", name="Apply the import").click()
    expect(page.get_by_role("link", name="Download as CSV")).to_be_visible()
    goran = Employee.objects.get(employee_number="NE1")
    assert goran.direct_reports.count() == 4 and Employee.objects.get(employee_number="NE6").manager == "Eva Berg"

    # 2. A team talk in the plan
    page.goto(f"{url}/projects/{project.slug}/assets/new/")
    page.get_by_role("link", name="Team talk (manager briefing)").click()
    page.get_by_label("Title").fill("Chefernas teamsamtal")
    page.get_by_label("ADKAR stage").select_option("desire")
    page.get_by_role("checkbox", name="Alla medarbetare").check()
    page.get_by_label("Briefings go out (days from go-live)").fill("-20")
    page.get_by_label("Talks held by (days from go-live)").fill("-10")
    page.get_by_label("Subject").fill("Ditt teamsamtal om Atlas")
    page.locator("[contenteditable=true]").first.fill("Berätta vad Atlas betyder för just vårt team.")
    assert_accessible()
    page.get_by_role("button", name="Add to the plan").click()
    expect(page.locator("#talks")).to_contain_text("No manager has been briefed yet")
    page.get_by_role("link", name="Write English").click()
    expect(page.get_by_text("Talking points").first).to_be_visible()
    page.locator("input[name=subject]").fill("Your team talk about Atlas")
    page.locator("[contenteditable=true]").first.fill("Tell your team what Atlas means for us.")
    assert_accessible()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    page.get_by_role("button", name="Ready for approval").click()
    page.get_by_role("button", name="Approve").click()

    # 3. Send the briefings: one per manager (Göran and Eva), through the normal pipeline
    page.get_by_role("button", name="Send now").click()
    batches: list[list[int]] = []
    monkeypatch.setattr(delivery, "_publish", lambda ids: batches.append(list(ids)))
    delivery.dispatch_due(now=datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=1))
    for ids in batches:
        delivery.send_batch(delivery_ids=ids)
    messages = {m["To"]: m for m in smtp_inbox.messages()}
    assert set(messages) == {"ne1@norrstrom.se", "ne5@norrstrom.se"}
    text = messages["ne5@norrstrom.se"].get_body(preferencelist=("plain",)).get_content()
    assert "Per Holm" in text and "Lisa Lund" in text and "Åsa" not in text
    # Eva reads English: her briefing is English from top to bottom; Göran's is Swedish.
    assert messages["ne5@norrstrom.se"]["Subject"] == "Your team talk about Atlas"
    assert "Tell your team what Atlas means for us." in text and "Your team: 2 people" in text
    assert "Berätta" not in text and "Ditt team" not in text
    swedish = messages["ne1@norrstrom.se"].get_body(preferencelist=("plain",)).get_content()
    assert "Berätta vad Atlas betyder för just vårt team." in swedish and "Ditt team: 4 personer" in swedish
    assert "Your team" not in swedish
    link = re.search(r"https?://\S+/tt/[A-Za-z0-9_-]+/", text).group(0)

    # 4. Eva opens her link on a phone and confirms the talk
    page.set_viewport_size(PHONE)
    page.goto(link.replace(settings.SITE_URL, url))
    expect(page.get_by_role("heading", name="We have had our team talk")).to_be_visible()
    expect(page.get_by_label("When did you hold it?")).to_have_value(datetime.date.today().isoformat())
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible()
    screenshot("team-talk-held")
    page.get_by_label("How many took part?").fill("2")
    page.get_by_label("Questions your team raised (one per line)").fill("Får vi en superanvändare?")
    page.get_by_role("button", name="Confirm the team talk").click()
    expect(page.get_by_role("status").first).to_contain_text("Thank you! Your team talk is recorded.")
    assert_accessible()
    talk = TeamTalk.objects.get(manager__employee_number="NE5")
    assert (talk.attendees, talk.held_on) == (2, datetime.date.today())
    # named for the project team, in the project's language
    assert Question.objects.get().name == "Ett teamsamtal (Kundservice, Örebro)"

    # 5. The dashboard moves
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{url}/projects/{project.slug}/dashboard/")
    page.get_by_role("button", name="Refresh now").click()
    cascade = page.locator("#cascade")
    expect(cascade).to_contain_text("1 of 2 briefed managers have held their team talk; 0 are late.")
    expect(cascade.get_by_role("row", name=re.compile("Kundservice"))).to_contain_text("100 % held")
    assert_accessible()
