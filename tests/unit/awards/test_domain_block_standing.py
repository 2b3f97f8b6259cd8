"""Block contracts under the call-off standing rules, evaluators' conflicts of
interest, moderation from two evaluators, and what each bidder is told
(issue #15 items 4, 5 and 6): each refusal names its rule, law or policy."""

from dataclasses import replace
from decimal import Decimal
from uuid import UUID

import pytest

from services.awards.domain import (
    MembershipStatus,
    PlacesInUse,
    ProviderOnLot,
    Pupil,
    Registry,
    SettingKind,
)
from shared.errors import Conflict, Forbidden, InvalidInput
from tests.unit.awards.test_domain_mini_competition import (
    AFTER_DEADLINE,
    ALICE,
    AWARD_TIME,
    BOB,
    EDUCATION,
    EVALUATORS,
    MANAGER,
    OUTCOMES,
    P1,
    P2,
    P3,
    SAFEGUARDING,
    bid,
    child,
    competition,
    confirmed_contract,
    registry,
    three_bids,
    utc,
)

CAROL = "evaluator-carol"  # has not declared


def with_standing(provider: UUID, membership: MembershipStatus, base: Registry | None = None) -> Registry:
    """The registry with one provider's membership of lot 1 changed."""
    base = base or registry()
    return Registry.of(replace(e, membership=membership) if (e.provider_id, e.lot) == (provider, 1) else e
                       for e in base.entries)


def standing(provider: UUID = P1, membership=MembershipStatus.ADMITTED,
             registration=SettingKind.REGISTERED_SCHOOL) -> ProviderOnLot:
    return ProviderOnLot(provider, 1, membership, registration, {}, 10)


# --- a block contract is awarded only to a provider admitted and not suspended at award


def test_a_top_bid_whose_provider_is_suspended_at_award_is_excluded_and_the_next_wins():
    comp = competition()
    x, y, _z = three_bids(comp)  # x (P1) is top on the scores
    evaluation = comp.award(awarded_by=MANAGER, registry=with_standing(P1, MembershipStatus.SUSPENDED),
                            now=AWARD_TIME)
    assert evaluation.winner.bid == y
    [why] = evaluation.result_of(P1).excluded
    assert why.startswith("the provider is suspended on lot 1")
    assert "the DPS terms" in why and "the council's policy, not law" in why
    # excluded before price is scored: P1's low price no longer sets the lowest
    assert evaluation.lowest_price_pence == 100_000
    told = [e for e in comp.events if type(e).__name__ == "OfferUnsuccessful" and e.provider_id == P1]
    assert told[0].reason.startswith("excluded: the provider is suspended on lot 1")


def test_award_is_refused_when_no_bidder_is_admitted_and_not_suspended_and_nothing_changes():
    comp = competition()
    only = bid(comp, P1, 80_000)
    for name, score in ((EDUCATION, 4), (SAFEGUARDING, 4), (OUTCOMES, 3)):
        for evaluator in (ALICE, BOB):
            comp.score(only.bid_id, name, score, evaluator_id=evaluator, roles=EVALUATORS, now=AFTER_DEADLINE)
        comp.moderate(only.bid_id, name, score, reason="agreed", moderator_id=ALICE, roles=EVALUATORS,
                      now=AFTER_DEADLINE)
    version, events = comp.version, list(comp.events)
    for membership, rule in ((MembershipStatus.SUSPENDED, "the council's policy, not law"),
                             (MembershipStatus.REMOVED, "PCR 2015 regulation 34")):
        with pytest.raises(Conflict) as refused:
            comp.award(awarded_by=MANAGER, registry=with_standing(P1, membership), now=AWARD_TIME)
        assert "no bid can be awarded" in refused.value.message and rule in refused.value.message
    with pytest.raises(Conflict, match="not admitted to lot 1.*PCR 2015 regulation 34.*: law"):
        comp.award(awarded_by=MANAGER, registry=Registry(), now=AWARD_TIME)
    assert (comp.evaluation, comp.awarded_at, comp.ineligible_at_award) == (None, None, {})
    assert (comp.version, comp.events) == (version, events)
    assert comp.award(awarded_by=MANAGER, registry=registry(), now=AWARD_TIME).winner.bid == only  # reinstated


# --- a place is given only while the provider is admitted and not suspended, under the registration rule


