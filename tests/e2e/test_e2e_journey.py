"""Issue 7's journey against the four services as real processes, each on its
own PostgreSQL database, on the real RabbitMQ.

The journey runs once per module (demo.journey: the same steps `make demo`
narrates); each test then asserts one part of it through the public APIs, as
a council officer, the manager, a provider's system, a reporting tool or the
public would see it, and through the events on the four `dps.*` exchanges
(a queue bound with `#` before the journey starts)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from demo import journey as j
from services.referrals.domain import census_items as census_items_module
from services.referrals.domain.census_items import census_items
from shared.calendar import WORKING_DAYS, ap_census_day, school_calendar
from shared.catalogue import CATALOGUE
from tests.support.runtime import token, wait_until

pytestmark = pytest.mark.integration

# Every event the journey makes, by type (the refused offers make none).
EXPECTED_EVENTS = Counter({
    "membership.admitted": 5, "membership.suspended": 1, "referral.published": 1, "offer.submitted": 3,
    "provider.contacts_changed": 4,  # each provider's first notification address: its safeguarding lead's
    "referral.closed": 1, "placement.awarded": 1, "offer.unsuccessful": 4, "placement.started": 1,
    "attendance.recorded": 1, "concern.raised": 1, "review.recorded": 1, "outcome.recorded": 2,
    "placement.ended": 1, "block_contract.awarded": 1,
    # each applicant told of receipt and decision; the invited providers of the mini-competition
    "application.submitted": 4, "application.decided": 4, "mini_competition.published": 1,
})


# --------------------------------------------------------------------------- the journey, once


@pytest.fixture(scope="module")
def call_off(client):
    return j.call_off_journey(client)


@pytest.fixture(scope="module")
def block(client, call_off):
    return j.block_journey(client, call_off.providers, bid_window=6)


@pytest.fixture(scope="module")
def events(tap, call_off, block) -> list[dict]:
    """Every event of the whole journey, in the order the broker delivered them."""
    for type_, count in EXPECTED_EVENTS.items():
        tap.wait_for(lambda e, t=type_: e["type"] == t, count=count, timeout=30)
    return list(tap.received)


def providers(call_off) -> tuple[j.Provider, j.Provider, j.Provider, j.Provider]:
    return tuple(call_off.providers[k] for k in ("bridges", "oakwood", "harbour", "northgate"))


def of_type(events: list[dict], type_: str, **data) -> list[dict]:
    return [e for e in events if e["type"] == type_
            and all(str(e["data"].get(k)) == str(v) for k, v in data.items())]


def types_about(events: list[dict], key: str, value) -> list[str]:
    return [e["type"] for e in events if str(e["data"].get(key)) == str(value)]


def positions(types: list[str], type_: str) -> list[int]:
    return [i for i, t in enumerate(types) if t == type_]


# --------------------------------------------------------------------------- providers


def test_four_providers_join_lot_1_and_the_suspended_one_gets_no_referral(client, call_off, events):
    bridges, oakwood, harbour, northgate = providers(call_off)
    referral = call_off.referral

    # The registry's record, as the manager sees it.
    record = client.call("GET", "provider_registry", f"/v1/providers/{bridges.id}", j.MANAGER)
    assert {m["lot"]: m["status"] for m in record["memberships"]} == {1: "admitted", 2: "admitted"}
    lines = {line["description"]: line["maximum_price_pence"]
             for line in record["memberships"][0]["pricing"]["pricing_lines"]}
    assert lines == {"Group place per week": 45_000, "1:1 tuition per hour": 5_500}
    assert client.call("GET", "provider_registry", f"/v1/providers/{oakwood.id}",
                       j.MANAGER)["registration"]["setting_kind"] == "unregistered"
    suspended = client.call("GET", "provider_registry", f"/v1/providers/{northgate.id}", j.MANAGER)
    assert suspended["memberships"][0]["status"] == "suspended"
    assert suspended["memberships"][0]["reason"].startswith("Safeguarding concern")
    # The public directory of lot 1: the admitted, not the suspended.
    listed = {e["provider_id"] for e in client.call("GET", "provider_registry", "/v1/directory", j.PUBLIC,
                                                    query={"lot": 1})}
    assert {str(bridges.id), str(oakwood.id), str(harbour.id)} <= listed
    assert str(northgate.id) not in listed

    # The events: each admission (with registration and pricing), then the suspension.
    admitted = {(e["data"]["provider_id"], e["data"]["lot"]): e["data"] for e in of_type(events, "membership.admitted")}
    assert set(admitted) == {(str(bridges.id), 1), (str(bridges.id), 2), (str(oakwood.id), 1),
                             (str(harbour.id), 1), (str(northgate.id), 1)}
    assert admitted[(str(oakwood.id), 1)]["registration_status"] == "unregistered"
    assert admitted[(str(bridges.id), 1)]["registration_status"] == "registered_school"
    assert {line["description"]: line["maximum_price_pence"]
            for line in admitted[(str(harbour.id), 1)]["pricing_lines"]}["Group place per week"] == 48_000
    northgate_types = [t for t in types_about(events, "provider_id", northgate.id) if t.startswith("membership.")]
    assert northgate_types[:2] == ["membership.admitted", "membership.suspended"]

    # Publishing invited exactly the three eligible providers; the suspended one got no invitation.
    assert set(referral.invited) == {str(bridges.id), str(oakwood.id), str(harbour.id)}
    published = of_type(events, "referral.published")
    assert [e["data"]["referral_id"] for e in published] == [referral.id]
    assert set(published[0]["data"]["invited_provider_ids"]) == set(referral.invited)
    assert not any(str(northgate.id) in e["data"]["invited_provider_ids"] for e in published)
    # Each read it while it could offer; once the award decided their offers, only the winner keeps it.
    winner = call_off.award.provider_id

    def listed_by(provider) -> bool:
        seen = client.call("GET", "referrals", "/v1/provider/referrals", provider.actor, query={"open_only": "false"})
        return referral.id in {r["referral_id"] for r in seen}

    wait_until(lambda: [listed_by(p) for p in (bridges, oakwood, harbour)] == [
        str(p.id) == winner for p in (bridges, oakwood, harbour)], timeout=30,
        message="referrals has the award: only the winner lists the referral")
    loser = next(p for p in (bridges, oakwood, harbour) if str(p.id) != winner)
    closed = j.provider_view_of_referral(client, loser, referral)
    assert closed.status == 404 and "closed to you" in closed.text
    assert client.call("GET", "referrals", "/v1/provider/referrals", northgate.actor,
                       query={"open_only": "false"}) == []
    assert call_off.suspended_view_status == 404
    assert call_off.suspended_offer.status == 403
    assert not of_type(events, "offer.submitted", provider_id=northgate.id)


# --------------------------------------------------------------------------- the referral and offers


def test_the_referral_shows_the_sixth_school_day_and_providers_see_only_the_profile(client, call_off, events):
    referral = call_off.referral
    view = j.council_view(client, referral)
    exclusion_start = date.fromisoformat(view["exclusion_start"])
    sixth_day = school_calendar().nth_open_day(exclusion_start, 6).isoformat()
    assert view["full_time_provision_by"] == referral.full_time_provision_by == sixth_day
    assert view["child"]["upn"] == referral.child["upn"]  # the council side has the child's details

    published = of_type(events, "referral.published")[0]["data"]
    assert published["full_time_provision_by"] == sixth_day
    assert published["profile"]["reason"] == "permanent_exclusion"
    winner = next(p for p in call_off.providers.values() if str(p.id) == call_off.award.provider_id)
    shown = client.call("GET", "referrals", f"/v1/provider/referrals/{referral.id}", winner.actor)  # it keeps it
    assert shown["full_time_provision_by"] == sixth_day
    assert "child" not in shown and "child_ref" not in shown
    text = json.dumps(shown)
    for detail in identifying(referral.child):
        assert detail not in text


def test_an_offer_above_the_maximum_price_is_refused_naming_the_field_and_the_maximum(call_off, events):
    refused = call_off.refused_offer
    assert refused.status == 422
    assert "unit_price_pence" in refused.fields
    assert "48000" in " ".join(refused.fields["unit_price_pence"])
    harbour = call_off.providers["harbour"]
    assert call_off.offers["harbour"].unit_price_pence == 46_000
    submitted = of_type(events, "offer.submitted", referral_id=call_off.referral.id)
    assert Counter(e["data"]["provider_id"] for e in submitted) == Counter(
        str(p.id) for p in providers(call_off)[:3])
    assert len(of_type(events, "offer.submitted", provider_id=harbour.id)) == 1
    assert all("unit_price_pence" not in e["data"] for e in submitted)  # offers are sealed


# --------------------------------------------------------------------------- close, assess, rank, award


def test_the_window_closes_and_the_officer_assesses_ranks_and_awards_the_best_value(client, call_off, events):
    bridges, oakwood, harbour, _ = providers(call_off)
    referral = call_off.referral
    assert call_off.closed["status"] == "closed" and call_off.closed["closed_by"] == j.OFFICER.sub
    assert call_off.closed["answered_count"] == call_off.closed["invited_count"] == 3
    assert [a["assessment"]["meets_needs"] for a in call_off.assessed] == [True, True, True]

    entries = call_off.ranking["entries"]
    assert [(e["provider_id"], e["rank"], e["eligible"]) for e in entries] == [
        (str(bridges.id), 1, True), (str(harbour.id), 2, True), (str(oakwood.id), None, False)]
    assert {r["rule"] for r in entries[2]["reasons"]} == {"registration"}
    assert [e["total_pence"] for e in entries] == [504_000, 552_000, 456_000]

    award = call_off.award
    assert (award.provider_id, award.offer_id, award.total_pence) == (
        str(bridges.id), call_off.offers["bridges"].id, 504_000)
    assert award.view["ranking"]["entries"] == entries  # the award keeps the ranking it was made from
    listed = client.call("GET", "awards", "/v1/awards", j.OFFICER, query={"referral_id": referral.id})
    assert [a["award_id"] for a in listed] == [award.id]
    mine = client.call("GET", "awards", "/v1/awards", bridges.actor)
    assert [a["award_id"] for a in mine] == [award.id] and "ranking" not in mine[0]
    assert client.call("GET", "awards", "/v1/awards", harbour.actor) == []
    view = j.council_view(client, referral)
    assert view["status"] == "awarded" and view["awarded_offer_id"] == award.offer_id

    closed = of_type(events, "referral.closed", referral_id=referral.id)[0]["data"]
    assert closed["child_ref"] == referral.child_ref and closed["full_time"] is True
    assert {o["offer_id"]: o["unit_price_pence"] for o in closed["offers"]} == {
        o.id: o.unit_price_pence for o in call_off.offers.values()}
    awarded = of_type(events, "placement.awarded", referral_id=referral.id)[0]["data"]
    assert (awarded["award_id"], awarded["placement_id"], awarded["provider_id"], awarded["total_pence"]) == (
        award.id, award.placement_id, str(bridges.id), 504_000)
    unsuccessful = {e["data"]["provider_id"]: e["data"]["reason"]
                    for e in of_type(events, "offer.unsuccessful", referral_id=referral.id)}
    assert set(unsuccessful) == {str(harbour.id), str(oakwood.id)}
    assert unsuccessful[str(harbour.id)].startswith("ranked 2")
    assert "unregistered setting" in unsuccessful[str(oakwood.id)]


# --------------------------------------------------------------------------- the placement


def test_the_placement_starts_raises_a_concern_is_reviewed_and_ends_in_reintegration(client, call_off, events):
    bridges = call_off.providers["bridges"]
    placement_id = call_off.award.placement_id
    today = j.council_today()
    assert call_off.placement_awarded["status"] == "awarded"
    assert call_off.placement_awarded["referral_id"] == call_off.referral.id
    assert call_off.placement_awarded["child_ref"] == call_off.referral.child_ref
    assert call_off.started["status"] == "started" and call_off.started["started_on"] == today.isoformat()

    assert [c["kind"] for c in call_off.attendance["concerns_raised"]] == ["low_attendance"]
    assert call_off.attendance["week"]["rate"] == pytest.approx(0.6)
    concerns = j.concerns(client, placement_id)
    assert [(c["kind"], c["acknowledged_by"]) for c in concerns] == [("low_attendance", j.OFFICER.sub)]

    final = j.placement(client, placement_id)
    assert (final["status"], final["end_reason"], final["next_step"]) == (
        "ended", "moved_on_early", "reintegrated_mainstream")
    assert final["weeks_returned"] == 1 and final["attendance_rate"] == pytest.approx(0.6)
    assert final["last_review_on"] == today.isoformat() and final["open_concerns"] == 0
    reviews = client.call("GET", "tracking", f"/v1/placements/{placement_id}/reviews", j.OFFICER)
    assert [r["attendance"] for r in reviews] == ["improving"]
    outcomes = client.call("GET", "tracking", f"/v1/placements/{placement_id}/outcomes", bridges.actor)
    assert [(o["stage"], o["next_step"]) for o in outcomes] == [("review", None), ("end", "reintegrated_mainstream")]
    assert outcomes[1]["qualifications"][0]["name"] == "Functional Skills English"
    # The provider's own view: never the child's reference.
    assert j.placement(client, placement_id, bridges.actor)["child_ref"] is None

    concern = of_type(events, "concern.raised", placement_id=placement_id)[0]["data"]
    assert (concern["kind"], concern["rate"]) == ("low_attendance", 0.6)
    ended = of_type(events, "placement.ended", placement_id=placement_id)[0]["data"]
    assert (ended["next_step"], ended["ended_on"]) == ("reintegrated_mainstream", today.isoformat())


def test_the_reports_and_the_ocds_export_show_the_placement(client, call_off):
    bridges = call_off.providers["bridges"]
    award = call_off.award
    reports = call_off.reports
    [row] = reports["accountability"]
    assert (row["placements"], row["ended"], row["concerns"]) == (1, 1, 1)
    assert row["reintegration_rate"] == pytest.approx(1.0)
    assert row["average_attendance_rate"] == pytest.approx(0.6)
    # it ended on the day it started: one day's share of the agreed cost, not the whole (issue #16)
    first, expected_end = (date.fromisoformat(call_off.started[k]) for k in ("started_on", "expected_end_date"))
    agreed_days = (expected_end - first).days + 1
    one_day = (2 * award.total_pence + agreed_days) // (2 * agreed_days)
    assert sum(r["committed_pence"] for r in reports["committed_spend"]) == one_day
    # it ended today, so today it is no longer active (issue #16 item 9)
    assert reports["active_placements"] == []
    # the excluded child's sixth day: the deadline referrals worked out, reported by tracking (issue #16)
    sixth_day = client.call("GET", "tracking", "/v1/reports/sixth-day", j.REPORTING)
    [child] = [row for row in sixth_day if row["referral_id"] == str(call_off.referral.id)]
    assert child["full_time_provision_by"] == call_off.referral.full_time_provision_by
    assert child["sixth_day_status"] in ("met", "at_risk", "missed")
    as_csv = client.send("GET", "tracking", "/v1/reports/accountability", j.REPORTING, query={"format": "csv"})
    assert as_csv.status == 200 and str(bridges.id) in as_csv.text

    # Call-offs are published with their quarter's once it is over (tests/api/awards/test_awards_api_open_data.py);
    # the DPS's release lists the admitted supplier on its lot now.
    assert call_off.ocds_release is None
    package = client.send("GET", "awards", "/v1/ocds/release-package", j.PUBLIC).text
    dps = json.loads(package)["releases"][0]
    [admission] = [a for a in dps["awards"] if a["suppliers"][0]["name"] == bridges.name]
    assert "1" in admission["relatedLots"]
    for detail in identifying(call_off.referral.child) + [call_off.referral.child_ref, call_off.referral.id]:
        assert detail not in package

    [row] = [r for r in csv.DictReader(io.StringIO(call_off.csv)) if r["award_id"] == award.id]
    assert (row["provider_name"], row["total_pence"], row["offers_received"]) == (bridges.name, "504000", "3")


# --------------------------------------------------------------------------- the events


def test_events_flow_in_order_for_each_referral_placement_and_provider(call_off, events):
    counted = Counter(e["type"] for e in events)
    assert counted == EXPECTED_EVENTS
    for envelope in events:  # each from the service the catalogue names as its producer
        assert CATALOGUE[envelope["type"]].producer == envelope["producer"]

    about_referral = types_about(events, "referral_id", call_off.referral.id)
    first = about_referral.index
    assert about_referral[0] == "referral.published"
    assert positions(about_referral, "offer.submitted")[-1] < first("referral.closed") < first("placement.awarded")
    assert first("placement.awarded") < first("offer.unsuccessful")
    assert first("placement.awarded") < first("placement.started") < first("placement.ended")

    assert types_about(events, "placement_id", call_off.award.placement_id) == [
        "placement.awarded", "placement.started", "attendance.recorded", "concern.raised", "review.recorded",
        "outcome.recorded", "placement.ended", "outcome.recorded"]

    bridges = call_off.providers["bridges"]
    about_bridges = types_about(events, "provider_id", bridges.id)
    assert [t for t in about_bridges if t.startswith("membership.")][:2] == ["membership.admitted",
                                                                              "membership.admitted"]
    assert about_bridges.index("offer.submitted") < about_bridges.index("placement.awarded") < \
        about_bridges.index("placement.started") < about_bridges.index("block_contract.awarded")


def test_no_event_carries_the_childs_name_upn_date_of_birth_or_address(call_off, events):
    child = call_off.referral.child
    for envelope in events:
        text = json.dumps(envelope)
        for detail in identifying(child):
            assert detail not in text, (envelope["type"], detail)


def identifying(child: dict) -> list[str]:
    """The child's name (whole and each part), UPN, date of birth and address (and its postcode)."""
    address = child["address"]
    return ([child["name"], *child["name"].split(), child["upn"], child["date_of_birth"], address,
             address.split(",")[0], address.rsplit(" ", 2)[-2] + " " + address.rsplit(" ", 2)[-1]])


