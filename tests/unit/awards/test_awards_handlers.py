"""Every use case of services/awards/handlers.py on the fake unit of work
(fakes.py): no database, no broker, the whole layer in about a second.  What
a use case publishes and audits is what the real unit of work would write,
through the same mapping (messages.translate); the API tests keep the HTTP
concerns (status codes, schemas, roles)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.awards import consumers, handlers
from shared.actor import Actor
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.unit.awards.fakes import FakeUnitOfWork, Store

NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)  # a Wednesday
EARLIER = NOW - timedelta(days=7)

OFFICER = Actor("officer-exclusions", frozenset({"officer"}), team="exclusions")
OTHER_OFFICER = Actor("officer-send", frozenset({"officer"}), team="send")
MANAGER = Actor("vls-manager", frozenset({"manager"}))
ALICE = Actor("evaluator-alice", frozenset({"evaluator"}))
BOB = Actor("evaluator-bob", frozenset({"evaluator"}))


def provider(provider_id: uuid.UUID) -> Actor:
    return Actor(f"provider-user-{provider_id}", frozenset({"provider"}), provider_id=provider_id)


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def uow(store):
    """A fresh unit of work on the same store, as each request gets."""
    def make(actor: Actor | None = None, at: datetime = NOW) -> FakeUnitOfWork:
        return FakeUnitOfWork(store, now=at, actor=actor)
    return make


# --- feeding the consumers' commands, through the consumers' own schemas


def feed(uow, type_: str, data: dict) -> FakeUnitOfWork:
    unit = uow()
    command = {"membership.admitted": (consumers.MembershipAdmitted, handlers.membership_admitted),
               "membership.suspended": (consumers.MembershipChanged, handlers.membership_changed),
               "pricing_schedule.effective": (consumers.PricingScheduleEffective, handlers.pricing_schedule_effective),
               "capacity.changed": (consumers.CapacityChanged, handlers.capacity_changed),
               "provider.registration_changed": (consumers.RegistrationChanged, handlers.registration_changed),
               "referral.closed": (consumers.ReferralClosed, handlers.referral_closed),
               "referral.cancelled": (consumers.ReferralCancelled, handlers.referral_cancelled),
               "placement.ended": (consumers.PlacementEnded, handlers.placement_ended)}[type_]
    schema, handle = command
    handle(unit, schema().load(data))
    unit.commit()
    return unit


def line_id(provider_id) -> str:
    return str(uuid.uuid5(provider_id, "group place per hour"))


def admit(uow, provider_id, lot: int = 2, *, maximum: int = 5000, capacity: int = 3,
          registration: str = "registered_school") -> None:
    feed(uow, "membership.admitted", {
        "provider_id": str(provider_id), "provider_name": "A provider", "lot": lot,
        "registration_status": registration, "capacity": capacity, "at": EARLIER.isoformat(),
        "pricing_lines": [{"pricing_line_id": line_id(provider_id), "description": "group place per hour",
                           "unit": "hour", "maximum_price_pence": maximum}]})


def offer(provider_id, unit_price: int, *, units="15", meets_needs=True) -> dict:
    return {"offer_id": str(uuid.uuid4()), "provider_id": str(provider_id), "pricing_line_id": line_id(provider_id),
            "unit_price_pence": unit_price, "units_per_week": units, "weeks": 12,
            "total_pence": int(unit_price * Decimal(units) * 12), "proposed_start": "2025-04-07",
            "submitted_at": EARLIER.isoformat(), "meets_needs": meets_needs}


def close(uow, referral_id, offers: list[dict], *, lot: int = 2, hours="15", team="exclusions", **facts) -> None:
    data = {"referral_id": str(referral_id), "lot": lot, "team": team, "child_ref": str(uuid.uuid4()),
            "reason_for_ap": "permanent_exclusion", "hours_per_week": hours, "ehcp": False, "looked_after": False,
            "start_date": "2025-04-07", "expected_weeks": 12, "offers": offers, "at": NOW.isoformat()}
    feed(uow, "referral.closed", {**data, **facts})


@pytest.fixture
def two_offers(uow):
    """A closed referral with a cheaper offer (A) and a dearer one (B)."""
    a, b, referral_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    admit(uow, a)
    admit(uow, b)
    cheap, dear = offer(a, 3000), offer(b, 3500)
    close(uow, referral_id, [cheap, dear], full_time=False)
    return referral_id, a, b, uuid.UUID(cheap["offer_id"]), uuid.UUID(dear["offer_id"])


# --- rank and award a call-off


def test_ranking_is_audited_and_publishes_nothing(uow, two_offers):
    referral_id, a, _b, cheap, dear = two_offers
    unit = uow(OFFICER)
    view = handlers.rank_referral(unit, OFFICER, referral_id)
    assert [e.offer.offer_id for e in view.ranking.entries] == [cheap, dear] and view.award is None
    assert unit.committed and unit.messages == [] and unit.audited() == ["ranking.made"]
    assert unit.audit[0].details["entries"][0]["rank"] == 1


def test_ranking_an_unknown_cancelled_or_other_teams_referral_is_refused(uow, two_offers):
    referral_id = two_offers[0]
    with pytest.raises(NotFound):
        handlers.rank_referral(uow(OFFICER), OFFICER, uuid.uuid4())
    with pytest.raises(Forbidden):
        handlers.rank_referral(uow(OTHER_OFFICER), OTHER_OFFICER, referral_id)
    feed(uow, "referral.cancelled", {"referral_id": str(referral_id), "reason": "moved", "at": NOW.isoformat()})
    unit = uow(OFFICER)
    with pytest.raises(Conflict):
        handlers.rank_referral(unit, OFFICER, referral_id)
    assert not unit.committed
    cancelled_first = uuid.uuid4()
    feed(uow, "referral.cancelled", {"referral_id": str(cancelled_first), "at": NOW.isoformat()})
    with pytest.raises(Conflict):  # heard of, never closed: nothing to rank
        handlers.rank_referral(uow(OFFICER), OFFICER, cancelled_first)


def test_award_of_the_top_offer_publishes_the_placement_and_tells_the_others(uow, two_offers):
    referral_id, a, b, cheap, dear = two_offers
    unit = uow(OFFICER)
    award = handlers.award_placement(unit, OFFICER, referral_id, cheap)

    assert unit.committed and award.offer.offer_id == cheap
    [placed] = unit.published("placement.awarded")
    assert (placed["provider_id"], placed["offer_id"], placed["full_time"]) == (str(a), str(cheap), False)
    [unsuccessful] = unit.published("offer.unsuccessful")
    assert unsuccessful["offer_id"] == str(dear) and unsuccessful["provider_id"] == str(b)
    [entry] = unit.audit
    assert entry.action == "placement.awarded" and entry.details["rank"] == 1 and entry.reason is None
    assert unit.registry.locked == [(a, 2)]  # the provider's places held while counted

    again = uow(MANAGER)
    with pytest.raises(Conflict):
        handlers.award_placement(again, MANAGER, referral_id, cheap)
    assert not again.committed and again.messages == []


def test_passing_over_the_top_offer_needs_a_published_criterion_and_words_which_are_audited(uow, two_offers):
    referral_id, _a, b, _cheap, dear = two_offers
    for code, words, field in ((None, "closer to home", "reason_code"), ("nearby", "closer to home", "reason_code"),
                               ("travel", " ", "reason")):
        refused = uow(OFFICER)
        with pytest.raises(InvalidInput) as error:
            handlers.award_placement(refused, OFFICER, referral_id, dear, reason=words, reason_code=code)
        assert error.value.field == field and not refused.committed
    unit = uow(OFFICER)
    award = handlers.award_placement(unit, OFFICER, referral_id, dear, reason="closer to home", reason_code="travel")
    assert award.override_reason == "closer to home" and award.override_reason_code == "travel"
    assert unit.audit[0].reason == "closer to home" and unit.audit[0].details["rank"] == 2
    assert unit.audit[0].details["override_reason_code"] == "travel"
    [awarded] = unit.published("placement.awarded")
    assert awarded["override_reason_code"] == "travel" and awarded["override_reason"] == "closer to home"
    [told] = unit.published("offer.unsuccessful")
    assert told["rank"] == 1 and told["winner_provider_id"] == str(b)
    assert told["reason"].endswith('the offer ranked 2 was awarded for the published award criterion "Travel": '
                                   'closer to home')


def test_only_the_referrals_team_or_the_manager_awards(uow, two_offers):
    referral_id, *_rest, cheap, _dear = two_offers
    with pytest.raises(Forbidden):
        handlers.award_placement(uow(OTHER_OFFICER), OTHER_OFFICER, referral_id, cheap)
    handlers.award_placement(uow(MANAGER), MANAGER, referral_id, cheap)


def test_offer_above_the_maximum_price_of_a_new_schedule_is_not_eligible(uow, two_offers):
    referral_id, a, _b, cheap, _dear = two_offers
    feed(uow, "pricing_schedule.effective", {
        "provider_id": str(a), "provider_name": "A provider", "lot": 2, "at": NOW.isoformat(),
        "pricing_lines": [{"pricing_line_id": line_id(a), "description": "group place per hour", "unit": "hour",
                           "maximum_price_pence": 2500}]})
    with pytest.raises(InvalidInput) as error:
        handlers.award_placement(uow(OFFICER), OFFICER, referral_id, cheap)
    assert "above the maximum price" in str(error.value)


def test_a_suspended_provider_cannot_be_awarded(uow, two_offers):
    referral_id, a, _b, cheap, _dear = two_offers
    feed(uow, "membership.suspended", {"provider_id": str(a), "provider_name": "A provider", "lot": 2,
                                       "status": "suspended", "reason": "a concern", "at": NOW.isoformat()})
    ranking = handlers.rank_referral(uow(OFFICER), OFFICER, referral_id).ranking
    assert [r.message for r in ranking.entry(cheap).reasons] == ["the provider is suspended on lot 2"]


def test_capacity_at_award_counts_places_in_use_until_tracking_says_they_ended(uow):
    a = uuid.uuid4()
    admit(uow, a, capacity=1)
    first, second = uuid.uuid4(), uuid.uuid4()
    first_offer, second_offer = offer(a, 3000), offer(a, 3000)
    close(uow, first, [first_offer])
    close(uow, second, [second_offer])
    award = handlers.award_placement(uow(OFFICER), OFFICER, first, uuid.UUID(first_offer["offer_id"]))
    with pytest.raises(InvalidInput) as error:
        handlers.award_placement(uow(OFFICER), OFFICER, second, uuid.UUID(second_offer["offer_id"]))
    assert "no place free" in str(error.value)
    feed(uow, "placement.ended", {"placement_id": str(award.placement_id), "provider_id": str(a), "lot": 2,
                                  "ended_on": "2025-07-18", "at": NOW.isoformat()})
    handlers.award_placement(uow(OFFICER), OFFICER, second, uuid.UUID(second_offer["offer_id"]))
    feed(uow, "capacity.changed", {"provider_id": str(a), "provider_name": "A", "lot": 2, "capacity": 5,
                                   "at": NOW.isoformat()})
    assert uow().registry.registry_for(2).on_lot(a, 2).capacity == 5


def test_the_registration_rule_counts_full_time_by_the_hours_and_school_age_as_referrals_decided_it(uow):
    setting = uuid.uuid4()
    admit(uow, setting, registration="unregistered")
    part_time, full_time, post16 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # referrals calls a lot-1 child full-time whatever the hours; the rule reads the hours (DPS_FULL_TIME_HOURS)
    close(uow, part_time, [offer(setting, 3000, units="10")], hours="10", full_time=True, ehcp=True)
    close(uow, full_time, [offer(setting, 3000, units="25")], hours="25", full_time=True, ehcp=True)
    close(uow, post16, [offer(setting, 3000, units="25")], hours="25", full_time=True, ehcp=True,
          compulsory_school_age=False)
    assert handlers.rank_referral(uow(OFFICER), OFFICER, part_time).ranking.entries[0].eligible
    assert handlers.rank_referral(uow(OFFICER), OFFICER, post16).ranking.entries[0].eligible
    [reason] = handlers.rank_referral(uow(OFFICER), OFFICER, full_time).ranking.entries[0].reasons
    assert "this child has an EHCP" in reason.message and ": law)" in reason.message
    feed(uow, "provider.registration_changed", {"provider_id": str(setting), "provider_name": "S",
                                                "registration_status": "registered_school", "urn": 100001,
                                                "at": NOW.isoformat()})
    assert handlers.rank_referral(uow(OFFICER), OFFICER, full_time).ranking.entries[0].eligible


def test_without_full_time_on_the_event_the_consumer_alone_falls_back_to_referrals_rule():
    schema = consumers.ReferralClosed()
    base = {"referral_id": str(uuid.uuid4()), "team": "exclusions", "child_ref": str(uuid.uuid4()),
            "reason_for_ap": "x", "ehcp": False, "looked_after": False, "start_date": "2025-04-07", "offers": [],
            "at": NOW.isoformat()}
    assert schema.load({**base, "lot": 2, "hours_per_week": 25})["full_time"] is True
    assert schema.load({**base, "lot": 1, "hours_per_week": 10})["full_time"] is True
    assert schema.load({**base, "lot": 2, "hours_per_week": 18})["full_time"] is False
    assert schema.load({**base, "lot": 2, "hours_per_week": 25, "full_time": False})["full_time"] is False


# --- mini-competitions


EDUCATION, SAFEGUARDING = "quality of education", "safeguarding"
ANSWERS = {EDUCATION: "our curriculum", SAFEGUARDING: "our lead"}
OPENS, DEADLINE = NOW - timedelta(days=1), NOW + timedelta(days=2)
AFTER = NOW + timedelta(days=3)  # Saturday 15 March 2025


def open_competition(uow, actor=OFFICER, **changes):
    unit = uow(actor)
    comp = handlers.create_opportunity(unit, actor, **{
        "title": "Block of places", "lot": 1, "places": 2, "contract_start": date(2025, 9, 1),
        "contract_end": date(2026, 7, 31), "opens_at": OPENS, "deadline": DEADLINE,
        "criteria": [{"name": EDUCATION, "weight": Decimal("0.6"), "minimum_score": 2},
                     {"name": SAFEGUARDING, "weight": Decimal("0.4")}], **changes})
    return comp, unit


@pytest.fixture
def bidders(uow):
    p1, p2, suspended = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for p in (p1, p2, suspended):
        admit(uow, p, lot=1)
    feed(uow, "membership.suspended", {"provider_id": str(suspended), "provider_name": "S", "lot": 1,
                                       "status": "suspended", "at": NOW.isoformat()})
    return p1, p2, suspended


def test_an_opportunity_invites_every_admitted_provider_but_not_a_suspended_one(uow, bidders):
    p1, p2, suspended = bidders
    comp, unit = open_competition(uow)
    assert comp.invited == {p1, p2} and comp.team == "exclusions"
    assert unit.committed and unit.audited() == ["opportunity.created"]
    (type_, data), = unit.messages  # every invited provider is told (notifications)
    assert (type_, set(data["invited_provider_ids"]), data["lot"]) == (
        "mini_competition.published", {str(p1), str(p2)}, 1)
    with pytest.raises(Forbidden):
        handlers.opportunity(uow(provider(suspended)), provider(suspended), comp.opportunity_id)
    with pytest.raises(InvalidInput):
        open_competition(uow, deadline=NOW - timedelta(minutes=1))
    with pytest.raises(InvalidInput):
        open_competition(uow, lot=3)  # no one admitted on lot 3
    with pytest.raises(InvalidInput):
        open_competition(uow, lot=True)  # True is no lot


def test_bids_are_sealed_audited_without_price_replaced_and_withdrawn(uow, bidders):
    p1, p2, suspended = bidders
    comp, _ = open_competition(uow)
    oid = comp.opportunity_id
    with pytest.raises(Forbidden):
        handlers.submit_bid(uow(provider(suspended)), provider(suspended), oid, 90_000, ANSWERS)
    unit = uow(provider(p1))
    first = handlers.submit_bid(unit, provider(p1), oid, 90_000, ANSWERS)
    assert unit.audited() == ["bid.submitted"] and "90000" not in str(unit.audit[0].details)
    again = handlers.submit_bid(uow(provider(p1)), provider(p1), oid, 80_000, ANSWERS)
    assert again.bid_id == first.bid_id and again.price_pence == 80_000
    assert handlers.bids_for(uow(provider(p1)), provider(p1), oid) == [again]
    with pytest.raises(Conflict):  # sealed until the deadline
        handlers.bids_for(uow(MANAGER), MANAGER, oid)
    with pytest.raises(NotFound):
        handlers.withdraw_bid(uow(provider(p2)), provider(p2), oid, first.bid_id)
    unit = uow(provider(p1))
    handlers.withdraw_bid(unit, provider(p1), oid, first.bid_id)
    assert unit.audited() == ["bid.withdrawn"]
    assert handlers.bids_for(uow(provider(p1)), provider(p1), oid) == []


def two_bids(uow, bidders):
    """A competition with no standstill, p1's bid the cheaper: (opportunity id, cheap bid, dear bid)."""
    p1, p2, _ = bidders
    comp, _ = open_competition(uow, standstill_working_days=0)
    oid = comp.opportunity_id
    cheap = handlers.submit_bid(uow(provider(p1)), provider(p1), oid, 80_000, ANSWERS)
    return oid, cheap, handlers.submit_bid(uow(provider(p2)), provider(p2), oid, 100_000, ANSWERS)


