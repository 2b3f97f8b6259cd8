"""Signed webhooks to providers' systems: registering a URL and its secret,
one delivery per invited provider written when a referral is published (never
sent inside the request), posted by the scheduled job with an HMAC signature,
retried with back-off, and every attempt recorded.  The provider's system is
a local HTTP server on 127.0.0.1: these tests opt in to the development switch
that allows http to loopback (DPS_WEBHOOK_ALLOW_LOOPBACK), and `*.example`
names resolve to a public address without DNS.  Which addresses a webhook may
reach is in test_referrals_api_webhook_addresses.py."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.referrals import models, webhooks
from services.referrals.webhooks import RETRY_DELAYS
from tests.api.referrals.referrals_support import (
    MANAGER,
    NOW,
    OFFICER,
    admit,
    fields_of,
    provider_auth,
    published_referral,
    snapshot,
)
from tests.support.webhook_verifier import documented_verifier


@pytest.fixture(autouse=True)
def development_webhooks(monkeypatch):
    monkeypatch.setenv("DPS_WEBHOOK_ALLOW_LOOPBACK", "true")
    monkeypatch.delenv("DPS_WEBHOOK_ALLOWED_HOSTS", raising=False)
    real = webhooks.resolve
    monkeypatch.setattr(webhooks, "resolve",
                        lambda host, port: ["93.184.216.34"] if host.endswith(".example") else real(host, port))


class ProviderSystem:
    """A provider's receiving endpoint: records each POST, answers from a script."""

    def __init__(self, answers=(204,)) -> None:
        self.answers = list(answers)
        self.received: list[dict] = []
        system = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                system.received.append({"headers": dict(self.headers), "body": body})
                status = system.answers.pop(0) if len(system.answers) > 1 else system.answers[0]
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dps/referrals"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _register(client, provider_id, url, **extra):
    response = client.put("/v1/provider/webhook", headers=provider_auth(provider_id), json={"url": url, **extra})
    assert response.status_code == 200, response.json
    return response.json


def _run_jobs_at(rt, moment):
    rt.clock = lambda: moment
    assert "deliver_webhooks" in rt.run_jobs(force=True)


def _deliveries(client, provider_id):
    return client.get("/v1/provider/webhook/deliveries", headers=provider_auth(provider_id)).json


# --- registering -----------------------------------------------------------------------------------

def test_provider_registers_a_url_and_is_given_its_secret_once(client, rt):
    acorn = admit(rt)
    registered = _register(client, acorn, "https://acorn.example/dps")
    assert registered["url"] == "https://acorn.example/dps" and registered["secret"].startswith("whsec_")
    assert registered["signature_header"] == webhooks.signature_description(registered["secret"])
    shown = client.get("/v1/provider/webhook", headers=provider_auth(acorn)).json
    assert shown["url"] == "https://acorn.example/dps" and "secret" not in shown
    assert shown["signature_header"].startswith("webhook-signature: v1,")
    moved = _register(client, acorn, "https://acorn.example/v2/dps")
    assert "secret" not in moved  # the same secret stands
    rotated = _register(client, acorn, "https://acorn.example/v2/dps", rotate_secret=True)
    assert rotated["secret"] != registered["secret"]


def test_secrets_are_per_provider(client, rt):
    acorn, birch = admit(rt), admit(rt)
    assert _register(client, acorn, "https://a.example/")["secret"] != _register(client, birch,
                                                                                 "https://b.example/")["secret"]


def test_only_https_urls_are_accepted(client, rt):
    acorn = admit(rt)
    before = snapshot(rt)
    for url in ("ftp://acorn.example/dps", "javascript:alert(1)", "acorn.example/dps", "file:///etc/passwd",
                "https://user:pw@acorn.example/", "http://", "http://acorn.example:http/",
                "http://acorn.example/dps"):
        response = client.put("/v1/provider/webhook", headers=provider_auth(acorn), json={"url": url})
        assert response.status_code == 422 and "url" in fields_of(response), url
    assert snapshot(rt) == before


def test_webhooks_are_for_providers_only(client, rt):
    for headers, status in [(OFFICER, 403), (MANAGER, 403), ({}, 401)]:
        assert client.put("/v1/provider/webhook", headers=headers, json={"url": "https://x.example/"}).status_code \
            == status


def test_a_removed_webhook_gets_no_more_deliveries(client, rt):
    acorn = admit(rt)
    _register(client, acorn, "http://127.0.0.1:9/unused")
    published_referral(client)
    assert client.delete("/v1/provider/webhook", headers=provider_auth(acorn)).status_code == 204
    assert client.delete("/v1/provider/webhook", headers=provider_auth(acorn)).status_code == 404
    _run_jobs_at(rt, NOW + timedelta(seconds=1))
    [delivery] = _deliveries(client, acorn)
    assert delivery["state"] == "failed" and delivery["attempts"] == 0


# --- delivering ---------------------------------------------------------------------------------------

