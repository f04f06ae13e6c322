"""Read depth: the page's beacon, how it is counted under each tracking mode, and what the dashboard makes of it."""

import pytest
from django.urls import reverse

from audiences.models import Audience
from campaigns.analytics import services as analytics
from campaigns.analytics.selectors import dashboard
from campaigns.landing import services as landing
from campaigns.models import ChangeProject, LandingToken, ReadDepth, ReadDepthCounter
from campaigns.tests.landing_helpers import clean_cache, make_employee, personal_link  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]

Mode = ChangeProject.TrackingMode


@pytest.fixture(autouse=True)
def _count_at_once(settings):
    settings.LANDING_COUNTER_FLUSH_SECONDS = 0


@pytest.fixture(autouse=True)
def _dates(project):
    project.refresh_from_db()  # the fixture's go-live is a string until read back


@pytest.fixture
def audience(project):
    return Audience.objects.create(project=project, name="Ekonomi")


def _counts(project) -> dict:
    return {
        (r.audience_id, r.depth, r.story_seconds): r.count for r in ReadDepthCounter.objects.filter(project=project)
    }


def _beacon(client, link, depth, seconds, **headers):
    return client.post(reverse("landing:personal_read", args=[link.token]), {"d": depth, "s": seconds}, **headers)


# The page


def test_the_page_names_its_beacon_and_loads_only_its_own_script(client, project):
    link = personal_link(project, make_employee())

    html = client.get(reverse("landing:personal", args=[link.token])).content.decode()

    assert f'data-read-url="/p/{link.token}/read/"' in html
    assert "<script>" not in html and "<script " in html  # the one script is a static file, no inline code
    general = client.get(reverse("landing:general", args=[project.slug])).content.decode()
    assert f'data-read-url="/l/{project.slug}/read/"' in general


def test_the_teams_preview_sends_no_beacon(client, project, owner):
    client.force_login(owner)
    html = client.get(reverse("campaigns:landing_preview", args=[project.slug])).content.decode()
    assert "data-read-url" not in html


# The beacon


def test_a_personal_beacon_counts_the_depth_and_story_time_per_audience(client, project, audience):
    link = personal_link(project, make_employee(), audience=audience)

    response = _beacon(client, link, 2, 37)

    assert response.status_code == 204
    assert _counts(project) == {(audience.pk, ReadDepth.STORY, 30): 1}
    link.refresh_from_db()
    assert link.read_depth is None  # anonymous mode: nothing about the person


def test_in_individual_mode_the_person_keeps_their_furthest_depth(client, project, audience):
    project.tracking_mode = Mode.INDIVIDUAL
    project.save()
    link = personal_link(project, make_employee(), audience=audience)

    _beacon(client, link, 3, 12)
    _beacon(client, link, 1, 0)

    link.refresh_from_db()
    assert (link.read_depth, link.story_seconds) == (3, 12)
    assert _counts(project) == {(audience.pk, 3, 10): 1, (audience.pk, 1, 0): 1}


def test_in_aggregate_mode_no_audience_is_recorded(client, project, audience):
    project.tracking_mode = Mode.AGGREGATE
    project.save()
    link = personal_link(project, make_employee(), audience=audience)

    _beacon(client, link, 3, 70)

    assert _counts(project) == {(None, 3, 60): 1}


@pytest.mark.parametrize("header", [{"HTTP_DNT": "1"}, {"HTTP_SEC_GPC": "1"}])
def test_nothing_is_counted_for_a_browser_that_asks_not_to_be_tracked(client, project, header):
    link = personal_link(project, make_employee())

    assert _beacon(client, link, 3, 40, **header).status_code == 204
    assert _counts(project) == {}


@pytest.mark.parametrize(
    "body", [{"d": "4", "s": "1"}, {"d": "0", "s": "1"}, {"d": "2", "s": "-3"}, {"d": "2", "s": "9" * 20}, {"s": "3"}]
)
def test_a_beacon_that_is_not_ours_is_refused_and_writes_nothing(client, project, body):
    link = personal_link(project, make_employee())

    response = client.post(reverse("landing:personal_read", args=[link.token]), body)

    assert response.status_code == 400
    assert ReadDepthCounter.objects.count() == 0


def test_an_unknown_link_and_a_get_are_refused(client, project):
    link = personal_link(project, make_employee())
    assert client.post(reverse("landing:personal_read", args=["x" * 40]), {"d": "1", "s": "0"}).status_code == 404
    assert client.get(reverse("landing:personal_read", args=[link.token])).status_code == 405
    assert client.post(reverse("landing:general_read", args=["nope"]), {"d": "1", "s": "0"}).status_code == 404


