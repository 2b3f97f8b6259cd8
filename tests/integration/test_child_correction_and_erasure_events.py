"""A correction of a child's details and the erasure of its data reach awards' and tracking's
copies through the events, on the real RabbitMQ and PostgreSQL (issue #17 item 5): referrals
publishes `child.corrected` and `child.erased` through its outbox and relay; awards updates its
copy of the child's profile facts, then awards and tracking delete what they hold of the child."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from kombu import Connection

from services.awards import models as awards_models
from services.tracking import models as tracking_models
from shared.messaging.topology import declare_consumer_topology
from tests.api.awards.awards_support import close
from tests.api.referrals.referrals_support import MANAGER, NOW, OFFICER, create
from tests.api.tracking.tracking_support import awarded
from tests.support.runtime import running, wait_until

pytestmark = pytest.mark.integration


def _bind(runtime) -> None:
    consumer = runtime.consumer()
    with Connection(runtime.settings.amqp_url) as connection:
        declare_consumer_topology(connection.channel(), runtime.definition.name, list(consumer.handlers),
                                  consumer.retry_delays, False)


def _rows(runtime, table, child_ref) -> list:
    with runtime.engine.connect() as connection:
        return connection.execute(sa.select(table).where(table.c.child_ref == child_ref)).all()


def test_a_correction_and_an_erasure_reach_awards_and_tracking(service, client_for):
    referrals, awards, tracking = service("referrals"), service("awards"), service("tracking")
    referrals.clock = lambda: NOW
    for runtime in (awards, tracking):
        _bind(runtime)
    client = client_for(referrals)

    referral = create(client)
    rid, child_ref = referral["referral_id"], uuid.UUID(referral["child_ref"])
    cancelled = client.post(f"/v1/referrals/{rid}/cancel", json={"reason": "Moved away."}, headers=OFFICER)
    assert cancelled.status_code == 200
    # Awards' and tracking's copies of this child, as their consumers would have written them.
    close(awards, uuid.uuid4(), [], child_ref=child_ref, ehcp=True, looked_after=False)
    awarded(tracking, child_ref=str(child_ref))
    another_child = uuid.uuid4()
    awarded(tracking, child_ref=str(another_child))

    with running(referrals, consumer=False), running(awards, relay=False), running(tracking, relay=False):
        corrected = client.patch(f"/v1/children/{child_ref}", json={"ehcp": False, "looked_after": True,
                                                                    "name": "Zebedee Quartermain"}, headers=OFFICER)
        assert corrected.status_code == 200, corrected.json
        wait_until(lambda: [(r.ehcp, r.looked_after) for r in _rows(awards, awards_models.referrals, child_ref)]
                   == [(False, True)], message="awards' copy takes the correction")

        request_id = client.post(f"/v1/children/{child_ref}/erasure-requests", json={"grounds": "The parent asked."},
                                 headers=OFFICER).json["request_id"]
        granted = client.post(f"/v1/children/{child_ref}/erasure-requests/{request_id}/decision",
                              json={"grant": True, "reason": "No statutory record must be kept."}, headers=MANAGER)
        assert granted.status_code == 200, granted.json
        wait_until(lambda: not _rows(awards, awards_models.referrals, child_ref), message="awards erased the child")
        wait_until(lambda: not _rows(tracking, tracking_models.placements, child_ref),
                   message="tracking erased the child")

    assert len(_rows(tracking, tracking_models.placements, another_child)) == 1  # another child's stays
    for runtime in (awards, tracking):
        audit = runtime.audit_table
        with runtime.engine.connect() as connection:
            [entry] = connection.execute(sa.select(audit).where(audit.c.action == "child.erased")).all()
        assert entry.subject_id == str(child_ref) and entry.details["removed"]
