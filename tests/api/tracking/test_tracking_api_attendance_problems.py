"""A provider's attendance return hears every problem at once, each field named."""

from __future__ import annotations

from tests.api.tracking.tracking_support import PROVIDER, outbox, snapshot, started, week


def test_every_problem_of_a_return_is_named_in_one_refusal(rt, client_for):
    client = client_for(rt)
    placement_id = started(client, rt, on="2024-01-10")
    before = snapshot(rt)

    refused = client.post(f"/v1/placements/{placement_id}/attendance", headers=PROVIDER,
                          json=week("2024-01-01", offered=10, attended=11))

    assert refused.status_code == 422, refused.json
    assert refused.json["errors"]["json"] == {
        "week_commencing": ["is before the placement started on 2024-01-10"],
        "attended": ["11 sessions attended is more than the 10 offered"]}
    assert snapshot(rt) == before and outbox(rt, "attendance.recorded") == []
