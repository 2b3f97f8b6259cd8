"""Tracking on the real RabbitMQ and PostgreSQL: an award published by the
awards service's outbox becomes a placement here; a provider's attendance
return below the threshold raises a concern that a reporting system's own
queue bound to `dps.tracking` receives; a suspension from the registry flags
the placement for review."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from kombu import Connection

from shared.messaging.topology import declare_consumer_topology
from tests.support.runtime import auth, running, wait_until

pytestmark = pytest.mark.integration

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
PROVIDER_ID = uuid.uuid4()
PROVIDER = auth("provider", provider_id=PROVIDER_ID, sub="provider.user")
OFFICER = auth("officer", team="exclusions", sub="officer.user")


def _bind_tracking_queue(tracking) -> None:
    """Tracking's queue exists before anything is published, as in a deployed system."""
    consumer = tracking.consumer()
    with Connection(tracking.settings.amqp_url) as connection:
        declare_consumer_topology(connection.channel(), "tracking", list(consumer.handlers),
                                  consumer.retry_delays, False)


def _award(placement_id: uuid.UUID) -> dict:
    return {
        "award_id": str(uuid.uuid4()), "placement_id": str(placement_id), "referral_id": str(uuid.uuid4()),
        "offer_id": str(uuid.uuid4()), "provider_id": str(PROVIDER_ID), "lot": 1, "team": "exclusions",
        "child_ref": str(uuid.uuid4()), "reason_for_ap": "permanent exclusion",
        "pricing_line_id": str(uuid.uuid4()), "unit_price_pence": 45_000, "units_per_week": 1,
        "hours_per_week": 25, "weeks": 28, "total_pence": 1_260_000, "start_date": "2024-01-08",
        "full_time": True, "override_reason": None, "awarded_by": "officer.user",
        "at": "2024-01-02T10:00:00+00:00"}


def test_an_award_becomes_a_placement_and_low_attendance_reaches_reporting(service, client_for, events):
    awards, tracking = service("awards"), service("tracking")
    tracking.clock = lambda: NOW
    client = client_for(tracking)
    _bind_tracking_queue(tracking)
    reporting = events(("dps.tracking", "#"))  # a downstream reporting system's own queue
    placement_id = uuid.uuid4()

    with running(awards, consumer=False), running(tracking):
        with awards.unit_of_work() as uow:
            uow.publish("placement.awarded", _award(placement_id))
            uow.commit()
        wait_until(lambda: client.get(f"/v1/placements/{placement_id}", headers=OFFICER).status_code == 200,
                   message="the award became a placement")
        assert client.get(f"/v1/placements/{placement_id}", headers=OFFICER).json["status"] == "awarded"

        started = client.post(f"/v1/placements/{placement_id}/start", json={"started_on": "2024-01-08"},
                              headers=PROVIDER)
        assert started.status_code == 200
        low = client.post(f"/v1/placements/{placement_id}/attendance", headers=PROVIDER, json={
            "week_commencing": "2024-01-08", "sessions_offered": 10, "attended": 6,
            "authorised_absence": 4, "unauthorised_absence": 0})
        assert low.status_code == 201

        [concern] = reporting.wait_for(lambda e: e["type"] == "concern.raised")
        assert concern["producer"] == "tracking"
        assert concern["data"]["placement_id"] == str(placement_id)
        assert concern["data"]["kind"] == "low_attendance" and concern["data"]["rate"] == 0.6
        assert concern["data"]["team"] == "exclusions" and concern["data"]["provider_id"] == str(PROVIDER_ID)
        types = {e["type"] for e in reporting.wait_for(lambda e: e["type"] != "concern.raised", count=2)}
        assert types == {"placement.started", "attendance.recorded"}


def test_a_suspension_published_by_the_registry_flags_the_placement(service, client_for):
    awards, registry, tracking = service("awards"), service("provider_registry"), service("tracking")
    tracking.clock = lambda: NOW
    client = client_for(tracking)
    _bind_tracking_queue(tracking)
    placement_id = uuid.uuid4()
    with running(awards, registry, consumer=False), running(tracking):
        with awards.unit_of_work() as uow:
            uow.publish("placement.awarded", _award(placement_id))
            uow.commit()
        wait_until(lambda: client.get(f"/v1/placements/{placement_id}", headers=OFFICER).status_code == 200,
                   message="the award became a placement")
        with registry.unit_of_work() as uow:
            uow.publish("membership.suspended", {
                "provider_id": str(PROVIDER_ID), "provider_name": "Northside Learning", "lot": 1,
                "status": "suspended", "reason": "DBS checks expired", "at": "2024-03-14T09:00:00+00:00"})
            uow.commit()
        wait_until(lambda: client.get(f"/v1/placements/{placement_id}", headers=OFFICER).json["flagged_for_review"],
                   message="the placement was flagged for review")


def test_a_block_contract_awards_confirms_is_committed_in_full_in_tracking(service, client_for):
    from datetime import date

    from services.awards import domain as awards_domain
    from services.awards import messages as awards_messages

    awards, tracking = service("awards"), service("tracking")
    tracking.clock = lambda: NOW
    client = client_for(tracking)
    _bind_tracking_queue(tracking)
    # what awards' own mapping puts on the wire: 1 February to 31 March 2024, 60 days, two places, 1,000p a day
    confirmed = awards_domain.BlockContractConfirmed(
        uuid.uuid4(), uuid.uuid4(), PROVIDER_ID, 2, 2, 60_000, date(2024, 2, 1), date(2024, 3, 31), "the.manager",
        datetime(2024, 1, 20, 10, tzinfo=UTC), team="exclusions")
    type_, data = awards_messages.message(confirmed)

    with running(awards, consumer=False), running(tracking):
        with awards.unit_of_work() as uow:
            uow.publish(type_, data)
            uow.commit()

        def spend():
            return client.get("/v1/reports/committed-spend", headers=OFFICER).json

        wait_until(lambda: spend() != [], message="the block contract reached tracking")
        assert [(r["month_start"], r["lot"], r["committed_pence"]) for r in spend()] == [
            ("2024-02-01", 2, 29_000), ("2024-03-01", 2, 31_000)]
