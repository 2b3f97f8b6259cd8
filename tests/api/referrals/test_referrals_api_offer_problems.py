"""An offer hears every problem at once (not one per try), and may quote
whatever staffing ratio the registry accepted for the line it prices: the
vocabulary of a pricing line is the registry's, defined once.  The rules
alone are tested on the handlers: tests/unit/referrals/test_referrals_handlers_offers.py."""

from __future__ import annotations

import uuid

import pytest

from tests.api.referrals.referrals_support import (
    admit,
    fields_of,
    line_id,
    offer,
    outbox,
    pricing_lines,
    published_referral,
    snapshot,
)

GROUP = "Group session"


@pytest.fixture
def acorn(rt):
    provider_id = uuid.uuid4()
    group_line = {"pricing_line_id": str(line_id(provider_id, GROUP)), "description": GROUP, "unit": "session",
                  "staffing_ratio": "group", "maximum_price_pence": 3_000}
    return admit(rt, provider_id, name="Acorn", pricing_lines=[*pricing_lines(provider_id), group_line])


@pytest.fixture
def referral(client, acorn):
    return published_referral(client)


def test_an_offer_leaving_the_ratio_out_takes_the_lines(client, rt, referral, acorn):
    made = offer(client, referral, acorn, pricing_line_id=str(line_id(acorn, GROUP)), unit_price_pence=2_500,
                 staffing_ratio=None)
    assert made.status_code == 201, made.json
    assert made.json["staffing_ratio"] == "group"


def test_every_problem_of_an_offer_is_reported_at_once(client, rt, referral, acorn):
    before = snapshot(rt)
    refused = offer(client, referral, acorn, unit_price_pence=60_000, delivery_postcode="nowhere", weeks=0,
                    place_available=False, answers={})
    assert refused.status_code == 422, refused.json
    problems = fields_of(refused)
    assert set(problems) == {"unit_price_pence", "delivery_postcode", "weeks", "place_available", "answers"}
    assert "maximum price of 50000 pence" in problems["unit_price_pence"][0]
    assert all(isinstance(reason, str) for reasons in problems.values() for reason in reasons)
    assert snapshot(rt) == before and outbox(rt, "offer.submitted") == []
