"""Team talk briefings: who gets one, what it says, and the set-based team lists behind it."""

import pytest
from django.core import mail

from campaigns.cascade.selectors import team_lists
from campaigns.delivery import services as delivery
from campaigns.models import ChangeProject, Delivery, TeamTalk
from campaigns.tests.cascade_helpers import make_audience, make_team_talk, make_teams, start_briefings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_the_managers_of_the_audiences_members_are_briefed_once_each(
    project, owner, django_capture_on_commit_callbacks
):
    bosses, reports = make_teams(managers=2, size=3)
    outside_boss, outside = make_teams(managers=1, size=2, prefix="x")
    # Everyone in the audience, the managers too; a manager of a report outside it is not briefed.
    audience = make_audience(project, *reports, *bosses, name="Alla")
    asset = make_team_talk(project, owner, audience)

    assert delivery.recipient_count(asset=asset) == 2
    send, batches = start_briefings(asset, owner, django_capture_on_commit_callbacks)

    briefed = set(Delivery.objects.filter(asset=asset).values_list("employee_id", flat=True))
    assert briefed == {b.pk for b in bosses}
    talks = {t.manager_id: t.team_size for t in TeamTalk.objects.filter(asset=asset)}
    assert talks == {bosses[0].pk: 3, bosses[1].pk: 3}
    assert len({t.token for t in TeamTalk.objects.all()}) == 2


def test_a_briefing_names_the_team_and_who_is_not_reached_in_individual_mode(
    project, owner, django_capture_on_commit_callbacks
):
    project.tracking_mode = ChangeProject.TrackingMode.INDIVIDUAL
    project.save()
    bosses, reports = make_teams(managers=1, size=3)
    asset = make_team_talk(project, owner, make_audience(project, *reports))
    _send, batches = start_briefings(asset, owner, django_capture_on_commit_callbacks)

    for ids in batches:
        delivery.send_batch(delivery_ids=ids)

    (message,) = mail.outbox
    assert message.to == ["chef0@example.se"]
    text = message.body
    assert "Your team: 3 people, 0 reached by the launch so far." in text
    assert "Namn0 Team0: not reached yet" in text
    talk = TeamTalk.objects.get()
    assert f"/tt/{talk.token}/" in text
    html = message.alternatives[0].content
    assert f"/tt/{talk.token}/" in html  # not hidden behind the click counter
    assert "<script" not in html and "Så här påverkar förändringen oss." in html


@pytest.mark.parametrize("mode", ["anonymous", "aggregate"])
def test_a_briefing_gives_counts_only_when_the_project_does_not_track_individuals(
    project, owner, django_capture_on_commit_callbacks, mode
):
    project.tracking_mode = mode
    project.save()
    bosses, reports = make_teams(managers=1, size=4)
    asset = make_team_talk(project, owner, make_audience(project, *reports))
    _send, batches = start_briefings(asset, owner, django_capture_on_commit_callbacks)

    for ids in batches:
        delivery.send_batch(delivery_ids=ids)

    (message,) = mail.outbox
    assert "Your team: 4 people, 0 reached by the launch so far." in message.body
    assert "Namn0" not in message.body and "Namn0" not in message.alternatives[0].content


def test_the_team_lists_of_a_batch_come_from_one_query(project, owner, django_assert_num_queries):
    project.tracking_mode = ChangeProject.TrackingMode.INDIVIDUAL
    project.save()
    bosses, _reports = make_teams(managers=12, size=4)
    asset = make_team_talk(project, owner)
    ids = [b.pk for b in bosses]

    with django_assert_num_queries(1):
        lists = team_lists(asset=asset, manager_ids=ids)
    assert [lists[i].size for i in ids] == [4] * 12

    asset.project.tracking_mode = ChangeProject.TrackingMode.AGGREGATE
    with django_assert_num_queries(1):
        lists = team_lists(asset=asset, manager_ids=ids)
    assert lists[ids[0]].size == 4 and lists[ids[0]].people == []


def test_a_batch_of_briefings_takes_the_same_queries_for_many_managers(
    project, owner, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    def queries_for(managers: int, prefix: str) -> int:
        bosses, reports = make_teams(managers=managers, size=3, prefix=prefix)
        asset = make_team_talk(project, owner, make_audience(project, *reports, name=prefix), title=prefix)
        _send, batches = start_briefings(asset, owner, django_capture_on_commit_callbacks)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            for ids in batches:
                delivery.send_batch(delivery_ids=ids)
        return len(captured.captured_queries)

    few, many = queries_for(2, "a"), queries_for(20, "b")
    # Personal landing links and the claim are per batch too: no query grows with the managers but the
    # writes of each send's status, which the email pipeline already batches.
    assert many - few <= 2, (few, many)
