"""Awards' rules through its handlers on the fake unit of work, moved down
from the API tests (issue #14, item 3): the ranking's reasons, the award of a
call-off, and a mini-competition's evaluation, award, standstill,
confirmation and block places.  The API tests keep one refusal of each kind
for its status code and error body, and the roles."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.awards import handlers
from services.awards.domain import RegistrationRules
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.api.awards.awards_support import (
    ANSWERS,
    AWARDED,
    BIDDING,
    DEADLINE,
    EDUCATION,
    LAST_DAY_OF_STANDSTILL,
    OPENS,
    OUTCOMES,
    SAFEGUARDING,
    SCORING,
)
from tests.api.awards.awards_support import Competition as OverHttp
from tests.unit.awards.fakes import FakeUnitOfWork, Store
from tests.unit.awards.test_awards_handlers import (
    ALICE,
    BOB,
    EARLIER,
    NOW,
    OFFICER,
    OTHER_OFFICER,
    admit,
    close,
    feed,
    offer,
    provider,
)


def unit_of_work(store: Store, actor=None, at: datetime = NOW) -> FakeUnitOfWork:
    return FakeUnitOfWork(store, now=at, actor=actor)


def _suspend(store: Store, provider_id, lot: int = 2, at: datetime = NOW) -> None:
    feed(lambda: unit_of_work(store), "membership.suspended", {
        "provider_id": str(provider_id), "provider_name": "Renamed", "lot": lot, "status": "suspended",
        "reason": "a safeguarding concern", "at": at.isoformat()})


# --- the call-off of one referral (was tests/api/awards/test_awards_api_calloffs.py)


class Worked:
    """The API tests' worked referral (test_awards_api_calloffs.Worked) on the fakes: offers A and E
    eligible (A cheaper), B not meeting the needs, C above its maximum, D from a suspended provider."""

    def __init__(self, store: Store):
        self.store = store
        make = lambda: unit_of_work(store)  # noqa: E731
        self.referral_id = uuid.uuid4()
        self.a, self.b, self.c, self.d, self.e = (uuid.uuid4() for _ in range(5))
        for p in (self.a, self.b, self.d):
            admit(make, p)
        admit(make, self.c, maximum=3500)
        admit(make, self.e, registration="unregistered")
        _suspend(store, self.d, at=EARLIER + timedelta(hours=1))
        self.offers = {"A": offer(self.a, 4000), "B": offer(self.b, 3800, meets_needs=False),
                       "C": offer(self.c, 3600), "D": offer(self.d, 3000), "E": offer(self.e, 4200)}
        close(make, self.referral_id, list(self.offers.values()))

    def offer_id(self, name: str) -> uuid.UUID:
        return uuid.UUID(self.offers[name]["offer_id"])

    def award(self, name: str, actor=OFFICER, reason=None) -> tuple[FakeUnitOfWork, object]:
        unit = unit_of_work(self.store, actor)
        code = "continuity" if reason else None  # passing over the top offer: a published criterion, with words
        return unit, handlers.award_placement(unit, actor, self.referral_id, self.offer_id(name), reason=reason,
                                              reason_code=code)


@pytest.fixture
def worked() -> Worked:
    return Worked(Store())


def test_registration_rule_keeps_an_unregistered_setting_from_a_full_time_child_with_an_ehcp():
    store = Store()
    make = lambda: unit_of_work(store)  # noqa: E731
    school, setting, referral_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    admit(make, school)
    admit(make, setting, registration="unregistered")
    close(make, referral_id, [offer(school, 4000, units="25"), offer(setting, 3000, units="25")], hours="25",
          full_time=True, ehcp=True)
    entries = handlers.rank_referral(unit_of_work(store, OFFICER), OFFICER, referral_id).ranking.entries
    assert [e.offer.provider_id for e in entries if e.eligible] == [school]
    [refused] = [e for e in entries if not e.eligible]
    assert [r.message for r in refused.reasons] == [
        "this child has an EHCP: an unregistered setting may not educate full-time a pupil of compulsory school "
        "age who has an EHCP (the registration rule (Education Act 1996 s.463; Education and Skills Act 2008 "
        "s.92): law)"]
    # a council's stricter policy is reported as its policy, beside the law
    strict = RegistrationRules(unregistered_max_hours=Decimal(18))
    entries = handlers.rank_referral(unit_of_work(store, OFFICER), OFFICER, referral_id, strict).ranking.entries
    [refused] = [e for e in entries if not e.eligible]
    assert refused.reasons[0].message == (
        "an unregistered setting may not give a child of compulsory school age more than 18 hours a week "
        "(25 asked) (the council's limit on hours with an unregistered setting (DPS_UNREGISTERED_MAX_HOURS): "
        "the council's policy, not law)")


def test_an_award_the_registration_rule_refuses_is_a_409_and_nothing_is_stored_or_published():
    store = Store()
    make = lambda: unit_of_work(store)  # noqa: E731
    setting, referral_id = uuid.uuid4(), uuid.uuid4()
    admit(make, setting, registration="unregistered")
    only = offer(setting, 3000, units="12")
    close(make, referral_id, [only], hours="12", looked_after=True)
    unit = unit_of_work(store, OFFICER)
    policy = RegistrationRules(unregistered_max_hours=Decimal(10))
    with pytest.raises(Conflict, match="more than 10 hours a week.*the council's policy, not law") as refused:
        handlers.award_placement(unit, OFFICER, referral_id, uuid.UUID(only["offer_id"]), rules=policy)
    assert refused.value.field == "offer_id"
    assert not unit.committed and unit.messages == [] and store.placements == []
    # the law alone allows 12 hours with a looked-after child: not full-time
    handlers.award_placement(unit_of_work(store, OFFICER), OFFICER, referral_id, uuid.UUID(only["offer_id"]))
    assert len(store.placements) == 1


def test_every_other_provider_is_told_its_offer_was_unsuccessful_and_why(worked):
    unit, _ = worked.award("A")
    told = {d["offer_id"]: d for d in unit.published("offer.unsuccessful")}
    assert set(told) == {str(worked.offer_id(n)) for n in "BCDE"}
    assert told[str(worked.offer_id("E"))]["reason"] == (
        "ranked 2 of 2 eligible offers at the volume asked for (15 hours a week for 12 weeks); "
        "the offer ranked 1 was awarded as the best value")
    assert told[str(worked.offer_id("E"))]["rank"] == 2 and told[str(worked.offer_id("D"))]["rank"] is None
    assert told[str(worked.offer_id("D"))]["reason"] == "not eligible: the provider is suspended on lot 2"
    assert all(d["referral_id"] == str(worked.referral_id) and "opportunity_id" not in d for d in told.values())
    assert told[str(worked.offer_id("C"))]["provider_id"] == str(worked.c)


def test_another_eligible_offer_is_awarded_only_for_a_published_criterion_with_words(worked):
    for blank in (None, "", "   "):
        unit = unit_of_work(worked.store, OFFICER)
        with pytest.raises(InvalidInput) as refused:
            handlers.award_placement(unit, OFFICER, worked.referral_id, worked.offer_id("E"), reason=blank,
                                     reason_code="continuity")
        assert refused.value.field == "reason" and not unit.committed
    for code in (None, "", "closer to home"):  # not one of the DPS's published criteria
        unit = unit_of_work(worked.store, OFFICER)
        with pytest.raises(InvalidInput) as refused:
            handlers.award_placement(unit, OFFICER, worked.referral_id, worked.offer_id("E"),
                                     reason="the child's sibling attends there", reason_code=code)
        assert refused.value.field == "reason_code" and not unit.committed
    unit, award = worked.award("E", reason="the child's sibling attends there")
    assert (award.override_reason, award.override_reason_code) == ("the child's sibling attends there", "continuity")
    assert unit.published("placement.awarded")[0]["override_reason"] == "the child's sibling attends there"
    [entry] = unit.audit
    assert (entry.reason, entry.details["rank"], award.awarded_by) == (
        "the child's sibling attends there", 2, "officer-exclusions")


def test_award_of_an_offer_not_on_the_referral_is_refused(worked):
    unit = unit_of_work(worked.store, OFFICER)
    with pytest.raises(InvalidInput) as refused:
        handlers.award_placement(unit, OFFICER, worked.referral_id, uuid.uuid4())
    assert refused.value.field == "offer_id" and not unit.committed and unit.messages == []


def test_award_is_judged_on_the_registry_as_it_is_when_the_officer_presses(worked):
    ranking = handlers.rank_referral(unit_of_work(worked.store, OFFICER), OFFICER, worked.referral_id).ranking
    assert ranking.entries[0].offer.offer_id == worked.offer_id("A")
    _suspend(worked.store, worked.a)  # after the officer looked
    with pytest.raises(InvalidInput) as refused:
        worked.award("A")
    assert refused.value.field == "offer_id" and "the provider is suspended on lot 2" in str(refused.value)
    assert worked.award("E")[1].override_reason is None  # E is now top and needs no reason


def test_award_for_a_referral_that_is_not_closed_is_refused(worked):
    unit = unit_of_work(worked.store, OFFICER)
    with pytest.raises(Conflict) as unknown:
        handlers.award_placement(unit, OFFICER, uuid.uuid4(), worked.offer_id("A"))
    assert unknown.value.field == "referral_id"
    feed(lambda: unit_of_work(worked.store), "referral.cancelled", {
        "referral_id": str(worked.referral_id), "reason": "moved out of the borough", "at": NOW.isoformat()})
    unit = unit_of_work(worked.store, OFFICER)
    with pytest.raises(Conflict) as cancelled:
        handlers.award_placement(unit, OFFICER, worked.referral_id, worked.offer_id("A"))
    assert cancelled.value.field == "referral_id" and not unit.committed


# --- a mini-competition on lot 1 (was tests/api/awards/test_awards_api_competitions.py)

CRITERIA = [{"name": EDUCATION, "weight": Decimal("0.5"), "minimum_score": 2, "question": "Your curriculum?"},
            {"name": SAFEGUARDING, "weight": Decimal("0.3"), "minimum_score": 3},
            {"name": OUTCOMES, "weight": Decimal("0.2")}]


class Competition:
    """The API tests' competition (awards_support.Competition) on the fakes: P1, P2 and P3 admitted on
    lot 1 bid, and their scores are moderated; P3 falls below the minimum on safeguarding."""

    PRICES, AGREED = OverHttp.PRICES, OverHttp.AGREED

    def __init__(self, *, moderated: bool = True):
        self.store = Store()
        self.p1, self.p2, self.p3 = (uuid.uuid4() for _ in range(3))
        for p in (self.p1, self.p2, self.p3):
            admit(lambda: unit_of_work(self.store), p, lot=1, capacity=10)
        self.id = handlers.create_opportunity(
            self.uow(OFFICER), OFFICER, title="Full-time places", lot=1, places=2,
            contract_start=date(2025, 9, 1), contract_end=date(2026, 8, 31), opens_at=OPENS, deadline=DEADLINE,
            criteria=CRITERIA).opportunity_id
        self.bids = {name: handlers.submit_bid(self.uow(provider(getattr(self, name)), BIDDING),
                                               provider(getattr(self, name)), self.id, price, ANSWERS).bid_id
                     for name, price in self.PRICES.items()}
        for evaluator in (ALICE, BOB):  # each declares no conflict of interest before scoring
            handlers.declare_interests(self.uow(evaluator, SCORING), evaluator, self.id, conflict=False)
        if moderated:
            for name, scores in self.AGREED.items():
                for criterion, agreed in zip((EDUCATION, SAFEGUARDING, OUTCOMES), scores, strict=True):
                    self.score(name, criterion, agreed)
                    self.score(name, criterion, max(agreed - 1, 0), BOB)
                    handlers.moderate_score(self.uow(ALICE, SCORING), ALICE, self.id, self.bids[name], criterion,
                                            agreed, "agreed at moderation")

    def uow(self, actor=None, at: datetime = NOW) -> FakeUnitOfWork:
        return unit_of_work(self.store, actor, at)

    def score(self, name, criterion, value, evaluator=ALICE):
        handlers.score_bid(self.uow(evaluator, SCORING), evaluator, self.id, self.bids[name], criterion, value)

    def award(self, actor=OFFICER) -> FakeUnitOfWork:
        unit = self.uow(actor, AWARDED)
        handlers.award_block_contract(unit, actor, self.id)
        return unit

    def confirm(self, when: datetime, actor=OFFICER):
        return handlers.confirm_block_contract(self.uow(actor, when), actor, self.id)


def test_weights_not_summing_to_1_are_refused_with_the_sum():
    comp = Competition(moderated=False)
    with pytest.raises(InvalidInput) as refused:
        handlers.create_opportunity(comp.uow(OFFICER), OFFICER, title="t", lot=1, places=2,
                                    contract_start=date(2025, 9, 1), contract_end=date(2026, 8, 31),
                                    opens_at=OPENS, deadline=DEADLINE,
                                    criteria=[{"name": EDUCATION, "weight": Decimal("0.5")},
                                              {"name": SAFEGUARDING, "weight": Decimal("0.4")}])
    assert refused.value.field_errors["criteria"] == ["the weights sum to 0.9, not 1"]


def test_evaluation_excludes_bids_below_a_minimum_then_scores_quality_and_price():
    comp = Competition()
    _, evaluation = handlers.evaluation_of(comp.uow(OFFICER, SCORING), comp.id)
    # quality = 50 x sum(w x s / 5);  price = 50 x lowest / bid (lowest of the bids kept: 8,000,000)
    # P1: 50 x (0.5x4 + 0.3x4 + 0.2x3)/5 = 50 x 0.76 = 38;  50 x 8/8  = 50;  total 88
    # P2: 50 x (0.5x5 + 0.3x4 + 0.2x5)/5 = 50 x 0.94 = 47;  50 x 8/10 = 40;  total 87
    # P3: safeguarding 2 < 3 -> excluded before price is scored
    assert [(r.bid.provider_id, r.quality, r.price, r.total, r.rank) for r in evaluation.results] == [
        (comp.p1, 38, 50, 88, 1), (comp.p2, 47, 40, 87, 2), (comp.p3, None, None, None, None)]
    assert list(evaluation.results[2].excluded) == ["scored 2 on 'safeguarding', below the minimum of 3"]
    assert evaluation.lowest_price_pence == 8_000_000


def test_award_goes_to_the_top_bid_starts_the_standstill_and_tells_the_others():
    comp = Competition()
    unit = comp.award()
    [awarded] = unit.published("block_contract.awarded")
    assert {k: awarded[k] for k in ("opportunity_id", "provider_id", "lot", "places", "contract_start",
                                    "contract_end", "price_pence", "standstill_ends_on", "at")} == {
        "opportunity_id": str(comp.id), "provider_id": str(comp.p1), "lot": 1, "places": 2,
        "contract_start": "2025-09-01", "contract_end": "2026-08-31", "price_pence": 8_000_000,
        "standstill_ends_on": LAST_DAY_OF_STANDSTILL, "at": AWARDED.isoformat()}
    told = {d["bid_id"]: d for d in unit.published("offer.unsuccessful")}
    assert set(told) == {str(comp.bids["p2"]), str(comp.bids["p3"])}
    assert told[str(comp.bids["p2"])]["reason"] == "ranked 2 of 2 with a total of 87.00"
    assert told[str(comp.bids["p3"])]["reason"].startswith("excluded: scored 2 on 'safeguarding'")
    assert all(d["opportunity_id"] == str(comp.id) for d in told.values())
    assert "block_contract.awarded" in unit.audited()
    with pytest.raises(Conflict):
        comp.award()


def test_award_needs_every_moderated_score_and_the_service_area():
    comp = Competition(moderated=False)
    unit = comp.uow(OFFICER, AWARDED)
    with pytest.raises(Conflict):
        handlers.award_block_contract(unit, OFFICER, comp.id)
    assert not unit.committed
    for someone in (OTHER_OFFICER, ALICE):
        with pytest.raises(Forbidden):
            comp.award(someone)


def test_contract_is_confirmed_only_after_the_standstill():
    comp = Competition()
    comp.award()
    unit = comp.uow(OFFICER, datetime(2025, 4, 8, 16, 0, tzinfo=UTC))
    with pytest.raises(Conflict) as refused:
        handlers.confirm_block_contract(unit, OFFICER, comp.id)
    assert LAST_DAY_OF_STANDSTILL in refused.value.message and not unit.committed
    unit = comp.uow(OFFICER, datetime(2025, 4, 9, 9, 0, tzinfo=UTC))
    contract = handlers.confirm_block_contract(unit, OFFICER, comp.id)
    assert (contract.provider_id, contract.places, contract.places_left, contract.price_pence) == (
        comp.p1, 2, 2, 8_000_000)
    [confirmed] = unit.published("block_contract.confirmed")
    assert (confirmed["contract_id"], confirmed["opportunity_id"]) == (str(contract.contract_id), str(comp.id))
    opportunity = handlers.opportunity(comp.uow(OFFICER), OFFICER, comp.id)
    assert opportunity.status(datetime(2025, 4, 9, 9, 0, tzinfo=UTC)) == "confirmed"
    with pytest.raises(Conflict):
        comp.confirm(datetime(2025, 4, 10, 9, 0, tzinfo=UTC))


def test_summaries_are_given_only_once_awarded():
    comp = Competition()
    with pytest.raises(Conflict):
        handlers.assessment_summary(comp.uow(provider(comp.p2)), provider(comp.p2), comp.id, comp.p2)


def test_block_places_are_refused_beyond_the_block_twice_or_to_another_team():
    comp = Competition()
    comp.award()
    contract_id = comp.confirm(datetime(2025, 4, 9, 9, 0, tzinfo=UTC)).contract_id
    make = lambda: comp.uow()  # noqa: E731
    first, second, third, other_lot, other_team = (uuid.uuid4() for _ in range(5))
    for referral_id in (first, second, third):
        close(make, referral_id, [], lot=1)
    close(make, other_lot, [], lot=2)
    close(make, other_team, [], lot=1, team="send")

    def allocate(referral_id, **extra):
        unit = comp.uow(OFFICER)
        handlers.allocate_block_place(unit, OFFICER, contract_id, referral_id, **extra)
        return unit

    allocate(first)
    for referral_id, refusal, field in ((first, Conflict, "referral_id"), (other_lot, InvalidInput, "referral_id"),
                                        (other_team, Forbidden, None), (uuid.uuid4(), Conflict, "referral_id")):
        with pytest.raises(refusal) as refused:
            allocate(referral_id)
        assert field is None or refused.value.field == field, referral_id
    with pytest.raises(InvalidInput) as outside:
        allocate(second, start_date=date(2026, 9, 1))
    assert outside.value.field == "start_date"
    with pytest.raises(NotFound):
        handlers.allocate_block_place(comp.uow(OFFICER), OFFICER, uuid.uuid4(), second)
    assert len(comp.store.block_places) == 1
    allocate(second)
    with pytest.raises(Conflict) as full:
        allocate(third)
    assert full.value.message == "all 2 places of this contract are taken"
