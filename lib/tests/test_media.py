"""Uploaded media is served only for known types, never sniffed, never outside MEDIA_ROOT."""

from pathlib import Path

import pytest
from django.urls import reverse


@pytest.fixture
def media(settings) -> Path:
    root = Path(settings.MEDIA_ROOT)
    (root / "projects" / "1" / "images").mkdir(parents=True)
    (root / "projects" / "1" / "images" / "abc.png").write_bytes(b"\x89PNG\r\n\x1a\n fake")
    (root / "projects" / "1" / "images" / "abc.html").write_text("<script>alert(1)</script>")
    (root / "projects" / "1" / "images" / "abc.svg").write_text("<svg/>")
    (root.parent / "secret.png").write_bytes(b"outside media root")
    return root


def _url(path: str) -> str:
    return reverse("media", kwargs={"path": path})


@pytest.mark.parametrize(
    "name,content_type", [("abc.png", "image/png"), ("ABC.JPG", "image/jpeg"), ("a.pdf", "application/pdf")]
)
def test_it_serves_known_types_with_nosniff(client, media, name, content_type):
    target = media / "projects" / "1" / "images" / name
    if not target.exists():
        target.write_bytes(b"data")
    response = client.get(_url(f"projects/1/images/{name}"))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == target.read_bytes()


@pytest.mark.parametrize("path", ["projects/1/images/abc.html", "projects/1/images/abc.svg", "projects/1/images/abc"])
def test_it_refuses_unknown_extensions(client, media, path):
    assert client.get(_url(path)).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "../secret.png",
        "projects/../../secret.png",
        "projects/1/../../../secret.png",
        "%2e%2e/secret.png",
        "..%2fsecret.png",
    ],
)
def test_it_refuses_traversal(client, media, path):
    response = client.get("/media/" + path)
    assert response.status_code == 404
    assert b"outside media root" not in response.content


def test_it_refuses_a_missing_file(client, media):
    assert client.get(_url("projects/1/images/nothing.png")).status_code == 404


def test_it_refuses_a_directory(client, media):
    assert client.get(_url("projects/1/images.png")).status_code == 404
    assert client.get(_url("projects/1/")).status_code == 404


def test_it_refuses_writes(client, media):
    assert client.post(_url("projects/1/images/abc.png")).status_code == 405


def test_it_refuses_a_symlink_leading_out_of_media(client, media):
    (media / "projects" / "1" / "images" / "link.png").symlink_to(media.parent / "secret.png")
    response = client.get(_url("projects/1/images/link.png"))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    ["a%00.png", "a" * 300 + ".png", "a/" * 3000 + "x.png", "%2F%2Fetc/passwd.png", "/etc/hostname.png"],
    ids=["nul-byte", "long-name", "long-path", "encoded-root", "absolute"],
)
def test_it_gives_404_not_500_for_hostile_paths(client, media, path):
    assert client.get("/media/" + path).status_code == 404
