"""Signing in through a real OpenID Connect provider (django-oauth-toolkit in its own process)."""

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Identity
from accounts.tests.conftest import configure
from accounts.tests.provider.fixtures import callback_path

pytestmark = pytest.mark.django_db(transaction=True)
User = get_user_model()


def start(client) -> str:
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 302
    return response["Location"]


def sign_in(client, provider, username):
    """The whole redirect flow: Launchpad → the provider (signed in there) → Launchpad's callback."""
    location = provider.authorize(provider.browser(username), start(client))
    return client.get(callback_path(location)), location


def follow_messages(client) -> str:
    return client.get("/accounts/login/").content.decode()


def test_the_authorisation_request_carries_pkce_state_and_nonce(client, sso):
    query = parse_qs(urlsplit(start(client)).query)

    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["launchpad"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["redirect_uri"] == ["http://testserver/oidc/callback/"]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}


def test_the_first_sign_in_creates_the_user_with_the_providers_roles(client, sso):
    sso.user("sara", groups=["launchpad-change-managers"], first_name="Sara", last_name="Lindqvist")

    response, _ = sign_in(client, sso, "sara")

    assert response.status_code == 302 and response["Location"] == "/projects/"
    user = User.objects.get(username="sara")
    assert (user.email, user.first_name, user.last_name) == ("sara@example.org", "Sara", "Lindqvist")
    assert list(user.groups.values_list("name", flat=True)) == ["Change managers"]
    assert not user.is_staff and not user.is_superuser
    assert not user.has_usable_password()
    assert Identity.objects.get(user=user).issuer == sso.issuer
    assert client.get("/projects/").status_code == 200


def test_a_removed_group_removes_the_role_at_the_next_sign_in(client, sso):
    sso.user("lars", groups=["launchpad-change-managers", "launchpad-staff", "launchpad-admins"])
    sign_in(client, sso, "lars")
    user = User.objects.get(username="lars")
    assert user.is_staff and user.is_superuser and user.groups.filter(name="Change managers").exists()

    sso.user("lars", groups=["launchpad-staff"])
    client.post("/accounts/logout/")
    response, _ = sign_in(client, sso, "lars")

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_staff and not user.is_superuser
    assert not user.groups.filter(name="Change managers").exists()
    assert User.objects.filter(username__startswith="lars").count() == 1, "the same subject is the same user"


def test_a_role_without_configured_groups_is_left_to_the_admin(client, sso, settings):
    settings.OIDC_STAFF_GROUPS = []
    sso.user("eva", groups=[])
    sign_in(client, sso, "eva")
    User.objects.filter(username="eva").update(is_staff=True)

    client.post("/accounts/logout/")
    sign_in(client, sso, "eva")

    assert User.objects.get(username="eva").is_staff


def test_an_existing_user_with_the_verified_address_keeps_their_account(client, sso, make_user):
    local = make_user("anna.berg")
    sso.user("anna", email="Anna.Berg@example.se")

    sign_in(client, sso, "anna")

    assert Identity.objects.get().user == local
    assert User.objects.count() == 1


def test_a_superuser_is_never_taken_over_by_a_provider_account_with_the_same_address(client, sso, make_user):
    admin = make_user("root", is_superuser=True, is_staff=True)
    sso.user("root", email="root@example.se")

    sign_in(client, sso, "root")

    identity = Identity.objects.get()
    assert identity.user != admin and not identity.user.is_superuser


def test_a_deactivated_user_is_refused(client, sso):
    sso.user("gone")
    sign_in(client, sso, "gone")
    User.objects.filter(username="gone").update(is_active=False)
    client.post("/accounts/logout/")

    response, _ = sign_in(client, sso, "gone")

    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "misbehaviour, message",
    [
        ("wrong-audience", "The sign-in token was issued for another application."),
        ("expired", "The sign-in token has expired. Please sign in again."),
        ("bad-signature", "The sign-in token&#x27;s signature is not valid."),
        ("other-issuer", "The sign-in token was issued by an unknown sign-in service."),
    ],
)
def test_a_bad_id_token_is_refused_logged_and_creates_nobody(
    client, settings, oidc_provider, caplog, english, misbehaviour, message
):
    configure(settings, oidc_provider, f"launchpad-{misbehaviour}")
    oidc_provider.user("mallory", groups=["launchpad-admins"])

    with caplog.at_level(logging.WARNING, logger="accounts.oidc"):
        response, _ = sign_in(client, oidc_provider, "mallory")

    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert message in follow_messages(client)
    assert "_auth_user_id" not in client.session
    assert not User.objects.exists() and not Identity.objects.exists()
    assert any("OIDC sign-in refused" in r.getMessage() for r in caplog.records)


