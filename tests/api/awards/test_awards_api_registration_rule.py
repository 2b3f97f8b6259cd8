"""The registration rule through the API and the real database: a call-off
award and a block place refused 409 naming the rule and whether it is law or
council policy, nothing stored changing; the whole roll (the setting's
declaration plus this council's placements since); a further education college
and a young person past compulsory school age not caught."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from tests.api.awards import test_awards_api_competitions as base
from tests.api.awards.awards_support import (
    EARLIER,
    NOW,
    OFFICER,
    admit,
    at,
    close,
    feed,
    offer,
    outbox,
    snapshot,
)

contract, competition, lot1 = base.contract, base.competition, base.lot1  # the block's fixtures, by name
LAW = "(the registration rule (Education Act 1996 s.463; Education and Skills Act 2008 s.92): law)"


def setting(rt, provider_id, kind="unregistered", roll: int | None = None, at=EARLIER + timedelta(hours=1), **flags):
    """provider.registration_changed: the kind of setting and, when given, the roll it declared."""
    declared = None if roll is None else {"full_time_pupils": roll, "any_ehcp": False, "any_looked_after": False,
                                          "any_sen": False, "declared_at": at.isoformat(), **flags}
    feed(rt, "provider.registration_changed", {
        "provider_id": str(provider_id), "provider_name": "Riverside Tuition",
        "registration_status": "registered_school" if kind == "registered_school" else "unregistered",
        "setting_kind": kind, "urn": None, "declared_roll": declared, "at": at.isoformat()})


def one_offer(rt, provider_id, hours="25", **facts):
    referral_id, made = uuid.uuid4(), offer(provider_id, 3000, units=hours)
    close(rt, referral_id, [made], hours=hours, **facts)
    return referral_id, made["offer_id"]


def award(client, referral_id, offer_id):
    return client.post(f"/v1/referrals/{referral_id}/award", json={"offer_id": str(offer_id)}, headers=OFFICER)


def refused(client, rt, referral_id, offer_id):
    before = snapshot(rt)
    response = award(client, referral_id, offer_id)
    assert response.status_code == 409 and response.json["conflict"] == "offer_id", response.json
    assert snapshot(rt) == before and outbox(rt, "placement.awarded") == []
    return response.json["message"]


# --- call-offs


def test_a_call_off_for_a_looked_after_child_full_time_with_an_unregistered_setting_is_refused_as_law(client, rt):
    provider_id = uuid.uuid4()
    admit(rt, provider_id, registration="unregistered")
    referral_id, offer_id = one_offer(rt, provider_id, looked_after=True)
    message = refused(client, rt, referral_id, offer_id)
    assert "this child is looked after" in message and LAW in message
    # twelve hours is not full-time: the law allows it
    part_time, part_offer = one_offer(rt, provider_id, hours="12", looked_after=True)
    assert award(client, part_time, part_offer).status_code == 201


def test_the_fifth_full_time_pupil_across_two_commissioners_is_refused(client, rt):
    provider_id = uuid.uuid4()
    admit(rt, provider_id, registration="unregistered")
    setting(rt, provider_id, roll=4)  # another council's four
    referral_id, offer_id = one_offer(rt, provider_id)
    message = refused(client, rt, referral_id, offer_id)
    assert "with this child the setting would educate 5 pupils" in message and "4 declared by the setting" in message
    setting(rt, provider_id, roll=3, at=NOW - timedelta(hours=1))  # one left: ours is the fourth
    assert award(client, referral_id, offer_id).status_code == 201


def test_a_young_person_past_compulsory_school_age_or_an_fe_college_is_not_caught(client, rt):
    unregistered, college = uuid.uuid4(), uuid.uuid4()
    admit(rt, unregistered, registration="unregistered")
    admit(rt, college, registration="unregistered")  # the status an FE college is sent with
    setting(rt, unregistered, roll=9, any_ehcp=True)
    setting(rt, college, kind="fe_or_training_provider")
    post16, post16_offer = one_offer(rt, unregistered, ehcp=True, compulsory_school_age=False)
    assert award(client, post16, post16_offer).status_code == 201
    pupil, pupil_offer = one_offer(rt, college, ehcp=True, looked_after=True)
    assert award(client, pupil, pupil_offer).status_code == 201


def test_a_stricter_council_policy_is_refused_as_policy_not_law(service, client_for):
    rt = service("awards", unregistered_max_hours=Decimal(18))
    at(rt, NOW)
    client = client_for(rt)
    provider_id = uuid.uuid4()
    admit(rt, provider_id, registration="unregistered")
    referral_id, offer_id = one_offer(rt, provider_id, hours="20")
    message = refused(client, rt, referral_id, offer_id)
    assert "more than 18 hours a week (20 asked)" in message
    assert "(DPS_UNREGISTERED_MAX_HOURS): the council's policy, not law)" in message and ": law)" not in message


# --- block places


def allocate(client, rt, contract, referral_id):
    at(rt, NOW + timedelta(days=30))  # the contract was confirmed (base.contract) before
    return base.allocate(client, contract["contract_id"], referral_id)


def test_a_block_place_for_a_fifth_full_time_pupil_is_refused_409_as_law_and_not_for_a_college(client, rt, contract):
    provider_id = contract["provider_id"]
    setting(rt, provider_id, roll=4, at=NOW + timedelta(days=20))
    referral_id = uuid.uuid4()
    close(rt, referral_id, [], lot=1, hours="25", full_time=True)
    before = snapshot(rt)
    response = allocate(client, rt, contract, referral_id)
    assert response.status_code == 409 and response.json["conflict"] == "referral_id", response.json
    assert "would educate 5 pupils of compulsory school age full-time" in response.json["message"]
    assert LAW in response.json["message"]
    assert snapshot(rt) == before
    setting(rt, provider_id, kind="fe_or_training_provider", at=NOW + timedelta(days=21))
    assert allocate(client, rt, contract, referral_id).status_code == 201
