"""lib.pdf: WeasyPrint reads only data: URIs and our own media and static files, and stops at a time limit."""

import base64
import ctypes
import http.server
import io
import logging
import threading
import time
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from lib.pdf import RenderTimeout, html_to_pdf

BASE_URL = "http://localhost:8000/"
SECRET = "TOP-SECRET-MARKER"


def pdf_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def attachment_count(pdf: bytes) -> int:
    document = pdfium.PdfDocument(pdf)
    try:
        return document.count_attachments()
    finally:
        document.close()


def embedded_fonts(pdf: bytes) -> set[tuple[str, bool]]:
    """(base font name, embedded?) of every text object on the first page."""
    document = pdfium.PdfDocument(pdf)
    fonts = set()
    try:
        for obj in document[0].get_objects():
            if obj.type == pdfium.raw.FPDF_PAGEOBJ_TEXT:
                font = pdfium.raw.FPDFTextObj_GetFont(obj.raw)
                size = pdfium.raw.FPDFFont_GetBaseFontName(font, None, 0)
                buffer = ctypes.create_string_buffer(size)
                pdfium.raw.FPDFFont_GetBaseFontName(font, buffer, size)
                fonts.add((buffer.value.decode(), bool(pdfium.raw.FPDFFont_GetIsEmbedded(font))))
    finally:
        document.close()
    return fonts


