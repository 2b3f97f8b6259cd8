"""Fixtures of the portal's tests: its settings with a key pair of its own, and the referrals service it calls
(the real app on SQLite, reached through Flask's test client: `referrals_stack`)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from shared.auth import new_key_pair
from shared.config import PortalSettings

PORTAL_SECRET = "portal-test-secret-of-at-least-32-characters"


@pytest.fixture(scope="session")
def portal_keys() -> tuple[str, str]:
    """(private, public) PEM of the portal's signing key."""
    return new_key_pair()


@pytest.fixture
def portal_settings(portal_keys, tmp_path) -> PortalSettings:
    return PortalSettings(secret_key=PORTAL_SECRET, jwt_private_key=portal_keys[0], development_sign_in=True,
                          teams={"exclusions": "Exclusions and Reintegration", "send": "SEND"},
                          service_urls={}, data_dir=tmp_path)


def transport_to(apps: dict):
    """Calls each service's own Flask app (its test client) as the portal would over HTTP."""
    clients = {name: app.test_client() for name, app in apps.items()}

    def send(service, method, path, headers, body):
        response = clients[service].open(path, method=method, headers=headers, json=body)
        return response.status_code, response.get_json(silent=True)

    return send


def portal_client(settings: PortalSettings, transport):
    from services.portal.app import create_app

    app = create_app(settings, transport=transport)
    app.testing = True
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"  # as behind the TLS proxy: the session cookie is Secure
    return client


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, role: str, **fields) -> None:
    page = client.get("/sign-in/development").get_data(as_text=True)
    response = client.post("/sign-in/development", data={"csrf_token": csrf_of(page), "role": role, **fields})
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def referrals_stack(tmp_path, portal_keys):
    """The referrals runtime on SQLite, accepting the portal's tokens (its public key) and the tests' own."""
    from shared.web import create_app
    from tests.api.referrals.referrals_support import NOW
    from tests.support.runtime import build_runtime

    runtime = build_runtime("referrals", f"sqlite:///{tmp_path}/referrals.sqlite3", "amqp://unused//")
    runtime.settings = replace(runtime.settings, jwt_public_key=portal_keys[1])
    runtime.clock = lambda: NOW
    app = create_app(runtime.definition, runtime.settings, runtime)
    app.testing = True
    yield runtime, app
    runtime.engine.dispose()
