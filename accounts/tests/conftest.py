import pytest

from accounts.oidc import forget_provider_metadata
from accounts.tests.provider.fixtures import oidc_provider  # noqa: F401 - the session's test provider

CALLBACK = "http://testserver/oidc/callback/"
LOGGED_OUT = "http://testserver/accounts/login/"


@pytest.fixture
def sso(settings, oidc_provider):  # noqa: F811
    """Launchpad configured for the test provider, as the OIDC_* variables would configure it."""
    return configure(settings, oidc_provider, "launchpad")


def configure(settings, provider, client_id: str, *, redirect_uris=(CALLBACK,), post_logout=(LOGGED_OUT,)):
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_DISCOVERY_URL = ""
    settings.OIDC_RP_CLIENT_ID = client_id
    settings.OIDC_RP_CLIENT_SECRET = provider.client(
        client_id, redirect_uris=list(redirect_uris), post_logout_redirect_uris=list(post_logout)
    )
    settings.OIDC_PROVIDER_NAME = "Norrström ID"
    settings.OIDC_CHANGE_MANAGER_GROUPS = ["launchpad-change-managers"]
    settings.OIDC_STAFF_GROUPS = ["launchpad-staff"]
    settings.OIDC_SUPERUSER_GROUPS = ["launchpad-admins"]
    settings.LOCAL_LOGIN = True
    settings.BREAK_GLASS_USERS = []
    forget_provider_metadata()
    return provider


@pytest.fixture(autouse=True)
def _fresh_discovery():
    forget_provider_metadata()
    yield
    forget_provider_metadata()