def test_a_general_beacon_counts_for_the_project_only(client, project):
    response = client.post(reverse("landing:general_read", args=[project.slug]), {"d": "1", "s": "5"})

    assert response.status_code == 204
    assert _counts(project) == {(None, 1, 0): 1}  # the lede only: no time on the story


def test_story_time_is_capped(client, project):
    link = personal_link(project, make_employee())
    _beacon(client, link, 2, 99999)
    assert _counts(project) == {(None, 2, 600): 1}


def test_beacons_over_the_rate_limit_are_answered_but_not_counted(client, project, settings):
    settings.READ_BEACON_RATE_LIMIT = (2, 600)
    link = personal_link(project, make_employee())

    statuses = [_beacon(client, link, 2, 10).status_code for _ in range(4)]

    assert statuses == [204] * 4
    assert sum(_counts(project).values()) == 2


def test_buffered_beacons_reach_the_database_in_one_sum(project, settings, django_assert_num_queries):
    settings.LANDING_COUNTER_FLUSH_SECONDS = 60
    landing.read_depth_record(project=project, depth=2, seconds=12)  # the first of a bucket is written at once
    with django_assert_num_queries(0):
        for _ in range(50):
            landing.read_depth_record(project=project, depth=2, seconds=14)
    assert _counts(project) == {(None, 2, 10): 1}

    landing.landing_counters_flush()

    assert _counts(project) == {(None, 2, 10): 51}


# The dashboard


@pytest.mark.usefixtures("english")
def test_the_dashboard_shows_depth_shares_and_the_median_per_audience(client, project, audience, viewer):
    project.anonymity_threshold = 2
    project.save()
    for depth, bucket, n in ((1, 0, 2), (2, 20, 3), (3, 45, 5)):
        ReadDepthCounter.objects.create(project=project, audience=audience, depth=depth, story_seconds=bucket, count=n)
    ReadDepthCounter.objects.create(project=project, audience=None, depth=3, story_seconds=60, count=10)
    analytics.analytics_refresh(project=project)

    board = dashboard(project=project)

    row = board.audiences[0]
    assert (row.reading.lede, row.reading.story, row.reading.everything) == (2, 3, 5)
    assert (row.reading.pct_lede, row.reading.pct_story, row.reading.pct_everything) == (20, 30, 50)
    assert row.reading.median_label == "45–60 s"  # 8 story visits: 3 at 20 s, 5 at 45 s
    assert board.overall.reading.visits == 20
    client.force_login(viewer)
    html = client.get(reverse("campaigns:dashboard", args=[project.slug])).content.decode()
    assert "How far they read" in html and "45–60 s" in html


def test_the_median_is_hidden_below_the_anonymity_threshold(project, audience):
    ReadDepthCounter.objects.create(project=project, audience=audience, depth=2, story_seconds=30, count=2)
    analytics.analytics_refresh(project=project)

    row = dashboard(project=project).audiences[0]

    assert row.reading.story == 2 and row.reading.median_label == ""


def test_aggregate_mode_shows_the_project_only(project, audience):
    project.tracking_mode = Mode.AGGREGATE
    project.save()
    ReadDepthCounter.objects.create(project=project, audience=None, depth=3, story_seconds=30, count=7)
    analytics.analytics_refresh(project=project)

    board = dashboard(project=project)

    assert board.audiences == [] and board.overall.reading.everything == 7


@pytest.mark.usefixtures("english")
def test_the_export_and_the_report_include_read_depth(client, project, audience, viewer):
    import io

    import openpyxl
    import pypdfium2

    ReadDepthCounter.objects.create(project=project, audience=audience, depth=3, story_seconds=30, count=6)
    analytics.analytics_refresh(project=project)
    client.force_login(viewer)

    book = openpyxl.load_workbook(
        io.BytesIO(client.get(reverse("campaigns:dashboard_export_xlsx", args=[project.slug])).content)
    )
    rows = list(book["Read depth"].iter_rows(values_only=True))
    assert rows[1][:9] == ("Ekonomi", 0, 6, 0, 0, 0, 0, 6, 100)
    pdf = pypdfium2.PdfDocument(client.get(reverse("campaigns:dashboard_export_pdf", args=[project.slug])).content)
    text = pdf[0].get_textpage().get_text_range()
    assert "6 visits measured" in text and "100 % everything" in text


def test_link_rows_are_untouched_outside_individual_mode(project):
    link = personal_link(project, make_employee())
    landing.read_depth_record(project=project, depth=3, seconds=20, link_id=link.pk)
    assert LandingToken.objects.get(pk=link.pk).read_depth is None
