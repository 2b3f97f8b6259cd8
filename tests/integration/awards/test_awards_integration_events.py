"""Awards on the real broker: a referral closed in the referrals service
(through its outbox and relay) becomes rankable in awards (its consumer), and
the award goes out on dps.awards as placement.awarded; a placement ended in
tracking frees the provider's place; a repeated event has one effect."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from kombu import Connection, Producer

from services.awards import consumers, models
from shared.events import new_event
from shared.messaging.topology import declare_consumer_topology, service_exchange
from tests.api.awards.awards_support import NOW, OFFICER, admit, closed_referral, offer
from tests.support.runtime import running, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def awards(service):
    runtime = service("awards")
    runtime.clock = lambda: NOW
    # Awards' queue is bound before anything is published, as in a deployed system.
    with Connection(runtime.settings.amqp_url) as connection:
        declare_consumer_topology(connection.channel(), "awards", list(consumers.event_handlers()),
                                  runtime.settings.retry_delays, False)
    return runtime


def knows_referral(runtime, referral_id) -> bool:
    with runtime.engine.connect() as c:
        return c.execute(sa.select(models.referrals.c.referral_id)
                         .where(models.referrals.c.referral_id == referral_id)).first() is not None


def publish_raw(amqp_url: str, envelope) -> None:
    """As another service's relay would (used where that service's runtime is not needed)."""
    exchange = service_exchange(envelope.producer)
    with Connection(amqp_url, transport_options={"confirm_publish": True}) as connection:
        Producer(connection.channel(), exchange=exchange).publish(
            envelope.to_json(), routing_key=envelope.type, content_type="application/json", delivery_mode=2,
            declare=[exchange])


def test_a_closed_referral_becomes_rankable_and_its_award_is_published(service, awards, client_for, events):
    referrals = service("referrals")
    waiter = events(("dps.awards", "placement.*"), ("dps.awards", "offer.*"))
    cheap, dear = uuid.uuid4(), uuid.uuid4()
    admit(awards, cheap)
    admit(awards, dear)
    referral_id, child_ref = uuid.uuid4(), uuid.uuid4()
    top, other = offer(cheap, 3000), offer(dear, 4500)

    with running(awards), running(referrals, consumer=False):
        with referrals.unit_of_work() as uow:
            uow.publish("referral.closed", closed_referral(referral_id, [top, other], child_ref=child_ref))
            uow.commit()
        wait_until(lambda: knows_referral(awards, referral_id), message="awards has the closed referral")

        client = client_for(awards)
        ranking = client.get(f"/v1/referrals/{referral_id}/ranking", headers=OFFICER)
        assert [e["offer_id"] for e in ranking.json["entries"]] == [top["offer_id"], other["offer_id"]]
        made = client.post(f"/v1/referrals/{referral_id}/award", json={"offer_id": top["offer_id"]},
                           headers=OFFICER)
        assert made.status_code == 201

        [awarded] = waiter.wait_for(lambda e: e["type"] == "placement.awarded")
        [unsuccessful] = waiter.wait_for(lambda e: e["type"] == "offer.unsuccessful")

    assert awarded["producer"] == "awards"
    data = awarded["data"]
    assert (data["referral_id"], data["offer_id"], data["provider_id"], data["child_ref"], data["team"],
            data["reason_for_ap"], data["placement_id"]) == (
        str(referral_id), top["offer_id"], str(cheap), str(child_ref), "exclusions", "permanent_exclusion",
        made.json["placement_id"])
    assert unsuccessful["data"]["offer_id"] == other["offer_id"]


def test_a_placement_ended_in_tracking_frees_the_place_and_a_repeat_has_one_effect(awards, client_for):
    provider = uuid.uuid4()
    admit(awards, provider, capacity=1)
    first, second = uuid.uuid4(), uuid.uuid4()
    first_offer, second_offer = offer(provider, 3000), offer(provider, 3000)
    client = client_for(awards)
    url = awards.settings.amqp_url

    with running(awards):
        closed = new_event("referral.closed", closed_referral(first, [first_offer]), "referrals")
        publish_raw(url, closed)
        publish_raw(url, closed)  # delivered twice
        publish_raw(url, new_event("referral.closed", closed_referral(second, [second_offer]), "referrals"))
        wait_until(lambda: knows_referral(awards, first) and knows_referral(awards, second))
        placement_id = client.post(f"/v1/referrals/{first}/award", json={"offer_id": first_offer["offer_id"]},
                                   headers=OFFICER).json["placement_id"]
        [entry] = client.get(f"/v1/referrals/{second}/ranking", headers=OFFICER).json["entries"]
        assert entry["eligible"] is False

        publish_raw(url, new_event("placement.ended", {
            "placement_id": placement_id, "referral_id": str(first), "provider_id": str(provider), "lot": 2,
            "team": "exclusions", "ended_on": "2025-03-11", "end_reason": "completed",
            "next_step": "mainstream_school", "at": NOW.isoformat()}, "tracking"))
        wait_until(lambda: client.get(f"/v1/referrals/{second}/ranking",
                                      headers=OFFICER).json["entries"][0]["eligible"],
                   message="the place is free again")

    with awards.engine.connect() as c:
        offers = c.execute(sa.select(sa.func.count()).select_from(models.offers)
                           .where(models.offers.c.referral_id == first)).scalar_one()
        ranked = c.execute(sa.select(sa.func.count()).select_from(awards.audit_table)
                           .where(awards.audit_table.c.action == "ranking.made")).scalar_one()
    assert offers == 1
    assert ranked >= 2
