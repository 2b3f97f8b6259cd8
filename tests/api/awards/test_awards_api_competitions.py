"""Block contracts by mini-competition through the API and the real database:
the opportunity and who is invited, sealed bids, independent scores and
moderation, exclusion below a minimum, evaluation, award, standstill,
confirmation, assessment summaries and the allocation of the block's places;
each refusal names its field and changes nothing stored.  The rules alone
are tested on the handlers: tests/unit/awards/test_awards_handlers_rules.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.api.awards.awards_support import (
    ANSWERS,
    BIDDING,
    DEADLINE,
    EDUCATION,
    EVALUATOR,
    EVALUATOR_2,
    LAST_DAY_OF_STANDSTILL,
    MANAGER,
    NOW,
    OFFICER,
    OPENS,
    OUTCOMES,
    REPORTING,
    SAFEGUARDING,
    SCORING,
    Competition,
    Lot1,
    at,
    audit_actions,
    bid,
    close,
    create,
    errors,
    feed,
    moderate,
    outbox,
    provider_auth,
    score,
    snapshot,
)


@pytest.fixture
def lot1(rt):
    return Lot1(rt)


@pytest.fixture
def competition(client, rt, lot1):
    return Competition(client, rt, lot1)


# --- the opportunity


def test_opportunity_invites_every_provider_admitted_and_not_suspended_on_the_lot(client, rt, lot1):
    response = create(client)

    assert response.status_code == 201
    made = response.json
    assert set(made["invited"]) == {str(lot1.p1), str(lot1.p2), str(lot1.p3)}
    assert made["team"] == "exclusions" and made["status"] == "not_open"
    assert made["split"] == {"quality": 50, "price": 50}
    assert made["tie_break"] == ["higher_quality", "lower_price"] and made["standstill_working_days"] == 8
    assert made["scale"]["maximum"] == 5 and made["scale"]["descriptors"]["3"].startswith("satisfactory")
    assert [c["weight"] for c in made["criteria"]] == [0.5, 0.3, 0.2]
    assert audit_actions(rt) == ["opportunity.created"]
    # the invited see it (not who else is invited); the others may not
    seen = client.get(f"/v1/opportunities/{made['opportunity_id']}", headers=provider_auth(lot1.p1))
    assert seen.status_code == 200 and "invited" not in seen.json
    for outsider in (lot1.p4, lot1.p5):
        refused = client.get(f"/v1/opportunities/{made['opportunity_id']}", headers=provider_auth(outsider))
        assert refused.status_code == 403
        assert client.get("/v1/opportunities", headers=provider_auth(outsider)).json == []


BAD_TERMS = [
    ({"criteria": [{"name": EDUCATION, "weight": 0.5}, {"name": SAFEGUARDING, "weight": 0.4}]}, "criteria"),
    ({"criteria": [{"name": EDUCATION, "weight": 0.7}, {"name": OUTCOMES, "weight": 0.7}]}, "criteria"),
    ({"criteria": [{"name": EDUCATION, "weight": 1, "minimum_score": 6}]}, "criteria"),
    ({"criteria": [{"name": EDUCATION, "weight": "a lot"}]}, "criteria"),
    ({"criteria": []}, "criteria"),
    ({"split": {"quality": 60, "price": 50}}, "split"),
    ({"scale": {"maximum": 0}}, "scale"),
    ({"scale": {"maximum": 3, "descriptors": {"0": "none", "1": "poor"}}}, "scale"),
    ({"tie_break": ["coin_toss"]}, "tie_break"),
    ({"deadline": OPENS.isoformat(), "opens_at": DEADLINE.isoformat()}, "deadline"),
    ({"deadline": "2025-03-26T12:00:00"}, "deadline"),                    # naive
    ({"deadline": "2025-03-01T12:00:00+00:00", "opens_at": "2025-02-01T12:00:00+00:00"}, "deadline"),  # passed
    ({"contract_end": "2025-08-01"}, "contract_end"),
    ({"places": 0}, "places"),
    ({"places": 2.5}, "places"),
    ({"lot": 5}, "lot"),
    ({"standstill_working_days": -1}, "standstill_working_days"),

]


def test_an_opportunity_with_bad_terms_is_refused_naming_the_field(client, rt, lot1):
    before = snapshot(rt)
    for changes, field in BAD_TERMS:
        refused = create(client, **changes)
        assert refused.status_code == 422 and field in errors(refused), (changes, refused.json)
    assert snapshot(rt) == before


def test_the_manager_may_run_a_competition_for_any_team_and_sets_the_split(client, rt, lot1):
    made = create(client, headers=MANAGER, team="send", split={"quality": 70, "price": 30}).json
    assert made["team"] == "send" and made["split"] == {"quality": 70, "price": 30}


def test_who_may_not_open_a_competition(client, rt, lot1):
    before = snapshot(rt)
    for headers, status in (({}, 401), (EVALUATOR, 403), (REPORTING, 403), (provider_auth(lot1.p1), 403)):
        assert create(client, headers=headers).status_code == status, headers
    assert snapshot(rt) == before


# --- sealed bids


def test_bids_are_taken_only_from_the_invited_between_opening_and_deadline(client, rt, lot1):
    opportunity_id = create(client).json["opportunity_id"]
    before = snapshot(rt)
    early = bid(client, opportunity_id, lot1.p1, 8_000_000)
    assert early.status_code == 422 and "opens_at" in errors(early)

    at(rt, BIDDING)
    for outsider in (lot1.p4, lot1.p5, uuid.uuid4()):
        refused = bid(client, opportunity_id, outsider, 8_000_000)
        assert refused.status_code == 403 and "provider_id" in errors(refused)
    for price, answers, field in ((80_000.5, ANSWERS, "price_pence"), (0, ANSWERS, "price_pence"),
                                  ("8000000", ANSWERS, "price_pence"),
                                  (8_000_000, {EDUCATION: "only one answer"}, "answers"),
                                  (8_000_000, {**ANSWERS, "price": "cheap"}, "answers")):
        refused = bid(client, opportunity_id, lot1.p1, price, answers)
        assert refused.status_code == 422 and field in errors(refused), (price, answers)
    assert snapshot(rt) == before

    first = bid(client, opportunity_id, lot1.p1, 8_000_000)
    again = bid(client, opportunity_id, lot1.p1, 7_900_000)
    assert first.status_code == again.status_code == 201
    assert again.json["bid_id"] == first.json["bid_id"] and again.json["price_pence"] == 7_900_000

    at(rt, DEADLINE)
    before = snapshot(rt)
    late = bid(client, opportunity_id, lot1.p2, 9_000_000)
    assert late.status_code == 422 and "deadline" in errors(late)
    assert snapshot(rt) == before


def test_no_one_sees_a_bid_but_its_bidder_before_the_deadline(client, rt, lot1):
    opportunity_id = create(client).json["opportunity_id"]
    at(rt, BIDDING)
    bid(client, opportunity_id, lot1.p1, 8_000_000)
    bid(client, opportunity_id, lot1.p2, 9_000_000)

    mine = client.get(f"/v1/opportunities/{opportunity_id}/bids", headers=provider_auth(lot1.p1)).json
    assert [b["price_pence"] for b in mine] == [8_000_000]
    for council in (MANAGER, OFFICER, EVALUATOR):
        assert client.get(f"/v1/opportunities/{opportunity_id}/bids", headers=council).status_code == 409
    assert "8000000" not in str(client.get("/v1/audit", headers=MANAGER).json)

    at(rt, SCORING)
    opened = client.get(f"/v1/opportunities/{opportunity_id}/bids", headers=EVALUATOR).json
    assert sorted(b["price_pence"] for b in opened) == [8_000_000, 9_000_000]


def test_a_bidder_may_withdraw_its_own_bid_before_the_deadline(client, rt, lot1):
    opportunity_id = create(client).json["opportunity_id"]
    at(rt, BIDDING)
    bid_id = bid(client, opportunity_id, lot1.p1, 8_000_000).json["bid_id"]
    other = client.delete(f"/v1/opportunities/{opportunity_id}/bids/{bid_id}", headers=provider_auth(lot1.p2))
    assert other.status_code == 404
    gone = client.delete(f"/v1/opportunities/{opportunity_id}/bids/{bid_id}", headers=provider_auth(lot1.p1))
    assert gone.status_code == 204
    assert client.get(f"/v1/opportunities/{opportunity_id}/bids", headers=provider_auth(lot1.p1)).json == []


# --- scoring and moderation


def test_scores_are_given_by_evaluators_only_within_the_scale_after_the_deadline(client, rt, lot1):
    comp = Competition(client, rt, lot1, moderated=False)
    bid_id = comp.bids["p1"]
    before = snapshot(rt)
    for someone in (MANAGER, OFFICER):
        refused = score(client, comp.id, bid_id, EDUCATION, 3, headers=someone)
        assert refused.status_code == 403 and "roles" in errors(refused)
    assert score(client, comp.id, bid_id, EDUCATION, 3, headers=provider_auth(lot1.p1)).status_code == 403
    for bad, field in ((6, "score"), (-1, "score"), (3.5, "score"), ("4", "score")):
        refused = score(client, comp.id, bid_id, EDUCATION, bad)
        assert refused.status_code == 422 and field in errors(refused), bad
    unknown = score(client, comp.id, bid_id, "price", 3)
    assert unknown.status_code == 422 and "criterion" in errors(unknown)
    assert score(client, comp.id, uuid.uuid4(), EDUCATION, 3).status_code == 404
    assert snapshot(rt) == before

    at(rt, BIDDING)
    sealed = score(client, comp.id, bid_id, EDUCATION, 3)
    assert sealed.status_code == 409
    assert snapshot(rt) == before


def test_each_evaluator_scores_independently_and_the_moderated_score_needs_a_reason(client, rt, lot1):
    comp = Competition(client, rt, lot1, moderated=False)
    bid_id = comp.bids["p1"]
    assert score(client, comp.id, bid_id, EDUCATION, 4).status_code == 201
    assert score(client, comp.id, bid_id, EDUCATION, 2, headers=EVALUATOR_2).status_code == 201

    alice = client.get(f"/v1/opportunities/{comp.id}/scores", headers=EVALUATOR).json
    assert [(s["evaluator_id"], s["score"]) for s in alice["evaluator_scores"]] == [("evaluator-alice", 4)]
    every = client.get(f"/v1/opportunities/{comp.id}/scores", headers=MANAGER).json
    assert sorted(s["score"] for s in every["evaluator_scores"]) == [2, 4]

    before = snapshot(rt)
    for blank in ("", "  "):
        refused = moderate(client, comp.id, bid_id, EDUCATION, 3, reason=blank)
        assert refused.status_code == 422 and "reason" in errors(refused)
    refused = moderate(client, comp.id, bid_id, EDUCATION, 3, headers=MANAGER)
    assert refused.status_code == 403 and "roles" in errors(refused)
    assert snapshot(rt) == before

    agreed = moderate(client, comp.id, bid_id, EDUCATION, 3, reason="clear plan, thin evidence")
    assert agreed.status_code == 201 and agreed.json["moderated_by"] == "evaluator-alice"
    with rt.engine.connect() as c:
        row = c.execute(rt.audit_table.select().where(rt.audit_table.c.action == "score.moderated")).one()
    assert row.reason == "clear plan, thin evidence"
    assert row.details["evaluator_scores"] == {"evaluator-alice": 4, "evaluator-bob": 2}
    assert audit_actions(rt).count("score.recorded") == 2


# --- evaluation, award, standstill and confirmation: the answers over HTTP (the rules:
#     tests/unit/awards/test_awards_handlers_rules.py)


def test_evaluation_award_and_confirmation_answer_with_their_records(client, rt, competition):
    evaluation = client.get(f"/v1/opportunities/{competition.id}/evaluation", headers=OFFICER)
    assert evaluation.status_code == 200 and evaluation.json["awarded"] is False
    assert [r["rank"] for r in evaluation.json["results"]] == [1, 2, None]
    assert evaluation.json["results"][2]["excluded"] and evaluation.json["lowest_price_pence"] == 8_000_000

    awarded = competition.award()
    assert awarded.status_code == 201, awarded.json
    assert awarded.json["awarded"] is True and awarded.json["standstill_ends_on"] == LAST_DAY_OF_STANDSTILL
    assert [e["type"] for e in outbox(rt)][-3:] == ["block_contract.awarded", "offer.unsuccessful",
                                                    "offer.unsuccessful"]

    before = snapshot(rt)
    refused = competition.confirm(datetime(2025, 4, 8, 16, 0, tzinfo=UTC))
    assert refused.status_code == 409 and LAST_DAY_OF_STANDSTILL in refused.json["message"]
    assert snapshot(rt) == before
    confirmed = competition.confirm(datetime(2025, 4, 9, 9, 0, tzinfo=UTC))
    assert confirmed.status_code == 201, confirmed.json
    assert (confirmed.json["provider_id"], confirmed.json["places_left"]) == (str(competition.lot1.p1), 2)
    assert outbox(rt, "block_contract.confirmed")[0]["data"]["contract_id"] == confirmed.json["contract_id"]
    assert client.get(f"/v1/opportunities/{competition.id}", headers=OFFICER).json["status"] == "confirmed"


# --- what each bidder is told


def test_each_bidder_reads_its_own_assessment_summary_with_the_winners_scores(client, competition):
    competition.award()
    lot1 = competition.lot1
    url = f"/v1/opportunities/{competition.id}/summaries"

    second = client.get(f"{url}/{lot1.p2}", headers=provider_auth(lot1.p2))
    assert second.status_code == 200
    summary = second.json
    assert (summary["successful"], summary["rank"], summary["bids_ranked"]) == (False, 2, 2)
    assert (summary["quality"], summary["price"], summary["total"]) == (47, 40, 87)
    assert (summary["winner_quality"], summary["winner_price"], summary["winner_total"]) == (38, 50, 88)
    assert [(s["criterion"], s["score"], s["reason"]) for s in summary["winner_scores"]][0] == (
        EDUCATION, 4, "agreed at moderation")
    assert summary["scores"][0]["descriptor"].startswith("excellent")

    excluded = client.get(f"{url}/{lot1.p3}", headers=provider_auth(lot1.p3)).json
    assert excluded["excluded"] == ["scored 2 on 'safeguarding', below the minimum of 3"]
    assert excluded["total"] is None

    assert client.get(f"{url}/{lot1.p1}", headers=provider_auth(lot1.p2)).status_code == 403
    assert client.get(f"{url}/{lot1.p1}", headers=MANAGER).json["successful"] is True


# --- the block's places


@pytest.fixture
def contract(client, competition):
    competition.award()
    return competition.confirm(datetime(2025, 4, 9, 9, 0, tzinfo=UTC)).json


def allocate(client, contract_id, referral_id, headers=OFFICER, **extra):
    return client.post(f"/v1/block-contracts/{contract_id}/allocations",
                       json={"referral_id": str(referral_id), **extra}, headers=headers)


def test_a_referred_child_takes_a_place_of_the_block(client, rt, contract):
    referral_id, child_ref = uuid.uuid4(), uuid.uuid4()
    close(rt, referral_id, [], lot=1, hours="25", full_time=True, child_ref=child_ref)

    response = allocate(client, contract["contract_id"], referral_id)

    assert response.status_code == 201
    made = response.json
    assert made["start_date"] == "2025-09-01"  # not before the contract starts
    assert made["cost_pence"] == 4_000_000     # 8,000,000p over 2 places
    [event] = outbox(rt, "block_place.allocated")
    data = event["data"]
    assert set(data) >= {"contract_id", "allocation_id", "placement_id", "referral_id", "provider_id", "lot", "team",
                         "child_ref", "reason_for_ap", "hours_per_week", "start_date", "weeks", "cost_pence",
                         "full_time", "at"}
    assert (data["allocation_id"], data["placement_id"], data["child_ref"], data["team"], data["hours_per_week"],
            data["full_time"], data["provider_id"]) == (
        made["allocation_id"], made["placement_id"], str(child_ref), "exclusions", 25, True, contract["provider_id"])
    places = client.get(f"/v1/block-contracts/{contract['contract_id']}", headers=MANAGER).json["places_left"]
    assert places == 1
    assert "block_place.allocated" in audit_actions(rt)


def test_a_block_place_is_given_again_once_tracking_says_the_placement_ended(client, rt, contract):
    first, second, third = (uuid.uuid4() for _ in range(3))
    for referral_id in (first, second, third):
        close(rt, referral_id, [], lot=1)
    placement_id = allocate(client, contract["contract_id"], first).json["placement_id"]
    allocate(client, contract["contract_id"], second)
    feed(rt, "placement.ended", {"placement_id": placement_id, "referral_id": str(first),
                                 "provider_id": contract["provider_id"], "lot": 1, "team": "exclusions",
                                 "ended_on": "2025-10-17", "end_reason": "reintegrated",
                                 "next_step": "mainstream_school", "at": NOW.isoformat()})

    assert allocate(client, contract["contract_id"], third).status_code == 201
    listed = client.get(f"/v1/block-contracts/{contract['contract_id']}/allocations", headers=OFFICER).json
    assert {a["referral_id"]: a["ended_on"] for a in listed} == {
        str(first): "2025-10-17", str(second): None, str(third): None}


def test_a_provider_sees_only_its_own_block_contracts(client, contract, competition):
    lot1 = competition.lot1
    mine = client.get("/v1/block-contracts", headers=provider_auth(lot1.p1)).json
    assert [c["contract_id"] for c in mine] == [contract["contract_id"]]
    assert client.get("/v1/block-contracts", headers=provider_auth(lot1.p2)).json == []
    assert client.get(f"/v1/block-contracts/{contract['contract_id']}",
                      headers=provider_auth(lot1.p2)).status_code == 403
    assert client.get(f"/v1/block-contracts/{contract['contract_id']}/allocations",
                      headers=provider_auth(lot1.p1)).status_code == 403
