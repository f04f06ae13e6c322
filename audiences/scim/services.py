"""The SCIM endpoint's writes: tokens, and employees created, replaced, patched and deactivated.

Every change to an employee is one transaction that also records an EmployeeChange (source
SCIM, the token that made it, the names of the fields it changed). Deactivation is what a
leaver in the CSV import is: the row stays with its history, `is_active` goes false, and new
sends leave the person out (audiences/selectors.reachable_employees).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

import scim2_models as scim
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from audiences.models import Employee, EmployeeChange, ScimToken
from audiences.scim.models import token_hash
from audiences.selectors import manager_chain_ids

from .schemas import POLICY, ScimUser
from .selectors import deprovisioned_employee, scim_employee, scim_employee_by_external_id, user_name_q
from .serializers import WRITTEN_FIELDS, Values, employee_resource, resource_values

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "lpscim_"  # noqa: S105 - a recognisable prefix, not a secret
# A token's last use is written at most this often, so a busy provider does not write on every request.
LAST_USED_EVERY = dt.timedelta(minutes=5)


def scim_token_create(*, name: str, by: AbstractBaseUser | None) -> tuple[ScimToken, str]:
    """Create a SCIM token; returns it with the secret, which is shown once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ScimToken.objects.create(name=name, token_hash=token_hash(raw), prefix=raw[:12], created_by=by)
    logger.info("SCIM token %s (%s) created by %s", token.pk, name, by)
    return token, raw


def scim_token_revoke(*, token: ScimToken, by: AbstractBaseUser | None) -> bool:
    """Revoke a token at once; False when it already was."""
    revoked = ScimToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if revoked:
        logger.info("SCIM token %s revoked by %s", token.pk, by)
    return revoked == 1


def scim_token_used(*, token: ScimToken, now: dt.datetime | None = None) -> None:
    """Note that a token was used, when its last use is older than LAST_USED_EVERY."""
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ScimToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def _check_unique(values: dict[str, Any], changed: set[str], employee_id: int | None) -> None:
    """Raise UniquenessException when another person already holds an identifier this write gives."""
    clauses = []
    if changed & {"email", "user_name"}:
        effective_user_name = values["user_name"] or values["email"]
        clauses.append(Q(email_ci=values["email"].lower()))
        clauses.append(user_name_q(effective_user_name))
    for name in ("employee_number", "external_id"):
        if name in changed and values[name]:
            clauses.append(Q(**{name: values[name]}))
    if not clauses:
        return
    query = Q()
    for clause in clauses:
        query |= clause
    others = Employee.objects.alias(email_ci=Lower("email"), user_name_ci=Lower("user_name")).filter(query)
    if employee_id is not None:
        others = others.exclude(pk=employee_id)
    if others.exists():
        raise scim.UniquenessException(
            detail="another user already has this userName, email, employeeNumber or externalId"
        )


def _manager(values: Values, employee: Employee | None) -> Employee | None:
    """The manager a SCIM payload names by their SCIM id (or, as some providers send it, their externalId).

    Oneself, an unknown person and a manager who reports (at any depth) to this person are refused.
    """
    if values.manager_id is None:
        return None
    if employee is not None and values.manager_id == str(employee.manager_employee_id):
        return employee.manager_employee  # loaded with the employee: no query
    if employee is not None and values.manager_id == str(employee.pk):
        raise scim.InvalidValueException(detail="a user cannot be their own manager", attribute="manager")
    manager = scim_employee(values.manager_id) or scim_employee_by_external_id(values.manager_id)
    if manager is None:
        raise scim.InvalidValueException(detail=f"no user has the id {values.manager_id!r}", attribute="manager")
    if employee is not None and (manager.pk == employee.pk or employee.pk in manager_chain_ids(employee_id=manager.pk)):
        raise scim.InvalidValueException(
            detail="this manager reports to the user (directly or further up): the chain would go round in a circle",
            attribute="manager",
        )
    return manager


