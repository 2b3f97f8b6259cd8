"""Publishing a referral to every provider admitted and not suspended on its
lot, what providers then see of it, cancelling, and the wrong transitions.
The rules alone are tested on the handlers:
tests/unit/referrals/test_referrals_handlers_lifecycle.py."""

from __future__ import annotations

import json
import uuid

from tests.api.referrals.referrals_support import (
    AFTER_DEADLINE,
    MANAGER,
    NOW,
    OFFICER,
    OTHER_TEAM_OFFICER,
    admit,
    audit_actions,
    create,
    deliver,
    fields_of,
    offer,
    outbox,
    provider_auth,
    publish,
    published_referral,
    snapshot,
    status_data,
    suspend,
)

# --- who is invited -------------------------------------------------------------------------

def test_publish_invites_every_provider_admitted_and_not_suspended_on_the_lot(client, rt):
    acorn, birch = admit(rt, name="Acorn"), admit(rt, name="Birch")
    cedar = admit(rt, name="Cedar")
    suspend(rt, cedar)
    dogwood = admit(rt, lot=2, name="Dogwood")
    removed = admit(rt, name="Elder")
    deliver(rt, "membership.removed", status_data(removed, status="removed", reason="Left the DPS"))
    expired = admit(rt, name="Fir", ends_on="2025-01-14")  # membership ended yesterday
    referral = create(client)
    published = publish(client, referral["referral_id"])
    assert set(published["invited_provider_ids"]) == {str(acorn), str(birch)}
    for left_out in (cedar, dogwood, removed, expired):
        assert str(left_out) not in published["invited_provider_ids"]
    stored = client.get(f"/v1/referrals/{referral['referral_id']}", headers=OFFICER).json
    assert stored["status"] == "published" and set(stored["invited_provider_ids"]) == {str(acorn), str(birch)}
    assert "referral.published" in audit_actions(rt)


def test_publishing_to_a_lot_with_no_eligible_provider_is_flagged(client, rt):
    referral = create(client)
    published = publish(client, referral["referral_id"])
    assert published["invited_provider_ids"] == [] and published["no_eligible_providers"] is True
    [event] = outbox(rt, "referral.published")
    assert event["data"]["no_eligible_providers"] is True


def test_published_event_carries_the_profile_and_the_invited_providers(client, rt):
    acorn = admit(rt)
    referral = published_referral(client)
    [event] = outbox(rt, "referral.published")
    data = event["data"]
    assert event["producer"] == "referrals"
    assert data["referral_id"] == referral["referral_id"] and data["lot"] == 1 and data["team"] == "exclusions"
    assert data["invited_provider_ids"] == [str(acorn)] and data["no_eligible_providers"] is False
    assert data["full_time_provision_by"] == "2025-01-20"
    assert data["questions"] == referral["questions"]
    assert data["deadline"] == referral["deadline"] and data["at"] == NOW.isoformat()
    assert set(data["profile"]) == {
        "age", "year_group", "primary_need", "ehcp", "looked_after", "reason", "needs_and_risks", "aims",
        "success_measures", "curriculum", "qualification_route", "hours_per_week", "pattern", "start_date",
        "expected_weeks", "postcode_district", "transport_needed", "has_sen"}
    assert data["profile"]["hours_per_week"] == 25
    # the registration rule's facts: the answer on the start date, never the date of birth
    assert data["compulsory_school_age"] is True and "date_of_birth" not in json.dumps(data)


def test_only_officers_of_the_team_publish(client, rt):
    referral = create(client)
    before = snapshot(rt)
    for headers, status in [(OTHER_TEAM_OFFICER, 403), (MANAGER, 403), (provider_auth(uuid.uuid4()), 403), ({}, 401)]:
        response = client.post(f"/v1/referrals/{referral['referral_id']}/publish", headers=headers)
        assert response.status_code == status, headers
    assert snapshot(rt) == before


# --- what providers see ------------------------------------------------------------------------

