"""An off-DPS placement through the real broker and databases (issue #16
item 5): an officer records the exception in referrals (the provider, the
terms, the minimum checks); awards keeps a copy from off_dps_exception.recorded;
the manager approves it there and tracking follows the placement it becomes
(off_dps_placement.approved, source off_dps).  Where the registration rule
does not hold, the approval is refused (409, naming the rule as law) and
nothing reaches tracking."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from kombu import Connection

from services.awards import consumers as awards_consumers
from services.tracking import consumers as tracking_consumers
from shared.messaging.topology import declare_consumer_topology
from tests.api.referrals.referrals_support import NOW, OFFICER, published_referral
from tests.support.off_dps import off_dps_json
from tests.support.runtime import auth, running, wait_until

pytestmark = pytest.mark.integration

MANAGER = auth("manager", sub="vls-manager")


@pytest.fixture
def services(service):
    referrals, awards, tracking = service("referrals"), service("awards"), service("tracking")
    for runtime in (referrals, awards, tracking):
        runtime.clock = lambda: NOW
    # the readers' queues exist before anything is published, as in a deployed system
    with Connection(awards.settings.amqp_url) as connection:
        for name, consumers in (("awards", awards_consumers), ("tracking", tracking_consumers)):
            declare_consumer_topology(connection.channel(), name, list(consumers.event_handlers()),
                                      awards.settings.retry_delays, False)
    return referrals, awards, tracking


def record_exception(client, **parts) -> str:
    referral = published_referral(client)  # no provider admitted: no DPS provider can offer
    url = f"/v1/referrals/{referral['referral_id']}"
    assert client.post(f"{url}/close", headers=OFFICER).status_code == 200
    recorded = client.post(f"{url}/off-dps-exception", headers=OFFICER, json=off_dps_json(**parts))
    assert recorded.status_code == 201, recorded.json
    return referral["referral_id"]


def test_an_approved_off_dps_exception_becomes_a_tracked_placement(services, client_for):
    referrals, awards, tracking = services
    council, manager, follower = client_for(referrals), client_for(awards), client_for(tracking)
    school = {"setting_kind": "registered_school", "urn": "123456", "name": "Hillside Independent School"}

    with running(referrals, consumer=False), running(awards), running(tracking, relay=False):
        referral_id = record_exception(council, provider=school)
        url = f"/v1/off-dps-placements/{referral_id}"
        wait_until(lambda: manager.get(url, headers=MANAGER).status_code == 200,
                   message="awards has the exception")
        pending = manager.get(url, headers=MANAGER).json
        assert (pending["status"], pending["provider_name"], pending["urn"]) == (
            "pending", "Hillside Independent School", "123456")
        assert pending["checks"]["dbs"]["confirmed"] is True

        approved = manager.post(f"{url}/approve", headers=MANAGER)
        assert approved.status_code == 200, approved.json
        placement_url = f"/v1/placements/{approved.json['placement_id']}"
        wait_until(lambda: follower.get(placement_url, headers=MANAGER).status_code == 200,
                   message="tracking follows the placement")

    placement = follower.get(placement_url, headers=MANAGER).json
    assert placement["source"] == "off_dps" and placement["status"] == "awarded"
    assert placement["provider_id"] == approved.json["provider_id"]
    assert placement["provider_name"] == "Hillside Independent School"
    assert placement["agreed_cost_pence"] == 45000 * 12 and placement["referral_id"] == referral_id


def test_the_registration_rule_refuses_the_approval_and_nothing_is_tracked(services, client_for):
    referrals, awards, _tracking = services
    council, manager = client_for(referrals), client_for(awards)

    with running(referrals, consumer=False), running(awards):
        # the default child has an EHCP; at 25 hours a week it is full-time: an unregistered setting may not
        referral_id = record_exception(council, terms={"hours_per_week": 25})
        url = f"/v1/off-dps-placements/{referral_id}"
        wait_until(lambda: manager.get(url, headers=MANAGER).status_code == 200,
                   message="awards has the exception")
        refused = manager.post(f"{url}/approve", headers=MANAGER)
        assert refused.status_code == 409
        message = refused.json["message"]
        assert "EHCP" in message and "Education Act 1996 s.463" in message and "law" in message
        assert manager.get(url, headers=MANAGER).json["status"] == "pending"
        not_yet = manager.post(f"{url}/refuse", headers=MANAGER, json={"reason": "Find a registered school"})
        assert not_yet.status_code == 200
        assert manager.post(f"{url}/approve", headers=MANAGER).status_code == 409

    with awards.engine.connect() as c:
        types = list(c.execute(sa.select(awards.outbox_table.c.event_type)).scalars())
    assert "off_dps_placement.approved" not in types
