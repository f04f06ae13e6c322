"""The landing page: links, language, counting, headers, abuse, questions, the pulse and the query count."""

import datetime
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audiences.models import Audience
from campaigns.delivery.emails import landing_url_for
from campaigns.landing import selectors, views
from campaigns.landing import services as landing
from campaigns.models import (
    Asset,
    Booking,
    Channel,
    LandingCounter,
    LandingToken,
    PrintRender,
    PulseResponse,
    Question,
    SenderKind,
    Stage,
)
from campaigns.tests.landing_helpers import bilingual, clean_cache, make_employee, make_meeting, personal_link  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


@pytest.fixture(autouse=True)
def _count_at_once(settings):
    # Visits reach the database at once here; the buffered path has its own test.
    settings.LANDING_COUNTER_FLUSH_SECONDS = 0


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _counter(project, kind, **where) -> int:
    row = LandingCounter.objects.filter(project=project, kind=kind, **where).first()
    return row.count if row else 0


# Links


def test_landing_url_for_an_employee_is_a_personal_random_link_made_once(project):
    anna = make_employee()

    first = landing_url_for(project, anna)
    again = landing_url_for(project, anna)

    assert first == again
    token = LandingToken.objects.get(project=project, employee=anna).token
    assert first.endswith(f"/p/{token}/")
    assert len(token) >= 32  # 24 random bytes
    assert landing_url_for(project).endswith(f"/l/{project.slug}/")


def test_the_personal_link_takes_its_audience_from_the_last_delivery(project, owner):
    from campaigns.models import Delivery

    anna = make_employee()
    audience = Audience.objects.create(project=project, name="Ekonomi")
    email = Asset.objects.create(
        project=project, channel=Channel.EMAIL, stage=Stage.AWARENESS, title="Teaser", offset_days=-30
    )
    Delivery.objects.create(asset=email, employee=anna, audience=audience, message_id="<1@x>")

    token = landing.landing_token_for(project=project, employee=anna)

    assert token.audience == audience


