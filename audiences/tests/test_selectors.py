import pytest
from django.utils import timezone

from audiences import selectors
from audiences.tests.factories import make_employee, make_list_audience, make_rules_audience, rules

pytestmark = pytest.mark.django_db


def names(employees) -> set[str]:
    return {e.first_name for e in employees}


@pytest.fixture
def staff():
    return {
        "anna": make_employee("Anna", department="Ekonomi", site="Västerås", title="Controller"),
        "bo": make_employee("Bo", department="Ekonomi", site="Stockholm", title="Ekonomiassistent"),
        "cecilia": make_employee(
            "Cecilia",
            department="IT",
            site="Västerås",
            title="Systemutvecklare",
            extra={"kostnadsställe": "4100", "skift": "dag"},
        ),
        "david": make_employee(
            "David", department="IT", site="Örebro", title="IT-tekniker", extra={"kostnadsställe": "4200"}
        ),
        "eva": make_employee(
            "Eva", department="Kundservice", site="Västerås", title="Teamledare kundservice", language="en"
        ),
    }


def test_is_any_of_matches_the_listed_values(project, staff):
    audience = make_rules_audience(project, "Ekonomi", rules(("department", "in", ["Ekonomi", "Kundservice"])))
    assert names(selectors.audience_members(audience=audience)) == {"Anna", "Bo", "Eva"}


def test_is_not_excludes_the_listed_values(project, staff):
    audience = make_rules_audience(project, "Not IT", rules(("department", "not_in", ["IT"])))
    assert names(selectors.audience_members(audience=audience)) == {"Anna", "Bo", "Eva"}


def test_contains_matches_part_of_a_value_ignoring_case(project, staff):
    audience = make_rules_audience(project, "Teknik", rules(("title", "contains", ["TEKNIKER", "utvecklare"])))
    assert names(selectors.audience_members(audience=audience)) == {"Cecilia", "David"}


def test_and_requires_every_rule(project, staff):
    definition = rules(("department", "in", ["Ekonomi", "IT"]), ("site", "in", ["Västerås"]))
    audience = make_rules_audience(project, "Västerås", definition)
    assert names(selectors.audience_members(audience=audience)) == {"Anna", "Cecilia"}


def test_or_requires_any_rule(project, staff):
    definition = rules(("department", "in", ["Kundservice"]), ("site", "in", ["Örebro"]), combine="or")
    audience = make_rules_audience(project, "Either", definition)
    assert names(selectors.audience_members(audience=audience)) == {"David", "Eva"}


def test_language_and_email_are_rule_fields(project, staff):
    by_language = make_rules_audience(project, "English", rules(("language", "in", ["en"])))
    by_email = make_rules_audience(project, "Anna", rules(("email", "contains", ["anna."])))
    assert names(selectors.audience_members(audience=by_language)) == {"Eva"}
    assert names(selectors.audience_members(audience=by_email)) == {"Anna"}


def test_emails_are_matched_regardless_of_case(project, staff):
    email = staff["bo"].email
    by_list = make_rules_audience(project, "Bo", rules(("email", "in", [email.upper()])))
    not_bo = make_rules_audience(project, "Not Bo", rules(("email", "not_in", [email.upper()])))
    assert names(selectors.audience_members(audience=by_list)) == {"Bo"}
    assert "Bo" not in names(selectors.audience_members(audience=not_bo))


def test_extra_attributes_can_be_matched(project, staff):
    audience = make_rules_audience(project, "4100", rules(("extra.kostnadsställe", "in", ["4100"])))
    assert names(selectors.audience_members(audience=audience)) == {"Cecilia"}


def test_extra_attribute_contains_ignores_case(project, staff):
    audience = make_rules_audience(project, "Dag", rules(("extra.skift", "contains", ["DA"])))
    assert names(selectors.audience_members(audience=audience)) == {"Cecilia"}


def test_extra_attribute_is_not_includes_people_without_the_attribute(project, staff):
    audience = make_rules_audience(project, "Not 4100", rules(("extra.kostnadsställe", "not_in", ["4100"])))
    assert names(selectors.audience_members(audience=audience)) == {"Anna", "Bo", "David", "Eva"}


def test_an_extra_key_with_double_underscores_is_taken_literally(project, staff):
    staff["anna"].extra = {"a__b": "x"}
    staff["anna"].save()
    audience = make_rules_audience(project, "Odd key", rules(("extra.a__b", "in", ["x"])))
    assert names(selectors.audience_members(audience=audience)) == {"Anna"}


