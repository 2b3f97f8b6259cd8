"""The call-off standstill at the award, on the fake unit of work: kept with the
award, on placement.awarded and offer.unsuccessful, and on the result."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from services.awards import handlers
from tests.unit.awards.fakes import FakeUnitOfWork, Store
from tests.unit.awards.test_awards_dps_replica import SUCCESSOR, configured, record
from tests.unit.awards.test_awards_handlers import EARLIER, NOW, OFFICER, close, feed, line_id, offer, provider


@pytest.fixture
def uow():
    store = Store()
    return lambda actor=None: FakeUnitOfWork(store, now=NOW, actor=actor)


def awarded_under(uow, regime: str, *, standstill_used: bool = False):
    """A DPS of `regime`, two providers admitted to it, a referral closed with a cheaper offer and a dearer
    one, and the cheaper awarded: (the unit that awarded, the award, the dearer offer's id and provider)."""
    record(uow(), configured(start="2025-01-01", regime=regime))
    cheap_one, dear_one, referral_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for who in (cheap_one, dear_one):
        feed(uow, "membership.admitted", {
            "provider_id": str(who), "provider_name": "A provider", "lot": 2, "dps_id": str(SUCCESSOR),
            "registration_status": "registered_school", "capacity": 3, "at": EARLIER.isoformat(),
            "pricing_lines": [{"pricing_line_id": line_id(who), "description": "group place per hour",
                               "unit": "hour", "maximum_price_pence": 5000}]})
    cheap, dear = offer(cheap_one, 3000), offer(dear_one, 3500)
    close(uow, referral_id, [cheap, dear], full_time=False, dps_id=str(SUCCESSOR))
    unit = uow(OFFICER)
    award = handlers.award_placement(unit, OFFICER, referral_id, uuid.UUID(cheap["offer_id"]),
                                     standstill_used=standstill_used)
    return unit, award, uuid.UUID(dear["offer_id"]), dear_one


def test_an_award_under_the_act_waits_8_working_days_and_everyone_is_told(uow):
    unit, award, dear, loser = awarded_under(uow, "pa2023_dynamic_market")
    # Wednesday 12 March 2025: Thu 13, Fri 14, Mon 17 ... Mon 24 is the eighth working day
    assert award.standstill_ends_on == date(2025, 3, 24) and "s.51" in award.standstill_basis
    [placed] = unit.published("placement.awarded")
    assert placed["standstill_ends_on"] == "2025-03-24"
    [told] = unit.published("offer.unsuccessful")
    assert told["standstill_ends_on"] == "2025-03-24" and "standstill ends at the end of 2025-03-24" in told["reason"]
    result = handlers.offer_result(uow(provider(loser)), provider(loser), award.referral_id, dear)
    assert result.award.standstill_ends_on == date(2025, 3, 24) and "2025-03-25" in result.reason


def test_under_a_pcr_2015_dps_there_is_none_unless_the_council_uses_it(uow):
    unit, award, _dear, _loser = awarded_under(uow, "pcr2015_dps")
    assert award.standstill_ends_on is None and "voluntary" in award.standstill_basis
    assert unit.published("placement.awarded")[0]["standstill_ends_on"] is None
    assert unit.published("offer.unsuccessful")[0]["standstill_ends_on"] is None


def test_a_pcr_2015_dps_with_the_voluntary_standstill_waits_10_calendar_days(uow):
    unit, award, _dear, _loser = awarded_under(uow, "pcr2015_dps", standstill_used=True)
    assert award.standstill_ends_on == date(2025, 3, 22) and "10 calendar days" in award.standstill_basis
    assert unit.published("placement.awarded")[0]["standstill_ends_on"] == "2025-03-22"
