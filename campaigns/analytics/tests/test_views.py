"""The dashboard pages: who sees what, what each tracking mode shows, the one-click next step."""

import io
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from audiences.models import Audience
from campaigns.analytics import selectors
from campaigns.analytics import services as analytics
from campaigns.models import Asset, ChangeProject, LandingToken
from campaigns.tests.asset_helpers import make_employee
from campaigns.tests.dashboard_helpers import answer, deliver, small_launch

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _url(project, name="campaigns:dashboard", *args):
    return reverse(name, args=[project.slug, *args])


def _stuck_warehouse(project, cast, n=5):
    """n warehouse people who answer with knowledge at 2: the warehouse's barrier."""
    for i in range(n):
        person = make_employee(f"stuck{i}@example.se", first_name=f"S{i}", department="Lager")
        answer(project, person, cast["warehouse"], all=(4, 4, 2, 2, 2))


def test_a_viewer_sees_the_barrier_and_the_recommendation_but_no_button(client, project, owner, viewer):
    cast = small_launch(project, owner, mode="anonymous")
    _stuck_warehouse(project, cast)
    client.force_login(viewer)

    response = client.get(_url(project), **EN)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Warehouse" in html and "A how-to handout or film" in html
    assert "barrier" in html
    assert reverse("campaigns:dashboard_next_step", args=[project.slug]) not in html
    assert reverse("campaigns:dashboard_refresh", args=[project.slug]) not in html
    assert "Figures as of" in html


def test_an_editor_gets_the_one_click_button(client, project, owner, editor):
    cast = small_launch(project, owner, mode="anonymous")
    _stuck_warehouse(project, cast)
    client.force_login(editor)

    html = client.get(_url(project), **EN).content.decode()

    assert reverse("campaigns:dashboard_next_step", args=[project.slug]) in html
    assert f'name="audience" value="{cast["warehouse"].pk}"' in html
    assert 'name="stage" value="knowledge"' in html


def test_the_tab_is_in_the_project_navigation(client, project, viewer):
    client.force_login(viewer)
    html = client.get(reverse("campaigns:project_detail", args=[project.slug]), **EN).content.decode()
    assert _url(project) in html and ">Dashboard<" in html


def test_an_outsider_gets_a_404(client, project, outsider):
    client.force_login(outsider)
    assert client.get(_url(project)).status_code == 404
    assert client.post(_url(project, "campaigns:dashboard_next_step"), {"stage": "knowledge"}).status_code == 404


def test_the_first_view_computes_the_figures(client, project, owner, viewer):
    small_launch(project, owner)
    client.force_login(viewer)
    response = client.get(_url(project), **EN)
    assert response.context["board"].refreshed_at is not None
    assert response.context["board"].overall.reach.targeted == 5


def test_one_click_creates_the_recommended_draft_and_opens_it(client, project, owner, editor):
    cast = small_launch(project, owner, mode="anonymous")
    client.force_login(editor)
    before = Asset.objects.count()

    response = client.post(
        _url(project, "campaigns:dashboard_next_step"), {"audience": cast["warehouse"].pk, "stage": "knowledge"}, **EN
    )

    assert Asset.objects.count() == before + 1
    asset = Asset.objects.latest("pk")
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:asset_detail", args=[project.slug, asset.pk])
    assert (asset.channel, asset.stage, asset.status, asset.created_by) == ("handout", "knowledge", "draft", editor)
    assert list(asset.audiences.all()) == [cast["warehouse"]]
    assert asset.title.startswith("How to: Nytt ekonomisystem step by step")


def test_one_click_is_post_only(client, project, owner, editor):
    small_launch(project, owner)
    client.force_login(editor)
    before = Asset.objects.count()
    assert client.get(_url(project, "campaigns:dashboard_next_step") + "?stage=knowledge").status_code == 405
    assert Asset.objects.count() == before


def test_one_click_needs_the_csrf_token(project, owner, editor):
    cast = small_launch(project, owner)
    before = Asset.objects.count()
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)

    response = client.post(
        _url(project, "campaigns:dashboard_next_step"), {"audience": cast["office"].pk, "stage": "desire"}
    )

    assert response.status_code == 403
    assert Asset.objects.count() == before


def test_one_click_refuses_a_viewer(client, project, owner, viewer):
    cast = small_launch(project, owner)
    before = Asset.objects.count()
    client.force_login(viewer)
    response = client.post(
        _url(project, "campaigns:dashboard_next_step"), {"audience": cast["office"].pk, "stage": "desire"}
    )
    assert response.status_code == 403
    assert Asset.objects.count() == before


