"""What the registry tells tracking: a suspended (or removed) provider's
open placements on that lot are flagged for review; a late copy of an older
event changes nothing; bad events are refused for the dead-letter queue.  The rules alone are tested on the handlers:
tests/unit/tracking/test_tracking_handlers_rules.py."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from services.tracking import consumers
from shared.errors import InvalidInput  # a domain refusal: the consumer dead-letters it at once
from shared.events import new_event
from tests.api.tracking.tracking_support import (
    MANAGER,
    OFFICER,
    PROVIDER_A,
    award_data,
    awarded,
    deliver,
    snapshot,
    started,
)


def membership(type_: str, at: str, lot: int = 1, reason: str = "insurance expired") -> dict:
    status = {"membership.suspended": "suspended", "membership.reinstated": "admitted",
              "membership.removed": "removed"}[type_]
    return {"provider_id": str(PROVIDER_A), "provider_name": "Northside Learning", "lot": lot,
            "status": status, "reason": reason, "at": at}


def _flags(client, placement_id):
    body = client.get(f"/v1/placements/{placement_id}", headers=MANAGER).json
    return body["flagged_for_review"], [f["reason"] for f in body["review_flags"]]


def test_a_suspension_flags_the_providers_open_placements_on_that_lot(rt, client_for):
    client = client_for(rt)
    running = started(client, rt)
    not_started = awarded(rt)
    other_lot = started(client, rt, lot=2, hours_per_week=10)
    finished = started(client, rt)
    client.post(f"/v1/placements/{finished}/end", headers=OFFICER, json={
        "end_date": "2024-03-01", "end_reason": "completed", "next_step": "employment"})
    deliver(rt, "membership.suspended", membership("membership.suspended", "2024-03-14T09:00:00+00:00"),
            "provider_registry")
    flagged, reasons = _flags(client, running)
    assert flagged and reasons == ["Northside Learning was suspended from lot 1 on 2024-03-14: insurance expired"]
    assert _flags(client, not_started)[0] is True
    assert _flags(client, other_lot)[0] is False
    assert _flags(client, finished)[0] is False
    overdue = client.get("/v1/reports/overdue-reviews", headers=OFFICER).json
    assert {row["placement_id"] for row in overdue} >= {str(running), str(not_started)}


def test_the_reports_use_the_registrys_provider_names(rt, client_for):
    client = client_for(rt)
    started(client, rt)
    deliver(rt, "provider.registration_changed", {
        "provider_id": str(PROVIDER_A), "provider_name": "Northside Learning Trust",
        "registration_status": "registered_school", "urn": "123456", "ofsted_grade": "good",
        "at": "2024-02-01T09:00:00+00:00"}, "provider_registry")
    rows = client.get("/v1/reports/active-placements?by=provider", headers=MANAGER).json
    assert rows == [{"provider_id": str(PROVIDER_A), "provider_name": "Northside Learning Trust",
                     "placements": 1}]


@pytest.mark.parametrize("type_, data, error", [
    ("placement.awarded", award_data(lot=5), InvalidInput),  # not a lot of the DPS
    ("placement.awarded", award_data(total_pence=10.5), ValidationError),
    ("placement.awarded", {k: v for k, v in award_data().items() if k != "child_ref"}, ValidationError),
    ("placement.awarded", award_data(weeks=0), ValidationError),
    ("membership.suspended", {"provider_id": "nope", "lot": 1}, ValidationError),
])
def test_an_event_that_can_never_be_applied_is_refused_for_the_dead_letter_queue(rt, type_, data, error):
    before = snapshot(rt)
    producer = "awards" if type_.startswith("placement") else "provider_registry"
    with rt.unit_of_work() as uow, pytest.raises(error):
        consumers.event_handlers()[type_](uow, new_event(type_, data, producer))
    assert snapshot(rt) == before


def test_an_award_reads_only_the_fields_it_needs(rt, client_for):
    data = award_data(some_future_field={"nested": True})
    del data["pricing_line_id"], data["override_reason"]
    deliver(rt, "placement.awarded", data)
    assert client_for(rt).get(f"/v1/placements/{data['placement_id']}", headers=MANAGER).status_code == 200


def test_every_event_tracking_reads_has_a_handler():
    assert {"placement.awarded", "block_place.allocated", "membership.suspended", "membership.reinstated",
            "membership.removed"} <= set(consumers.event_handlers())
