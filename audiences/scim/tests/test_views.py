"""The SCIM endpoint as Entra ID and Okta use it: discovery, lookups, creates, PATCHes, leavers, pages."""

import pytest

from audiences.imports import directory_import_run
from audiences.imports.tests.import_files import csv_bytes, person
from audiences.models import Employee, EmployeeChange
from audiences.selectors import reachable_employees
from audiences.services import employee_erase
from audiences.tests.factories import make_employee

from .conftest import ENTERPRISE, SCIM, patch, user_payload

pytestmark = pytest.mark.django_db


def create(scim, user_name="anna.andersson@norrstrom.se", **extra) -> Employee:
    response = scim.post("Users", user_payload(user_name, **extra))
    assert response.status_code == 201, response.content
    return Employee.objects.get(pk=response.json()["id"])


# Discovery ---------------------------------------------------------------------------------


def test_the_configuration_claims_patch_filters_and_a_bearer_token_and_nothing_more(scim):
    response = scim.get("ServiceProviderConfig")

    assert response.status_code == 200
    assert response["Content-Type"] == SCIM
    config = response.json()
    assert config["patch"] == {"supported": True}
    assert config["filter"] == {"supported": True, "maxResults": 200}
    assert config["bulk"]["supported"] is False
    assert config["sort"] == {"supported": False}
    assert config["etag"] == {"supported": False}
    assert config["changePassword"] == {"supported": False}
    assert [s["type"] for s in config["authenticationSchemes"]] == ["oauthbearertoken"]


def test_the_user_resource_type_has_the_enterprise_extension(scim):
    listing = scim.get("ResourceTypes").json()

    (user,) = listing["Resources"]
    assert user["endpoint"] == "/Users"
    assert user["schemaExtensions"] == [{"schema": ENTERPRISE, "required": False}]
    assert scim.get("ResourceTypes/User").json()["id"] == "User"
    assert scim.get("ResourceTypes/Group").status_code == 404


def test_the_schemas_publish_only_the_attributes_launchpad_keeps(scim):
    listing = scim.get("Schemas").json()

    core, enterprise = listing["Resources"]
    assert {a["name"] for a in core["attributes"]} == {
        "userName",
        "name",
        "displayName",
        "title",
        "preferredLanguage",
        "timezone",
        "active",
        "emails",
        "addresses",
    }
    assert {a["name"] for a in enterprise["attributes"]} == {"employeeNumber", "department", "manager"}
    language = next(a for a in core["attributes"] if a["name"] == "preferredLanguage")
    assert language["canonicalValues"] == ["sv", "en"]
    assert scim.get(f"Schemas/{ENTERPRISE}").json()["id"] == ENTERPRISE


# Creating and reading ----------------------------------------------------------------------


def test_a_create_maps_every_attribute_to_the_directory(scim, entra_token):
    body = user_payload(
        "ANNA.Andersson@norrstrom.se",
        externalId="7f1c-entra-object-id",
        title="Controller",
        preferredLanguage="en-US",
        addresses=[{"type": "work", "locality": "Västerås", "streetAddress": "Stora Gatan 1"}],
        phoneNumbers=[{"type": "work", "value": "+46 21 10 10 10"}],  # standard, not kept: ignored
    )
    body["emails"] = [{"value": "anna.andersson@norrstrom.se", "type": "work", "primary": True}]

    response = scim.post("Users", body)

    assert response.status_code == 201
    data = response.json()
    assert response["Location"] == f"http://testserver/scim/v2/Users/{data['id']}"
    anna = Employee.objects.get(pk=data["id"])
    assert (anna.email, anna.user_name) == ("anna.andersson@norrstrom.se", "")
    assert (anna.first_name, anna.last_name, anna.title) == ("Anna", "Andersson", "Controller")
    assert (anna.language, anna.site, anna.department) == ("en", "Västerås", "Ekonomi")
    assert (anna.employee_number, anna.external_id, anna.is_active) == ("NE1001", "7f1c-entra-object-id", True)
    change = anna.changes.get()
    assert (change.source, change.action, change.scim_token) == ("scim", "created", entra_token[0])
    assert {"email", "first_name", "department", "external_id"} <= set(change.fields)
    assert data["userName"] == "anna.andersson@norrstrom.se"
    assert data[ENTERPRISE] == {"employeeNumber": "NE1001", "department": "Ekonomi"}
    assert "phoneNumbers" not in data