def test_one_click_refuses_another_projects_audience(client, project, owner, editor):
    small_launch(project, owner)
    other = ChangeProject.objects.create(slug="other", name="Other", lede="x", go_live="2027-01-01")
    foreign = Audience.objects.create(project=other, name="Theirs")
    before = Asset.objects.count()
    client.force_login(editor)

    response = client.post(_url(project, "campaigns:dashboard_next_step"), {"audience": foreign.pk, "stage": "desire"})

    assert response.status_code == 404
    assert Asset.objects.count() == before


def test_one_click_with_a_bad_stage_creates_nothing(client, project, owner, editor):
    cast = small_launch(project, owner)
    before = Asset.objects.count()
    client.force_login(editor)
    response = client.post(
        _url(project, "campaigns:dashboard_next_step"), {"audience": cast["office"].pk, "stage": "x"}
    )
    assert response.status_code == 302 and response["Location"] == _url(project)
    assert Asset.objects.count() == before


def test_refresh_now_recomputes_for_editors(client, project, owner, editor):
    cast = small_launch(project, owner)
    analytics.analytics_refresh(project=project)
    deliver(cast["why"], cast["people"]["cia"])
    client.force_login(editor)

    response = client.post(_url(project, "campaigns:dashboard_refresh"))

    assert response.status_code == 302
    project.refresh_from_db()
    assert selectors.dashboard(project=project).overall.reach.reached_once == 5


def test_cells_below_the_threshold_are_hidden_on_the_page(client, project, owner, viewer):
    cast = small_launch(project, owner, mode="anonymous")
    _stuck_warehouse(project, cast, n=4)  # four answers: below five
    client.force_login(viewer)

    response = client.get(_url(project), **EN)

    warehouse = next(row for row in response.context["board"].audiences if row.name == "Warehouse")
    assert all(cell.hidden for cell in warehouse.readiness) and warehouse.barrier is None
    html = response.content.decode()
    assert "fewer than 5 answers" in html
    assert f'name="audience" value="{cast["warehouse"].pk}"' not in html


def _recipients(project, owner, n):
    """A launch to `n` people: one audience, two emails delivered to all, answers from a few."""
    people = [make_employee(f"p{i}@example.se", first_name=f"P{i}", site=("A", "B")[i % 2]) for i in range(n)]
    audience = Audience.objects.create(project=project, name="Alla", kind=Audience.Kind.LIST)
    audience.members.add(*people)
    from campaigns.tests.asset_helpers import make_email

    for title in ("One", "Two"):
        email = make_email(project, owner, title=title)
        for person in people:
            deliver(email, person, opened=True)
    for person in people[:6]:
        answer(project, person, audience, all=(3, 3, 3, 3, 3))
    analytics.analytics_refresh(project=project)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("mode", ["individual", "anonymous", "aggregate"])
def test_the_pinned_query_count_is_the_same_for_10_and_200_recipients(client, project, owner, viewer, mode):
    ChangeProject.objects.filter(pk=project.pk).update(tracking_mode=mode)
    project.refresh_from_db()
    client.force_login(viewer)
    _recipients(project, owner, 10)
    small = _queries(client, _url(project))

    more = [make_employee(f"more{i}@example.se", first_name=f"M{i}", site=f"S{i % 7}") for i in range(190)]
    audience = Audience.objects.get(project=project, name="Alla")
    audience.members.add(*more)
    for email in project.assets.filter(channel="email"):
        for person in more:
            deliver(email, person)
    analytics.analytics_refresh(project=project)
    big = _queries(client, _url(project))

    assert selectors.dashboard(project=project).overall.reach.targeted == 200
    # session, user, membership, refresh state, figures, audiences, assets, days, two for questions, two for perms
    assert small == big == 12


# Tracking modes: each shows what it promises and no more.


def test_aggregate_mode_shows_totals_only(client, project, owner, viewer):
    cast = small_launch(project, owner, mode="aggregate")
    client.force_login(viewer)

    response = client.get(_url(project), **EN)

    html = response.content.decode()
    board = response.context["board"]
    assert board.audiences == [] and board.sites == []
    assert "Office" not in html and "Warehouse" not in html and "Luleå" not in html
    assert "Only totals for the whole project are shown" in html
    not_reached = reverse("campaigns:dashboard_not_reached", args=[project.slug, cast["office"].pk])
    assert not_reached not in html
    assert client.get(not_reached).status_code == 404