# --------------------------------------------------------------------------- the block mini-competition


def test_a_block_mini_competition_with_three_bidders_and_two_evaluators_runs_to_award(client, call_off, block,
                                                                                       events):
    bridges, oakwood, harbour, northgate = providers(call_off)
    opportunity = block.opportunity
    assert set(opportunity.invited) == {str(bridges.id), str(oakwood.id), str(harbour.id)}

    scores = client.call("GET", "awards", f"/v1/opportunities/{opportunity.id}/scores", j.MANAGER)
    assert {s["evaluator_id"] for s in scores["evaluator_scores"]} == {e.sub for e in j.EVALUATORS}
    assert len(scores["evaluator_scores"]) == 2 * 3 * 2 and len(scores["moderated"]) == 3 * 2

    results = {r["provider_id"]: r for r in block.evaluation["results"]}
    assert [results[str(p.id)]["rank"] for p in (bridges, harbour)] == [1, 2]
    assert results[str(oakwood.id)]["excluded"] and results[str(oakwood.id)]["rank"] is None
    # 50% quality (60/40 criteria on a 0-5 scale), 50% price against the lowest bid still in.
    assert results[str(bridges.id)]["quality"] == pytest.approx(50 * (0.6 * 4 / 5 + 0.4 * 5 / 5))
    assert results[str(harbour.id)]["price"] == pytest.approx(50 * 7_800_000 / 8_600_000, abs=0.01)

    awarded = block.awarded
    standstill_ends = WORKING_DAYS.add_days(j.council_today(), 8).isoformat()
    assert awarded["awarded"] is True and awarded["standstill_ends_on"] == standstill_ends
    assert block.summaries["bridges"]["successful"] is True
    assert block.summaries["harbour"]["successful"] is False and block.summaries["harbour"]["rank"] == 2
    assert block.summaries["oakwood"]["excluded"]
    # each bidder is told the winner by name (PCR 2015 regulation 86), with the reasons
    assert {v["winner_name"] for v in block.summaries.values()} == {bridges.name}
    assert block.summaries["harbour"]["reasons"][0].startswith("ranked 2 of 2")
    assert client.send("GET", "awards", f"/v1/opportunities/{opportunity.id}/summaries/{bridges.id}",
                       harbour.actor).status == 403

    # Confirmation during the standstill is refused; there is no contract, so no place to allocate yet.
    assert block.confirmation_refused is not None and block.confirmation_refused.status == 409
    assert standstill_ends in block.confirmation_refused.message
    assert client.call("GET", "awards", f"/v1/opportunities/{opportunity.id}", j.OFFICER)["status"] == "standstill"
    assert [c for c in client.call("GET", "awards", "/v1/block-contracts", j.MANAGER)
            if c["opportunity_id"] == opportunity.id] == []

    [contract_awarded] = of_type(events, "block_contract.awarded", opportunity_id=opportunity.id)
    assert (contract_awarded["data"]["provider_id"], contract_awarded["data"]["standstill_ends_on"]) == (
        str(bridges.id), standstill_ends)
    assert {e["data"]["provider_id"] for e in of_type(events, "offer.unsuccessful", opportunity_id=opportunity.id)} \
        == {str(harbour.id), str(oakwood.id)}
    assert not of_type(events, "block_contract.confirmed") and not of_type(events, "block_place.allocated")
    assert str(northgate.id) not in {e["data"].get("provider_id") for e in events
                                     if e["type"].startswith(("block_", "offer."))}


