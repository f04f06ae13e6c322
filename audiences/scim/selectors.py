"""Reads for the SCIM endpoint: the employees it can see, one by id, a filter, a page."""

from __future__ import annotations

import scim2_models as scim
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from audiences.models import Employee

from .schemas import CORE_USER, FILTER_ATTRIBUTES

MAX_FILTER_LENGTH = 1000
_MAX_ID_DIGITS = 18  # a bigint's range: longer digits cannot be an id


def scim_employees() -> QuerySet[Employee]:
    """Every employee SCIM can see, oldest first: leavers are in it; erased people and those the
    identity provider deleted are not."""
    return (
        Employee.objects.filter(erased_at__isnull=True, deprovisioned_at__isnull=True)
        .select_related("manager_employee")
        .alias(email_ci=Lower("email"), user_name_ci=Lower("user_name"))
        .order_by("pk")
    )


def scim_employee(scim_id: str) -> Employee | None:
    """The employee a SCIM id names, or None (an id that is not one, an unknown or an erased person)."""
    if not scim_id.isascii() or not scim_id.isdigit() or len(scim_id) > _MAX_ID_DIGITS:
        return None
    return scim_employees().filter(pk=int(scim_id)).first()


def scim_employee_by_external_id(external_id: str) -> Employee | None:
    """The employee the identity provider knows by this externalId, or None."""
    if not external_id or len(external_id) > Employee._meta.get_field("external_id").max_length:
        return None
    return scim_employees().filter(external_id=external_id).first()


def deprovisioned_employee(email: str) -> Employee | None:
    """The person the identity provider deleted who had this email (a later create brings them back)."""
    return (
        Employee.objects.filter(erased_at__isnull=True, deprovisioned_at__isnull=False)
        .select_related("manager_employee")
        .alias(email_ci=Lower("email"))
        .filter(email_ci=email.lower())
        .first()
    )


def user_name_q(user_name: str) -> Q:
    """Who answers to a userName: their own, or their email when they have none (compared regardless of case).

    Each branch matches a unique index of its own (the user name's is partial, hence `user_name != ""`).
    """
    key = user_name.lower()
    return (Q(user_name_ci=key) & ~Q(user_name="")) | (Q(user_name="") & Q(email_ci=key))


def scim_filter_q(text: str) -> Q:
    """The WHERE clause of a SCIM filter; only `userName eq "…"` and `externalId eq "…"` are understood.

    Raises scim2_models.InvalidFilterException for anything else: another operator or attribute,
    `and`/`or`/`not`, a value that is not a string, or text that does not parse.
    """
    if len(text) > MAX_FILTER_LENGTH:
        raise scim.InvalidFilterException(detail=f"a filter has at most {MAX_FILTER_LENGTH} characters")
    try:
        node = scim.ScimFilter(text).ast
    except (scim.SCIMException, ValueError) as exc:
        raise scim.InvalidFilterException(detail=f"the filter does not parse: {exc}") from None
    supported = " or ".join(f'{name} eq "…"' for name in FILTER_ATTRIBUTES)
    if not isinstance(node, scim.path.Comparison) or node.op != scim.path.CompareOperator.eq:
        raise scim.InvalidFilterException(detail=f"only a single comparison is supported: {supported}")
    attr = node.attr_path
    name = attr.attr.lower()
    if (
        attr.sub_attr is not None
        or (attr.uri and attr.uri.lower() != CORE_USER.lower())
        or not isinstance(node.value, str)
    ):
        raise scim.InvalidFilterException(detail=f"only these filters are supported: {supported}")
    if name == "username":
        return user_name_q(node.value)
    if name == "externalid":
        return Q(external_id=node.value)
    raise scim.InvalidFilterException(detail=f"only these filters are supported: {supported}")


def scim_page(queryset: QuerySet[Employee], *, start_index: int, count: int) -> tuple[int, list[Employee]]:
    """The total and one page (1-based `start_index`, at most `count` people) of a queryset."""
    total = queryset.count()
    if count == 0 or start_index > total:
        return total, []
    return total, list(queryset[start_index - 1 : start_index - 1 + count])