def test_a_user_name_that_is_not_the_email_is_kept_and_answers_its_filter(scim):
    create(scim, "anna@norrstrom.onmicrosoft.com", emails=[{"value": "anna@norrstrom.se", "type": "work"}])

    found = scim.get("Users", {"filter": 'userName eq "Anna@Norrstrom.onmicrosoft.com"'}).json()

    assert found["totalResults"] == 1
    assert found["Resources"][0]["userName"] == "anna@norrstrom.onmicrosoft.com"
    assert found["Resources"][0]["emails"] == [{"value": "anna@norrstrom.se", "type": "work"}]


def test_a_taken_email_user_name_employee_number_or_external_id_is_a_conflict(scim):
    create(scim, externalId="ext-1")
    before = Employee.objects.count()

    same_email = scim.post("Users", user_payload("Anna.Andersson@norrstrom.se", **{ENTERPRISE: {}}))
    same_number = scim.post("Users", user_payload("other@norrstrom.se"))
    same_external = scim.post("Users", user_payload("third@norrstrom.se", externalId="ext-1", **{ENTERPRISE: {}}))

    for response in (same_email, same_number, same_external):
        assert response.status_code == 409
        assert response.json()["scimType"] == "uniqueness"
    assert Employee.objects.count() == before


def test_a_user_without_an_email_is_refused(scim):
    body = user_payload("anna")
    del body["emails"]

    response = scim.post("Users", body)

    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidValue"
    assert not Employee.objects.exists()


def test_a_user_brings_both_a_language_and_a_time_zone(scim):
    aino = create(scim, "aino@norrstrom.fi", preferredLanguage="en-GB", timezone="europe/helsinki")

    assert (aino.language, aino.time_zone) == ("en", "Europe/Helsinki")
    data = scim.get(f"Users/{aino.pk}").json()
    assert (data["preferredLanguage"], data["timezone"]) == ("en", "Europe/Helsinki")

    scim.patch(f"Users/{aino.pk}", patch({"op": "replace", "path": "timezone", "value": "Europe/London"}))
    aino.refresh_from_db()
    assert (aino.language, aino.time_zone) == ("en", "Europe/London")
    scim.patch(f"Users/{aino.pk}", patch({"op": "remove", "path": "timezone"}))
    aino.refresh_from_db()
    assert aino.time_zone == ""  # the organisation's
    assert "timezone" not in scim.get(f"Users/{aino.pk}").json()


def test_a_time_zone_that_is_no_time_zone_is_refused_and_nothing_is_written(scim):
    response = scim.post("Users", user_payload("aino@norrstrom.fi", timezone="Helsingfors"))

    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidValue" and "timezone" in response.json()["detail"]
    assert not Employee.objects.exists()


# Lookups and pages -------------------------------------------------------------------------


def test_entra_finds_a_person_the_csv_import_brought_by_their_email(scim):
    directory_import_run(source=csv_bytes([person("NE1", "Åsa", "Öberg", email="asa.oberg@norrstrom.se")]))

    found = scim.get("Users", {"filter": 'userName eq "ASA.oberg@norrstrom.se"'}).json()

    assert found["totalResults"] == 1
    assert found["Resources"][0]["name"] == {"givenName": "Åsa", "familyName": "Öberg"}


def test_a_filter_by_external_id_is_exact(scim):
    create(scim, externalId="Abc-123")

    assert scim.get("Users", {"filter": 'externalId eq "Abc-123"'}).json()["totalResults"] == 1
    assert scim.get("Users", {"filter": 'externalId eq "abc-123"'}).json()["totalResults"] == 0


def test_a_filter_that_matches_nobody_is_an_empty_list(scim):
    response = scim.get("Users", {"filter": 'userName eq "nobody@norrstrom.se"'})

    assert response.status_code == 200
    assert response.json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }


def test_pages_follow_start_index_and_count(scim):
    people = [make_employee(f"P{i}", "Person") for i in range(5)]

    page = scim.get("Users", {"startIndex": 2, "count": 2}).json()

    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (5, 2, 2)
    assert [r["id"] for r in page["Resources"]] == [str(people[1].pk), str(people[2].pk)]
    assert scim.get("Users", {"startIndex": 6}).json()["Resources"] == []
    assert scim.get("Users", {"count": 0}).json()["itemsPerPage"] == 0