def test_with_no_standstill_a_child_takes_a_place_of_the_block_contract_the_same_day(client, call_off, events, tap):
    quick = j.block_journey(client, call_off.providers, bid_window=6, standstill_working_days=0)
    contract = quick.contract or j.confirm_block_contract(client, quick.opportunity)
    referral, allocation = j.place_child_in_block(client, call_off.providers, str(contract["contract_id"]))
    placement = j.placement(client, str(allocation["placement_id"]))
    assert placement["source"] == "block_place" and placement["contract_id"] == contract["contract_id"]
    client.wait_for("referrals to note the block place", lambda: j.council_view(
        client, referral)["awarded_allocation_id"] == str(allocation["allocation_id"]))
    tap.wait_for(lambda e: e["type"] == "block_place.allocated" and e["data"]["referral_id"] == referral.id)


# --------------------------------------------------------------------------- children's data


def test_a_subject_access_bundle_holds_the_childs_data_from_every_service_and_no_other_childs(client, call_off,
                                                                                              events):
    from shared.subject_access import bundle, render_html

    other = j.refer_child(client, child=j.a_child(age=12), publish=False)
    child = call_off.referral
    found = bundle(child.child_ref, client.urls, token("manager", sub="vls-manager"))

    sections = found["services"]
    assert sections["provider_registry"] is None  # the registry holds nothing about children
    referrals, awards, tracking = sections["referrals"], sections["awards"], sections["tracking"]
    assert [i["upn"] for i in referrals["records"]["identity"]] == [child.child["upn"]]
    assert [r["id"] for r in referrals["records"]["referrals"]] == [child.id]
    assert [a["placement_id"] for a in awards["records"]["awards"]] == [call_off.award.placement_id]
    assert [p["placement_id"] for p in tracking["records"]["placements"]] == [call_off.award.placement_id]
    assert tracking["records"]["attendance_returns"] and tracking["records"]["outcomes"]
    assert all(s["made_by"] == "vls-manager" for s in (referrals, awards, tracking))

    text = json.dumps(found)
    for detail in [other.child_ref, other.id, other.child["upn"]]:
        assert detail not in text  # nothing of another child
    page = render_html(found)
    assert child.child["upn"] in page and "<script" not in page

    audit = client.call("GET", "referrals", "/v1/audit", j.MANAGER,
                        query={"subject_type": "child", "subject_id": child.child_ref})
    assert "subject_access.made" in [e["action"] for e in audit]


