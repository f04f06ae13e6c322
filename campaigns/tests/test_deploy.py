"""Production settings: the deploy checks pass, missing secrets stop start-up, pages carry a CSP."""

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

BASE_DIR = Path(__file__).resolve().parents[2]


def _production_env(**overrides) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LAUNCHPAD_TESTING", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    alphabet = string.ascii_letters + string.digits + "-_!@%^*"
    env.update(
        DEBUG="false",
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(60)),
        ALLOWED_HOSTS="launchpad.example.se",
        SITE_URL="https://launchpad.example.se",
        EMAIL_HOST="smtp.example.se",
        DATABASE_URL=os.environ.get("DATABASE_URL", "sqlite:///:memory:"),
        DJANGO_SETTINGS_MODULE="launchpad.settings",
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _manage(*args, **env_overrides) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=_production_env(**env_overrides),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("variable", ["SECRET_KEY", "SITE_URL", "ALLOWED_HOSTS", "EMAIL_HOST"])
def test_start_up_without_a_production_value_names_it(variable):
    result = _manage("check", **{variable: None})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


@pytest.mark.parametrize(
    "variable,value",
    [("SECRET_KEY", "too-short"), ("SITE_URL", "http://launchpad.example.se"), ("DEBUG", "perhaps")],
)
def test_start_up_with_a_bad_production_value_names_it(variable, value):
    result = _manage("check", **{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr


@pytest.mark.parametrize("url_name", ["login", "password_reset"])
def test_public_pages_carry_a_csp(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_project_pages_carry_a_csp_without_unsafe_inline(client, project, viewer):
    client.force_login(viewer)
    for url in (
        reverse("campaigns:project_list"),
        project.get_absolute_url(),
        reverse("campaigns:team", args=[project.slug]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert "default-src 'self'" in response["Content-Security-Policy"]
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        # Under this CSP an inline style or script would silently not apply.
        assert b"<script>" not in response.content
        assert b" style=" not in response.content


def test_forms_carry_a_csrf_token(client, owner, project):
    client.force_login(owner)
    for url in (reverse("campaigns:project_create"), reverse("campaigns:team", args=[project.slug])):
        assert b"csrfmiddlewaretoken" in client.get(url).content
