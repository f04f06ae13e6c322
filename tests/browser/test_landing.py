"""An employee's landing page in Chromium, at phone and desktop size, with axe-core on every public page."""

import io

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from campaigns.landing import services as landing
from campaigns.models import Asset, Booking, Channel, LandingToken, PulseResponse, Question, Stage
from campaigns.projects import services
from campaigns.tests.landing_helpers import make_employee, make_meeting
from lib.images import process_image

from .conftest import png

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture
def launch(make_user, settings):
    """A project in its launch: brand, hero, film, two meeting sessions, one answered question, an employee's link."""
    from django.core.cache import cache

    cache.clear()
    landing.local_cache.clear()
    settings.LANDING_RATE_LIMIT = (1000, 600)
    sara = make_user("sara", first_name="Sara", last_name="Lindqvist")
    project = services.project_create(
        by=sara,
        name="Atlas",
        lede="Den 7 januari byter vi till Atlas. Det gör din vardag enklare – och här får du veta hur.",
        why="<p>Våra system är <strong>femton år</strong> gamla.</p>",
        what_changes="<ul><li>Fakturor attesteras i Atlas.</li></ul>",
        how_it_affects_me="<p>Du får en kort utbildning.</p>",
        go_live="2027-01-07",
        sponsor_name="Karin Åström",
        sponsor_title="Ekonomichef",
        primary_color="#13294b",
        accent_color="#b5451b",
        other_languages=["en"],
    )
    project.set_translation(
        "en",
        {
            "lede": "On 7 January we move to Atlas. It makes your everyday simpler – and here is how.",
            "why": "<p>Our systems are <strong>fifteen years</strong> old.</p>",
        },
    )
    project.save()
    services.project_set_image(
        project=project,
        slot="hero_image",
        processed=process_image(_upload()),
        by=sara,
        alt_text="Kollegor vid en skärm",
        name="hero.png",
    )
    film = Asset.objects.create(
        project=project,
        channel=Channel.FILM,
        stage=Stage.KNOWLEDGE,
        title="Atlas på två minuter",
        offset_days=-7,
        status=Asset.Status.SCHEDULED,
    )
    film.video.save("atlas.mp4", ContentFile(b"\x00" * 64), save=False)
    film.captions.save("atlas.vtt", ContentFile(b"WEBVTT\n\n00:00.000 --> 00:02.000\nHej!\n"), save=False)
    english = film.captions.storage.save("atlas-en.vtt", ContentFile(b"WEBVTT\n\n00:00.000 --> 00:02.000\nHi!\n"))
    film.set_translation("en", {"title": "Atlas in two minutes", "captions": english})
    film.save()
    make_meeting(project, sessions=2, capacity=20, title="Informationsträff")
    Question.objects.create(
        project=project,
        text="Måste jag gå en utbildning?",
        answer="<p>Ja, tjugo minuter på webben.</p>",
        is_published=True,
    )
    employee = make_employee("erik.holm@example.se", first_name="Erik", last_name="Holm", language="en")
    link = LandingToken.objects.create(project=project, employee=employee)
    yield project, link
    landing.landing_counters_flush()


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("hero.png", png((1600, 800), "#2f6690"), content_type="image/png")


@pytest.mark.parametrize("size", SIZES)
def test_an_employee_books_a_seat_asks_and_answers_the_pulse(page, live_server, launch, size, assert_accessible):
    project, link = launch
    page.set_viewport_size(SIZES[size])
    page.goto(f"{live_server.url}/p/{link.token}/")

    expect(page.locator("h1")).to_have_text(project.in_language("en").lede)  # Erik reads English
    expect(page.get_by_text("Hello Erik!")).to_be_visible()
    expect(page.get_by_alt_text("Kollegor vid en skärm")).to_be_visible()
    expect(page.locator("video track[kind=captions]")).to_have_count(2)  # Swedish and English captions
    expect(page.locator("video track[default]")).to_have_attribute("srclang", "en")
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]  # no sideways scrolling
    assert_accessible()

    # One click books a seat; the invite goes out.
    page.get_by_role("button", name="Book a seat").first.click()
    expect(page.get_by_text("Your seat is booked.")).to_be_visible()
    expect(page.get_by_text("You have a seat")).to_be_visible()
    expect(page.get_by_text("19 seats left")).to_be_visible()
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.CONFIRMED and booking.employee == link.employee
    assert any("text/calendar; method=REQUEST" in a[1] for m in mail.outbox for a in m.alternatives)
    assert_accessible()

    # A question, anonymously.
    page.get_by_label("Your question").fill("Kan jag attestera i mobilen?")
    page.get_by_role("button", name="Send the question").click()
    expect(page.get_by_text("Your question has reached the project team.")).to_be_visible()
    question = Question.objects.get(text="Kan jag attestera i mobilen?")
    assert question.employee is None and question.name == ""

    # The pulse: a reaction and the five statements.
    page.locator("label[for=reaction-partly]").click()
    for stage, score in (("awareness", 5), ("desire", 4), ("knowledge", 2), ("ability", 3), ("reinforcement", 3)):
        page.locator(f"label[for={stage}-{score}]").click()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Thank you for telling us.")).to_be_visible()
    answer = PulseResponse.objects.get()
    assert (answer.employee, answer.reaction, answer.awareness, answer.knowledge) == (link.employee, "partly", 5, 2)
    expect(page.get_by_role("button", name="Update my answers")).to_be_visible()
    assert_accessible()


