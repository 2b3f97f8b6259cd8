"""What awards writes for others, without a database: event data as the
contract in docs/events.md has it, money in pounds, council quarters."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from services.awards.domain import OfferUnsuccessful, PlacementAwarded
from services.awards.messages import message
from services.awards.transparency import pounds, quarter_bounds
from shared.errors import InvalidInput

AT = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)


def test_placement_awarded_data_has_hours_as_json_numbers_and_ids_as_strings():
    event = PlacementAwarded(
        UUID(int=1), UUID(int=2), UUID(int=3), UUID(int=4), UUID(int=5), 2, "send", UUID(int=6), "medical",
        UUID(int=7), 4000, Decimal("17.50"), Decimal("17.5"), 12, 840_000, date(2025, 4, 7), False, None,
        "officer-1", AT)

    type_, data = message(event)

    assert type_ == "placement.awarded"
    assert data["units_per_week"] == 17.5 and data["weeks"] == 12
    assert data["award_id"] == str(UUID(int=1)) and data["placement_id"] == str(UUID(int=2))
    assert data["start_date"] == "2025-04-07" and data["at"] == "2025-03-12T10:00:00+00:00"
    assert data["child_ref"] == str(UUID(int=6)) and data["override_reason"] is None


def test_an_unsuccessful_bid_names_the_opportunity_and_bid_not_a_referral_and_offer():
    _, data = message(OfferUnsuccessful(UUID(int=1), UUID(int=2), "ranked 2 of 3", AT, opportunity_id=UUID(int=3)))
    assert set(data) == {"provider_id", "opportunity_id", "bid_id", "reason", "at", "rank", "winner_provider_id"}
    _, data = message(OfferUnsuccessful(UUID(int=1), UUID(int=2), "ranked 2 of 3", AT, referral_id=UUID(int=3),
                                        rank=2, winner_provider_id=UUID(int=4)))
    assert set(data) == {"provider_id", "referral_id", "offer_id", "reason", "at", "rank", "winner_provider_id",
                         "standstill_ends_on"}  # a call-off's standstill (null: none)
    assert data["rank"] == 2 and data["winner_provider_id"] == str(UUID(int=4))


@pytest.mark.parametrize("pence, amount", [(720_000, 7200), (720_900, 7209), (1234, 12.34), (5, 0.05)])
def test_money_is_published_in_pounds_as_a_json_number(pence, amount):
    assert pounds(pence) == amount


def test_quarters_are_the_councils_calendar_quarters():
    # 1 April 2025 starts at 00:00 BST, 23:00 UTC the day before
    assert quarter_bounds(2025, 2) == (datetime(2025, 3, 31, 23, 0, tzinfo=UTC),
                                       datetime(2025, 6, 30, 23, 0, tzinfo=UTC))
    assert quarter_bounds(2025, 4)[1] == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        quarter_bounds(2025, 5)