# --------------------------------------------------------------------------- off the DPS, the sixth day, the census


@pytest.fixture(scope="module")
def off_dps(client, call_off, block, events):
    """Issue 16's oversight of a placement off the DPS, to the sixth-day report and the AP census (after the
    journey's own events are counted)."""
    return j.off_dps_journey(client, call_off.providers, also_reported=[call_off.referral])


def test_an_off_dps_placement_is_recorded_with_its_checks_approved_and_tracked(client, off_dps, tap):
    referral, today = off_dps.referral, j.council_today().isoformat()
    exception = off_dps.exception
    assert (exception["provider"]["setting_kind"], exception["recorded_by"]) == ("registered_school", j.OFFICER.sub)
    assert {name: check["confirmed"] for name, check in exception["checks"].items()} == dict.fromkeys(
        j.OFF_DPS_CHECKS, True)
    approved = off_dps.approved
    assert (approved["status"], approved["decided_by"], approved["registration_refusals"]) == (
        "approved", j.MANAGER.sub, [])
    assert approved["full_time"] is True and approved["urn"] == exception["provider"]["urn"]

    placement_id = str(approved["placement_id"])
    tracked = j.placement(client, placement_id)
    assert (tracked["source"], tracked["status"], tracked["started_on"]) == ("off_dps", "started", today)
    assert (tracked["provider_name"], tracked["child_ref"]) == ("Hillside Independent School", referral.child_ref)
    assert tracked["weeks_returned"] == 1 and tracked["attendance_rate"] == pytest.approx(0.9)
    assert off_dps.attendance["concerns_raised"] == []  # 90%: above the council's threshold

    tap.wait_for(lambda e: e["type"] == "attendance.recorded" and e["data"]["placement_id"] == placement_id,
                 timeout=30)
    about = [e["type"] for e in tap.received if referral.id in (e["data"].get("referral_id"),)
             or e["data"].get("placement_id") == placement_id]
    assert about[0] == "referral.published" and about.count("offer.declined") == 3
    order = ["referral.closed", "off_dps_exception.recorded", "off_dps_placement.approved", "placement.started",
             "attendance.recorded"]
    assert [t for t in about if t in order] == order
    for envelope in tap.received:  # nothing of the child's identity on any event
        text = json.dumps(envelope)
        for detail in identifying(referral.child) + [referral.child["surname"]]:
            assert detail not in text, (envelope["type"], detail)


