"""Issue 15's journey of the procurement regime against the four services as
real processes, each on its own PostgreSQL database, on the real RabbitMQ.

The first DPS is under the 2015 rules, so it ends by law on its statutory end
(SI 2024/716 regulation 5(4)), configured here three days from today
(`DPS_PCR2015_STATUTORY_END`: the registry's daily job applies it to the
record and tells the other services with `dps.configured`):

1. a call-off in the last week before the statutory end is awarded;
2. the manager sets up a successor (a dynamic market under the Procurement
   Act 2023) and a provider joins it separately;
3. the operator moves the statutory end to yesterday (`dps run-jobs
   provider_registry --force` with the new setting): the award of a referral
   already assessed is refused, 409 naming the date and the regulation, and
   nothing may be published on the first DPS any more, while the call-off
   already awarded runs on and the successor still admits and invites.

Each step runs once (module fixtures, in this order); the tests assert what
each showed through the public APIs and the events on the four `dps.*`
exchanges (a queue bound with `#` before anything happens)."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta

import pytest

from demo import journey as j
from shared.catalogue import FIRST_DPS_ID
from tests.conftest import _clean_broker
from tests.support.system import DPS, ROOT, System

pytestmark = pytest.mark.integration

REGULATION = "SI 2024/716 regulation 5(4)"
FIRST = str(FIRST_DPS_ID)
TODAY = j.council_today()
STATUTORY_END = TODAY + timedelta(days=3)  # the last week before it
YESTERDAY = TODAY - timedelta(days=1)


# --------------------------------------------------------------------------- the system, with its statutory end


@pytest.fixture(scope="module")
def running_system(postgres, rabbitmq, _templates, tmp_path_factory):
    """The four services as processes, with the first DPS's statutory end three days from today."""
    _clean_broker(rabbitmq.amqp_url)
    system = System(postgres, rabbitmq, _templates, tmp_path_factory.mktemp("system-regime"),
                    extra_env={"DPS_PCR2015_STATUTORY_END": STATUTORY_END.isoformat()})
    system.start()
    yield system
    system.stop()


def registry_record(client: j.Client, dps_id: str) -> dict | None:
    return next((r for r in client.call_all("provider_registry", "/v1/dps-records", j.PUBLIC)
                 if r["id"] == dps_id), None)


def awards_record(client: j.Client, dps_id: str) -> dict | None:
    return next((r for r in client.call("GET", "awards", "/v1/dps", j.MANAGER) if r["dps_id"] == dps_id), None)


def of_type(events: list[dict], type_: str, **data) -> list[dict]:
    return [e for e in events if e["type"] == type_
            and all(str(e["data"].get(k)) == str(v) for k, v in data.items())]


def offer_and_assess(client: j.Client, providers: list[j.Provider], referral: j.Referral) -> None:
    """Every invited provider offers (the first the cheapest), the window closes early, all meet the needs."""
    for n, provider in enumerate(providers):
        j.make_offer(client, provider, referral, unit_price_pence=40_000 + 1_000 * n)
    j.close_and_assess(client, referral)


# --------------------------------------------------------------------------- 1. the last week before the end


@pytest.fixture(scope="module")
def last_week(client):
    """The statutory end reaches the record and the other services; two providers join; a child is
    referred, offered places, and the call-off is awarded."""
    client.chapter("A call-off in the last week before the statutory end")
    found: dict = {}
    found["registry"] = client.wait_for("the registry's daily job to apply the statutory end", lambda: (
        (record := registry_record(client, FIRST)) and record["ends_on"] == STATUTORY_END.isoformat() and record))
    found["awards"] = client.wait_for("awards to hear the statutory end", lambda: (
        (record := awards_record(client, FIRST)) and record["ends_on"] == STATUTORY_END.isoformat() and record))
    found["providers"] = [j.admit_provider(client, "Bridges Learning Centre"),
                          j.admit_provider(client, "Harbour Academy")]
    referral = found["referral"] = j.refer_child(client, lot=1, dps_id=FIRST)
    offer_and_assess(client, found["providers"], referral)
    found["award"] = j.award(client, referral)
    return found


