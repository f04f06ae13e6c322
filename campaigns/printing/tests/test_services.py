"""campaigns.printing: variants, content hash, QR code, brand, bleed, print pack, time limit, task and command."""

import datetime
import io
import zipfile

import pypdfium2 as pdfium
import pytest
from django.core.management import call_command
from django.utils import timezone, translation
from PIL import Image

from campaigns.models import MeetingSession, PrintRender
from campaigns.plan import services as plan
from campaigns.printing import services as printing
from campaigns.printing import tasks as print_tasks
from campaigns.tests.asset_helpers import make_image

A3_POINTS = (841.89, 1190.55)
BLEED_POINTS = 3 / 25.4 * 72


@pytest.fixture
def eager_celery():
    from launchpad.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def branded(project, owner):
    project.primary_color = "#0b5d3b"
    project.accent_color = "#e0a100"
    project.hero_image = make_image(project, owner)
    project.save()
    return project


def make_print(project, by, channel="poster", **fields):
    values = {
        "stage": "awareness",
        "title": f"{channel} for the lunch room",
        "offset_days": -35,
        "headline": "Snart blir det enklare",
        "body": "<p>Den 1 mars byter vi ekonomisystem. Kom på en informationsträff.</p>",
    }
    values.update(fields)
    return plan.asset_create(project=project, by=by, channel=channel, **values)


def make_meeting_at_sites(project, by, sites: dict[str, str]):
    meeting = plan.asset_create(
        project=project, by=by, channel="meeting", stage="knowledge", title="Informationsträffar", offset_days=-21
    )
    starts = timezone.now().replace(microsecond=0) + datetime.timedelta(days=20)
    for n, (site, place) in enumerate(sites.items()):
        begin = starts + datetime.timedelta(days=n)
        MeetingSession.objects.create(
            meeting=meeting, starts_at=begin, ends_at=begin + datetime.timedelta(hours=1), site=site, place=place
        )
    return meeting


def render_now(asset, **kwargs) -> list[PrintRender]:
    renders = printing.print_request(asset=asset, enqueue=False, **kwargs)
    return [printing.print_render(render=r) for r in renders]


def pdf_of(render: PrintRender) -> pdfium.PdfDocument:
    with render.pdf.open("rb") as handle:
        return pdfium.PdfDocument(handle.read())


def text_of(render: PrintRender) -> str:
    document = pdf_of(render)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def test_a_poster_renders_to_one_a3_page_with_a_preview(branded, owner):
    poster = make_print(branded, owner)

    (render,) = render_now(poster)

    render.refresh_from_db()
    assert render.status == PrintRender.Status.DONE
    assert render.error == ""
    assert render.rendered_at is not None
    document = pdf_of(render)
    assert len(document) == 1
    width, height = document[0].get_size()
    assert width == pytest.approx(A3_POINTS[0], abs=0.5) and height == pytest.approx(A3_POINTS[1], abs=0.5)
    assert render.page_count == 1 and len(render.previews) == 1
    with render.pdf.storage.open(render.previews[0], "rb") as preview:
        image = Image.open(preview)
        assert image.format == "JPEG" and image.width == printing.PREVIEW_WIDTH_PX
        assert image.height == pytest.approx(image.width * A3_POINTS[1] / A3_POINTS[0], abs=2)
    assert "Snart blir det enklare" in text_of(render)


def test_the_poster_qr_code_decodes_to_the_landing_page_with_its_token(branded, owner, settings):
    zxingcpp = pytest.importorskip("zxingcpp")
    settings.SITE_URL = "https://launchpad.example.se"
    poster = make_print(branded, owner)

    (render,) = render_now(poster)

    page = pdf_of(render)[0]
    image = page.render(scale=150 / 72).to_pil()
    found = zxingcpp.read_barcodes(image)
    assert [code.text for code in found] == [f"https://launchpad.example.se/l/{branded.slug}/?src={render.qr_token}"]
    # at least 3 cm across on the printed poster
    (code,) = found
    width_px = abs(code.position.top_right.x - code.position.top_left.x)
    assert width_px / 150 * 2.54 >= 3


def test_each_print_asset_has_its_own_token(branded, owner):
    first = render_now(make_print(branded, owner, title="A"))[0]
    second = render_now(make_print(branded, owner, title="B"))[0]

    assert first.qr_token != second.qr_token
    assert len(first.qr_token) >= 16


