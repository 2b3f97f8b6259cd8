"""The DPS a referral is published on (its last day, its lots, its members), the offer window's minimum and
its recorded basis, and the routes that leave no child at a dead end (issue #15)."""

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from test_referral_lifecycle import (
    ACORN,
    BIRCH,
    DEADLINE,
    LINE,
    OFFICER,
    REGISTRY,
    assessed,
    closed_with_two_offers,
    draft,
    membership,
    offer_from,
)

from services.referrals.domain import DpsRecord, OfferTerms, ReferralStatus, choose_dps
from services.referrals.domain.dps import STATUTORY_END_REGULATION, window_days
from services.referrals.domain.events import WindowExtended
from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict, Forbidden, InvalidInput
from tests.support.off_dps import off_dps_form

NOW = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)  # the lifecycle tests' "now": the draft was made then
SUCCESSOR = uuid.UUID("5e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b")


def dps(**changes) -> DpsRecord:
    fields = dict(id=FIRST_DPS_ID, name="Hillingdon AP DPS", regime="pcr2015_dps", start=date(2024, 4, 1),
                  term_ends_on=date(2031, 3, 31), statutory_end=date(2029, 2, 23), ends_on=date(2029, 2, 23),
                  status="open", lots=(1, 2, 3, 4), sla_version="1")
    return DpsRecord(**{**fields, **changes})


def draft_with(deadline: datetime, urgency: str | None = None):
    referral = draft()
    referral.revise(now=NOW, deadline=deadline, urgency=urgency, by=OFFICER)
    return referral


# --- the window: at least 10 calendar days unless a recorded basis

def test_the_window_counts_calendar_days_from_the_day_of_publication_to_the_deadlines_day():
    assert window_days(NOW, NOW + timedelta(days=9)) == 9
    assert window_days(NOW, datetime(2024, 3, 11, 0, 30, tzinfo=UTC)) == 10  # a weekend counts


def test_a_9_day_window_without_a_basis_is_refused_naming_the_deadline_and_the_rule():
    referral = draft_with(NOW + timedelta(days=9))
    with pytest.raises(InvalidInput) as refused:
        referral.publish(REGISTRY, by=OFFICER, now=NOW, dps=dps())
    assert refused.value.field == "deadline"
    assert "at least 10 days" in refused.value.message and "regulation 34" in refused.value.message
    assert referral.status is ReferralStatus.DRAFT and referral.invited == () and not referral.window_basis


def test_a_9_day_window_with_the_urgency_of_a_child_without_education_is_published_with_that_basis():
    referral = draft_with(NOW + timedelta(days=9), urgency="Permanently excluded on Monday: no school place")
    referral.publish(REGISTRY, by=OFFICER, now=NOW, dps=dps())
    assert referral.window_basis.kind == "urgency" and referral.window_basis.days == 9
    assert referral.window_basis.reason == "Permanently excluded on Monday: no school place"
    assert referral.events[-1].window_basis == referral.window_basis


def test_a_blank_urgency_is_no_basis():
    referral = draft_with(NOW + timedelta(days=9), urgency="   ")
    with pytest.raises(InvalidInput):
        referral.publish(REGISTRY, by=OFFICER, now=NOW, dps=dps())


def test_a_10_day_window_is_the_standard_one():
    referral = draft_with(NOW + timedelta(days=10))
    referral.publish(REGISTRY, by=OFFICER, now=NOW, dps=dps())
    assert (referral.window_basis.kind, referral.window_basis.days) == ("standard", 10)


AGREED = dict(agreed_minimum_window_days=5, agreed_in_sla_version="2", sla_version="2")


def test_the_dps_agreed_minimum_allows_a_shorter_window_when_every_invited_provider_accepted_it():
    referral = draft_with(NOW + timedelta(days=6))
    referral.publish(REGISTRY, by=OFFICER, now=NOW, dps=dps(**AGREED), accepted={ACORN: {"1", "2"}, BIRCH: {"2"}})
    assert referral.window_basis.kind == "agreed_minimum" and referral.window_basis.days == 6
    assert "SLA version 2" in referral.window_basis.reason


