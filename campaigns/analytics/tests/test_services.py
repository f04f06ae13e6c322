"""The dashboard's rollups against a small hand-built launch whose every figure is known."""

import datetime

import pytest
from django.utils import timezone, translation

from audiences.models import Audience
from campaigns.analytics import selectors
from campaigns.analytics import services as analytics
from campaigns.models import (
    Asset,
    ChangeProject,
    DashboardDay,
    DashboardFigure,
    DashboardRefresh,
    LandingToken,
    SenderKind,
)
from campaigns.tests.asset_helpers import make_employee
from campaigns.tests.dashboard_helpers import answer, small_launch

pytestmark = pytest.mark.django_db


def _board(project):
    analytics.analytics_refresh(project=project)
    project.refresh_from_db()
    return selectors.dashboard(project=project)


def _by_name(board):
    return {row.name: row for row in board.audiences}


def test_it_counts_reach_per_audience_site_and_project(project, owner):
    small_launch(project, owner, mode="individual")
    board = _board(project)

    # ann: two emails; bo: an email and a pulse answer (a visit); cia: failed only; dan: a booking; eva: a visit.
    assert board.overall.reach == selectors.Reach(targeted=5, reached_once=4, reached_twice=2)
    rows = _by_name(board)
    assert rows["Office"].reach == selectors.Reach(targeted=3, reached_once=2, reached_twice=2)
    assert rows["Warehouse"].reach == selectors.Reach(targeted=3, reached_once=2, reached_twice=0)
    sites = {s.site: s.reach for s in board.sites}
    assert sites == {
        "Västerås": selectors.Reach(targeted=2, reached_once=2, reached_twice=2),
        "Luleå": selectors.Reach(targeted=3, reached_once=2, reached_twice=0),
    }
    assert rows["Office"].reach.pct_once == 67


def test_it_builds_the_funnel_of_people_in_individual_mode(project, owner):
    small_launch(project, owner, mode="individual")
    board = _board(project)

    funnel = {step.key: step.people for step in _by_name(board)["Office"].funnel}
    assert funnel == {"targeted": 3, "delivered": 2, "opened": 1, "visited": 1, "answered": 1, "booked": 0}
    funnel = {step.key: step.people for step in _by_name(board)["Warehouse"].funnel}
    assert funnel == {"targeted": 3, "delivered": 0, "opened": 0, "visited": 1, "answered": 0, "booked": 1}


def test_anonymous_mode_counts_opens_and_visits_as_events_not_people(project, owner):
    small_launch(project, owner, mode="anonymous")
    board = _board(project)

    office, warehouse = _by_name(board)["Office"], _by_name(board)["Warehouse"]
    assert [step.key for step in office.funnel] == ["targeted", "delivered", "answered", "booked"]
    assert office.events == {"opens": 7, "clicks": 2, "visits": 0}
    assert warehouse.events == {"opens": 0, "clicks": 0, "visits": 5}
    assert board.overall.events == {"opens": 8, "clicks": 2, "visits": 8}
    # Eva's recorded visit is not a person's visit here: only her booking (pending) — she is not reached.
    assert warehouse.reach == selectors.Reach(targeted=3, reached_once=1, reached_twice=0)
    teaser = next(row for row in board.assets if row.asset.title == "Teaser")
    assert (teaser.sent, teaser.failed, teaser.opens, teaser.clicks, teaser.openers) == (2, 1, 8, 2, None)


def test_aggregate_mode_keeps_no_figure_per_audience_or_site(project, owner):
    small_launch(project, owner, mode="aggregate")
    answer(project, None, None, all=(2, 2, 2, 2, 2))
    board = _board(project)

    assert board.audiences == [] and board.sites == []
    scopes = set(DashboardFigure.objects.filter(project=project).values_list("scope", flat=True))
    assert scopes <= {"project", "asset", "readiness"}
    assert not DashboardFigure.objects.filter(project=project, audience__isnull=False).exists()
    assert not DashboardFigure.objects.filter(project=project).exclude(site="").exists()
    assert board.overall.reach.targeted == 5


