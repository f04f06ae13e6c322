import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from openpyxl import load_workbook

from audiences.models import Audience, AudienceMember, Employee
from audiences.tests.factories import make_employee, make_list_audience, make_rules_audience, rules

pytestmark = pytest.mark.django_db

HOSTILE = "<img src=x onerror=alert(1)>"


def grant(user, *codenames: str):
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="audiences", codename__in=codenames))
    return user


@pytest.fixture
def hr(make_user):
    """Someone who may read the directory and erase people."""
    return grant(make_user("hr"), "view_employee", "change_employee")


@pytest.fixture
def staff():
    return {
        "anna": make_employee("Anna", "Andersson", department="Ekonomi", site="Västerås", email="anna@norrstrom.se"),
        "bo": make_employee("Bo", "Berg", department="Ekonomi", site="Stockholm", email="bo@norrstrom.se"),
        "cecilia": make_employee("Cecilia", "Ceder", department="IT", site="Västerås", email="cecilia@norrstrom.se"),
        "david": make_employee("David", "Dahl", department="IT", site="Örebro", email="david@norrstrom.se"),
    }


def rules_post(name: str, *rows: tuple[str, str, str, str], combine: str = "and", **extra) -> dict:
    data = {
        "name": name,
        "description": "",
        "combine": combine,
        "rule-TOTAL_FORMS": str(len(rows)),
        "rule-INITIAL_FORMS": "0",
        "rule-MIN_NUM_FORMS": "0",
        "rule-MAX_NUM_FORMS": "1000",
    }
    for i, (field, extra_key, op, values) in enumerate(rows):
        data.update(
            {f"rule-{i}-field": field, f"rule-{i}-extra_key": extra_key, f"rule-{i}-op": op, f"rule-{i}-values": values}
        )
    data.update(extra)
    return data


# The directory


def test_the_directory_needs_the_view_permission(client, viewer):
    client.force_login(viewer)
    assert client.get(reverse("audiences:employee_list")).status_code == 403


def test_the_directory_searches_and_filters(client, hr, staff):
    client.force_login(hr)
    response = client.get(reverse("audiences:employee_list"), {"department": "IT", "site": "Örebro"})
    assert response.status_code == 200
    assert [e.first_name for e in response.context["page"]] == ["David"]
    response = client.get(reverse("audiences:employee_list"), {"q": "bo berg"})
    assert [e.first_name for e in response.context["page"]] == ["Bo"]


@pytest.mark.parametrize("people", [3, 120])
def test_a_directory_page_costs_the_same_queries_however_many_people(client, hr, django_assert_num_queries, people):
    for i in range(people):
        make_employee(f"P{i}", department=f"D{i % 7}", site=f"S{i % 3}")
    client.force_login(hr)
    # session, user, permissions (2), departments, sites, count, page
    with django_assert_num_queries(8):
        response = client.get(reverse("audiences:employee_list"), {"active": "yes", "page": 2 if people > 50 else 1})
    assert response.status_code == 200
    assert len(response.context["page"]) == min(people, 50)


def test_the_directory_paginates_by_fifty_and_keeps_the_filters(client, hr):
    for i in range(60):
        make_employee(f"P{i}", department="IT")
    client.force_login(hr)
    response = client.get(reverse("audiences:employee_list"), {"department": "IT"})
    assert len(response.context["page"]) == 50
    assert b"department=IT&amp;page=2" in response.content


