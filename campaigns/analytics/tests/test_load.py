"""The organisation's change load: people hit by too many launch assets in one week, per department."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from audiences.models import Audience, Employee
from campaigns.analytics import load
from campaigns.models import Asset
from campaigns.projects import services

# The project fixture goes live on Monday 1 March 2027; T−28 is Monday 1 February (ISO week 5).
WEEK = datetime.date(2027, 2, 1)
NEXT_WEEK = WEEK + datetime.timedelta(weeks=1)
URL = reverse("campaigns:organisation_load")


def _employee(email: str, department: str, **fields) -> Employee:
    return Employee.objects.create(email=email, first_name=email.split("@")[0], department=department, **fields)


def _asset(project, title: str, audiences, *, channel="email", offset_days=-28, **fields) -> Asset:
    asset = Asset.objects.create(
        project=project, title=title, channel=channel, stage="awareness", offset_days=offset_days, **fields
    )
    asset.audiences.set(audiences)
    return asset


@pytest.fixture
def org(project, owner, outsider):
    """Ekonomi: Eva (active), Erik (active), Elsa (left); IT: Ivar. Four assets in week 5, one cancelled."""
    eva = _employee("eva@example.se", "Ekonomi")
    erik = _employee("erik@example.se", "Ekonomi")
    _employee("elsa@example.se", "Ekonomi", is_active=False)
    ivar = _employee("ivar@example.se", "IT")
    ekonomi = Audience.objects.create(
        project=project,
        name="Ekonomi",
        rules={"combine": "and", "rules": [{"field": "department", "op": "in", "values": ["Ekonomi"]}]},
    )
    picked = Audience.objects.create(project=project, name="Utvalda", kind=Audience.Kind.LIST)
    picked.members.add(eva, ivar)
    other = services.project_create(by=outsider, name="Tidrapportering", lede="x", go_live="2027-02-03")
    others_audience = Audience.objects.create(project=other, name="Eva och Ivar", kind=Audience.Kind.LIST)
    others_audience.members.add(eva, ivar)

    # Eva is in both audiences of the first email: it reaches her once.
    _asset(project, "Sponsorns varför", [ekonomi, picked])
    _asset(project, "Informationsträff", [ekonomi], channel="meeting", offset_days=-26)
    _asset(project, "Nyhet", [ekonomi], channel="news", offset_days=-22)  # Sunday 7 February, still week 5
    _asset(project, "Inställt mejl", [ekonomi], status=Asset.Status.CANCELLED)
    _asset(project, "Nästa vecka", [ekonomi], offset_days=-21)  # Monday 8 February: week 6
    fixed = timezone.make_aware(datetime.datetime(2027, 2, 3, 10, 0))
    _asset(other, "Affisch", [others_audience], channel="poster", offset_days=None, fixed_at=fixed)
    return {"eva": eva, "erik": erik, "ivar": ivar, "other": other}


def _cells(result) -> dict[str, dict[datetime.date, load.Cell]]:
    return {row.department: {cell.week: cell for cell in row.cells} for row in result.rows}


def test_it_counts_people_hit_by_more_than_the_threshold(org):
    # Eva: 4 assets in week 5 (email, meeting, news, poster). Erik: 3. Ivar: 2 (email, poster).
    result = load.organisation_load(start=WEEK, threshold=3, weeks=2)
    cells = _cells(result)
    assert result.weeks == [WEEK, NEXT_WEEK]
    assert (cells["Ekonomi"][WEEK].targeted, cells["Ekonomi"][WEEK].overloaded) == (2, 1)
    assert (cells["IT"][WEEK].targeted, cells["IT"][WEEK].overloaded) == (1, 0)
    assert (cells["Ekonomi"][NEXT_WEEK].targeted, cells["Ekonomi"][NEXT_WEEK].overloaded) == (2, 0)
    assert (cells["IT"][NEXT_WEEK].targeted, cells["IT"][NEXT_WEEK].overloaded) == (0, 0)


def test_exactly_the_threshold_is_not_more_than_it(org):
    cells = _cells(load.organisation_load(start=WEEK, threshold=4, weeks=1))
    assert cells["Ekonomi"][WEEK].overloaded == 0  # Eva's four assets are not more than four
    cells = _cells(load.organisation_load(start=WEEK, threshold=2, weeks=1))
    assert cells["Ekonomi"][WEEK].overloaded == 2  # Eva 4 and Erik 3
    assert cells["IT"][WEEK].overloaded == 0  # Ivar: 2


def test_overlapping_audiences_count_an_employee_once_per_asset(org):
    # Counted once per audience, Eva would have 5 assets and be over a threshold of 4.
    cells = _cells(load.organisation_load(start=WEEK, threshold=4, weeks=1))
    assert cells["Ekonomi"][WEEK].overloaded == 0


def test_inactive_and_erased_employees_are_left_out(org):
    Employee.objects.filter(pk=org["erik"].pk).update(erased_at=timezone.now())
    result = load.organisation_load(start=WEEK, threshold=2, weeks=1)
    [ekonomi] = [row for row in result.rows if row.department == "Ekonomi"]
    assert ekonomi.size == 1  # Elsa left, Erik was erased
    assert (ekonomi.cells[0].targeted, ekonomi.cells[0].overloaded) == (1, 1)


def test_cancelled_assets_do_not_count(org, project):
    cells = _cells(load.organisation_load(start=WEEK, threshold=3, weeks=1))
    assert cells["Ekonomi"][WEEK].overloaded == 1  # Erik's 3 would be 4 with the cancelled email
    Asset.objects.filter(project=project, title="Nyhet").update(status=Asset.Status.CANCELLED)
    cells = _cells(load.organisation_load(start=WEEK, threshold=2, weeks=1))
    assert cells["Ekonomi"][WEEK].overloaded == 1  # now Eva 3, Erik 2


def test_moving_go_live_moves_the_load(org, project):
    project.go_live = datetime.date(2027, 3, 8)
    project.save()
    cells = _cells(load.organisation_load(start=WEEK, threshold=0, weeks=2))
    # Week 5 keeps only the other project's poster, for Eva and Ivar.
    assert cells["Ekonomi"][WEEK].targeted == 1 and cells["IT"][WEEK].targeted == 1
    assert cells["Ekonomi"][NEXT_WEEK].targeted == 2


def test_the_detail_names_only_the_viewers_projects(org, owner):
    result = load.organisation_load(start=WEEK, threshold=3, weeks=1, user=owner, detail=("Ekonomi", WEEK))
    detail = result.detail
    assert [(c.asset.title, c.reached) for c in detail.own] == [
        ("Informationsträff", 2),
        ("Nyhet", 2),
        ("Sponsorns varför", 2),
    ]
    assert (detail.other_assets, detail.other_projects) == (1, 1)
    assert "Affisch" not in [c.asset.title for c in detail.own]


# The page


@pytest.fixture
def change_manager(make_user):
    user = make_user("forandringsledare")
    user.groups.add(Group.objects.get_or_create(name=load.CHANGE_MANAGERS_GROUP)[0])
    return user


def test_a_change_manager_sees_the_grid_and_the_detail(client, org, change_manager, owner):
    client.force_login(owner)
    owner.groups.add(Group.objects.get_or_create(name=load.CHANGE_MANAGERS_GROUP)[0])
    params = {"threshold": 3, "start": "2027-W05", "department": "Ekonomi", "week": "2027-W05"}
    with translation.override("en"):
        response = client.get(URL, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Change load across projects" in page
    assert "Sponsorns varför" in page and "Informationsträff" in page
    assert "Affisch" not in page and "Tidrapportering" not in page
    assert "1 asset in other projects" in page
    # Counts only: nobody in the directory is named.
    for person in ("eva@example.se", "erik@example.se", "ivar@example.se"):
        assert person not in page and person.split("@")[0] not in page
    assert response.context["load"].detail.cell.overloaded == 1


def test_a_staff_user_sees_the_page(client, org, make_user):
    client.force_login(make_user("personal", is_staff=True))
    assert client.get(URL, {"start": "2027-W05"}).status_code == 200


@pytest.mark.parametrize("role", ["owner", "viewer", "outsider"])
def test_anyone_else_gets_a_404(client, org, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(URL).status_code == 404


def test_anonymous_is_sent_to_the_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_bad_form_falls_back_to_the_defaults(client, change_manager):
    client.force_login(change_manager)
    response = client.get(URL, {"threshold": "-1", "start": "../etc", "week": "nope", "department": "x"})
    assert response.status_code == 200
    assert response.context["load"].threshold == load.DEFAULT_THRESHOLD
    assert response.context["load"].weeks[0] == load.week_start(timezone.localdate())
    assert response.context["load"].detail is None
    assert response.context["form"].errors


def test_the_project_list_links_to_it_for_change_managers_only(client, change_manager, owner, project):
    client.force_login(change_manager)
    assert URL in client.get(reverse("campaigns:project_list")).content.decode()
    client.force_login(owner)
    assert URL not in client.get(reverse("campaigns:project_list")).content.decode()


def test_a_project_cannot_take_the_pages_slug(owner):
    assert services.project_create(by=owner, name="Load", lede="x", go_live="2027-01-01").slug == "load-2"


@pytest.mark.parametrize("people", [4, 40])
def test_the_query_count_does_not_grow_with_the_employees(client, org, change_manager, people):
    departments = ["Ekonomi", "IT", "Lager", "Drift"]
    Employee.objects.bulk_create(
        Employee(email=f"p{i}@example.se", department=departments[i % 4], site="Västerås") for i in range(people)
    )
    client.force_login(change_manager)
    params = {"start": "2027-W05", "department": "Ekonomi", "week": "2027-W05"}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params)
    assert response.status_code == 200
    # session, user, the change-manager check, the menu's permissions (2), assets, their audiences,
    # the audiences, the directory grouped by department and audiences, the viewer's projects
    assert len(queries) == 10, "\n".join(q["sql"] for q in queries.captured_queries)
