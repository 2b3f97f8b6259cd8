"""Rectification and erasure of a child's data through the API, on PostgreSQL (issue #17 item 5):
a correction reaches every referral and is audited by field name only; an unknown child is a 404;
an erasure under a statutory hold is a 409 naming the hold and deletes nothing; granted, the
child's identity and referrals are gone and `child.erased` is published."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa

from tests.api.referrals.referrals_support import (
    MANAGER,
    OFFICER,
    OTHER_TEAM_OFFICER,
    create,
    deliver,
    fields_of,
    outbox,
    referral_form,
    snapshot,
)


def _audit(rt, action: str) -> list[dict]:
    table = rt.audit_table
    with rt.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(sa.select(table).where(table.c.action == action))]


def _everything_audited(rt) -> str:
    with rt.engine.connect() as connection:
        return json.dumps([dict(r._mapping) for r in connection.execute(sa.select(rt.audit_table))], default=str)


def _cancelled(client, **form) -> dict:
    referral = create(client, referral_form(**form))
    response = client.post(f"/v1/referrals/{referral['referral_id']}/cancel", json={"reason": "Moved away."},
                           headers=OFFICER)
    assert response.status_code == 200, response.json
    return referral


def _request(client, child_ref, headers=OFFICER):
    return client.post(f"/v1/children/{child_ref}/erasure-requests",
                       json={"grounds": "The parent asked in writing on 10 January."}, headers=headers)


def _decide(client, child_ref, request_id, grant=True, reason="No statutory record must be kept."):
    return client.post(f"/v1/children/{child_ref}/erasure-requests/{request_id}/decision",
                       json={"grant": grant, "reason": reason}, headers=MANAGER)


# --- rectification ---------------------------------------------------------------------------------

def test_a_correction_reaches_every_referral_and_tells_others_only_what_they_keep(rt, client):
    first = create(client)
    second = _cancelled(client)
    child_ref = first["child_ref"]
    assert second["child_ref"] == child_ref

    response = client.patch(f"/v1/children/{child_ref}", json={"name": "Zebedee Quartermain", "upn": "A123456789099",
                                                              "looked_after": True}, headers=OFFICER)
    assert response.status_code == 200, response.json
    assert response.json == {"child_ref": child_ref, "changed": ["name", "upn", "looked_after"]}

    for referral in (first, second):
        shown = client.get(f"/v1/referrals/{referral['referral_id']}", headers=OFFICER).json
        assert shown["child"]["name"] == "Zebedee Quartermain" and shown["child"]["upn"] == "A123456789099"
        assert shown["child_ref"] == child_ref and shown["profile"]["looked_after"] is True
    [event] = outbox(rt, "child.corrected")
    assert set(event["data"]) == {"child_ref", "looked_after", "at"} and event["data"]["looked_after"] is True
    [entry] = _audit(rt, "child.corrected")
    assert entry["subject_id"] == child_ref and entry["details"]["changed"] == ["name", "upn", "looked_after"]
    assert "Quartermain\"" not in json.dumps(entry, default=str) and "A123456789099" not in json.dumps(entry,
                                                                                                        default=str)


def test_a_refused_correction_changes_nothing(rt, client):
    child_ref = create(client)["child_ref"]
    before = snapshot(rt)
    bad_upn = client.patch(f"/v1/children/{child_ref}", json={"upn": "12"}, headers=OFFICER)
    assert bad_upn.status_code == 422 and "upn" in fields_of(bad_upn)
    other_team = client.patch(f"/v1/children/{child_ref}", json={"name": "Someone Else"}, headers=OTHER_TEAM_OFFICER)
    assert other_team.status_code == 403
    unknown = client.patch(f"/v1/children/{uuid.uuid4()}", json={"name": "Someone Else"}, headers=MANAGER)
    assert unknown.status_code == 404
    assert snapshot(rt) == before


# --- erasure ---------------------------------------------------------------------------------------

def test_an_erasure_request_for_an_unknown_child_is_not_found(rt, client):
    assert _request(client, uuid.uuid4()).status_code == 404


def test_an_erasure_under_a_hold_is_refused_naming_it_and_deletes_nothing(rt, client):
    referral = create(client)  # an open referral
    request = _request(client, referral["child_ref"])
    assert request.status_code == 201 and request.json["status"] == "pending"
    before = snapshot(rt)
    refused = _decide(client, referral["child_ref"], request.json["request_id"])
    assert refused.status_code == 409 and "open_referral" in refused.json["message"]
    assert any("Education Act 1996 s.19" in hold and "(law)" in hold for hold in fields_of(refused)["holds"])
    assert snapshot(rt) == before


def test_a_placement_tracking_reported_holds_the_record_until_six_years_after_it_ended(rt, client):
    referral = _cancelled(client)
    child_ref, placement_id = referral["child_ref"], str(uuid.uuid4())
    deliver(rt, "placement.started", {"placement_id": placement_id, "referral_id": referral["referral_id"],
                                      "started_on": "2024-09-02", "provider_id": str(uuid.uuid4())}, "tracking")
    request_id = _request(client, child_ref).json["request_id"]
    live = _decide(client, child_ref, request_id)
    assert live.status_code == 409 and "live_placement" in live.json["message"]
    deliver(rt, "placement.ended", {"placement_id": placement_id, "referral_id": referral["referral_id"],
                                    "ended_on": "2024-12-20", "end_reason": "completed"}, "tracking")
    ended = _decide(client, child_ref, request_id)
    assert ended.status_code == 409 and "education_record" in ended.json["message"]
    assert "until 2030-12-20" in " ".join(fields_of(ended)["holds"])
    records = client.get(f"/v1/subject-access/{child_ref}", headers=MANAGER).json["records"]
    assert [p["ended_on"] for p in records["placements"]] == ["2024-12-20"]
    assert [r["status"] for r in records["erasure_requests"]] == ["pending"]


def test_a_granted_erasure_deletes_the_child_everywhere_in_referrals_and_keeps_only_that_it_happened(rt, client):
    referral = _cancelled(client)
    child_ref = referral["child_ref"]
    request_id = _request(client, child_ref).json["request_id"]
    granted = _decide(client, child_ref, request_id)
    assert granted.status_code == 200, granted.json
    assert granted.json["status"] == "granted" and granted.json["decided_by"] == "vls-manager"
    assert granted.json["removed"]["referrals"] == 1 and granted.json["removed"]["referral_children"] == 1

    assert client.get(f"/v1/referrals/{referral['referral_id']}", headers=MANAGER).status_code == 404
    assert client.get(f"/v1/subject-access/{child_ref}", headers=MANAGER).status_code == 404
    assert client.get(f"/v1/referrals?child_ref={child_ref}", headers=MANAGER).json == []
    stored = snapshot(rt)
    assert all(stored[table] == [] for table in ("referrals", "referral_children", "children"))
    assert [e["data"]["child_ref"] for e in outbox(rt, "child.erased")] == [child_ref]
    [erased] = _audit(rt, "child.erased")
    assert erased["details"]["removed"]["referrals"] == 1
    assert "Zebedee" not in _everything_audited(rt) and "A123456789012" not in _everything_audited(rt)

    listed = client.get(f"/v1/children/{child_ref}/erasure-requests", headers=MANAGER)
    assert [r["status"] for r in listed.json] == ["granted"]
    assert _decide(client, child_ref, request_id).status_code == 409  # decided once
    assert _request(client, child_ref).status_code == 404  # the child is no longer known


def test_only_the_manager_decides_an_erasure(rt, client):
    referral = _cancelled(client)
    request_id = _request(client, referral["child_ref"]).json["request_id"]
    response = client.post(f"/v1/children/{referral['child_ref']}/erasure-requests/{request_id}/decision",
                           json={"grant": True, "reason": "asked"}, headers=OFFICER)
    assert response.status_code == 403
    assert client.get(f"/v1/referrals/{referral['referral_id']}", headers=OFFICER).status_code == 200


def test_a_decision_needs_a_reason(rt, client):
    referral = _cancelled(client)
    request_id = _request(client, referral["child_ref"]).json["request_id"]
    response = _decide(client, referral["child_ref"], request_id, reason="")
    assert response.status_code == 422 and "reason" in fields_of(response)
