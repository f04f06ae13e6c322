"""The directory in Swedish habits: Å, Ä and Ö sort after Z as in a Swedish phone book, and a language column
reads every content language however HR writes it."""

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


def test_a_language_column_reads_the_content_languages_in_any_common_form(settings):
    from audiences.imports import validation

    settings.CONTENT_LANGUAGES = ["sv", "en", "fi"]
    validation._known_languages.cache_clear()
    try:
        cells = ["Finska", "suomi", "Finnish", "fi-FI", "EN_gb", "Engelska", "svenska", "klingon", ""]
        assert [validation.normalise_language(c) for c in cells] == [
            "fi",
            "fi",
            "fi",
            "fi",
            "en",
            "en",
            "sv",
            "sv",
            "sv",
        ]
    finally:
        validation._known_languages.cache_clear()