def test_invited_provider_lists_and_reads_the_pseudonymised_profile(client, rt):
    acorn = admit(rt)
    referral = published_referral(client)
    listed = client.get("/v1/provider/referrals", headers=provider_auth(acorn))
    assert listed.status_code == 200 and [r["referral_id"] for r in listed.json] == [referral["referral_id"]]
    seen = client.get(f"/v1/provider/referrals/{referral['referral_id']}", headers=provider_auth(acorn)).json
    assert seen["status"] == "open" and seen["profile"] == referral["profile"]
    assert seen["questions"] == referral["questions"] and seen["full_time_provision_by"] == "2025-01-20"
    assert set(seen) == {"referral_id", "lot", "team", "status", "deadline", "full_time_provision_by",
                         "first_day_aim", "profile", "questions", "my_live_offer_id", "declined", "my_pricing_lines"}


def test_provider_not_invited_hears_of_no_such_referral(client, rt):
    admit(rt)
    referral = published_referral(client)
    stranger = admit(rt, lot=2)
    assert client.get("/v1/provider/referrals", headers=provider_auth(stranger)).json == []
    assert client.get(f"/v1/provider/referrals/{referral['referral_id']}",
                      headers=provider_auth(stranger)).status_code == 404


def test_provider_endpoints_are_for_providers_only(client, rt):
    admit(rt)
    referral = published_referral(client)
    for headers, status in [(OFFICER, 403), (MANAGER, 403), ({}, 401)]:
        assert client.get("/v1/provider/referrals", headers=headers).status_code == status
        assert client.get(f"/v1/provider/referrals/{referral['referral_id']}", headers=headers).status_code == status


def test_closed_referrals_leave_the_open_list_but_stay_readable_to_invitees_with_a_live_offer(client, rt):
    acorn = admit(rt)
    referral = published_referral(client)
    offer(client, referral, acorn)  # without one, its access ends with the window (test_referrals_api_access_that_ends)
    rt.clock = lambda: AFTER_DEADLINE
    assert client.get("/v1/provider/referrals", headers=provider_auth(acorn)).json == []
    every = client.get("/v1/provider/referrals?open_only=false", headers=provider_auth(acorn)).json
    assert [(r["referral_id"], r["status"]) for r in every] == [(referral["referral_id"], "closed")]


# --- cancelling ------------------------------------------------------------------------------------

def test_officer_cancels_a_published_referral_with_a_reason(client, rt):
    acorn = admit(rt)
    referral = published_referral(client)
    response = client.post(f"/v1/referrals/{referral['referral_id']}/cancel", headers=OFFICER,
                           json={"reason": "The child moved out of the borough"})
    assert response.status_code == 200 and response.json["status"] == "cancelled"
    [event] = outbox(rt, "referral.cancelled")
    assert event["data"]["referral_id"] == referral["referral_id"]
    assert event["data"]["reason"] == "The child moved out of the borough" and event["data"]["at"] == NOW.isoformat()
    seen = client.get(f"/v1/provider/referrals/{referral['referral_id']}", headers=provider_auth(acorn))
    assert seen.status_code == 404 and "closed to you on 2025-01-15: the referral was cancelled" in seen.json["message"]


def test_cancelling_needs_a_reason_and_a_cancelled_referral_cannot_be_cancelled_again(client, rt):
    referral = published_referral(client)
    rid = referral["referral_id"]
    before = snapshot(rt)
    response = client.post(f"/v1/referrals/{rid}/cancel", headers=OFFICER, json={"reason": "  "})
    assert response.status_code == 422 and "reason" in fields_of(response)
    assert client.post(f"/v1/referrals/{rid}/cancel", headers=OFFICER, json={}).status_code == 422
    assert snapshot(rt) == before
    assert client.post(f"/v1/referrals/{rid}/cancel", headers=OFFICER, json={"reason": "Moved"}).status_code == 200
    assert client.post(f"/v1/referrals/{rid}/cancel", headers=OFFICER, json={"reason": "Again"}).status_code == 409
    assert client.post(f"/v1/referrals/{rid}/publish", headers=OFFICER).status_code == 409


def test_a_closed_referral_is_cancelled_with_a_reason(client, rt):
    """No dead ends (issue #15): a closed referral not awarded can be cancelled, with a reason."""
    referral = published_referral(client)
    rt.clock = lambda: AFTER_DEADLINE
    url = f"/v1/referrals/{referral['referral_id']}/cancel"
    assert client.post(url, headers=OFFICER, json={}).status_code == 422
    response = client.post(url, headers=OFFICER, json={"reason": "The child's school took the child back"})
    assert response.status_code == 200 and response.json["status"] == "cancelled"

