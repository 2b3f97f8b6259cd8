"""The notifications API on PostgreSQL: the delivery log is the manager's, and
shows no message's words; each person keeps their own preferences, and what
the law or safeguarding needs cannot be turned off (422 naming the field)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.notifications.domain import Delivery
from tests.support.runtime import auth

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def client(database, client_for):
    from tests.support.runtime import build_runtime

    runtime = build_runtime("notifications", database("notifications"), "amqp://unused//", migrate=False)
    runtime.clock = lambda: NOW
    with runtime.unit_of_work() as uow:
        uow.deliveries.add_once(Delivery(uuid.uuid4(), "referral.published", "referral.new", "provider",
                                         "p-1", "office@acme.example", {"secret": "words"}, created_at=NOW))
        uow.commit()
    yield client_for(runtime)
    runtime.engine.dispose()


def test_the_delivery_log_is_the_managers_and_holds_no_message_words(client):
    answer = client.get("/v1/deliveries", headers=auth("manager"))
    assert answer.status_code == 200
    [row] = answer.json
    assert (row["address"], row["status"], row["template"]) == ("office@acme.example", "pending", "referral.new")
    assert "values" not in row and "words" not in answer.get_data(as_text=True)
    for role, kwargs in (("officer", {}), ("provider", {"provider_id": uuid.uuid4()}), ("reporting", {})):
        assert client.get("/v1/deliveries", headers=auth(role, **kwargs)).status_code == 403
    assert client.get("/v1/deliveries").status_code == 401


def test_a_provider_turns_off_the_reminder_but_not_a_decision(client):
    provider = auth("provider", provider_id=uuid.uuid4())
    turned = client.put("/v1/preferences", json={"turned_off": ["referral.reminder"]}, headers=provider)
    assert turned.status_code == 200 and turned.json["turned_off"] == ["referral.reminder"]
    assert client.get("/v1/preferences", headers=provider).json["turned_off"] == ["referral.reminder"]

    refused = client.put("/v1/preferences", json={"turned_off": ["referral.reminder", "offer.awarded"]},
                         headers=provider)
    assert refused.status_code == 422
    assert "turned_off" in refused.get_data(as_text=True) and "cannot be turned off" in refused.get_data(as_text=True)
    assert client.get("/v1/preferences", headers=provider).json["turned_off"] == ["referral.reminder"]  # unchanged

    unknown = client.put("/v1/preferences", json={"turned_off": ["no.such"]}, headers=provider)
    assert unknown.status_code == 422


def test_every_message_is_listed_with_whether_it_may_be_turned_off(client):
    messages = client.get("/v1/messages", headers=auth("officer")).json
    by_name = {m["template"]: m for m in messages}
    assert by_name["referral.reminder"]["optional"] is True
    assert by_name["concern.raised"]["optional"] is False and "safeguarding" in by_name["concern.raised"][
        "why_required"]
