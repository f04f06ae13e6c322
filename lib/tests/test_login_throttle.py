"""Failed logins are throttled per account and per address, on the app's and the admin's login."""

import datetime
import logging

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.db.models import F
from django.urls import reverse

from lib.ratelimit import client_address

PASSWORD = "correct horse battery"  # the root conftest's make_user


@pytest.fixture
def limit(settings):
    return settings.AXES_FAILURE_LIMIT


@pytest.fixture
def admin_user(make_user):
    return make_user("admin", is_staff=True, is_superuser=True)


def log_in(client, username, password, *, address="10.0.0.1", url=None, **headers):
    return client.post(
        url or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def fail(client, username, times, *, address="10.0.0.1", url=None, **headers):
    return [log_in(client, username, "wrong", address=address, url=url, **headers).status_code for _ in range(times)]


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def move_attempts_back(minutes):
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=minutes))


def test_a_right_password_logs_in_and_a_few_failures_do_not_lock(client, owner, limit):
    assert fail(client, "owner", limit - 1) == [200] * (limit - 1)

    response = log_in(client, "owner", PASSWORD)

    assert response.status_code == 302 and logged_in(client)


def test_failures_lock_the_account_even_from_another_address(client, owner, limit):
    assert fail(client, "owner", limit, address="10.0.0.1") == [200] * (limit - 1) + [429]

    response = log_in(client, "owner", PASSWORD, address="10.0.0.2")

    assert response.status_code == 429
    assert not logged_in(client)


def test_failures_from_one_address_lock_it_for_other_accounts(client, editor, limit):
    codes = [log_in(client, f"guess{i}", "wrong", address="10.0.0.1").status_code for i in range(limit)]
    assert codes == [200] * (limit - 1) + [429]

    assert log_in(client, "editor", PASSWORD, address="10.0.0.1").status_code == 429
    assert not logged_in(client)
    assert log_in(client, "editor", PASSWORD, address="10.0.0.2").status_code == 302
    assert logged_in(client)


def test_the_right_password_is_refused_while_locked_and_accepted_after_the_pause(client, owner, limit, settings):
    fail(client, "owner", limit)
    assert log_in(client, "owner", PASSWORD).status_code == 429

    move_attempts_back(settings.LOGIN_LOCKOUT_MINUTES + 1)
    response = log_in(client, "owner", PASSWORD)

    assert response.status_code == 302 and logged_in(client)


def test_an_attempt_during_the_pause_starts_it_again(client, owner, limit, settings):
    fail(client, "owner", limit)
    move_attempts_back(settings.LOGIN_LOCKOUT_MINUTES - 1)
    assert log_in(client, "owner", PASSWORD).status_code == 429

    move_attempts_back(2)  # past the first failures' pause, within the new one

    assert log_in(client, "owner", PASSWORD).status_code == 429
    assert not logged_in(client)


def test_the_admin_login_is_throttled_too(client, admin_user, limit):
    url = reverse("admin:login")
    assert fail(client, "admin", limit, url=url) == [200] * (limit - 1) + [429]

    assert log_in(client, "admin", PASSWORD, url=url, address="10.0.0.2").status_code == 429
    assert log_in(client, "admin", PASSWORD, address="10.0.0.3").status_code == 429, "the same account"
    assert not logged_in(client)


def test_a_forged_forwarded_for_does_not_change_the_address_without_a_proxy(client, editor, limit, settings):
    settings.TRUSTED_PROXY_HEADER = ""
    for i in range(limit):
        log_in(client, f"guess{i}", "wrong", address="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.0.0.1"}
    assert log_in(client, "editor", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429


def test_the_address_comes_from_the_proxy_header_when_a_proxy_is_configured(client, editor, limit, settings):
    settings.TRUSTED_PROXY_HEADER = "HTTP_X_FORWARDED_FOR"
    proxy = "10.9.9.9"
    for i in range(limit):
        log_in(client, f"guess{i}", "wrong", address=proxy, HTTP_X_FORWARDED_FOR=f"forged{i}, 203.0.113.7")

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
    assert log_in(client, "editor", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    assert log_in(client, "editor", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 302


@pytest.mark.parametrize(
    "header,count,expected",
    [
        ("", 1, "10.9.9.9"),
        ("203.0.113.7", 1, "203.0.113.7"),
        ("forged, 203.0.113.7", 1, "203.0.113.7"),
        ("forged, 203.0.113.7, 10.1.1.1", 2, "203.0.113.7"),
        ("2001:db8::7", 1, "2001:db8::7"),
        ("203.0.113.7, not-an-address", 1, "10.9.9.9"),
    ],
)
def test_the_client_address_behind_proxies(rf, settings, header, count, expected):
    settings.TRUSTED_PROXY_HEADER, settings.TRUSTED_PROXY_COUNT = "HTTP_X_FORWARDED_FOR", count
    request = rf.post("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR=header)

    assert client_address(request) == expected


def test_the_lockout_page_says_how_long_to_wait(client, owner, limit, settings, english):
    fail(client, "owner", limit)

    response = log_in(client, "owner", PASSWORD)

    assert response.status_code == 429
    assert response["Retry-After"] == str(settings.LOGIN_LOCKOUT_MINUTES * 60)
    page = response.content.decode()
    assert "Too many failed login attempts" in page
    assert f"logging in is paused for {settings.LOGIN_LOCKOUT_MINUTES} minutes" in page
    assert reverse("password_reset") in page


def test_failures_and_the_lockout_are_audited(client, owner, limit, caplog):
    with caplog.at_level(logging.WARNING, logger="axes"):
        fail(client, "owner", limit, address="10.0.0.1")

    attempt = AccessAttempt.objects.get(username="owner")
    assert (attempt.ip_address, attempt.failures_since_start) == ("10.0.0.1", limit)
    failures = AccessFailureLog.objects.filter(username="owner").order_by("attempt_time")
    assert [f.locked_out for f in failures] == [False] * (limit - 1) + [True]
    assert any(r.levelno == logging.WARNING and "Locking out" in r.getMessage() for r in caplog.records)


def test_signing_in_in_tests_with_force_login_is_not_throttled(client, owner):
    client.force_login(owner)

    assert client.get(reverse("campaigns:project_list")).status_code == 200
