"""Email benchmark: campaign emails/s through the whole pipeline ÷ raw smtplib, same sink, same run.

    python -m bench.email_bench                 # 10 000 and 100 000 recipients
    python -m bench.email_bench --sizes 2000    # a quick look

Half the recipients read English and get the email's English version (the project is bilingual).

Pipeline = dispatch (snapshot into Delivery rows, batches published to Redis) + a real
`celery -A launchpad worker` processes (--workers, each of concurrency 1, as on separate machines)
claiming, rendering and sending over SMTP, until the sink has every recipient. Then a paced run
(--limit emails a minute, --limit-size recipients) measures the steady rate against the limit. Baseline = smtplib sending pre-built
messages (rendered by the same code beforehand) over one connection to the same sink, once before and
once after the pipeline; the faster of the two counts.

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/launchpad_email_bench;
the database is dropped and created) and redis-server (its own, on port 6391 or BENCH_REDIS_PORT). The sink is a
minimal asyncio SMTP responder in its own process, much faster than aiosmtpd.
"""

import argparse
import asyncio
import datetime
import multiprocessing
import os
import platform
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from bench.results import record

BASE_DIR = Path(__file__).resolve().parent.parent
REDIS_PORT = int(os.environ.get("BENCH_REDIS_PORT", "6391"))  # another port where two runs share a machine
PREBUILT = 1000  # distinct pre-built messages for the raw baseline, sent round-robin


# The sink: just enough SMTP to make smtplib and Django's backend happy, counting per recipient.


class _SinkProtocol(asyncio.Protocol):
    # Offered as real relays (Postfix, Exchange, Microsoft 365) do; smtplib, the baseline, never uses it.
    pipelining = True
    stats: Counter = Counter()
    messages = 0
    unique = 0
    top = 0

    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""
        self.in_data = False
        self.recipients: list[bytes] = []
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        write = self.transport.write
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    return
                self.buffer = self.buffer[end + 5 :]
                self.in_data = False
                _SinkProtocol.messages += 1
                for recipient in self.recipients:
                    count = _SinkProtocol.stats[recipient] + 1
                    _SinkProtocol.stats[recipient] = count
                    _SinkProtocol.unique += count == 1
                    _SinkProtocol.top = max(_SinkProtocol.top, count)
                write(b"250 2.0.0 queued\r\n")
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return
            line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
            verb = line[:4].upper()
            if verb == b"EHLO":
                write(
                    b"250-sink\r\n"
                    + (b"250-PIPELINING\r\n" if self.pipelining else b"")
                    + b"250-8BITMIME\r\n250 SMTPUTF8\r\n"
                )
            elif verb == b"MAIL":
                self.recipients = []
                write(b"250 2.1.0 ok\r\n")
            elif verb == b"RCPT":
                self.recipients.append(line[8:].strip(b" <>").lower())
                write(b"250 2.1.5 ok\r\n")
            elif verb == b"DATA":
                self.in_data = True
                write(b"354 go ahead\r\n")
                # the body may already be in the buffer: loop again
                if b"\r\n.\r\n" not in self.buffer:
                    return
            elif verb == b"QUIT":
                write(b"221 bye\r\n")
                self.transport.close()
                return
            elif verb == b"XSTA":
                write(f"250 {_SinkProtocol.messages} {_SinkProtocol.unique} {_SinkProtocol.top}\r\n".encode())
            elif verb == b"XRES":
                _SinkProtocol.stats = Counter()
                _SinkProtocol.messages = _SinkProtocol.unique = _SinkProtocol.top = 0
                write(b"250 reset\r\n")
            else:  # HELO, RSET, NOOP
                write(b"250 ok\r\n")


def _sink_main(port: int, pipelining: bool = True) -> None:
    _SinkProtocol.pipelining = pipelining

    async def serve():
        server = await asyncio.get_running_loop().create_server(_SinkProtocol, "127.0.0.1", port, backlog=64)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def _sink_command(port: int, command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.recv(100)
        s.sendall(command + b"\r\n")
        reply = s.recv(200)
        s.sendall(b"QUIT\r\n")
        return reply


def sink_stats(port: int) -> tuple[int, int, int]:
    """(messages, distinct recipients, most messages to one recipient)."""
    _code, messages, unique, top = _sink_command(port, b"XSTAT").split()
    return int(messages), int(unique), int(top)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Processes


def _wait(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise SystemExit(f"timed out waiting for {what}")


def _peak_rss_mb(pids: list[int]) -> dict[int, float]:
    peaks = {}
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1]) / 1024
        except OSError:
            pass
    return peaks


