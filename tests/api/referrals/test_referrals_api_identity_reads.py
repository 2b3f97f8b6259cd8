"""An officer reading a referral (one, or in a list) is written to the audit
trail with the child it showed and the endpoint; the manager lists a child's
reads through the audit trail (issue #17 item 6).  A provider's reads show
no identity and record nothing."""

from __future__ import annotations

from tests.api.referrals.referrals_support import MANAGER, OFFICER, create


def _reads(client, child_ref: str) -> list[dict]:
    response = client.get(f"/v1/audit?subject_type=child&subject_id={child_ref}", headers=MANAGER)
    assert response.status_code == 200, response.json
    return [e for e in response.json if e["action"] == "child.identity_read"]


def test_an_officer_reading_a_referral_is_recorded_and_the_manager_lists_it(rt, client):
    referral = create(client)
    rid, child_ref = referral["referral_id"], referral["child_ref"]
    assert _reads(client, child_ref) == []  # creating it is audited as an action, not as a read

    assert client.get(f"/v1/referrals/{rid}", headers=OFFICER).status_code == 200
    assert client.get("/v1/referrals", headers=OFFICER).status_code == 200

    reads = _reads(client, child_ref)
    assert sorted(r["details"]["through"] for r in reads) == ["GET /v1/referrals", f"GET /v1/referrals/{rid}"]
    assert {r["actor"] for r in reads} == {"officer-1"} and reads[0]["details"]["referral_id"] == rid


def test_a_refused_read_records_nothing(rt, client):
    referral = create(client)
    from tests.api.referrals.referrals_support import OTHER_TEAM_OFFICER

    assert client.get(f"/v1/referrals/{referral['referral_id']}", headers=OTHER_TEAM_OFFICER).status_code == 403
    assert _reads(client, referral["child_ref"]) == []