def test_publishing_posts_the_signed_profile_from_the_deliveries_table_not_the_request(client, rt):
    acorn, birch = admit(rt), admit(rt)
    with ProviderSystem() as system:
        secret = _register(client, acorn, system.url)["secret"]
        referral = published_referral(client)
        assert system.received == []  # nothing is sent inside the officer's request
        [pending] = _deliveries(client, acorn)
        assert pending["state"] == "pending" and pending["referral_id"] == referral["referral_id"]
        _run_jobs_at(rt, NOW + timedelta(seconds=1))
    [post] = system.received
    # Standard Webhooks: what a provider verifies with the code docs/webhooks.md gives it
    assert documented_verifier().verify(secret, post["headers"], post["body"]) == post["headers"]["webhook-id"]
    assert "X-DPS-Signature" not in post["headers"]  # only for secrets issued before Standard Webhooks
    assert post["headers"]["X-DPS-Event"] == "referral.published"
    body = json.loads(post["body"])
    assert body["event"] == "referral.published" and body["delivery_id"] == post["headers"]["X-DPS-Delivery"]
    assert body["delivery_id"] == post["headers"]["webhook-id"]
    data = body["data"]
    assert data["referral_id"] == referral["referral_id"] and data["profile"] == referral["profile"]
    assert data["questions"] == referral["questions"] and data["status"] == "open"
    assert "invited_provider_ids" not in data  # who else was invited is not a provider's business
    [delivered] = _deliveries(client, acorn)
    assert delivered["state"] == "delivered" and delivered["attempts"] == 1 and delivered["last_status"] == 204
    assert _deliveries(client, birch) == []  # no webhook registered: it polls


def test_a_secret_issued_before_standard_webhooks_keeps_working(client, rt):
    """A webhook registered before issue #21 has a plain-text secret: its deliveries carry the old
    X-DPS-Signature exactly as before, beside the Standard Webhooks headers (keyed with the text's bytes),
    and the API says so; rotating the secret moves it to a whsec_ one and ends the old header."""
    acorn = admit(rt)
    legacy = "Zq1x-legacy_token_urlsafe_32_bytes_of_text_0"
    with ProviderSystem() as system:
        _register(client, acorn, system.url)
        with rt.engine.begin() as connection:  # as the row was stored before
            connection.execute(models.webhooks.update().values(secret=legacy))
        shown = client.get("/v1/provider/webhook", headers=provider_auth(acorn)).json
        assert "X-DPS-Signature: sha256=<hex HMAC-SHA256 of the body>" in shown["signature_header"]
        published_referral(client)
        _run_jobs_at(rt, NOW + timedelta(seconds=1))
        rotated = _register(client, acorn, system.url, rotate_secret=True)
        published_referral(client)
        _run_jobs_at(rt, NOW + timedelta(seconds=2))
    old, new = system.received
    assert old["headers"]["X-DPS-Signature"] == "sha256=" + hmac.new(legacy.encode(), old["body"],
                                                                     hashlib.sha256).hexdigest()
    verify = documented_verifier().verify
    assert verify(webhooks.standard_secret(legacy), old["headers"], old["body"]) == old["headers"]["webhook-id"]
    assert "X-DPS-Signature" not in new["headers"] and "X-DPS-Signature" not in rotated["signature_header"]
    assert verify(rotated["secret"], new["headers"], new["body"]) == new["headers"]["webhook-id"]


def test_a_failed_delivery_is_retried_after_its_back_off(client, rt):
    acorn = admit(rt)
    with ProviderSystem(answers=[503, 200]) as system:
        _register(client, acorn, system.url)
        published_referral(client)
        _run_jobs_at(rt, NOW + timedelta(seconds=1))
        [failed] = _deliveries(client, acorn)
        assert failed["state"] == "pending" and failed["attempts"] == 1 and failed["last_status"] == 503
        assert failed["next_attempt_at"] == (NOW + timedelta(seconds=1) + RETRY_DELAYS[0]).isoformat()
        _run_jobs_at(rt, NOW + timedelta(seconds=30))  # too soon
        assert len(system.received) == 1
        _run_jobs_at(rt, NOW + timedelta(seconds=1) + RETRY_DELAYS[0])
    assert len(system.received) == 2
    first, retry = system.received
    assert first["body"] == retry["body"]  # the same delivery, the same id
    assert first["headers"]["webhook-id"] == retry["headers"]["webhook-id"]  # the receiver's idempotency key
    [delivered] = _deliveries(client, acorn)
    assert delivered["state"] == "delivered" and delivered["attempts"] == 2


def test_a_delivery_is_given_up_after_the_last_retry_and_the_manager_sees_it(client, rt):
    acorn = admit(rt)
    with ProviderSystem(answers=[500]) as system:
        _register(client, acorn, system.url)
        published_referral(client)
        moment = NOW + timedelta(seconds=1)
        for delay in (timedelta(0), *RETRY_DELAYS):
            moment += delay
            _run_jobs_at(rt, moment)
    assert len(system.received) == len(RETRY_DELAYS) + 1
    [failed] = client.get("/v1/webhook-deliveries?state=failed", headers=MANAGER).json
    assert failed["provider_id"] == str(acorn) and failed["attempts"] == len(RETRY_DELAYS) + 1
    assert failed["next_attempt_at"] is None and failed["gave_up_at"] is not None
    assert client.get("/v1/webhook-deliveries", headers=OFFICER).status_code == 403


def test_an_unreachable_system_is_recorded_and_retried(client, rt):
    acorn = admit(rt)
    _register(client, acorn, "http://127.0.0.1:9/nothing-listens")
    published_referral(client)
    _run_jobs_at(rt, NOW + timedelta(seconds=1))
    [delivery] = _deliveries(client, acorn)
    assert delivery["state"] == "pending" and delivery["last_status"] is None and delivery["last_error"]


def test_a_provider_sees_only_its_own_deliveries(client, rt):
    acorn, birch = admit(rt), admit(rt)
    _register(client, acorn, "http://127.0.0.1:9/a")
    published_referral(client)
    assert len(_deliveries(client, acorn)) == 1
    assert _deliveries(client, birch) == []
    forced = client.get(f"/v1/provider/webhook/deliveries?provider_id={acorn}", headers=provider_auth(birch)).json
    assert forced == []
