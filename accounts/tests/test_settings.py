"""Single sign-on's variables at start-up: production needs the secret and https; the demo needs nothing."""

import json

from campaigns.tests.test_deploy import _manage

SSO = {
    "OIDC_ISSUER": "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0",
    "OIDC_CLIENT_ID": "launchpad",
}


def test_check_deploy_passes_with_single_sign_on_configured():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", **SSO, OIDC_CLIENT_SECRET="s3cret", LOCAL_LOGIN="false"
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_production_with_single_sign_on_needs_the_client_secret():
    result = _manage("check", **SSO, OIDC_CLIENT_SECRET=None)

    assert result.returncode != 0
    assert "OIDC_CLIENT_SECRET must be set" in result.stderr


def test_production_refuses_a_plain_http_issuer():
    result = _manage("check", **{**SSO, "OIDC_ISSUER": "http://login.example.org"}, OIDC_CLIENT_SECRET="s3cret")

    assert result.returncode != 0
    assert "must start with https://" in result.stderr


def test_switching_local_login_off_without_single_sign_on_stops_start_up():
    result = _manage("check", LOCAL_LOGIN="false", OIDC_ISSUER=None)

    assert result.returncode != 0
    assert "LOCAL_LOGIN=false needs single sign-on" in result.stderr


def test_the_providers_origin_may_receive_the_logout_forms_redirect():
    code = "import json; from django.conf import settings; print(json.dumps(settings.CONTENT_SECURITY_POLICY))"
    result = _manage("shell", "-c", code, **SSO, OIDC_CLIENT_SECRET="s3cret")

    assert result.returncode == 0, result.stderr
    policy = json.loads(result.stdout.strip().splitlines()[-1])
    assert policy["DIRECTIVES"]["form-action"] == ["'self'", "https://login.microsoftonline.com"]
