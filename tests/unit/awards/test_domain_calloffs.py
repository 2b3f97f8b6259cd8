"""Call-offs: ranking a closed referral's offers, and awarding one."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from services.awards.domain import (
    STATUTORY_END_RULE,
    AwardCriterion,
    CallOff,
    DpsRecord,
    MembershipStatus,
    NoEligibleOffers,
    Offer,
    OfferUnsuccessful,
    PlacementAwarded,
    PlacesInUse,
    ProviderOnLot,
    Pupil,
    Referral,
    ReferralState,
    Registry,
    Rule,
    SettingKind,
    Volume,
    cost_at_volume,
    rank_offers,
    reasons_against,
)
from shared.errors import Conflict, InvalidInput

NOW = datetime(2024, 4, 29, 12, 0, tzinfo=UTC)
DPS = DpsRecord.first(date(2029, 2, 23))
OFFICER = "officer-1"  # the token subject
ADMITTED, SUSPENDED, REMOVED = MembershipStatus.ADMITTED, MembershipStatus.SUSPENDED, MembershipStatus.REMOVED
SCHOOL, UNREGISTERED = SettingKind.REGISTERED_SCHOOL, SettingKind.UNREGISTERED


def uid(n: int) -> UUID:
    """Readable fixed ids: uid(1) < uid(2) < ..."""
    return UUID(int=n)


def at(hour: int, minute: int = 0, day: int = 22) -> datetime:
    return datetime(2024, 4, day, hour, minute, tzinfo=UTC)


NINE_AM = at(9)


CHILD = uid(950)


def referral(hours="15", ehcp=False, looked_after=False, full_time=False, lot=2,
             state=ReferralState.CLOSED) -> Referral:
    return Referral(uid(900), lot, Decimal(hours), ehcp, looked_after, full_time, state, team="exclusions",
                    child_ref=CHILD, reason_for_ap="permanent exclusion")


def standing(provider: UUID, line: UUID, maximum: int, capacity=2, membership=ADMITTED,
             registration=SCHOOL, lot=2) -> ProviderOnLot:
    return ProviderOnLot(provider, lot, membership, registration, {line: maximum}, capacity)


def offer(n: int, provider: UUID, line: UUID, unit: int, units="15", weeks=12, start=date(2024, 5, 6),
          submitted=NINE_AM, meets=True) -> Offer:
    total = int(unit * Decimal(units) * weeks)
    return Offer(uid(n), provider, line, unit, Decimal(units), weeks, total, start, submitted, meets,
                 "" if meets else "no experience of the child's primary need")


# --- the worked example: seven offers on one part-time referral (lot 2, 15 hours, 12 weeks)

A, B, C, D, E, F, G = (uid(i) for i in range(101, 108))  # providers
LINE = {p: uid(200 + i) for i, p in enumerate((A, B, C, D, E, F, G))}


def worked_registry() -> Registry:
    return Registry.of([
        standing(A, LINE[A], 5000, capacity=3),
        standing(B, LINE[B], 4000, capacity=2, registration=UNREGISTERED),
        standing(C, LINE[C], 4000, capacity=2),                 # both places in use
        standing(D, LINE[D], 4000, membership=SUSPENDED),
        standing(E, LINE[E], 3000),
        standing(F, LINE[F], 4000),
        standing(G, LINE[G], 5000),
    ])


WORKED_PLACES = PlacesInUse(active={(A, 2): 1, (C, 2): 2})


def worked_offers() -> list[Offer]:
    return [
        offer(1, A, LINE[A], 4500, submitted=at(10)),                   # 4500 x 15 x 12 = 810,000
        offer(2, B, LINE[B], 4000, start=date(2024, 5, 13)),            # 4000 x 15 x 12 = 720,000, starts 13 May
        offer(3, C, LINE[C], 3000),                                     # 540,000 but no place free
        offer(4, D, LINE[D], 2500),                                     # 450,000 but suspended
        offer(5, E, LINE[E], 3200, meets=False, submitted=at(11)),      # 576,000; two reasons
        offer(6, F, LINE[F], 4000, submitted=at(16)),                   # 720,000, starts 6 May
        offer(7, G, LINE[G], 4500, submitted=at(8)),                    # 810,000, 6 May, sent 08:00
    ]


def test_worked_example_ranks_eligible_offers_by_total_then_start_then_submission():
    ranking = rank_offers(referral(), worked_offers(), worked_registry(), WORKED_PLACES, NOW)

    # Eligible: F and B both 720,000 -> F starts 6 May, before B's 13 May (F submitted later: start wins).
    # Then G and A both 810,000 starting 6 May -> G was submitted at 08:00, A at 10:00.
    assert [(e.offer.offer_id, e.rank) for e in ranking.eligible] == [
        (uid(6), 1), (uid(2), 2), (uid(7), 3), (uid(1), 4)]
    assert ranking.top.offer.provider_id == F
    # The cheaper offers are all ineligible, listed after, unranked, in submission order.
    assert [(e.offer.offer_id, e.rank) for e in ranking.entries[4:]] == [(uid(3), None), (uid(4), None),
                                                                         (uid(5), None)]


def test_worked_example_gives_every_reason_an_offer_is_not_eligible():
    ranking = rank_offers(referral(), worked_offers(), worked_registry(), WORKED_PLACES, NOW)
    reasons = {e.offer.offer_id: [(r.rule, r.message) for r in e.reasons] for e in ranking.entries}

    assert reasons[uid(3)] == [(Rule.CAPACITY, "no place free: capacity 2, 2 in use")]
    assert reasons[uid(4)] == [(Rule.MEMBERSHIP, "the provider is suspended on lot 2")]
    assert reasons[uid(5)] == [
        (Rule.MEETS_NEEDS, "does not meet the child's needs: no experience of the child's primary need"),
        (Rule.PRICE, "above the maximum price of 3000 pence for this line"),
    ]
    assert all(reasons[uid(n)] == [] for n in (1, 2, 6, 7))


def test_offer_above_maximum_price_is_refused_and_at_the_maximum_is_allowed():
    registry = Registry.of([standing(A, LINE[A], 5000)])
    assert reasons_against(offer(1, A, LINE[A], 5000), referral(), registry, PlacesInUse()) == ()
    [reason] = reasons_against(offer(1, A, LINE[A], 5001), referral(), registry, PlacesInUse())
    assert reason.rule is Rule.PRICE and "5000 pence" in reason.message


def test_offer_on_a_pricing_line_not_in_the_schedule_is_refused():
    registry = Registry.of([standing(A, LINE[A], 5000)])
    [reason] = reasons_against(offer(1, A, uid(999), 100), referral(), registry, PlacesInUse())
    assert reason.rule is Rule.PRICE and "not in the provider's pricing schedule" in reason.message


@pytest.mark.parametrize("membership, words", [(SUSPENDED, "suspended on lot 2"), (REMOVED, "removed from lot 2")])
def test_provider_suspended_or_removed_on_the_lot_is_not_eligible(membership, words):
    registry = Registry.of([standing(A, LINE[A], 5000, membership=membership)])
    [reason] = reasons_against(offer(1, A, LINE[A], 4000), referral(), registry, PlacesInUse())
    assert reason.rule is Rule.MEMBERSHIP and words in reason.message


def test_provider_not_on_the_lot_is_not_eligible():
    registry = Registry.of([standing(A, LINE[A], 5000, lot=1)])
    reasons = reasons_against(offer(1, A, LINE[A], 4000), referral(lot=2), registry, PlacesInUse())
    assert [r.message for r in reasons] == ["the provider is not a member of lot 2"]


def test_offer_not_yet_assessed_is_not_eligible():
    registry = Registry.of([standing(A, LINE[A], 5000)])
    unassessed = Offer(uid(1), A, LINE[A], 4000, Decimal(15), 12, 720_000, date(2024, 5, 6), at(9), None)
    [reason] = reasons_against(unassessed, referral(), registry, PlacesInUse())
    assert reason.rule is Rule.MEETS_NEEDS


def test_last_free_place_is_eligible_and_none_free_is_not():
    registry = Registry.of([standing(A, LINE[A], 5000, capacity=3)])
    assert reasons_against(offer(1, A, LINE[A], 4000), referral(), registry,
                           PlacesInUse(active={(A, 2): 2})) == ()
    [reason] = reasons_against(offer(1, A, LINE[A], 4000), referral(), registry,
                               PlacesInUse(active={(A, 2): 3}))
    assert reason.rule is Rule.CAPACITY
    # Places in use on another lot do not count against this lot's capacity.
    assert reasons_against(offer(1, A, LINE[A], 4000), referral(), registry,
                           PlacesInUse(active={(A, 1): 9})) == ()


# --- the registration rule (unregistered settings): its boundaries are in test_domain_registration_rule.py;
# here, that a call-off asks it


def registration_reasons(ref: Referral, registration=UNREGISTERED, full_time_children=0) -> list[str]:
    registry = Registry.of([standing(B, LINE[B], 9000, capacity=10, registration=registration)])
    places = PlacesInUse(pupils={B: (Pupil(Decimal(25), True),) * full_time_children})
    return [r.message for r in reasons_against(offer(1, B, LINE[B], 4000), ref, registry, places)
            if r.rule is Rule.REGISTRATION]


def test_unregistered_setting_may_take_a_child_for_18_and_a_half_hours_when_the_law_allows():
    assert registration_reasons(referral(hours="18.5")) == []  # no stricter council policy by default


def test_unregistered_setting_may_not_educate_full_time_a_child_with_an_ehcp_naming_the_law():
    [reason] = registration_reasons(referral(hours="18.5", full_time=True, ehcp=True))
    assert "has an EHCP" in reason and "Education Act 1996 s.463" in reason and reason.endswith(": law)")


def test_unregistered_setting_may_take_a_fourth_full_time_child_but_not_a_fifth():
    full_time = referral(hours="25", full_time=True)
    assert registration_reasons(full_time, full_time_children=3) == []
    [reason] = registration_reasons(full_time, full_time_children=4)
    assert "would educate 5 pupils of compulsory school age full-time" in reason


def test_registered_school_is_not_limited_by_the_registration_rule():
    ref = referral(hours="25", full_time=True, ehcp=True, looked_after=True)
    assert registration_reasons(ref, registration=SCHOOL, full_time_children=30) == []


def test_an_offer_the_registration_rule_refuses_is_a_409_naming_the_law_and_nothing_is_awarded():
    call_off = CallOff(referral(hours="25", full_time=True, looked_after=True), [offer(1, B, LINE[B], 4000)])
    registry = Registry.of([standing(B, LINE[B], 9000, capacity=10, registration=UNREGISTERED)])
    with pytest.raises(Conflict) as refused:
        call_off.award(uid(1), awarded_by="officer-1", registry=registry, places=PlacesInUse(), now=NOW,
                       dps=DPS)
    assert refused.value.field == "offer_id"
    assert "is looked after" in refused.value.message and ": law)" in refused.value.message
    assert call_off.award_made is None and call_off.events == []


# --- the award


def worked_call_off(state=ReferralState.CLOSED) -> CallOff:
    return CallOff(referral(state=state), worked_offers())


def award(call_off: CallOff, offer_id: UUID, reason=None, registry=None, places=WORKED_PLACES, code=None,
          now=NOW, dps=DPS):
    return call_off.award(offer_id, awarded_by=OFFICER, registry=registry or worked_registry(),
                          places=places, now=now, dps=dps, reason=reason, reason_code=code)


def test_officer_awards_the_top_offer_and_the_award_keeps_its_ranking():
    call_off = worked_call_off()
    made = award(call_off, uid(6))

    assert made.offer.offer_id == uid(6) and made.override_reason is None
    assert made.ranking == rank_offers(referral(), worked_offers(), worked_registry(), WORKED_PLACES, NOW)
    assert made.ranking.made_at == NOW
    assert call_off.award_made is made and call_off.version == 1


def test_award_records_placement_awarded_and_tells_every_other_provider():
    call_off = worked_call_off()
    made = award(call_off, uid(6))

    awarded, *unsuccessful = call_off.events
    assert awarded == PlacementAwarded(
        made.award_id, made.placement_id, uid(900), uid(6), F, 2, "exclusions", CHILD, "permanent exclusion",
        LINE[F], 4000, Decimal(15), Decimal(15), 12, 720_000, date(2024, 5, 6), False, None, OFFICER, NOW)
    assert made.placement_id != made.award_id
    assert all(isinstance(e, OfferUnsuccessful) and e.referral_id == uid(900) for e in unsuccessful)
    told = {e.offer_id: e.reason for e in unsuccessful}
    assert set(told) == {uid(n) for n in (1, 2, 3, 4, 5, 7)}
    assert told[uid(2)] == ("ranked 2 of 4 eligible offers at the volume asked for (15 hours a week for 12 weeks); "
                            "the offer ranked 1 was awarded as the best value")
    ranks = {e.offer_id: (e.rank, e.winner_provider_id) for e in unsuccessful}
    assert ranks[uid(2)] == (2, F) and ranks[uid(3)] == (None, F)
    assert told[uid(3)] == "not eligible: no place free: capacity 2, 2 in use"


def test_another_eligible_offer_may_be_awarded_for_a_published_criterion_with_words():
    call_off = worked_call_off()
    made = award(call_off, uid(7), reason="  the child's sibling attends this provider's other site  ",
                 code="continuity")
    assert made.offer.offer_id == uid(7)
    assert made.override_reason == "the child's sibling attends this provider's other site"
    assert made.override_reason_code == "continuity"
    assert call_off.events[0].override_reason == made.override_reason
    assert call_off.events[0].override_reason_code == "continuity"
    told = {e.offer_id: e.reason for e in call_off.events[1:]}
    assert told[uid(6)].endswith("the offer ranked 3 was awarded for the published award criterion \"Continuity\": "
                                 "the child's sibling attends this provider's other site")


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_award_of_another_offer_without_words_is_refused(reason):
    call_off = worked_call_off()
    with pytest.raises(InvalidInput) as refused:
        award(call_off, uid(2), reason=reason, code="travel")
    assert refused.value.field == "reason"
    assert call_off.award_made is None and call_off.events == []


@pytest.mark.parametrize("code", [None, "", "closer to home", "Travel"])
def test_award_of_another_offer_for_a_criterion_the_dps_did_not_publish_is_refused(code):
    call_off = worked_call_off()
    with pytest.raises(InvalidInput) as refused:
        award(call_off, uid(2), reason="the child's sibling attends there", code=code)
    assert refused.value.field == "reason_code"
    assert "value, travel, continuity, specialism, start" in refused.value.message
    assert "PCR 2015 regulation 34" in refused.value.message and "(law)" in refused.value.message
    assert call_off.award_made is None and call_off.events == []


def test_a_criterion_published_by_another_dps_is_no_reason_under_this_one():
    narrow = replace(DPS, award_criteria=(AwardCriterion("value", "Value"),))
    with pytest.raises(InvalidInput) as refused:
        award(worked_call_off(), uid(2), reason="near home", code="travel", dps=narrow)
    assert refused.value.field == "reason_code"


# --- the DPS's last day


def test_a_call_off_may_be_awarded_on_the_day_of_the_statutory_end_but_not_the_day_after():
    last_day = datetime(2029, 2, 23, 16, 0, tzinfo=UTC)
    assert award(worked_call_off(), uid(6), now=last_day).offer.offer_id == uid(6)
    call_off = worked_call_off()
    with pytest.raises(Conflict) as refused:
        award(call_off, uid(6), now=datetime(2029, 2, 24, 9, 0, tzinfo=UTC))
    assert "2029-02-23" in refused.value.message and STATUTORY_END_RULE in refused.value.message
    assert call_off.award_made is None and call_off.events == []


def test_the_statutory_end_is_the_councils_day_not_utcs():
    # 23:30 UTC on 23 February is still 23 February in London (GMT).
    award(worked_call_off(), uid(6), now=datetime(2029, 2, 23, 23, 30, tzinfo=UTC))


# --- like for like: every offer costed at the volume the referral asked for


def long_referral(**changes) -> Referral:
    return replace(referral(), expected_weeks=38, **changes)


def test_a_ten_week_offer_does_not_beat_a_thirty_eight_week_offer_at_a_lower_unit_price():
    short = offer(1, A, LINE[A], 4100, weeks=10)   # own total 615,000
    full = offer(2, F, LINE[F], 4000, weeks=38)    # own total 2,280,000
    ranking = rank_offers(long_referral(), [short, full], worked_registry(), PlacesInUse(), NOW)
    assert ranking.volume == Volume(Decimal(15), 38)
    assert [(e.offer.offer_id, e.rank, e.cost_pence) for e in ranking.eligible] == [
        (uid(2), 1, 4000 * 15 * 38), (uid(1), 2, 4100 * 15 * 38)]


def test_at_the_same_unit_price_a_shorter_offer_only_ties_and_the_tie_goes_by_start_then_submission():
    short = offer(1, A, LINE[A], 4000, weeks=10, submitted=at(10))
    full = offer(2, F, LINE[F], 4000, weeks=38, submitted=at(9))
    ranking = rank_offers(long_referral(), [short, full], worked_registry(), PlacesInUse(), NOW)
    assert [e.cost_pence for e in ranking.eligible] == [2_280_000, 2_280_000]
    assert ranking.top.offer.offer_id == uid(2)  # submitted first, not cheaper for being shorter
    later_start = offer(2, F, LINE[F], 4000, weeks=38, submitted=at(9), start=date(2024, 5, 7))
    assert rank_offers(long_referral(), [short, later_start], worked_registry(), PlacesInUse(),
                       NOW).top.offer.offer_id == uid(1)


def test_an_hourly_offer_of_fewer_hours_is_costed_at_the_hours_asked_for():
    fewer = offer(1, A, LINE[A], 4000, units="10")  # 10 hours of a 15-hour referral
    assert cost_at_volume(fewer, Volume(Decimal(15), 12), "hour") == 4000 * 15 * 12
    assert cost_at_volume(fewer, Volume(Decimal(15), 12), "session") == 4000 * 10 * 12  # sessions as offered
    assert cost_at_volume(offer(2, A, LINE[A], 3333, units="7.5"), Volume(Decimal("7.5"), 1), "week") == 24998


def test_a_referral_without_a_length_is_costed_at_the_longest_offer():
    short, full = offer(1, A, LINE[A], 4000, weeks=10), offer(2, F, LINE[F], 4100, weeks=38)
    ranking = rank_offers(referral(), [short, full], worked_registry(), PlacesInUse(), NOW)
    assert ranking.volume == Volume(Decimal(15), 38) and ranking.top.offer.offer_id == uid(1)


# --- no eligible offer: the officer is told, to move the child on


def test_ranking_with_no_eligible_offer_records_that_for_the_officer():
    call_off = CallOff(referral(), [offer(3, C, LINE[C], 3000), offer(5, E, LINE[E], 3200, meets=False)])
    call_off.rank(worked_registry(), WORKED_PLACES, NOW)
    _made, none = call_off.events
    assert isinstance(none, NoEligibleOffers) and none.referral_id == uid(900) and none.at == NOW
    assert none.offers[0] == (uid(3), C, ("no place free: capacity 2, 2 in use",))
    busy = CallOff(referral(), worked_offers())
    busy.rank(worked_registry(), WORKED_PLACES, NOW)
    assert len(busy.events) == 1  # eligible offers: nothing to tell


def test_award_of_an_ineligible_offer_is_refused_with_every_reason_listed():
    with pytest.raises(InvalidInput) as refused:
        award(worked_call_off(), uid(5), reason="the officer prefers it")
    assert refused.value.field == "offer_id"
    assert refused.value.field_errors == {"offer_id": [
        "does not meet the child's needs: no experience of the child's primary need",
        "above the maximum price of 3000 pence for this line",
    ]}
    assert refused.value.to_dict()["code"] == 422


def test_award_of_an_offer_not_on_the_referral_is_refused():
    with pytest.raises(InvalidInput) as refused:
        award(worked_call_off(), uid(99))
    assert refused.value.field == "offer_id"


def test_award_is_judged_on_the_registry_as_it_is_at_award_time():
    # F was top when the officer looked; F is suspended before the officer presses award.
    registry = Registry.of([e if e.provider_id != F else standing(F, LINE[F], 4000, membership=SUSPENDED)
                            for e in worked_registry().entries])
    with pytest.raises(InvalidInput) as refused:
        award(worked_call_off(), uid(6), registry=registry)
    assert refused.value.field_errors["offer_id"] == ["the provider is suspended on lot 2"]
    # B is now the top offer and needs no reason.
    assert award(worked_call_off(), uid(2), registry=registry).override_reason is None


@pytest.mark.parametrize("state", [ReferralState.PUBLISHED, ReferralState.CANCELLED])
def test_award_for_a_referral_not_closed_is_refused(state):
    with pytest.raises(Conflict) as refused:
        award(worked_call_off(state=state), uid(6))
    assert refused.value.field == "referral_id"


def test_second_award_for_a_referral_is_refused():
    call_off = worked_call_off()
    award(call_off, uid(6))
    with pytest.raises(Conflict) as refused:
        award(call_off, uid(2), reason="another officer's choice")
    assert refused.value.status == 409
    assert call_off.award_made.offer.offer_id == uid(6) and call_off.version == 1


def test_the_registration_rule_reads_full_time_from_the_hours_not_the_lot():
    # referrals calls a lot-1 child full-time whatever the hours (the sixth day); the registration rule counts
    # more than DPS_FULL_TIME_HOURS a week as full-time
    assert registration_reasons(referral(hours="10", full_time=True, looked_after=True)) == []
    [reason] = registration_reasons(referral(hours="18.5", full_time=False, looked_after=True))
    assert "this child is looked after" in reason
