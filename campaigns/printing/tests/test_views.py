"""Print builder views: who may see, render and download what."""

import io
import zipfile

import pytest
from django.urls import reverse

from campaigns.models import PrintRender
from campaigns.printing import services as printing
from campaigns.printing.tests.test_services import make_print, render_now


@pytest.fixture
def poster(project, owner):
    return make_print(project, owner)


@pytest.fixture
def rendered(poster):
    (render,) = render_now(poster)
    render.refresh_from_db()
    return render


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "campaigns.printing.tasks.render_print.apply_async", lambda args, kwargs=None, **options: calls.append(*args)
    )
    return calls


def urls(project, poster, render) -> dict[str, str]:
    return {
        "overview": reverse("campaigns:print_overview", args=[project.slug]),
        "asset": reverse("campaigns:print_asset", args=[project.slug, poster.pk]),
        "download": reverse("campaigns:print_download", args=[project.slug, render.pk]),
        "preview": reverse("campaigns:print_preview", args=[project.slug, render.pk, 1]),
        "pack": reverse("campaigns:print_pack", args=[project.slug]),
    }


def test_it_hides_everything_from_an_outsider(client, outsider, project, poster, rendered, queued):
    client.force_login(outsider)
    for url in urls(project, poster, rendered).values():
        assert client.get(url).status_code == 404
    response = client.post(reverse("campaigns:print_render", args=[project.slug, poster.pk]))
    assert response.status_code == 404
    assert queued == []


