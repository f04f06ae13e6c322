"""The launch plan: timeline, coverage and warnings, templates, moving go-live, exports, permissions."""

import csv
import datetime
import io

import pypdfium2
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from audiences.models import Audience
from campaigns.models import Asset, AssetEvent, ChangeProject, MeetingSession, PlanTemplate
from campaigns.plan import selectors
from campaigns.plan import services as plan
from campaigns.plan.views import DataOnlyFetcher, plan_pdf
from campaigns.tests.asset_helpers import make_audience
from lib.pdf import FetchRefused

HYPERLINK = '=HYPERLINK("https://evil.example/","Klicka")'


@pytest.fixture
def project(project):
    project.refresh_from_db()  # go_live as a date (Monday 1 March 2027), not the fixture's string
    return project


@pytest.fixture
def everyone(project):
    return Audience.objects.create(project=project, name="Alla", kind=Audience.Kind.RULES, rules={"rules": []})


@pytest.fixture
def floor(project):
    return make_audience(project, name="Verkstaden")


def add(project, by, *, audiences=(), **fields) -> Asset:
    values = {"channel": "email", "stage": "awareness", "title": "Teaser", "offset_days": -35}
    values.update(fields)
    return plan.asset_create(project=project, by=by, audiences=audiences, **values)


def at(*args) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*args))


def url(name, project, **query):
    address = reverse(f"campaigns:{name}", args=[project.slug])
    return address + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def warned(project, kind: str, about: str) -> bool:
    return any(w.kind == kind and about in w.message for w in selectors.plan_coverage(project=project)["warnings"])


# The timeline


def test_timeline_orders_assets_by_when_they_happen_and_groups_them_by_week(project, owner):
    pulse = add(project, owner, title="Pulse", offset_days=14)
    why = add(project, owner, title="Why", offset_days=-28)
    teaser = add(project, owner, title="Teaser", offset_days=-35)
    live = add(project, owner, title="Live", offset_days=0, local_time=datetime.time(8, 0))
    union = add(project, owner, title="Union information", offset_days=None, fixed_at=at(2027, 2, 3, 13, 0))
    friday = add(project, owner, title="Friday before", offset_days=-3)

    with translation.override("en"):
        weeks = selectors.plan_timeline(project=project)
        labels = [str(w.label) for w in weeks]

    assert [[i.asset for i in w.items] for w in weeks] == [[teaser], [why, union], [friday], [live], [pulse]]
    assert [w.index for w in weeks] == [-5, -4, -1, 0, 2]
    assert labels == ["Week −5", "Week −4", "Week −1", "Go-live week", "Week +2"]
    assert [i.t_label for w in weeks for i in w.items] == ["T−35", "T−28", "T−26", "T−3", "T", "T+14"]
    assert weeks[1].monday == datetime.date(2027, 2, 1)


def test_the_go_live_week_and_this_week_show_even_when_empty(project, owner):
    add(project, owner, offset_days=-35)
    add(project, owner, offset_days=14)

    weeks = selectors.plan_timeline(project=project, today=datetime.date(2027, 2, 10))

    assert [w.index for w in weeks] == [-5, -3, 0, 2]
    assert [len(w.items) for w in weeks] == [1, 0, 0, 1]
    assert [w.is_current for w in weeks] == [False, True, False, False]


def test_the_timeline_filters_by_channel_stage_and_audience(project, owner, floor):
    email = add(project, owner, title="Email", audiences=[floor])
    meeting = add(project, owner, title="Meeting", channel="meeting", stage="knowledge", offset_days=-21)

    def titles(**filters):
        return [i.asset.title for w in selectors.plan_timeline(project=project, **filters) for i in w.items]

    assert titles(channel="meeting") == [meeting.title]
    assert titles(stage="awareness") == [email.title]
    assert titles(audience_id=floor.pk) == [email.title]
    assert titles() == [email.title, meeting.title]


def test_moving_go_live_moves_relative_assets_and_leaves_fixed_ones(client, project, editor):
    relative = add(project, editor, offset_days=-21)
    fixed = add(project, editor, title="Fixed", offset_days=None, fixed_at=at(2027, 2, 10, 10, 0))
    client.force_login(editor)

    response = client.post(url("plan_go_live", project), {"go_live": "2027-03-08"})

    assert response.status_code == 302
    project.refresh_from_db()
    relative.refresh_from_db()
    fixed.refresh_from_db()
    assert project.go_live == datetime.date(2027, 3, 8)
    assert timezone.localtime(relative.scheduled_for()) == timezone.localtime(at(2027, 2, 15, 9, 0))
    assert fixed.scheduled_for() == at(2027, 2, 10, 10, 0)
    page = client.get(url("plan", project)).content.decode()
    assert "15 feb" in page.lower() or "15 Feb" in page


