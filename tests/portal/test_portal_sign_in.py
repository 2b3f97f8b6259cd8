"""Signing in to the portal: the development sign-in only in development, council staff by OpenID Connect
(configuration and the claims' mapping; no identity provider here), providers by a single-use link, and the
session cookie's and pages' security; the tokens it signs are accepted by the services."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from werkzeug.exceptions import Forbidden

from services.portal import links as links_module
from services.portal.links import SignInLinks, TooManyLinks
from services.portal.sign_in import oidc_client, person_from_claims
from services.portal.tokens import Person, TokenSigner
from shared.auth import TokenVerifier
from shared.config import load_portal_settings
from tests.portal.conftest import csrf_of, portal_client, sign_in

KEY = "-----BEGIN PRIVATE KEY-----\nnot used here\n-----END PRIVATE KEY-----"


def _environment(monkeypatch, **values):
    for name in [n for n in __import__("os").environ if n.startswith("DPS_PORTAL_") or n == "DPS_ENVIRONMENT"]:
        monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_development_sign_in_is_refused_outside_development(monkeypatch):
    _environment(monkeypatch, DPS_ENVIRONMENT="production", DPS_PORTAL_DEVELOPMENT_SIGN_IN="true",
                 DPS_PORTAL_SECRET_KEY="x" * 40, DPS_PORTAL_JWT_PRIVATE_KEY=KEY)
    with pytest.raises(ValueError, match="DPS_PORTAL_DEVELOPMENT_SIGN_IN .* unless DPS_ENVIRONMENT is development"):
        load_portal_settings()
    _environment(monkeypatch, DPS_ENVIRONMENT="development", DPS_PORTAL_DEVELOPMENT_SIGN_IN="true")
    assert load_portal_settings().development_sign_in


def test_production_needs_the_session_secret_and_the_signing_key(monkeypatch):
    _environment(monkeypatch, DPS_ENVIRONMENT="production")
    with pytest.raises(ValueError, match="DPS_PORTAL_SECRET_KEY and DPS_PORTAL_JWT_PRIVATE_KEY"):
        load_portal_settings()


def test_the_development_sign_in_page_does_not_exist_when_it_is_off(portal_settings):
    portal = portal_client(replace(portal_settings, development_sign_in=False), None)
    assert portal.get("/sign-in/development").status_code == 404
    assert "Sign in as a manager" not in portal.get("/").get_data(as_text=True)


def test_the_oidc_settings_go_together_and_name_the_issuers_discovery_document(monkeypatch):
    _environment(monkeypatch, DPS_PORTAL_OIDC_ISSUER="https://login.microsoftonline.com/tenant-id/v2.0")
    with pytest.raises(ValueError, match="set all three, or none"):
        load_portal_settings()
    _environment(monkeypatch, DPS_PORTAL_OIDC_ISSUER="https://login.microsoftonline.com/tenant-id/v2.0",
                 DPS_PORTAL_OIDC_CLIENT_ID="client-id", DPS_PORTAL_OIDC_CLIENT_SECRET="client-secret")
    settings = load_portal_settings()
    assert settings.oidc_configured
    assert settings.oidc_metadata_url == \
        "https://login.microsoftonline.com/tenant-id/v2.0/.well-known/openid-configuration"


def test_the_oidc_client_is_registered_from_the_settings(portal_settings):
    settings = replace(portal_settings, oidc_issuer="https://idp.council.example", oidc_client_id="portal",
                       oidc_client_secret="s3cret")
    from services.portal.app import create_app

    app = create_app(settings, transport=None)
    client = oidc_client(app)
    assert client.client_id == "portal" and client.client_secret == "s3cret"
    assert client._server_metadata_url == "https://idp.council.example/.well-known/openid-configuration"
    assert client.client_kwargs["scope"] == "openid profile email"
    assert oidc_client(create_app(portal_settings, transport=None)) is None


def test_staff_roles_and_team_come_from_the_claims_the_settings_name(portal_settings):
    settings = replace(portal_settings, roles_claim="roles", team_claim="https://council.example/team",
                       role_map={"DPS.Officer": "officer", "DPS.Manager": "manager"})
    person = person_from_claims({"sub": "abc", "name": "Ann Officer", "roles": ["DPS.Officer", "Other"],
                                 "https://council.example/team": "send"}, settings)
    assert person == Person("abc", ("officer",), "send", None, "Ann Officer")
    with pytest.raises(Forbidden):  # an officer of no configured team
        person_from_claims({"sub": "abc", "roles": ["DPS.Officer"]}, settings)
    with pytest.raises(Forbidden):  # no role of ours at all
        person_from_claims({"sub": "abc", "roles": ["Other"]}, settings)


def test_the_portals_tokens_are_accepted_by_the_services_with_its_public_key(portal_settings, portal_keys):
    person = Person("dev-user", ("provider",), provider_id="3f0c4a8e-1b7d-4c55-9a43-0f2b9d1e6a11")
    token = TokenSigner(portal_settings).token_for(person)
    actor = TokenVerifier(public_key=portal_keys[1], max_lifetime=600).verify(token)
    assert actor.roles == frozenset({"provider"}) and str(actor.provider_id) == person.provider_id


def test_the_session_cookie_is_secure_httponly_and_lax_and_pages_forbid_inline_script(portal_settings):
    portal = portal_client(portal_settings, None)
    page = portal.get("/sign-in/development").get_data(as_text=True)
    response = portal.post("/sign-in/development", data={"csrf_token": csrf_of(page), "role": "manager"})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'sha256-" in csp and "unsafe-inline" not in csp


def test_a_form_without_its_csrf_token_is_refused(portal_settings):
    portal = portal_client(portal_settings, None)
    assert portal.post("/sign-in/development", data={"role": "manager"}).status_code == 400


def test_sign_out_and_the_idle_timeout_end_the_session(portal_settings):
    portal = portal_client(replace(portal_settings, idle_minutes=0), None)
    sign_in(portal, "provider", provider_id="3f0c4a8e-1b7d-4c55-9a43-0f2b9d1e6a11")
    time.sleep(0.01)
    response = portal.get("/provider/invitations")
    assert response.status_code == 302 and "/?next=" in response.headers["Location"]

    portal = portal_client(portal_settings, None)
    sign_in(portal, "manager")
    page = portal.get("/").get_data(as_text=True)
    portal.post("/sign-out", data={"csrf_token": csrf_of(page)})
    assert portal.get("/provider/invitations").status_code == 302


def test_a_sign_in_link_works_once_within_its_minutes(tmp_path):
    now = [1_000_000.0]
    links = SignInLinks(tmp_path / "links.sqlite3", minutes=15, clock=lambda: now[0])
    first = links.issue("Ann@Provider.example", '{"sub": "ann"}')
    assert links.use(first) == '{"sub": "ann"}'
    assert links.use(first) is None  # once
    late = links.issue("ann@provider.example", '{"sub": "ann"}')
    now[0] += 15 * 60 + 1
    assert links.use(late) is None  # expired
    assert links.use("made-up") is None
    assert "ann" not in (tmp_path / "links.sqlite3").read_bytes().decode("latin-1").lower().replace('"sub": "ann"', "")


def test_an_address_may_ask_for_a_few_links_an_hour(tmp_path):
    now = [1_000_000.0]
    links = SignInLinks(tmp_path / "links.sqlite3", per_hour=2, clock=lambda: now[0])
    links.issue("ann@provider.example", "{}")
    links.issue("ANN@provider.example ", "{}")
    with pytest.raises(TooManyLinks):
        links.issue("ann@provider.example", "{}")
    links.issue("bob@provider.example", "{}")  # another address is not held back
    now[0] += 3601
    links.issue("ann@provider.example", "{}")


def test_a_provider_user_signs_in_with_the_link_emailed_to_them(portal_settings, monkeypatch):
    sent = []
    monkeypatch.setattr(links_module.smtplib, "SMTP", _FakeSMTP.with_outbox(sent))
    from services.portal.app import create_app

    app = create_app(portal_settings, transport=None)
    provider = Person("user-1", ("provider",), provider_id="3f0c4a8e-1b7d-4c55-9a43-0f2b9d1e6a11", name="Ann")
    app.extensions["portal"].provider_users = lambda address: provider if address == "ann@acorn.example" else None
    portal = app.test_client()
    portal.environ_base["wsgi.url_scheme"] = "https"

    for address in ("ann@acorn.example", "nobody@acorn.example"):
        page = portal.get("/sign-in/email").get_data(as_text=True)
        reply = portal.post("/sign-in/email", data={"csrf_token": csrf_of(page), "email": address})
        assert "Check your email" in reply.get_data(as_text=True)  # the same words whoever asks
    assert [m["To"] for m in sent] == ["ann@acorn.example"]
    url = next(line for line in sent[0].get_content().splitlines() if "/sign-in/link/" in line)
    path = url.removeprefix(portal_settings.portal_url)

    page = portal.get(path).get_data(as_text=True)  # opening it spends nothing
    assert portal.post(path, data={"csrf_token": csrf_of(page)}).headers["Location"].endswith("/provider/invitations")
    again = portal_client(portal_settings, None)
    page = again.get(path).get_data(as_text=True)
    assert again.post(path, data={"csrf_token": csrf_of(page)}).status_code == 400  # once only
    assert json.loads(json.dumps(provider.to_session()))["provider_id"] == provider.provider_id


class _FakeSMTP:
    outbox: list

    @classmethod
    def with_outbox(cls, outbox):
        return type("SMTP", (cls,), {"outbox": outbox})

    def __init__(self, host, port, timeout=None):
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_message(self, message):
        self.outbox.append(message)