def test_a_call_off_in_the_last_week_before_the_statutory_end_is_awarded(client, last_week, tap):
    assert 0 < (STATUTORY_END - TODAY).days <= 7
    registry, awards = last_week["registry"], last_week["awards"]
    assert (registry["regime"], registry["statutory_end"], registry["ends_on"], registry["ends_by_law"]) == (
        "pcr2015_dps", STATUTORY_END.isoformat(), STATUTORY_END.isoformat(), True)
    assert registry["statutory_end_regulation"] == REGULATION and registry["open"] is True
    assert (awards["regime"], awards["statutory_end"], awards["ends_on"]) == (
        "pcr2015_dps", STATUTORY_END.isoformat(), STATUTORY_END.isoformat())

    referral, award = last_week["referral"], last_week["award"]
    bridges, harbour = last_week["providers"]
    assert set(referral.invited) == {str(bridges.id), str(harbour.id)}
    assert award.provider_id == str(bridges.id)
    [awarded] = tap.wait_for(lambda e: e["type"] == "placement.awarded" and e["data"]["referral_id"] == referral.id)
    assert awarded["data"]["award_id"] == award.id
    # The manager's warnings of 12, 6 and 3 months before the end, all due once the end was set this close
    # (given when the system started, before the tap was bound: the record keeps them).
    assert sorted((w["months_before"], w["given_on"]) for w in registry["statutory_end_warnings"]) == [
        (3, TODAY.isoformat()), (6, TODAY.isoformat()), (12, TODAY.isoformat())]


# --------------------------------------------------------------------------- 2. a successor DPS


@pytest.fixture(scope="module")
def successor(client, last_week):
    """The manager sets up a dynamic market beside the first DPS; a provider joins it separately and
    a referral published on it invites that provider alone."""
    client.chapter("A successor: a dynamic market under the Procurement Act 2023")
    found: dict = {}
    record = found["record"] = j.set_up_dps(client, "AP dynamic market", regime="pa2023_dynamic_market",
                                            lots=(1, 2), term_years=4)
    found["listed"] = client.wait_for("awards to hear of the successor", lambda: awards_record(client, record["id"]))
    found["provider"] = j.admit_provider(client, "Meadow Lane Learning", dps_id=record["id"])
    found["referral"] = j.refer_child(client, lot=1, dps_id=record["id"])
    return found


def test_a_successor_dps_admits_a_provider_that_the_other_services_know_on_it(client, successor, last_week, tap):
    record, newcomer = successor["record"], successor["provider"]
    dps_id = record["id"]
    assert (record["regime"], record["statutory_end"], record["start"]) == (
        "pa2023_dynamic_market", None, TODAY.isoformat())
    assert [lot["number"] for lot in record["lots"]] == [1, 2]
    assert [r["id"] for r in client.call_all("provider_registry", "/v1/dps-records", j.PUBLIC)] == [FIRST, dps_id]
    listed = successor["listed"]
    assert (listed["regime"], listed["statutory_end"], listed["ends_on"]) == (
        "pa2023_dynamic_market", None, record["ends_on"])

    [admitted] = tap.wait_for(lambda e: e["type"] == "membership.admitted"
                              and e["data"]["provider_id"] == str(newcomer.id))
    assert (admitted["data"]["dps_id"], admitted["data"]["lot"]) == (dps_id, 1)
    shown = client.call("GET", "provider_registry", f"/v1/providers/{newcomer.id}", j.MANAGER)
    assert [(m["dps_id"], m["lot"], m["status"]) for m in shown["memberships"]] == [(dps_id, 1, "admitted")]
    # Referrals' and awards' copies of the registry: the newcomer is on the successor's lot 1, not the first's.
    in_referrals = client.call_all("referrals", "/v1/registry/memberships", j.MANAGER,
                                   query={"provider_id": newcomer.id})
    assert [(m["dps_id"], m["lot"], m["status"]) for m in in_referrals] == [(dps_id, 1, "admitted")]
    in_awards = [r for r in client.call_all("awards", "/v1/providers", j.MANAGER, query={"lot": 1})
                 if r["provider_id"] == str(newcomer.id)]
    assert [(r["dps_id"], r["membership_status"]) for r in in_awards] == [(dps_id, "admitted")]

    # A referral on the successor invites its members only; one on the first DPS invited the first's.
    referral = successor["referral"]
    assert referral.invited == [str(newcomer.id)]
    assert j.council_view(client, referral)["dps_id"] == dps_id
    assert str(newcomer.id) not in last_week["referral"].invited