def test_go_live_does_not_move_when_it_would_send_a_scheduled_email_at_once(client, project, editor, floor):
    why = add(project, editor, title="Sponsorns varför", offset_days=-28, audiences=[floor])
    Asset.objects.filter(pk=why.pk).update(status=Asset.Status.SCHEDULED)
    soon = timezone.localdate() + datetime.timedelta(days=10)
    client.force_login(editor)

    response = client.post(url("plan_go_live", project), {"go_live": soon.isoformat()}, follow=True)

    project.refresh_from_db()
    assert project.go_live == datetime.date(2027, 3, 1)
    assert "Sponsorns varför" in [str(m) for m in response.context["messages"]][0]


def test_a_get_never_moves_go_live(client, project, editor):
    client.force_login(editor)
    assert client.get(url("plan_go_live", project), {"go_live": "2027-05-01"}).status_code == 405
    project.refresh_from_db()
    assert project.go_live == datetime.date(2027, 3, 1)


# Starting from a template


def test_applying_a_template_adds_the_checked_items_as_drafts_with_audit_events(client, project, editor, floor):
    template = PlanTemplate.objects.get(slug="standard-internal-launch")
    items = list(template.items.all())
    keep = [item.pk for item in items if item.channel != "film"]
    client.force_login(editor)

    page = client.get(url("plan_template", project, template=template.slug))
    assert page.status_code == 200
    assert page.content.decode().count('name="items"') == len(items)
    assert page.content.decode().count(" checked") >= len(items)

    response = client.post(
        url("plan_template", project), {"template": template.pk, "items": keep, "audiences": [floor.pk]}
    )

    assert response.status_code == 302
    assert response["Location"] == url("plan", project)
    assets = list(project.assets.all())
    assert len(assets) == len(keep)
    assert {a.status for a in assets} == {Asset.Status.DRAFT}
    assert not any(a.channel == "film" for a in assets)
    assert all(list(a.audiences.all()) == [floor] for a in assets)
    assert AssetEvent.objects.filter(
        asset__project=project, action=AssetEvent.Action.CREATED, actor=editor
    ).count() == len(keep)


def test_a_template_with_nothing_checked_adds_nothing(client, project, editor):
    template = PlanTemplate.objects.get(slug="standard-internal-launch")
    client.force_login(editor)
    response = client.post(url("plan_template", project), {"template": template.pk})
    assert response.status_code == 200
    assert not project.assets.exists()


def test_items_of_another_template_are_refused(client, project, editor):
    english = PlanTemplate.objects.get(slug="standard-internal-launch")
    swedish = PlanTemplate.objects.get(slug="standard-internlansering")
    client.force_login(editor)
    response = client.post(url("plan_template", project), {"template": english.pk, "items": [swedish.items.first().pk]})
    assert response.status_code == 200
    assert not project.assets.exists()


# Coverage and warnings


def test_the_coverage_matrix_counts_live_assets_by_stage_and_channel(project, owner, floor, everyone):
    add(project, owner, title="Why", audiences=[everyone], sender_kind="sponsor")
    add(project, owner, title="Meeting", channel="meeting", stage="knowledge", offset_days=-21, audiences=[floor])
    add(project, owner, title="Handout", channel="handout", stage="knowledge", offset_days=-14, audiences=[floor])
    cancelled = add(project, owner, title="Cancelled", channel="film", stage="ability", audiences=[floor])
    plan.asset_set_status(asset=cancelled, status="cancelled", by=owner)

    coverage = selectors.plan_coverage(project=project)

    rows = {row["audience"].name: row for row in coverage["rows"]}
    stages = [value for value, _label in coverage["stages"]]
    channels = [value for value, _label in coverage["channels"]]
    floor_stages = dict(zip(stages, [n for n, _heat in rows["Verkstaden"]["stages"]], strict=True))
    floor_channels = dict(zip(channels, [n for n, _heat in rows["Verkstaden"]["channels"]], strict=True))
    assert floor_stages == {"awareness": 1, "desire": 0, "knowledge": 2, "ability": 0, "reinforcement": 0}
    assert floor_channels == {"email": 1, "meeting": 1, "handout": 1, "poster": 0, "flyer": 0, "film": 0, "news": 0}
    assert rows["Verkstaden"]["total"] == 3
    assert rows["Alla"]["total"] == 1


