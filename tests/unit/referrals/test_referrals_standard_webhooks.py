"""Webhooks signed by the Standard Webhooks specification (issue #21): the published test vectors, the
verifier docs/webhooks.md gives providers, the `standardwebhooks` package's verifier, and secrets issued
before (which keep working, with the old X-DPS-Signature as well).

The test vectors below (secret, message id, timestamp, payload, signatures) are copied from the Standard
Webhooks reference implementation's tests, libraries/python/tests/test_webhooks.py in
github.com/standard-webhooks/standard-webhooks, under this licence:

    The MIT License

    Copyright (c) 2023 Standard Webhooks

    Permission is hereby granted, free of charge, to any person obtaining a copy
    of this software and associated documentation files (the "Software"), to deal
    in the Software without restriction, including without limitation the rights
    to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
    copies of the Software, and to permit persons to whom the Software is
    furnished to do so, subject to the following conditions:

    The above copyright notice and this permission notice shall be included in
    all copies or substantial portions of the Software.

    THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
    IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
    FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
    AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
    LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
    OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
    THE SOFTWARE.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import standardwebhooks

from services.referrals import webhooks
from services.referrals.domain.webhook_addresses import WebhookRule
from tests.support.webhook_verifier import documented_verifier

# --- the specification's vectors -------------------------------------------------------------------------
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
PAYLOAD = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
WRONG_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
OTHER_SIGNATURES = ["v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
                    "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="]

doc = documented_verifier()


def _headers(signature: str = SIGNATURE, timestamp: int = TIMESTAMP) -> dict:
    return {"webhook-id": MESSAGE_ID, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def test_our_signature_is_the_specifications_vector():
    assert webhooks.signature(SECRET, MESSAGE_ID, TIMESTAMP, PAYLOAD) == SIGNATURE


def test_the_documented_verifier_accepts_the_vector_and_refuses_a_wrong_signature():
    assert doc.verify(SECRET, _headers(), PAYLOAD, now=TIMESTAMP) == MESSAGE_ID
    with pytest.raises(doc.InvalidWebhook):
        doc.verify(SECRET, _headers(WRONG_SIGNATURE), PAYLOAD, now=TIMESTAMP)
    with pytest.raises(doc.InvalidWebhook):
        doc.verify(SECRET, _headers(), PAYLOAD + b" ", now=TIMESTAMP)  # the body changed


def test_the_documented_verifier_takes_a_list_of_signatures_one_of_them_valid():
    listed = " ".join([*OTHER_SIGNATURES, SIGNATURE, OTHER_SIGNATURES[0]])
    assert doc.verify(SECRET, _headers(listed), PAYLOAD, now=TIMESTAMP) == MESSAGE_ID
    with pytest.raises(doc.InvalidWebhook):
        doc.verify(SECRET, _headers(" ".join(OTHER_SIGNATURES)), PAYLOAD, now=TIMESTAMP)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_the_documented_verifier_refuses_a_request_missing_a_header(missing):
    headers = {k: v for k, v in _headers().items() if k != missing}
    with pytest.raises(doc.InvalidWebhook):
        doc.verify(SECRET, headers, PAYLOAD, now=TIMESTAMP)


def test_replay_protection_is_the_five_minutes_tolerance_on_the_timestamp():
    tolerance = doc.TOLERANCE_SECONDS
    assert tolerance == webhooks.TOLERANCE.total_seconds() == 300
    assert doc.verify(SECRET, _headers(), PAYLOAD, now=TIMESTAMP + tolerance) == MESSAGE_ID
    assert doc.verify(SECRET, _headers(), PAYLOAD, now=TIMESTAMP - tolerance) == MESSAGE_ID
    for now in (TIMESTAMP + tolerance + 1, TIMESTAMP - tolerance - 1):  # replayed later, or from the future
        with pytest.raises(doc.InvalidWebhook, match="5 minutes"):
            doc.verify(SECRET, _headers(), PAYLOAD, now=now)
    with pytest.raises(doc.InvalidWebhook):
        doc.verify(SECRET, _headers(timestamp="hello"), PAYLOAD, now=TIMESTAMP)


def test_the_documented_verifier_takes_the_secret_with_or_without_prefix_and_padding():
    bare = SECRET.removeprefix("whsec_")
    assert doc.verify(bare, _headers(), PAYLOAD, now=TIMESTAMP) == MESSAGE_ID
    for secret in ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr"):  # need 1 and 2 "="
        key = base64.b64decode(secret + "==")
        sig = base64.b64encode(hmac.new(key, f"{MESSAGE_ID}.{TIMESTAMP}.".encode() + PAYLOAD,
                                        hashlib.sha256).digest()).decode()
        assert doc.verify("whsec_" + secret, _headers("v1," + sig), PAYLOAD, now=TIMESTAMP) == MESSAGE_ID


# --- what referrals sends ----------------------------------------------------------------------------------

def test_a_new_secret_is_whsec_and_the_base64_of_32_random_bytes():
    secret = webhooks.new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert webhooks.new_secret() != secret


@pytest.fixture(autouse=True)
def public_names(monkeypatch):
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.216.34"])


def _sent(secret: str, body: bytes, at: datetime | None = None) -> dict:
    """The headers one attempt is posted with (nothing leaves the test)."""
    posted = {}

    def send(target, address, sent_body, headers):
        assert sent_body == body
        posted.update(headers)
        return webhooks.Answer(204)

    claimed = webhooks.Claimed(uuid.uuid4(), 0, "referral.published", body, "https://acorn.example/dps", secret)
    assert webhooks.attempt(claimed, webhook_rule=WebhookRule(), send=send, at=at).ok
    return posted


def test_a_delivery_verifies_with_the_documented_verifier_and_the_standardwebhooks_package():
    secret, body = webhooks.new_secret(), b'{"event":"referral.published","data":{"lot":2}}'
    headers = _sent(secret, body)
    assert set(headers) >= {"webhook-id", "webhook-timestamp", "webhook-signature", "X-DPS-Delivery", "X-DPS-Event"}
    assert headers["webhook-id"] == headers["X-DPS-Delivery"] and "X-DPS-Signature" not in headers
    assert doc.verify(secret, headers, body) == headers["webhook-id"]
    assert standardwebhooks.Webhook(secret).verify(body, headers) == {"event": "referral.published",
                                                                      "data": {"lot": 2}}


def test_the_timestamp_is_the_attempts_in_whole_seconds():
    at = datetime(2026, 12, 7, 23, 0, 5, 900_000, tzinfo=UTC)
    assert _sent(webhooks.new_secret(), b"{}", at)["webhook-timestamp"] == str(int(at.timestamp()))
    secret = webhooks.new_secret()
    stale = _sent(secret, b"{}", datetime.now(UTC) - timedelta(minutes=6))  # as if captured and replayed
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError, match="too old"):
        standardwebhooks.Webhook(secret).verify(b"{}", stale)
    with pytest.raises(doc.InvalidWebhook):
        doc.verify(secret, stale, b"{}")


def test_a_secret_issued_before_keeps_working_with_the_old_header_too():
    legacy, body = "pLx3Qd0Z-9kq_legacy-secret-token-urlsafe-32b", b'{"event":"referral.published"}'
    headers = _sent(legacy, body)
    # exactly the signature such a provider has always checked
    assert headers["X-DPS-Signature"] == "sha256=" + hmac.new(legacy.encode(), body, hashlib.sha256).hexdigest()
    standard = webhooks.standard_secret(legacy)
    assert standard == "whsec_" + base64.b64encode(legacy.encode()).decode()
    assert doc.verify(standard, headers, body) == headers["webhook-id"]
    assert standardwebhooks.Webhook(standard).verify(body, headers) == {"event": "referral.published"}
    assert webhooks.standard_secret(SECRET) == SECRET


def test_the_signature_description_says_what_is_sent_for_each_kind_of_secret():
    new = webhooks.signature_description(webhooks.new_secret())
    assert new.startswith("webhook-signature: v1,<base64 HMAC-SHA256 of '{webhook-id}.{webhook-timestamp}.{body}'")
    assert "5 minutes" in new and "X-DPS-Signature" not in new
    old = webhooks.signature_description("a-legacy-secret-without-prefix")
    assert old.startswith(new) and "X-DPS-Signature: sha256=<hex HMAC-SHA256 of the body>" in old