def test_readiness_counts_members_and_hides_small_groups(project, owner):
    cast = small_launch(project, owner, mode="anonymous")
    office = cast["office"]
    # Four more Office members answer: Office has 5 answers (bo's and these), Warehouse none.
    for i in range(4):
        person = make_employee(f"office{i}@example.se", first_name=f"O{i}", site="Västerås")
        office.members.add(person)
        answer(project, person, office, all=(5, 4, 2, 1, None))
    board = _board(project)

    cells = {c.stage: c for c in _by_name(board)["Office"].readiness}
    assert (cells["awareness"].average, cells["awareness"].answers) == (4.8, 5)  # (4 + 5·4) / 5
    assert (cells["knowledge"].average, cells["knowledge"].answers) == (2.0, 5)
    assert cells["reinforcement"].hidden and cells["reinforcement"].answers == 0
    assert all(c.hidden and c.average is None for c in _by_name(board)["Warehouse"].readiness)

    project.anonymity_threshold = 6
    project.save()
    board = selectors.dashboard(project=project)
    assert all(c.hidden and c.average is None for c in _by_name(board)["Office"].readiness)


def test_the_barrier_is_the_first_visible_stage_at_three_or_below(project, owner):
    cast = small_launch(project, owner, mode="anonymous")
    warehouse = cast["warehouse"]
    for i in range(5):
        person = make_employee(f"lager{i}@example.se", first_name=f"L{i}", department="Lager")
        answer(project, person, warehouse, all=(4, 3 if i < 2 else 4, 2, 1, 1))
    with translation.override("en"):
        board = _board(project)

    row = _by_name(board)["Warehouse"]
    # desire averages 3.6, knowledge 2.0: knowledge is the barrier, not the later and lower ability.
    assert row.barrier.stage == "knowledge"
    assert row.recommendation.channel == "handout"
    assert row.recommendation.step == "A how-to handout or film"
    # Office's cells are all hidden (one answer): no barrier is claimed from them.
    assert _by_name(board)["Office"].barrier is None


def test_answers_without_a_person_count_in_the_audience_they_came_through(project, owner):
    cast = small_launch(project, owner, mode="anonymous")
    for _ in range(5):
        answer(project, None, cast["warehouse"], all=(3, 3, 3, 3, 3))
    board = _board(project)

    cell = _by_name(board)["Warehouse"].readiness[0]
    assert (cell.average, cell.answers) == (3.0, 5)
    assert board.overall.readiness[0].answers == 6  # bo's as well
    assert _by_name(board)["Warehouse"].barrier.stage == "awareness"


def test_per_asset_figures_count_meeting_seats_and_print_scans(project, owner):
    from campaigns.models import LandingCounter

    cast = small_launch(project, owner, mode="individual")
    poster = Asset.objects.create(project=project, channel="poster", stage="awareness", title="Poster", offset_days=-7)
    LandingCounter.objects.create(project=project, kind="scan", source=poster, count=12)
    board = _board(project)

    rows = {row.asset.title: row for row in board.assets}
    assert (rows["Poster"].scans, rows["Poster"].sessions) == (12, None)
    meeting = rows[cast["meeting"].title]
    assert (meeting.sessions, meeting.seats, meeting.booked, meeting.fill_pct) == (1, 20, 1, 5)
    teaser = rows["Teaser"]
    assert (teaser.recipients, teaser.sent, teaser.openers, teaser.clickers, teaser.open_rate) == (4, 2, 1, 1, 50)


def test_a_second_refresh_of_unchanged_data_writes_no_new_rows(project, owner):
    small_launch(project, owner)
    analytics.analytics_refresh(project=project)
    first = sorted(DashboardFigure.objects.filter(project=project).values_list("pk", "value"))

    state = analytics.analytics_refresh(project=project)

    assert sorted(DashboardFigure.objects.filter(project=project).values_list("pk", "value")) == first
    assert state.refreshed_at is not None and DashboardRefresh.objects.filter(project=project).count() == 1


def test_a_refresh_removes_figures_of_a_deleted_audience(project, owner):
    cast = small_launch(project, owner)
    analytics.analytics_refresh(project=project)
    cast["office"].delete()

    analytics.analytics_refresh(project=project)

    assert not DashboardFigure.objects.filter(project=project, scope="audience", audience__name="Office").exists()
    assert selectors.dashboard(project=project).overall.reach.targeted == 3


def test_the_chart_series_counts_new_events_per_day(project, owner):
    small_launch(project, owner)
    board = _board(project)

    today, yesterday = board.series[-1], board.series[-2]
    assert today.day == timezone.localdate()
    assert yesterday.values["sent"] == 1 and today.values["sent"] == 2
    assert today.values["bookings"] == 1 and today.values["answers"] == 1
    # Counters have no time: everything counted so far lands on the day of the first refresh.
    assert today.values["opens"] == 8 and today.values["visits"] == 8
    assert DashboardDay.objects.filter(project=project, metric="opens").count() == 1