def test_a_page_is_never_larger_than_the_limit(scim, settings):
    settings.SCIM_MAX_RESULTS = 3
    for i in range(5):
        make_employee(f"P{i}", "Person")

    page = scim.get("Users", {"count": 1000}).json()

    assert (page["totalResults"], page["itemsPerPage"]) == (5, 3)


def test_attributes_choose_what_is_returned(scim):
    anna = create(scim)

    data = scim.get(f"Users/{anna.pk}", {"attributes": "userName"}).json()
    assert set(data) == {"schemas", "id", "userName"}
    data = scim.get(f"Users/{anna.pk}", {"excludedAttributes": "emails,name"}).json()
    assert "emails" not in data and "name" not in data and data["userName"]


def test_erased_people_are_not_seen_through_scim(scim, owner):
    anna = create(scim)
    employee_erase(employee=anna, by=owner)

    assert scim.get(f"Users/{anna.pk}").status_code == 404
    assert scim.get("Users").json()["totalResults"] == 0


# PATCH as Entra ID and Okta send it -------------------------------------------------------


def test_entra_deactivates_with_a_capitalised_replace_and_the_string_false(scim, entra_token):
    anna = create(scim)

    response = scim.patch(f"Users/{anna.pk}", patch({"op": "Replace", "path": "active", "value": "False"}))

    assert response.status_code == 200
    assert response.json()["active"] is False
    anna.refresh_from_db()
    assert anna.is_active is False
    assert anna not in reachable_employees()
    change = anna.changes.first()
    assert (change.action, change.fields, change.scim_token) == ("deactivated", ["is_active"], entra_token[0])