def test_anonymous_mode_shows_audiences_but_no_one_by_name(client, project, owner, viewer):
    cast = small_launch(project, owner, mode="anonymous")
    project.anonymity_threshold = 2  # the cast's sites have 2 and 3 people: shown, as larger sites would be
    project.save()
    client.force_login(viewer)

    html = client.get(_url(project), **EN).content.decode()

    assert "Office" in html and "Luleå" in html
    assert "Not reached yet" not in html
    assert "cia@example.se" not in html
    url = reverse("campaigns:dashboard_not_reached", args=[project.slug, cast["office"].pk])
    assert client.get(url).status_code == 404


def test_individual_mode_lists_who_has_not_been_reached(client, project, owner, viewer):
    cast = small_launch(project, owner, mode="individual")
    client.force_login(viewer)
    url = reverse("campaigns:dashboard_not_reached", args=[project.slug, cast["office"].pk])

    assert url in client.get(_url(project), **EN).content.decode()
    response = client.get(url, **EN)

    assert response.status_code == 200
    html = response.content.decode()
    assert "cia@example.se" in html
    assert "ann@example.se" not in html and "bo@example.se" not in html


def test_the_not_reached_list_is_paginated_with_a_pinned_query_count(client, project, owner, viewer):
    cast = small_launch(project, owner, mode="individual")
    client.force_login(viewer)
    url = reverse("campaigns:dashboard_not_reached", args=[project.slug, cast["office"].pk])
    few = _queries(client, url)
    cast["office"].members.add(*[make_employee(f"x{i}@example.se", last_name=f"X{i:03}") for i in range(120)])

    many = _queries(client, url)
    response = client.get(url + "?page=3", **EN)

    assert few == many
    assert response.context["page"].paginator.count == 121
    assert len(response.context["page"].object_list) == 21


def test_the_not_reached_list_refuses_another_projects_audience(client, project, owner, viewer):
    small_launch(project, owner, mode="individual")
    other = ChangeProject.objects.create(slug="other", name="Other", lede="x", go_live="2027-01-01")
    foreign = Audience.objects.create(project=other, name="Theirs")
    client.force_login(viewer)
    url = reverse("campaigns:dashboard_not_reached", args=[project.slug, foreign.pk])
    assert client.get(url).status_code == 404


# The first personal visit and the project setting


def test_a_personal_visit_is_remembered_only_in_individual_mode(client, project, owner, settings):
    from campaigns.landing import services as landing

    settings.LANDING_COUNTER_FLUSH_SECONDS = 0  # no visit left waiting in memory for a later test

    cast = small_launch(project, owner, mode="anonymous")
    link = LandingToken.objects.create(project=project, employee=cast["people"]["ann"])
    landing.local_cache.clear()
    assert client.get(reverse("landing:personal", args=[link.token])).status_code == 200
    link.refresh_from_db()
    assert link.visited_at is None

    ChangeProject.objects.filter(pk=project.pk).update(tracking_mode="individual")
    landing.local_cache.clear()
    assert client.get(reverse("landing:personal", args=[link.token])).status_code == 200
    link.refresh_from_db()
    assert link.visited_at is not None


def _edit(project, **changes):
    data = {
        "name": project.name,
        "lede": project.lede,
        "go_live": "2027-03-01",
        "status": project.status,
        "tracking_mode": project.tracking_mode,
        "primary_color": project.primary_color,
        "accent_color": project.accent_color,
    }
    data.update(changes)
    return data


def test_the_anonymity_threshold_is_a_project_setting(client, project, owner):
    client.force_login(owner)
    url = reverse("campaigns:project_edit", args=[project.slug])
    assert client.post(url, _edit(project, anonymity_threshold=8)).status_code == 302
    project.refresh_from_db()
    assert project.anonymity_threshold == 8

    with translation.override("en"):
        response = client.post(url, _edit(project, anonymity_threshold=1), **EN)
    assert response.status_code == 200
    project.refresh_from_db()
    assert project.anonymity_threshold == 8

    assert client.post(url, _edit(project)).status_code == 302  # left out: kept
    project.refresh_from_db()
    assert project.anonymity_threshold == 8


# Film plays: a beacon from the landing page's own video element


@pytest.fixture
def film(project, settings):
    from django.core.cache import cache

    from campaigns.landing import services as landing

    settings.LANDING_COUNTER_FLUSH_SECONDS = 0
    cache.clear()  # the landing page's cached parts must not come from another test
    landing.local_cache.clear()
    return Asset.objects.create(
        project=project,
        channel="film",
        stage="knowledge",
        title="Film: så fungerar det",
        offset_days=-10,
        status=Asset.Status.APPROVED,
        video=f"projects/{project.pk}/films/demo.mp4",
    )


