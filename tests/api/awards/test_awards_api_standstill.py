"""The call-off standstill by the DPS's regime, through the API on the real
databases (PostgreSQL and SQLite): the award shows it to the council and the
winning provider, placement.awarded carries it, and the unsuccessful bidders
read when it ends (issue #15 item 1)."""

from __future__ import annotations

import uuid

import pytest

from tests.api.awards.awards_support import (
    MANAGER,
    NOW,
    OFFICER,
    admit,
    closed_referral,
    feed,
    ids,
    offer,
    outbox,
    provider_auth,
)
from tests.support import runtime as support

SUCCESSOR = uuid.uuid4()


@pytest.fixture(params=["postgresql", "sqlite"])
def runtime_with(request, tmp_path):
    """runtime_with(**settings) -> awards on the database of the param, its clock at NOW."""
    def make(**settings):
        if request.param == "postgresql":
            made = request.getfixturevalue("service")("awards", **settings)
        else:
            made = support.build_runtime("awards", f"sqlite:///{tmp_path}/awards.sqlite3", "amqp://unused//",
                                         **settings)
        made.clock = lambda: NOW
        return made
    return make


def two_offers(rt, dps_id=None) -> tuple:
    """A closed referral with a cheaper offer (won) and a dearer one, under `dps_id` (None: the first DPS)."""
    winner, loser = ids(2)
    extra = {} if dps_id is None else {"dps_id": str(dps_id)}
    for provider in (winner, loser):
        if dps_id is None:
            admit(rt, provider)
        else:
            feed(rt, "membership.admitted", {
                "dps_id": str(dps_id), "provider_id": str(provider), "provider_name": "P", "lot": 2,
                "registration_status": "registered_school", "capacity": 3, "at": NOW.isoformat(),
                "pricing_lines": [{"pricing_line_id": str(uuid.uuid5(provider, "group place per hour")),
                                   "description": "group place per hour", "unit": "hour",
                                   "maximum_price_pence": 5000}]})
    referral_id, cheap, dear = uuid.uuid4(), offer(winner, 3000), offer(loser, 3500)
    feed(rt, "referral.closed", {**closed_referral(referral_id, [cheap, dear]), **extra})
    return referral_id, cheap["offer_id"], dear["offer_id"], winner, loser


def award(client, referral_id, offer_id):
    return client.post(f"/v1/referrals/{referral_id}/award", json={"offer_id": str(offer_id)}, headers=OFFICER)


def test_under_the_act_the_award_shows_8_working_days_and_the_bidders_are_told(runtime_with, client_for):
    rt = runtime_with()
    client = client_for(rt)
    feed(rt, "dps.configured", {
        "dps_id": str(SUCCESSOR), "name": "AP dynamic market", "regime": "pa2023_dynamic_market",
        "start": "2024-01-01", "term_ends_on": "2030-12-31", "statutory_end": None, "ends_on": "2030-12-31",
        "status": "open", "lots": [2], "agreed_minimum_window_days": None, "agreed_in_sla_version": None,
        "sla_version": "1", "award_criteria": [{"code": "value", "name": "Value", "description": "Best value"}]})
    referral_id, cheap, dear, winner, loser = two_offers(rt, SUCCESSOR)
    made = award(client, referral_id, cheap)
    assert made.status_code == 201, made.json
    # Wednesday 12 March 2025: the eighth working day after is Monday 24 March
    assert made.json["standstill_ends_on"] == "2025-03-24"
    assert "Procurement Act 2023 s.51" in made.json["standstill_basis"]
    shown = client.get(f"/v1/awards/{made.json['award_id']}", headers=provider_auth(winner)).json
    assert (shown["standstill_ends_on"], shown["standstill_basis"]) == ("2025-03-24", made.json["standstill_basis"])
    assert client.get(f"/v1/awards/{made.json['award_id']}", headers=MANAGER).json["standstill_ends_on"] == "2025-03-24"

    [placed] = outbox(rt, "placement.awarded")
    assert placed["data"]["standstill_ends_on"] == "2025-03-24"
    [told] = outbox(rt, "offer.unsuccessful")
    assert told["data"]["standstill_ends_on"] == "2025-03-24" and "2025-03-24" in told["data"]["reason"]
    result = client.get(f"/v1/referrals/{referral_id}/offers/{dear}/result", headers=provider_auth(loser)).json
    assert result["standstill_ends_on"] == "2025-03-24"
    assert "the contract is not entered into before 2025-03-25" in result["reason"]


def test_under_the_first_dps_there_is_none_unless_the_council_uses_it(runtime_with, client_for):
    rt = runtime_with()
    client = client_for(rt)
    referral_id, cheap, dear, _winner, loser = two_offers(rt)
    made = award(client, referral_id, cheap).json
    assert made["standstill_ends_on"] is None and "not used" in made["standstill_basis"]
    assert outbox(rt, "placement.awarded")[0]["data"]["standstill_ends_on"] is None
    result = client.get(f"/v1/referrals/{referral_id}/offers/{dear}/result", headers=provider_auth(loser)).json
    assert result["standstill_ends_on"] is None and "standstill" not in result["reason"]


def test_with_the_setting_the_first_dps_waits_10_calendar_days(runtime_with, client_for):
    rt = runtime_with(calloff_standstill_pcr2015=True)
    client = client_for(rt)
    referral_id, cheap, _dear, _winner, _loser = two_offers(rt)
    made = award(client, referral_id, cheap).json
    assert made["standstill_ends_on"] == "2025-03-22" and "10 calendar days" in made["standstill_basis"]
    assert outbox(rt, "placement.awarded")[0]["data"]["standstill_ends_on"] == "2025-03-22"
