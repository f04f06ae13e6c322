from collections import Counter

import pytest
from django.core.exceptions import ValidationError

from audiences import selectors, services
from audiences.models import Audience, AudienceMember, Employee
from audiences.tests.factories import make_employee, make_list_audience, rules

pytestmark = pytest.mark.django_db


def test_audience_create_by_rules_keeps_clean_rules(project, owner):
    audience = services.audience_create(
        project=project,
        by=owner,
        name="Ekonomi",
        rules=rules(("department", "in", [" Ekonomi ", ""]), ("site", "in", [])),
    )
    assert audience.kind == Audience.Kind.RULES
    assert audience.rules == {"combine": "and", "rules": [{"field": "department", "op": "in", "values": ["Ekonomi"]}]}
    assert audience.created_by == owner


def test_audience_create_refuses_unknown_fields_and_writes_nothing(project, owner):
    with pytest.raises(ValidationError):
        services.audience_create(project=project, by=owner, name="Bad", rules=rules(("password", "in", ["x"])))
    with pytest.raises(ValidationError):
        services.audience_create(project=project, by=owner, name="Bad", rules=rules(("site", "startswith", ["x"])))
    assert not Audience.objects.filter(name="Bad").exists()


def test_audience_names_are_unique_within_a_project(project, owner):
    services.audience_create(project=project, by=owner, name="Ekonomi")
    with pytest.raises(ValidationError):
        services.audience_create(project=project, by=owner, name="Ekonomi")
    assert project.audiences.count() == 1


def test_audience_create_as_a_list_adds_its_members(project, owner):
    anna, bo = make_employee("Anna"), make_employee("Bo")
    audience = services.audience_create(
        project=project, by=owner, name="Grupp", kind=Audience.Kind.LIST, members=[anna, bo], is_cross_functional=True
    )
    assert set(audience.members.all()) == {anna, bo}
    assert audience.is_cross_functional


def test_audience_update_replaces_name_and_rules(project, owner):
    audience = services.audience_create(project=project, by=owner, name="Ekonomi")
    services.audience_update(audience=audience, by=owner, name="IT", rules=rules(("department", "in", ["IT"])))
    audience.refresh_from_db()
    assert audience.name == "IT"
    assert audience.rules["rules"][0]["values"] == ["IT"]


def test_audience_delete_keeps_the_employees(project, owner):
    anna = make_employee("Anna")
    audience = make_list_audience(project, "Grupp", [anna])
    services.audience_delete(audience=audience, by=owner)
    assert not Audience.objects.filter(pk=audience.pk).exists()
    assert Employee.objects.filter(pk=anna.pk).exists()


def test_list_members_can_be_added_and_removed(project):
    anna = make_employee("Anna")
    audience = make_list_audience(project, "Grupp")
    assert services.audience_member_add(audience=audience, employee=anna) is True
    assert services.audience_member_add(audience=audience, employee=anna) is False
    assert audience.members.count() == 1
    assert services.audience_member_remove(audience=audience, employee=anna) is True
    assert services.audience_member_remove(audience=audience, employee=anna) is False
    assert audience.members.count() == 0


def test_a_rules_audience_has_no_hand_picked_members(project, owner):
    audience = services.audience_create(project=project, by=owner, name="Alla")
    with pytest.raises(ValidationError):
        services.audience_member_add(audience=audience, employee=make_employee("Anna"))
    assert not AudienceMember.objects.exists()


def test_pasting_emails_adds_known_people_and_reports_the_rest(project):
    anna = make_employee("Anna", email="anna.andersson@norrstrom.se")
    bo = make_employee("Bo", email="bo.berg@norrstrom.se")
    gone = make_employee("Gone", email="gone@norrstrom.se", is_active=False)
    audience = make_list_audience(project, "Grupp", [bo])
    text = "ANNA.andersson@norrstrom.se; bo.berg@norrstrom.se,\nnobody@norrstrom.se\nGone <gone@norrstrom.se>\nnot-an-email@"

    result = services.audience_add_emails(audience=audience, text=text)

    assert result.added == [anna]
    assert result.already == [bo]
    assert result.unknown == ["nobody@norrstrom.se"]
    assert result.inactive == ["gone@norrstrom.se"]
    assert result.invalid == ["not-an-email@"]
    assert set(audience.members.all()) == {anna, bo}
    assert gone not in audience.members.all()


