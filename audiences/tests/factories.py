"""A tiny way to make employees and audiences in tests."""

from itertools import count

from audiences.models import Audience, AudienceMember, Employee

_numbers = count(1)


def make_employee(first_name: str = "Anna", last_name: str = "Andersson", **fields) -> Employee:
    n = next(_numbers)
    fields.setdefault("email", f"{first_name.lower()}.{last_name.lower()}{n}@norrstrom.se")
    fields.setdefault("employee_number", f"NE{n:05d}")
    fields.setdefault("department", "Ekonomi")
    fields.setdefault("site", "Västerås")
    return Employee.objects.create(first_name=first_name, last_name=last_name, **fields)


def rules(*rules: tuple[str, str, list[str]], combine: str = "and") -> dict:
    return {"combine": combine, "rules": [{"field": f, "op": op, "values": v} for f, op, v in rules]}


def make_rules_audience(project, name: str, definition: dict) -> Audience:
    return Audience.objects.create(project=project, name=name, kind=Audience.Kind.RULES, rules=definition)


def make_list_audience(project, name: str, members=(), **fields) -> Audience:
    audience = Audience.objects.create(project=project, name=name, kind=Audience.Kind.LIST, **fields)
    AudienceMember.objects.bulk_create([AudienceMember(audience=audience, employee=e) for e in members])
    return audience