def test_the_knowledge_warning_goes_when_a_knowledge_asset_comes_before_go_live(project, owner, floor):
    add(project, owner, title="After go-live", stage="knowledge", offset_days=3, audiences=[floor])
    assert warned(project, "no_knowledge", "Verkstaden")

    add(project, owner, title="Handout", channel="handout", stage="knowledge", offset_days=-14, audiences=[floor])

    assert not warned(project, "no_knowledge", "Verkstaden")


def test_the_one_channel_warning_goes_when_a_second_channel_comes(project, owner, floor):
    assert warned(project, "not_reached", "Verkstaden")
    add(project, owner, audiences=[floor])
    assert not warned(project, "not_reached", "Verkstaden")
    assert warned(project, "one_channel", "Verkstaden")

    add(project, owner, title="Meeting", channel="meeting", stage="desire", audiences=[floor])

    assert not warned(project, "one_channel", "Verkstaden")


def test_the_why_warning_goes_when_the_sponsor_sends_it(project, owner, floor):
    teaser = add(project, owner, audiences=[floor], sender_kind="change_manager")
    assert warned(project, "why_not_from_sponsor", "Teaser")

    plan.asset_update(asset=teaser, by=owner, sender_kind="sponsor")

    assert not warned(project, "why_not_from_sponsor", "Verkstaden")


def test_the_why_warning_names_a_missing_why_message(project, owner, floor):
    add(project, owner, title="Meeting", channel="meeting", stage="desire", audiences=[floor])
    assert warned(project, "why_not_from_sponsor", "Karin Lind")
    add(project, owner, title="Why", sender_kind="sponsor", offset_days=-28, audiences=[floor])
    assert not warned(project, "why_not_from_sponsor", "Verkstaden")


def test_an_asset_for_everyone_counts_for_every_audience(project, owner, floor, everyone):
    add(project, owner, title="Why", sender_kind="sponsor", audiences=[everyone])
    assert not warned(project, "why_not_from_sponsor", "Verkstaden")
    assert not warned(project, "not_reached", "Verkstaden")


def test_the_no_audience_warning_goes_when_the_asset_gets_one(project, owner, floor):
    asset = add(project, owner, title="Poster", channel="poster")
    assert warned(project, "no_audience", "Poster")

    plan.asset_update(asset=asset, by=owner, audiences=[floor])

    assert not warned(project, "no_audience", "Poster")


def test_a_cancelled_asset_raises_no_warning(project, owner):
    asset = add(project, owner, title="Poster", channel="poster")
    plan.asset_set_status(asset=asset, status="cancelled", by=owner)
    assert not warned(project, "no_audience", "Poster")


def test_warnings_link_to_the_missing_asset(client, project, editor, floor):
    add(project, editor, audiences=[floor])
    client.force_login(editor)
    page = client.get(url("plan", project)).content.decode()
    assert reverse("campaigns:asset_create", args=[project.slug]) + "?channel=handout&amp;stage=knowledge" in page


# Exports


def _plan_for_export(project, owner, floor):
    add(project, owner, title=HYPERLINK, audiences=[floor], sender_kind="sponsor")
    add(project, owner, title="Informationsträff", channel="meeting", stage="knowledge", offset_days=-21)


def test_the_csv_export_reads_back_and_is_formula_safe(client, project, viewer, owner, floor):
    _plan_for_export(project, owner, floor)
    client.force_login(viewer)

    response = client.get(url("plan_export_csv", project))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))  # Swedish Excel
    assert len(rows) == 3
    first = rows[1]
    assert first[1] == "-35"
    assert "'" + HYPERLINK in first
    assert "Verkstaden" in first
    assert "Karin Lind" in first
    assert "Informationsträff" in rows[2]


def test_the_xlsx_export_reads_back_and_is_formula_safe(client, project, viewer, owner, floor):
    _plan_for_export(project, owner, floor)
    client.force_login(viewer)

    response = client.get(url("plan_export_xlsx", project))

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3
    assert rows[1][0] == datetime.datetime(2027, 1, 25, 9, 0)
    assert rows[1][1] == -35
    assert "'" + HYPERLINK in rows[1]
    assert not any(isinstance(v, str) and v.startswith("=") for row in rows for v in row)


