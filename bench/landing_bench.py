"""Landing-page benchmark: `python -m bench.landing_bench [SECONDS] [CONNECTIONS]`.

Requests/s of the personal landing page (`/p/<token>/`, cycling through 200 employees'
links of the demo project) against a minimal Django view, both served by the SAME gunicorn
(127.0.0.1, a free port, 2 workers of 4 threads, keep-alive) on a PostgreSQL database
`benchland` that is created, migrated and seeded with the demo (seed_demo) for the run.
The load tool is the same for both: CONNECTIONS keep-alive http.client loops in threads
of two client processes, in interleaved rounds of SECONDS each; the median round counts.
Target: landing / minimal ≥ 0.6×. The read-depth beacon (POST /p/<token>/read/, counted in
memory like visits) is measured the same way: beacon / page visit ≥ 1×. Results go to bench/RESULTS.md under "## landing".

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and uses Redis on 6379 db 9 as
the cache when it answers (as production does), else each worker's own memory.
"""

import http.client
import multiprocessing
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.results import record

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"
DB_NAME = "benchland"
TARGET = 0.6
ROUNDS = 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_url() -> str:
    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            if s.recv(16).startswith(b"+PONG"):
                return url
    except OSError:
        pass
    return ""


def _environment(media: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.landing_settings",
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "CONN_MAX_AGE": "60",  # persistent connections, as in production
        "DEBUG": "false",
        "LAUNCHPAD_TESTING": "true",  # plain static storage: no collectstatic manifest needed
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "https://launchpad.bench.invalid",
        "SECURE_SSL_REDIRECT": "false",
        "EMAIL_HOST": "127.0.0.1",
        "MEDIA_ROOT": str(media),
        "LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "REDIS_URL": _redis_url(),
    }
    return env


