"""Dashboard benchmark: `python -m bench.analytics_bench [LARGE] [SMALL] [VIEWS]`.

In one fresh PostgreSQL database (`benchdash` unless DATABASE_URL says otherwise) and in the
same run, builds two projects with five audiences and ten sent emails each: one to SMALL
(default 1 000) recipients, one to LARGE (default 100 000), i.e. 10 000 and 1 000 000
Delivery rows, bulk-inserted with COPY, with opens and clicks (individual tracking), personal
visits, pulse answers and meeting bookings. Then it measures, for each project:

- the dashboard page (Django test client, full middleware, a viewer's session): VIEWS
  requests each, interleaved, median, and the number of queries;
- the refresh of the rollups (`analytics_refresh`), three times each, best.

Target: page time at LARGE ÷ page time at SMALL ≤ 1.5× (the page reads rollups only).
"""

import os
import platform
import random
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.databases import recreate_postgres_database
from bench.results import record

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/benchdash"
DEPARTMENTS = ["Drift", "Lager", "Ekonomi", "Kundservice", "IT", "Försäljning"]
SITES = ["Västerås", "Stockholm", "Eskilstuna", "Uppsala", "Örebro"]
EMAILS = 10


def _fresh_database() -> None:
    import environ

    url = os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        raise SystemExit("the analytics benchmark needs PostgreSQL (DATABASE_URL)")
    recreate_postgres_database(config)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchpad.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("CONN_MAX_AGE", "60")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _copy(table: str, columns: list[str], rows) -> None:
    """COPY rows (tuples) into `table` through psycopg 3's copy protocol."""
    from django.db import connection

    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _build(name: str, size: int, site_tag: str, owner, viewer, rng: random.Random):
    """A project with `size` employees (their own sites), five audiences and ten sent emails."""
    from django.utils import timezone

    from audiences.models import Audience, Employee
    from campaigns.models import Asset, Delivery, LandingToken, MeetingSession, Membership, PulseResponse
    from campaigns.projects import services

    now = timezone.now()
    project = services.project_create(
        by=owner,
        name=name,
        lede="Benchmark launch.",
        go_live=timezone.localdate() + timedelta(days=20),
        tracking_mode="individual",
    )
    Membership.objects.create(project=project, user=viewer, role=Membership.Role.VIEWER)
    sites = [f"{s} {site_tag}" for s in SITES]
    start = (Employee.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    _copy(
        "audiences_employee",
        [
            "email",
            "first_name",
            "last_name",
            "department",
            "site",
            "title",
            "manager",
            "language",
            "extra",
            "is_active",
            "created_at",
            "updated_at",
        ],
        (
            (
                f"{site_tag}.{i}@bench.example",
                f"F{i}",
                f"L{i}",
                DEPARTMENTS[i % 6],
                sites[i % 5],
                "",
                "",
                "sv",
                "{}",
                True,
                now,
                now,
            )
            for i in range(size)
        ),
    )
    ids = list(range(start, start + size))
    everyone = Audience.objects.create(
        project=project,
        name="Alla",
        rules={"combine": "and", "rules": [{"field": "site", "op": "in", "values": sites}]},
    )
    audiences = [everyone]
    for department in DEPARTMENTS[:4]:
        rules = {
            "combine": "and",
            "rules": [
                {"field": "site", "op": "in", "values": sites},
                {"field": "department", "op": "in", "values": [department]},
            ],
        }
        audiences.append(Audience.objects.create(project=project, name=department, rules=rules))
    emails = [
        Asset.objects.create(
            project=project,
            channel="email",
            stage="awareness",
            title=f"Email {n}",
            offset_days=-30 + n,
            status=Asset.Status.DONE,
        )
        for n in range(EMAILS)
    ]
    for asset in emails:
        asset.audiences.set(audiences[:1])
    table = Delivery._meta.db_table
    for asset in emails:
        sent = now - timedelta(days=rng.randint(0, 20))
        _copy(
            table,
            [
                "asset_id",
                "employee_id",
                "audience_id",
                "status",
                "token",
                "message_id",
                "attempts",
                "last_error",
                "possible_duplicate",
                "sent_at",
                "opened_at",
                "clicked_at",
                "created_at",
            ],
            (
                (
                    asset.pk,
                    e,
                    everyone.pk,
                    "sent",
                    f"b{asset.pk}x{e}",
                    f"<{asset.pk}.{e}@bench>",
                    1,
                    "",
                    False,
                    sent,
                    sent + timedelta(hours=1) if e % 3 else None,
                    sent + timedelta(hours=2) if e % 7 == 0 else None,
                    sent,
                )
                for e in ids
            ),
        )
    _copy(
        LandingToken._meta.db_table,
        ["project_id", "employee_id", "audience_id", "token", "created_at", "visited_at"],
        ((project.pk, e, everyone.pk, f"l{project.pk}x{e}", now, now if e % 4 == 0 else None) for e in ids),
    )
    _copy(
        PulseResponse._meta.db_table,
        [
            "project_id",
            "round",
            "audience_id",
            "employee_id",
            "reaction",
            "awareness",
            "desire",
            "knowledge",
            "ability",
            "reinforcement",
            "created_at",
            "updated_at",
        ],
        (
            (
                project.pk,
                1,
                everyone.pk,
                e,
                "partly",
                rng.randint(3, 5),
                rng.randint(2, 5),
                rng.randint(1, 4),
                rng.randint(1, 4),
                rng.randint(1, 5),
                now,
                now,
            )
            for e in ids
            if e % 5 == 0
        ),
    )
    meeting = Asset.objects.create(
        project=project, channel="meeting", stage="knowledge", title="Meetings", offset_days=-5, status="scheduled"
    )
    session = MeetingSession.objects.create(
        meeting=meeting, starts_at=now + timedelta(days=5), ends_at=now + timedelta(days=5, hours=1), capacity=size
    )
    _copy(
        "campaigns_booking",
        [
            "session_id",
            "employee_id",
            "email",
            "name",
            "status",
            "confirm_token",
            "cancel_token",
            "ics_sequence",
            "created_at",
            "confirmed_at",
        ],
        (
            (session.pk, e, f"{site_tag}.{e}@bench.example", "", "confirmed", f"c{e}", f"x{e}", 0, now, now)
            for e in ids
            if e % 20 == 0
        ),
    )
    _cascade(project, everyone, ids, now)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return project


TEAM = 30  # the first of every 30 people manages the next 29


def _cascade(project, everyone, ids: list[int], now) -> None:
    """A manager cascade in flight: managers from the directory, a team talk briefed to all of them,
    two in three talks confirmed, the rest past their date."""
    from django.db import connection

    from campaigns.cascade.services import team_talks_create
    from campaigns.models import Asset, Delivery, TeamTalk

    first = ids[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audiences_employee SET manager_employee_id = %s + ((id - %s) / %s) * %s"
            " WHERE id BETWEEN %s AND %s AND (id - %s) %% %s <> 0",
            [first, first, TEAM, TEAM, first, ids[-1], first, TEAM],
        )
    talk = Asset.objects.create(
        project=project,
        channel="team_talk",
        stage="desire",
        title="Team talk",
        offset_days=-12,
        talk_by_days=-(project.go_live - now.date()).days - 2,  # due two days ago
        status=Asset.Status.DONE,
    )
    talk.audiences.set([everyone])
    managers = ids[::TEAM]
    _copy(
        Delivery._meta.db_table,
        [
            "asset_id",
            "employee_id",
            "audience_id",
            "status",
            "token",
            "message_id",
            "attempts",
            "last_error",
            "possible_duplicate",
            "sent_at",
            "created_at",
        ],
        (
            (talk.pk, m, everyone.pk, "sent", f"t{talk.pk}x{m}", f"<t{talk.pk}.{m}@bench>", 1, "", False, now, now)
            for m in managers
        ),
    )
    team_talks_create(asset=talk)
    held = [m for i, m in enumerate(managers) if i % 3]
    TeamTalk.objects.filter(asset=talk, manager_id__in=held).update(
        held_on=now.date() - timedelta(days=4), attendees=TEAM - 3, confirmed_at=now - timedelta(days=4)
    )


def _median_view_ms(client, url: str, views: int) -> list[float]:
    times = []
    for _ in range(views):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return times


def main(large: int = 100_000, small: int = 1_000, views: int = 30) -> None:
    _fresh_database()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import reverse

    from campaigns.analytics import selectors
    from campaigns.analytics import services as analytics

    rng = random.Random(2026)
    user_model = get_user_model()
    owner = user_model.objects.create_user("owner", "owner@bench.example", "x")
    viewer = user_model.objects.create_user("viewer", "viewer@bench.example", "x")
    started = time.perf_counter()
    projects = {
        "small": _build("Small", small, "s", owner, viewer, rng),
        "large": _build("Large", large, "l", owner, viewer, rng),
    }
    build_s = time.perf_counter() - started

    refresh: dict[str, list[float]] = {"small": [], "large": []}
    for _ in range(3):
        for key, project in projects.items():
            t = time.perf_counter()
            analytics.analytics_refresh(project=project)
            refresh[key].append(time.perf_counter() - t)

    page: dict[str, list[float]] = {"small": [], "large": []}
    queries: dict[str, int] = {}
    with override_settings(ALLOWED_HOSTS=["testserver"], DEBUG=False):
        client = Client()
        client.force_login(viewer)
        urls = {key: reverse("campaigns:dashboard", args=[p.slug]) for key, p in projects.items()}
        for key, url in urls.items():  # warm up, and count queries
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            queries[key] = len(captured)
        for _ in range(5):  # interleaved rounds
            for key, url in urls.items():
                page[key] += _median_view_ms(client, url, max(views // 5, 1))
    board = selectors.dashboard(project=projects["large"])
    deliveries = large * EMAILS

    p_small, p_large = statistics.median(page["small"]), statistics.median(page["large"])
    r_small, r_large = min(refresh["small"]), min(refresh["large"])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores (shared with other work), "
        f"{platform.machine()}, Python {platform.python_version()}, PostgreSQL {connection.pg_version // 10000}",
        f"- command: `python -m bench.analytics_bench {large} {small} {views}` (database `benchdash`, dropped and "
        "created by the run)",
        f"- data: two projects in one database, five rule audiences each (everyone, four departments), {EMAILS} sent "
        f"emails each: {small:,} recipients ({small * EMAILS:,} deliveries) and {large:,} recipients "
        f"({deliveries:,} deliveries), two thirds opened, a quarter visited, a fifth answered the pulse, one in "
        f"twenty booked; a manager cascade (one manager per {TEAM} people, a team talk briefed to each, two in three "
        f"confirmed, the rest late); individual tracking; bulk-inserted with COPY in {build_s:.0f} s",
        f"- dashboard page (test client, full middleware, a viewer): {p_small:.1f} ms at {small:,} recipients, "
        f"{p_large:.1f} ms at {large:,} (median of {len(page['small'])} interleaved views each); "
        f"{queries['small']} and {queries['large']} queries",
        f"- page at {large:,} ÷ page at {small:,}: **{p_large / p_small:.2f}×** (target ≤ 1.5×)",
        f"- refresh of the rollups (`analytics_refresh`, one transaction, set-based): {r_small * 1000:.0f} ms at "
        f"{small:,}, {r_large:.2f} s at {large:,} (best of 3; runs: "
        f"{', '.join(f'{t:.2f}' for t in refresh['large'])} s): {r_large / r_small:.0f}× for {large // small}× the "
        "rows (the small project's rules also scan the shared employee table), run by the beat every 5 minutes or "
        "by an editor's “Refresh now”, never by a page view",
        f"- check: the large dashboard shows {board.overall.reach.targeted:,} targeted, "
        f"{board.overall.reach.pct_once} % reached once, {board.overall.reach.pct_twice} % twice; cascade: "
        f"{board.cascade.held:,} of {board.cascade.briefed:,} team talks held, {board.cascade.late:,} late",
        f"- peak RSS of the benchmark process: {peak_mb:.0f} MB",
    ]
    report = "\n".join(lines)
    print(report)
    record("analytics", report)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:4]]
    main(*args)
