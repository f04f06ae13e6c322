"""The cascade counts: a held talk reaches the team, the dashboard per department and site, reminders,
the late list and the skip-level view."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.analytics import selectors
from campaigns.analytics import services as analytics
from campaigns.cascade.services import team_talk_confirm, team_talks_create, team_talks_remind_due
from campaigns.models import Asset, ChangeProject, Delivery, TeamTalk
from campaigns.tests.cascade_helpers import make_audience, make_employee, make_team_talk, make_teams

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def project(project):
    project.refresh_from_db()  # go-live as a date
    return project


def briefed(project, owner, managers=2, size=3, prefix="", **talk_fields):
    bosses, reports = make_teams(managers=managers, size=size, prefix=prefix)
    for i, boss in enumerate(bosses):  # managers at two sites
        boss.site = "Västerås" if i % 2 == 0 else "Örebro"
        boss.save()
    audience = make_audience(project, *reports, name=f"Alla{prefix}")
    asset = make_team_talk(project, owner, audience, title=f"Teamsamtal{prefix}", **talk_fields)
    Asset.objects.filter(pk=asset.pk).update(status=Asset.Status.SCHEDULED)
    for boss in bosses:
        Delivery.objects.create(asset=asset, employee=boss, message_id=f"<{boss.pk}@example.se>")
    team_talks_create(asset=asset)
    return asset, bosses, reports


def confirm(talk: TeamTalk, attendees: int = 3) -> None:
    team_talk_confirm(talk=talk, held_on=timezone.localdate(), attendees=attendees, questions=[])


def test_a_held_talk_is_a_contact_for_each_direct_report(project, owner):
    asset, bosses, reports = briefed(project, owner)
    analytics.analytics_refresh(project=project)
    assert selectors.dashboard(project=project).overall.reach.reached_once == 0

    confirm(TeamTalk.objects.get(manager=bosses[0]))
    analytics.analytics_refresh(project=project)

    reach = selectors.dashboard(project=project).overall.reach
    assert (reach.targeted, reach.reached_once, reach.reached_twice) == (6, 3, 0)


def test_a_held_talk_and_an_email_make_twice(project, owner):
    asset, bosses, reports = briefed(project, owner)
    email = Asset.objects.create(
        project=project, channel="email", stage="awareness", title="Mejl", offset_days=-20, status="done"
    )
    Delivery.objects.create(asset=email, employee=reports[0], status="sent", message_id="<m@example.se>")
    confirm(TeamTalk.objects.get(manager=bosses[0]))

    analytics.analytics_refresh(project=project)

    assert selectors.dashboard(project=project).overall.reach.reached_twice == 1


def test_the_dashboard_shows_cascade_completion_per_department_and_site(client, project, owner, viewer):
    asset, bosses, reports = briefed(project, owner, managers=4, talk_by_days=-400)  # due long ago: late
    confirm(TeamTalk.objects.get(manager=bosses[0]))
    analytics.analytics_refresh(project=project)

    board = selectors.dashboard(project=project)

    assert (board.cascade.briefed, board.cascade.held, board.cascade.late) == (4, 1, 3)
    assert [(r.name, r.briefed, r.held) for r in board.cascade_departments] == [
        ("Avd0", 1, 1),
        ("Avd1", 1, 0),
        ("Avd2", 1, 0),
        ("Avd3", 1, 0),
    ]
    assert [(r.name, r.briefed, r.held, r.late) for r in board.cascade_sites] == [
        ("Västerås", 2, 1, 1),
        ("Örebro", 2, 0, 2),
    ]
    client.force_login(viewer)
    page = client.get(f"/projects/{project.slug}/dashboard/").content.decode()
    assert "Manager cascade" in page and "1 of 4 briefed managers have held their team talk; 3 are late." in page


def test_the_exports_carry_the_cascade_in_all_and_per_department_and_site(client, project, owner, viewer):
    import io

    from openpyxl import load_workbook

    asset, bosses, reports = briefed(project, owner, managers=4, talk_by_days=-400)
    confirm(TeamTalk.objects.get(manager=bosses[0]))
    analytics.analytics_refresh(project=project)
    client.force_login(viewer)

    response = client.get(f"/projects/{project.slug}/dashboard/export.xlsx")

    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[-2:] == ["Team talks", "Engagement per day"]
    rows = list(book["Team talks"].iter_rows(values_only=True))
    assert rows[0] == ("Group", "Name", "Managers briefed", "Talks held", "Talks held (%)", "Late")
    assert rows[1] == ("Project", "Everyone briefed", 4, 1, 25, 3)
    assert ("Site", "Örebro", 2, 0, 0, 2) in rows and ("Department", "Avd0", 1, 1, 100, 0) in rows


def test_a_hostile_department_name_reaches_the_team_talks_sheet_as_text(client, project, owner, viewer):
    import io

    from openpyxl import load_workbook

    asset, bosses, reports = briefed(project, owner, managers=2)
    bosses[1].department = '=HYPERLINK("https://evil.example","Open")'
    bosses[1].save()
    analytics.analytics_refresh(project=project)
    client.force_login(viewer)

    book = load_workbook(io.BytesIO(client.get(f"/projects/{project.slug}/dashboard/export.xlsx").content))
    names = [row[1] for row in book["Team talks"].iter_rows(values_only=True)]
    assert '\'=HYPERLINK("https://evil.example","Open")' in names
    assert not any(str(name).startswith("=") for name in names)
    csv = client.get(f"/projects/{project.slug}/dashboard/export.csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in csv and not any(f"{c}=HYPERLINK" in csv for c in ";,\"")


def test_without_a_cascade_the_exports_have_no_team_talks_sheet(client, project, viewer):
    from campaigns.analytics.exports import dashboard_sheets

    analytics.analytics_refresh(project=project)
    assert "Team talks" not in [sheet.title for sheet in dashboard_sheets(selectors.dashboard(project=project))]


@pytest.mark.parametrize("mode", ["individual", "anonymous", "aggregate"])
def test_the_dashboard_keeps_its_query_count_with_a_cascade(client, project, owner, viewer, mode):
    ChangeProject.objects.filter(pk=project.pk).update(tracking_mode=mode)
    project.refresh_from_db()
    client.force_login(viewer)
    briefed(project, owner, managers=2)
    analytics.analytics_refresh(project=project)
    url = f"/projects/{project.slug}/dashboard/"
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200

    asset, bosses, _reports = briefed(project, owner, managers=30, prefix="b")
    for boss in bosses[:10]:
        confirm(TeamTalk.objects.get(manager=boss))
    analytics.analytics_refresh(project=project)
    with CaptureQueriesContext(connection) as big:
        assert client.get(url).status_code == 200

    assert len(small) == len(big) == 12  # the dashboard's pinned count: the cascade comes with the figures


def test_the_refresh_counts_the_cascade_in_one_query(project, owner):
    asset, bosses, _reports = briefed(project, owner, managers=5)
    from campaigns.analytics.services import _cascade_figures

    with CaptureQueriesContext(connection) as queries:
        figures = _cascade_figures(project, per_group=True)
    assert len(queries) == 1
    assert figures[("project", "talks_briefed", None, "", None, "")] == 5


def test_late_managers_get_one_reminder_then_are_on_the_late_list(client, project, owner, editor):
    asset, bosses, _reports = briefed(project, owner, managers=3, talk_by_days=-400)
    confirm(TeamTalk.objects.get(manager=bosses[0]))
    mail.outbox.clear()

    assert team_talks_remind_due() == 2
    assert team_talks_remind_due() == 0  # once only

    assert sorted(m.to[0] for m in mail.outbox) == ["chef1@example.se", "chef2@example.se"]
    talk = TeamTalk.objects.get(manager=bosses[1])
    assert f"/tt/{talk.token}/" in mail.outbox[0].body
    assert mail.outbox[0].extra_headers["Auto-Submitted"] == "auto-generated"
    client.force_login(editor)
    page = client.get(asset.get_absolute_url()).content.decode()
    assert 'id="late-list"' in page
    assert "Chef1 Ledare" in page and "Chef2 Ledare" in page and "Chef0 Ledare" not in page.split('id="late-list"')[1]


def test_no_reminder_before_the_date_or_for_a_cancelled_talk(project, owner):
    briefed(project, owner, managers=2, talk_by_days=3000)
    asset, _bosses, _reports = briefed(project, owner, managers=2, prefix="c", talk_by_days=-400)
    Asset.objects.filter(pk=asset.pk).update(status=Asset.Status.CANCELLED)

    assert team_talks_remind_due() == 0
    assert not mail.outbox


def test_the_skip_level_manager_sees_their_managers_completion_on_their_own_link(client, project, owner):
    director = make_employee("direktor@example.se", first_name="Dir", last_name="Ektör", department="Ledning")
    bosses, reports = make_teams(managers=2, size=2)
    for boss in bosses:
        boss.manager_employee = director
        boss.save()
    asset = make_team_talk(project, owner, make_audience(project, *reports, *bosses))
    for person in (director, *bosses):
        Delivery.objects.create(asset=asset, employee=person, message_id=f"<{person.pk}@example.se>")
    team_talks_create(asset=asset)
    confirm(TeamTalk.objects.get(manager=bosses[0]))

    page = client.get(f"/tt/{TeamTalk.objects.get(manager=director).token}/").content.decode()

    assert "Your managers&#x27; team talks" in page or "Your managers' team talks" in page
    assert "Chef0 Ledare: held" in page and "Chef1 Ledare: <strong>not confirmed yet" in page
    # A manager without managers below them sees no such list.
    assert "team talks</h2>" not in client.get(f"/tt/{TeamTalk.objects.get(manager=bosses[1]).token}/").content.decode()


# Readiness by manager ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["individual", "anonymous"])
def test_readiness_compares_teams_whose_talk_was_held_with_the_others(project, owner, mode):
    from campaigns.tests.dashboard_helpers import answer

    ChangeProject.objects.filter(pk=project.pk).update(tracking_mode=mode, anonymity_threshold=3)
    project.refresh_from_db()
    asset, bosses, reports = briefed(project, owner, managers=2, size=4)
    confirm(TeamTalk.objects.get(manager=bosses[0]))
    for person in reports[:4]:  # team 0: talk held
        answer(project, person, all=(4, 4, 4, 4, 4))
    for person in reports[4:6]:  # team 1: not held, two answers only (below the threshold of 3)
        answer(project, person, all=(2, 2, 2, 2, 2))
    answer(project, None, all=(1, 1, 1, 1, 1))  # the general link: no team, not counted here
    analytics.analytics_refresh(project=project)

    (held_label, held), (not_label, not_held) = selectors.dashboard(project=project).readiness_by_talk

    assert held_label == "Teams whose talk was held"
    assert [(c.average, c.answers, c.hidden) for c in held][:2] == [(4.0, 4, False), (4.0, 4, False)]
    assert all(c.hidden and c.average is None and c.answers == 2 for c in not_held)


def test_readiness_by_manager_is_not_shown_in_aggregate_mode(project, owner):
    ChangeProject.objects.filter(pk=project.pk).update(tracking_mode="aggregate")
    project.refresh_from_db()
    briefed(project, owner)
    analytics.analytics_refresh(project=project)

    board = selectors.dashboard(project=project)

    assert board.cascade is not None and board.readiness_by_talk == []
    assert board.cascade_departments == [] and board.cascade_sites == []