def png_bytes(color=(200, 30, 30), size=(40, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def bait_server():
    """A local HTTP server standing in for Redis, cloud metadata and a redirector; it records every hit."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            if self.path.startswith("/redirect"):
                self.send_response(302)
                self.send_header("Location", "file:///etc/passwd")
                self.end_headers()
                return
            body = f'body::after {{ content: "{SECRET}" }}'.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def page(head: str = "", body: str = "") -> str:
    return f"<!doctype html><html><head><meta charset=utf-8>{head}</head><body><p>Visible words</p>{body}</body></html>"


HOSTILE = {
    "file as image": lambda srv: page(body='<img src="file:///etc/passwd">'),
    "file as stylesheet": lambda srv: page(head='<link rel="stylesheet" href="file:///etc/passwd">'),
    "file as attachment": lambda srv: page(body='<a rel="attachment" href="file:///etc/passwd">passwd</a>'),
    "file via media traversal": lambda srv: page(body='<img src="/media/../../../../../etc/passwd">'),
    "file via encoded traversal": lambda srv: page(body='<img src="/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd">'),
    "redis port": lambda srv: page(body='<img src="http://127.0.0.1:6379/">'),
    "metadata import": lambda srv: page(head="<style>@import url(http://169.254.169.254/latest/meta-data/);</style>"),
    "local http stylesheet": lambda srv: page(head=f'<link rel="stylesheet" href="http://{srv}/style.css">'),
    "local http import": lambda srv: page(head=f"<style>@import url(http://{srv}/import.css);</style>"),
    "protocol-relative": lambda srv: page(head=f'<link rel="stylesheet" href="//{srv}/relative.css">'),
    "redirect": lambda srv: page(head=f'<link rel="stylesheet" href="http://{srv}/redirect">'),
    "attachment over http": lambda srv: page(body=f'<a rel="attachment" href="http://{srv}/leak">x</a>'),
    "font over http": lambda srv: page(
        head=f"<style>@font-face {{ font-family: X; src: url(http://{srv}/f.woff); }}</style>"
    ),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_it_refuses_every_fetch_outside_our_files(case, bait_server, caplog):
    address, hits = bait_server
    caplog.set_level(logging.WARNING, logger="lib.pdf")

    pdf = html_to_pdf(HOSTILE[case](address), base_url=BASE_URL)

    text = pdf_text(pdf)
    assert "Visible words" in text
    assert "root:" not in text and SECRET not in text
    assert b"root:x:0" not in pdf and SECRET.encode() not in pdf
    assert attachment_count(pdf) == 0
    assert hits == []  # nothing was even asked for
    assert any("refused to fetch" in record.getMessage() for record in caplog.records)


def test_it_refuses_a_symlink_in_media_that_points_outside(settings, caplog):
    media = Path(settings.MEDIA_ROOT)
    (media / "evil.css").symlink_to("/etc/passwd")
    caplog.set_level(logging.WARNING, logger="lib.pdf")

    pdf = html_to_pdf(page(head='<link rel="stylesheet" href="/media/evil.css">'), base_url=BASE_URL)

    assert b"root:x:0" not in pdf
    assert any("refused to fetch" in record.getMessage() for record in caplog.records)


def test_it_reads_our_media_files_and_data_uris(settings, caplog):
    media = Path(settings.MEDIA_ROOT)
    (media / "projects").mkdir()
    (media / "projects" / "red.png").write_bytes(png_bytes())
    data_uri = "data:image/png;base64," + base64.b64encode(png_bytes((20, 200, 20))).decode()
    caplog.set_level(logging.WARNING, logger="lib.pdf")

    pdf = html_to_pdf(
        page(body=f'<img src="/media/projects/red.png" width="200"><img src="{data_uri}" width="200">'),
        base_url=BASE_URL,
    )

    assert not [r for r in caplog.records if "refused" in r.getMessage()]
    document = pdfium.PdfDocument(pdf)
    images = [obj for obj in document[0].get_objects() if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
    assert len(images) == 2


def test_it_embeds_our_shipped_font():
    head = (
        "<style>@font-face { font-family: Brand; "
        "src: url(/static/fonts/source-sans-3/source-sans-3-latin-400-normal.woff); } body { font-family: Brand; }</style>"
    )

    pdf = html_to_pdf(page(head=head), base_url=BASE_URL)

    fonts = embedded_fonts(pdf)
    assert fonts and all(embedded for _name, embedded in fonts)
    assert any(name.endswith("+Brand") for name, _embedded in fonts)


def test_a_hostile_render_stops_at_the_time_limit():
    hostile = page(
        head="<style>p { font-size: 2px; } span { font-size: 300px }</style>",
        body="".join(f"<p>{'ord ' * 300}<span>Ö</span></p>" for _ in range(4000)),
    )
    started = time.monotonic()

    with pytest.raises(RenderTimeout):
        html_to_pdf(hostile, base_url=BASE_URL, timeout=1)

    assert time.monotonic() - started < 20  # generous: a loaded CI machine, the render alone takes minutes
    # and the process carries on rendering normally
    assert "Visible words" in pdf_text(html_to_pdf(page(), base_url=BASE_URL, timeout=10))


def test_the_time_limit_also_holds_off_the_main_thread():
    import threading

    hostile = page(body="".join(f"<p>{'ord ' * 300}</p>" for _ in range(4000)))
    outcome = {}

    def render() -> None:
        started = time.monotonic()
        try:
            html_to_pdf(hostile, base_url=BASE_URL, timeout=1)
        except RenderTimeout:
            outcome["stopped_after"] = time.monotonic() - started

    thread = threading.Thread(target=render)
    thread.start()
    thread.join(60)

    assert not thread.is_alive()
    assert outcome["stopped_after"] < 20


def _swallow_stops(limit: float, run_for: float) -> int:
    """Busy work inside a time limit that drops each stop once, as a finaliser or C callback would."""
    from lib.pdf import time_limit

    stops = 0
    deadline = time.monotonic() + run_for
    with time_limit(limit):
        while time.monotonic() < deadline:
            try:
                while time.monotonic() < deadline:
                    pass
            except RenderTimeout:
                stops += 1
    return stops


def test_a_dropped_stop_is_raised_again():
    assert _swallow_stops(0.1, run_for=1.5) >= 2


def test_a_dropped_stop_is_raised_again_off_the_main_thread():
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(stops=_swallow_stops(0.1, run_for=1.5)))
    thread.start()
    thread.join(10)
    assert outcome["stops"] >= 2
