"""Read depth in Chromium: the lede only, into the story, everything; and nothing under Global Privacy Control."""

import time

import pytest

from campaigns.landing import services as landing
from campaigns.models import ChangeProject, LandingToken, ReadDepthCounter

from .test_landing import launch  # noqa: F401 - the shared launch fixture

pytestmark = pytest.mark.browser


def _wait_for(predicate, seconds: float = 8.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        landing.landing_counters_flush()
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


@pytest.fixture
def individual(launch, settings):  # noqa: F811
    settings.LANDING_COUNTER_FLUSH_SECONDS = 0
    project, link = launch
    project.tracking_mode = ChangeProject.TrackingMode.INDIVIDUAL
    project.save()
    return project, link


def _visit(browser, live_server, link, scroll_to: str | None, dwell: float, init_script: str = ""):
    context = browser.new_context(viewport={"width": 1280, "height": 600})
    page = context.new_page()
    if init_script:
        page.add_init_script(init_script)
    page.goto(f"{live_server.url}/p/{link.token}/")
    if scroll_to:
        page.locator(scroll_to).first.scroll_into_view_if_needed()
        page.evaluate(f"document.querySelector('{scroll_to}').scrollIntoView({{block: 'start'}})")
    page.wait_for_timeout(int(dwell * 1000))
    page.goto("about:blank")  # leaving the page sends the beacon
    page.wait_for_timeout(800)  # closing the browser at once could cancel the beacon in flight
    context.close()


@pytest.mark.parametrize(
    ("scroll_to", "depth"),
    [(None, 1), ("#story", 2), ("#questions", 3)],
    ids=["lede", "story", "everything"],
)
def test_the_depth_a_visit_reached_is_recorded(browser, live_server, individual, scroll_to, depth):
    project, link = individual

    _visit(browser, live_server, link, scroll_to, dwell=2.5 if depth == 2 else 0.5)

    counted = _wait_for(lambda: list(ReadDepthCounter.objects.filter(project=project).values_list("depth", "count")))
    assert counted == [(depth, 1)]
    # The person's own row is written just after the counter.
    link = _wait_for(lambda: LandingToken.objects.filter(pk=link.pk, read_depth__isnull=False).first())
    assert link is not None
    assert link.read_depth == depth
    if depth == 2:
        assert 2 <= link.story_seconds <= 10
    if depth == 1:
        assert link.story_seconds == 0


def test_nothing_is_sent_under_global_privacy_control(browser, live_server, individual):
    project, link = individual

    _visit(
        browser,
        live_server,
        link,
        "#questions",
        dwell=0.5,
        init_script="Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});",
    )

    time.sleep(1.5)
    landing.landing_counters_flush()
    assert ReadDepthCounter.objects.filter(project=project).count() == 0
    assert LandingToken.objects.get(pk=link.pk).read_depth is None
