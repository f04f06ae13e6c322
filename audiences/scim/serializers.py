"""Between a directory employee and a SCIM User: the attribute mapping, both ways.

| SCIM | Employee |
|---|---|
| userName | user_name (the identity provider's sign-in name; email when unset) |
| emails (primary, else work, else first) | email; userName when no email is sent and it is one |
| name.givenName, name.familyName | first_name, last_name |
| title | title |
| preferredLanguage, else locale | language (any content language, as the CSV import reads it) |
| timezone | time_zone (an IANA name, as the CSV import reads it; none: the organisation's) |
| addresses (work, else primary, else first).locality | site |
| active | is_active |
| externalId | external_id |
| enterprise employeeNumber, department | employee_number, department |
| enterprise manager.value (a User id) | manager_employee, and manager (their name) |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import scim2_models as scim

from audiences.imports.validation import normalise_language, normalise_time_zone, valid_email
from audiences.models import Employee

from .schemas import EnterpriseUser, Manager, ScimUser

# The Employee fields SCIM writes, in the order they are compared and recorded.
WRITTEN_FIELDS = (
    "user_name",
    "email",
    "first_name",
    "last_name",
    "title",
    "language",
    "time_zone",
    "site",
    "external_id",
    "employee_number",
    "department",
    "manager_employee",
    "is_active",
)
_MAX_LENGTHS = {
    name: Employee._meta.get_field(name).max_length for name in WRITTEN_FIELDS if name not in ("manager_employee",)
}
_MAX_LENGTHS.pop("is_active", None)


@dataclass(frozen=True)
class Values:
    """An employee's fields as a SCIM resource gives them; `manager_id` is the manager's SCIM id, or None."""

    fields: dict[str, Any]
    manager_id: str | None


def user_location(base_url: str, employee_id: int | str) -> str:
    return f"{base_url}/Users/{employee_id}"


def employee_resource(employee: Employee, *, base_url: str) -> ScimUser:
    """The SCIM User an employee is (its manager read from `employee.manager_employee`, when set)."""
    user = ScimUser(
        id=str(employee.pk),
        external_id=employee.external_id or None,
        user_name=employee.user_name or employee.email,
        name=(
            scim.Name(given_name=employee.first_name or None, family_name=employee.last_name or None)
            if employee.first_name or employee.last_name
            else None
        ),
        display_name=employee.full_name or None,
        title=employee.title or None,
        preferred_language=employee.language,
        timezone=employee.time_zone or None,
        active=employee.is_active,
        emails=[scim.Email(value=employee.email, type="work")],
        addresses=[scim.Address(locality=employee.site, type="work")] if employee.site else None,
        meta=scim.Meta(
            resource_type="User",
            created=employee.created_at,
            last_modified=employee.updated_at,
            location=user_location(base_url, employee.pk),
        ),
    )
    manager = employee.manager_employee if employee.manager_employee_id else None
    if employee.employee_number or employee.department or manager:
        user[EnterpriseUser] = EnterpriseUser(
            employee_number=employee.employee_number or None,
            department=employee.department or None,
            manager=(Manager(value=str(manager.pk), ref=user_location(base_url, manager.pk)) if manager else None),
        )
    return user


def _pick(entries: list[Any] | None, kind: str) -> Any | None:
    """The entry a single field takes from a multi-valued attribute: the primary, else `kind`, else the first."""
    if not entries:
        return None
    for entry in entries:
        if entry.primary:
            return entry
    for entry in entries:
        if str(entry.type or "").lower() == kind:
            return entry
    return entries[0]


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def resource_values(user: ScimUser) -> Values:
    """The employee fields a SCIM User gives (all of them: what it leaves out is blank or the default).

    Raises scim2_models.InvalidValueException when a value cannot be stored.
    """
    user_name = _text(user.user_name)
    if not user_name:
        raise scim.InvalidValueException(detail="userName is required", attribute="userName")
    email_entry = _pick(user.emails, "work")
    email = _text(email_entry.value if email_entry else None) or user_name
    if not valid_email(email):
        raise scim.InvalidValueException(
            detail="a valid email address is required (emails, or a userName that is one)", attribute="emails"
        )
    address = _pick(user.addresses, "work")
    language = user.preferred_language or user.locale
    time_zone = normalise_time_zone(_text(user.timezone))
    if time_zone is None:
        raise scim.InvalidValueException(
            detail="timezone must be a time zone of the IANA database, such as Europe/Helsinki", attribute="timezone"
        )
    enterprise = user[EnterpriseUser]
    manager = enterprise.manager if enterprise else None
    fields = {
        "user_name": "" if user_name.lower() == email.lower() else user_name,
        "email": email,
        "first_name": _text(user.name.given_name if user.name else None),
        "last_name": _text(user.name.family_name if user.name else None),
        "title": _text(user.title),
        "language": normalise_language(_text(language)),
        "time_zone": time_zone,
        "site": _text(address.locality if address else None),
        "external_id": _text(user.external_id) or None,
        "employee_number": _text(enterprise.employee_number if enterprise else None) or None,
        "department": _text(enterprise.department if enterprise else None),
        "is_active": True if user.active is None else bool(user.active),
    }
    for name, value in fields.items():
        limit = _MAX_LENGTHS.get(name)
        if limit and isinstance(value, str) and len(value) > limit:
            raise scim.InvalidValueException(detail=f"{name} is longer than {limit} characters")
    manager_id = _text(manager.value if manager else None) or None
    return Values(fields=fields, manager_id=manager_id)