def test_every_public_page_is_accessible_and_the_answer_reaches_the_faq(
    page, live_server, launch, log_in, assert_accessible
):
    project, link = launch
    sven = make_employee("sven@example.se", first_name="Sven", language="en")

    page.goto(f"{live_server.url}/l/{project.slug}/")
    expect(page.get_by_text("Måste jag gå en utbildning?")).to_be_visible()
    assert_accessible()

    # The general link: a work email, then the emailed link.
    page.locator("label[for^=session-]").first.click()
    page.get_by_label("Your work email").fill("sven@example.se")
    page.get_by_role("button", name="Send me the confirmation link").click()
    expect(page.get_by_text("Check your inbox")).to_be_visible()
    assert_accessible()
    booking = Booking.objects.get(employee=sven)
    assert booking.status == Booking.Status.PENDING

    page.goto(f"{live_server.url}/b/confirm/{booking.confirm_token}/")
    assert_accessible()
    page.get_by_role("button", name="Yes, book my seat").click()
    expect(page.get_by_role("heading", name="Your seat is booked")).to_be_visible()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED

    page.goto(f"{live_server.url}/b/cancel/{booking.cancel_token}/")
    assert_accessible()
    page.get_by_role("button", name="Yes, give back my seat").click()
    expect(page.get_by_role("heading", name="This seat is given back")).to_be_visible()
    assert_accessible()

    # Validation without JavaScript's help: the page says what is missing.
    page.goto(f"{live_server.url}/l/{project.slug}/")
    page.get_by_role("button", name="Send the question").click()
    expect(page.get_by_text("Write your question first.")).to_be_visible()
    assert_accessible()

    # The change manager answers a question from the page and publishes it.
    Question.objects.create(project=project, text="Får vi stöd på plats?")
    log_in("sara")
    page.goto(f"{live_server.url}/projects/{project.slug}/questions/")
    assert_accessible()
    card = page.locator("article", has_text="Får vi stöd på plats?")
    card.locator("[contenteditable=true]").fill("Ja, superanvändare finns på varje ort.")  # the rich-text editor
    card.get_by_label("Publish on the landing page's FAQ").check()
    card.get_by_role("button", name="Save the answer").click()
    expect(page.get_by_text("Answer saved and published on the landing page.")).to_be_visible()

    page.goto(f"{live_server.url}/p/{link.token}/")
    newest = page.locator("details.faq-item").first  # the newest answer, open
    expect(newest.locator("summary")).to_have_text("Får vi stöd på plats?")
    expect(newest.get_by_text("Ja, superanvändare finns på varje ort.")).to_be_visible()


def test_the_switcher_changes_the_language(page, live_server, launch):
    project, link = launch
    page.goto(f"{live_server.url}/p/{link.token}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("button", name="Svenska").click()

    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_text("Jag förstår varför vi gör den här förändringen.")).to_be_visible()
    expect(page.locator("h1")).to_have_text(project.lede)  # the story in Swedish too, not only the words around it
    assert page.url == f"{live_server.url}/p/{link.token}/"


def test_landing_page_screenshots(page, live_server, screenshot):
    """`make screenshots`: the demo's personal page as an employee first sees it, on a phone and a desktop."""
    from django.core.cache import cache
    from django.core.management import call_command

    from audiences.models import Employee
    from campaigns.models import ChangeProject

    call_command("seed_demo", stdout=io.StringIO())
    cache.clear()
    landing.local_cache.clear()
    project = ChangeProject.objects.get(slug="atlas")
    employee = Employee.objects.filter(language="sv", is_active=True).order_by("id").first()
    link = landing.landing_token_for(project=project, employee=employee)
    for size in SIZES:
        page.set_viewport_size(SIZES[size])
        page.goto(f"{live_server.url}/p/{link.token}/")
        expect(page.locator("h1")).to_have_text(project.lede)
        screenshot(f"landing-{size}")


def test_during_the_draft_phase_the_general_link_shows_nothing_unapproved(
    page, live_server, make_user, settings, log_in, assert_accessible
):
    """A new project whose plan is still being written: an employee who finds the general link
    (a poster's QR code printed early, a link shared too soon) sees the story and go-live only;
    the team's preview shows the same, and the meeting appears once it is approved."""
    from django.core.cache import cache

    cache.clear()
    landing.local_cache.clear()
    owner = make_user("sara", first_name="Sara")
    project = services.project_create(
        by=owner, name="Flex", lede="Från hösten arbetar vi flexibelt.", go_live="2027-09-01"
    )
    for channel, title, status in (
        (Channel.NEWS, "Utkast: nyheten om kontoren", Asset.Status.DRAFT),
        (Channel.FILM, "Utkast: filmen", Asset.Status.READY),
        (Channel.EMAIL, "Utkast: sponsorns ord", Asset.Status.DRAFT),
    ):
        Asset.objects.create(
            project=project,
            channel=channel,
            stage=Stage.AWARENESS,
            title=title,
            headline=title,
            body=f"<p>{title}</p>",
            offset_days=-20,
            is_milestone=True,
            status=status,
            sender_kind="sponsor",
            video_url="https://www.youtube.com/watch?v=draft" if channel == Channel.FILM else "",
        )
    meeting, _sessions = make_meeting(project, title="Utkast: informationsträffen", status=Asset.Status.READY)

    page.goto(f"{live_server.url}/l/{project.slug}/")
    expect(page.get_by_text("Från hösten arbetar vi flexibelt.")).to_be_visible()
    assert "Utkast" not in page.content()
    assert_accessible()

    log_in("sara")
    page.goto(f"{live_server.url}/projects/{project.slug}/landing-preview/")
    expect(page.get_by_text("Från hösten arbetar vi flexibelt.")).to_be_visible()
    assert "Utkast" not in page.content()

    Asset.objects.filter(pk=meeting.pk).update(status=Asset.Status.APPROVED)
    landing.landing_cache_bump(project_id=project.pk)
    page.goto(f"{live_server.url}/l/{project.slug}/")
    expect(page.get_by_text("Utkast: informationsträffen").first).to_be_visible()