def test_hostile_names_are_shown_escaped(client, hr, project, owner):
    evil = make_employee(HOSTILE, HOSTILE, department=HOSTILE)
    make_list_audience(project, HOSTILE, [evil])
    grant(owner, "view_employee")
    client.force_login(owner)
    pages = [
        reverse("audiences:employee_list"),
        evil.get_absolute_url(),
        reverse("audiences:audience_list", args=[project.slug]),
        Audience.objects.get(name=HOSTILE).get_absolute_url(),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert HOSTILE.encode() not in response.content, url
        assert b"&lt;img src=x onerror=alert(1)&gt;" in response.content, url


def test_employee_detail_shows_audiences_of_the_users_projects_only(client, project, owner, outsider, staff):
    from campaigns.projects import services as campaign_services

    other = campaign_services.project_create(by=outsider, name="Hemligt projekt", go_live="2027-01-01")
    make_rules_audience(project, "Ekonomer", rules(("department", "in", ["Ekonomi"])))
    make_rules_audience(other, "Hemlig målgrupp", rules(("department", "in", ["Ekonomi"])))
    client.force_login(grant(owner, "view_employee"))

    response = client.get(staff["anna"].get_absolute_url())

    assert [a.name for a in response.context["audiences"]] == ["Ekonomer"]
    assert "Hemlig målgrupp" not in response.content.decode()


def test_erasing_asks_for_confirmation_then_anonymises(client, hr, project, staff):
    anna = staff["anna"]
    make_list_audience(project, "Grupp", [anna])
    client.force_login(hr)
    url = reverse("audiences:employee_erase", args=[anna.pk])

    assert client.get(url).status_code == 200
    anna.refresh_from_db()
    assert anna.erased_at is None

    response = client.post(url)
    assert response.status_code == 302
    anna.refresh_from_db()
    assert anna.erased_at is not None
    assert anna.first_name == ""
    assert AudienceMember.objects.filter(employee=anna).exists()


def test_erasing_needs_the_change_permission(client, make_user, staff):
    reader = grant(make_user("reader"), "view_employee")
    client.force_login(reader)
    response = client.post(reverse("audiences:employee_erase", args=[staff["anna"].pk]))
    assert response.status_code == 403
    staff["anna"].refresh_from_db()
    assert staff["anna"].first_name == "Anna"


def test_the_directory_export_respects_the_filters(client, hr, staff):
    staff["cecilia"].title = "=cmd|' /C calc'!A0"
    staff["cecilia"].save()
    client.force_login(hr)
    response = client.get(reverse("audiences:employee_export_csv"), {"department": "IT"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))  # Swedish Excel
    assert sorted(r[3] for r in rows[1:]) == ["cecilia@norrstrom.se", "david@norrstrom.se"]
    assert "'=cmd|' /C calc'!A0" in [r[6] for r in rows]


def test_the_directory_export_carries_the_time_zone_and_imports_again_as_it_was(client, hr, staff):
    from audiences.imports import directory_import_plan

    Employee.objects.filter(pk=staff["cecilia"].pk).update(time_zone="Europe/Helsinki", language="en")
    client.force_login(hr)
    exported = client.get(reverse("audiences:employee_export_csv"), HTTP_ACCEPT_LANGUAGE="sv").content

    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig")), delimiter=";"))
    assert "Tidszon" in rows[0] and "Europe/Helsinki" in [r[rows[0].index("Tidszon")] for r in rows[1:]]
    page = client.get(reverse("audiences:employee_detail", args=[staff["cecilia"].pk])).content.decode()
    assert "Europe/Helsinki" in page
    again = directory_import_plan(source=exported)
    assert again.rejected == 0 and again.created == 0
    assert not [c for p in again.changed for c in p["changes"] if c["field"] in ("language", "time_zone")]


# A project's audiences


def test_outsiders_do_not_see_that_the_project_exists(client, outsider, project):
    client.force_login(outsider)
    assert client.get(reverse("audiences:audience_list", args=[project.slug])).status_code == 404
    assert client.get(reverse("audiences:audience_create", args=[project.slug])).status_code == 404


def test_the_audiences_page_shows_sizes_and_overlaps(client, viewer, project, staff):
    make_rules_audience(project, "Ekonomi", rules(("department", "in", ["Ekonomi"])))
    make_rules_audience(project, "Västerås", rules(("site", "in", ["Västerås"])))
    client.force_login(viewer)
    response = client.get(reverse("audiences:audience_list", args=[project.slug]))
    assert response.status_code == 200
    rows = {row["audience"].name: row for row in response.context["overview"].rows()}
    assert rows["Ekonomi"]["size"] == 2
    assert rows["Ekonomi"]["overlaps"] == [None, 1]


def test_an_editor_creates_an_audience_by_rules(client, editor, project, staff):
    client.force_login(editor)
    data = rules_post("Ekonomi i Västerås", ("department", "", "in", "Ekonomi"), ("site", "", "in", "Västerås, Umeå"))
    response = client.post(reverse("audiences:audience_create", args=[project.slug]), data)
    assert response.status_code == 302
    audience = Audience.objects.get(project=project, name="Ekonomi i Västerås")
    assert audience.rules["rules"][1] == {"field": "site", "op": "in", "values": ["Västerås", "Umeå"]}
    assert audience.created_by == editor


def test_extra_attribute_rules_are_saved_by_key(client, editor, project):
    client.force_login(editor)
    data = rules_post("Nattskift", ("extra", "skift", "contains", "natt"))
    client.post(reverse("audiences:audience_create", args=[project.slug]), data)
    audience = Audience.objects.get(name="Nattskift")
    assert audience.rules["rules"] == [{"field": "extra.skift", "op": "contains", "values": ["natt"]}]


def test_an_extra_attribute_rule_needs_a_key(client, editor, project):
    client.force_login(editor)
    data = rules_post("Nattskift", ("extra", "", "contains", "natt"))
    response = client.post(reverse("audiences:audience_create", args=[project.slug]), data)
    assert response.status_code == 200
    assert not Audience.objects.filter(name="Nattskift").exists()


def test_a_viewer_cannot_create_or_edit_audiences(client, viewer, project):
    audience = make_rules_audience(project, "Alla", rules())
    client.force_login(viewer)
    response = client.post(
        reverse("audiences:audience_create", args=[project.slug]), rules_post("Hijack", ("site", "", "in", "X"))
    )
    assert response.status_code == 403
    response = client.post(reverse("audiences:audience_edit", args=[project.slug, audience.pk]), rules_post("Renamed"))
    assert response.status_code == 403
    assert list(project.audiences.values_list("name", flat=True)) == ["Alla"]


def test_add_rule_and_preview_work_without_javascript_and_save_nothing(client, editor, project, staff):
    client.force_login(editor)
    url = reverse("audiences:audience_create", args=[project.slug])

    response = client.post(url, rules_post("IT", ("department", "", "in", "IT"), add_rule="1"))
    assert len(response.context["formset"].forms) == 2

    response = client.post(url, rules_post("IT", ("department", "", "in", "IT"), preview="1"))
    assert response.context["preview_count"] == 2
    assert {e.first_name for e in response.context["preview"]} == {"Cecilia", "David"}
    assert not Audience.objects.exists()


def test_editing_shows_the_current_rules_and_replaces_them(client, editor, project, staff):
    audience = make_rules_audience(project, "IT", rules(("department", "in", ["IT"])))
    client.force_login(editor)
    url = reverse("audiences:audience_edit", args=[project.slug, audience.pk])
    response = client.get(url)
    assert response.context["formset"].forms[0]["values"].value() == "IT"
    assert response.context["preview_count"] == 2

    client.post(url, rules_post("IT och Ekonomi", ("department", "", "in", "IT\nEkonomi")))
    audience.refresh_from_db()
    assert audience.name == "IT och Ekonomi"
    assert audience.rules["rules"][0]["values"] == ["IT", "Ekonomi"]


def test_the_live_count_answers_json_and_changes_nothing(client, viewer, project, staff):
    client.force_login(viewer)
    url = reverse("audiences:audience_count", args=[project.slug])
    response = client.get(url, rules_post("", ("department", "", "not_in", "IT")))
    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert client.post(url).status_code == 405
    assert not Audience.objects.exists()


def test_the_live_count_refuses_broken_rules(client, editor, project):
    client.force_login(editor)
    url = reverse("audiences:audience_count", args=[project.slug])
    response = client.get(url, rules_post("", ("password", "", "in", "x")))
    assert response.status_code == 400


def test_a_list_audience_takes_pasted_emails_and_reports_unknown_ones(client, editor, project, staff):
    client.force_login(editor)
    response = client.post(
        reverse("audiences:audience_create_list", args=[project.slug]),
        {"name": "Superanvändare", "emails": "anna@norrstrom.se; BO@norrstrom.se\nnobody@norrstrom.se"},
        follow=True,
    )
    audience = Audience.objects.get(name="Superanvändare")
    assert audience.kind == Audience.Kind.LIST
    assert {e.first_name for e in audience.members.all()} == {"Anna", "Bo"}
    assert "nobody@norrstrom.se" in response.content.decode()


def test_an_editor_pastes_and_removes_list_members(client, editor, project, staff):
    audience = make_list_audience(project, "Grupp", [staff["anna"]])
    client.force_login(editor)
    add = reverse("audiences:audience_members_add", args=[project.slug, audience.pk])
    remove = reverse("audiences:audience_member_remove", args=[project.slug, audience.pk])

    response = client.post(add, {"emails": "david@norrstrom.se, nobody@norrstrom.se"}, follow=True)
    assert set(audience.members.all()) == {staff["anna"], staff["david"]}
    assert "nobody@norrstrom.se" in response.content.decode()

    client.post(remove, {"employee": staff["anna"].pk})
    assert set(audience.members.all()) == {staff["david"]}


def test_a_viewer_cannot_change_list_members(client, viewer, project, staff):
    audience = make_list_audience(project, "Grupp", [staff["anna"]])
    client.force_login(viewer)
    add = reverse("audiences:audience_members_add", args=[project.slug, audience.pk])
    remove = reverse("audiences:audience_member_remove", args=[project.slug, audience.pk])
    assert client.post(add, {"emails": "bo@norrstrom.se"}).status_code == 403
    assert client.post(remove, {"employee": staff["anna"].pk}).status_code == 403
    assert set(audience.members.all()) == {staff["anna"]}


def test_an_editor_deletes_an_audience_after_confirming(client, editor, project):
    audience = make_rules_audience(project, "Alla", rules())
    client.force_login(editor)
    url = reverse("audiences:audience_delete", args=[project.slug, audience.pk])
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    assert not Audience.objects.filter(pk=audience.pk).exists()


def test_an_audience_exports_its_members_formula_safe(client, viewer, project):
    make_employee("=1+1", "@SUM(A1)", department="IT", email="formula@norrstrom.se")
    make_employee("Gone", department="IT", is_active=False)
    audience = make_rules_audience(project, "IT", rules(("department", "in", ["IT"])))
    client.force_login(viewer)

    response = client.get(reverse("audiences:audience_export_csv", args=[project.slug, audience.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))  # Swedish Excel
    assert [r[1:3] for r in rows[1:]] == [["'=1+1", "'@SUM(A1)"]]

    response = client.get(reverse("audiences:audience_export_xlsx", args=[project.slug, audience.pk]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    row = [c for c in sheet.iter_rows(min_row=2)][0]
    assert (row[1].value, row[1].data_type) == ("'=1+1", "s")
    assert sheet.max_row == 2


# The cross-functional builder


@pytest.fixture
def organisation():
    for department in ("Ekonomi", "IT", "HR"):
        for i in range(6):
            make_employee(f"{department}{i}", department=department, site=("Västerås", "Stockholm")[i % 2])


def test_the_builder_proposes_a_balanced_mix(client, editor, project, organisation):
    client.force_login(editor)
    response = client.get(
        reverse("audiences:cross_functional", args=[project.slug]),
        {"size": 6, "departments": ["Ekonomi", "IT", "HR"], "sites": ["Västerås"]},
    )
    assert response.status_code == 200
    proposal = response.context["proposal"]
    assert len(proposal) == 6
    assert dict(response.context["balance"]["departments"]) == {"Ekonomi": 2, "IT": 2, "HR": 2}
    assert {e.site for e in proposal} == {"Västerås"}


def test_the_edited_proposal_is_saved_as_a_cross_functional_list(client, editor, project, organisation):
    client.force_login(editor)
    kept = list(Employee.objects.filter(department__in=["Ekonomi", "IT"])[:3])
    added = Employee.objects.filter(department="HR").first()
    response = client.post(
        reverse("audiences:cross_functional", args=[project.slug]),
        {"name": "Referensgrupp", "employees": [e.pk for e in kept], "add_emails": added.email.upper(), "save": "1"},
    )
    assert response.status_code == 302
    audience = Audience.objects.get(name="Referensgrupp")
    assert audience.kind == Audience.Kind.LIST
    assert audience.is_cross_functional
    assert set(audience.members.all()) == {*kept, added}


def test_the_builder_refuses_unknown_emails_and_saves_nothing(client, editor, project, organisation):
    client.force_login(editor)
    response = client.post(
        reverse("audiences:cross_functional", args=[project.slug]),
        {"name": "Referensgrupp", "employees": [], "add_emails": "nobody@norrstrom.se", "save": "1"},
    )
    assert response.status_code == 200
    assert "nobody@norrstrom.se" in response.content.decode()
    assert not Audience.objects.exists()


def test_a_viewer_cannot_build_groups(client, viewer, project):
    client.force_login(viewer)
    response = client.post(reverse("audiences:cross_functional", args=[project.slug]), {"name": "X", "save": "1"})
    assert response.status_code == 403
    assert not Audience.objects.exists()


def test_typed_values_take_the_directorys_spelling_whatever_the_case_and_accents(client, editor, project, staff):
    client.force_login(editor)
    data = rules_post("Västerås", ("site", "", "in", "vasteras"), ("department", "", "in", "EKONOMI"))
    client.post(reverse("audiences:audience_create", args=[project.slug]), data)
    audience = Audience.objects.get(name="Västerås")
    assert [rule["values"] for rule in audience.rules["rules"]] == [["Västerås"], ["Ekonomi"]]


def test_a_value_nobody_has_is_named_with_the_closest_one(client, editor, project, staff, english):
    client.force_login(editor)
    url = reverse("audiences:audience_create", args=[project.slug])
    response = client.post(url, rules_post("Typo", ("department", "", "in", "Ekonmi"), preview="1"))
    page = response.content.decode()
    assert response.context["preview_count"] == 0
    assert "department is “Ekonmi”. Did you mean “Ekonomi”?" in page
    response = client.post(url, rules_post("Del", ("site", "", "contains", "vast"), preview="1"))
    assert "Did you mean “Västerås”?" in response.content.decode()  # "contains" ignores case, not accents


def test_the_editor_lists_the_directorys_values_with_counts(client, editor, project, staff):
    client.force_login(editor)
    page = client.get(reverse("audiences:audience_create", args=[project.slug])).content.decode()
    assert "Ekonomi (2)" in page and "Västerås (" in page
