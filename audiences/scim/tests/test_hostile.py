"""Hostile input at the SCIM endpoint: each is a clear SCIM error, and nothing is written."""

import json

import pytest

from audiences.models import Employee, EmployeeChange, ScimToken
from audiences.scim.services import scim_token_create

from .conftest import ENTERPRISE, SCIM, ScimClient, patch, user_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(scim):
    response = scim.post("Users", user_payload())
    assert response.status_code == 201
    return Employee.objects.get(pk=response.json()["id"])


def counts() -> tuple[int, int, list]:
    return (
        Employee.objects.count(),
        EmployeeChange.objects.count(),
        list(Employee.objects.order_by("pk").values_list("email", "title", "is_active", "department")),
    )


def assert_scim_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == SCIM
    error = response.json()
    assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert error["status"] == str(status)
    assert error.get("scimType") == scim_type
    assert error["detail"]
    return error


# Tokens ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer lpscim_not-a-real-token",
        "Bearer " + "x" * 10_000,
        "Bearer lpscim_\u00e5\u00e4\u00f6",
    ],
)
def test_a_missing_or_wrong_token_is_refused_and_nothing_is_written(client, anna, header):
    before = counts()
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}

    for response in (
        client.get("/scim/v2/Users", **extra),
        client.get(f"/scim/v2/Users/{anna.pk}", **extra),
        client.post("/scim/v2/Users", json.dumps(user_payload("new@norrstrom.se")), content_type=SCIM, **extra),
        client.patch(
            f"/scim/v2/Users/{anna.pk}",
            json.dumps(patch({"op": "replace", "path": "active", "value": False})),
            content_type=SCIM,
            **extra,
        ),
        client.delete(f"/scim/v2/Users/{anna.pk}", **extra),
        client.get("/scim/v2/ServiceProviderConfig", **extra),
    ):
        assert_scim_error(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert counts() == before


def test_a_revoked_token_is_refused_at_once(revoked_scim, anna):
    before = counts()

    assert_scim_error(revoked_scim.get("Users"), 401)
    assert_scim_error(
        revoked_scim.patch(f"Users/{anna.pk}", patch({"op": "replace", "path": "title", "value": "x"})), 401
    )
    assert_scim_error(revoked_scim.post("Users", user_payload("new@norrstrom.se")), 401)
    assert counts() == before


def test_tokens_are_stored_only_as_a_hash(db):
    token, raw = scim_token_create(name="Okta", by=None)

    stored = ScimToken.objects.filter(pk=token.pk).values().get()
    assert raw not in json.dumps(stored, default=str)
    assert len(stored["token_hash"]) == 64 and stored["prefix"] == raw[:12]


# Bodies ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"not json",
        b"[1, 2, 3]",
        b'"a string"',
        b"\xff\xfe\x00garbage",
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_a_body_that_is_not_a_json_object_is_invalid_syntax(scim, anna, body):
    before = counts()

    assert_scim_error(scim.post("Users", raw=body), 400, "invalidSyntax")
    assert_scim_error(scim.patch(f"Users/{anna.pk}", raw=body), 400, "invalidSyntax")
    assert_scim_error(scim.put(f"Users/{anna.pk}", raw=body), 400, "invalidSyntax")
    assert counts() == before


def test_an_unknown_attribute_is_refused(scim, anna):
    before = counts()

    created = scim.post("Users", user_payload("new@norrstrom.se", isAdmin=True))
    unknown_schema = scim.post(
        "Users", user_payload("new@norrstrom.se", **{"urn:example:evil:1.0:User": {"role": "superuser"}})
    )
    patched = scim.patch(f"Users/{anna.pk}", patch({"op": "replace", "path": "isAdmin", "value": True}))
    pathless = scim.patch(f"Users/{anna.pk}", patch({"op": "replace", "value": {"isAdmin": True}}))
    replaced = scim.put(f"Users/{anna.pk}", user_payload(isAdmin=True))

    for response in (created, unknown_schema, patched, pathless, replaced):
        assert response.status_code == 400, response.content
        assert response.json()["scimType"] in ("invalidSyntax", "invalidValue", "invalidPath", "noTarget")
    assert counts() == before


@pytest.mark.parametrize(
    "operation, scim_type",
    [
        ({"op": "delete", "path": "title"}, "invalidValue"),
        ({"op": "replace", "path": "title["}, "invalidPath"),
        ({"op": "replace", "path": "active", "value": "perhaps"}, "invalidValue"),
        ({"op": "replace", "path": 'emails[type eq "work"].value', "value": "not an email"}, "invalidValue"),
        ({"op": "replace", "path": "name.givenName", "value": "x" * 101}, "invalidValue"),
        ({"op": "replace", "path": "id", "value": "1"}, "mutability"),
    ],
)
def test_a_broken_patch_operation_is_refused(scim, anna, operation, scim_type):
    before = counts()

    response = scim.patch(f"Users/{anna.pk}", patch(operation))

    assert_scim_error(response, 400, scim_type)
    assert counts() == before


def test_a_patch_without_operations_is_refused(scim, anna):
    before = counts()

    response = scim.patch(f"Users/{anna.pk}", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]})

    assert response.status_code == 400
    assert counts() == before


