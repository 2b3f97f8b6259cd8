"""After the window: closing (at the deadline, by the job or on any read; or
early once everyone has answered), the officers' assessment, referral.closed
for awards, off-DPS exceptions for the manager, and the awards' events
marking a referral awarded.  The rules alone are tested on the handlers:
tests/unit/referrals/test_referrals_handlers_lifecycle.py."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.api.referrals.referrals_support import (
    AFTER_DEADLINE,
    DEADLINE,
    MANAGER,
    NOW,
    OFFICER,
    OTHER_TEAM_OFFICER,
    admit,
    audit_actions,
    deliver,
    offer,
    outbox,
    provider_auth,
    published_referral,
    snapshot,
)
from tests.support.off_dps import off_dps_json


def _referral(client, rt, *, providers=2, **form):
    ids = [admit(rt, name=f"Provider {i}") for i in range(providers)]
    return published_referral(client, **form), ids


def _status(client, referral) -> str:
    return client.get(f"/v1/referrals/{referral['referral_id']}", headers=OFFICER).json["status"]


def _assess(client, referral, offer_id, meets_needs=True, reason="Meets every need in the profile", marks=None):
    marks = marks if marks is not None else {q["question_id"]: meets_needs for q in referral["questions"]}
    return client.put(f"/v1/referrals/{referral['referral_id']}/offers/{offer_id}/assessment", headers=OFFICER,
                      json={"meets_needs": meets_needs, "reason": reason, "criteria_met": marks})


def _complete(client, referral):
    return client.post(f"/v1/referrals/{referral['referral_id']}/complete-assessment", headers=OFFICER)


# --- closing -----------------------------------------------------------------------------------

def test_a_referral_past_its_deadline_reads_as_closed_without_waiting_for_the_job(client, rt):
    referral, _ = _referral(client, rt)
    rt.clock = lambda: DEADLINE
    before = snapshot(rt)
    council = client.get(f"/v1/referrals/{referral['referral_id']}", headers=OFFICER).json
    assert council["status"] == "closed" and council["window_closed_at"] == DEADLINE.isoformat()
    assert council["closed_by"] is None
    listed = client.get("/v1/referrals?status=closed", headers=OFFICER).json
    assert [r["referral_id"] for r in listed] == [referral["referral_id"]]
    assert client.get("/v1/referrals?status=published", headers=OFFICER).json == []
    after = snapshot(rt)
    # Reads change nothing but the audit trail's record of who read the child's identity (UK GDPR);
    # the job records the closing.
    after["audit_log"] = [entry for entry in after["audit_log"] if '"child.identity_read"' not in entry]
    assert after == before
    assert "close_referrals_past_deadline" in rt.run_jobs(force=True)
    assert "referral.window_closed" in audit_actions(rt)


def test_the_scheduled_job_closes_referrals_past_their_deadline(client, rt):
    referral, _ = _referral(client, rt)
    open_one = published_referral(client, deadline=(DEADLINE + timedelta(days=3)).isoformat())
    rt.clock = lambda: AFTER_DEADLINE
    assert "close_referrals_past_deadline" in rt.run_jobs(force=True)
    rt.clock = lambda: NOW  # read "before" the deadline: only the job can have closed it
    assert _status(client, referral) == "closed" and _status(client, open_one) == "published"


def test_officer_closes_early_once_every_invited_provider_has_answered(client, rt):
    referral, (acorn, birch) = _referral(client, rt)
    offer(client, referral, acorn)
    url = f"/v1/referrals/{referral['referral_id']}/close"
    before = snapshot(rt)
    assert client.post(url, headers=OFFICER).status_code == 409  # birch has not answered
    assert snapshot(rt) == before
    client.post(f"/v1/provider/referrals/{referral['referral_id']}/decline", headers=provider_auth(birch),
                json={"reason": "No capacity for SEMH this term"})
    closed = client.post(url, headers=OFFICER)
    assert closed.status_code == 200 and closed.json["status"] == "closed" and closed.json["closed_by"] == "officer-1"
    assert offer(client, referral, birch).status_code == 409


def test_only_the_teams_officers_close_early(client, rt):
    referral, _ = _referral(client, rt, providers=0)
    for headers in (OTHER_TEAM_OFFICER, MANAGER):
        assert client.post(f"/v1/referrals/{referral['referral_id']}/close", headers=headers).status_code == 403


# --- assessment ------------------------------------------------------------------------------

def test_officers_assess_each_offer_and_complete_the_assessment(client, rt):
    referral, (acorn, birch) = _referral(client, rt)
    first = offer(client, referral, acorn).json
    second = offer(client, referral, birch, unit_price_pence=40_000).json
    rt.clock = lambda: AFTER_DEADLINE
    assert _assess(client, referral, first["offer_id"]).status_code == 200
    assert _complete(client, referral).status_code == 409  # the second is not yet assessed
    assessed = _assess(client, referral, second["offer_id"], meets_needs=False, reason="No SEMH experience")
    assert assessed.json["assessment"]["meets_needs"] is False
    completed = _complete(client, referral)
    assert completed.status_code == 200 and completed.json["status"] == "closed"
    assert completed.json["assessment_completed_at"] == AFTER_DEADLINE.isoformat()
    offers = client.get(f"/v1/referrals/{referral['referral_id']}/offers", headers=MANAGER).json
    assert {o["offer_id"]: o["assessment"]["meets_needs"] for o in offers} == {
        first["offer_id"]: True, second["offer_id"]: False}


def test_referral_closed_event_carries_the_offers_their_assessments_and_child_ref(client, rt):
    referral, (acorn, birch) = _referral(client, rt)
    made = offer(client, referral, acorn).json
    client.post(f"/v1/provider/referrals/{referral['referral_id']}/decline", headers=provider_auth(birch),
                json={"reason": "Full"})
    rt.clock = lambda: AFTER_DEADLINE
    _assess(client, referral, made["offer_id"])
    _complete(client, referral)
    [event] = outbox(rt, "referral.closed")
    data = event["data"]
    assert data["referral_id"] == referral["referral_id"] and data["child_ref"] == referral["child_ref"]
    assert (data["lot"], data["team"], data["reason_for_ap"]) == (1, "exclusions", "permanent_exclusion")
    assert data["hours_per_week"] == 25 and data["full_time"] is True
    assert (data["ehcp"], data["looked_after"]) == (True, False)
    assert (data["start_date"], data["expected_weeks"]) == ("2025-01-27", 12)
    assert data["declines"] == [{"provider_id": str(birch), "reason": "Full"}]
    [closed_offer] = data["offers"]
    assert closed_offer == {**closed_offer, "offer_id": made["offer_id"], "provider_id": str(acorn),
                            "pricing_line_id": made["pricing_line_id"], "unit_price_pence": 45_000,
                            "units_per_week": 1, "weeks": 12, "total_pence": 540_000, "proposed_start": "2025-01-27",
                            "staffing_ratio": "1:4", "submitted_at": NOW.isoformat(), "meets_needs": True,
                            "assessment_reason": "Meets every need in the profile"}
    assert data["at"] == AFTER_DEADLINE.isoformat()


def test_only_the_teams_officers_assess(client, rt):
    referral, (acorn, _) = _referral(client, rt)
    made = offer(client, referral, acorn).json
    rt.clock = lambda: AFTER_DEADLINE
    url = f"/v1/referrals/{referral['referral_id']}/offers/{made['offer_id']}/assessment"
    body = {"meets_needs": True, "reason": "Fine", "criteria_met": {referral["questions"][0]["question_id"]: True}}
    for headers, status in [(OTHER_TEAM_OFFICER, 403), (MANAGER, 403), (provider_auth(acorn), 403), ({}, 401)]:
        assert client.put(url, json=body, headers=headers).status_code == status


def test_no_offer_meeting_the_needs_leaves_no_suitable_offer_then_an_off_dps_exception(client, rt):
    referral, (acorn, _) = _referral(client, rt)
    made = offer(client, referral, acorn).json
    rt.clock = lambda: AFTER_DEADLINE
    _assess(client, referral, made["offer_id"], meets_needs=False, reason="Cannot manage absconding")
    assert _complete(client, referral).json["status"] == "no_suitable_offer"
    [closed] = outbox(rt, "referral.closed")
    assert closed["data"]["no_suitable_offer"] is True
    url = f"/v1/referrals/{referral['referral_id']}/off-dps-exception"
    recorded = client.post(url, headers=OFFICER,
                           json=off_dps_json(reason="Only an out-of-borough specialist setting fits"))
    assert recorded.status_code == 201 and recorded.json["recorded_by"] == "officer-1"
    [event] = outbox(rt, "off_dps_exception.recorded")
    assert {k: event["data"][k] for k in ("referral_id", "lot", "team", "reason", "recorded_by", "at")} == {
        "referral_id": referral["referral_id"], "lot": 1, "team": "exclusions",
        "reason": "Only an out-of-borough specialist setting fits", "recorded_by": "officer-1",
        "at": AFTER_DEADLINE.isoformat()}
    assert event["data"]["provider"]["name"] == "Riverside Tuition" and event["data"]["child_ref"]
    assert recorded.json["terms"]["weekly_cost_pence"] == 45000 and recorded.json["checks"]["dbs"]["confirmed"]
    assert client.post(url, headers=OFFICER, json=off_dps_json(reason="Again")).status_code == 409


def test_the_manager_lists_off_dps_exceptions(client, rt):
    referral, _ = _referral(client, rt, providers=0)
    client.post(f"/v1/referrals/{referral['referral_id']}/close", headers=OFFICER)
    client.post(f"/v1/referrals/{referral['referral_id']}/off-dps-exception", headers=OFFICER,
                json=off_dps_json(reason="No provider on lot 1"))
    listed = client.get("/v1/off-dps-exceptions", headers=MANAGER)
    assert listed.status_code == 200
    assert [(e["referral_id"], e["reason"], e["team"]) for e in listed.json] == [
        (referral["referral_id"], "No provider on lot 1", "exclusions")]
    assert client.get("/v1/off-dps-exceptions?team=send", headers=MANAGER).json == []
    assert client.get("/v1/off-dps-exceptions", headers=OFFICER).status_code == 403
    assert client.get("/v1/off-dps-exceptions", headers=provider_auth(uuid.uuid4())).status_code == 403


def test_an_off_dps_exception_without_its_provider_terms_or_checks_is_refused_by_field(client, rt):
    referral, _ = _referral(client, rt, providers=0)
    client.post(f"/v1/referrals/{referral['referral_id']}/close", headers=OFFICER)
    url = f"/v1/referrals/{referral['referral_id']}/off-dps-exception"
    before = snapshot(rt)
    missing = off_dps_json(provider={"name": None}, terms=None)
    del missing["checks"]["dbs"]
    refused = client.post(url, headers=OFFICER, json=missing)
    assert refused.status_code == 422
    errors = refused.json["errors"]["json"]
    assert set(errors) == {"provider", "terms", "checks"}
    assert "name" in errors["provider"] and "dbs" in errors["checks"]
    unconfirmed = client.post(url, headers=OFFICER, json=off_dps_json(checks={
        "insurance": {"confirmed": False, "by": "officer-1", "on": "2025-01-20"}}))
    assert unconfirmed.status_code == 422 and "checks.insurance.confirmed" in unconfirmed.json["errors"]["json"]
    school = client.post(url, headers=OFFICER, json=off_dps_json(provider={"setting_kind": "registered_school"}))
    assert school.status_code == 422 and "provider.urn" in school.json["errors"]["json"]
    assert snapshot(rt) == before and outbox(rt, "off_dps_exception.recorded") == []


# --- the awards' events --------------------------------------------------------------------------------

def _awarded_referral(client, rt):
    referral, (acorn, _) = _referral(client, rt)
    made = offer(client, referral, acorn).json
    rt.clock = lambda: AFTER_DEADLINE
    _assess(client, referral, made["offer_id"])
    _complete(client, referral)
    return referral, made, acorn


def _placement_awarded(referral, made, acorn) -> dict:
    return {"award_id": str(uuid.uuid4()), "placement_id": str(uuid.uuid4()),
            "referral_id": referral["referral_id"], "offer_id": made["offer_id"], "provider_id": str(acorn),
            "lot": 1, "team": "exclusions", "child_ref": referral["child_ref"], "reason_for_ap": "permanent_exclusion",
            "pricing_line_id": made["pricing_line_id"], "unit_price_pence": 45_000, "units_per_week": 1,
            "hours_per_week": 25, "weeks": 12, "total_pence": 540_000, "start_date": "2025-01-27",
            "full_time": True, "override_reason": None, "awarded_by": "officer-1",
            "at": (AFTER_DEADLINE + timedelta(hours=1)).isoformat()}


def test_placement_awarded_marks_the_referral_awarded_once(client, rt):
    referral, made, acorn = _awarded_referral(client, rt)
    data = _placement_awarded(referral, made, acorn)
    deliver(rt, "placement.awarded", data, producer="awards")
    deliver(rt, "placement.awarded", data, producer="awards")  # the same award again: no-op
    council = client.get(f"/v1/referrals/{referral['referral_id']}", headers=OFFICER).json
    assert council["status"] == "awarded" and council["awarded_offer_id"] == made["offer_id"]
    assert audit_actions(rt).count("referral.awarded") == 1


def test_placement_awarded_for_a_referral_not_held_here_is_ignored(client, rt):
    referral, made, acorn = _awarded_referral(client, rt)
    before = snapshot(rt)
    deliver(rt, "placement.awarded", {**_placement_awarded(referral, made, acorn),
                                      "referral_id": str(uuid.uuid4())}, producer="awards")
    assert snapshot(rt) == before


def test_a_block_place_for_one_of_our_referrals_marks_it_awarded(client, rt):
    referral, _ = _referral(client, rt)
    deliver(rt, "block_place.allocated", {
        "contract_id": str(uuid.uuid4()), "allocation_id": str(uuid.uuid4()), "placement_id": str(uuid.uuid4()),
        "referral_id": referral["referral_id"], "provider_id": str(uuid.uuid4()), "lot": 1, "team": "exclusions",
        "child_ref": referral["child_ref"], "reason_for_ap": "permanent_exclusion", "hours_per_week": 25,
        "start_date": "2025-01-27", "weeks": 12, "cost_pence": 100_000, "full_time": True,
        "at": (NOW + timedelta(hours=1)).isoformat()}, producer="awards")
    council = client.get(f"/v1/referrals/{referral['referral_id']}", headers=OFFICER).json
    assert council["status"] == "awarded" and council["awarded_allocation_id"] is not None
    assert council["window_closed_at"] == (NOW + timedelta(hours=1)).isoformat()


def test_declines_are_sealed_with_the_offers_then_shown_to_the_council(client, rt):
    referral, (acorn, birch) = _referral(client, rt)
    client.post(f"/v1/provider/referrals/{referral['referral_id']}/decline", headers=provider_auth(birch),
                json={"reason": "No SEMH-trained staff free"})
    url = f"/v1/referrals/{referral['referral_id']}/declines"
    assert client.get(url, headers=OFFICER).status_code == 403
    rt.clock = lambda: AFTER_DEADLINE
    assert [(d["provider_id"], d["reason"]) for d in client.get(url, headers=MANAGER).json] == [
        (str(birch), "No SEMH-trained staff free")]


def test_the_scheduled_jobs_are_claimed_once_a_minute_and_old_claims_are_cleared(rt):
    import sqlalchemy as sa

    ours = {"close_referrals_past_deadline", "deliver_webhooks"}
    assert ours <= set(rt.run_jobs(NOW))
    assert not ours & set(rt.run_jobs(NOW + timedelta(seconds=30)))  # this minute is taken
    assert ours <= set(rt.run_jobs(NOW + timedelta(minutes=1)))
    rt.run_jobs(NOW + timedelta(days=3))  # housekeeping clears claims over two days old
    with rt.engine.connect() as connection:
        claims = connection.execute(sa.select(rt.job_runs_table.c.ran_at)
                                    .where(rt.job_runs_table.c.job.in_(ours))).scalars().all()
    assert claims and min(claims) >= NOW + timedelta(days=1)  # a minute's claim is not kept for ever
