"""An admin creates a SCIM token (the secret shown once, stored hashed), sees its use, and revokes it."""

import pytest

from audiences.models import Employee, EmployeeChange, ScimToken
from audiences.scim.models import token_hash

from .conftest import ScimClient, user_payload

pytestmark = pytest.mark.django_db


def test_a_token_is_shown_once_on_creation_and_stored_as_a_hash(admin_client, admin_user):
    response = admin_client.post("/admin/audiences/scimtoken/add/", {"name": "Microsoft Entra ID"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ScimToken.objects.get()
    secret = response.context["secret"]
    assert secret.startswith("lpscim_") and len(secret) > 40
    assert secret in response.content.decode()
    assert "http://testserver/scim/v2/" in response.content.decode()
    assert (token.name, token.created_by, token.token_hash) == ("Microsoft Entra ID", admin_user, token_hash(secret))
    page = admin_client.get(f"/admin/audiences/scimtoken/{token.pk}/change/").content.decode()
    assert secret not in page
    assert secret not in admin_client.get("/admin/audiences/scimtoken/").content.decode()


def test_the_created_token_works_until_it_is_revoked(admin_client, client):
    response = admin_client.post("/admin/audiences/scimtoken/add/", {"name": "Okta"})
    scim = ScimClient(client, response.context["secret"])
    assert scim.post("Users", user_payload()).status_code == 201
    token = ScimToken.objects.get()

    admin_client.post("/admin/audiences/scimtoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True)

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert scim.get("Users").status_code == 401


def test_tokens_are_revoked_not_deleted_so_the_history_keeps_them(admin_client):
    admin_client.post("/admin/audiences/scimtoken/add/", {"name": "Okta"})
    token = ScimToken.objects.get()

    response = admin_client.post(f"/admin/audiences/scimtoken/{token.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert ScimToken.objects.filter(pk=token.pk).exists()


def test_an_employees_history_shows_each_change_with_its_source(admin_client, client):
    response = admin_client.post("/admin/audiences/scimtoken/add/", {"name": "Entra"})
    scim = ScimClient(client, response.context["secret"])
    employee_id = scim.post("Users", user_payload()).json()["id"]

    page = admin_client.get(f"/admin/audiences/employee/{employee_id}/change/")

    assert page.status_code == 200
    change = EmployeeChange.objects.get(employee_id=employee_id)
    assert change.get_source_display() in page.content.decode()
    assert "Entra (lpscim_" in page.content.decode()  # the token that made the change
    assert Employee.objects.get(pk=employee_id).is_active