def test_the_sixth_day_report_shows_the_excluded_child_with_its_deadline_first_full_time_day_and_status(
        off_dps, call_off):
    today = j.council_today()
    row = off_dps.sixth_day[off_dps.referral.id]
    sixth_school_day = school_calendar().nth_open_day(today, 6)  # the exclusion began today
    assert row["full_time_provision_by"] == off_dps.referral.full_time_provision_by == sixth_school_day.isoformat()
    assert (row["child_ref"], row["reason_for_ap"], row["lot"]) == (
        off_dps.referral.child_ref, "permanent_exclusion", 1)
    if school_calendar().nth_open_day(today, 1) == today:
        # a school day: the approved off-DPS placement that started today is full-time provision from today
        assert (row["first_full_time_day"], row["sixth_day_status"], row["missed_by_school_days"]) == (
            today.isoformat(), "met", None)
    else:  # a weekend or holiday: the duty (and full-time provision) counts from the next school day
        assert (row["first_full_time_day"], row["sixth_day_status"]) == (None, "at_risk")
    assert row["placed_part_time_only"] is False  # a full-time placement
    # the call-off child, excluded too, is reported beside it with its own deadline
    called = off_dps.sixth_day[call_off.referral.id]
    assert called["full_time_provision_by"] == call_off.referral.full_time_provision_by
    assert called["sixth_day_status"] in ("met", "at_risk", "missed")


