"""Fixtures of the worker and fault tests: our own Redis, an SMTP sink and real Celery workers."""

import logging

import pytest
from django.db import connection

from campaigns.tests.worker_harness import RedisServer, SmtpSink, Worker
from conftest import require_service


@pytest.fixture
def services():
    require_service(
        "PostgreSQL",
        connection.vendor == "postgresql",
        "set DATABASE_URL=postgres://postgres@127.0.0.1:5432/deliv (the workers share the test database)",
    )
    require_service("redis-server", RedisServer.available(), "apt-get install redis-server")


@pytest.fixture
def redis(services):
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sink():
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    with SmtpSink() as running:
        yield running


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start(env, name="worker", **options):
        worker = Worker(env, tmp_path / f"{name}-{len(started)}.log", **options).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
