"""Lists of people follow Swedish alphabetical order: Å, Ä and Ö come after Z, as in a Swedish phone book."""

import pytest
from django.db import connection
from django.urls import reverse

from audiences.models import Employee
from audiences.tests.test_views import grant
from conftest import require_service

SURNAMES = ["Östlund", "Zetterberg", "Åberg", "Andersson", "Ärlig", "Öberg", "Ek"]
SWEDISH_ORDER = ["Andersson", "Ek", "Zetterberg", "Åberg", "Ärlig", "Öberg", "Östlund"]


@pytest.fixture
def people(db):
    require_service("PostgreSQL (its ICU collations)", connection.vendor == "postgresql", "set DATABASE_URL")
    for i, surname in enumerate(SURNAMES):
        Employee.objects.create(email=f"p{i}@example.se", first_name="Kim", last_name=surname)


def test_the_directory_sorts_a_before_z_before_a_ring_a_umlaut_o_umlaut(people):
    assert list(Employee.objects.values_list("last_name", flat=True)) == SWEDISH_ORDER


def test_the_directory_page_and_its_export_list_people_in_swedish_order(people, client, make_user):
    client.force_login(grant(make_user("hr"), "view_employee"))

    page = client.get(reverse("audiences:employee_list")).content.decode()
    export = client.get(reverse("audiences:employee_export_csv")).content.decode("utf-8-sig")

    assert [page.index(name) for name in SWEDISH_ORDER] == sorted(page.index(name) for name in SWEDISH_ORDER)
    assert [export.index(name) for name in SWEDISH_ORDER] == sorted(export.index(name) for name in SWEDISH_ORDER)