def test_entra_replaces_without_a_path_and_names_the_manager_by_extension_path(scim):
    boss = create(scim, "boss@norrstrom.se", **{ENTERPRISE: {"employeeNumber": "NE1"}})
    anna = create(scim)

    response = scim.patch(
        f"Users/{anna.pk}",
        patch(
            {
                "op": "Replace",
                "value": {
                    "displayName": "Anna A",
                    "name.givenName": "Annie",
                    "title": "Chief accountant",
                    f"{ENTERPRISE}:department": "Finans",
                },
            },
            {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": {"value": str(boss.pk)}},
            {"op": "Replace", "path": 'addresses[type eq "work"].locality', "value": "Örebro"},
            {"op": "Replace", "path": "preferredLanguage", "value": "en-GB"},
        ),
    )

    assert response.status_code == 200, response.content
    anna.refresh_from_db()
    assert (anna.first_name, anna.title, anna.department) == ("Annie", "Chief accountant", "Finans")
    assert (anna.site, anna.language) == ("Örebro", "en")
    assert anna.manager_employee == boss
    assert anna.manager == "Anna Andersson"  # the manager's name, as the CSV import's column holds it
    assert response.json()[ENTERPRISE]["manager"] == {
        "value": str(boss.pk),
        "$ref": f"http://testserver/scim/v2/Users/{boss.pk}",
    }
    assert set(anna.changes.first().fields) == {
        "first_name",
        "title",
        "department",
        "site",
        "language",
        "manager_employee",
    }


def test_entra_replaces_the_work_email(scim):
    anna = create(scim)

    scim.patch(
        f"Users/{anna.pk}",
        patch({"op": "Replace", "path": 'emails[type eq "work"].value', "value": "anna.a@norrstrom.se"}),
    )

    anna.refresh_from_db()
    assert anna.email == "anna.a@norrstrom.se"


def test_okta_reactivates_with_a_path_less_replace(scim):
    anna = create(scim, active=False)

    response = scim.patch(f"Users/{anna.pk}", patch({"op": "replace", "value": {"active": True}}))

    assert response.status_code == 200
    anna.refresh_from_db()
    assert anna.is_active is True
    assert anna.changes.first().action == "reactivated"


def test_a_manager_is_removed(scim):
    boss = create(scim, "boss@norrstrom.se", **{ENTERPRISE: {"employeeNumber": "NE1"}})
    anna = create(scim, **{ENTERPRISE: {"manager": {"value": str(boss.pk)}}})
    assert anna.manager_employee == boss

    scim.patch(f"Users/{anna.pk}", patch({"op": "Remove", "path": f"{ENTERPRISE}:manager"}))

    anna.refresh_from_db()
    assert (anna.manager_employee, anna.manager) == (None, "")


def test_an_unknown_manager_or_oneself_is_refused_and_nothing_changes(scim):
    anna = create(scim)
    before = anna.changes.count()

    unknown = scim.patch(
        f"Users/{anna.pk}", patch({"op": "Add", "path": f"{ENTERPRISE}:manager", "value": {"value": "999999"}})
    )
    oneself = scim.patch(
        f"Users/{anna.pk}", patch({"op": "Add", "path": f"{ENTERPRISE}:manager", "value": {"value": str(anna.pk)}})
    )

    assert unknown.status_code == oneself.status_code == 400
    anna.refresh_from_db()
    assert anna.manager_employee is None
    assert anna.changes.count() == before


def test_removing_what_launchpad_always_holds_is_refused(scim):
    anna = create(scim)

    for path in ("active", "preferredLanguage", "userName"):
        response = scim.patch(f"Users/{anna.pk}", patch({"op": "remove", "path": path}))
        assert response.status_code == 400, path
        assert response.json()["scimType"] == "mutability"
    anna.refresh_from_db()
    assert anna.is_active


def test_a_patch_that_changes_nothing_records_nothing(scim):
    anna = create(scim)

    response = scim.patch(f"Users/{anna.pk}", patch({"op": "replace", "path": "title", "value": ""}))

    assert response.status_code == 200
    assert anna.changes.count() == 1  # the create


def test_a_patch_of_one_user_takes_a_constant_number_of_queries(scim, django_assert_num_queries):
    boss = create(scim, "boss@norrstrom.se", **{ENTERPRISE: {"employeeNumber": "NE1"}})
    anna = create(scim, **{ENTERPRISE: {"manager": {"value": str(boss.pk)}}})
    for i in range(20):
        make_employee(f"P{i}", "Person", manager_employee=boss)
    operations = patch(
        {"op": "Replace", "path": "title", "value": "Controller"},
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Replace", "value": {f"{ENTERPRISE}:department": "Finans", "name.familyName": "Berg"}},
    )

    # token, employee (with the manager), savepoint, update, history row, release
    with django_assert_num_queries(6):
        response = scim.patch(f"Users/{anna.pk}", operations)
    assert response.status_code == 200


# PUT, DELETE and coexistence with the CSV import -------------------------------------------


def test_okta_replaces_a_user_with_put(scim):
    anna = create(scim, title="Controller")
    body = user_payload(title=None, **{ENTERPRISE: {"employeeNumber": "NE1001", "department": "Finans"}})
    body.pop("title")

    response = scim.put(f"Users/{anna.pk}", body)

    assert response.status_code == 200
    anna.refresh_from_db()
    assert (anna.title, anna.department) == ("", "Finans")


def test_delete_makes_a_leaver_who_is_kept_and_no_longer_seen(scim):
    anna = create(scim)

    response = scim.delete(f"Users/{anna.pk}")

    assert response.status_code == 204
    anna.refresh_from_db()
    assert anna.is_active is False and anna.deprovisioned_at is not None
    assert anna not in reachable_employees()
    assert anna.changes.first().action == "deactivated"
    assert scim.get(f"Users/{anna.pk}").status_code == 404
    assert scim.delete(f"Users/{anna.pk}").status_code == 404


def test_a_deleted_person_created_again_comes_back_as_the_same_row_with_their_history(scim):
    anna = create(scim)
    scim.delete(f"Users/{anna.pk}")

    response = scim.post("Users", user_payload())

    assert response.status_code == 201
    assert response.json()["id"] == str(anna.pk)
    anna.refresh_from_db()
    assert anna.is_active and anna.deprovisioned_at is None
    assert [c.action for c in anna.changes.order_by("at", "id")] == ["created", "deactivated", "reactivated"]


def test_scim_and_the_csv_import_keep_the_same_person_and_the_latest_change_wins(scim):
    directory_import_run(source=csv_bytes([person("NE1", "Åsa", "Öberg", email="asa.oberg@norrstrom.se")]))
    asa = Employee.objects.get()

    scim.patch(f"Users/{asa.pk}", patch({"op": "replace", "path": "title", "value": "Driftchef"}))
    directory_import_run(
        source=csv_bytes([person("NE1", "Åsa", "Öberg", email="asa.oberg@norrstrom.se", department="Drift")])
    )

    asa.refresh_from_db()
    assert (asa.title, asa.department) == ("Elektriker", "Drift")  # the file's columns, applied after SCIM
    assert Employee.objects.count() == 1
    assert EmployeeChange.objects.filter(employee=asa, source="scim").count() == 1


def test_the_last_use_of_a_token_is_recorded(scim, entra_token):
    token, _raw = entra_token
    assert token.last_used_at is None

    scim.get("Users")

    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_directory_page_shows_the_persons_history_with_its_source(scim, client, owner, english):
    from django.contrib.auth.models import Permission

    anna = create(scim)
    scim.patch(f"Users/{anna.pk}", patch({"op": "Replace", "path": "title", "value": "Controller"}))
    owner.user_permissions.add(Permission.objects.get(codename="view_employee"))
    client.force_login(owner)

    page = client.get(anna.get_absolute_url()).content.decode()

    assert "Directory provisioning (SCIM) (Microsoft Entra ID)" in page
    assert "Updated" in page and "title" in page


def test_a_base_url_entered_with_its_final_slash_still_works(scim):
    anna = create(scim)

    assert scim.get("/scim/v2//Users").json()["totalResults"] == 1
    response = scim.patch(f"/scim/v2//Users/{anna.pk}", patch({"op": "Replace", "path": "title", "value": "Chef"}))
    assert response.status_code == 200
    assert scim.get("/scim/v2///Groups").status_code == 404


def test_a_new_user_name_by_patch_changes_the_email_and_a_taken_one_is_a_conflict(scim):
    create(scim, "bo@norrstrom.se", **{ENTERPRISE: {"employeeNumber": "NE1"}})
    anna = create(scim)

    renamed = scim.patch(
        f"Users/{anna.pk}", patch({"op": "Replace", "path": "userName", "value": "anna.b@norrstrom.se"})
    )
    assert renamed.status_code == 200, renamed.content
    anna.refresh_from_db()
    assert anna.email == "anna.andersson@norrstrom.se"  # the work email was sent and stays the email
    assert anna.user_name == "anna.b@norrstrom.se"

    taken = scim.patch(f"Users/{anna.pk}", patch({"op": "Replace", "path": "userName", "value": "BO@norrstrom.se"}))
    assert taken.status_code == 409 and taken.json()["scimType"] == "uniqueness"
    anna.refresh_from_db()
    assert anna.user_name == "anna.b@norrstrom.se"


# The manager chain (the cascade reads it) ---------------------------------------------------


def set_manager(scim, employee: Employee, value: str):
    return scim.patch(
        f"Users/{employee.pk}", patch({"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": {"value": value}})
    )


def test_a_manager_that_would_close_a_circle_is_refused_and_nothing_changes(scim):
    ceo = create(scim, "ceo@norrstrom.se", **{ENTERPRISE: {"employeeNumber": "NE1"}})
    boss = create(
        scim, "boss@norrstrom.se", **{ENTERPRISE: {"employeeNumber": "NE2", "manager": {"value": str(ceo.pk)}}}
    )
    anna = create(scim, **{ENTERPRISE: {"employeeNumber": "NE3", "manager": {"value": str(boss.pk)}}})
    before = ceo.changes.count()

    direct = set_manager(scim, boss, str(anna.pk))  # anna reports to boss
    further_up = set_manager(scim, ceo, str(anna.pk))  # anna → boss → ceo

    assert direct.status_code == further_up.status_code == 400
    assert "circle" in further_up.json()["detail"]
    ceo.refresh_from_db()
    boss.refresh_from_db()
    assert (ceo.manager_employee_id, boss.manager_employee_id) == (None, ceo.pk)
    assert ceo.changes.count() == before


def test_a_manager_can_be_named_by_their_external_id(scim):
    boss = create(scim, "boss@norrstrom.se", externalId="entra-7f3a", **{ENTERPRISE: {"employeeNumber": "NE1"}})

    anna = create(scim, **{ENTERPRISE: {"employeeNumber": "NE2", "manager": {"value": "entra-7f3a"}}})

    assert anna.manager_employee == boss
    assert anna.manager == "Anna Andersson"


def test_a_hostile_manager_value_is_refused(scim):
    anna = create(scim)
    for value in ("1 OR 1=1", "x" * 300, "\u202e42", "-1"):
        response = set_manager(scim, anna, value)
        assert response.status_code == 400, value
    anna.refresh_from_db()
    assert anna.manager_employee is None
