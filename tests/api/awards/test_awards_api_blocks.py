"""Block contracts under the call-off standing rules, evaluators' declarations
of interests and two-evaluator moderation, through the API and the real
databases: each 409 names its rule, law or policy, and changes nothing stored;
each bidder's summary names the winner."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tests.api.awards import test_awards_api_competitions as base
from tests.api.awards.awards_support import (
    EDUCATION,
    EVALUATOR_2,
    MANAGER,
    SCORING,
    Competition,
    at,
    close,
    declare,
    errors,
    feed,
    membership,
    moderate,
    outbox,
    provider_auth,
    score,
    snapshot,
)
from tests.support.runtime import auth

CAROL = auth("evaluator", sub="evaluator-carol")
CONFIRMED = datetime(2025, 4, 9, 9, 0, tzinfo=UTC)
LATER = datetime(2025, 4, 10, 9, 0, tzinfo=UTC)


# the same fixtures as the competitions' API tests, used by name (rt and client: conftest.py)
lot1, competition, contract = (getattr(base, name) for name in ("lot1", "competition", "contract"))
allocate = base.allocate


# --- evaluators: a declaration before scoring, two scores before moderation


def test_scoring_without_a_declaration_or_with_a_conflict_is_refused_409_naming_the_rule(client, rt, lot1):
    comp = Competition(client, rt, lot1, moderated=False)
    bid_id = comp.bids["p1"]
    before = snapshot(rt)
    undeclared = score(client, comp.id, bid_id, EDUCATION, 3, headers=CAROL)
    assert undeclared.status_code == 409 and "evaluator_id" in errors(undeclared)
    assert "the council's policy, not law" in undeclared.json["message"]
    assert "PCR 2015 regulation 24" in undeclared.json["message"]
    no_details = declare(client, comp.id, CAROL, conflict=True)
    assert no_details.status_code == 422 and "details" in errors(no_details)
    assert declare(client, comp.id, provider_auth(lot1.p1)).status_code == 403
    assert snapshot(rt) == before

    declared = declare(client, comp.id, CAROL, conflict=True, details="a director of a bidder is my sister")
    assert declared.status_code == 201 and declared.json["conflict"] is True
    before = snapshot(rt)
    conflicted = score(client, comp.id, bid_id, EDUCATION, 3, headers=CAROL)
    assert conflicted.status_code == 409 and "declared a conflict of interest" in conflicted.json["message"]
    assert declare(client, comp.id, CAROL, conflict=False).status_code == 409  # a conflict stands
    assert snapshot(rt) == before
    mine = client.get(f"/v1/opportunities/{comp.id}/declarations", headers=CAROL).json
    assert [d["evaluator_id"] for d in mine] == ["evaluator-carol"]
    every = client.get(f"/v1/opportunities/{comp.id}/declarations", headers=MANAGER).json
    assert {d["evaluator_id"] for d in every} == {"evaluator-alice", "evaluator-bob", "evaluator-carol"}


def test_one_evaluator_s_score_is_not_moderated_409(client, rt, lot1):
    comp = Competition(client, rt, lot1, moderated=False)
    bid_id = comp.bids["p1"]
    assert score(client, comp.id, bid_id, EDUCATION, 4).status_code == 201
    before = snapshot(rt)
    refused = moderate(client, comp.id, bid_id, EDUCATION, 4)
    assert refused.status_code == 409
    assert "only one evaluator has scored" in refused.json["message"]
    assert "the council's policy, not law" in refused.json["message"]
    assert snapshot(rt) == before
    assert score(client, comp.id, bid_id, EDUCATION, 3, headers=EVALUATOR_2).status_code == 201
    assert moderate(client, comp.id, bid_id, EDUCATION, 4).status_code == 201


# --- the award: only to a provider admitted and not suspended


def test_a_top_bidder_suspended_before_the_award_is_passed_over_and_told_why(client, rt, competition):
    lot1 = competition.lot1
    membership(rt, "suspended", lot1.p1, lot=1, at=SCORING)
    response = competition.award()
    assert response.status_code == 201
    [awarded] = outbox(rt, "block_contract.awarded")
    assert awarded["data"]["provider_id"] == str(lot1.p2)
    told = {e["data"]["provider_id"]: e["data"]["reason"] for e in outbox(rt, "offer.unsuccessful")}
    assert told[str(lot1.p1)].startswith("excluded: the provider is suspended on lot 1")
    summary = client.get(f"/v1/opportunities/{competition.id}/summaries/{lot1.p1}",
                         headers=provider_auth(lot1.p1)).json
    assert summary["winner_provider_id"] == str(lot1.p2)
    assert summary["reasons"][0].startswith("excluded: the provider is suspended on lot 1")


def test_no_award_while_no_bidder_may_be_awarded_409_and_nothing_changes(client, rt, competition):
    lot1 = competition.lot1
    for provider_id in (lot1.p1, lot1.p2, lot1.p3):
        membership(rt, "suspended", provider_id, lot=1, at=SCORING)
    before = snapshot(rt)
    refused = competition.award()
    assert refused.status_code == 409 and "no bid can be awarded" in refused.json["message"]
    assert "the council's policy, not law" in refused.json["message"]
    assert snapshot(rt) == before


# --- a place: only while admitted and not suspended, and under the registration rule


def refused_place(client, rt, contract, referral_id, conflict: str):
    """A place asked for a day later: refused 409 naming `conflict`, and nothing stored changed."""
    at(rt, LATER)
    before = snapshot(rt)
    refused = allocate(client, contract["contract_id"], referral_id)
    assert refused.status_code == 409 and refused.json["conflict"] == conflict
    assert snapshot(rt) == before
    return refused


def test_a_block_place_with_a_suspended_provider_is_refused_409_naming_the_policy(client, rt, contract):
    referral_id = uuid.uuid4()
    close(rt, referral_id, [], lot=1, hours="25", full_time=True)
    membership(rt, "suspended", uuid.UUID(contract["provider_id"]), lot=1, at=CONFIRMED)
    refused = refused_place(client, rt, contract, referral_id, "contract_id")
    assert "the provider is suspended on lot 1" in refused.json["message"]
    assert "the DPS terms" in refused.json["message"] and "the council's policy, not law" in refused.json["message"]
    membership(rt, "admitted", uuid.UUID(contract["provider_id"]), lot=1, at=LATER)
    assert allocate(client, contract["contract_id"], referral_id).status_code == 201


def test_a_block_place_against_the_registration_rule_is_refused_409_naming_the_law(client, rt, contract):
    feed(rt, "provider.registration_changed", {
        "provider_id": contract["provider_id"], "provider_name": "Provider", "registration_status": "unregistered",
        "urn": None, "at": CONFIRMED.isoformat()})
    with_ehcp = uuid.uuid4()
    close(rt, with_ehcp, [], lot=1, hours="25", full_time=True, ehcp=True)
    refused = refused_place(client, rt, contract, with_ehcp, "referral_id")
    assert "this child has an EHCP: an unregistered setting may not educate full-time" in refused.json["message"]
    assert "Education Act 1996 s.463" in refused.json["message"] and ": law" in refused.json["message"]


# --- what each bidder is told


def test_each_bidder_s_summary_names_the_winner_and_the_reasons(client, rt, competition):
    competition.award()
    lot1 = competition.lot1
    summary = client.get(f"/v1/opportunities/{competition.id}/summaries/{lot1.p2}",
                         headers=provider_auth(lot1.p2)).json
    assert summary["winner_provider_id"] == str(lot1.p1)
    assert summary["winner_name"] == f"Provider {str(lot1.p1)[:8]}"
    assert summary["reasons"][0] == "ranked 2 of 2: a total of 87.00 against the winning bid's 88.00"
    assert "PCR 2015 regulation 86" in summary["told_under"]
    assert "evaluator-" not in str(summary)  # the evaluators who scored are never named to bidders