def test_the_personal_page_greets_the_employee_and_shows_the_lede_first(client, project):
    bilingual(project)
    link = personal_link(project, make_employee(language="en"))

    response = client.get(f"/p/{link.token}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Hello Anna!" in html
    assert html.index(project.lede) < html.index("Det gamla systemet är uttjänt.")
    assert '<h1 class="lede" id="lede">' in html


# Language


def test_a_personal_link_speaks_the_employees_language(client, project):
    bilingual(project)
    swede = personal_link(project, make_employee("sven@example.se", language="sv"))
    briton = personal_link(project, make_employee("bob@example.se", language="en"))

    sv = client.get(f"/p/{swede.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    en = Client().get(f"/p/{briton.token}/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()

    assert '<html lang="sv">' in sv and "Jag förstår varför vi gör den här förändringen." in sv
    assert '<html lang="en">' in en and "I understand why we are making this change." in en


def test_the_general_link_speaks_the_browsers_language(client, project):
    bilingual(project)
    en = client.get(f"/l/{project.slug}/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    sv = Client().get(f"/l/{project.slug}/", HTTP_ACCEPT_LANGUAGE="sv-SE").content.decode()

    assert '<html lang="en">' in en and "I want this change to succeed." in en
    assert '<html lang="sv">' in sv and "Jag vill att förändringen ska lyckas." in sv


def test_the_switcher_overrides_the_employees_language(client, project):
    bilingual(project)
    link = personal_link(project, make_employee(language="sv"))

    response = client.post("/i18n/setlang/", {"language": "en", "next": f"/p/{link.token}/"})
    assert response.status_code == 302 and response["Location"] == f"/p/{link.token}/"

    html = client.get(f"/p/{link.token}/").content.decode()
    assert '<html lang="en">' in html
    assert 'value="sv"' in html  # the switcher now offers Swedish


# Not found


@pytest.mark.parametrize(
    "url",
    [
        "/p/not-a-real-token-but-long-enough-to-look-like-one/",
        "/p/x/",
        "/p/" + "a" * 200 + "/",
        "/l/no-such-project/",
        "/b/confirm/forged-token/",
        "/b/cancel/forged-token/",
    ],
)
def test_unknown_or_forged_tokens_are_a_plain_404(client, project, url):
    response = client.get(url)

    assert response.status_code == 404
    assert project.name not in response.content.decode()


def test_posts_with_forged_tokens_are_404(client, project):
    meeting, (session,) = make_meeting(project)
    for url in ("/p/forged/book/", "/p/forged/ask/", "/p/forged/pulse/", "/b/confirm/forged/", "/b/cancel/forged/"):
        assert client.post(url, {"session": session.pk, "text": "?", "reaction": "right"}).status_code == 404
    assert not Booking.objects.exists() and not Question.objects.exists() and not PulseResponse.objects.exists()


def test_the_link_of_a_deactivated_or_erased_employee_is_404(client, project):
    leaver = personal_link(project, make_employee("leaver@example.se", is_active=False))
    erased = personal_link(project, make_employee("erased@example.se", erased_at=timezone.now()))

    assert client.get(f"/p/{leaver.token}/").status_code == 404
    assert client.get(f"/p/{erased.token}/").status_code == 404


# Counting


def test_visits_are_counted_per_audience_on_personal_links_and_anonymously_on_the_general_link(client, project):
    audience = Audience.objects.create(project=project, name="Ekonomi")
    link = personal_link(project, make_employee(), audience=audience)

    client.get(f"/p/{link.token}/")
    client.get(f"/p/{link.token}/")
    client.get(f"/l/{project.slug}/")

    assert _counter(project, "visit", audience=audience, source=None) == 2
    assert _counter(project, "visit", audience=None, source=None) == 1
    assert LandingCounter.objects.count() == 2


def test_a_qr_scan_is_counted_per_print_asset_and_redirects_to_the_clean_address(client, project):
    poster = Asset.objects.create(
        project=project, channel=Channel.POSTER, stage=Stage.AWARENESS, title="Poster", offset_days=-35
    )
    render = PrintRender.objects.create(asset=poster, language="sv")
    handout = Asset.objects.create(
        project=project, channel=Channel.HANDOUT, stage=Stage.KNOWLEDGE, title="Blad", offset_days=-14
    )
    PrintRender.objects.create(asset=handout, language="sv")

    response = client.get(f"/l/{project.slug}/?src={render.qr_token}")
    client.get(f"/l/{project.slug}/?src={render.qr_token}")

    assert response.status_code == 302 and response["Location"] == f"/l/{project.slug}/"
    assert _counter(project, "scan", source=poster) == 2
    assert _counter(project, "scan", source=handout) == 0
    assert _counter(project, "visit") == 0  # the redirect itself is not a page view


def test_a_forged_scan_source_is_not_counted_but_still_reaches_the_page(client, project, make_user):
    other = landing_project(make_user)
    poster = Asset.objects.create(
        project=other, channel=Channel.POSTER, stage=Stage.AWARENESS, title="P", offset_days=-35
    )
    foreign = PrintRender.objects.create(asset=poster, language="sv")

    for src in ("forged", foreign.qr_token, "x" * 500):
        response = client.get(f"/l/{project.slug}/", {"src": src})
        assert response.status_code == 302 and response["Location"] == f"/l/{project.slug}/"

    assert not LandingCounter.objects.filter(kind="scan").exists()


def landing_project(make_user):
    from campaigns.projects import services

    return services.project_create(by=make_user("other"), name="Annat projekt", lede="Annat.", go_live="2027-05-01")


def test_a_get_changes_nothing_but_the_visit_counter(client, project):
    anna = make_employee()
    link = personal_link(project, anna)
    _meeting, (session,) = make_meeting(project)
    pending = Booking.objects.create(session=session, email="sven@example.se")
    confirmed = Booking.objects.create(
        session=session, email=anna.email, employee=anna, status=Booking.Status.CONFIRMED
    )

    urls = [
        f"/p/{link.token}/",
        f"/p/{link.token}/book/?session={session.pk}",
        f"/p/{link.token}/ask/?text=x",
        f"/p/{link.token}/pulse/?reaction=right",
        f"/l/{project.slug}/",
        f"/l/{project.slug}/book/",
        f"/l/{project.slug}/ask/",
        f"/l/{project.slug}/pulse/",
        f"/b/confirm/{pending.confirm_token}/",
        f"/b/cancel/{confirmed.cancel_token}/",
    ]
    for url in urls:
        assert client.get(url).status_code in (200, 405), url

    pending.refresh_from_db()
    confirmed.refresh_from_db()
    assert pending.status == Booking.Status.PENDING
    assert confirmed.status == Booking.Status.CONFIRMED
    assert Booking.objects.count() == 2
    assert not Question.objects.exists() and not PulseResponse.objects.exists()


# Headers and abuse


def test_public_pages_send_a_strict_policy_and_are_not_cached_or_indexed(client, project):
    link = personal_link(project, make_employee())

    for url in (f"/p/{link.token}/", f"/l/{project.slug}/"):
        response = client.get(url)
        assert response["Referrer-Policy"] == "same-origin"
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
        assert "noindex" in response["X-Robots-Tag"]
        assert "<script>" not in response.content.decode() and "style=" not in response.content.decode()


def test_the_brand_stylesheet_is_public_and_carries_the_colours(client, project):
    project.primary_color, project.accent_color = "#13294b", "#ffd200"
    project.save()

    response = client.get(f"/l/{project.slug}/brand.css")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/css")
    css = response.content.decode()
    assert "--primary: #13294b" in css and "--on-primary: #ffffff" in css
    assert "--on-accent: #16181d" in css  # white on yellow would not be readable


def test_posts_need_the_csrf_token(project):
    link = personal_link(project, make_employee())
    client = Client(enforce_csrf_checks=True)

    assert client.post(f"/p/{link.token}/ask/", {"text": "Varför?"}).status_code == 403
    assert client.post(f"/l/{project.slug}/pulse/", {"reaction": "right"}).status_code == 403
    assert not Question.objects.exists() and not PulseResponse.objects.exists()


def test_public_posts_are_rate_limited(client, project, settings):
    settings.LANDING_RATE_LIMIT = (3, 600)
    url = f"/l/{project.slug}/ask/"

    codes = [client.post(url, {"text": f"Fråga {i}"}).status_code for i in range(5)]

    assert codes == [302, 302, 302, 429, 429]
    assert Question.objects.count() == 3
    response = client.post(url, {"text": "igen"})
    assert response["Retry-After"] == "600"


def test_the_rate_limit_uses_the_proxy_header_only_when_configured(client, project, settings):
    settings.LANDING_RATE_LIMIT = (1, 600)
    url = f"/l/{project.slug}/pulse/"

    # Without the setting the header is ignored: both requests come from REMOTE_ADDR.
    assert client.post(url, {"reaction": "right"}, HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 302
    assert client.post(url, {"reaction": "right"}, HTTP_X_FORWARDED_FOR="10.0.0.2").status_code == 429

    settings.TRUSTED_PROXY_HEADER = "HTTP_X_FORWARDED_FOR"
    assert client.post(url, {"reaction": "right"}, HTTP_X_FORWARDED_FOR="spoof, 10.0.0.3").status_code == 302
    assert client.post(url, {"reaction": "right"}, HTTP_X_FORWARDED_FOR="other, 10.0.0.3").status_code == 429
    assert client.post(url, {"reaction": "right"}, HTTP_X_FORWARDED_FOR="10.0.0.4").status_code == 302


def test_personal_posts_are_limited_per_link(client, project, settings):
    settings.LANDING_RATE_LIMIT = (2, 600)
    one = personal_link(project, make_employee("one@example.se"))
    two = personal_link(project, make_employee("two@example.se"))

    codes = [client.post(f"/p/{one.token}/ask/", {"text": "?"}).status_code for _ in range(3)]

    assert codes == [302, 302, 429]
    assert client.post(f"/p/{two.token}/ask/", {"text": "?"}).status_code == 302


# Questions


def test_questions_from_the_page_reach_the_inbox_and_published_answers_the_faq(client, project, editor):
    anna = make_employee(first_name="Anna", last_name="Berg")
    link = personal_link(project, anna)

    anonymous = client.post(f"/l/{project.slug}/ask/", {"text": "Får vi utbildning?", "name": ""})
    named = client.post(f"/p/{link.token}/ask/", {"text": "Vem attesterar mina fakturor?", "show_name": "on"})
    hidden = client.post(f"/p/{link.token}/ask/", {"text": "Vad händer med gamla fakturor?"})

    assert anonymous.status_code == named.status_code == hidden.status_code == 302
    assert named["Location"] == f"/p/{link.token}/#questions"
    q_anonymous, q_named, q_hidden = (
        Question.objects.get(text="Får vi utbildning?"),
        Question.objects.get(text="Vem attesterar mina fakturor?"),
        Question.objects.get(text="Vad händer med gamla fakturor?"),
    )
    assert (q_anonymous.name, q_anonymous.employee) == ("", None)
    assert (q_named.name, q_named.employee) == ("Anna Berg", anna)
    assert (q_hidden.name, q_hidden.employee) == ("", None)

    team = Client()
    team.force_login(editor)
    inbox = team.get(reverse("campaigns:inbox", args=[project.slug])).content.decode()
    assert "Får vi utbildning?" in inbox and "Anna Berg" in inbox

    response = team.post(
        reverse("campaigns:question_answer", args=[project.slug, q_anonymous.pk]),
        {
            f"q{q_anonymous.pk}-answer": "<p>Ja, <script>x</script>alla får en kurs.</p>",
            f"q{q_anonymous.pk}-publish": "on",
        },
    )
    assert response.status_code == 302
    q_anonymous.refresh_from_db()
    assert q_anonymous.is_published and q_anonymous.answered_by == editor
    assert "<script>" not in q_anonymous.answer

    page = client.get(f"/l/{project.slug}/").content.decode()
    assert "Får vi utbildning?" in page and "alla får en kurs" in page
    assert "Vem attesterar mina fakturor?" not in page  # not answered, not published

    team.post(
        reverse("campaigns:question_answer", args=[project.slug, q_anonymous.pk]),
        {f"q{q_anonymous.pk}-answer": "<p>Ja, alla får en kurs.</p>"},
    )
    assert "Får vi utbildning?" not in client.get(f"/l/{project.slug}/").content.decode()


def test_publishing_needs_an_answer(client, project, editor):
    question = Question.objects.create(project=project, text="Varför?")
    client.force_login(editor)

    client.post(
        reverse("campaigns:question_answer", args=[project.slug, question.pk]), {f"q{question.pk}-publish": "on"}
    )

    question.refresh_from_db()
    assert not question.is_published


def test_viewers_read_the_inbox_but_cannot_answer_and_outsiders_see_nothing(client, project, viewer, outsider):
    question = Question.objects.create(project=project, text="Varför?")
    url = reverse("campaigns:question_answer", args=[project.slug, question.pk])

    client.force_login(viewer)
    assert client.get(reverse("campaigns:inbox", args=[project.slug])).status_code == 200
    assert client.post(url, {f"q{question.pk}-answer": "Nej"}).status_code == 403
    client.force_login(outsider)
    assert client.get(reverse("campaigns:inbox", args=[project.slug])).status_code == 404
    assert client.post(url, {f"q{question.pk}-answer": "Nej"}).status_code == 404

    question.refresh_from_db()
    assert question.answer == ""


def test_an_empty_question_is_refused_on_the_page(client, project):
    bilingual(project)
    response = client.post(f"/l/{project.slug}/ask/", {"text": "  "}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "Write your question first." in response.content.decode()
    assert not Question.objects.exists()


# The pulse


def _pulse(**scores):
    return {"reaction": "partly", **{k: str(v) for k, v in scores.items()}}


def test_the_pulse_is_one_answer_per_person_and_round_and_answering_again_updates(client, project):
    audience = Audience.objects.create(project=project, name="Ekonomi")
    anna = make_employee()
    link = personal_link(project, anna, audience=audience)

    client.post(f"/p/{link.token}/pulse/", _pulse(awareness=4, desire=5, knowledge=2))
    response = client.post(
        f"/p/{link.token}/pulse/", {**_pulse(awareness=5, knowledge=3, ability=1), "reaction": "right"}
    )

    assert response.status_code == 302 and response["Location"].endswith("#pulse")
    answer = PulseResponse.objects.get()
    assert (answer.employee, answer.audience, answer.round, answer.reaction) == (anna, audience, 1, "right")
    assert (answer.awareness, answer.desire, answer.knowledge, answer.ability, answer.reinforcement) == (
        5,
        None,
        3,
        1,
        None,
    )

    page = client.get(f"/p/{link.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="awareness-5" checked' in page  # the form shows the answer given

    project.pulse_round = 2
    project.save()
    client.post(f"/p/{link.token}/pulse/", _pulse(awareness=5))
    assert PulseResponse.objects.filter(employee=anna).count() == 2


def test_general_link_answers_are_counted_without_identity(client, project):
    client.post(f"/l/{project.slug}/pulse/", _pulse(awareness=3))
    client.post(f"/l/{project.slug}/pulse/", _pulse(awareness=4))

    answers = PulseResponse.objects.order_by("id")
    assert answers.count() == 2
    assert all(a.employee is None and a.audience is None for a in answers)


def test_a_score_outside_one_to_five_or_a_missing_reaction_is_refused(client, project):
    assert client.post(f"/l/{project.slug}/pulse/", {"reaction": "right", "awareness": "9"}).status_code == 400
    assert client.post(f"/l/{project.slug}/pulse/", {"awareness": "3"}).status_code == 400
    assert not PulseResponse.objects.exists()


# What the page shows


def test_the_page_shows_film_milestones_sponsor_sessions_and_faq(client, project, owner):
    bilingual(project)
    from campaigns.tests.asset_helpers import make_image

    poster_image = make_image(project, owner, alt="Filmens första bild")
    Asset.objects.create(
        project=project,
        channel=Channel.FILM,
        stage=Stage.KNOWLEDGE,
        title="Så fungerar Atlas",
        offset_days=-7,
        status=Asset.Status.SCHEDULED,
        video="projects/1/films/f.mp4",
        captions="projects/1/films/f.vtt",
        image=poster_image,
    )
    Asset.objects.create(
        project=project,
        channel=Channel.EMAIL,
        stage=Stage.AWARENESS,
        title="Varför",
        offset_days=-28,
        status=Asset.Status.DONE,
        sender_kind=SenderKind.SPONSOR,
        body="<p>Vi gör detta för <b>{{ project_name }}</b>.</p>",
    )
    Asset.objects.create(
        project=project,
        channel=Channel.NEWS,
        stage=Stage.AWARENESS,
        title="Utbildningen startar",
        offset_days=-10,
        is_milestone=True,
        status=Asset.Status.APPROVED,
    )
    Asset.objects.create(
        project=project,
        channel=Channel.EMAIL,
        stage=Stage.AWARENESS,
        title="Hemlig",
        offset_days=-3,
        status=Asset.Status.CANCELLED,
        is_milestone=True,
    )
    make_meeting(project, sessions=2, capacity=5)
    make_meeting(project, title="Utkast", status=Asset.Status.DRAFT)
    Question.objects.create(
        project=project, text="Hur loggar jag in?", answer="<p>Med ditt vanliga konto.</p>", is_published=True
    )

    html = client.get(f"/l/{project.slug}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<video class="film-video" controls' in html and 'poster="/media/' in html
    assert '<track kind="captions" src="/media/projects/1/films/f.vtt"' in html
    assert "Vi gör detta för <b>Nytt ekonomisystem</b>." in html and "Karin Lind" in html
    assert "Utbildningen startar" in html and "Go-live" in html and "Hemlig" not in html
    assert html.count('class="session-radio"') == 2 and "5 seats left" in html and "Utkast" not in html
    assert "Hur loggar jag in?" in html and "Med ditt vanliga konto." in html


def test_a_film_link_out_is_shown_only_for_allowed_video_services(client, project):
    film = Asset.objects.create(
        project=project,
        channel=Channel.FILM,
        stage=Stage.KNOWLEDGE,
        title="Filmen",
        offset_days=-7,
        status=Asset.Status.SCHEDULED,
        video_url="https://www.youtube.com/watch?v=abc",
    )
    html = client.get(f"/l/{project.slug}/").content.decode()
    assert 'href="https://www.youtube.com/watch?v=abc"' in html

    Asset.objects.filter(pk=film.pk).update(video_url="https://evil.example/x")
    landing.landing_cache_bump(project_id=project.pk)
    assert "evil.example" not in client.get(f"/l/{project.slug}/").content.decode()


# Speed


def test_the_personal_page_needs_a_handful_of_queries_whatever_the_projects_size(
    client, project, settings, django_assert_max_num_queries, django_assert_num_queries
):
    audience = Audience.objects.create(project=project, name="Alla")
    employees = [make_employee(f"p{i}@example.se") for i in range(40)]
    for i in range(6):
        make_meeting(project, sessions=5, capacity=10, title=f"Möte {i}")
    for i in range(30):
        Question.objects.create(
            project=project, text=f"Fråga {i}", answer="<p>Svar</p>", is_published=True, published_at=timezone.now()
        )
    for i in range(10):
        Asset.objects.create(
            project=project,
            channel=Channel.NEWS,
            stage=Stage.KNOWLEDGE,
            title=f"Milstolpe {i}",
            offset_days=-i,
            is_milestone=True,
        )
    anna = employees[0]
    link = personal_link(project, anna, audience=audience)
    session = project.assets.filter(channel=Channel.MEETING).first().sessions.first()
    landing.booking_create(session=session, email=anna.email, employee=anna, confirmed=True)
    for e in employees[1:]:
        landing.pulse_submit(project=project, reaction="right", scores={"awareness": 4}, employee=e)

    settings.LANDING_COUNTER_FLUSH_SECONDS = 5
    with django_assert_max_num_queries(12):  # cold: token, counter, the public part's reads, the person's rows
        assert client.get(f"/p/{link.token}/").status_code == 200
    with django_assert_num_queries(0):  # warm: the link, the page and the person's state come from the cache
        response = client.get(f"/p/{link.token}/")
    assert response.content.decode().count('class="session is-booked"') == 1
    other = personal_link(project, employees[5], audience=audience)
    with django_assert_max_num_queries(3):  # another person: their link, bookings and pulse answer
        assert client.get(f"/p/{other.token}/").status_code == 200


def test_visits_are_buffered_and_reach_the_database_in_sums(client, project, settings):
    settings.LANDING_COUNTER_FLUSH_SECONDS = 5
    for _ in range(3):
        client.get(f"/l/{project.slug}/")
    assert _counter(project, "visit") == 1  # the first visit is written; two wait in memory

    landing.landing_counters_flush()  # the window passes, or the process stops
    assert _counter(project, "visit") == 3


def test_a_personal_page_shows_the_persons_own_state_not_a_cached_neighbours(client, project):
    _meeting, (session,) = make_meeting(project)
    anna, sven = (
        make_employee("anna@example.se", first_name="Anna"),
        make_employee("sven@example.se", first_name="Sven"),
    )
    anna_link, sven_link = personal_link(project, anna), personal_link(project, sven)
    client.get(f"/p/{anna_link.token}/")
    client.get(f"/p/{sven_link.token}/")

    client.post(f"/p/{anna_link.token}/book/", {"session": session.pk})

    anna_page = client.get(f"/p/{anna_link.token}/").content.decode()
    sven_page = client.get(f"/p/{sven_link.token}/").content.decode()
    assert 'class="session is-booked"' in anna_page and "Hej Anna!" in anna_page
    assert 'class="session is-booked"' not in sven_page and "Hej Sven!" in sven_page
    assert anna_link.token not in sven_page and sven_link.token in sven_page
    assert views.MARK not in anna_page + sven_page  # no stand-in left behind


def test_a_personal_link_never_gets_the_general_links_cached_page(client, project):
    bilingual(project)
    make_meeting(project)
    anna = make_employee("anna@example.se", first_name="Anna", language="en")
    nameless = make_employee("nn@example.se", first_name="", language="en")
    client.get(f"/l/{project.slug}/", HTTP_ACCEPT_LANGUAGE="en")  # fills the general link's page

    anna_page = client.get(f"/p/{personal_link(project, anna).token}/").content.decode()
    nameless_page = client.get(f"/p/{personal_link(project, nameless).token}/").content.decode()

    assert "Hello Anna!" in anna_page and "Book a seat" in anna_page
    assert "Send me the confirmation link" not in anna_page  # the general link's booking by email
    assert "Hello" not in nameless_page.split('id="lede"')[0]  # no greeting without a name, not "Hello !"
    assert "Book a seat" in nameless_page


def test_the_cached_public_part_follows_changes(client, project):
    client.get(f"/l/{project.slug}/")
    project.lede = "Ny ingress."
    project.save()
    assert "Ny ingress." in client.get(f"/l/{project.slug}/").content.decode()

    Question.objects.create(project=project, text="Direkt?", answer="<p>Ja.</p>", is_published=True)
    assert "Direkt?" not in client.get(f"/l/{project.slug}/").content.decode()  # cached, until a service bumps it
    landing.landing_cache_bump(project_id=project.pk)
    assert "Direkt?" in client.get(f"/l/{project.slug}/").content.decode()


def test_milestones_follow_the_go_live_date(project):
    project.refresh_from_db()
    items = selectors.public_milestones(project=project)

    assert len(items) == 1 and items[0]["go_live"]
    assert timezone.localdate(items[0]["at"]) == datetime.date(2027, 3, 1)


def test_people_sharing_the_cached_page_see_their_own_pulse_answers(client, project):
    anna, sven = make_employee("anna@example.se"), make_employee("sven@example.se")
    anna_link, sven_link = personal_link(project, anna), personal_link(project, sven)
    client.get(f"/p/{anna_link.token}/", HTTP_ACCEPT_LANGUAGE="en")  # fills the shared page

    client.post(f"/p/{anna_link.token}/pulse/", _pulse(awareness=2, ability=5))
    anna_page = client.get(f"/p/{anna_link.token}/").content.decode()
    sven_page = client.get(f"/p/{sven_link.token}/").content.decode()

    assert 'id="awareness-2" checked' in anna_page and 'id="ability-5" checked' in anna_page
    assert 'id="reaction-partly" checked' in anna_page
    assert " checked" not in sven_page.split('id="pulse"')[1]
    assert "Uppdatera mina svar" in anna_page and "Skicka mina svar" in sven_page


def test_after_a_form_the_person_reads_fresh_state_for_a_while(client, project):
    link = personal_link(project, make_employee())

    response = client.post(f"/p/{link.token}/ask/", {"text": "Varför?"})

    cookie = response.cookies["landing_fresh"]
    assert cookie["max-age"] == 30 and cookie["httponly"] and cookie["samesite"] == "Lax"


def test_without_a_hero_image_the_brand_band_ends_below_the_links(client, project):
    """The band's lower part is cut away for a hero image to overlap it; with none, nothing is cut."""
    page = client.get(f"/l/{project.slug}/").content.decode()
    assert '<section class="hero" aria-labelledby="lede">' in page
    css = (settings.BASE_DIR / "static" / "landing" / "landing.css").read_text()
    assert ".hero.has-figure::after" in css and ".hero::after" not in css


def test_the_answered_page_joined_from_pieces_is_the_page_filled_mark_by_mark(client, project):
    anna = make_employee("anna@example.se", language="en")
    link = personal_link(project, anna)
    project.refresh_from_db()  # go-live as a date
    from django.template.loader import render_to_string  # the page with its marks, as it is cached

    context = views._page_context(
        project, link=link, state={"booked": {}, "pulse": None, "invited": ()}, forms={}, notices=[]
    )
    context["marks"] = views.MARK
    html = render_to_string("landing/page.html", context)
    pieces = views._answered_pieces(html)
    for pulse in (
        {"reaction": "right", "awareness": 4, "desire": 5, "knowledge": 1, "ability": 2, "reinforcement": 3},
        {
            "reaction": "wrong",
            "awareness": None,
            "desire": None,
            "knowledge": 3,
            "ability": None,
            "reinforcement": None,
        },
    ):
        assert views._join_answered(pieces, pulse) == views._fill_pulse_marks(html, pulse)
        assert views._join_answered(pieces, pulse).count(" checked") == sum(v is not None for v in pulse.values())