def _write(*, employee: Employee | None, values: Values, manager: Employee | None, token: ScimToken | None) -> Employee:
    """Create or update one employee from SCIM values, record the change; IntegrityError means a race lost."""
    now = timezone.now()
    fields = {**values.fields, "manager_employee": manager}
    if employee is None:
        employee = Employee(**fields, manager=_manager_name(manager), created_at=now, updated_at=now)
        employee.save()
        EmployeeChange.objects.create(
            employee=employee,
            source=EmployeeChange.Source.SCIM,
            action=EmployeeChange.Action.CREATED,
            fields=[name for name in WRITTEN_FIELDS if fields[name] not in (None, "")],
            scim_token=token,
            at=now,
        )
        return employee
    changed = [name for name in WRITTEN_FIELDS if getattr(employee, name) != fields[name]]
    revived = employee.deprovisioned_at is not None
    if not changed and not revived:
        return employee
    was_active = employee.is_active and not revived
    for name in changed:
        setattr(employee, name, fields[name])
    update_fields = [*changed, "updated_at"]
    if "manager_employee" in changed:
        employee.manager = _manager_name(manager)
        update_fields.append("manager")
    if revived:
        employee.deprovisioned_at = None
        update_fields.append("deprovisioned_at")
    employee.updated_at = now
    employee.save(update_fields=update_fields)
    if was_active and not employee.is_active:
        action = EmployeeChange.Action.DEACTIVATED
    elif not was_active and employee.is_active:
        action = EmployeeChange.Action.REACTIVATED
    else:
        action = EmployeeChange.Action.UPDATED
    EmployeeChange.objects.create(
        employee=employee,
        source=EmployeeChange.Source.SCIM,
        action=action,
        fields=changed,
        scim_token=token,
        at=now,
    )
    return employee


def _manager_name(manager: Employee | None) -> str:
    if manager is None:
        return ""
    return (manager.full_name or manager.email)[: Employee._meta.get_field("manager").max_length]


def _save(*, employee: Employee | None, values: Values, token: ScimToken | None) -> Employee:
    employee_id = employee.pk if employee else None
    current = {name: getattr(employee, name) for name in WRITTEN_FIELDS} if employee else {}
    changed = {name for name, value in values.fields.items() if current.get(name, object()) != value}
    _check_unique(values.fields, changed, employee_id)
    manager = _manager(values, employee)
    try:
        with transaction.atomic():
            return _write(employee=employee, values=values, manager=manager, token=token)
    except IntegrityError:
        # Another request took the identifier between the check and the write.
        raise scim.UniquenessException(
            detail="another user already has this userName, email, employeeNumber or externalId"
        ) from None


def scim_user_create(*, user: ScimUser, token: ScimToken | None) -> Employee:
    """Create an employee from a SCIM User (POST /Users).

    A person the identity provider deleted earlier, with the same email, is brought back instead.
    Raises UniquenessException (409) when the userName, email, employeeNumber or externalId is
    taken, InvalidValueException (400) for a value Launchpad cannot keep.
    """
    values = resource_values(user)
    # Someone the identity provider deleted comes back as the same row, with their history.
    employee = _save(employee=deprovisioned_employee(values.fields["email"]), values=values, token=token)
    logger.info("SCIM: employee %s created (token %s)", employee.pk, token and token.pk)
    return employee


def scim_user_replace(*, employee: Employee, user: ScimUser, token: ScimToken | None) -> Employee:
    """Replace an employee's SCIM attributes with a whole SCIM User (PUT /Users/<id>)."""
    return _save(employee=employee, values=resource_values(user), token=token)


def scim_user_patch(*, employee: Employee, patch: scim.PatchOp, token: ScimToken | None, base_url: str) -> Employee:
    """Apply a SCIM PATCH to an employee: the operations run on the employee's SCIM User, then it is saved.

    Raises a SCIMException (noTarget, invalidValue, mutability, uniqueness) and writes nothing
    when an operation cannot be applied.
    """
    user = employee_resource(employee, base_url=base_url)
    patch.patch(user, scim_policy=POLICY)
    if user.active is None:
        raise scim.MutabilityException(detail="active is required: set it to false to deactivate", attribute="active")
    if not user.preferred_language and not user.locale:
        raise scim.MutabilityException(detail="preferredLanguage is required", attribute="preferredLanguage")
    return _save(employee=employee, values=resource_values(user), token=token)


def scim_user_delete(*, employee: Employee, token: ScimToken | None) -> Employee:
    """DELETE /Users/<id>: the person becomes a leaver, never deleted, and SCIM no longer sees them.

    The row stays with its history and audience memberships, inactive (left out of new sends);
    GET answers 404 from now on, as RFC 7644 asks; a later create with their email brings them back.
    """
    now = timezone.now()
    with transaction.atomic():
        Employee.objects.filter(pk=employee.pk).update(is_active=False, deprovisioned_at=now, updated_at=now)
        EmployeeChange.objects.create(
            employee=employee,
            source=EmployeeChange.Source.SCIM,
            action=EmployeeChange.Action.DEACTIVATED,
            fields=["is_active"] if employee.is_active else [],
            scim_token=token,
            at=now,
        )
    employee.is_active, employee.deprovisioned_at, employee.updated_at = False, now, now
    logger.info(
        "SCIM: employee %s deleted by the identity provider, kept inactive (token %s)", employee.pk, token and token.pk
    )
    return employee
