"""Shared test setup: the cast (owner, editor, viewer, outsider) and the CI service rules.

Under CI=true a missing service or browser is a failure, never a skip.
"""

import os
import shutil

os.environ.setdefault("LAUNCHPAD_TESTING", "true")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_service(what: str, available: bool, how: str) -> None:
    """Skip on a laptop without the service, fail in CI."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but is not available: {how}")
    pytest.skip(f"{what} not available ({how})")


def pytest_configure(config):
    if IN_CI:
        from django.conf import settings

        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine:
            raise pytest.UsageError(f"CI must run on PostgreSQL (DATABASE_URL), not {engine}")
        if not settings.REDIS_URL:
            raise pytest.UsageError("CI must run with REDIS_URL set")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skipped test is a failed test: nothing may hide behind a skip there."""
    report = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped under CI=true, which counts as a failure: {reason}"
    return report


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path_factory):
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 costs ~0.2 s a user; the cast is created for almost every test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def english(settings):
    """For tests that read the English messages (the default language is Swedish; Swedish has its own tests)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


class SMTPInbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self):
        import email
        from email import policy

        return [email.message_from_bytes(e.original_content, policy=policy.default) for e in self.envelopes]


@pytest.fixture
def smtp_inbox(settings):
    """A real SMTP server on a free port, with Django's SMTP backend pointed at it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = SMTPInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


@pytest.fixture
def make_user(db, django_user_model):
    def make(username: str, **extra):
        return django_user_model.objects.create_user(
            username=username, email=f"{username}@example.se", password="correct horse battery", **extra
        )

    return make


@pytest.fixture
def owner(make_user):
    return make_user("owner", first_name="Olle", last_name="Ägare")


@pytest.fixture
def editor(make_user):
    return make_user("editor")


@pytest.fixture
def viewer(make_user):
    return make_user("viewer")


@pytest.fixture
def outsider(make_user):
    return make_user("outsider")


@pytest.fixture
def project(owner, editor, viewer):
    from campaigns.models import Membership
    from campaigns.projects import services

    p = services.project_create(
        by=owner,
        name="Nytt ekonomisystem",
        lede="Den 1 mars byter vi ekonomisystem. Här är varför, och vad det betyder för dig.",
        why="<p>Det gamla systemet är uttjänt.</p>",
        go_live="2027-03-01",
        sponsor_name="Karin Lind",
        sponsor_title="CFO",
    )
    Membership.objects.create(project=p, user=editor, role=Membership.Role.EDITOR)
    Membership.objects.create(project=p, user=viewer, role=Membership.Role.VIEWER)
    return p


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    require_service("Chromium", bool(path), "apt-get install chromium")
    return path