@pytest.mark.parametrize(("membership", "rule"), [
    (MembershipStatus.SUSPENDED, "the DPS terms: a suspended provider is awarded no work and given no place: "
                                 "the council's policy, not law"),
    (MembershipStatus.REMOVED, "PCR 2015 regulation 34"),
])
def test_a_place_is_refused_while_the_provider_is_suspended_or_removed(membership, rule):
    contract = confirmed_contract()
    with pytest.raises(Conflict) as refused:
        contract.allocate_place(child(), allocated_by=MANAGER, standing=standing(membership=membership),
                                places=PlacesInUse(), now=utc(1, 9, month=9))
    assert refused.value.field == "contract_id" and rule in refused.value.message
    assert (contract.allocations, contract.events, contract.version, contract.places_left) == ({}, [], 0, 2)
    with pytest.raises(Conflict, match="not admitted to lot 1"):
        contract.allocate_place(child(), allocated_by=MANAGER, standing=None, places=PlacesInUse(),
                                now=utc(1, 9, month=9))


def test_the_registration_rule_refuses_a_block_place_naming_the_law():
    contract = confirmed_contract()
    unregistered = standing(registration=SettingKind.UNREGISTERED)
    looked_after_full_time = child()  # 25 hours a week, full-time, looked after
    with pytest.raises(Conflict) as refused:
        contract.allocate_place(looked_after_full_time, allocated_by=MANAGER, standing=unregistered,
                                places=PlacesInUse(), now=utc(1, 9, month=9))
    message = refused.value.message
    assert refused.value.field == "referral_id"
    assert "this child is looked after: an unregistered setting may not educate full-time" in message
    assert "Education Act 1996 s.463; Education and Skills Act 2008 s.92): law" in message
    assert contract.allocations == {} and contract.events == []
    # the same function as a call-off: a fifth full-time child is refused too
    four = {P1: (Pupil(Decimal(25), True),) * 4}
    part_time = replace(child(), hours_per_week=Decimal(15), full_time=False, looked_after=False)
    contract.allocate_place(part_time, allocated_by=MANAGER, standing=unregistered,
                            places=PlacesInUse(pupils=four), now=utc(1, 9, month=9))
    with pytest.raises(Conflict, match="would educate 5 pupils"):
        contract.allocate_place(replace(child(), looked_after=False), allocated_by=MANAGER, standing=unregistered,
                                places=PlacesInUse(pupils=four), now=utc(1, 9, month=9))


# --- evaluators declare any conflict of interest before they score


def test_an_evaluator_without_a_declaration_may_not_score_or_moderate():
    comp = competition()
    b = bid(comp, P1, 80_000)
    with pytest.raises(Conflict) as refused:
        comp.score(b.bid_id, EDUCATION, 3, evaluator_id=CAROL, roles=EVALUATORS, now=AFTER_DEADLINE)
    assert refused.value.field == "evaluator_id"
    assert "declare any conflict of interest" in refused.value.message
    assert "the council's policy, not law" in refused.value.message
    assert "PCR 2015 regulation 24; Procurement Act 2023 sections 81-83" in refused.value.message
    for evaluator in (ALICE, BOB):
        comp.score(b.bid_id, EDUCATION, 3, evaluator_id=evaluator, roles=EVALUATORS, now=AFTER_DEADLINE)
    with pytest.raises(Conflict, match="declare any conflict"):
        comp.moderate(b.bid_id, EDUCATION, 3, reason="agreed", moderator_id=CAROL, roles=EVALUATORS,
                      now=AFTER_DEADLINE)
    assert comp.scores_by(CAROL) == () and comp.moderated == {}


def test_an_evaluator_who_declares_a_conflict_may_not_score_that_competition():
    comp = competition()
    b = bid(comp, P1, 80_000)
    with pytest.raises(InvalidInput) as refused:
        comp.declare_interests(evaluator_id=CAROL, roles=EVALUATORS, conflict=True, details=" ", now=AFTER_DEADLINE)
    assert refused.value.field == "details"
    with pytest.raises(Forbidden):
        comp.declare_interests(evaluator_id=MANAGER, roles=("manager",), conflict=False, now=AFTER_DEADLINE)
    declared = comp.declare_interests(evaluator_id=CAROL, roles=EVALUATORS, conflict=True,
                                      details="a director of a bidder is a relative", now=AFTER_DEADLINE)
    assert (declared.conflict, declared.details) == (True, "a director of a bidder is a relative")
    with pytest.raises(Conflict) as refused:
        comp.score(b.bid_id, EDUCATION, 3, evaluator_id=CAROL, roles=EVALUATORS, now=AFTER_DEADLINE)
    assert "declared a conflict of interest" in refused.value.message and ": law" in refused.value.message
    with pytest.raises(Conflict) as refused:  # a declared conflict stands
        comp.declare_interests(evaluator_id=CAROL, roles=EVALUATORS, conflict=False, now=AFTER_DEADLINE)
    assert refused.value.field == "conflict"
    with pytest.raises(Conflict):  # no conflict, said twice
        comp.declare_interests(evaluator_id=ALICE, roles=EVALUATORS, conflict=False, now=AFTER_DEADLINE)