def test_projects_due_for_refresh_are_active_and_stale(project, owner):
    closed = ChangeProject.objects.create(slug="old", name="Old", lede="x", go_live="2020-01-01", status="closed")
    ChangeProject.objects.filter(pk=closed.pk).update(updated_at=timezone.now() - datetime.timedelta(days=90))
    assert set(analytics.projects_due_for_refresh()) == {project}

    analytics.analytics_refresh(project=project)
    assert set(analytics.projects_due_for_refresh()) == set()
    later = timezone.now() + datetime.timedelta(minutes=10)
    assert set(analytics.projects_due_for_refresh(now=later)) == {project}


def test_the_beat_task_refreshes_due_projects(project, owner, settings):
    from campaigns.analytics import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = True
    from launchpad.celery import app

    app.conf.task_always_eager = True
    try:
        assert tasks.dashboards_refresh_due() == 1
    finally:
        app.conf.task_always_eager = False
    assert DashboardRefresh.objects.get(project=project).refreshed_at is not None


def test_recommendation_create_puts_a_sponsor_why_email_in_the_plan(project, owner):
    cast = small_launch(project, owner)
    project.go_live = timezone.localdate() + datetime.timedelta(days=30)
    project.save()
    with translation.override("en"):
        asset = analytics.recommendation_create(project=project, audience=cast["office"], stage="awareness", by=owner)

    asset.refresh_from_db()
    assert (asset.channel, asset.stage, asset.status, asset.sender_kind) == (
        "email",
        "awareness",
        "draft",
        SenderKind.SPONSOR,
    )
    assert asset.title == "Why we are doing this – Karin Lind to Office"
    assert asset.subject == asset.title
    assert list(asset.audiences.all()) == [cast["office"]]
    when = timezone.localdate(asset.scheduled_for())
    assert 3 <= (when - timezone.localdate()).days <= 5 and when.weekday() < 5
    assert asset.events.filter(action="created").exists()


def test_recommendation_without_an_audience_goes_to_every_ordinary_audience(project, owner):
    cast = small_launch(project, owner, mode="aggregate")
    Audience.objects.create(project=project, name="Sounding board", kind="list", is_cross_functional=True)
    asset = analytics.recommendation_create(project=project, audience=None, stage="knowledge", by=owner)

    assert asset.channel == "handout" and asset.headline == asset.title
    assert set(asset.audiences.all()) == {cast["office"], cast["warehouse"]}


def test_not_reached_lists_members_without_any_contact(project, owner):
    cast = small_launch(project, owner, mode="individual")
    people = cast["people"]

    assert list(selectors.not_reached(project=project, audience=cast["office"])) == [people["cia"]]
    assert list(selectors.not_reached(project=project, audience=cast["warehouse"])) == [people["cia"]]
    LandingToken.objects.filter(employee=people["eva"]).update(visited_at=None)
    assert set(selectors.not_reached(project=project, audience=cast["warehouse"])) == {people["cia"], people["eva"]}


def test_anonymous_mode_shows_no_site_smaller_than_the_threshold(project, owner):
    small_launch(project, owner, mode="anonymous")

    def sites(threshold: int) -> dict:
        project.anonymity_threshold = threshold
        project.save()
        with translation.override("en"):
            return {s.name: s.reach for s in _board(project).sites}

    every = sites(2)  # Västerås has 2 targeted people, Luleå 3
    assert set(every) == {"Västerås", "Luleå"}
    # Only Västerås is under 3: alone it would still be two people, so it is left out.
    assert sites(3) == {"Luleå": every["Luleå"]}
    # Both are under 4: together they are 5, shown as one row.
    merged = selectors.Reach(
        *(sum(getattr(every[s], f) for s in every) for f in ("targeted", "reached_once", "reached_twice"))
    )
    assert sites(4) == {"2 smaller sites (fewer than 4 people each)": merged}
    # Under 6, even together they are too few: no site at all.
    assert sites(6) == {}


def test_individual_mode_shows_every_site(project, owner):
    small_launch(project, owner, mode="individual")
    project.anonymity_threshold = 4
    project.save()
    assert {s.site for s in _board(project).sites} == {"Västerås", "Luleå"}
