"""The AP census through the real RabbitMQ and PostgreSQL: the registry says what kind of setting a
provider is (membership.admitted), tracking that the child's placement started (placement.started, from
its own start of the placement), both through their outboxes and relays; referrals' consumer keeps the
facts, and the return shows the child with the setting's URN, the entry date and the sessions."""

from __future__ import annotations

import uuid

import pytest
from kombu import Connection

from services.referrals import consumers
from shared.messaging.topology import declare_consumer_topology
from tests.api.referrals.referrals_support import CHILD, MANAGER, NOW, admitted_data, create, referral_form
from tests.api.tracking import tracking_support
from tests.support.runtime import running, wait_until

pytestmark = pytest.mark.integration

CENSUS = {"surname": "Quartermaine", "forename": "Zebedee", "sex": "M", "ethnicity": "WBRI",
          "sen_provision": "E", "fsm_eligible": False}


def test_a_placement_started_in_tracking_reaches_the_census_with_the_registry_setting(service, client_for):
    registry, referrals, tracking = service("provider_registry"), service("referrals"), service("tracking")
    referrals.clock = tracking.clock = lambda: NOW
    with Connection(referrals.settings.amqp_url) as connection:
        declare_consumer_topology(connection.channel(), "referrals", list(consumers.event_handlers()),
                                  referrals.settings.retry_delays, False)
    council, placements = client_for(referrals), client_for(tracking)
    acorn = uuid.uuid4()
    referral = create(council, referral_form(child={**CHILD, **CENSUS}))

    with running(registry, consumer=False), running(tracking, consumer=False), running(referrals, relay=False):
        with registry.unit_of_work() as uow:
            uow.publish("membership.admitted", admitted_data(
                acorn, setting_kind="registered_school", establishment_type="non_maintained_special",
                identifiers=[{"scheme": "GB-URN", "id": "100001"}]))
            uow.commit()
        placement_id = tracking_support.awarded(
            tracking, referral_id=referral["referral_id"], child_ref=referral["child_ref"], provider_id=str(acorn),
            hours_per_week=12, lot=2, full_time=False, start_date="2025-01-06", at="2025-01-02T10:00:00+00:00")
        started = placements.post(f"/v1/placements/{placement_id}/start", json={"started_on": "2025-01-06"},
                                  headers=tracking_support.MANAGER)
        assert started.status_code == 200, started.json

        def census():
            return council.get("/v1/reports/ap-census?year=2025", headers=MANAGER).json["pupils"]

        wait_until(lambda: [p["items"]["URN"] for p in census()] == ["100001"], timeout=15,
                   message="the census shows the placement with the registry's URN")
    [pupil] = census()
    assert pupil["placement_id"] == str(placement_id)
    assert {k: pupil["items"][k] for k in ("UPN", "APEntryDate", "APAttendancePattern", "APSessionsPerWeek",
                                           "SENprovision", "FSMeligible")} == {
        "UPN": "A123456789012", "APEntryDate": "2025-01-06", "APAttendancePattern": "P", "APSessionsPerWeek": "4",
        "SENprovision": "E", "FSMeligible": "0"}
    assert pupil["problems"] == []
