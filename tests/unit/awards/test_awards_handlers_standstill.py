"""The call-off standstill at the award, on the fake unit of work: kept with the
award, on placement.awarded and offer.unsuccessful, and on the result."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from services.awards import handlers
from tests.unit.awards.fakes import FakeUnitOfWork, Store
from tests.unit.awards.test_awards_dps_replica import SUCCESSOR, configured, record
from tests.unit.awards.test_awards_handlers import EARLIER, NOW, OFFICER, admit, close, feed, line_id, offer, provider


@pytest.fixture
def uow():
    store = Store()
    return lambda actor=None: FakeUnitOfWork(store, now=NOW, actor=actor)


@pytest.fixture
def two_offers(uow):
    """A closed referral under the first DPS (PCR 2015): a cheaper offer and a dearer one."""
    a, b, referral_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    admit(uow, a)
    admit(uow, b)
    cheap, dear = offer(a, 3000), offer(b, 3500)
    close(uow, referral_id, [cheap, dear], full_time=False)
    return referral_id, uuid.UUID(cheap["offer_id"])


def test_an_award_under_the_act_waits_8_working_days_and_everyone_is_told(uow):
    record(uow(), configured(start="2025-01-01"))  # a dynamic market under the Procurement Act 2023
    a, b, referral_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for who in (a, b):
        admit_to(uow, who, SUCCESSOR)
    cheap, dear = offer(a, 3000), offer(b, 3500)
    close(uow, referral_id, [cheap, dear], full_time=False, dps_id=str(SUCCESSOR))
    unit = uow(OFFICER)
    award = handlers.award_placement(unit, OFFICER, referral_id, uuid.UUID(cheap["offer_id"]))

    # Wednesday 12 March 2025: Thu 13, Fri 14, Mon 17 ... Mon 24 is the eighth working day
    assert award.standstill_ends_on == date(2025, 3, 24) and "s.51" in award.standstill_basis
    [placed] = unit.published("placement.awarded")
    assert placed["standstill_ends_on"] == "2025-03-24"
    [told] = unit.published("offer.unsuccessful")
    assert told["standstill_ends_on"] == "2025-03-24" and "standstill ends at the end of 2025-03-24" in told["reason"]
    result = handlers.offer_result(uow(provider(b)), provider(b), referral_id, uuid.UUID(dear["offer_id"]))
    assert result.award.standstill_ends_on == date(2025, 3, 24) and "2025-03-25" in result.reason


def admit_to(uow, provider_id, dps_id) -> None:
    """Membership is per DPS: admitted to this one."""
    feed(uow, "membership.admitted", {
        "provider_id": str(provider_id), "provider_name": "A provider", "lot": 2, "dps_id": str(dps_id),
        "registration_status": "registered_school", "capacity": 3, "at": EARLIER.isoformat(),
        "pricing_lines": [{"pricing_line_id": line_id(provider_id), "description": "group place per hour",
                           "unit": "hour", "maximum_price_pence": 5000}]})


def test_under_the_first_dps_there_is_none_unless_the_council_uses_it(uow, two_offers):
    referral_id, cheap = two_offers
    unit = uow(OFFICER)
    award = handlers.award_placement(unit, OFFICER, referral_id, cheap)
    assert award.standstill_ends_on is None and "voluntary" in award.standstill_basis
    assert unit.published("placement.awarded")[0]["standstill_ends_on"] is None
    assert unit.published("offer.unsuccessful")[0]["standstill_ends_on"] is None


def test_the_first_dps_with_the_voluntary_standstill_waits_10_calendar_days(uow, two_offers):
    referral_id, cheap = two_offers
    unit = uow(OFFICER)
    award = handlers.award_placement(unit, OFFICER, referral_id, cheap, standstill_used=True)
    assert award.standstill_ends_on == date(2025, 3, 22) and "10 calendar days" in award.standstill_basis
    assert unit.published("placement.awarded")[0]["standstill_ends_on"] == "2025-03-22"
