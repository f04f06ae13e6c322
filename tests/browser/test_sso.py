"""Single sign-on in Chromium: Launchpad → a real OpenID Connect provider → back, and logging out of both."""

import copy
import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from accounts.oidc import forget_provider_metadata
from accounts.tests.provider.fixtures import PASSWORD, oidc_provider  # noqa: F401 - the session's test provider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sso(settings, live_server, oidc_provider):  # noqa: F811
    settings.OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_DISCOVERY_URL = ""
    settings.OIDC_RP_CLIENT_ID = "launchpad-browser"
    settings.OIDC_RP_CLIENT_SECRET = oidc_provider.client(
        "launchpad-browser",
        redirect_uris=[f"{live_server.url}/oidc/callback/"],
        post_logout_redirect_uris=[f"{live_server.url}/accounts/login/"],
    )
    settings.OIDC_PROVIDER_NAME = "Norrström ID"
    settings.OIDC_CHANGE_MANAGER_GROUPS = ["launchpad-change-managers"]
    settings.LOCAL_LOGIN = False
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"].append(oidc_provider.url)
    settings.CONTENT_SECURITY_POLICY = policy
    forget_provider_metadata()
    yield oidc_provider
    forget_provider_metadata()


def sign_in_at_the_provider(page, username):
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in at the provider").click()


def test_a_change_manager_signs_in_and_out_through_the_provider(page, live_server, sso, assert_accessible):
    sso.user("sara", groups=["launchpad-change-managers"], first_name="Sara", last_name="Lindqvist")

    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("input[name=password]")).to_have_count(0)
    assert_accessible()
    page.get_by_role("link", name="Sign in with Norrström ID").click()
    sign_in_at_the_provider(page, "sara")

    page.wait_for_url(f"{live_server.url}/projects/")
    expect(page.get_by_text("Sara Lindqvist")).to_be_visible()
    user = get_user_model().objects.get(username="sara")
    assert user.groups.filter(name="Change managers").exists()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(re.escape(f"{live_server.url}/accounts/login/")))

    page.get_by_role("link", name="Sign in with Norrström ID").click()
    # Signed out at the provider too: it asks for the password again.
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
