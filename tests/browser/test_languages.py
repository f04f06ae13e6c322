"""A project in Swedish and English, tried as a new change manager would: the team adds English,
writes the English story and email beside the Swedish, and the English colleague's email, landing
page, booking confirmation and calendar invite are in English from top to bottom, the Swedish
colleague's in Swedish. axe-core on both pages and on the translation page."""

import datetime

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from audiences.models import Audience
from campaigns.delivery import services as delivery
from campaigns.landing import services as landing
from campaigns.models import Asset, LandingToken
from campaigns.plan import services as plan
from campaigns.projects import services
from campaigns.tests.asset_helpers import make_email
from campaigns.tests.landing_helpers import make_employee, make_meeting

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


@pytest.fixture
def launch(make_user, settings):
    from django.core.cache import cache

    cache.clear()
    landing.local_cache.clear()
    settings.LANDING_RATE_LIMIT = (1000, 600)
    manager = make_user("sara", first_name="Sara", last_name="Lindqvist")
    project = services.project_create(
        by=manager,
        name="Atlas",
        lede="Den 7 januari byter vi till Atlas. Här får du veta hur.",
        why="<p>Våra system är femton år gamla.</p>",
        go_live="2027-01-07",
        sponsor_name="Karin Åström",
        sponsor_title="Ekonomichef",
    )
    project.refresh_from_db()
    john = make_employee("john@example.se", first_name="John", last_name="Smith", language="en")
    anna = make_employee("anna@example.se", first_name="Anna", last_name="Berg", language="sv")
    everyone = Audience.objects.create(project=project, name="Alla", kind=Audience.Kind.LIST)
    everyone.members.add(john, anna)
    meeting, (session,) = make_meeting(project, title="Informationsträff")
    email = make_email(project, manager, title="Teaser", subject="Något nytt kommer den {{ go_live }}")
    email.audiences.set([everyone])
    yield project, manager, email, meeting, session, john, anna
    landing.landing_counters_flush()


def test_the_english_colleague_gets_everything_in_english_and_the_swedish_one_in_swedish(
    page, live_server, launch, log_in, assert_accessible, smtp_inbox, django_capture_on_commit_callbacks, monkeypatch
):
    project, manager, email, meeting, session, john, anna = launch
    url = live_server.url

    # 1. The team adds English and writes the English story beside the Swedish one.
    log_in("sara")
    page.goto(f"{url}/projects/{project.slug}/edit/")
    page.get_by_label("English").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Languages")).to_be_visible()
    page.get_by_role("link", name="Write English").click()
    expect(page.get_by_text("Våra system är femton år gamla.")).to_be_visible()  # the Swedish beside it
    assert_accessible()
    page.locator("textarea[name=lede]").fill("On 7 January we move to Atlas. Here is how.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()

    # 2. The email's English version, on its own page; the meeting's English title.
    page.goto(f"{url}/projects/{project.slug}/assets/{email.pk}/")
    page.get_by_role("link", name="Write English").click()
    page.locator("input[name=subject]").fill("Something new is coming on {{ go_live }}")
    page.locator("[contenteditable=true]").first.fill("Hi {{ first_name }}! On {{ go_live }} we start Atlas.")
    page.locator("input[name=button_label]").fill("Read more")
    assert_accessible()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    meeting.refresh_from_db()
    meeting.set_translation("en", {"title": "Information meeting"})
    meeting.save()

    # 3. The email goes out: each colleague's copy in one language, body and all around it.
    email.refresh_from_db()
    plan.asset_set_status(asset=email, status=Asset.Status.READY, by=manager)
    plan.asset_set_status(asset=email, status=Asset.Status.APPROVED, by=manager)
    send = delivery.email_schedule(asset=email, by=manager)
    batches = []
    monkeypatch.setattr(delivery, "_publish", batches.append)  # the batches run here, not in a worker
    with django_capture_on_commit_callbacks(execute=True):
        delivery.dispatch_due(now=send.due_at + datetime.timedelta(minutes=1))
    for ids in batches:
        delivery.send_batch(delivery_ids=ids)
    copies = {m["To"]: m for m in smtp_inbox.messages()}
    english_mail = copies["john@example.se"].get_body(("html",)).get_content()
    swedish_mail = copies["anna@example.se"].get_body(("html",)).get_content()
    assert copies["john@example.se"]["Subject"] == "Something new is coming on 7 January 2027"
    assert copies["anna@example.se"]["Subject"] == "Något nytt kommer den 7 januari 2027"
    assert 'lang="en"' in english_mail and "Hi John! On 7 January 2027 we start Atlas." in english_mail
    assert "januari" not in english_mail and "Läs mer" not in english_mail
    assert 'lang="sv"' in swedish_mail and "Hej Anna!" in swedish_mail and "January" not in swedish_mail

    # 4. John's landing page, on a phone: English from top to bottom; he books a seat.
    smtp_inbox.envelopes.clear()
    john_link = LandingToken.objects.get(project=project, employee=john)
    page.set_viewport_size(PHONE)
    page.goto(f"{url}/p/{john_link.token}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("On 7 January we move to Atlas. Here is how.")
    expect(page.get_by_text("Hello John!")).to_be_visible()
    expect(page.get_by_text("Information meeting").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible()
    page.get_by_role("button", name="Book a seat").first.click()
    expect(page.get_by_text("Your seat is booked.")).to_be_visible()
    (invite,) = smtp_inbox.messages()
    assert invite["Subject"] == "Your seat is booked: Information meeting"
    text = invite.get_body(("plain",)).get_content()
    for swedish in ("Avboka", "Din plats", "januari"):
        assert swedish not in text
    ics = next(p for p in invite.walk() if p.get_filename() == "invite.ics").get_content()
    (event,) = Calendar.from_ical(ics).walk("VEVENT")
    assert str(event["SUMMARY"]).startswith("Information meeting")
    assert str(event["DESCRIPTION"]) == "On 7 January we move to Atlas. Here is how."

    # 5. Anna's page: Swedish from top to bottom, with a switch to English.
    anna_link = LandingToken.objects.get(project=project, employee=anna)
    page.goto(f"{url}/p/{anna_link.token}/")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.locator("h1")).to_have_text(project.lede)
    expect(page.get_by_text("Hej Anna!")).to_be_visible()
    expect(page.get_by_role("button", name="English")).to_be_visible()
    assert_accessible()