def test_scored_moderated_evaluated_awarded_confirmed_and_its_places_allocated(uow, bidders):
    p1, p2, _ = bidders
    oid, cheap, dear = two_bids(uow, bidders)
    assert len(handlers.bids_for(uow(MANAGER, AFTER), MANAGER, oid)) == 2
    with pytest.raises(Forbidden):
        handlers.score_bid(uow(MANAGER, AFTER), MANAGER, oid, cheap.bid_id, EDUCATION, 4)
    for evaluator in (ALICE, BOB):
        handlers.declare_interests(uow(evaluator, AFTER), evaluator, oid, conflict=False)
    for bid, score in ((cheap, 4), (dear, 3)):
        for name in (EDUCATION, SAFEGUARDING):
            unit = uow(ALICE, AFTER)
            handlers.score_bid(unit, ALICE, oid, bid.bid_id, name, score)
            assert unit.audited() == ["score.recorded"]
            handlers.score_bid(uow(BOB, AFTER), BOB, oid, bid.bid_id, name, score - 1)
            unit = uow(ALICE, AFTER)
            handlers.moderate_score(unit, ALICE, oid, bid.bid_id, name, score, "agreed")
            assert unit.audit[0].details["evaluator_scores"] == {ALICE.id: score, BOB.id: score - 1}
    assert len(handlers.scores_for(uow(ALICE, AFTER), ALICE, oid).evaluator_scores) == 4
    assert len(handlers.scores_for(uow(MANAGER, AFTER), MANAGER, oid).evaluator_scores) == 8
    _, evaluation = handlers.evaluation_of(uow(MANAGER, AFTER), oid)
    assert evaluation.winner.bid == cheap

    with pytest.raises(Forbidden):
        handlers.award_block_contract(uow(OTHER_OFFICER, AFTER), OTHER_OFFICER, oid)
    unit = uow(OFFICER, AFTER)
    awarded = handlers.award_block_contract(unit, OFFICER, oid)
    assert [t for t, _ in unit.messages] == ["block_contract.awarded", "offer.unsuccessful"]
    assert unit.audited() == ["block_contract.awarded"]
    # with no standstill, confirmation may follow on the day, and the status agrees
    assert awarded.status(AFTER) == "awarded"
    assert handlers.assessment_summary(uow(provider(p2), AFTER), provider(p2), oid, p2).rank == 2
    with pytest.raises(Forbidden):
        handlers.assessment_summary(uow(provider(p2), AFTER), provider(p2), oid, p1)

    unit = uow(OFFICER, AFTER)
    contract = handlers.confirm_block_contract(unit, OFFICER, oid)
    assert unit.published("block_contract.confirmed")[0]["contract_id"] == str(contract.contract_id)
    with pytest.raises(Conflict):
        handlers.confirm_block_contract(uow(OFFICER, AFTER), OFFICER, oid)
    assert handlers.block_contract(uow(provider(p1)), provider(p1), contract.contract_id) is contract
    with pytest.raises(Forbidden):
        handlers.block_contract(uow(provider(p2)), provider(p2), contract.contract_id)

    children = [uuid.uuid4() for _ in range(3)]
    for child in children:
        close(uow, child, [], lot=1, hours="25", full_time=True)
    for child in children[:2]:
        unit = uow(OFFICER, AFTER)
        _, allocation = handlers.allocate_block_place(unit, OFFICER, contract.contract_id, child)
        [placed] = unit.published("block_place.allocated")
        assert placed["full_time"] is True and placed["placement_id"] == str(allocation.placement_id)
        assert unit.audited() == ["block_place.allocated"]
    with pytest.raises(Conflict):
        handlers.allocate_block_place(uow(OFFICER, AFTER), OFFICER, contract.contract_id, children[0])
    with pytest.raises(Conflict, match="all 2 places"):
        handlers.allocate_block_place(uow(OFFICER, AFTER), OFFICER, contract.contract_id, children[2])


