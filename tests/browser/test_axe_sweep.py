"""axe-core over every page a change manager opens in the demo, in English and in Swedish."""

import io

import pytest
from django.core.management import call_command

from audiences.models import Audience, DirectoryImport, Employee
from campaigns.models import Asset, Question

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _pages() -> list[str]:
    email = Asset.objects.filter(project__slug="atlas", channel="email").order_by("pk").first()
    poster = Asset.objects.get(project__slug="atlas", channel="poster")
    meeting = Asset.objects.filter(project__slug="atlas", channel="meeting").order_by("pk").first()
    audience = Audience.objects.filter(project__slug="atlas").order_by("pk").first()
    employee = Employee.objects.order_by("pk").first()
    question = Question.objects.filter(project__slug="atlas").order_by("pk").first()
    pages = [
        "/projects/",
        "/projects/new/",
        "/projects/atlas/",
        "/projects/atlas/edit/",
        "/projects/atlas/team/",
        "/projects/atlas/dashboard/",
        "/projects/atlas/plan/",
        "/projects/atlas/plan/template/",
        "/projects/atlas/print/",
        f"/projects/atlas/print/{poster.pk}/",
        f"/projects/atlas/assets/{email.pk}/",
        f"/projects/atlas/assets/{email.pk}/edit/",
        f"/projects/atlas/assets/{email.pk}/send/",
        f"/projects/atlas/assets/{email.pk}/preview/",
        f"/projects/atlas/assets/{meeting.pk}/edit/",
        "/projects/atlas/assets/new/",
        "/projects/atlas/assets/new/?channel=poster",
        "/projects/atlas/audiences/",
        "/projects/atlas/audiences/new/",
        "/projects/atlas/audiences/cross-functional/",
        f"/projects/atlas/audiences/{audience.pk}/",
        "/projects/atlas/questions/",
        "/projects/load/",
        "/directory/",
        f"/directory/{employee.pk}/",
        "/directory/import/",
        "/directory/import/new/",
    ]
    last_import = DirectoryImport.objects.order_by("-pk").first()
    if last_import is not None:
        pages.append(f"/directory/import/{last_import.pk}/")
    assert question is not None  # the demo has questions, so the inbox shows real rows
    return pages


@pytest.mark.parametrize("language", ["en-GB", "sv-SE"])
def test_every_page_of_the_demo_passes_axe(page, live_server, data_migrations, log_in, axe, language):
    call_command("seed_demo", "--employees", "60", stdout=io.StringIO())
    page.context.set_extra_http_headers({"Accept-Language": language})
    log_in("demo", "launchpad-demo")
    failures = []
    for path in _pages():
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        results = axe.run(page)
        if results.violations_count:
            failures.append(f"{path}\n{results.generate_report()}")
    assert not failures, "\n\n".join(failures)