def test_erasure_anonymises_the_person(owner):
    anna = make_employee("Anna", email="anna@norrstrom.se", title="Controller", manager="Bo Berg", extra={"x": "1"})

    services.employee_erase(employee=anna, by=owner)

    anna.refresh_from_db()
    assert (anna.first_name, anna.last_name, anna.title, anna.manager) == ("", "", "", "")
    assert anna.email.endswith("@erased.invalid")
    assert "anna" not in anna.email
    assert anna.employee_number is None
    assert anna.extra == {}
    assert anna.is_active is False
    assert anna.erased_at is not None
    assert anna.department == "Ekonomi"


def test_erased_emails_are_unique(owner):
    first, second = make_employee("A"), make_employee("B")
    services.employee_erase(employee=first, by=owner)
    services.employee_erase(employee=second, by=owner)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.email != second.email


def test_erasure_keeps_aggregate_rows_and_removes_the_person_from_sending(project, owner):
    anna = make_employee("Anna")
    audience = make_list_audience(project, "Grupp", [anna])

    services.employee_erase(employee=anna, by=owner)

    assert AudienceMember.objects.filter(audience=audience, employee=anna).exists()
    assert Employee.objects.filter(pk=anna.pk).exists()
    assert not selectors.audience_members(audience=audience).exists()


def test_erasing_twice_is_harmless(owner):
    anna = make_employee("Anna")
    first = services.employee_erase(employee=anna, by=owner)
    second = services.employee_erase(employee=anna, by=owner)
    assert first.email == second.email
    assert first.erased_at == second.erased_at


@pytest.fixture
def organisation():
    people = []
    for department, count in (("Ekonomi", 10), ("IT", 10), ("HR", 2), ("Kundservice", 10)):
        for i in range(count):
            site = ("Västerås", "Stockholm")[i % 2]
            people.append(make_employee(f"{department}{i}", department=department, site=site))
    make_employee("Sleeping", department="IT", is_active=False)
    return people


def test_cross_functional_proposal_balances_departments(organisation):
    proposal = services.cross_functional_proposal(size=9, departments=["Ekonomi", "IT", "Kundservice"], seed=1)
    assert len(proposal) == 9
    assert Counter(e.department for e in proposal) == {"Ekonomi": 3, "IT": 3, "Kundservice": 3}
    assert all(e.is_active for e in proposal)


def test_cross_functional_proposal_fills_up_from_others_when_a_department_runs_out(organisation):
    proposal = services.cross_functional_proposal(size=8, departments=["HR", "IT", "Ekonomi"], seed=2)
    counts = Counter(e.department for e in proposal)
    assert counts["HR"] == 2
    assert counts["IT"] == counts["Ekonomi"] == 3


def test_cross_functional_proposal_balances_sites_when_given(organisation):
    proposal = services.cross_functional_proposal(
        size=8, departments=["Ekonomi", "IT"], sites=["Västerås", "Stockholm"], seed=3
    )
    assert Counter(e.site for e in proposal) == {"Västerås": 4, "Stockholm": 4}
    assert Counter(e.department for e in proposal) == {"Ekonomi": 4, "IT": 4}


def test_cross_functional_proposal_only_picks_from_the_given_sites(organisation):
    proposal = services.cross_functional_proposal(size=30, departments=["IT"], sites=["Stockholm"], seed=4)
    assert len(proposal) == 5
    assert {e.site for e in proposal} == {"Stockholm"}


def test_the_same_seed_gives_the_same_proposal(organisation):
    def propose():
        return services.cross_functional_proposal(size=6, departments=["Ekonomi", "IT"], seed=42)

    assert propose() == propose()
    assert len(set(propose())) == 6
