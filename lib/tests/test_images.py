"""The image pipeline against hostile and awkward uploads."""

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from campaigns.models import ChangeProject, ProjectImage
from lib.images import VARIANT_SIZES, ImageRejected, process_image

pytestmark = pytest.mark.usefixtures("english")


def _upload(data: bytes, name: str = "bild.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def _image_bytes(size=(40, 20), fmt="PNG", color="#13294b", **save_args) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **save_args)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header_claiming(width: int, height: int) -> bytes:
    """A valid PNG whose header claims width×height, with a tiny IDAT: nothing big is ever allocated."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _open(variant: tuple[bytes, str]) -> Image.Image:
    return Image.open(io.BytesIO(variant[0]))


def test_it_refuses_a_14000_by_14000_png_before_decoding():
    with pytest.raises(ImageRejected, match="pixels"):
        process_image(_upload(_png_header_claiming(14000, 14000)))


def test_it_refuses_an_image_over_the_configured_pixel_limit(settings):
    settings.MAX_IMAGE_PIXELS = 1_000_000
    with pytest.raises(ImageRejected, match="1001×1000"):
        process_image(_upload(_png_header_claiming(1001, 1000)))


def test_it_refuses_html_named_png():
    html = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
    with pytest.raises(ImageRejected, match="JPEG, PNG or WebP"):
        process_image(_upload(html, "hero.png"))


def test_it_refuses_an_svg():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
    with pytest.raises(ImageRejected, match="JPEG, PNG or WebP"):
        process_image(_upload(svg, "logo.svg", "image/svg+xml"))


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_it_refuses_formats_outside_the_allow_list(fmt):
    with pytest.raises(ImageRejected):
        process_image(_upload(_image_bytes(fmt=fmt), f"bild.{fmt.lower()}"))


def test_it_refuses_an_empty_file():
    with pytest.raises(ImageRejected, match="empty"):
        process_image(_upload(b""))


def test_it_refuses_a_file_over_the_upload_limit(settings):
    settings.MAX_UPLOAD_BYTES = 1000
    data = _image_bytes(size=(400, 400), fmt="BMP")  # far more than 1000 bytes
    with pytest.raises(ImageRejected, match="limit"):
        process_image(_upload(data))
    # A stream that does not know its size is cut off at the limit as well.
    with pytest.raises(ImageRejected, match="limit"):
        process_image(io.BytesIO(data))


def test_it_refuses_a_truncated_image():
    data = _image_bytes(size=(300, 300), fmt="JPEG", color="#b5451b")
    with pytest.raises(ImageRejected, match="damaged"):
        process_image(_upload(data[: len(data) // 2], "bild.jpg", "image/jpeg"))


def test_it_strips_gps_exif_from_every_variant():
    exif = Image.Exif()
    exif[0x010F] = "Spy Camera Inc."  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (59.0, 19.0, 48.0)
    gps[3] = "E"
    gps[4] = (18.0, 4.0, 6.0)
    data = _image_bytes(size=(64, 48), fmt="JPEG", exif=exif)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the fixture really carries GPS

    processed = process_image(_upload(data, "semester.jpg", "image/jpeg"))

    assert set(processed.variants) == {"web", "email", "print"}
    for variant in processed.variants.values():
        image = _open(variant)
        assert "exif" not in image.info
        assert not image.getexif()
        assert b"Spy Camera" not in variant[0]


def test_it_applies_exif_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = _image_bytes(size=(20, 10), fmt="JPEG", exif=exif)

    processed = process_image(_upload(data, "telefon.jpg", "image/jpeg"))

    assert (processed.width, processed.height) == (10, 20)
    for variant in processed.variants.values():
        image = _open(variant)
        assert image.size == (10, 20)
        assert not image.getexif()


def test_it_makes_web_email_and_print_variants():
    processed = process_image(_upload(_image_bytes(size=(4000, 2000), fmt="JPEG"), "stor.jpg", "image/jpeg"))
    sizes = {name: _open(variant).size for name, variant in processed.variants.items()}
    assert sizes == {"web": (1600, 800), "email": (1200, 600), "print": (3500, 1750)}
    assert {ext for _data, ext in processed.variants.values()} == {"jpg"}
    assert VARIANT_SIZES == {"web": 1600, "email": 1200, "print": 3500}


def test_it_never_enlarges_a_small_image():
    processed = process_image(_upload(_image_bytes(size=(300, 200))))
    assert {_open(v).size for v in processed.variants.values()} == {(300, 200)}


def test_it_keeps_transparency_as_png():
    out = io.BytesIO()
    Image.new("RGBA", (30, 30), (255, 0, 0, 0)).save(out, "PNG")
    processed = process_image(_upload(out.getvalue(), "logo.png"))
    assert {ext for _data, ext in processed.variants.values()} == {"png"}
    assert _open(processed.variants["web"]).mode == "RGBA"


def test_it_accepts_webp():
    processed = process_image(_upload(_image_bytes(fmt="WEBP"), "bild.webp", "image/webp"))
    assert processed.source_format == "WEBP"


# Through the project form.


def _files_under(root) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()]


def _form(**changes) -> dict:
    data = {
        "name": "Nytt intranät",
        "lede": "Vi byter intranät.",
        "go_live": "2027-05-01",
        "status": "planning",
        "tracking_mode": "anonymous",
        "primary_color": "#13294b",
        "accent_color": "#b5451b",
        "hero_alt": "Ett kontor",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(lambda: _upload(b"<html><script>alert(1)</script></html>", "hero.png"), id="html"),
        pytest.param(lambda: _upload(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "hero.svg"), id="svg"),
        pytest.param(lambda: _upload(_png_header_claiming(14000, 14000), "hero.png"), id="bomb"),
    ],
)
def test_a_bad_hero_shows_a_form_error_and_writes_nothing(client, owner, settings, upload):
    client.force_login(owner)
    response = client.post(reverse("campaigns:project_create"), {**_form(), "hero_upload": upload()})
    assert response.status_code == 200
    assert response.context["form"].errors["hero_upload"]
    assert not ChangeProject.objects.exists()
    assert not ProjectImage.objects.exists()
    assert _files_under(settings.MEDIA_ROOT) == []


def test_a_bad_hero_on_edit_keeps_the_project_unchanged(client, project, editor, settings):
    client.force_login(editor)
    data = _form(name="Ändrat namn", hero_upload=_upload(b"GIF89a not really", "hero.png"))
    response = client.post(reverse("campaigns:project_edit", args=[project.slug]), data)
    assert response.status_code == 200
    assert response.context["form"].errors["hero_upload"]
    project.refresh_from_db()
    assert project.name == "Nytt ekonomisystem"
    assert project.hero_image is None
    assert not ProjectImage.objects.exists()
    assert _files_under(settings.MEDIA_ROOT) == []


def test_a_good_hero_is_stored_in_three_sizes_with_its_alt_text(client, owner, settings):
    client.force_login(owner)
    hero = _upload(_image_bytes(size=(2000, 1000), fmt="PNG"), "../../hero.png")
    response = client.post(reverse("campaigns:project_create"), {**_form(), "hero_upload": hero})
    assert response.status_code == 302
    project = ChangeProject.objects.get()
    image = project.hero_image
    assert image.alt_text == "Ett kontor"
    assert (image.original_width, image.original_height) == (2000, 1000)
    assert (image.web_width, image.web_height) == (1600, 800)
    assert image.original_name == "hero.png"
    files = _files_under(settings.MEDIA_ROOT)
    assert len(files) == 3
    assert all(f.is_relative_to(Path(settings.MEDIA_ROOT) / "projects" / str(project.pk)) for f in files)


def test_a_hero_needs_alt_text(client, owner, settings):
    client.force_login(owner)
    hero = _upload(_image_bytes(size=(200, 100)), "hero.png")
    response = client.post(reverse("campaigns:project_create"), {**_form(hero_alt=""), "hero_upload": hero})
    assert response.status_code == 200
    assert response.context["form"].errors["hero_alt"]
    assert not ProjectImage.objects.exists()
    # The valid image is kept for the next submission (lib.uploads), under pending/ only.
    assert [p.parent.name for p in _files_under(settings.MEDIA_ROOT)] == ["pending"]
    assert 'id="hero-kept"' in response.content.decode()


def test_it_refuses_a_truncated_image_even_after_weasyprint_relaxed_pillow(monkeypatch):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # what `import weasyprint` does
    data = _image_bytes(size=(300, 300), fmt="PNG", color="#b5451b")
    with pytest.raises(ImageRejected, match="damaged"):
        process_image(_upload(data[: len(data) - 30]))
