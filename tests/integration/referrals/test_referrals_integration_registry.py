"""Through the real RabbitMQ and PostgreSQL: the provider registry publishes
memberships from its outbox (its relay running), referrals' consumer keeps
its copy, and within seconds an admitted provider sees a referral published
to its lot and makes an offer, while a suspended one cannot."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from kombu import Connection

from services.referrals import consumers
from shared.messaging.topology import declare_consumer_topology
from tests.api.referrals.referrals_support import (
    NOW,
    OFFICER,
    admitted_data,
    offer,
    offer_terms,
    provider_auth,
    published_referral,
    status_data,
)
from tests.support.runtime import running, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def registry(service):
    return service("provider_registry")


@pytest.fixture
def referrals(service):
    runtime = service("referrals")
    runtime.clock = lambda: NOW
    # Referrals' queue is bound before the registry publishes, as in a deployed system.
    with Connection(runtime.settings.amqp_url) as connection:
        declare_consumer_topology(connection.channel(), "referrals", list(consumers.event_handlers()),
                                  runtime.settings.retry_delays, False)
    return runtime


def _registry_publishes(registry, *events) -> None:
    with registry.unit_of_work() as uow:
        for type_, data in events:
            uow.publish(type_, data)
        uow.commit()


def _standing(client, provider_id) -> str | None:
    rows = client.get(f"/v1/registry/memberships?provider_id={provider_id}", headers=OFFICER).json
    return rows[0]["status"] if rows else None


def test_admitted_provider_sees_a_published_referral_and_offers_a_suspended_one_cannot(
        registry, referrals, client_for, events):
    client = client_for(referrals)
    waiter = events(("dps.referrals", "#"))
    acorn, birch = uuid.uuid4(), uuid.uuid4()
    with running(registry, referrals):
        started = time.monotonic()
        _registry_publishes(registry,
                            ("membership.admitted", admitted_data(acorn, name="Acorn")),
                            ("membership.admitted", admitted_data(birch, name="Birch")),
                            ("membership.suspended", status_data(birch, at=NOW - timedelta(days=2))))
        wait_until(lambda: _standing(client, acorn) == "admitted" and _standing(client, birch) == "suspended",
                   timeout=10, message="referrals' copy of the registry")

        referral = published_referral(client)
        rid = referral["referral_id"]
        published = waiter.wait_for(lambda e: e["type"] == "referral.published")[0]
        assert published["data"]["invited_provider_ids"] == [str(acorn)]

        listed = client.get("/v1/provider/referrals", headers=provider_auth(acorn)).json
        assert [r["referral_id"] for r in listed] == [rid]
        made = offer(client, referral, acorn)
        assert made.status_code == 201, made.json
        assert time.monotonic() - started < 10, "from admission to an offer within seconds"
        waiter.wait_for(lambda e: e["type"] == "offer.submitted" and e["data"]["provider_id"] == str(acorn))

        assert client.get("/v1/provider/referrals", headers=provider_auth(birch)).json == []
        assert client.get(f"/v1/provider/referrals/{rid}", headers=provider_auth(birch)).status_code == 404
        refused = offer(client, referral, birch)
        assert refused.status_code == 403 and "provider_id" in refused.json["errors"]["json"]

        # suspended after the invitation: its offer may no longer change
        _registry_publishes(registry, ("membership.suspended", status_data(acorn, at=NOW)))
        wait_until(lambda: _standing(client, acorn) == "suspended", timeout=10, message="acorn suspended")
        changed = client.put(f"/v1/provider/offers/{made.json['offer_id']}", headers=provider_auth(acorn),
                             json=offer_terms(acorn, referral["questions"], unit_price_pence=40_000))
        assert changed.status_code == 403
    assert [e["type"] for e in waiter.received].count("offer.changed") == 0

