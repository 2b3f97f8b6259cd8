"""The block-contract use cases under the standing rules, and evaluators'
declarations of interests, on the fake unit of work (fakes.py): a refused
request commits nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.awards import handlers
from shared.actor import Actor
from shared.errors import Conflict
from tests.unit.awards import test_awards_handlers as base
from tests.unit.awards.test_awards_handlers import (
    AFTER,
    ALICE,
    ANSWERS,
    BOB,
    EDUCATION,
    MANAGER,
    NOW,
    OFFICER,
    SAFEGUARDING,
    close,
    feed,
    open_competition,
    provider,
)

store, uow, bidders = base.store, base.uow, base.bidders  # the same fixtures, used by name

CAROL = Actor("evaluator-carol", frozenset({"evaluator"}))


def set_membership(uow, provider_id, status: str, minutes: int) -> None:
    feed(uow, "membership.suspended", {"provider_id": str(provider_id), "provider_name": "A provider", "lot": 1,
                                       "status": status, "at": (NOW + timedelta(minutes=minutes)).isoformat()})


def scored(uow, oid, bids: list) -> None:
    """Alice and Bob declare no conflict, score each bid, and Alice moderates."""
    for evaluator in (ALICE, BOB):
        handlers.declare_interests(uow(evaluator, AFTER), evaluator, oid, conflict=False)
    for bid, score in bids:
        for name in (EDUCATION, SAFEGUARDING):
            for evaluator in (ALICE, BOB):
                handlers.score_bid(uow(evaluator, AFTER), evaluator, oid, bid.bid_id, name, score)
            handlers.moderate_score(uow(ALICE, AFTER), ALICE, oid, bid.bid_id, name, score, "agreed")


@pytest.fixture
def competition(uow, bidders):
    """Two bids scored and moderated: p1's (cheaper, better) would win."""
    oid, cheap, dear = base.two_bids(uow, bidders)
    scored(uow, oid, [(cheap, 4), (dear, 3)])
    return oid, cheap.provider_id, dear.provider_id


def test_a_declaration_is_audited_and_the_manager_sees_every_evaluator_s(uow, bidders):
    comp, _ = open_competition(uow)
    oid = comp.opportunity_id
    unit = uow(CAROL)
    handlers.declare_interests(unit, CAROL, oid, conflict=True, details="a relative works for a bidder")
    assert unit.committed and unit.messages == [] and unit.audited() == ["interests.declared"]
    assert unit.audit[0].details == {"evaluator_id": CAROL.sub, "conflict": True, "scores_withdrawn": 0}
    assert "relative" not in str(unit.audit[0].details)  # the details stay on the declaration
    handlers.declare_interests(uow(ALICE), ALICE, oid, conflict=False)
    assert [d.evaluator_id for d in handlers.declarations_for(uow(ALICE), ALICE, oid)] == [ALICE.sub]
    assert {d.evaluator_id for d in handlers.declarations_for(uow(MANAGER), MANAGER, oid)} == {ALICE.sub, CAROL.sub}


def test_scoring_without_a_declaration_or_with_a_conflict_is_refused_and_commits_nothing(uow, bidders):
    p1 = bidders[0]
    comp, _ = open_competition(uow)
    oid = comp.opportunity_id
    mine = handlers.submit_bid(uow(provider(p1)), provider(p1), oid, 80_000, ANSWERS)
    unit = uow(CAROL, AFTER)
    with pytest.raises(Conflict, match="declare any conflict of interest"):
        handlers.score_bid(unit, CAROL, oid, mine.bid_id, EDUCATION, 3)
    assert not unit.committed and unit.audit == []
    handlers.declare_interests(uow(CAROL, AFTER), CAROL, oid, conflict=True, details="advises a bidder")
    unit = uow(CAROL, AFTER)
    with pytest.raises(Conflict, match="declared a conflict of interest"):
        handlers.score_bid(unit, CAROL, oid, mine.bid_id, EDUCATION, 3)
    assert not unit.committed