def test_a_referral_has_one_placement_an_award_or_a_block_place(uow, two_offers):
    referral_id, *_rest, cheap, _dear = two_offers
    with pytest.raises(NotFound):  # no such contract
        handlers.allocate_block_place(uow(OFFICER), OFFICER, uuid.uuid4(), referral_id)
    with pytest.raises(Conflict, match="no closed referral"):
        handlers.allocate_block_place(uow(OFFICER), OFFICER, uuid.uuid4(), uuid.uuid4())
    handlers.award_placement(uow(OFFICER), OFFICER, referral_id, cheap)
    with pytest.raises(Conflict, match="already been awarded"):
        handlers.allocate_block_place(uow(OFFICER), OFFICER, uuid.uuid4(), referral_id)


# --- who reads what


def test_team_scope_and_reading_one_record():
    assert handlers.team_scope(OFFICER) == "exclusions"
    assert handlers.team_scope(MANAGER, "send") == "send" and handlers.team_scope(MANAGER) is None
    with pytest.raises(Forbidden):
        handlers.team_scope(OFFICER, "send")
    handlers.ensure_may_read(OFFICER, team="exclusions", provider_id=None)
    with pytest.raises(Forbidden):
        handlers.ensure_may_read(OFFICER, team="send", provider_id=None)
    mine = uuid.uuid4()
    handlers.ensure_may_read(provider(mine), team="send", provider_id=mine)
    with pytest.raises(Forbidden):
        handlers.ensure_may_read(provider(mine), team="send", provider_id=uuid.uuid4())
