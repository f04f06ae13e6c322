"""Real processes for the worker and fault tests: a Redis of our own, an SMTP sink, Celery workers.

Our own redis-server (on a free port chosen once per test run, database 5) so that restarting it
cannot disturb anybody else, nor another test run on the same machine; the workers run against
the test's PostgreSQL database.
"""

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)
REDIS_DB = 5
ALL_QUEUES = "interactive,bulk,print,dashboards"  # settings.CELERY_TASK_ROUTES


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REDIS_PORT = int(os.environ.get("DELIVERY_TEST_REDIS_PORT") or free_port())


def wait_for(predicate, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class RedisServer:
    """A throwaway redis-server without persistence, restartable on the same port."""

    def __init__(self, port: int = REDIS_PORT):
        self.port = port
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/{REDIS_DB}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, 10, what="redis-server")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def restart(self, down_for: float = 1.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()


class SinkHandler:
    """An aiosmtpd handler that counts messages per recipient and can misbehave like a real relay.

    `refuse_until`: answer 451 to every recipient until then (and to the first `refuse_first`
    recipients, however late the workers start). `close_at_mail_every`: answer every
    n-th MAIL FROM with 421 and close the connection (nothing handed over). `drop_after_data_every`:
    take every n-th message, then close the connection without answering (the sender cannot know).
    `seconds_per_message`: a slow relay. `arrivals` keeps (monotonic time, address) of each message.
    `pipelining`: offer PIPELINING as real relays do (aiosmtpd answers pipelined commands in order);
    `refuse_mail_first`: answer the first n MAIL FROM with 550.
    """

    def __init__(self):
        self.received: Counter[str] = Counter()
        self.arrivals: list[tuple[float, str]] = []
        self.dropped_after_data: set[str] = set()
        self.refused = 0
        self.refuse_until = 0.0
        # Refuse at least this many recipients, however slowly the workers start on a loaded machine.
        self.refuse_first = 0
        self.close_at_mail_every = 0
        self.drop_after_data_every = 0
        self.seconds_per_message = 0.0
        self.pipelining = True
        self.refuse_mail_first = 0
        self.mails = 0
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [responses[0], "250-PIPELINING", *responses[1:]] if self.pipelining else responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            self.mails += 1
            closing = self.close_at_mail_every and self.mails % self.close_at_mail_every == 0
            refusing = self.mails <= self.refuse_mail_first
        if closing:
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.7.0 Too many messages on this connection, closing"
        if refusing:
            return "550 5.7.1 Sender not allowed"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if time.monotonic() < self.refuse_until or self.refused < self.refuse_first:
            with self.lock:
                self.refused += 1
            return "451 4.3.2 System busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.seconds_per_message:
            await asyncio.sleep(self.seconds_per_message)
        with self.lock:
            for address in envelope.rcpt_tos:
                self.received[address.lower()] += 1
                self.arrivals.append((time.monotonic(), address.lower()))
            dropping = self.drop_after_data_every and len(self.arrivals) % self.drop_after_data_every == 0
            if dropping:
                self.dropped_after_data.update(a.lower() for a in envelope.rcpt_tos)
        if dropping:
            server.transport.abort()  # taken, and the answer never leaves
        return "250 2.0.0 Message accepted"

    def arrived_after(self, moment: float) -> int:
        with self.lock:
            return sum(1 for at, _address in self.arrivals if at > moment)

    @property
    def total(self) -> int:
        with self.lock:
            return sum(self.received.values())


class SmtpSink:
    def __init__(self):
        from aiosmtpd.controller import Controller

        self.handler = SinkHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def worker_env(redis: RedisServer, sink: SmtpSink, **extra) -> dict[str, str]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis.url,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "EMAIL_TIMEOUT": "10",
        "LAUNCHPAD_TESTING": "true",
        "DEBUG": "true",
        "LOG_LEVEL": "WARNING",
    }
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Worker:
    """`celery -A launchpad worker` in its own process group, so SIGKILL takes the pool with it."""

    def __init__(self, env: dict[str, str], log: Path, concurrency: int = 1, queues: str = ALL_QUEUES):
        self.env, self.log, self.concurrency, self.queues = env, log, concurrency, queues
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        self.log.write_text("")
        out = self.log.open("a")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "launchpad",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={self.concurrency}",
                f"--queues={self.queues}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=test-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: " ready." in self.log.read_text() or self.process.poll() is not None, 60, what="worker start")
        assert self.process.poll() is None, self.log.read_text()[-3000:]
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def run_dispatch(env: dict[str, str]) -> subprocess.Popen:
    """`manage.py dispatch_due` as beat would run it, in its own process (not waited for)."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "dispatch_due"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def dispatch(env: dict[str, str]) -> str:
    process = run_dispatch(env)
    out, _err = process.communicate(timeout=120)
    assert process.returncode == 0, out
    return out