def test_the_agreed_minimum_is_refused_when_a_provider_admitted_before_the_agreement_has_not_accepted_it():
    referral = draft_with(NOW + timedelta(days=9))
    with pytest.raises(InvalidInput) as refused:
        # Birch was admitted on SLA version 1 and has not accepted version 2, which carries the agreement.
        referral.publish(REGISTRY, by=OFFICER, now=NOW, dps=dps(**AGREED), accepted={ACORN: {"2"}, BIRCH: {"1"}})
    assert refused.value.field == "deadline"
    assert "SLA version 2" in refused.value.message and str(BIRCH) in refused.value.message
    assert str(ACORN) not in refused.value.message
    assert referral.status is ReferralStatus.DRAFT


def test_a_window_shorter_than_the_agreed_minimum_is_refused():
    referral = draft_with(NOW + timedelta(days=4))
    with pytest.raises(InvalidInput) as refused:
        referral.publish(REGISTRY, by=OFFICER, now=NOW, dps=dps(**AGREED), accepted={ACORN: {"2"}, BIRCH: {"2"}})
    assert "agreed in this DPS's terms is 5 days" in refused.value.message


# --- the DPS's last day

def test_publishing_on_the_statutory_end_day_is_allowed_and_the_day_after_refused_naming_the_date_and_regulation():
    end = date(2029, 2, 23)
    on_the_day = datetime(2029, 2, 23, 16, 0, tzinfo=UTC)
    referral = draft()
    referral.deadline = on_the_day + timedelta(days=10)
    referral.publish(REGISTRY, by=OFFICER, now=on_the_day, dps=dps(statutory_end=end, ends_on=end))
    assert referral.status is ReferralStatus.PUBLISHED

    day_after = on_the_day + timedelta(days=1)
    late = draft()
    late.deadline = day_after + timedelta(days=10)
    with pytest.raises(Conflict) as refused:
        late.publish(REGISTRY, by=OFFICER, now=day_after, dps=dps(statutory_end=end, ends_on=end))
    assert "2029-02-23" in refused.value.message and STATUTORY_END_REGULATION in refused.value.message
    assert "the law" in refused.value.message
    assert late.status is ReferralStatus.DRAFT


def test_after_an_advertised_term_ending_before_the_statutory_end_the_refusal_names_the_dps_terms():
    record = dps(regime="pa2023_dynamic_market", statutory_end=None, term_ends_on=date(2024, 2, 28),
                 ends_on=date(2024, 2, 28))
    with pytest.raises(Conflict) as refused:
        draft().publish(REGISTRY, by=OFFICER, now=NOW, dps=record)
    assert "2024-02-28" in refused.value.message and "own terms" in refused.value.message


def test_nothing_is_published_on_a_closed_dps():
    with pytest.raises(Conflict) as refused:
        draft().publish(REGISTRY, by=OFFICER, now=NOW, dps=dps(status="closed"))
    assert refused.value.field == "dps_id"


def test_only_providers_admitted_on_that_dps_lot_are_invited():
    on_the_successor = dataclasses.replace(membership(uuid.uuid4()), dps_id=SUCCESSOR)
    referral = draft()
    referral.publish([*REGISTRY, on_the_successor], by=OFFICER, now=NOW, dps=dps())
    assert set(referral.invited) == {ACORN, BIRCH}


def test_with_no_dps_named_the_referral_goes_to_the_only_open_dps_with_the_lot_else_the_first():
    successor = dps(id=SUCCESSOR, regime="pa2023_dynamic_market", lots=(1, 2))
    closed_first = dps(status="closed")
    assert choose_dps([closed_first, successor], 1) == SUCCESSOR
    assert choose_dps([closed_first, successor], 3) == FIRST_DPS_ID
    assert choose_dps([dps(), successor], 1) == FIRST_DPS_ID  # two open: the first, unless the officer names one
    assert choose_dps([], 1) == FIRST_DPS_ID


# --- no dead ends

def test_an_officer_extends_an_open_window_and_every_invited_provider_is_told():
    referral = draft()
    referral.publish(REGISTRY, by=OFFICER, now=NOW, dps=dps())
    later = DEADLINE + timedelta(days=3)
    referral.extend_window(later, by=OFFICER, now=NOW + timedelta(days=1), dps=dps())
    assert referral.deadline == later and referral.status is ReferralStatus.PUBLISHED
    extended = referral.events[-1]
    assert isinstance(extended, WindowExtended)
    assert set(extended.invited) == {ACORN, BIRCH} and extended.previous_deadline == DEADLINE
    assert referral.window_basis.days == 17