def test_no_rules_means_everyone(project, staff):
    audience = make_rules_audience(project, "Alla", {"combine": "and", "rules": []})
    assert selectors.audience_members(audience=audience).count() == 5


def test_inactive_and_erased_people_are_never_members(project, staff):
    staff["anna"].is_active = False
    staff["anna"].save()
    staff["bo"].erased_at = timezone.now()
    staff["bo"].save()
    by_rules = make_rules_audience(project, "Ekonomi", rules(("department", "in", ["Ekonomi"])))
    by_list = make_list_audience(project, "Hand-picked", [staff["anna"], staff["bo"], staff["eva"]])
    assert names(selectors.audience_members(audience=by_rules)) == set()
    assert names(selectors.audience_members(audience=by_list)) == {"Eva"}


def test_list_audience_holds_exactly_its_members(project, staff):
    audience = make_list_audience(project, "Referensgrupp", [staff["anna"], staff["david"]])
    assert names(selectors.audience_members(audience=audience)) == {"Anna", "David"}


@pytest.mark.parametrize("people", [3, 60])
def test_resolving_an_audience_is_one_query_whatever_its_size(project, django_assert_num_queries, people):
    everyone = [
        make_employee(f"P{i}", department="IT" if i % 2 else "Ekonomi", extra={"skift": "natt"}) for i in range(people)
    ]
    definition = rules(
        ("department", "in", ["IT", "Ekonomi"]), ("extra.skift", "contains", ["nat"]), ("site", "not_in", ["Umeå"])
    )
    by_rules = make_rules_audience(project, "Big", definition)
    by_list = make_list_audience(project, "List", everyone)

    with django_assert_num_queries(1):
        assert len(list(selectors.audience_members(audience=by_rules))) == people
    with django_assert_num_queries(1):
        assert len(list(selectors.audience_members(audience=by_list))) == people


def test_sizes_and_overlaps_of_a_projects_audiences(project, staff, django_assert_num_queries):
    ekonomi = make_rules_audience(project, "Ekonomi", rules(("department", "in", ["Ekonomi"])))
    vasteras = make_rules_audience(project, "Västerås", rules(("site", "in", ["Västerås"])))
    group = make_list_audience(project, "Grupp", [staff["anna"], staff["david"]])

    with django_assert_num_queries(2):
        overview = selectors.audience_sizes_and_overlaps(project=project)

    assert overview.sizes == {ekonomi.pk: 2, vasteras.pk: 3, group.pk: 2}
    assert overview.overlap(ekonomi, vasteras) == 1  # Anna
    assert overview.overlap(ekonomi, group) == 1  # Anna
    assert overview.overlap(vasteras, group) == 1  # Anna
    rows = {row["audience"].name: row for row in overview.rows()}
    assert rows["Grupp"]["size"] == 2
    assert rows["Grupp"]["overlaps"] == [1, None, 1]  # ordered by name: Ekonomi, Grupp, Västerås


def test_a_project_without_audiences_has_an_empty_overview(project):
    assert selectors.audience_sizes_and_overlaps(project=project).rows() == []


def test_employee_audiences_lists_only_audiences_in_the_users_projects(project, staff, owner, outsider):
    from campaigns.projects import services as campaign_services

    other = campaign_services.project_create(by=outsider, name="Annat projekt", go_live="2027-01-01")
    make_rules_audience(project, "Ekonomi", rules(("department", "in", ["Ekonomi"])))
    make_rules_audience(project, "IT", rules(("department", "in", ["IT"])))
    make_list_audience(project, "Grupp", [staff["anna"]])
    make_rules_audience(other, "Hemligt", rules(("department", "in", ["Ekonomi"])))

    found = selectors.employee_audiences(employee=staff["anna"], user=owner)

    assert [a.name for a in found] == ["Ekonomi", "Grupp"]


def test_employee_search_matches_every_word_and_filters(staff):
    assert names(selectors.employee_search(query="anna controller")) == {"Anna"}
    assert names(selectors.employee_search(department="IT")) == {"Cecilia", "David"}
    assert names(selectors.employee_search(department="IT", site="Örebro")) == {"David"}
    staff["eva"].is_active = False
    staff["eva"].save()
    assert "Eva" not in names(selectors.employee_search(active=True))
    assert names(selectors.employee_search(active=False)) == {"Eva"}


def test_directory_facets_list_distinct_values(staff):
    facets = selectors.directory_facets()
    assert sorted(facets["departments"]) == ["Ekonomi", "IT", "Kundservice"]
    assert sorted(facets["sites"]) == ["Stockholm", "Västerås", "Örebro"]
