"""The call-off standstill by the DPS's regime, applied at the award (issue #15 item 1):
kept on the award, carried on placement.awarded, told to the unsuccessful bidders."""

from dataclasses import replace
from datetime import UTC, date, datetime

from services.awards.domain import OfferUnsuccessful, PlacementAwarded, Regime
from tests.unit.awards.test_domain_calloffs import DPS, WORKED_PLACES, uid, worked_call_off, worked_registry

FRIDAY_BEFORE_MAY_DAY = datetime(2024, 5, 3, 12, 0, tzinfo=UTC)  # Monday 6 May 2024 is a bank holiday
ACT = replace(DPS, regime=Regime.PA2023_DYNAMIC_MARKET)


def made(dps=DPS, used=False):
    """The worked example's top offer awarded on the Friday before the May Day bank holiday."""
    call_off = worked_call_off()
    chosen = call_off.award(uid(6), awarded_by="officer-1", registry=worked_registry(), places=WORKED_PLACES,
                            now=FRIDAY_BEFORE_MAY_DAY, dps=dps, standstill_used=used)
    return call_off, chosen


def test_under_the_act_the_standstill_is_8_working_days_counted_across_a_bank_holiday():
    call_off, chosen = made(ACT)
    # Tue 7 (Mon 6 is the bank holiday), 8, 9, 10, 13, 14, 15, 16 May: 8 working days
    assert chosen.standstill_ends_on == date(2024, 5, 16)
    assert "Procurement Act 2023 s.51" in chosen.standstill_basis and "8 working days" in chosen.standstill_basis
    awarded = next(e for e in call_off.events if isinstance(e, PlacementAwarded))
    assert awarded.standstill_ends_on == date(2024, 5, 16)


def test_the_unsuccessful_bidders_are_told_when_the_standstill_ends():
    call_off, _ = made(ACT)
    told = [e for e in call_off.events if isinstance(e, OfferUnsuccessful)]
    assert told and all(e.standstill_ends_on == date(2024, 5, 16) for e in told)
    assert all("the standstill ends at the end of 2024-05-16" in e.reason and "2024-05-17" in e.reason
               for e in told)


def test_a_pcr_2015_dps_has_no_call_off_standstill_unless_the_council_uses_it():
    call_off, chosen = made(DPS)
    assert chosen.standstill_ends_on is None and "not used" in chosen.standstill_basis
    assert all(e.standstill_ends_on is None and "standstill" not in e.reason
               for e in call_off.events if isinstance(e, OfferUnsuccessful))
    assert next(e for e in call_off.events if isinstance(e, PlacementAwarded)).standstill_ends_on is None


def test_a_pcr_2015_dps_with_the_voluntary_standstill_used_waits_10_calendar_days():
    call_off, chosen = made(DPS, used=True)
    assert chosen.standstill_ends_on == date(2024, 5, 13)  # calendar days: the bank holiday counts
    assert "10 calendar days" in chosen.standstill_basis
    assert all(e.standstill_ends_on == date(2024, 5, 13)
               for e in call_off.events if isinstance(e, OfferUnsuccessful))


def test_the_setting_does_not_change_the_acts_standstill():
    _, chosen = made(ACT, used=True)
    assert chosen.standstill_ends_on == date(2024, 5, 16)