def test_the_landing_page_film_carries_its_play_beacon(client, project, film):
    html = client.get(reverse("landing:general", args=[project.slug])).content.decode()
    assert f'data-play-url="{reverse("landing:film_play", args=[project.slug, film.pk])}"' in html


def test_a_film_play_is_counted_and_shown_per_asset(client, project, owner, viewer, film):
    url = reverse("landing:film_play", args=[project.slug, film.pk])

    assert client.post(url).status_code == 204
    assert client.post(url).status_code == 204
    assert client.get(url).status_code == 405

    client.force_login(viewer)
    analytics.analytics_refresh(project=project)
    response = client.get(_url(project), **EN)
    row = next(r for r in response.context["board"].assets if r.asset.pk == film.pk)
    assert row.plays == 2


def test_film_plays_are_rate_limited_per_address(client, project, film, settings):
    from campaigns.models import LandingCounter

    settings.FILM_PLAY_RATE_LIMIT = (1, 600)
    url = reverse("landing:film_play", args=[project.slug, film.pk])
    assert [client.post(url).status_code for _ in range(3)] == [204, 204, 204]
    assert LandingCounter.objects.get(project=project, kind="play").count == 1


def test_a_play_of_an_unknown_or_hidden_film_is_a_404(client, project, film):
    from campaigns.models import LandingCounter

    other = ChangeProject.objects.create(slug="other", name="Other", lede="x", go_live="2027-01-01")
    assert client.post(reverse("landing:film_play", args=[other.slug, film.pk])).status_code == 404
    Asset.objects.filter(pk=film.pk).update(status=Asset.Status.DRAFT)
    assert client.post(reverse("landing:film_play", args=[project.slug, film.pk])).status_code == 404
    assert not LandingCounter.objects.filter(kind="play").exists()


def test_a_linked_film_is_not_measured(client, project, owner, viewer, film):
    Asset.objects.filter(pk=film.pk).update(video="", video_url="https://video.example/atlas")
    client.force_login(viewer)
    html = client.get(_url(project), **EN).content.decode()
    assert "not measured" in html


def test_the_not_reached_list_downloads_formula_safe(client, project, owner, viewer):
    import openpyxl

    cast = small_launch(project, owner, mode="individual")
    Employee = type(cast["office"].members.first())
    Employee.objects.filter(email="cia@example.se").update(first_name='=HYPERLINK("http://x")')
    client.force_login(viewer)

    csv_response = client.get(_url(project, "campaigns:dashboard_not_reached_csv", cast["office"].pk), **EN)
    xlsx_response = client.get(_url(project, "campaigns:dashboard_not_reached_xlsx", cast["office"].pk), **EN)

    assert csv_response.status_code == 200 and "attachment" in csv_response["Content-Disposition"]
    text = csv_response.content.decode("utf-8-sig")
    assert "cia@example.se" in text and "ann@example.se" not in text
    assert "'=HYPERLINK" in text
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_response.content)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "cia@example.se" in values and not any(str(v).startswith("=") for v in values if v)


def test_the_not_reached_download_is_404_unless_individual(client, project, owner, viewer):
    cast = small_launch(project, owner, mode="anonymous")
    client.force_login(viewer)
    for name in ("campaigns:dashboard_not_reached_csv", "campaigns:dashboard_not_reached_xlsx"):
        assert client.get(_url(project, name, cast["office"].pk)).status_code == 404


def test_the_chart_coordinates_stay_numbers_in_swedish(client, project, owner, viewer):
    small_launch(project, owner, mode="individual")
    client.force_login(viewer)

    html = client.get(_url(project), HTTP_ACCEPT_LANGUAGE="sv").content.decode()

    start = html.index('<svg class="dash-chart"')
    chart = html[start : html.index("</svg>", start)]
    number = r"-?\d+(?:\.\d+)?"
    single = re.findall(r'\b(?:x|y|x1|x2|y1|y2)="([^"]*)"', chart)
    pairs = re.findall(r'points="([^"]*)"', chart)
    assert single and pairs
    for value in single:  # "12,5" (a Swedish decimal comma) would not be a coordinate
        assert re.fullmatch(number, value), value
    for value in pairs:
        assert re.fullmatch(rf"{number},{number}(?: {number},{number})*", value), value
