"""Block contracts by mini-competition: terms, sealed bids, scoring, award,
standstill, confirmation, assessment summaries and place allocation."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from uuid import UUID, uuid4

import pytest

from services.awards.domain import (
    BlockContractAwarded,
    BlockContractConfirmed,
    BlockPlaceAllocated,
    Criterion,
    MembershipStatus,
    MiniCompetition,
    OfferUnsuccessful,
    OpportunityTerms,
    PlacesInUse,
    ProviderOnLot,
    Referral,
    ReferralState,
    Registry,
    ScoringScale,
    SettingKind,
    Split,
    TieBreak,
    two_places,
)
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound


def utc(day: int, hour: int = 12, month: int = 5, minute: int = 0) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=UTC)


OPENS, DEADLINE = utc(1, 9), utc(15, 12)
AFTER_DEADLINE = utc(16, 10)
AWARD_TIME = utc(22, 10)  # Wednesday 22 May 2024
EVALUATORS = ("evaluator",)
ALICE, BOB, MANAGER = "evaluator-alice", "evaluator-bob", "manager-1"  # token subjects

P1, P2, P3, P4, SUSPENDED_ONE, OTHER_LOT = (UUID(int=n) for n in range(1, 7))
EDUCATION, SAFEGUARDING, OUTCOMES = "quality of education", "safeguarding", "outcomes"


def registry() -> Registry:
    def on(provider, lot=1, membership=MembershipStatus.ADMITTED):
        return ProviderOnLot(provider, lot, membership, SettingKind.REGISTERED_SCHOOL, {}, 10)
    return Registry.of([on(P1), on(P2), on(P3), on(P4), on(SUSPENDED_ONE, membership=MembershipStatus.SUSPENDED),
                        on(OTHER_LOT, lot=2)])


def criteria(safeguarding_minimum=3) -> list[Criterion]:
    return [Criterion(EDUCATION, Decimal("0.5"), minimum_score=2),
            Criterion(SAFEGUARDING, Decimal("0.3"), minimum_score=safeguarding_minimum),
            Criterion(OUTCOMES, Decimal("0.2"))]


def terms(**changes) -> OpportunityTerms:
    base = dict(lot=1, places=2, contract_start=date(2024, 9, 1), contract_end=date(2025, 8, 31),
                criteria=criteria(), opens_at=OPENS, deadline=DEADLINE)
    return OpportunityTerms(**{**base, **changes})


def competition(**changes) -> MiniCompetition:
    """An opportunity whose two evaluators have declared no conflict of interest."""
    comp = MiniCompetition.create(terms(**changes), registry(), now=utc(1, 8), opportunity_id=UUID(int=500))
    for evaluator in (ALICE, BOB):
        comp.declare_interests(evaluator_id=evaluator, roles=EVALUATORS, conflict=False, now=utc(1, 9))
    return comp


ANSWERS = {EDUCATION: "our curriculum...", SAFEGUARDING: "our safeguarding lead...", OUTCOMES: "last year..."}


def bid(comp: MiniCompetition, provider: UUID, price: int, hour: int = 10):
    return comp.submit_bid(provider, price, ANSWERS, now=utc(10, hour), bid_id=UUID(int=1000 + provider.int))


def score_and_moderate(comp: MiniCompetition, bid_, scores: dict[str, int]) -> None:
    """Two evaluators score independently (one a point lower); the moderated score is agreed."""
    for name, agreed in scores.items():
        comp.score(bid_.bid_id, name, agreed, evaluator_id=ALICE, roles=EVALUATORS, now=AFTER_DEADLINE)
        comp.score(bid_.bid_id, name, max(agreed - 1, 0), evaluator_id=BOB, roles=EVALUATORS, now=AFTER_DEADLINE)
        comp.moderate(bid_.bid_id, name, agreed, reason=f"agreed {agreed} on {name}", moderator_id=ALICE,
                      roles=EVALUATORS, now=AFTER_DEADLINE)


def three_bids(comp: MiniCompetition):
    x, y, z = bid(comp, P1, 80_000), bid(comp, P2, 100_000), bid(comp, P3, 120_000)
    score_and_moderate(comp, x, {EDUCATION: 4, SAFEGUARDING: 4, OUTCOMES: 3})
    score_and_moderate(comp, y, {EDUCATION: 5, SAFEGUARDING: 4, OUTCOMES: 5})
    score_and_moderate(comp, z, {EDUCATION: 3, SAFEGUARDING: 5, OUTCOMES: 4})
    return x, y, z


# --- the worked example


def test_worked_example_three_bids_three_criteria_scored_by_hand():
    comp = competition()
    x, y, z = three_bids(comp)
    evaluation = comp.evaluate()

    # weights 0.5 / 0.3 / 0.2, scale 0-5, split 50/50; quality = 50 x sum(w x s / 5)
    # X: 50 x (0.5x4/5 + 0.3x4/5 + 0.2x3/5) = 50 x (0.40 + 0.24 + 0.12) = 50 x 0.76 = 38
    # Y: 50 x (0.5x5/5 + 0.3x4/5 + 0.2x5/5) = 50 x (0.50 + 0.24 + 0.20) = 50 x 0.94 = 47
    # Z: 50 x (0.5x3/5 + 0.3x5/5 + 0.2x4/5) = 50 x (0.30 + 0.30 + 0.16) = 50 x 0.76 = 38
    # lowest = 80,000; price = 50 x 80,000 / bid
    # X: 50 x 80,000 / 80,000 = 50;  Y: 50 x 80,000 / 100,000 = 40;  Z: 50 x 80,000 / 120,000 = 33.333...
    # totals: X 88, Y 87, Z 71.333... -> shown 71.33
    assert evaluation.lowest_price_pence == 80_000
    shown = [(r.bid.provider_id, r.quality, r.price, r.total, r.rank) for r in evaluation.results]
    assert shown == [
        (P1, Decimal("38.00"), Decimal("50.00"), Decimal("88.00"), 1),
        (P2, Decimal("47.00"), Decimal("40.00"), Decimal("87.00"), 2),
        (P3, Decimal("38.00"), Decimal("33.33"), Decimal("71.33"), 3),
    ]
    assert evaluation.results[2].price_exact == Fraction(100, 3)  # compared unrounded
    assert evaluation.winner.bid == x


def test_split_other_than_50_50_changes_the_winner():
    comp = competition(split=Split(Decimal(70), Decimal(30)))
    three_bids(comp)
    # X: 70 x 0.76 = 53.2 + 30 x 1 = 30     -> 83.2
    # Y: 70 x 0.94 = 65.8 + 30 x 0.8 = 24   -> 89.8
    # Z: 70 x 0.76 = 53.2 + 30 x 2/3 = 20   -> 73.2
    assert [(r.bid.provider_id, r.total) for r in comp.evaluate().ranked] == [
        (P2, Decimal("89.80")), (P1, Decimal("83.20")), (P3, Decimal("73.20"))]


# --- ties


def two_equal_bids(comp: MiniCompetition):
    """A: quality 50 x (0.5x5 + 0.3x4 + 0.2x4)/5 = 50 x 4.5/5 = 45; price 50 x 80,000/100,000 = 40 -> 85
       B: quality 50 x (0.5x4 + 0.3x3 + 0.2x3)/5 = 50 x 3.5/5 = 35; price 50 x 80,000/80,000 = 50  -> 85"""
    a, b = bid(comp, P1, 100_000), bid(comp, P2, 80_000)
    score_and_moderate(comp, a, {EDUCATION: 5, SAFEGUARDING: 4, OUTCOMES: 4})
    score_and_moderate(comp, b, {EDUCATION: 4, SAFEGUARDING: 3, OUTCOMES: 3})
    return a, b


def test_bids_equal_on_total_go_to_the_higher_quality_by_default():
    comp = competition()
    a, b = two_equal_bids(comp)
    first, second = comp.evaluate().ranked
    assert first.total_exact == second.total_exact == 85
    assert (first.bid, first.quality) == (a, Decimal("45.00"))
    assert (second.bid, second.quality, second.rank) == (b, Decimal("35.00"), 2)


def test_bids_equal_on_total_follow_the_published_tie_break_rule():
    comp = competition(tie_break=(TieBreak.LOWER_PRICE, TieBreak.HIGHER_QUALITY))
    a, b = two_equal_bids(comp)
    assert [r.bid for r in comp.evaluate().ranked] == [b, a]


def test_bids_equal_on_every_published_rule_go_to_the_earlier_submission():
    comp = competition()
    late, early = bid(comp, P1, 90_000, hour=15), bid(comp, P2, 90_000, hour=9)
    for b in (late, early):
        score_and_moderate(comp, b, {EDUCATION: 3, SAFEGUARDING: 3, OUTCOMES: 3})
    assert [r.bid for r in comp.evaluate().ranked] == [early, late]


# --- exclusion below a minimum, before price is scored


def test_bid_below_a_minimum_is_excluded_before_price_so_it_does_not_set_the_lowest_price():
    comp = competition()
    cheap, x, y = bid(comp, P3, 60_000), bid(comp, P1, 80_000), bid(comp, P2, 100_000)
    score_and_moderate(comp, cheap, {EDUCATION: 5, SAFEGUARDING: 2, OUTCOMES: 5})  # safeguarding minimum is 3
    score_and_moderate(comp, x, {EDUCATION: 4, SAFEGUARDING: 4, OUTCOMES: 3})
    score_and_moderate(comp, y, {EDUCATION: 5, SAFEGUARDING: 4, OUTCOMES: 5})
    evaluation = comp.evaluate()

    # Excluded first, so lowest = 80,000 (not 60,000): X price 50 x 80/80 = 50, Y 50 x 80/100 = 40,
    # totals X 38 + 50 = 88, Y 47 + 40 = 87 as in the worked example.
    assert evaluation.lowest_price_pence == 80_000
    assert [(r.bid, r.total) for r in evaluation.ranked] == [(x, Decimal("88.00")), (y, Decimal("87.00"))]
    [excluded] = [r for r in evaluation.results if r.excluded]
    assert excluded.bid == cheap and excluded.rank is None and excluded.total is None
    assert excluded.excluded == ("scored 2 on 'safeguarding', below the minimum of 3",)


def test_without_the_minimum_the_cheap_bid_sets_the_lowest_price_and_wins():
    comp = competition(criteria=criteria(safeguarding_minimum=None))
    cheap, x, y = bid(comp, P3, 60_000), bid(comp, P1, 80_000), bid(comp, P2, 100_000)
    score_and_moderate(comp, cheap, {EDUCATION: 5, SAFEGUARDING: 2, OUTCOMES: 5})
    score_and_moderate(comp, x, {EDUCATION: 4, SAFEGUARDING: 4, OUTCOMES: 3})
    score_and_moderate(comp, y, {EDUCATION: 5, SAFEGUARDING: 4, OUTCOMES: 5})
    evaluation = comp.evaluate()
    # cheap: 50 x (0.5 + 0.12 + 0.2) = 41 + 50 = 91;  X: 38 + 50 x 60/80 = 75.5;  Y: 47 + 50 x 60/100 = 77
    assert evaluation.lowest_price_pence == 60_000
    assert [(r.bid, r.total) for r in evaluation.ranked] == [
        (cheap, Decimal("91.00")), (y, Decimal("77.00")), (x, Decimal("75.50"))]


def test_award_with_every_bid_excluded_is_refused():
    comp = competition()
    only = bid(comp, P1, 80_000)
    score_and_moderate(comp, only, {EDUCATION: 1, SAFEGUARDING: 4, OUTCOMES: 4})
    with pytest.raises(Conflict):
        comp.award(awarded_by=MANAGER, registry=registry(), now=AWARD_TIME)


# --- the terms


def test_weights_that_do_not_sum_to_one_are_refused():
    wrong = [Criterion(EDUCATION, Decimal("0.5")), Criterion(SAFEGUARDING, Decimal("0.49"))]
    with pytest.raises(InvalidInput) as refused:
        terms(criteria=wrong)
    assert refused.value.field == "criteria"
    assert refused.value.field_errors == {"criteria": ["the weights sum to 0.99, not 1"]}


def test_weights_given_as_floats_are_read_as_the_decimals_they_show():
    # 0.1 + 0.2 + 0.7 is not 1 in binary floating point; as Decimal it is exactly 1.
    made = terms(criteria=[Criterion("a", 0.1), Criterion("b", 0.2), Criterion("c", 0.7)])
    assert [c.weight for c in made.criteria] == [Decimal("0.1"), Decimal("0.2"), Decimal("0.7")]


@pytest.mark.parametrize("bad", [
    [],
    [Criterion(EDUCATION, Decimal(1)), Criterion(EDUCATION, Decimal(0))],
    [Criterion(EDUCATION, Decimal("1.2")), Criterion(SAFEGUARDING, Decimal("-0.2"))],
    [Criterion(EDUCATION, Decimal(1), minimum_score=6)],
])
def test_criteria_that_break_a_rule_are_refused(bad):
    with pytest.raises(InvalidInput) as refused:
        terms(criteria=bad)
    assert refused.value.field == "criteria"


def test_split_must_sum_to_100():
    with pytest.raises(InvalidInput) as refused:
        Split(Decimal(60), Decimal(50))
    assert refused.value.field == "split"
    assert Split() == Split(Decimal(50), Decimal(50))


def test_scale_descriptors_must_cover_every_point():
    with pytest.raises(InvalidInput) as refused:
        ScoringScale(maximum=3, descriptors={0: "none", 1: "poor", 3: "good"})
    assert refused.value.field == "scale"
    assert ScoringScale().descriptor(3) == "satisfactory: meets the requirement"


@pytest.mark.parametrize("changes, field", [
    ({"places": 0}, "places"),
    ({"contract_end": date(2024, 9, 1)}, "contract_end"),
    ({"deadline": OPENS}, "deadline"),
    ({"lot": 5}, "lot"),
])
def test_opportunity_terms_that_make_no_sense_are_refused(changes, field):
    with pytest.raises(InvalidInput) as refused:
        terms(**changes)
    assert refused.value.field == field


def test_every_provider_admitted_and_not_suspended_on_the_lot_is_invited():
    assert competition().invited == {P1, P2, P3, P4}


# --- bids


def test_bid_from_a_provider_not_invited_is_refused():
    comp = competition()
    for outsider in (SUSPENDED_ONE, OTHER_LOT, uuid4()):
        with pytest.raises(Forbidden) as refused:
            comp.submit_bid(outsider, 80_000, ANSWERS, now=utc(10))
        assert refused.value.field == "provider_id"


def test_bid_before_the_opportunity_opens_is_refused():
    with pytest.raises(InvalidInput) as refused:
        competition().submit_bid(P1, 80_000, ANSWERS, now=OPENS - timedelta(seconds=1))
    assert refused.value.field == "opens_at"


def test_bid_at_or_after_the_deadline_is_refused_and_just_before_is_accepted():
    comp = competition()
    comp.submit_bid(P1, 80_000, ANSWERS, now=DEADLINE - timedelta(seconds=1))
    for late in (DEADLINE, DEADLINE + timedelta(days=1)):
        with pytest.raises(InvalidInput) as refused:
            comp.submit_bid(P2, 80_000, ANSWERS, now=late)
        assert refused.value.field == "deadline"


@pytest.mark.parametrize("price", [0, -1, 80_000.5])
def test_bid_price_must_be_whole_pence_above_zero(price):
    with pytest.raises(InvalidInput) as refused:
        competition().submit_bid(P1, price, ANSWERS, now=utc(10))
    assert refused.value.field == "price_pence"


def test_bid_needs_an_answer_to_each_criterion():
    answers = {EDUCATION: "yes", SAFEGUARDING: "  ", "price breakdown": "x"}
    with pytest.raises(InvalidInput) as refused:
        competition().submit_bid(P1, 80_000, answers, now=utc(10))
    assert refused.value.field_errors == {"answers": [
        "no answer to 'outcomes'", "no answer to 'safeguarding'",
        "'price breakdown' is not a criterion of this opportunity"]}


def test_bids_are_sealed_until_the_deadline():
    comp = competition()
    mine = bid(comp, P1, 80_000)
    assert comp.bid_of(P1) == mine and comp.bid_of(P2) is None  # a provider sees only its own
    with pytest.raises(Conflict):
        comp.opened_bids(now=DEADLINE - timedelta(seconds=1))
    with pytest.raises(Conflict):
        comp.score(mine.bid_id, EDUCATION, 3, evaluator_id=ALICE, roles=EVALUATORS, now=utc(14))
    assert comp.opened_bids(now=DEADLINE) == (mine,)


def test_a_second_bid_before_the_deadline_replaces_the_first_and_a_bid_can_be_withdrawn():
    comp = competition()
    first = bid(comp, P1, 80_000)
    second = comp.submit_bid(P1, 75_000, ANSWERS, now=utc(11))
    assert second.bid_id == first.bid_id and comp.bid_of(P1).price_pence == 75_000
    comp.withdraw_bid(P1, now=utc(12))
    assert comp.opened_bids(now=AFTER_DEADLINE) == ()


# --- scoring and moderation


def test_score_outside_the_scale_is_refused():
    comp = competition()
    b = bid(comp, P1, 80_000)
    for bad in (6, -1, 2.5, True):
        with pytest.raises(InvalidInput) as refused:
            comp.score(b.bid_id, EDUCATION, bad, evaluator_id=ALICE, roles=EVALUATORS, now=AFTER_DEADLINE)
        assert refused.value.field == "score"


def test_score_by_someone_not_an_evaluator_is_refused():
    comp = competition()
    b = bid(comp, P1, 80_000)
    with pytest.raises(Forbidden):
        comp.score(b.bid_id, EDUCATION, 3, evaluator_id=MANAGER, roles=("officer", "manager"), now=AFTER_DEADLINE)
    with pytest.raises(Forbidden):
        comp.moderate(b.bid_id, EDUCATION, 3, reason="agreed", moderator_id=MANAGER, roles=("manager",),
                      now=AFTER_DEADLINE)


def test_score_on_an_unknown_criterion_or_bid_is_refused():
    comp = competition()
    b = bid(comp, P1, 80_000)
    with pytest.raises(InvalidInput) as refused:
        comp.score(b.bid_id, "price", 3, evaluator_id=ALICE, roles=EVALUATORS, now=AFTER_DEADLINE)
    assert refused.value.field == "criterion"
    with pytest.raises(NotFound):
        comp.score(uuid4(), EDUCATION, 3, evaluator_id=ALICE, roles=EVALUATORS, now=AFTER_DEADLINE)


def test_evaluators_score_independently_and_each_sees_only_their_own():
    comp = competition()
    b = bid(comp, P1, 80_000)
    comp.score(b.bid_id, EDUCATION, 4, evaluator_id=ALICE, roles=EVALUATORS, now=AFTER_DEADLINE)
    comp.score(b.bid_id, EDUCATION, 2, evaluator_id=BOB, roles=EVALUATORS, now=AFTER_DEADLINE)
    comp.score(b.bid_id, EDUCATION, 3, evaluator_id=BOB, roles=EVALUATORS, now=AFTER_DEADLINE)  # Bob rethinks
    assert [s.score for s in comp.scores_by(ALICE)] == [4]
    assert [s.score for s in comp.scores_by(BOB)] == [3]


def test_moderated_score_needs_a_reason_and_an_evaluator_score_first():
    comp = competition()
    b = bid(comp, P1, 80_000)
    with pytest.raises(Conflict):
        comp.moderate(b.bid_id, EDUCATION, 3, reason="agreed", moderator_id=ALICE, roles=EVALUATORS,
                      now=AFTER_DEADLINE)
    comp.score(b.bid_id, EDUCATION, 4, evaluator_id=ALICE, roles=EVALUATORS, now=AFTER_DEADLINE)
    with pytest.raises(InvalidInput) as refused:
        comp.moderate(b.bid_id, EDUCATION, 3, reason=" ", moderator_id=ALICE, roles=EVALUATORS, now=AFTER_DEADLINE)
    assert refused.value.field == "reason"
    comp.score(b.bid_id, EDUCATION, 3, evaluator_id=BOB, roles=EVALUATORS, now=AFTER_DEADLINE)
    agreed = comp.moderate(b.bid_id, EDUCATION, 3, reason="clear plan, thin evidence", moderator_id=ALICE,
                           roles=EVALUATORS, now=AFTER_DEADLINE)
    assert (agreed.score, agreed.reason) == (3, "clear plan, thin evidence")
    with pytest.raises(Conflict):  # once moderated, no more independent scores on it
        comp.score(b.bid_id, EDUCATION, 5, evaluator_id=BOB, roles=EVALUATORS, now=AFTER_DEADLINE)


def test_evaluation_waits_for_every_moderated_score():
    comp = competition()
    b = bid(comp, P1, 80_000)
    score_and_moderate(comp, b, {EDUCATION: 3, SAFEGUARDING: 3})
    with pytest.raises(Conflict):
        comp.evaluate()


# --- award, standstill and confirmation


def test_award_goes_to_the_top_bid_starts_the_standstill_and_tells_the_others():
    comp = competition()
    x, y, z = three_bids(comp)
    comp.events.clear()  # what came before: the creation, the bids, the scores (for the audit trail)
    comp.award(awarded_by=MANAGER, registry=registry(), now=AWARD_TIME)

    # Awarded Wed 22 May 2024. 8 working days: 23, 24, (27 is a bank holiday), 28, 29, 30, 31 May, 3, 4 June.
    assert comp.standstill_ends_on == date(2024, 6, 4)
    awarded, *unsuccessful = comp.events
    assert awarded == BlockContractAwarded(UUID(int=500), x.bid_id, P1, 1, 2, 80_000, date(2024, 9, 1),
                                           date(2025, 8, 31), date(2024, 6, 4), MANAGER, AWARD_TIME)
    opportunity = UUID(int=500)
    assert unsuccessful == [  # with the rank among the eligible, as offer.unsuccessful documents it (#18)
        OfferUnsuccessful(y.bid_id, P2, "ranked 2 of 3 with a total of 87.00", AWARD_TIME, opportunity_id=opportunity,
                          rank=2, winner_provider_id=P1),
        OfferUnsuccessful(z.bid_id, P3, "ranked 3 of 3 with a total of 71.33", AWARD_TIME, opportunity_id=opportunity,
                          rank=3, winner_provider_id=P1),
    ]


def test_second_award_is_refused_and_scores_are_final_after_award():
    comp = competition()
    x, _, _ = three_bids(comp)
    comp.award(awarded_by=MANAGER, registry=registry(), now=AWARD_TIME)
    with pytest.raises(Conflict):
        comp.award(awarded_by=MANAGER, registry=registry(), now=AWARD_TIME)
    with pytest.raises(Conflict):
        comp.moderate(x.bid_id, EDUCATION, 5, reason="second thoughts", moderator_id=ALICE, roles=EVALUATORS,
                      now=AWARD_TIME)


def test_award_before_the_deadline_is_refused():
    with pytest.raises(Conflict):
        competition().award(awarded_by=MANAGER, registry=registry(), now=utc(14))


def test_contract_is_confirmed_only_after_the_standstill_ends():
    comp = competition()
    three_bids(comp)
    with pytest.raises(Conflict):
        comp.confirm(confirmed_by=MANAGER, now=AWARD_TIME)  # not awarded yet
    comp.award(awarded_by=MANAGER, registry=registry(), now=AWARD_TIME)
    with pytest.raises(Conflict):
        comp.confirm(confirmed_by=MANAGER, now=utc(4, 16, month=6))  # last day of standstill
    contract = comp.confirm(confirmed_by=MANAGER, now=utc(5, 9, month=6), contract_id=UUID(int=700))

    assert (contract.provider_id, contract.places, contract.price_pence) == (P1, 2, 80_000)
    assert comp.events[-1] == BlockContractConfirmed(UUID(int=700), UUID(int=500), P1, 1, 2, 80_000,
                                                     date(2024, 9, 1), date(2025, 8, 31), MANAGER,
                                                     utc(5, 9, month=6))
    with pytest.raises(Conflict):
        comp.confirm(confirmed_by=MANAGER, now=utc(6, 9, month=6))


def test_standstill_length_is_configurable():
    comp = competition(standstill_working_days=10)
    three_bids(comp)
    comp.award(awarded_by=MANAGER, registry=registry(), now=AWARD_TIME)
    assert comp.standstill_ends_on == date(2024, 6, 6)  # ... 4 June (8), 5 (9), 6 (10)


def test_with_no_standstill_the_contract_is_confirmed_on_the_day_of_the_award():
    comp = competition(standstill_working_days=0)
    three_bids(comp)
    comp.award(awarded_by=MANAGER, registry=registry(), now=AWARD_TIME)
    # the status says what confirmation obeys: no standstill at all, not a standstill of the award day
    assert comp.status(AWARD_TIME) == "awarded"
    contract = comp.confirm(confirmed_by=MANAGER, now=AWARD_TIME, contract_id=UUID(int=701))
    assert contract.provider_id == P1
    assert comp.status(AWARD_TIME) == "confirmed"


def test_status_follows_the_competition_from_not_open_to_confirmed():
    comp = competition()
    assert comp.status(comp.terms.opens_at - timedelta(seconds=1)) == "not_open"
    assert comp.status(comp.terms.opens_at) == "open"
    assert comp.status(AFTER_DEADLINE) == "evaluation"
    three_bids(comp)
    comp.award(awarded_by=MANAGER, registry=registry(), now=AWARD_TIME)
    assert comp.status(utc(4, 16, month=6)) == "standstill"  # its last day
    assert comp.status(utc(5, 9, month=6)) == "awarded"  # over: it may be confirmed
    with pytest.raises(Conflict):
        comp.confirm(confirmed_by=MANAGER, now=utc(4, 16, month=6))
    comp.confirm(confirmed_by=MANAGER, now=utc(5, 9, month=6))
    assert comp.status(utc(5, 9, month=6)) == "confirmed"


def test_standstill_counts_from_the_council_s_date_not_utc():
    comp = competition()
    three_bids(comp)
    # 23:30 UTC on 22 May is 00:30 on Thursday 23 May in London: count from the 23rd.
    comp.award(awarded_by=MANAGER, registry=registry(), now=utc(22, 23, minute=30))
    assert comp.standstill_ends_on == date(2024, 6, 5)


# --- assessment summaries


def test_each_bidder_reads_its_own_scores_and_the_winner_s_with_reasons():
    comp = competition()
    three_bids(comp)
    with pytest.raises(Conflict):
        comp.assessment_summary(P2)
    comp.award(awarded_by=MANAGER, registry=registry(), now=AWARD_TIME)
    summary = comp.assessment_summary(P2)

    assert (summary.successful, summary.rank, summary.bids_ranked) == (False, 2, 3)
    assert (summary.quality, summary.price, summary.total) == (Decimal("47.00"), Decimal("40.00"), Decimal("87.00"))
    assert [(f.criterion, f.score, f.reason) for f in summary.scores] == [
        (EDUCATION, 5, "agreed 5 on quality of education"), (SAFEGUARDING, 4, "agreed 4 on safeguarding"),
        (OUTCOMES, 5, "agreed 5 on outcomes")]
    assert summary.scores[0].descriptor == "excellent: exceeds the requirement, with clear evidence"
    assert [(f.criterion, f.score) for f in summary.winner_scores] == [(EDUCATION, 4), (SAFEGUARDING, 4), (OUTCOMES, 3)]
    assert (summary.winner_quality, summary.winner_price, summary.winner_total) == (
        Decimal("38.00"), Decimal("50.00"), Decimal("88.00"))
    assert comp.assessment_summary(P1).successful
    with pytest.raises(NotFound):
        comp.assessment_summary(P4)  # invited, did not bid


def test_an_excluded_bidder_is_told_why():
    comp = competition()
    low, x = bid(comp, P3, 60_000), bid(comp, P1, 80_000)
    score_and_moderate(comp, low, {EDUCATION: 1, SAFEGUARDING: 2, OUTCOMES: 5})
    score_and_moderate(comp, x, {EDUCATION: 4, SAFEGUARDING: 4, OUTCOMES: 3})
    comp.award(awarded_by=MANAGER, registry=registry(), now=AWARD_TIME)
    summary = comp.assessment_summary(P3)
    assert summary.rank is None and summary.total is None
    assert summary.excluded == ("scored 1 on 'quality of education', below the minimum of 2",
                                "scored 2 on 'safeguarding', below the minimum of 3")
    assert comp.events[-1].reason.startswith("excluded: scored 1 on 'quality of education'")
    assert comp.events[-1].rank is None, "not eligible: no rank (a provider's message says so)"


# --- the block's places


def confirmed_contract():
    comp = competition()
    three_bids(comp)
    comp.award(awarded_by=MANAGER, registry=registry(), now=AWARD_TIME)
    return comp.confirm(confirmed_by=MANAGER, now=utc(5, 9, month=6), contract_id=UUID(int=700))


STANDING = {"standing": registry().on_lot(P1, 1), "places": PlacesInUse()}  # the winner's, on lot 1


def child(lot: int = 1, state: ReferralState = ReferralState.CLOSED, start=date(2024, 9, 9)) -> Referral:
    """A closed referral as awards keeps it: an opaque child_ref, never an identity."""
    return Referral(uuid4(), lot, Decimal(25), False, True, True, state, team="virtual_school", child_ref=uuid4(),
                    reason_for_ap="permanent exclusion", start_date=start, expected_weeks=30)


def test_places_are_allocated_to_referred_children_until_the_block_is_full():
    contract = confirmed_contract()
    first, second, third = child(), child(), child()
    contract.allocate_place(first, allocated_by=MANAGER, **STANDING, now=utc(1, 9, month=9))
    made = contract.allocate_place(second, allocated_by=MANAGER, **STANDING, now=utc(2, 9, month=9))
    assert contract.places_left == 0
    # the block price 80,000p over 2 places: each place costs 40,000p
    assert contract.events[-1] == BlockPlaceAllocated(
        UUID(int=700), made.allocation_id, made.placement_id, second.referral_id, P1, 1, "virtual_school",
        second.child_ref, "permanent exclusion", Decimal(25), date(2024, 9, 9), 30, 40_000, True, 0, MANAGER,
        utc(2, 9, month=9))
    with pytest.raises(Conflict) as refused:
        contract.allocate_place(third, allocated_by=MANAGER, **STANDING, now=utc(3, 9, month=9))
    assert refused.value.message == "all 2 places of this contract are taken"
    contract.release_place(first.referral_id)  # that placement ended
    contract.allocate_place(third, allocated_by=MANAGER, **STANDING, now=utc(4, 9, month=9))
    assert set(contract.allocations) == {second.referral_id, third.referral_id}


def test_a_place_starts_no_earlier_than_the_contract_and_within_it():
    contract = confirmed_contract()  # runs 1 September 2024 to 31 August 2025
    early = contract.allocate_place(child(start=date(2024, 7, 1)), allocated_by=MANAGER, **STANDING,
                                    now=utc(1, 9, month=7))
    assert early.start_date == date(2024, 9, 1)
    with pytest.raises(InvalidInput) as refused:
        contract.allocate_place(child(), allocated_by=MANAGER, **STANDING, now=utc(1, 9, month=9),
                                start_date=date(2025, 9, 2))
    assert refused.value.field == "start_date"


def test_a_place_is_refused_twice_to_one_referral_for_another_lot_after_the_contract_ends_or_if_cancelled():
    contract = confirmed_contract()
    one = child()
    contract.allocate_place(one, allocated_by=MANAGER, **STANDING, now=utc(1, 9, month=9))
    with pytest.raises(Conflict):
        contract.allocate_place(one, allocated_by=MANAGER, **STANDING, now=utc(2, 9, month=9))
    with pytest.raises(InvalidInput) as refused:
        contract.allocate_place(child(lot=2), allocated_by=MANAGER, **STANDING, now=utc(2, 9, month=9))
    assert refused.value.field == "referral_id"
    with pytest.raises(Conflict) as refused:
        contract.allocate_place(child(state=ReferralState.CANCELLED), allocated_by=MANAGER, **STANDING,
                                now=utc(2, 9, month=9))
    assert refused.value.field == "referral_id"
    with pytest.raises(Conflict):
        contract.allocate_place(child(), allocated_by=MANAGER, **STANDING, now=datetime(2025, 9, 1, 9, tzinfo=UTC))
    assert contract.places_left == 1


# --- presentation


@pytest.mark.parametrize("exact, shown", [
    (Fraction(1, 200), Decimal("0.01")),      # 0.005 rounds half up
    (Fraction(1, 201), Decimal("0.00")),
    (Fraction(200, 3), Decimal("66.67")),
    (Fraction(100, 3), Decimal("33.33")),
    (Fraction(85), Decimal("85.00")),
])
def test_scores_are_shown_to_two_places_rounding_halves_up(exact, shown):
    assert two_places(exact) == shown