def test_the_pdf_is_one_landscape_page(client, project, viewer, owner, floor):
    _plan_for_export(project, owner, floor)
    for n in range(14):
        add(project, owner, title=f"Asset {n}", offset_days=-30 + 3 * n, audiences=[floor])
    client.force_login(viewer)

    response = client.get(url("plan_export_pdf", project))

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    pdf = pypdfium2.PdfDocument(response.content)
    assert len(pdf) == 1
    width, height = pdf[0].get_size()
    assert width > height


def test_a_long_plan_still_fits_one_page(project, owner, floor):
    for n in range(40):
        add(project, owner, title=f"Asset {n}", offset_days=-42 + 2 * n, audiences=[floor])
    assert len(pypdfium2.PdfDocument(plan_pdf(project=project))) == 1


def test_the_pdf_fetches_nothing_but_data_uris(settings):
    fetcher = DataOnlyFetcher("about:blank")
    fetcher.fetch("data:text/plain,hej")  # accepted
    for address in ("file:///etc/passwd", "http://169.254.169.254/", f"{settings.STATIC_URL}css/app.css"):
        with pytest.raises(FetchRefused):
            fetcher.fetch(address)


# Permissions


@pytest.mark.parametrize("name", ["plan", "plan_export_csv", "plan_export_xlsx", "plan_export_pdf"])
def test_a_viewer_may_look_and_export(client, project, viewer, name):
    client.force_login(viewer)
    assert client.get(url(name, project)).status_code == 200


def test_a_viewer_cannot_apply_a_template_or_move_go_live(client, project, viewer):
    template = PlanTemplate.objects.get(slug="standard-internal-launch")
    client.force_login(viewer)

    assert client.get(url("plan_template", project)).status_code == 403
    assert (
        client.post(
            url("plan_template", project), {"template": template.pk, "items": [template.items.first().pk]}
        ).status_code
        == 403
    )
    assert client.post(url("plan_go_live", project), {"go_live": "2027-04-01"}).status_code == 403

    project.refresh_from_db()
    assert project.go_live == datetime.date(2027, 3, 1)
    assert not project.assets.exists()


def test_a_viewer_sees_no_change_buttons(client, project, viewer, owner):
    add(project, owner)
    client.force_login(viewer)
    page = client.get(url("plan", project)).content.decode()
    assert url("plan_go_live", project) not in page
    assert url("plan_template", project) not in page


@pytest.mark.parametrize(
    "name,method",
    [
        ("plan", "get"),
        ("plan_template", "get"),
        ("plan_go_live", "post"),
        ("plan_export_csv", "get"),
        ("plan_export_xlsx", "get"),
        ("plan_export_pdf", "get"),
    ],
)
def test_an_outsider_gets_404(client, project, outsider, name, method):
    client.force_login(outsider)
    assert getattr(client, method)(url(name, project)).status_code == 404


# The page


def _plan_of(project, owner, audiences, n: int) -> None:
    for i in range(n):
        asset = add(
            project,
            owner,
            title=f"Asset {i}",
            channel=["email", "meeting", "poster"][i % 3],
            stage=["awareness", "knowledge", "ability"][i % 3],
            offset_days=-40 + 3 * i,
            audiences=audiences,
        )
        if i % 4 == 0:
            plan.asset_set_status(asset=asset, status="ready", by=owner)


@pytest.mark.parametrize("n", [3, 20])
def test_the_plan_page_needs_the_same_queries_for_3_and_20_assets(
    client, project, owner, floor, everyone, django_assert_num_queries, n
):
    _plan_of(project, owner, [floor, everyone], n)
    make_audience(project, name="Kundservice")
    client.force_login(owner)
    client.get(url("plan", project))  # warm the session and the content types

    with django_assert_num_queries(9):  # 8, and the coming sessions checked against days off
        response = client.get(url("plan", project), {"stage": "knowledge"})

    assert response.status_code == 200
    assert response.content.decode().count('class="plan-card ') == len([i for i in range(n) if i % 3 == 1])


