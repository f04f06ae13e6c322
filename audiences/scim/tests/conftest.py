"""The SCIM tests' cast: a provider's token (Entra's), a revoked one, and a client that sends it."""

import json

import pytest

from audiences.scim.services import scim_token_create, scim_token_revoke

SCIM = "application/scim+json"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


class ScimClient:
    """Django's test client speaking SCIM: a bearer token, JSON bodies, JSON answers."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def request(self, method: str, path: str, body=None, raw: bytes | str | None = None, **extra):
        url = path if path.startswith("/") else f"/scim/v2/{path}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        call = getattr(self.client, method.lower())
        kwargs = {"content_type": SCIM} if method in ("POST", "PUT", "PATCH") else {}
        return call(url, data, **kwargs, **self.headers, **extra)

    def get(self, path, params=None):
        url = path if path.startswith("/") else f"/scim/v2/{path}"
        return self.client.get(url, params or {}, **self.headers)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path):
        return self.client.delete(f"/scim/v2/{path}", **self.headers)


@pytest.fixture
def entra_token(db):
    token, raw = scim_token_create(name="Microsoft Entra ID", by=None)
    return token, raw


@pytest.fixture
def scim(client, entra_token):
    return ScimClient(client, entra_token[1])


@pytest.fixture
def revoked_scim(client, db):
    token, raw = scim_token_create(name="Old Okta", by=None)
    scim_token_revoke(token=token, by=None)
    return ScimClient(client, raw)


def user_payload(user_name="anna.andersson@norrstrom.se", **extra) -> dict:
    payload = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "userName": user_name,
        "active": True,
        "name": {"givenName": "Anna", "familyName": "Andersson"},
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        ENTERPRISE: {"department": "Ekonomi", "employeeNumber": "NE1001"},
    }
    payload.update(extra)
    return payload


def patch(*operations) -> dict:
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list(operations)}
