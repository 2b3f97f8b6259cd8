"""The manager's approval of off-DPS exceptions over HTTP (issue #16 item 5):
a paged list, approve (the registration rule holds, or 409 naming it as law),
refuse with a reason; manager only; a refused request changes nothing."""

from __future__ import annotations

import uuid

from services.awards import subject_access
from tests.api.awards.awards_support import (
    MANAGER,
    OFFICER,
    OTHER_OFFICER,
    audit_actions,
    errors,
    feed,
    outbox,
    provider_auth,
    snapshot,
)
from tests.support.off_dps import exception_event


def recorded(rt, **changes) -> str:
    referral_id = str(uuid.uuid4())
    feed(rt, "off_dps_exception.recorded", exception_event(referral_id, **changes))
    return referral_id


def test_the_manager_sees_the_exception_with_its_provider_terms_and_checks(client, rt):
    referral_id = recorded(rt)
    feed(rt, "off_dps_exception.recorded", exception_event(referral_id))  # a second copy: nothing more
    [listed] = client.get("/v1/off-dps-placements", headers=MANAGER).json
    assert listed["referral_id"] == referral_id and listed["status"] == "pending"
    assert (listed["provider_name"], listed["setting_kind"], listed["declared_full_time_pupils"]) == (
        "Riverside Tuition", "unregistered", 2)
    assert (listed["hours_per_week"], listed["weekly_cost_pence"], listed["weeks"], listed["total_pence"]) == (
        15, 45000, 12, 540_000)
    assert listed["checks"]["insurance"] == {"confirmed": True, "by": "officer-1", "on": "2025-01-20"}
    assert listed["registration_refusals"] == []
    assert client.get(f"/v1/off-dps-placements/{referral_id}", headers=OFFICER).json == listed
    assert client.get("/v1/off-dps-placements", headers=OTHER_OFFICER).json == []
    assert client.get(f"/v1/off-dps-placements/{referral_id}", headers=OTHER_OFFICER).status_code == 403
    assert client.get("/v1/off-dps-placements?status=approved", headers=MANAGER).json == []
    assert client.get("/v1/off-dps-placements", headers=provider_auth(uuid.uuid4())).status_code == 403
    assert client.get(f"/v1/off-dps-placements/{uuid.uuid4()}", headers=MANAGER).status_code == 404


def test_the_manager_approves_once_and_tracking_is_told(client, rt):
    referral_id = recorded(rt)
    assert client.post(f"/v1/off-dps-placements/{referral_id}/approve", headers=OFFICER).status_code == 403
    approved = client.post(f"/v1/off-dps-placements/{referral_id}/approve", headers=MANAGER)
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "approved" and approved.json["decided_by"] == "vls-manager"
    [event] = outbox(rt, "off_dps_placement.approved")
    assert event["data"]["placement_id"] == approved.json["placement_id"]
    assert event["data"]["provider_id"] == approved.json["provider_id"] and event["data"]["total_pence"] == 540_000
    assert "off_dps_placement.approved" in audit_actions(rt)
    before = snapshot(rt)
    again = client.post(f"/v1/off-dps-placements/{referral_id}/approve", headers=MANAGER)
    assert again.status_code == 409 and "already approved" in again.json["message"]
    refused = client.post(f"/v1/off-dps-placements/{referral_id}/refuse", headers=MANAGER, json={"reason": "No"})
    assert refused.status_code == 409 and snapshot(rt) == before


def test_the_registration_rule_refuses_the_approval_naming_it_as_law(client, rt):
    referral_id = recorded(rt, lot=1, full_time=True, provider={"full_time_pupils": 4},
                           terms={"hours_per_week": 25})
    shown = client.get(f"/v1/off-dps-placements/{referral_id}", headers=MANAGER).json
    assert shown["registration_refusals"] and "5 pupils of compulsory school age" in shown["registration_refusals"][0]
    before = snapshot(rt)
    refused = client.post(f"/v1/off-dps-placements/{referral_id}/approve", headers=MANAGER)
    assert refused.status_code == 409
    assert "Education Act 1996 s.463" in refused.json["message"] and "law" in refused.json["message"]
    assert snapshot(rt) == before and outbox(rt, "off_dps_placement.approved") == []


def test_a_refusal_needs_its_reason_and_no_placement_follows(client, rt):
    referral_id = recorded(rt)
    url = f"/v1/off-dps-placements/{referral_id}"
    before = snapshot(rt)
    missing = client.post(f"{url}/refuse", headers=MANAGER, json={})
    assert missing.status_code == 422 and "reason" in errors(missing) and snapshot(rt) == before
    refused = client.post(f"{url}/refuse", headers=MANAGER, json={"reason": "DBS confirmation is a year old"})
    assert refused.status_code == 200 and refused.json["status"] == "refused"
    assert refused.json["refusal_reason"] == "DBS confirmation is a year old"
    not_approved = client.post(f"{url}/approve", headers=MANAGER)
    assert not_approved.status_code == 409 and "without the manager's approval" in not_approved.json["message"]
    assert outbox(rt, "off_dps_placement.approved") == []
    assert [e["referral_id"] for e in client.get("/v1/off-dps-placements?status=refused",
                                                 headers=MANAGER).json] == [referral_id]


def test_a_childs_off_dps_exception_follows_its_correction_erasure_and_subject_access(client, rt):
    child, other = uuid.uuid4(), uuid.uuid4()
    mine, theirs = recorded(rt, child_ref=child), recorded(rt, child_ref=other)
    feed(rt, "child.corrected", {"child_ref": str(child), "looked_after": True, "at": "2025-01-30T10:00:00+00:00"})
    with rt.unit_of_work(read_only=True) as uow:
        held = subject_access.gather(uow.session, child)
    assert [str(r["referral_id"]) for r in held["off_dps_placements"]] == [mine]
    assert held["off_dps_placements"][0]["looked_after"] is True
    feed(rt, "child.erased", {"child_ref": str(child), "at": "2025-01-30T11:00:00+00:00"})
    assert [e["referral_id"] for e in client.get("/v1/off-dps-placements", headers=MANAGER).json] == [theirs]