def test_the_plan_page_shows_weeks_cards_coverage_and_warnings(client, project, owner, floor):
    add(project, owner, title="Sponsorns varför", sender_kind="sponsor", offset_days=-28, audiences=[floor])
    client.force_login(owner)

    with translation.override("en"):
        page = client.get(url("plan", project), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Sponsorns varför" in page
    assert "T−28" in page
    assert "stage-awareness" in page
    assert 'id="coverage"' in page
    assert "Verkstaden" in page
    assert "plan-warning" in page


def test_an_empty_plan_invites_a_template(client, project, editor):
    client.force_login(editor)
    page = client.get(url("plan", project)).content.decode()
    assert url("plan_template", project) in page


def test_the_overview_summarises_the_plan(client, project, owner, floor):
    add(project, owner, title="Kommande mejl", offset_days=10, audiences=[floor])
    done = add(project, owner, title="Klart", channel="poster", offset_days=5, audiences=[floor])
    Asset.objects.filter(pk=done.pk).update(status=Asset.Status.DONE)
    client.force_login(owner)

    response = client.get(project.get_absolute_url())

    overview = response.context["overview"]["plan"]
    assert overview["asset_count"] == 2
    assert [item.asset.title for item in overview["upcoming"]] == ["Kommande mejl"]
    assert overview["warning_count"] >= 1
    assert "Kommande mejl" in response.content.decode()


# The demo


def test_the_demo_has_a_complete_plan(db):
    call_command("seed_demo", "--employees", "40", stdout=io.StringIO())
    project = ChangeProject.objects.get(slug="atlas")
    assets = project.assets.all()
    assert assets.count() >= 10
    assert assets.filter(status__in=["approved", "scheduled"]).exists()
    assert MeetingSession.objects.filter(meeting__project=project).values("site").distinct().count() >= 3
    why = assets.get(sender_kind="sponsor", stage="awareness", channel="email")
    assert why.audiences.exists()
    before = assets.count()

    call_command("seed_demo", "--employees", "40", stdout=io.StringIO())

    assert project.assets.count() == before


@pytest.mark.parametrize(
    "written",
    ["Den 1 mars byter vi", "from 1 March 2027", "on March 1,", "den 1 mar.", "senast 1/3", "2027-03-01", "1. März"],
)
def test_texts_that_write_the_go_live_date_out_are_found(project, editor, written):
    project.refresh_from_db()  # go-live 2027-03-01
    add(project, editor, title="Teaser", body=f"<p>{written} allt.</p>")
    found = selectors.texts_mentioning(project=project, day=project.go_live)
    assert ("“Teaser”" in found) == (written != "1. März")


def test_other_dates_and_numbers_are_not_taken_for_go_live(project, editor):
    project.refresh_from_db()
    add(project, editor, title="Annat", body="<p>11 mars, 21 mars, 1 maj, 10/3, 2027-03-010, 1 marsvinter, 31/3</p>")
    assert "“Annat”" not in selectors.texts_mentioning(project=project, day=project.go_live)


def test_moving_go_live_names_the_texts_that_still_say_the_old_date(client, project, editor, english):
    project.lede = "Den 1 mars 2027 byter vi system."
    project.save()
    add(project, editor, title="Teaser", subject="Snart: 1 mars")
    add(project, editor, title="Med fält", subject="Snart: {{ go_live }}")
    client.force_login(editor)

    response = client.post(url("plan_go_live", project), {"go_live": "2027-03-08"}, follow=True)

    warning = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warning) == 1 and "the lede" in warning[0] and "“Teaser”" in warning[0]
    assert "Med fält" not in warning[0]


def test_a_session_on_a_public_holiday_or_a_weekend_needs_attention(project, owner, english):
    from campaigns.tests.asset_helpers import make_meeting

    meeting = make_meeting(project, owner)
    meeting.sessions.all().delete()
    for day in (datetime.date(2030, 12, 25), datetime.date(2030, 11, 16), datetime.date(2030, 11, 19)):
        starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))  # Wed, Sat, Tue
        MeetingSession.objects.create(
            meeting=meeting, starts_at=starts, ends_at=starts + datetime.timedelta(hours=1), place="Aulan"
        )
    project.refresh_from_db()

    warnings = [w.message for w in selectors.plan_coverage(project=project)["warnings"] if w.kind == "day_off"]

    assert len(warnings) == 2
    assert any("25 December" in w and "Christmas Day" in w for w in warnings)
    assert any("16 November" in w and "Saturday" in w for w in warnings)


def test_sites_abroad_follow_their_own_countrys_holidays(settings):
    from lib.days_off import day_off

    settings.SITE_COUNTRIES = {"helsingfors": "FI"}
    independence_day = datetime.date(2027, 12, 6)  # Finland's, a Monday; a working day in Sweden
    with translation.override("en"):
        assert day_off(independence_day, site="Helsingfors") == "Independence Day"
        assert day_off(independence_day, site="Västerås") == ""
    with translation.override("sv"):
        assert day_off(datetime.date(2026, 12, 24)) == "Julafton"  # off in practice, if not by law
