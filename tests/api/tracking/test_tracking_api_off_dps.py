"""An approved off-DPS exception tracked like any placement (issue #16 item 5):
started, its attendance returned by the team's officer (its provider has no
account here), its concerns, reviews and outcomes, its committed spend and
the census, on PostgreSQL."""

from __future__ import annotations

import uuid

from tests.api.tracking.tracking_support import (
    MANAGER,
    OFFICER,
    OTHER_TEAM,
    PROVIDER,
    REPORTING,
    deliver,
    outbox,
    started,
    week,
)

OFF_DPS_PROVIDER = uuid.uuid5(uuid.NAMESPACE_URL, "riverside-tuition")


def approved(runtime, **overrides) -> uuid.UUID:
    """off_dps_placement.approved as awards publishes it."""
    data = {"placement_id": str(uuid.uuid4()), "referral_id": str(uuid.uuid4()), "dps_id": str(uuid.uuid4()),
            "provider_id": str(OFF_DPS_PROVIDER), "provider_name": "Riverside Tuition",
            "setting_kind": "unregistered", "urn": None, "ukprn": None, "lot": 2, "team": "exclusions",
            "child_ref": str(uuid.uuid4()), "reason_for_ap": "permanent exclusion", "hours_per_week": 15,
            "full_time": False, "start_date": "2024-01-08", "weeks": 4, "weekly_cost_pence": 7_000,
            "total_pence": 28_000, "approved_by": "the.manager", "at": "2024-01-05T10:00:00+00:00", **overrides}
    deliver(runtime, "off_dps_placement.approved", data)
    return uuid.UUID(data["placement_id"])


def test_an_off_dps_placement_is_tracked_like_any_other(rt, client_for):
    client = client_for(rt)
    placement_id = approved(rt)
    url = f"/v1/placements/{placement_id}"
    shown = client.get(url, headers=OFFICER).json
    assert shown["source"] == "off_dps" and shown["provider_name"] == "Riverside Tuition"
    assert shown["agreed_cost_pence"] == 28_000
    assert client.post(f"{url}/start", json={"started_on": "2024-01-08"}, headers=OFFICER).status_code == 200
    returned = client.post(f"{url}/attendance", json=week("2024-01-08", attended=5, unauthorised=5),
                           headers=OFFICER)
    assert returned.status_code == 201, returned.json
    assert returned.json["concerns_raised"] and returned.json["concerns_raised"][0]["provider_name"] == \
        "Riverside Tuition"
    assert client.post(f"{url}/attendance", json=week("2024-01-15"), headers=OTHER_TEAM).status_code == 403
    assert client.post(f"{url}/attendance", json=week("2024-01-15"), headers=PROVIDER).status_code == 403
    assert outbox(rt, "attendance.recorded")
    spend = client.get("/v1/reports/committed-spend", headers=MANAGER).json
    assert [(r["month_start"], r["provider_id"], r["committed_pence"]) for r in spend] == [
        ("2024-01-01", str(OFF_DPS_PROVIDER), 24_000), ("2024-02-01", str(OFF_DPS_PROVIDER), 4_000)]
    census = client.get("/v1/reports/census?year=2024", headers=REPORTING).json
    assert [p["placement_id"] for p in census["pupils"]] == [str(placement_id)]


def test_an_officer_still_may_not_return_a_dps_providers_attendance(rt, client_for):
    client = client_for(rt)
    placement_id = started(client, rt)
    refused = client.post(f"/v1/placements/{placement_id}/attendance", json=week("2024-01-08"), headers=OFFICER)
    assert refused.status_code == 403 and "off-DPS" in refused.json["message"]
