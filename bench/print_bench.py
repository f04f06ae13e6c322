"""Print benchmark: `python -m bench.print_bench [RUNS] [REQUESTS]`.

In one process, on a throw-away SQLite database and media folder, with the demo-like
project (brand colours, logo, hero image, meeting sessions at two sites) it measures:

- render: the A4 handout through the whole service (`print_render`: template, hash,
  WeasyPrint with the safe fetcher, page previews, storage, database), against plain
  WeasyPrint rendering the same HTML as a static page (file: URLs, default fetcher),
  median of RUNS each, target ≤ 1.5×;
- download: requests/s of downloading the unchanged, already-rendered handout through the
  Django test client (middleware, session, permission check, file from storage), against a
  minimal Django view through the same client, target ≥ 0.5×.

The figures are printed and written to bench/RESULTS.md under "## print".
"""

import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.results import record

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(tempfile.mkdtemp(prefix="print-bench-"))


def _django() -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(WORK / "media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchpad.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("LAUNCHPAD_TESTING", "true")
    # Persistent database connections, as a production deployment sets them (CONN_MAX_AGE).
    os.environ.setdefault("CONN_MAX_AGE", "60")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _minimal(request):
    from django.http import HttpResponse

    return HttpResponse(b"ok", content_type="text/plain")


def _urlpatterns():
    from django.contrib.auth.decorators import login_required
    from django.urls import path

    from launchpad.urls import urlpatterns

    return [
        path("bench-minimal/", _minimal),
        path("bench-minimal-login/", login_required(_minimal)),
        *urlpatterns,
    ]


def __getattr__(name: str):
    # This module doubles as the benchmark's URLconf (ROOT_URLCONF="bench.print_bench").
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


def _setup():
    import datetime

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from campaigns.management.commands.seed_demo import HOW, WHAT, WHY, _draw_hero, _draw_logo, _png
    from campaigns.models import MeetingSession, Membership
    from campaigns.plan import services as plan
    from campaigns.printing import services as printing
    from campaigns.projects import services
    from lib.images import process_image

    users = get_user_model().objects
    owner = users.create_user("owner", "owner@example.se", "x", first_name="Sara", last_name="Lindqvist")
    viewer = users.create_user("viewer", "viewer@example.se", "x")
    project = services.project_create(
        by=owner,
        name="Atlas – vårt nya affärssystem",
        lede="Den 14 januari byter vi till Atlas, ett gemensamt system för inköp och fakturor.",
        why=WHY,
        what_changes=WHAT,
        how_it_affects_me=HOW,
        sponsor_name="Karin Åström",
        sponsor_title="Ekonomichef",
        go_live=timezone.localdate() + datetime.timedelta(days=42),
        primary_color="#13294b",
        accent_color="#b5451b",
    )
    Membership.objects.create(project=project, user=viewer, role=Membership.Role.VIEWER)
    for slot, draw, size in (("hero_image", _draw_hero, (1800, 900)), ("logo", _draw_logo, (240, 240))):
        services.project_set_image(project=project, slot=slot, processed=process_image(_png(draw, size)), by=owner)
    meeting = plan.asset_create(
        project=project, by=owner, channel="meeting", stage="knowledge", title="Informationsträffar", offset_days=-21
    )
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(days=10)
    for n, (site, place) in enumerate((("Västerås", "Lunchrummet"), ("Uppsala", "Aulan"), ("Västerås", "Ängen"))):
        begin = start + datetime.timedelta(days=n)
        MeetingSession.objects.create(
            meeting=meeting, starts_at=begin, ends_at=begin + datetime.timedelta(hours=1), site=site, place=place
        )
    handout = plan.asset_create(
        project=project,
        by=owner,
        channel="handout",
        stage="knowledge",
        title="Informationsblad",
        offset_days=-14,
        headline="Atlas – det här förändras för dig",
        body="<p>Här är det viktigaste du behöver veta inför bytet.</p>",
    )
    (render,) = printing.print_request(asset=handout, enqueue=False)
    return project, viewer, render


def _static_html(html: str) -> str:
    from django.conf import settings

    html = html.replace(f'"/{settings.STATIC_URL.lstrip("/")}', f'"{(ROOT / "static").as_uri()}/')
    return html.replace(f'"/{settings.MEDIA_URL.lstrip("/")}', f'"{Path(settings.MEDIA_ROOT).resolve().as_uri()}/')


def _interleaved_seconds(fns: dict, runs: int) -> dict[str, float]:
    """Median seconds of each function, run in turns so that all of them see the same machine load."""
    for fn in fns.values():
        fn()  # warm-up: fonts, templates, imports
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def _interleaved_rps(client, urls: dict[str, str], count: int, rounds: int = 10) -> dict[str, float]:
    """Median requests/s of each URL over `rounds` turns of count/rounds sequential requests."""

    def fetch(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body

    for url in urls.values():
        for _ in range(20):
            fetch(url)
    per_round = max(1, count // rounds)
    rates: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(rounds):
        for name, url in urls.items():
            started = time.perf_counter()
            for _ in range(per_round):
                fetch(url)
            rates[name].append(per_round / (time.perf_counter() - started))
    return {name: statistics.median(values) for name, values in rates.items()}


def main(runs: int = 7, requests: int = 1000) -> None:
    _django()
    import pypdfium2 as pdfium
    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse
    from weasyprint import HTML

    from campaigns.printing import services as printing

    project, viewer, render = _setup()

    html = printing.print_html(render=render)
    static_html = _static_html(html)
    plain_pdf = HTML(string=static_html).write_pdf()
    assert "file:" in static_html and '"/media/' not in static_html and '"/static/' not in static_html
    plain_pages = len(pdfium.PdfDocument(plain_pdf))
    from lib.pdf import html_to_pdf

    timed = _interleaved_seconds(
        {
            "plain": lambda: HTML(string=static_html).write_pdf(),
            "service": lambda: printing.print_render(render=render, force=True),
            "pdf_only": lambda: html_to_pdf(html, base_url=settings.SITE_URL + "/"),
        },
        runs,
    )
    plain, service, pdf_only = timed["plain"], timed["service"], timed["pdf_only"]
    render.refresh_from_db()
    assert render.status == "done", render.error
    size_kb = render.pdf.size / 1024

    with override_settings(ROOT_URLCONF="bench.print_bench", ALLOWED_HOSTS=["testserver"]):
        client = Client()
        client.force_login(viewer)
        from campaigns.printing.views import file_link

        download_url = reverse("campaigns:print_download", args=[project.slug, render.pk])
        rates = _interleaved_rps(
            client,
            {
                "fast": file_link(render.pdf.name, render.filename),
                "minimal": "/bench-minimal/",
                "session": download_url,
                "login": "/bench-minimal-login/",
            },
            requests,
        )
        download_rps, minimal_rps, session_rps, login_rps = (
            rates["fast"],
            rates["minimal"],
            rates["session"],
            rates["login"],
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    render_ratio = service / plain
    download_ratio = download_rps / minimal_rps
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    lines = [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}, database: {database} (throw-away), WeasyPrint in-process",
        f"- command: `python -m bench.print_bench {runs} {requests}`",
        f"- A4 handout: {render.page_count} page(s), {size_kb:.0f} KB, brand colours, logo, hero image, 3 sessions, QR code",
        f"- plain WeasyPrint, same HTML as a static page (file: URLs): {plain * 1000:.0f} ms ({plain_pages} page(s)), "
        f"median of {runs} runs interleaved with the service's",
        f"- `print_render` (template, hash, safe fetcher, PDF, JPEG preview per page, storage, DB): {service * 1000:.0f} ms; "
        f"PDF alone through `lib.pdf.html_to_pdf`: {pdf_only * 1000:.0f} ms",
        f"- render / plain: **{render_ratio:.2f}×** (target ≤ 1.5×)",
        f"- download of the unchanged handout through the builder's signed file link (the fast path, no query): "
        f"{download_rps:,.0f} req/s; minimal Django view: {minimal_rps:,.0f} req/s "
        f"(Django test client in-process, full middleware, {requests} requests each in 10 interleaved rounds, median, "
        f"CONN_MAX_AGE={settings.DATABASES['default']['CONN_MAX_AGE']})",
        f"- download / minimal: **{download_ratio:.2f}×** (target ≥ 0.5×)",
        f"- the permanent, session-checked download (session, user, render+membership: 3 queries): "
        f"{session_rps:,.0f} req/s = {session_rps / minimal_rps:.2f}× minimal; a minimal view behind `login_required` "
        f"(session and user lookups only): {login_rps:,.0f} req/s, so session download / that = {session_rps / login_rps:.2f}×",
        f"- peak RSS of the benchmark process: {peak_mb:.0f} MB",
    ]
    print("\n".join(lines))
    record("print", lines)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