def _children(pid: int) -> list[int]:
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    except FileNotFoundError:
        return []
    return [int(p) for p in out.split()]


def _create_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


# The figures


def _prepare(n: int):
    """A project, n employees in one list audience, and an email asset; returns the asset."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from audiences.models import Audience, AudienceMember, Employee
    from campaigns.models import Asset
    from campaigns.plan import services as plan
    from campaigns.projects import services

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE campaigns_delivery, campaigns_emailsend, campaigns_trackedlink, campaigns_engagementcounter,"
            " campaigns_assetevent, campaigns_asset_audiences, audiences_audiencemember, audiences_audience,"
            " audiences_employee, campaigns_asset, campaigns_membership, campaigns_changeproject,"
            " auth_user CASCADE"
        )
    owner = get_user_model().objects.create_user("bench", "bench@example.se", "x", first_name="Bänk")
    project = services.project_create(
        by=owner,
        name="Nytt ekonomisystem",
        lede="Den 1 mars byter vi ekonomisystem.",
        go_live="2027-03-01",
        sponsor_name="Karin Lind",
        sponsor_title="CFO",
    )
    project.refresh_from_db()
    project.requires_approval = False
    project.tracking_mode = "individual"
    project.other_languages = ["en"]  # half the recipients read English: a second shape per batch
    project.save()
    departments = ["Ekonomi", "Lager", "IT", "HR", "Sälj"]
    Employee.objects.bulk_create(
        (
            Employee(
                email=f"person{i:06d}@example.se",
                first_name=f"Förnamn{i}",
                last_name="Efternamn",
                department=departments[i % 5],
                site="Luleå",
                language="sv" if i % 2 else "en",
            )
            for i in range(n)
        ),
        batch_size=5000,
    )
    audience = Audience.objects.create(project=project, name="Alla", kind=Audience.Kind.LIST)
    AudienceMember.objects.bulk_create(
        (AudienceMember(audience=audience, employee_id=pk) for pk in Employee.objects.values_list("pk", flat=True)),
        batch_size=5000,
    )
    asset = plan.asset_create(
        project=project,
        by=owner,
        channel="email",
        stage="awareness",
        title="Varför-mejlet",
        fixed_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1),
        subject="Hej {{ first_name }}, därför byter vi system",
        preheader="{{ days_to_go_live }} dagar kvar",
        body="<p>Hej {{ first_name }}!</p><p>Den {{ go_live }} byter vi ekonomisystem på {{ department }}.</p>"
        '<p>Läs mer i <a href="https://intranet.example.se/ekonomi/faq">vår FAQ</a>.</p>',
        button_label="Läs mer",
        sender_kind="sponsor",
    )
    asset.set_translation(
        "en",
        {
            "subject": "Hi {{ first_name }}, why we are changing systems",
            "preheader": "{{ days_to_go_live }} days to go",
            "body": "<p>Hi {{ first_name }}!</p><p>On {{ go_live }} we change finance systems in {{ department }}.</p>"
            '<p>Read more in <a href="https://intranet.example.se/ekonomi/faq">our FAQ</a>.</p>',
            "button_label": "Read more",
        },
    )
    asset.save()
    asset.audiences.set([audience])
    plan.asset_set_status(asset=asset, status=Asset.Status.SCHEDULED, by=owner)
    return asset


def _prebuilt_messages(asset, count: int) -> list[tuple[str, bytes]]:
    """(recipient, bytes) rendered by the campaign renderer, the way the pipeline renders them."""
    from audiences.models import Employee
    from campaigns.delivery.emails import build_message, landing_url_for, render_campaign_email

    built = []
    for employee in Employee.objects.order_by("pk")[:count]:
        rendered = render_campaign_email(
            asset=asset, employee=employee, landing_url=landing_url_for(asset.project, employee)
        )
        message = build_message(rendered, to=employee.email)
        built.append((employee.email, message.message().as_bytes(linesep="\r\n")))
    return built


def raw_rate(port: int, n: int, prebuilt: list[tuple[str, bytes]]) -> float:
    from audiences.models import Employee

    recipients = list(Employee.objects.order_by("pk").values_list("email", flat=True))
    _sink_command(port, b"XRESET")
    started = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", port)
    sender = "launchpad@localhost"
    for i, recipient in enumerate(recipients[:n]):
        smtp.sendmail(sender, [recipient], prebuilt[i % len(prebuilt)][1])
    smtp.quit()
    elapsed = time.perf_counter() - started
    messages, unique, _top = sink_stats(port)
    assert messages == n and unique == n, (messages, unique)
    return elapsed


def _start_workers(env: dict, count: int) -> list[subprocess.Popen]:
    """`count` worker processes, each on its own as if on its own machine, taking the campaign queues."""
    started = []
    for i in range(count):
        log = BASE_DIR / "var" / f"email-bench-worker-{i}.log"
        log.parent.mkdir(exist_ok=True)
        started.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "launchpad",
                    "worker",
                    "--loglevel=WARNING",
                    "--concurrency=1",
                    "--queues=bulk,interactive",
                    f"--hostname=bench{i}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=BASE_DIR,
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    return started


def steady_rate(samples: list[tuple[float, int]], n: int) -> float:
    """Emails a second between 10 % and 90 % of the send (leaves out the start and the tail)."""
    inside = [(t, m) for t, m in samples if 0.1 * n <= m <= 0.9 * n]
    (t0, m0), (t1, m1) = inside[0], inside[-1]
    return (m1 - m0) / (t1 - t0)


def pipeline_rate(port: int, n: int, asset, env: dict, workers: int = 2) -> tuple[float, float, float, dict]:
    from campaigns.delivery import services as delivery
    from campaigns.models import Delivery

    _sink_command(port, b"XRESET")
    started_workers = _start_workers(env, workers)
    try:
        for worker in started_workers:
            _wait(lambda w=worker: len(_children(w.pid)) >= 1, 60, "the worker's pool")
        time.sleep(2)
        mains = [w.pid for w in started_workers]
        pids = [*mains, *(c for pid in mains for c in _children(pid))]
        started = time.perf_counter()
        result = delivery.dispatch_due()
        dispatched = time.perf_counter() - started
        assert len(result.started) == 1, result
        samples: list[tuple[float, int]] = []
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            messages, unique, _top = sink_stats(port)
            samples.append((time.perf_counter(), messages))
            if unique >= n:
                break
            time.sleep(0.1)
        else:
            raise SystemExit("timed out waiting for every email at the sink")
        # VmHWM is each process's own peak, so reading it once at the end misses nothing.
        peaks = _peak_rss_mb(pids)
        elapsed = time.perf_counter() - started
        messages, unique, top = sink_stats(port)
        sent = Delivery.objects.filter(asset=asset, status=Delivery.Status.SENT).count()
        memory = {
            "main_mb": max(peaks.get(pid, 0) for pid in mains),
            "child_max_mb": max(v for k, v in peaks.items() if k not in mains),
        }
        rate = steady_rate(samples, n)
        return (
            elapsed,
            dispatched,
            top,
            {"messages": messages, "unique": unique, "sent_rows": sent, "steady": rate, **memory},
        )
    finally:
        for worker in started_workers:
            os.kill(worker.pid, signal.SIGTERM)  # warm shutdown: the pool finishes its task
        for worker in started_workers:
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated recipient counts")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (one each, as on separate machines)")
    parser.add_argument("--limit", type=int, default=60000, help="DELIVERY_MAX_PER_MINUTE of the paced run (0: none)")
    parser.add_argument("--no-pipelining", action="store_true", help="the sink does not offer SMTP PIPELINING")
    parser.add_argument("--limit-size", type=int, default=20000, help="recipients of the paced run")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/launchpad_email_bench")
    if not shutil.which("redis-server"):
        raise SystemExit("redis-server is needed: apt-get install redis-server")
    redis = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(REDIS_PORT), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port = free_port()
    sink = multiprocessing.get_context("fork").Process(
        target=_sink_main, args=(port, not args.no_pipelining), daemon=True
    )
    sink.start()
    try:
        _wait(lambda: _answers(port), 10, "the sink")
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/5",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port),
            "DEBUG": "true",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "launchpad.settings",
        }
        os.environ.update(env)
        sys.path.insert(0, str(BASE_DIR))
        _create_database(database_url)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        rows = []
        for n in sizes:
            asset = _prepare(n)
            prebuilt = _prebuilt_messages(asset, min(PREBUILT, n))
            raw = raw_rate(port, n, prebuilt)
            pipeline, dispatched, top, extra = pipeline_rate(port, n, asset, env, args.workers)
            # Again after the pipeline, the faster one counts: on a shared machine one raw run alone can be slow.
            raw_runs = (raw, raw_rate(port, n, prebuilt))
            raw = min(raw_runs)
            row = {
                "n": n,
                "raw_s": raw,
                "raw_rate": n / raw,
                "pipe_s": pipeline,
                "pipe_rate": n / pipeline,
                "dispatch_s": dispatched,
                "ratio": raw / pipeline,
                "top": top,
                **extra,
            }
            rows.append(row)
            print(
                f"{n:>7} recipients: pipeline {row['pipe_rate']:7.0f}/s ({pipeline:6.1f} s, dispatch {dispatched:4.1f} s)"
                f" · raw smtplib {row['raw_rate']:7.0f}/s ({raw:5.1f} s, runs {' and '.join(f'{n / r:.0f}/s' for r in raw_runs)})"
                f" · ratio {row['ratio']:.2f}"
                f" · worker peak RSS main {extra['main_mb']:.0f} MB, child {extra['child_max_mb']:.0f} MB"
                f" · at sink {extra['unique']} recipients, max {top} each",
                flush=True,
            )
        paced = None
        if args.limit:
            n = args.limit_size
            asset = _prepare(n)
            limited_env = {**env, "DELIVERY_MAX_PER_MINUTE": str(args.limit)}
            pipeline, _dispatched, top, extra = pipeline_rate(port, n, asset, limited_env, args.workers)
            limit_per_s = args.limit / 60
            paced = {
                "n": n,
                "limit": args.limit,
                "steady": extra["steady"],
                "ratio": extra["steady"] / limit_per_s,
                "pipe_s": pipeline,
                "top": top,
                "unique": extra["unique"],
                "sent_rows": extra["sent_rows"],
            }
            print(
                f"{n:>7} recipients at DELIVERY_MAX_PER_MINUTE={args.limit} ({limit_per_s:.0f}/s):"
                f" steady {extra['steady']:.1f}/s = {paced['ratio']:.3f}× the limit ({pipeline:.1f} s)"
                f" · at sink {extra['unique']} recipients, max {top} each, {extra['sent_rows']} rows sent",
                flush=True,
            )
        scaling = rows[-1]["pipe_s"] / rows[0]["pipe_s"] if len(rows) > 1 else None
        if scaling is not None:
            print(
                f"time {rows[-1]['n']} / time {rows[0]['n']}: {scaling:.2f}× (target ≤ {1.1 * rows[-1]['n'] / rows[0]['n']:.0f}×)"
            )
        if not args.no_record:
            _record(rows, scaling, paced, args.workers, " ".join(["python -m bench.email_bench", *sys.argv[1:]]))
    finally:
        sink.terminate()
        redis.terminate()
        redis.wait(10)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _record(rows: list[dict], scaling: float | None, paced: dict | None, workers: int, command: str) -> None:
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lines = [
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {os.cpu_count()} cores, {memory_gb:.0f} GB, {platform.platform()}",
        f"- command: `{command}` (PostgreSQL, Redis, {workers} `celery worker` processes of concurrency 1 as on"
        " separate machines, asyncio SMTP sink)",
        "",
        "| recipients | pipeline emails/s | raw smtplib emails/s | ratio (target ≥ 0.8) | pipeline time | dispatch | worker peak RSS (main / largest child) | at the sink |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r['pipe_rate']:.0f} | {r['raw_rate']:.0f} | {r['ratio']:.2f} | {r['pipe_s']:.1f} s"
            f" | {r['dispatch_s']:.1f} s | {r['main_mb']:.0f} MB / {r['child_max_mb']:.0f} MB"
            f" | {r['unique']:,} recipients, at most {r['top']} each |"
        )
    if scaling is not None:
        lines += ["", f"Time for {rows[-1]['n']:,} ÷ time for {rows[0]['n']:,}: {scaling:.2f}× (target ≤ 11×)."]
    if paced is not None:
        lines += [
            "",
            f"Paced: {paced['n']:,} recipients at DELIVERY_MAX_PER_MINUTE={paced['limit']:,}"
            f" ({paced['limit'] / 60:.0f}/s): steady rate {paced['steady']:.1f}/s = **{paced['ratio']:.3f}×** the limit"
            f" (target within 5 %), {paced['pipe_s']:.1f} s; {paced['unique']:,} recipients at the sink, at most"
            f" {paced['top']} each; {paced['sent_rows']:,} rows sent.",
        ]
    record("email", lines)


if __name__ == "__main__":
    main()