def test_it_sends_an_anonymous_visitor_to_log_in(client, project, poster, rendered):
    response = client.get(urls(project, poster, rendered)["download"])
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_a_viewer_sees_the_state_previews_and_can_download(client, viewer, project, poster, rendered):
    client.force_login(viewer)
    page = client.get(urls(project, poster, rendered)["asset"])

    assert page.status_code == 200
    content = page.content.decode()
    assert page.context["renders"][0].preview_links[0] in content
    assert page.context["renders"][0].pdf_link in content
    assert reverse("campaigns:print_download", args=[project.slug, rendered.pk]) in content
    assert reverse("campaigns:print_render", args=[project.slug, poster.pk]) not in content

    download = client.get(urls(project, poster, rendered)["download"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    assert rendered.filename in download["Content-Disposition"]

    preview = client.get(urls(project, poster, rendered)["preview"])
    assert preview.status_code == 200 and preview["Content-Type"] == "image/jpeg"


def test_a_viewer_may_not_render(client, viewer, project, poster, queued):
    client.force_login(viewer)

    response = client.post(reverse("campaigns:print_render", args=[project.slug, poster.pk]), {"force": "on"})

    assert response.status_code == 403
    assert queued == []
    assert not PrintRender.objects.filter(asset=poster).exists()


def test_an_editor_renders_and_the_worker_is_queued_after_commit(
    client, editor, project, poster, queued, django_capture_on_commit_callbacks
):
    client.force_login(editor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("campaigns:print_render", args=[project.slug, poster.pk]), {"force": "on"})

    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:print_asset", args=[project.slug, poster.pk])
    assert queued == [poster.pk]
    render = PrintRender.objects.get(asset=poster)
    assert render.status == PrintRender.Status.PENDING
    page = client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' in page


def test_an_editor_adds_a_print_ready_english_version(client, editor, project, poster, queued):
    project.other_languages = ["en"]
    project.save()
    client.force_login(editor)
    client.post(reverse("campaigns:print_render", args=[project.slug, poster.pk]), {"language": "de"})
    assert not PrintRender.objects.filter(asset=poster, language="de").exists()  # not one of the project's

    client.post(
        reverse("campaigns:print_render", args=[project.slug, poster.pk]), {"language": "en", "print_ready": "on"}
    )

    variants = set(PrintRender.objects.filter(asset=poster).values_list("language", "print_ready"))
    assert variants == {("sv", False), ("en", True)}


def test_a_failed_render_shows_its_reason(client, owner, project, poster, rendered):
    PrintRender.objects.filter(pk=rendered.pk).update(status=PrintRender.Status.FAILED, error="Det tog för lång tid.")
    client.force_login(owner)

    content = client.get(reverse("campaigns:print_asset", args=[project.slug, poster.pk])).content.decode()

    assert "Det tog för lång tid." in content
    assert client.get(urls(project, poster, rendered)["download"]).status_code == 404


def test_an_unchanged_download_is_served_from_storage_in_few_queries(
    client, viewer, project, poster, rendered, django_assert_max_num_queries, monkeypatch
):
    client.force_login(viewer)
    url = urls(project, poster, rendered)["download"]
    monkeypatch.setattr("lib.pdf.html_to_pdf", lambda *a, **k: pytest.fail("rendered on download"))

    with django_assert_max_num_queries(4):
        response = client.get(url)
    assert response.status_code == 200
    etag = response["ETag"]

    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_the_print_pack_downloads_as_a_zip(client, viewer, project, poster, rendered):
    render_now(make_print(project, poster.created_by, channel="handout", title="Handout"))
    client.force_login(viewer)

    response = client.get(reverse("campaigns:print_pack", args=[project.slug]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert len(names) == 2


def test_the_overview_lists_print_assets_only(client, viewer, project, poster, rendered):
    make_print(project, poster.created_by, channel="email", title="Sponsorns mejl", subject="Hej")
    client.force_login(viewer)

    content = client.get(reverse("campaigns:print_overview", args=[project.slug])).content.decode()

    assert poster.title in content
    assert "Sponsorns mejl" not in content


def test_a_render_of_another_project_is_not_found(client, viewer, project, poster, rendered, owner):
    from campaigns.projects import services

    other = services.project_create(by=owner, name="Annat", lede="x", go_live="2027-01-01")
    other_render = render_now(make_print(other, owner))[0]
    client.force_login(viewer)

    url = reverse("campaigns:print_download", args=[project.slug, other_render.pk])
    assert client.get(url).status_code == 404


def test_an_email_asset_has_no_print_page(client, owner, project, poster):
    email = make_print(project, owner, channel="email", title="Mejl", subject="Hej")
    client.force_login(owner)

    assert client.get(reverse("campaigns:print_asset", args=[project.slug, email.pk])).status_code == 404
    with pytest.raises(printing.PrintUnavailable):
        printing.print_request(asset=email)


def test_the_signed_links_of_the_builder_page_serve_pdf_and_previews_without_a_query(
    client, viewer, project, poster, rendered, django_assert_num_queries
):
    client.force_login(viewer)
    item = client.get(urls(project, poster, rendered)["asset"]).context["renders"][0]
    client.logout()

    with django_assert_num_queries(0):
        pdf = client.get(item.pdf_link)
        png = client.get(item.preview_links[0])

    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")  # a few hundred KB: sent in one piece, not streamed
    assert rendered.filename in pdf["Content-Disposition"]
    assert png.status_code == 200 and png["Content-Type"] == "image/jpeg" and png.content.startswith(b"\xff\xd8\xff")


def test_a_tampered_expired_or_replaced_file_link_is_not_found(client, project, poster, rendered, monkeypatch):
    from django.core import signing

    from campaigns.printing import views as print_views

    good = print_views.file_link(rendered.pdf.name, rendered.filename)
    token = good.rstrip("/").rsplit("/", 1)[-1]
    assert client.get(good.replace(token, token[:-2] + "xx")).status_code == 404
    forged = signing.dumps(["../../etc/passwd", ""], salt="another-salt")
    assert client.get(reverse("campaigns:print_file", args=[forged])).status_code == 404
    settings_path = print_views.file_link("projects/1/print/secret.txt")
    assert client.get(settings_path).status_code == 404

    monkeypatch.setattr(print_views, "FILE_LINK_MAX_AGE", -1)
    assert client.get(good).status_code == 404
    monkeypatch.undo()

    printing.print_request(asset=poster, force=True, enqueue=False)
    printing.print_render(render=rendered)
    assert client.get(good).status_code == 404


def test_a_file_over_the_inline_limit_streams(client, viewer, project, poster, rendered, monkeypatch):
    from campaigns.printing import views as print_views

    client.force_login(viewer)
    item = client.get(urls(project, poster, rendered)["asset"]).context["renders"][0]
    monkeypatch.setattr(print_views, "INLINE_MAX_BYTES", 1024)

    pdf = client.get(item.pdf_link)

    assert pdf.streaming and b"".join(pdf.streaming_content).startswith(b"%PDF-")
    assert rendered.filename in pdf["Content-Disposition"]
