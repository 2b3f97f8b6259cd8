"""The holds on erasing a child's record (UK GDPR Art. 17(3)(b)), each at its boundary, and the
erasure request's decision: granted only without a hold, once, with a reason."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from services.referrals.domain import ReferralStatus
from services.referrals.domain.erasure import (
    ErasureDecided,
    ErasureRequest,
    ErasureRequested,
    ErasureStatus,
    PlacementFacts,
    ReferralFacts,
    erasure_holds,
    refusal,
)
from shared.errors import Conflict, InvalidInput

NOW = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)  # a Monday; council date 2025-06-02
CHILD = uuid.uuid4()


def referral(status=ReferralStatus.CANCELLED, awarded_at=None) -> ReferralFacts:
    return ReferralFacts(uuid.uuid4(), status, awarded_at)


def placement(started_on=date(2015, 1, 5), ended_on=None) -> PlacementFacts:
    return PlacementFacts(uuid.uuid4(), uuid.uuid4(), started_on, ended_on)


def names(holds) -> list[str]:
    return [h.name for h in holds]


def test_nothing_holds_a_cancelled_referral_with_no_placement():
    assert erasure_holds([referral()], [], NOW) == []


@pytest.mark.parametrize("status", [ReferralStatus.DRAFT, ReferralStatus.PUBLISHED, ReferralStatus.CLOSED])
def test_an_open_referral_holds_the_record(status):
    assert names(erasure_holds([referral(), referral(status)], [], NOW)) == ["open_referral"]


@pytest.mark.parametrize("status", [ReferralStatus.CANCELLED, ReferralStatus.NO_SUITABLE_OFFER])
def test_a_decided_referral_is_not_open(status):
    assert erasure_holds([referral(status)], [], NOW) == []


def test_a_live_placement_holds_the_record():
    assert names(erasure_holds([referral(ReferralStatus.AWARDED)], [placement()], NOW)) == ["live_placement"]


def test_a_placement_ended_within_six_years_holds_the_education_record_until_six_years_after():
    day_after_six_years = placement(ended_on=date(2019, 6, 3))
    [hold] = erasure_holds([referral(ReferralStatus.AWARDED)], [day_after_six_years], NOW)
    assert hold.name == "education_record" and not hold.law and "until 2025-06-03" in str(hold)
    assert "the council's policy" in str(hold) and "AP census" in str(hold)


def test_a_placement_ended_six_years_ago_to_the_day_no_longer_holds():
    assert erasure_holds([referral(ReferralStatus.AWARDED)], [placement(ended_on=date(2019, 6, 2))], NOW) == []


def test_a_call_off_awarded_within_three_years_holds_the_procurement_record():
    awarded = datetime(2022, 6, 3, 12, 0, tzinfo=UTC)
    [hold] = erasure_holds([referral(ReferralStatus.AWARDED, awarded)], [], NOW)
    assert hold.name == "procurement_record" and hold.law
    assert "PCR 2015 regulation 84" in str(hold) and "(law)" in str(hold) and "until 2025-06-03" in str(hold)


def test_a_call_off_awarded_three_years_ago_to_the_day_no_longer_holds():
    awarded = datetime(2022, 6, 2, 12, 0, tzinfo=UTC)
    assert erasure_holds([referral(ReferralStatus.AWARDED, awarded)], [], NOW) == []


def test_every_hold_is_named_at_once():
    holds = erasure_holds([referral(ReferralStatus.DRAFT), referral(ReferralStatus.AWARDED, NOW)],
                          [placement(), placement(ended_on=date(2025, 1, 1))], NOW)
    assert names(holds) == ["open_referral", "live_placement", "education_record", "procurement_record"]
    conflict = refusal(holds)
    assert conflict.status == 409 and "open_referral" in conflict.message and "procurement_record" in conflict.message
    assert len(conflict.to_dict()["errors"]["json"]["holds"]) == 4


# --- the request and its decision -------------------------------------------------------------------

def request() -> ErasureRequest:
    made = ErasureRequest.make(uuid.uuid4(), CHILD, "The child's parent asked on 1 June.", "officer-1", NOW)
    made.events.clear()
    return made


def test_a_request_is_recorded_pending_with_its_grounds():
    made = ErasureRequest.make(uuid.uuid4(), CHILD, "asked by the parent", "officer-1", NOW)
    assert made.status is ErasureStatus.PENDING and made.events == [ErasureRequested(made.id, CHILD, NOW)]
    with pytest.raises(InvalidInput) as refused:
        ErasureRequest.make(uuid.uuid4(), CHILD, "  ", "officer-1", NOW)
    assert refused.value.field == "grounds"


def test_granting_under_a_hold_is_refused_naming_it_and_changes_nothing():
    made = request()
    holds = erasure_holds([referral(ReferralStatus.DRAFT)], [], NOW)
    with pytest.raises(Conflict, match="open_referral"):
        made.decide(grant=True, reason="The parent's request.", by="manager-1", now=NOW, holds=holds)
    assert made.status is ErasureStatus.PENDING and made.events == [] and made.decided_by is None


def test_the_manager_may_refuse_under_a_hold_and_the_holds_are_recorded():
    made = request()
    holds = erasure_holds([referral(ReferralStatus.DRAFT)], [], NOW)
    made.decide(grant=False, reason="An open referral.", by="manager-1", now=NOW, holds=holds)
    assert made.status is ErasureStatus.REFUSED
    assert made.events == [ErasureDecided(made.id, CHILD, False, "An open referral.", ("open_referral",), NOW)]


def test_a_request_is_decided_once_and_with_a_reason():
    made = request()
    with pytest.raises(InvalidInput) as refused:
        made.decide(grant=True, reason="", by="manager-1", now=NOW, holds=[])
    assert refused.value.field == "reason"
    made.decide(grant=True, reason="No record must be kept.", by="manager-1", now=NOW, holds=[])
    assert made.status is ErasureStatus.GRANTED
    with pytest.raises(Conflict, match="granted already"):
        made.decide(grant=False, reason="again", by="manager-1", now=NOW, holds=[])