def test_a_patch_is_all_or_nothing(scim, anna):
    before = counts()

    response = scim.patch(
        f"Users/{anna.pk}",
        patch(
            {"op": "replace", "path": "title", "value": "Controller"},
            {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": "424242"}},
        ),
    )

    assert response.status_code == 400
    assert counts() == before


def test_a_body_over_the_limit_is_refused_before_it_is_read(scim, anna, settings):
    settings.SCIM_MAX_BODY_BYTES = 10_000
    before = counts()
    huge_title = user_payload("new@norrstrom.se", title="x" * 20_000)

    assert_scim_error(scim.post("Users", huge_title), 413)
    assert_scim_error(scim.put(f"Users/{anna.pk}", huge_title), 413)
    assert_scim_error(
        scim.patch(f"Users/{anna.pk}", patch(*[{"op": "replace", "path": "title", "value": "x"}] * 1000)), 413
    )
    assert counts() == before


def test_values_longer_than_the_directory_holds_are_refused(scim):
    before = counts()

    response = scim.post("Users", user_payload(title="x" * 121))

    assert_scim_error(response, 400, "invalidValue")
    assert counts() == before


# Filters and ids -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "x" or 1 eq 1',
        'userName eq "x" or userName pr',
        'userName eq "x" and externalId eq "y"',
        'userName ne "x"',
        'userName co "a"',
        'userName sw "a"',
        "userName pr",
        'not (userName eq "x")',
        'userName eq "x',
        'userName eq x"',
        'userName eq "x") or ("1" eq "1"',
        "userName eq 1",
        "userName eq true",
        'emails[type eq "work"].value eq "a@b.se"',
        'emails.value eq "a@b.se"',
        'title eq "x"',
        'id eq "1"',
        "'; DROP TABLE audiences_employee; --",
        'userName eq "x"; DELETE FROM audiences_employee',
        'userName eq "' + "x" * 2000 + '"',
        'urn:example:evil:1.0:User:userName eq "x"',
    ],
)
def test_filters_other_than_user_name_or_external_id_eq_are_invalid(scim, anna, text):
    before = counts()

    response = scim.get("Users", {"filter": text})

    assert_scim_error(response, 400, "invalidFilter")
    assert counts() == before


def test_a_filter_value_is_only_ever_a_value(scim, anna):
    response = scim.get("Users", {"filter": 'userName eq "%"'})

    assert response.json()["totalResults"] == 0
    response = scim.get("Users", {"filter": 'userName eq "anna.andersson@norrstrom.se\\" or \\"1"'})
    assert response.json()["totalResults"] == 0


@pytest.mark.parametrize("bad", ["abc", "1.5", "99999999999999999999", "1e3", "0x10", "--1"])
def test_paging_numbers_must_be_integers(scim, bad):
    assert_scim_error(scim.get("Users", {"startIndex": bad}), 400, "invalidValue")
    assert_scim_error(scim.get("Users", {"count": bad}), 400, "invalidValue")


def test_paging_numbers_below_the_range_are_read_as_rfc_7644_says(scim, anna):
    page = scim.get("Users", {"startIndex": -5, "count": -1}).json()

    assert (page["startIndex"], page["itemsPerPage"], page["totalResults"]) == (1, 0, 1)


@pytest.mark.parametrize(
    "scim_id", ["999999", "0", "-1", "abc", "1 OR 1=1", "99999999999999999999999", "%00", "١", "1;2"]
)
def test_an_unknown_or_malformed_id_is_not_found_and_nothing_is_written(scim, anna, scim_id):
    before = counts()

    assert_scim_error(scim.get(f"Users/{scim_id}"), 404)
    assert_scim_error(scim.patch(f"Users/{scim_id}", patch({"op": "replace", "path": "active", "value": False})), 404)
    assert_scim_error(scim.put(f"Users/{scim_id}", user_payload("new@norrstrom.se")), 404)
    assert_scim_error(scim.delete(f"Users/{scim_id}"), 404)
    assert counts() == before


def test_an_erased_person_cannot_be_written_again(scim, anna, owner):
    from audiences.services import employee_erase

    employee_erase(employee=anna, by=owner)
    before = counts()

    assert_scim_error(scim.patch(f"Users/{anna.pk}", patch({"op": "replace", "path": "active", "value": True})), 404)
    assert_scim_error(scim.put(f"Users/{anna.pk}", user_payload()), 404)
    assert counts() == before


def test_groups_bulk_and_search_are_not_offered(scim):
    assert_scim_error(scim.get("Groups"), 404)
    assert_scim_error(scim.post("Bulk", {"Operations": []}), 404)
    assert_scim_error(scim.post(".search", {}), 501)
    assert_scim_error(scim.post("Users/.search", {}), 501)


def test_a_method_a_resource_does_not_take_is_refused(scim, anna):
    before = counts()

    assert_scim_error(scim.delete("Users"), 405)
    assert_scim_error(scim.post(f"Users/{anna.pk}", user_payload()), 405)
    assert_scim_error(scim.post("ServiceProviderConfig", {}), 405)
    assert counts() == before


def test_the_endpoint_needs_no_csrf_token_and_sets_no_cookie(client, entra_token):
    scim = ScimClient(client.__class__(enforce_csrf_checks=True), entra_token[1])

    response = scim.post("Users", user_payload())

    assert response.status_code == 201
    assert not response.cookies
