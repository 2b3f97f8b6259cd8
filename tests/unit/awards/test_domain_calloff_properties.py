"""Property tests of the call-off award: whatever the offers and the registry,
the awarded offer is eligible, and never costlier at the volume asked for than
an eligible offer unless the officer gave a published criterion and words."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from hypothesis import event, given, settings
from hypothesis import strategies as st

from services.awards.domain import (
    CallOff,
    DpsRecord,
    MembershipStatus,
    Offer,
    PlacesInUse,
    ProviderOnLot,
    Pupil,
    Referral,
    Registry,
    SettingKind,
    rank_offers,
    reasons_against,
)
from shared.errors import Conflict, InvalidInput

NOW = datetime(2024, 4, 29, 12, 0, tzinfo=UTC)
LOT = 2
DPS = DpsRecord.first(date(2029, 2, 23))
# Weighted towards eligible offers, so that awards are made as well as refused.
MEMBERSHIPS = st.sampled_from([MembershipStatus.ADMITTED] * 8 + [MembershipStatus.SUSPENDED, MembershipStatus.REMOVED])
REGISTRATIONS = st.sampled_from([SettingKind.REGISTERED_SCHOOL] * 3 + [SettingKind.UNREGISTERED])


@st.composite
def call_offs(draw):
    """A closed referral, 1-6 offers from distinct providers, and a registry and
    places in use that make some of them eligible and some not."""
    ref = Referral(uuid4(), LOT, draw(st.sampled_from([Decimal(10), Decimal(18), Decimal("18.5"), Decimal(25)])),
                   draw(st.booleans()), draw(st.booleans()), draw(st.booleans()))
    entries, active, full_time, offers = [], {}, {}, []
    for n in range(draw(st.integers(1, 6))):
        provider, line = UUID(int=100 + n), UUID(int=200 + n)
        maximum = draw(st.integers(1000, 6000))
        if draw(st.integers(0, 9)):  # now and then a provider not on the lot at all
            entries.append(ProviderOnLot(provider, LOT, draw(MEMBERSHIPS), draw(REGISTRATIONS),
                                         {line: maximum}, draw(st.integers(1, 3))))
        active[(provider, LOT)] = draw(st.integers(0, 1))
        full_time[provider] = (Pupil(Decimal(25), True),) * draw(st.integers(0, 5))  # full-time, of school age
        unit, units, weeks = draw(st.integers(800, maximum + 300)), draw(st.integers(1, 25)), draw(st.integers(1, 39))
        offers.append(Offer(UUID(int=n + 1), provider, line, unit, Decimal(units), weeks, unit * units * weeks,
                            date(2024, 5, 6) + timedelta(days=draw(st.integers(0, 14))),
                            NOW - timedelta(hours=draw(st.integers(1, 72))),
                            draw(st.sampled_from([True] * 8 + [False, None]))))
    return ref, offers, Registry.of(entries), PlacesInUse(active, full_time)


@settings(max_examples=300, deadline=None)
@given(case=call_offs(), data=st.data())
def test_awarded_offer_is_always_eligible_and_never_costlier_than_an_eligible_offer_without_a_reason(case, data):
    ref, offers, registry, places = case
    # The officer picks any offer, or one of the eligible ones below the top, or the top one.
    eligible = [e.offer for e in rank_offers(ref, offers, registry, places, NOW).eligible]
    pool = data.draw(st.sampled_from([offers, eligible[1:], eligible[:1]]))
    chosen = data.draw(st.sampled_from(pool or offers))
    reason = data.draw(st.sampled_from([None, "", "  ", "closer to the child's home"]))
    code = data.draw(st.sampled_from([None, "", "travel", "not published"]))
    call_off = CallOff(ref, offers)
    try:
        made = call_off.award(chosen.offer_id, awarded_by="officer-1", registry=registry, places=places, now=NOW,
                              dps=DPS, reason=reason, reason_code=code)
    except (InvalidInput, Conflict) as refused:  # Conflict: the registration rule
        event(f"refused on {refused.field}")
        assert call_off.award_made is None and call_off.events == []
        return

    assert reasons_against(made.offer, ref, registry, places) == ()
    costs = {e.offer.offer_id: e.cost_pence for e in made.ranking.eligible}
    event("awarded with a reason" if made.override_reason else "awarded the top offer")
    if made.override_reason is None:
        assert costs[made.offer.offer_id] == min(costs.values())
    else:
        assert made.override_reason.strip() and made.override_reason_code == "travel"


@settings(max_examples=200, deadline=None)
@given(case=call_offs())
def test_the_top_offer_can_always_be_awarded_without_a_reason(case):
    ref, offers, registry, places = case
    top = rank_offers(ref, offers, registry, places, NOW).top
    if top is None:
        return
    made = CallOff(ref, offers).award(top.offer.offer_id, awarded_by="officer-1", registry=registry,
                                      places=places, now=NOW, dps=DPS)
    assert made.override_reason is None


@settings(max_examples=200, deadline=None)
@given(case=call_offs())
def test_ranking_lists_every_offer_once_eligible_first_in_order_of_best_value(case):
    ref, offers, registry, places = case
    ranking = rank_offers(ref, offers, registry, places, NOW)

    assert sorted(e.offer.offer_id for e in ranking.entries) == sorted(o.offer_id for o in offers)
    eligible = ranking.eligible
    assert ranking.entries[:len(eligible)] == eligible  # eligible first
    assert [e.rank for e in eligible] == list(range(1, len(eligible) + 1))
    keys = [(e.cost_pence, e.offer.start_date, e.offer.submitted_at) for e in eligible]
    assert keys == sorted(keys)
    assert all(e.rank is None and e.reasons for e in ranking.entries[len(eligible):])
    # Ranking does not depend on the order the offers arrived in.
    assert rank_offers(ref, list(reversed(offers)), registry, places, NOW) == ranking