def test_a_conflict_found_after_scoring_withdraws_the_evaluator_s_unmoderated_scores():
    comp = competition()
    b = bid(comp, P1, 80_000)
    for evaluator in (ALICE, BOB):
        for name in (EDUCATION, SAFEGUARDING):
            comp.score(b.bid_id, name, 3, evaluator_id=evaluator, roles=EVALUATORS, now=AFTER_DEADLINE)
    comp.moderate(b.bid_id, EDUCATION, 3, reason="agreed", moderator_id=ALICE, roles=EVALUATORS, now=AFTER_DEADLINE)
    comp.declare_interests(evaluator_id=BOB, roles=EVALUATORS, conflict=True, details="now advises a bidder",
                           now=AFTER_DEADLINE)
    assert [(s.criterion, s.evaluator_id) for s in comp.scores_by(BOB)] == [(EDUCATION, BOB)]  # moderated: kept
    assert comp.events[-1].scores_withdrawn == 1
    with pytest.raises(Conflict, match="only one evaluator has scored 'safeguarding'"):
        comp.moderate(b.bid_id, SAFEGUARDING, 3, reason="agreed", moderator_id=ALICE, roles=EVALUATORS,
                      now=AFTER_DEADLINE)


# --- moderation needs at least two evaluators' scores


def test_one_evaluator_s_scores_cannot_be_moderated():
    comp = competition()
    b = bid(comp, P1, 80_000)
    comp.score(b.bid_id, EDUCATION, 4, evaluator_id=ALICE, roles=EVALUATORS, now=AFTER_DEADLINE)
    comp.score(b.bid_id, EDUCATION, 2, evaluator_id=ALICE, roles=EVALUATORS, now=AFTER_DEADLINE)  # rethinks: still one
    with pytest.raises(Conflict) as refused:
        comp.moderate(b.bid_id, EDUCATION, 3, reason="agreed", moderator_id=ALICE, roles=EVALUATORS,
                      now=AFTER_DEADLINE)
    assert "only one evaluator has scored 'quality of education'" in refused.value.message
    assert "at least two evaluators' independent scores" in refused.value.message
    assert "the council's policy, not law" in refused.value.message
    assert comp.moderated == {}
    comp.score(b.bid_id, EDUCATION, 3, evaluator_id=BOB, roles=EVALUATORS, now=AFTER_DEADLINE)
    assert comp.moderate(b.bid_id, EDUCATION, 3, reason="agreed", moderator_id=BOB, roles=EVALUATORS,
                         now=AFTER_DEADLINE).score == 3


# --- each bidder is told the winner, the winner's scores and the reasons


def test_the_assessment_summary_names_the_winner_and_says_why_against_its_scores():
    comp = competition()
    three_bids(comp)
    comp.award(awarded_by=MANAGER, registry=registry(), now=AWARD_TIME)
    second = comp.assessment_summary(P2)
    assert second.winner_provider_id == P1
    assert second.reasons == (
        "ranked 2 of 3: a total of 87.00 against the winning bid's 88.00",
        "a higher quality score: 47.00 against 38.00",
        "a lower price score: 40.00 against 50.00",
        "'quality of education': scored 5, the winning bid 4",
        "'outcomes': scored 5, the winning bid 3")
    assert "PCR 2015 regulation 86" in second.told_under and "Procurement Act 2023 section 50" in second.told_under
    assert comp.assessment_summary(P1).reasons == ("the highest total of 3 bid(s) ranked: 88.00",)
    assert comp.assessment_summary(P3).winner_provider_id == P1


def test_a_bidder_excluded_at_award_is_told_the_rule():
    comp = competition()
    three_bids(comp)
    comp.award(awarded_by=MANAGER, registry=with_standing(P1, MembershipStatus.SUSPENDED), now=AWARD_TIME)
    summary = comp.assessment_summary(P1)
    assert summary.winner_provider_id == P2 and summary.rank is None
    assert summary.reasons[0].startswith("excluded: the provider is suspended on lot 1")