def published_items() -> list[dict]:
    """DfE's item list as the project publishes it (read here straight from the file)."""
    path = Path(census_items_module.__file__).with_name("ap_census_items.json")
    return json.loads(path.read_text(encoding="utf-8"))["items"]


def test_the_ap_census_return_has_the_off_dps_child_with_dfe_items_and_not_the_ended_or_post16(
        client, off_dps, call_off):
    census, today = off_dps.census, j.council_today()
    assert census["census_day"] == ap_census_day(off_dps.census_year).isoformat() > today.isoformat()
    assert census["items"] == [item["column"] for item in published_items()]

    child = off_dps.referral.child
    [pupil] = [p for p in census["pupils"] if p["child_ref"] == off_dps.referral.child_ref]
    assert pupil["placement_id"] == str(off_dps.approved["placement_id"]) and pupil["team"] == "exclusions"
    assert pupil["items"] == {
        "UPN": child["upn"], "Surname": child["surname"], "Forename": child["forename"],
        "DOB": child["date_of_birth"], "Sex": "F", "Ethnicity": "WBRI", "SENprovision": "N", "FSMeligible": "1",
        "Address": child["address"], "Postcode": "SE15 4QT",
        "URN": off_dps.exception["provider"]["urn"], "UKPRN": "", "APTypeOfSetting": "",  # as the officer recorded
        "APReason": "PEX", "APEntryDate": today.isoformat(), "APAttendancePattern": "F",
        "APSessionsPerWeek": "8"}  # 25 hours of DfE's 32.5-hour, 10-session week, rounded up
    # the exception names a registered school; whether independent or non-maintained is the council's to add
    assert [p["item"] for p in pupil["problems"]] == ["URN"] and "establishment type" in pupil["problems"][0]["reason"]
    assert census_items().problems(pupil["items"]) == []  # every item as DfE's list has it

    # scope: the ended placement is not on roll on census day; the young person of 20 is not the census's
    pupils = {p["child_ref"] for p in census["pupils"]}
    left_out = {o["child_ref"]: o["reason"] for o in census["left_out"]}
    assert call_off.referral.child_ref not in pupils and call_off.referral.child_ref not in left_out
    assert off_dps.post16.child_ref not in pupils
    assert "not aged 2 to 18" in left_out[off_dps.post16.child_ref]

    # nothing of it reaches a provider (nor the reporting role: it names children)
    bridges = call_off.providers["bridges"]
    for actor in (bridges.actor, j.REPORTING):
        assert client.send("GET", "referrals", "/v1/reports/ap-census", actor,
                           query={"year": off_dps.census_year}).status == 403


def test_the_ap_census_csv_is_dfe_items_with_a_byte_order_mark_and_crlf(off_dps, call_off):
    answer = off_dps.census_csv
    content_type = next(v for k, v in answer.headers.items() if k.lower() == "content-type")
    assert content_type.startswith("text/csv")
    raw = answer.body
    assert raw[:3] == b"\xef\xbb\xbf"  # UTF-8's byte order mark
    assert raw.endswith(b"\r\n") and raw.count(b"\n") == raw.count(b"\r\n")  # every line ends CRLF

    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    assert reader.fieldnames == [item["column"] for item in published_items()]
    rows = list(reader)
    [pupil] = [p for p in off_dps.census["pupils"] if p["child_ref"] == off_dps.referral.child_ref]
    [row] = [r for r in rows if r["UPN"] == off_dps.referral.child["upn"]]
    assert row == pupil["items"] and census_items().problems(row) == []
    upns = {r["UPN"] for r in rows}
    assert off_dps.post16.child["upn"] not in upns and call_off.referral.child["upn"] not in upns
