"""What the SCIM endpoint speaks: the resource model it reads and writes, and what it publishes about itself.

Requests are read with the full SCIM User and its enterprise extension (scim2-models), so an
identity provider may send standard attributes Launchpad does not keep (phoneNumbers, nickName,
…) and they are ignored; anything no schema declares is refused. The Schemas endpoint
publishes only the attributes Launchpad keeps, with the characteristics they really have.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Annotated

import scim2_models as scim
from django.conf import settings
from pydantic import Field

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CONTENT_TYPE = "application/scim+json"

# Attributes a filter may compare, with `eq` only: what identity providers look people up by.
FILTER_ATTRIBUTES = ("userName", "externalId")
LANGUAGES = tuple(settings.CONTENT_LANGUAGES)


class Manager(scim.Manager):
    """The enterprise manager, whose `$ref` Microsoft Entra ID leaves out (it sends `{"value": id}`)."""

    # Reference["User"]: the library names the resource type a reference points to by a string.
    ref: Annotated[scim.Reference["User"] | None, scim.Required.false] = Field(  # noqa: F821, UP037
        None, serialization_alias="$ref", validation_alias="$ref"
    )


class EnterpriseUser(scim.EnterpriseUser):
    manager: Manager | None = None


ScimUser = scim.User[EnterpriseUser]
# Parameterised once: building a generic class costs milliseconds on every request otherwise.
ScimPatch = scim.PatchOp[ScimUser]
ScimUserList = scim.ListResponse[ScimUser]

# How a peer's deviations are treated: unknown attributes refused; Entra's habits accepted
# (a remove with a value selects what to remove; a replace through an unmatched filter such as
# `addresses[type eq "work"].locality` adds the entry it describes).
POLICY = scim.ScimPolicy(
    unknown=scim.ScimPolicy.Unknown.forbid,
    remove_value_as_filter=scim.ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=scim.ScimPolicy.UnmatchedPathFilter.create,
)

# The attributes Launchpad keeps, as published; sub-attributes by parent. Launchpad always holds
# an email, a language and an active flag, so those are required (a create that leaves out the
# language or the flag gets the defaults: Swedish, active).
_USER_ATTRIBUTES = {
    "userName": None,
    "name": ("givenName", "familyName"),
    "displayName": None,
    "title": None,
    "preferredLanguage": None,
    "timezone": None,
    "active": None,
    "emails": ("value", "type"),
    "addresses": ("locality", "type"),
}
_REQUIRED = {"userName", "emails", "emails.value", "active", "preferredLanguage"}
_READ_ONLY = {"displayName"}
_CANONICAL = {"preferredLanguage": list(LANGUAGES), "emails.type": ["work"], "addresses.type": ["work"]}
_ENTERPRISE_ATTRIBUTES = {
    "employeeNumber": None,
    "department": None,
    "manager": ("value", "$ref"),
}


def _trimmed(attribute: scim.Attribute, kept: tuple[str, ...] | None, parent: str = "") -> scim.Attribute:
    name = f"{parent}{attribute.name}"
    update: dict = {}
    if kept is not None:
        update["sub_attributes"] = [
            _trimmed(sub, None, f"{name}.") for sub in attribute.sub_attributes or [] if sub.name in kept
        ]
    if name in _REQUIRED:
        update["required"] = scim.Required.true
    if name in _READ_ONLY:
        update["mutability"] = scim.Mutability.read_only
    if name in _CANONICAL:
        update["canonical_values"] = _CANONICAL[name]
    if name == "timezone":  # what the directory accepts: the IANA database's names (read when first asked)
        update["canonical_values"] = sorted(zoneinfo.available_timezones())
    if name == "manager.$ref":
        update["required"] = scim.Required.false
    return attribute.model_copy(update=update)


def _schema(model: type, urn: str, name: str, description: str, keep: dict) -> scim.Schema:
    schema = model.to_schema()
    attributes = [_trimmed(a, keep[a.name]) for a in schema.attributes if a.name in keep]
    return scim.Schema(id=urn, name=name, description=description, attributes=attributes)


@cache
def user_schemas() -> tuple[scim.Schema, scim.Schema]:
    """The User schema and its enterprise extension, trimmed to what Launchpad keeps."""
    return (
        _schema(scim.User, CORE_USER, "User", "An employee in Launchpad's directory", _USER_ATTRIBUTES),
        _schema(scim.EnterpriseUser, ENTERPRISE_USER, "EnterpriseUser", "Enterprise User", _ENTERPRISE_ATTRIBUTES),
    )


def user_resource_type() -> scim.ResourceType:
    return scim.ResourceType(
        id="User",
        name="User",
        description="An employee in Launchpad's directory",
        endpoint="/Users",
        schema_=CORE_USER,
        schema_extensions=[scim.SchemaExtension(schema_=ENTERPRISE_USER, required=False)],
    )


def service_provider_config() -> scim.ServiceProviderConfig:
    """What the endpoint supports, and nothing more: PATCH, `eq` filters on userName and externalId, pages."""
    return scim.ServiceProviderConfig(
        documentation_uri=None,
        patch=scim.Patch(supported=True),
        bulk=scim.Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=scim.Filter(supported=True, max_results=settings.SCIM_MAX_RESULTS),
        change_password=scim.ChangePassword(supported=False),
        sort=scim.Sort(supported=False),
        etag=scim.ETag(supported=False),
        authentication_schemes=[
            scim.AuthenticationScheme(
                type=scim.AuthenticationScheme.Type.oauthbearertoken,
                name="Bearer token",
                description="A token created in Launchpad's admin (SCIM tokens), sent as Authorization: Bearer",
                primary=True,
            )
        ],
    )