def _create_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def _seed(env: dict[str, str]) -> list[str]:
    """Migrate, load the demo and hand out 200 personal links; return their paths."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))
    from audiences.selectors import reachable_employees
    from campaigns.landing.services import landing_token_for
    from campaigns.models import ChangeProject

    project = ChangeProject.objects.get(slug="atlas")
    employees = list(reachable_employees().order_by("id")[:200])
    return [f"/p/{landing_token_for(project=project, employee=e).token}/" for e in employees]


def _queries_per_page(path: str) -> tuple[int, int]:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    client = Client(HTTP_HOST="127.0.0.1")
    with CaptureQueriesContext(connection) as cold:
        assert client.get(path, secure=True).status_code == 200
    with CaptureQueriesContext(connection) as warm:
        assert client.get(path, secure=True).status_code == 200
    return len(cold.captured_queries), len(warm.captured_queries)


def _client(port: int, paths: list[str], seconds: float, threads: int, out) -> None:
    """One load process: `threads` keep-alive connections, GET in a loop until the deadline."""
    counts, errors = [0] * threads, [0] * threads
    deadline = time.monotonic() + seconds

    def loop(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        cookies: dict[str, str] = {}  # kept like a browser keeps them (the CSRF cookie)
        n = i
        while time.monotonic() < deadline:
            path = paths[n % len(paths)]
            n += threads
            try:
                headers = {"X-Forwarded-Proto": "https"}
                if cookies:
                    headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
                if path.endswith("/read/"):  # the read-depth beacon, as navigator.sendBeacon posts it
                    headers["Content-Type"] = "application/x-www-form-urlencoded;charset=UTF-8"
                    conn.request("POST", path, body=b"d=2&s=17", headers=headers)
                else:
                    conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                for header in response.headers.get_all("Set-Cookie") or ():
                    name, _, rest = header.partition("=")
                    cookies[name.strip()] = rest.split(";", 1)[0]
                if response.status in (200, 204):
                    counts[i] += 1
                else:
                    errors[i] += 1
                if response.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((sum(counts), sum(errors)))


def _load(port: int, paths: list[str], seconds: float, connections: int) -> tuple[float, int]:
    """Requests/s over `connections` connections spread over two client processes."""
    queue = multiprocessing.Queue()
    per = [connections // 2, connections - connections // 2]
    procs = [multiprocessing.Process(target=_client, args=(port, paths, seconds, n, queue)) for n in per if n]
    started = time.monotonic()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = max(time.monotonic() - started, seconds)
    return sum(r[0] for r in results) / elapsed, sum(r[1] for r in results)


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def main(seconds: float = 5.0, connections: int = 8) -> None:
    import tempfile

    media = Path(tempfile.mkdtemp(prefix="landing-bench-"))
    env = _environment(media)
    _create_database()
    paths = _seed(env)
    cold_queries, warm_queries = _queries_per_page(paths[0])

    port = _free_port()
    gunicorn = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "launchpad.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--keep-alive",
            "5",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        minimal = ["/bench/minimal/"]
        _load(port, minimal, 3, connections)  # warm both: imports, connections, the caches of both workers
        _load(port, paths, 3, connections)
        beacons = [f"{path}read/" for path in paths]
        _load(port, beacons, 2, connections)
        rounds = {"minimal": [], "landing": [], "beacon": []}
        errors = 0
        for _ in range(ROUNDS):
            for name, targets in (("minimal", minimal), ("landing", paths), ("beacon", beacons)):
                rate, failed = _load(port, targets, seconds, connections)
                rounds[name].append(rate)
                errors += failed
        worker_rss = max((_rss_mb(c) for c in _children(gunicorn.pid)), default=0.0)
    finally:
        gunicorn.terminate()
        gunicorn.wait(10)

    minimal_rps, landing_rps = statistics.median(rounds["minimal"]), statistics.median(rounds["landing"])
    ratio = landing_rps / minimal_rps
    beacon_rps = statistics.median(rounds["beacon"])
    engine = "PostgreSQL" + (" + Redis cache" if env["REDIS_URL"] else " + per-process cache")
    lines = [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores (shared with other work), "
        f"{platform.machine()}, Python {platform.python_version()}, database: {engine}",
        f"- command: `python -m bench.landing_bench {seconds:g} {connections}`",
        f"- server: one gunicorn on 127.0.0.1 (2 workers × 4 threads, keep-alive), DEBUG off, CONN_MAX_AGE=60, "
        f"demo project (seed_demo), {len(paths)} personal links in rotation",
        f"- load: {connections} keep-alive http.client connections in 2 client processes, keeping cookies as a browser does, "
        f"{ROUNDS} interleaved rounds of {seconds:g} s per view, median; errors: {errors}",
        f"- minimal Django view: {minimal_rps:,.0f} req/s (rounds: {', '.join(f'{r:,.0f}' for r in rounds['minimal'])})",
        f"- personal landing page: {landing_rps:,.0f} req/s (rounds: {', '.join(f'{r:,.0f}' for r in rounds['landing'])})",
        f"- landing / minimal: **{ratio:.2f}×** (target ≥ {TARGET}×), with the read-depth beacon on the page",
        f"- read-depth beacon (POST /p/<token>/read/): {beacon_rps:,.0f} req/s "
        f"(rounds: {', '.join(f'{r:,.0f}' for r in rounds['beacon'])}); beacon / page visit (the visit counter's "
        f"request): **{beacon_rps / landing_rps:.2f}×** (target ≥ 1×); beacon / minimal: {beacon_rps / minimal_rps:.2f}×",
        f"- queries per personal page: {warm_queries} with the public part cached (token, visit counter, "
        f"the person's bookings and pulse answer), {cold_queries} when it is rendered afresh",
        f"- peak RSS of a gunicorn worker: {worker_rss:.0f} MB",
    ]
    print("\n".join(lines))
    record("landing", lines)


if __name__ == "__main__":
    args = sys.argv[1:3]
    main(float(args[0]) if args else 5.0, int(args[1]) if len(args) > 1 else 8)