# --------------------------------------------------------------------------- 3. the day after the end


def move_statutory_end(system: System, to: str) -> dict:
    """As an operator would: the registry's jobs run now with the new setting."""
    done = subprocess.run([*DPS, "run-jobs", "provider_registry", "--force"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**system["provider_registry"].env, "DPS_PCR2015_STATUTORY_END": to})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def day_after(client, running_system, last_week, successor):
    """A second referral on the first DPS is assessed; then the statutory end moves to yesterday: its
    award is refused, and so is publishing a new referral on the first DPS."""
    client.chapter("The day after the statutory end")
    found: dict = {}
    bridges, harbour = last_week["providers"]
    referral = found["referral"] = j.refer_child(client, lot=1, dps_id=FIRST)
    offer_and_assess(client, [harbour, bridges], referral)

    found["ran"] = move_statutory_end(running_system, YESTERDAY.isoformat())
    client.say("Operator", f"moves the statutory end to {YESTERDAY.isoformat()} and runs the registry's jobs")
    found["registry"] = registry_record(client, FIRST)
    found["awards"] = client.wait_for("awards to hear the new statutory end", lambda: (
        (record := awards_record(client, FIRST)) and record["ends_on"] == YESTERDAY.isoformat() and record))
    try:
        j.award(client, referral)
    except j.Refused as refused:
        found["refused_award"] = refused
        client.say(j.OFFICER, f"tries to award -> refused {refused.status}: {refused.message}")

    # The successor still admits: once referrals has this admission (sent after the new end), it has the end.
    found["late_joiner"] = j.admit_provider(client, "Riverside Tutors", dps_id=successor["record"]["id"])
    late = found["late_referral"] = j.refer_child(client, lot=1, dps_id=FIRST, publish=False)
    try:
        j.publish_referral(client, late)
    except j.Refused as refused:
        found["refused_publication"] = refused
        client.say(j.OFFICER, f"tries to publish a new referral on the first DPS -> refused {refused.status}: "
                              f"{refused.message}")
    # The call-off awarded before the end runs on: its child starts.
    found["started"] = j.start_placement(client, bridges, last_week["award"].placement_id)
    return found


def test_the_day_after_the_statutory_end_the_award_is_refused_naming_the_date_and_regulation(client, day_after,
                                                                                             tap):
    assert "dps_statutory_end" in day_after["ran"]["ran"]
    registry = day_after["registry"]
    assert (registry["statutory_end"], registry["ends_on"], registry["open"]) == (
        YESTERDAY.isoformat(), YESTERDAY.isoformat(), False)
    assert (day_after["awards"]["statutory_end"], day_after["awards"]["ends_on"]) == (
        YESTERDAY.isoformat(), YESTERDAY.isoformat())
    configured = tap.wait_for(lambda e: e["type"] == "dps.configured" and e["data"]["dps_id"] == FIRST
                              and e["data"]["ends_on"] == YESTERDAY.isoformat())
    assert configured[0]["data"]["statutory_end"] == YESTERDAY.isoformat()

    refused = day_after.get("refused_award")
    assert refused is not None, "the award after the statutory end was made"
    assert refused.status == 409
    assert YESTERDAY.isoformat() in refused.message and REGULATION in refused.message, refused.message
    referral = day_after["referral"]
    assert client.call("GET", "awards", "/v1/awards", j.OFFICER, query={"referral_id": referral.id}) == []
    assert j.council_view(client, referral)["status"] != "awarded"

    refused_publication = day_after.get("refused_publication")
    assert refused_publication is not None, "a referral was published on the first DPS after its end"
    assert refused_publication.status == 409
    assert YESTERDAY.isoformat() in refused_publication.message and REGULATION in refused_publication.message
    assert j.council_view(client, day_after["late_referral"])["status"] == "draft"

    # The call-off awarded in the last week runs on; the successor still admits.
    assert day_after["started"]["status"] == "started"
    tap.wait_for(lambda e: e["type"] == "placement.started")
    tap.wait_for(lambda e: e["type"] == "membership.admitted"
                 and e["data"]["provider_id"] == str(day_after["late_joiner"].id))
    # Nothing was awarded for the refused referral, nor published for the late one.
    assert not of_type(tap.received, "placement.awarded", referral_id=referral.id)
    assert not of_type(tap.received, "referral.published", referral_id=day_after["late_referral"].id)
