"""pytest fixtures: the test provider running in its own gunicorn on a free loopback port, and a helper
that walks the redirect flow the way a browser would (the provider's session in a requests.Session).
"""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "provider password 1"  # noqa: S105 - the test provider's users


@dataclass
class Provider:
    url: str

    @property
    def issuer(self) -> str:
        return f"{self.url}/o"

    def client(self, client_id: str, *, redirect_uris: list[str], post_logout_redirect_uris=()) -> str:
        """Registers a confidential client; returns its secret."""
        secret = f"secret-of-{client_id}"
        response = requests.put(
            f"{self.url}/testing/clients/{client_id}/",
            json={
                "secret": secret,
                "redirect_uris": redirect_uris,
                "post_logout_redirect_uris": list(post_logout_redirect_uris),
            },
            timeout=10,
        )
        assert response.status_code == 204, response.text
        return secret

    def user(self, username: str, *, groups=(), email=None, first_name="", last_name="") -> None:
        response = requests.put(
            f"{self.url}/testing/users/{username}/",
            json={
                "password": PASSWORD,
                "groups": list(groups),
                "email": email or f"{username}@example.org",
                "first_name": first_name,
                "last_name": last_name,
            },
            timeout=10,
        )
        assert response.status_code == 204, response.text

    def browser(self, username: str) -> requests.Session:
        """A session signed in at the provider, as a user's browser would be."""
        session = requests.Session()
        session.get(f"{self.url}/accounts/login/", timeout=10)
        response = session.post(
            f"{self.url}/accounts/login/",
            data={
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": session.cookies["provider_csrftoken"],
            },
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, "the provider refused the test user's password"
        return session

    def authorize(self, session: requests.Session, authorize_url: str) -> str:
        """Follows the provider's authorisation endpoint; returns the callback URL it sends back to."""
        response = session.get(authorize_url, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """django-oauth-toolkit's OpenID Connect provider, as a separate process for the whole session."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "accounts.tests.provider.settings",
        "PROVIDER_DB": str(tmp_path_factory.mktemp("provider") / "provider.sqlite3"),
        "PROVIDER_ISSUER": f"{url}/o",
        "PROVIDER_RSA_KEY": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    }
    subprocess.run([sys.executable, "-m", "django", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    log = tmp_path_factory.mktemp("provider-log") / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "accounts.tests.provider.wsgi", "--bind", f"127.0.0.1:{port}"]
            + ["--workers", "1", "--threads", "8", "--log-level", "warning"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/o/.well-known/openid-configuration", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the test OIDC provider did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield Provider(url)
    finally:
        process.terminate()
        process.wait(timeout=10)


def callback_path(location: str) -> str:
    """/oidc/callback/?code=…&state=… from the absolute URL the provider redirects to."""
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"