def test_a_window_cannot_be_shortened_nor_extended_once_closed():
    referral = draft()
    referral.publish(REGISTRY, by=OFFICER, now=NOW, dps=dps())
    with pytest.raises(InvalidInput):
        referral.extend_window(DEADLINE - timedelta(days=1), by=OFFICER, now=NOW, dps=dps())
    with pytest.raises(Conflict) as refused:
        referral.extend_window(DEADLINE + timedelta(days=3), by=OFFICER, now=DEADLINE, dps=dps())
    assert "re-publish" in refused.value.message


def test_a_closed_referral_is_republished_to_the_lot_inviting_providers_admitted_since():
    referral, _, _ = closed_with_two_offers()
    newcomer = uuid.uuid4()
    now = DEADLINE + timedelta(days=1)
    again = referral.republish([*REGISTRY, membership(newcomer)], deadline=now + timedelta(days=10), by=OFFICER,
                               now=now, dps=dps())
    assert again.id != referral.id and again.republished_from == referral.id
    assert again.status is ReferralStatus.PUBLISHED and set(again.invited) == {ACORN, BIRCH, newcomer}
    assert again.child == referral.child and again.profile == referral.profile and again.dps_id == referral.dps_id
    assert referral.status is ReferralStatus.CANCELLED and str(again.id) in referral.cancel_reason
    assert referral.events[-1].republished_as == again.id


def test_republishing_keeps_the_window_rule():
    referral, _, _ = closed_with_two_offers()
    now = DEADLINE + timedelta(days=1)
    with pytest.raises(InvalidInput):
        referral.republish(REGISTRY, deadline=now + timedelta(days=3), by=OFFICER, now=now, dps=dps())
    assert referral.status is ReferralStatus.CLOSED
    again = referral.republish(REGISTRY, deadline=now + timedelta(days=3), by=OFFICER, now=now, dps=dps(),
                               urgency="Out of school for three weeks already")
    assert again.window_basis.kind == "urgency"


def test_an_awarded_referral_cannot_be_republished_or_cancelled():
    referral, meets, _ = assessed()
    referral.mark_awarded(meets.id, DEADLINE + timedelta(days=2))
    with pytest.raises(Conflict):
        referral.republish(REGISTRY, deadline=DEADLINE + timedelta(days=20), by=OFFICER,
                           now=DEADLINE + timedelta(days=3))
    with pytest.raises(Conflict):
        referral.cancel("No longer needed", by=OFFICER, now=DEADLINE + timedelta(days=3))


def test_off_the_dps_once_awards_reports_no_offer_eligible_even_though_one_met_the_needs():
    referral, _, _ = assessed()
    later = DEADLINE + timedelta(days=2)
    with pytest.raises(Conflict) as refused:
        referral.record_off_dps_exception("The only suitable provider is full", off_dps_form(), by=OFFICER, now=later)
    assert "award it" in refused.value.message and "PCR 2015" in refused.value.message
    assert referral.note_no_eligible_offers(["capacity: no place free"], later)
    assert not referral.note_no_eligible_offers(["again"], later)  # the same report twice: nothing new
    referral.record_off_dps_exception("The only suitable provider is full", off_dps_form(), by=OFFICER, now=later)
    assert referral.off_dps_exception.reason == "The only suitable provider is full"
    with pytest.raises(Conflict):
        referral.republish(REGISTRY, deadline=later + timedelta(days=10), by=OFFICER, now=later)


def test_a_report_of_no_eligible_offers_on_a_referral_not_waiting_for_an_award_changes_nothing():
    referral = draft()
    assert not referral.note_no_eligible_offers(["none"], NOW)
    assert referral.no_eligible_offers_at is None


def test_an_offer_from_a_member_of_another_dps_is_refused():
    referral = draft()
    referral.publish(REGISTRY, by=OFFICER, now=NOW, dps=dps())
    offer_from(referral, ACORN)  # a member of this DPS's lot
    with pytest.raises(Forbidden) as refused:
        referral.submit_offer(dataclasses.replace(membership(BIRCH), dps_id=SUCCESSOR), TERMS,
                              now=NOW + timedelta(hours=1))
    assert refused.value.field == "provider_id"


TERMS = OfferTerms(pricing_line_id=LINE.id, unit_price_pence=4500, units_per_week=1, weeks=6,
                   proposed_start=date(2024, 3, 11), staffing_ratio="1:3", delivery_site="Centre",
                   delivery_postcode="SE15 5AB", how_it_meets_needs="Small groups.", place_available=True,
                   answers={})
