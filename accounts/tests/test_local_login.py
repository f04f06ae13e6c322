"""Local passwords next to single sign-on: LOCAL_LOGIN, break-glass users, and the login throttle."""

import pytest
from django.urls import reverse

from lib.tests.test_login_throttle import PASSWORD, fail, log_in, logged_in


@pytest.fixture
def sso_only(settings):
    """Single sign-on configured (no provider is contacted by these tests), passwords switched off."""
    settings.OIDC_ISSUER = "https://login.example.org/tenant/v2.0"
    settings.OIDC_RP_CLIENT_ID = "launchpad"
    settings.OIDC_PROVIDER_NAME = "Norrström ID"
    settings.LOCAL_LOGIN = False
    settings.BREAK_GLASS_USERS = ["rescue"]


def test_without_single_sign_on_the_login_page_is_as_before(client, english):
    page = client.get(reverse("login")).content.decode()

    assert 'name="password"' in page and "Forgot your password?" in page
    assert "Sign in with" not in page
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404


def test_with_single_sign_on_the_login_page_offers_both(client, settings, english):
    settings.OIDC_ISSUER = "https://login.example.org/tenant/v2.0"
    settings.OIDC_RP_CLIENT_ID = "launchpad"
    settings.OIDC_PROVIDER_NAME = "Norrström ID"

    page = client.get(reverse("login") + "?next=/projects/x/").content.decode()

    assert "Sign in with Norrström ID" in page
    assert 'href="/oidc/authenticate/?next=/projects/x/"' in page
    assert 'name="password"' in page


def test_without_local_login_the_page_shows_only_the_providers_button(client, sso_only, english):
    page = client.get(reverse("login")).content.decode()

    assert "Sign in with Norrström ID" in page
    assert 'name="password"' not in page and "Forgot your password?" not in page


def test_without_local_login_a_posted_password_is_refused(client, sso_only, owner, english):
    response = log_in(client, "owner", PASSWORD)

    assert response.status_code == 403
    assert "Signing in with a password is switched off." in response.content.decode()
    assert not logged_in(client)


def test_without_local_login_the_admin_login_refuses_everyone_but_break_glass_users(client, sso_only, make_user):
    make_user("root", is_staff=True, is_superuser=True)
    make_user("rescue", is_staff=True, is_superuser=True)
    url = reverse("admin:login")

    assert log_in(client, "root", PASSWORD, url=url).status_code == 200
    assert not logged_in(client)
    assert log_in(client, "rescue", PASSWORD, url=url).status_code == 302
    assert logged_in(client)


def test_a_listed_user_who_is_no_superuser_is_no_break_glass_user(client, sso_only, make_user):
    make_user("rescue", is_staff=True)

    assert log_in(client, "rescue", PASSWORD, url=reverse("admin:login")).status_code == 200
    assert not logged_in(client)


def test_the_break_glass_login_is_throttled(client, sso_only, make_user, settings):
    make_user("rescue", is_staff=True, is_superuser=True)
    url = reverse("admin:login")
    limit = settings.AXES_FAILURE_LIMIT

    assert fail(client, "rescue", limit, url=url) == [200] * (limit - 1) + [429]
    assert log_in(client, "rescue", PASSWORD, url=url, address="10.0.0.2").status_code == 429
    assert not logged_in(client)


def test_with_local_login_passwords_work_next_to_single_sign_on(client, settings, owner):
    settings.OIDC_ISSUER = "https://login.example.org/tenant/v2.0"
    settings.OIDC_RP_CLIENT_ID = "launchpad"

    assert log_in(client, "owner", PASSWORD).status_code == 302
    assert logged_in(client)


def test_a_password_login_with_a_code_in_its_url_never_reaches_the_provider(client, settings, owner):
    settings.OIDC_ISSUER = "http://127.0.0.1:9/nothing-here"
    settings.OIDC_RP_CLIENT_ID = "launchpad"

    response = log_in(client, "owner", "wrong", url=reverse("login") + "?code=abc&state=def")

    assert response.status_code == 200 and not logged_in(client)