def test_one_evaluator_s_score_is_not_moderated(uow, bidders):
    p1 = bidders[0]
    comp, _ = open_competition(uow)
    oid = comp.opportunity_id
    mine = handlers.submit_bid(uow(provider(p1)), provider(p1), oid, 80_000, ANSWERS)
    handlers.declare_interests(uow(ALICE, AFTER), ALICE, oid, conflict=False)
    handlers.score_bid(uow(ALICE, AFTER), ALICE, oid, mine.bid_id, EDUCATION, 3)
    unit = uow(ALICE, AFTER)
    with pytest.raises(Conflict, match="only one evaluator"):
        handlers.moderate_score(unit, ALICE, oid, mine.bid_id, EDUCATION, 3, "agreed")
    assert not unit.committed and handlers.scores_for(uow(MANAGER, AFTER), MANAGER, oid).moderated == ()


def test_a_bidder_suspended_before_the_award_is_passed_over_and_told_why(uow, competition):
    oid, p1, p2 = competition
    set_membership(uow, p1, "suspended", 1)
    unit = uow(OFFICER, AFTER)
    comp = handlers.award_block_contract(unit, OFFICER, oid)
    assert comp.evaluation.winner.bid.provider_id == p2
    [awarded] = unit.published("block_contract.awarded")
    [told] = unit.published("offer.unsuccessful")
    assert awarded["provider_id"] == str(p2) and told["provider_id"] == str(p1)
    assert told["reason"].startswith("excluded: the provider is suspended on lot 1")
    summary = handlers.assessment_summary(uow(provider(p1), AFTER), provider(p1), oid, p1)
    assert summary.winner_provider_id == p2 and summary.reasons[0].startswith("excluded: the provider is suspended")


def test_no_award_while_every_bidder_is_suspended(uow, competition):
    oid, p1, p2 = competition
    for minutes, p in enumerate((p1, p2), start=1):
        set_membership(uow, p, "suspended", minutes)
    unit = uow(OFFICER, AFTER)
    with pytest.raises(Conflict, match="no bid can be awarded"):
        handlers.award_block_contract(unit, OFFICER, oid)
    assert not unit.committed and unit.messages == []
    assert handlers.opportunity(uow(MANAGER, AFTER), MANAGER, oid).evaluation is None


@pytest.fixture
def contract(uow, competition):
    oid, p1, _ = competition
    handlers.award_block_contract(uow(OFFICER, AFTER), OFFICER, oid)
    return handlers.confirm_block_contract(uow(OFFICER, AFTER), OFFICER, oid), p1


def test_no_place_while_the_provider_is_suspended_and_one_again_once_reinstated(uow, store, contract):
    contract_, p1 = contract
    child = uuid.uuid4()
    close(uow, child, [], lot=1, hours="25", full_time=True)
    set_membership(uow, p1, "suspended", 1)
    unit = uow(OFFICER, AFTER)
    with pytest.raises(Conflict, match="the provider is suspended on lot 1") as refused:
        handlers.allocate_block_place(unit, OFFICER, contract_.contract_id, child)
    assert refused.value.field == "contract_id"
    assert not unit.committed and unit.messages == [] and store.block_places == {}
    assert contract_.allocations == {}
    set_membership(uow, p1, "admitted", 2)
    unit = uow(OFFICER, AFTER)
    handlers.allocate_block_place(unit, OFFICER, contract_.contract_id, child)
    assert unit.published("block_place.allocated")[0]["referral_id"] == str(child)


def test_the_registration_rule_refuses_a_block_place(uow, store, contract):
    contract_, p1 = contract
    feed(uow, "provider.registration_changed", {"provider_id": str(p1), "provider_name": "A provider",
                                                "registration_status": "unregistered",
                                                "at": (NOW + timedelta(minutes=1)).isoformat()})
    with_ehcp, part_time = uuid.uuid4(), uuid.uuid4()
    close(uow, with_ehcp, [], lot=1, hours="25", full_time=True, ehcp=True)
    close(uow, part_time, [], lot=1, hours="12", full_time=False)
    unit = uow(OFFICER, AFTER)
    with pytest.raises(Conflict, match="this child has an EHCP.*Education Act 1996 s.463") as refused:
        handlers.allocate_block_place(unit, OFFICER, contract_.contract_id, with_ehcp)
    assert refused.value.field == "referral_id" and not unit.committed and store.block_places == {}
    handlers.allocate_block_place(uow(OFFICER, AFTER), OFFICER, contract_.contract_id, part_time)
    assert set(store.block_places) == {part_time}