def test_a_replayed_callback_is_refused(client, sso, caplog, english):
    sso.user("sara")
    first, location = sign_in(client, sso, "sara")
    assert first.status_code == 302 and "_auth_user_id" in client.session
    client.post("/accounts/logout/")

    with caplog.at_level(logging.WARNING, logger="accounts.oidc"):
        replay = client.get(callback_path(location))

    assert replay["Location"] == "/accounts/login/"
    assert "This sign-in has been used already or has expired." in follow_messages(client)
    assert "_auth_user_id" not in client.session
    assert any("unknown or used state" in r.getMessage() for r in caplog.records)


def test_a_callback_started_in_another_browser_is_refused(client, sso, django_user_model, english):
    from django.test import Client

    sso.user("sara")
    location = sso.authorize(sso.browser("sara"), start(Client()))  # the attacker's own flow

    response = client.get(callback_path(location))  # planted in the victim's browser

    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    assert not django_user_model.objects.exists()


def test_a_forged_state_with_a_real_code_is_refused(client, sso, english):
    sso.user("sara")
    location = sso.authorize(sso.browser("sara"), start(client))

    response = client.get(callback_path(location).replace("state=", "state=x"))

    assert response["Location"] == "/accounts/login/"
    assert not User.objects.exists()


def test_the_provider_refusing_the_code_is_explained(client, sso, english):
    start(client)
    state = next(iter(client.session["oidc_states"]))

    response = client.get(f"/oidc/callback/?code=made-up&state={state}")

    assert response["Location"] == "/accounts/login/"
    assert "The sign-in service did not accept the sign-in." in follow_messages(client)
    assert not User.objects.exists()


def test_an_unreachable_provider_is_explained(client, settings, english):
    settings.OIDC_ISSUER = "http://127.0.0.1:9/nothing-here"
    settings.OIDC_RP_CLIENT_ID = "launchpad"

    response = client.get("/oidc/authenticate/")

    assert response["Location"] == "/accounts/login/"
    assert "The sign-in service could not be reached." in follow_messages(client)


def test_discovery_naming_another_issuer_is_refused(client, settings, oidc_provider, english):
    settings.OIDC_ISSUER = "https://login.example.org/tenant"
    settings.OIDC_DISCOVERY_URL = f"{oidc_provider.issuer}/.well-known/openid-configuration"
    settings.OIDC_RP_CLIENT_ID = "launchpad"

    response = client.get("/oidc/authenticate/")

    assert response["Location"] == "/accounts/login/"
    assert "The sign-in service could not be reached." in follow_messages(client)


def test_logout_ends_the_session_here_and_at_the_provider(client, sso):
    sso.user("sara")
    sign_in(client, sso, "sara")
    browser = sso.browser("sara")

    response = client.post("/accounts/logout/")

    assert "_auth_user_id" not in client.session
    target = urlsplit(response["Location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{sso.issuer}/logout/"
    assert query["post_logout_redirect_uri"] == ["http://testserver/accounts/login/"]
    assert query["client_id"] == ["launchpad"]
    back = browser.get(response["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302 and back.headers["Location"] == "http://testserver/accounts/login/"
    again = browser.get(f"{sso.issuer}/authorize/", allow_redirects=False, timeout=10)
    assert "/accounts/login/" in again.headers["Location"], "signed out at the provider too"


def test_a_password_users_logout_stays_local(client, sso, owner):
    client.force_login(owner)

    response = client.post("/accounts/logout/")

    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_the_secret_can_go_as_http_basic_authentication(client, sso, settings):
    settings.OIDC_TOKEN_USE_BASIC_AUTH = True
    sso.user("sara")

    response, _ = sign_in(client, sso, "sara")

    assert response["Location"] == "/projects/"
    assert "_auth_user_id" in client.session


def test_a_wrong_client_secret_is_refused(client, sso, settings, english):
    settings.OIDC_RP_CLIENT_SECRET = "not-the-secret"
    sso.user("sara")

    response, _ = sign_in(client, sso, "sara")

    assert response["Location"] == "/accounts/login/"
    assert "The sign-in service did not accept the sign-in." in follow_messages(client)
    assert not User.objects.exists()


def test_a_user_deactivated_in_the_admin_loses_their_signed_in_session(client, sso):
    sso.user("sara")
    sign_in(client, sso, "sara")
    assert client.get("/projects/").status_code == 200

    User.objects.filter(username="sara").update(is_active=False)

    assert client.get("/projects/").status_code == 302


@pytest.mark.parametrize(
    "next_url, lands_on", [("/projects/new/", "/projects/new/"), ("https://evil.example/", "/projects/")]
)
def test_the_sign_in_returns_to_the_page_asked_for_on_this_site_only(client, sso, next_url, lands_on):
    sso.user("sara")
    location = client.get("/oidc/authenticate/", {"next": next_url})["Location"]

    response = client.get(callback_path(sso.authorize(sso.browser("sara"), location)))

    assert response["Location"] == lands_on