def test_the_handout_is_in_brand_colours(branded, owner):
    handout = make_print(branded, owner, channel="handout", title="Handout")

    (render,) = render_now(handout)

    page = pdf_of(render)[0]
    image = page.render(scale=1).to_pil().convert("RGB")
    band = image.getpixel((image.width // 2, 8))
    assert band == (0x0B, 0x5D, 0x3B)
    assert len(pdf_of(render)) in (1, 2)
    text = text_of(render)
    assert "Det gamla systemet är uttjänt." in text
    assert "Karin Lind" in text


def test_unchanged_content_is_not_rendered_again(branded, owner, monkeypatch):
    poster = make_print(branded, owner)
    (render,) = render_now(poster)
    render.refresh_from_db()
    first_pdf, first_hash, first_time = render.pdf.name, render.content_hash, render.rendered_at

    def must_not_render(*args, **kwargs):
        raise AssertionError("rendered again although nothing changed")

    monkeypatch.setattr("lib.pdf.html_to_pdf", must_not_render)
    (again,) = render_now(poster)

    again.refresh_from_db()
    assert (again.pdf.name, again.content_hash, again.rendered_at) == (first_pdf, first_hash, first_time)
    assert again.status == PrintRender.Status.DONE


@pytest.mark.parametrize(
    "change",
    [
        lambda asset, project: plan.asset_update(asset=asset, by=project.created_by, headline="Ny rubrik"),
        lambda asset, project: project.__class__.objects.filter(pk=project.pk).update(primary_color="#222222"),
    ],
    ids=["content", "brand"],
)
def test_a_content_or_brand_change_renders_again(branded, owner, change):
    poster = make_print(branded, owner)
    (render,) = render_now(poster)
    render.refresh_from_db()
    old_pdf, old_hash = render.pdf.name, render.content_hash

    change(poster, branded)
    poster.refresh_from_db()
    (again,) = render_now(poster)

    again.refresh_from_db()
    assert again.content_hash != old_hash
    assert again.pdf.name != old_pdf
    assert not again.pdf.storage.exists(old_pdf)


def test_a_meeting_at_several_sites_gets_one_poster_per_site(branded, owner):
    meeting = make_meeting_at_sites(
        branded, owner, {"Västerås": "Lunchrummet, Verkstadsgatan 4", "Uppsala": "Aulan, Kungsgatan 12"}
    )
    poster = make_print(branded, owner, meeting=meeting)

    renders = render_now(poster)

    by_site = {r.site: r for r in renders}
    assert set(by_site) == {"Västerås", "Uppsala"}
    vasteras, uppsala = text_of(by_site["Västerås"]), text_of(by_site["Uppsala"])
    assert "Lunchrummet, Verkstadsgatan 4" in vasteras and "Aulan" not in vasteras
    assert "Aulan, Kungsgatan 12" in uppsala and "Lunchrummet" not in uppsala
    assert by_site["Västerås"].qr_token != by_site["Uppsala"].qr_token


def test_a_print_ready_poster_has_bleed_and_crop_marks(branded, owner):
    poster = make_print(branded, owner)

    renders = render_now(poster, language="sv", print_ready=True)

    ready = next(r for r in renders if r.print_ready)
    page = pdf_of(ready)[0]
    width, height = page.get_size()
    assert width > A3_POINTS[0] + 2 * BLEED_POINTS - 0.5
    assert height > A3_POINTS[1] + 2 * BLEED_POINTS - 0.5
    left, bottom, right, top = page.get_trimbox()
    assert right - left == pytest.approx(A3_POINTS[0], abs=0.5)
    assert top - bottom == pytest.approx(A3_POINTS[1], abs=0.5)


def test_an_english_version_is_a_variant_of_its_own_in_english_from_top_to_bottom(branded, owner):
    branded.other_languages = ["en"]
    branded.set_translation("en", {"why": "<p>The old system is worn out.</p>"})
    branded.save()
    handout = make_print(branded, owner, channel="handout", title="Handout")
    handout.set_translation("en", {"headline": "A new finance system", "body": "<p>What changes for you.</p>"})
    handout.save()

    renders = render_now(handout, print_ready=False)  # the English version comes by itself

    assert {r.language for r in renders} == {"sv", "en"}
    english = text_of(next(r for r in renders if r.language == "en"))
    assert "Why are we doing this?" in english and "The old system is worn out." in english
    assert "A new finance system" in english and "uttjänt" not in english and "Skanna" not in english


def test_a_version_in_a_language_the_piece_is_not_written_in_is_the_primary_one_whole(branded, owner):
    branded.other_languages = ["en"]
    branded.save()
    handout = make_print(branded, owner, channel="handout", title="Handout")

    renders = render_now(handout, language="en", print_ready=False)

    english = text_of(next(r for r in renders if r.language == "en"))
    assert "Varför gör vi det här?" in english and "Why are we doing this?" not in english  # never a mix


def test_the_print_pack_holds_every_current_pdf(branded, owner):
    meeting = make_meeting_at_sites(branded, owner, {"Västerås": "Lunchrummet", "Uppsala": "Aulan"})
    render_now(make_print(branded, owner, meeting=meeting))
    render_now(make_print(branded, owner, channel="handout", title="Handout"))
    render_now(make_print(branded, owner, channel="flyer", title="Flyer"))
    cancelled = make_print(branded, owner, title="Old poster")
    render_now(cancelled)
    plan.asset_set_status(asset=cancelled, status="cancelled", by=owner)

    renders = printing.print_renders_for_project(project=branded)
    archive = zipfile.ZipFile(io.BytesIO(printing.print_pack(renders=renders)))

    names = archive.namelist()
    assert len(names) == 4 == len(set(names))
    assert all(name.endswith(".pdf") for name in names)
    for name in names:
        assert archive.read(name).startswith(b"%PDF-")
    assert not any(name.startswith("old-poster") for name in names)


def test_a_render_that_runs_too_long_fails_with_a_reason(branded, owner, monkeypatch):
    poster = make_print(branded, owner)
    hostile = "<p style='font-size: 1px'>" + "<span style='font-size: 400px'>W</span> ord " * 200_000 + "</p>"
    monkeypatch.setattr(printing, "RENDER_TIMEOUT", 1)
    monkeypatch.setattr(printing, "print_html", lambda *, render: hostile)

    with translation.override("en"):
        (render,) = render_now(poster)

    render.refresh_from_db()
    assert render.status == PrintRender.Status.FAILED
    assert "longer than 1 seconds" in render.error
    assert not render.pdf


def test_the_task_renders_and_a_worker_survives_a_hostile_render(branded, owner, monkeypatch, eager_celery):
    poster = make_print(branded, owner)
    (render,) = printing.print_request(asset=poster, enqueue=False)
    monkeypatch.setattr(printing, "RENDER_TIMEOUT", 1)
    with monkeypatch.context() as patched:
        patched.setattr(printing, "print_html", lambda *, render: "<p>" + "<b>x</b> " * 400_000 + "</p>")
        print_tasks.render_print.apply(args=[poster.pk])
    render.refresh_from_db()
    assert render.status == PrintRender.Status.FAILED

    printing.print_request(asset=poster, force=True, enqueue=False)
    print_tasks.render_print.apply(args=[poster.pk])

    render.refresh_from_db()
    assert render.status == PrintRender.Status.DONE


def test_saving_queues_the_render_after_commit(branded, owner, eager_celery, django_capture_on_commit_callbacks):
    poster = make_print(branded, owner)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        printing.print_request(asset=poster)

    assert len(callbacks) == 1
    render = poster.print_renders.get()
    assert render.status == PrintRender.Status.DONE


def test_a_claimed_render_is_not_done_twice(branded, owner, monkeypatch):
    poster = make_print(branded, owner)
    (render,) = printing.print_request(asset=poster, enqueue=False)
    PrintRender.objects.filter(pk=render.pk).update(status=PrintRender.Status.RENDERING, started_at=timezone.now())
    monkeypatch.setattr("lib.pdf.html_to_pdf", lambda *a, **k: pytest.fail("a second worker rendered"))

    printing.print_render(render=render)

    render.refresh_from_db()
    assert render.status == PrintRender.Status.RENDERING


def test_a_render_killed_by_the_hard_limit_shows_as_failed(branded, owner):
    poster = make_print(branded, owner)
    (render,) = printing.print_request(asset=poster, enqueue=False)
    long_ago = timezone.now() - printing.STUCK_AFTER - datetime.timedelta(minutes=1)
    PrintRender.objects.filter(pk=render.pk).update(status=PrintRender.Status.RENDERING, started_at=long_ago)
    render.refresh_from_db()
    assert printing.is_stuck(render)

    printing.print_render(render=render)

    render.refresh_from_db()
    assert render.status == PrintRender.Status.FAILED
    assert render.error


def test_the_command_renders_every_print_asset_of_a_project(branded, owner, capsys):
    make_print(branded, owner)
    make_print(branded, owner, channel="handout", title="Handout")
    make_print(branded, owner, channel="email", title="Not printed", subject="Hej")

    call_command("render_print", "--project", branded.slug)

    out = capsys.readouterr().out
    assert out.count("page(s)") == 2
    assert PrintRender.objects.filter(asset__project=branded, status=PrintRender.Status.DONE).count() == 2


def test_saving_a_print_asset_or_a_session_or_the_brand_queues_the_worker(
    branded, owner, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(
        "campaigns.printing.tasks.render_print.apply_async", lambda args, kwargs=None, **options: queued.append(*args)
    )
    poster = make_print(branded, owner)
    email = make_print(branded, owner, channel="email", title="Mejl", subject="Hej")
    meeting = make_meeting_at_sites(branded, owner, {"Västerås": "Lunchrummet"})

    with django_capture_on_commit_callbacks(execute=True):
        plan.asset_update(asset=poster, by=owner, headline="Ny rubrik")
    with django_capture_on_commit_callbacks(execute=True):
        plan.asset_update(asset=email, by=owner, subject="Hej igen")
    assert queued == [poster.pk]

    with django_capture_on_commit_callbacks(execute=True):
        plan.meeting_sessions_save(meeting=meeting, save=[], delete=list(meeting.sessions.all()), by=owner)
    with django_capture_on_commit_callbacks(execute=True):
        from campaigns.projects import services

        services.project_update(project=branded, by=owner, primary_color="#333333")
    assert queued == [poster.pk, poster.pk, poster.pk]


def test_the_worker_checks_the_hash_itself(branded, owner):
    poster = make_print(branded, owner)

    print_tasks.render_print.apply(args=[poster.pk])
    (render,) = poster.print_renders.all()
    assert render.status == PrintRender.Status.DONE
    first = render.rendered_at

    print_tasks.render_print.apply(args=[poster.pk])
    render.refresh_from_db()
    assert render.rendered_at == first


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_does_not_break_the_save(branded, owner, monkeypatch, caplog):
    def broker_down(args, kwargs=None, **options):
        raise ConnectionError("Error 111 connecting to the broker")

    monkeypatch.setattr("campaigns.printing.tasks.render_print.apply_async", broker_down)
    poster = make_print(branded, owner)

    plan.asset_update(asset=poster, by=owner, headline="Ny rubrik")  # no error escapes

    poster.refresh_from_db()
    assert poster.headline == "Ny rubrik"
    assert "Error 111 connecting to the broker" in caplog.text


# A new project's print, before anyone has an image or has written a headline.


def test_a_poster_from_the_plan_template_never_prints_the_plans_internal_title(project, owner):
    from campaigns.models import PlanTemplate

    template = PlanTemplate.objects.filter(items__channel="poster").first()
    items = [item for item in template.items.all() if item.channel == "poster"]
    (poster,) = plan.plan_apply_template(project=project, template=template, items=items, by=owner)
    (render,) = printing.print_request(asset=poster, enqueue=False)

    html = printing.print_html(render=render)

    assert poster.headline == "" and poster.title not in html
    assert project.name in html


def test_without_an_image_the_poster_has_a_typographic_cover_and_the_text_keeps_its_spaces(project, owner):
    poster = make_print(project, owner, headline="", body="<p>Logga in.</p><ul><li>Välj vecka</li><li>Spara</li></ul>")
    (render,) = printing.print_request(asset=poster, enqueue=False)

    html = printing.print_html(render=render)

    assert 'class="cover"' in html and 'class="cover-title' in html and f">{project.name}</p>" in html
    assert "<h1>" not in html  # the cover names the project; no second, identical headline
    assert "Logga in. • Välj vecka • Spara" in html  # paragraphs and list items kept apart


# Any brand, no images: what the print shows must still read (checked on the rendered pixels)


def _contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    from lib.colors import contrast_ratio

    return contrast_ratio("#{:02x}{:02x}{:02x}".format(*a), "#{:02x}{:02x}{:02x}".format(*b))


def _ink_on_ground(image, box: tuple[float, float, float, float]) -> float:
    """The contrast between a region's ground (its commonest colour) and its ink (the commonest colour
    clearly unlike the ground): what a reader of that region sees."""
    width, height = image.size
    region = image.crop((int(box[0] * width), int(box[1] * height), int(box[2] * width), int(box[3] * height)))
    counts = region.getcolors(maxcolors=1 << 20)
    counts.sort(reverse=True)
    ground = counts[0][1]
    ink = next(color for _n, color in counts if _contrast(color, ground) >= 1.5)
    return _contrast(ink, ground)


@pytest.mark.parametrize("primary, accent", [("#fff3b0", "#ffd6e8"), ("#0b0b2e", "#3a0ca3"), ("#f2f2f2", "#e0e0e0")])
def test_a_poster_without_images_reads_in_any_brand(project, owner, primary, accent):
    """A very light or very dark brand, no logo, no hero: the cover and the panel keep their text readable."""
    project.primary_color, project.accent_color = primary, accent
    project.save()
    poster = make_print(project, owner, headline="")
    (render,) = render_now(poster)
    page = pdf_of(render)[0]
    image = page.render(scale=0.6).to_pil().convert("RGB")

    assert _ink_on_ground(image, (0.06, 0.12, 0.94, 0.36)) >= 3.0  # the cover: large type, so AA large
    assert _ink_on_ground(image, (0.06, 0.42, 0.94, 0.62)) >= 4.5  # the panel's text
