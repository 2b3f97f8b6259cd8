"""Open data that stays true (issue #15 item 7), through the API on the real database:
an ended placement published as ended at what it cost; call-offs grouped by quarter once
the quarter is over, with no finer date, and the grouped notices' due dates; the DPS
release's suppliers per lot, stable until its content changes; organisations' identifiers.
Every package is validated against the official schema and its declared extensions."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from shared.catalogue import FIRST_DPS_ID
from tests.api.awards.awards_ocds import additional_fields, codelist_problems, package_errors
from tests.api.awards.awards_support import (
    NOW,
    OFFICER,
    admit,
    at,
    close,
    closed_referral,
    feed,
    membership,
    offer,
)

IN_Q2 = datetime(2025, 6, 10, 9, 0, tzinfo=UTC)
AFTER_Q2 = datetime(2025, 7, 2, 9, 0, tzinfo=UTC)
QUARTER_EDGES = re.compile(r"^\d{4}-(01-01|04-01|07-01|10-01|03-31|06-30|09-30|12-31)T")


def valid(package: dict) -> dict:
    assert package_errors(package) == []
    assert codelist_problems(package) == []
    assert additional_fields(package) == []
    return package


def export(client) -> dict:
    response = client.get("/v1/ocds/release-package")
    assert response.status_code == 200
    return valid(response.json)


def call_offs(package: dict) -> list[dict]:
    return [r for r in package["releases"] if "-calloff-" in r["ocid"]]


def award(client, rt, provider, moment, unit_price=4000) -> dict:
    """A call-off of 15 hours a week for 12 weeks from Monday 7 April 2025, awarded at `moment`."""
    referral_id, priced = uuid.uuid4(), offer(provider, unit_price)
    close(rt, referral_id, [priced])
    at(rt, moment)
    response = client.post(f"/v1/referrals/{referral_id}/award", json={"offer_id": priced["offer_id"]},
                           headers=OFFICER)
    assert response.status_code == 201, response.json
    return response.json


def dates_in(value) -> list[str]:
    if isinstance(value, dict):
        return [d for v in value.values() for d in dates_in(v)]
    if isinstance(value, list):
        return [d for v in value for d in dates_in(v)]
    return [value] if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}T", value) else []


# --- a placement that ends early


def test_a_placement_that_ends_early_is_published_ended_at_what_it_cost(client, rt):
    provider = uuid.uuid4()
    admit(rt, provider, name="Riverside Learning Centre")
    awarded = award(client, rt, provider, NOW)  # GBP 40 x 15 hours x 12 weeks = GBP 7,200
    # Friday 2 May: the fourth week of twelve
    feed(rt, "placement.ended", {"placement_id": awarded["placement_id"], "provider_id": str(provider), "lot": 2,
                                 "ended_on": "2025-05-02", "end_reason": "moved_school",
                                 "at": "2025-05-02T16:00:00+00:00"})

    at(rt, IN_Q2)  # the quarter it ended in is not over: still published as awarded
    [running] = call_offs(export(client))
    assert running["contracts"][0]["status"] == "active" and "endDate" not in running["contracts"][0]["period"]
    assert running["contracts"][0]["value"] == {"amount": 7200, "currency": "GBP"}

    at(rt, AFTER_Q2)
    [ended] = call_offs(export(client))
    [contract] = ended["contracts"]
    assert contract["status"] == "terminated"
    assert contract["period"] == {"startDate": "2025-04-01T00:00:00+01:00", "endDate": "2025-06-30T23:59:59+01:00"}
    assert contract["value"] == {"amount": 2400, "currency": "GBP"}  # 4 of the 12 weeks
    [amendment] = contract["amendments"]
    assert "4 of the 12 weeks" in amendment["rationale"] and amendment["date"] == "2025-07-01T00:00:00+01:00"
    assert ended["awards"][0]["value"] == {"amount": 7200, "currency": "GBP"}  # what was awarded stays
    assert ended["tag"] == ["award", "contract", "contractTermination"]
    assert (ended["id"], ended["date"]) == (f"{ended['ocid']}-ended-2025-Q2", "2025-07-01T00:00:00+01:00")
    assert "moved_school" not in str(ended)


def test_a_placement_that_runs_its_course_ends_at_its_whole_value(client, rt):
    provider = uuid.uuid4()
    admit(rt, provider)
    awarded = award(client, rt, provider, NOW)
    feed(rt, "placement.ended", {"placement_id": awarded["placement_id"], "provider_id": str(provider), "lot": 2,
                                 "ended_on": "2025-06-27", "at": "2025-06-27T16:00:00+00:00"})
    at(rt, AFTER_Q2)

    [contract] = call_offs(export(client))[0]["contracts"]
    assert (contract["status"], contract["value"]["amount"]) == ("terminated", 7200)
    assert "amendments" not in contract


# --- grouped by quarter


def test_call_offs_are_published_by_quarter_once_it_is_over_with_no_finer_date(client, rt):
    provider = uuid.uuid4()
    admit(rt, provider, name="Sole Trader Tutoring")
    first = award(client, rt, provider, NOW)                                        # Q1
    second = award(client, rt, provider, datetime(2025, 4, 2, 9, 0, tzinfo=UTC))   # Q2
    at(rt, IN_Q2)

    package = export(client)
    [published] = call_offs(package)
    assert published["ocid"].endswith(first["award_id"]) and second["award_id"] not in str(package)
    assert (published["id"].rsplit("-", 2)[-2:], published["date"]) == (["2025", "Q1"], "2025-04-01T00:00:00+01:00")
    for moment in dates_in(published):
        assert QUARTER_EDGES.match(moment), moment
    assert "2025-03-12" not in str(published) and "2025-04-07" not in str(published)

    q1 = client.get("/v1/ocds/call-offs?year=2025&quarter=1")
    assert q1.status_code == 200 and [r["ocid"] for r in call_offs(valid(q1.json))] == [published["ocid"]]
    refused = client.get("/v1/ocds/call-offs?year=2025&quarter=2")
    assert refused.status_code == 409
    assert "2025-07-01" in refused.json["message"] and "regulation 50" in refused.json["message"]
    last = client.get("/v1/ocds/call-offs")  # the last quarter over
    assert last.status_code == 200 and last.json["releases"] == q1.json["releases"]
    half = client.get("/v1/ocds/call-offs?year=2025")
    assert half.status_code == 422 and "quarter" in half.json["errors"]["query"]

    at(rt, AFTER_Q2)
    assert [r["id"][-7:] for r in call_offs(export(client))] == ["2025-Q1", "2025-Q2"]


def test_the_grouped_award_notices_are_listed_with_their_due_dates(client, rt):
    assert client.get("/v1/ocds/award-notices").json == []
    provider = uuid.uuid4()
    admit(rt, provider)
    award(client, rt, provider, NOW)
    award(client, rt, provider, datetime(2025, 3, 31, 22, 30, tzinfo=UTC), unit_price=3000)  # 31 March, BST
    award(client, rt, provider, datetime(2025, 3, 31, 23, 30, tzinfo=UTC))  # 1 April at the council
    at(rt, AFTER_Q2)

    notices = client.get("/v1/ocds/award-notices")

    assert notices.status_code == 200
    assert [(n["quarter"], n["call_offs"], n["total_pence"], n["published_from"], n["notice_due"])
            for n in notices.json] == [("2025-Q1", 2, 1_260_000, "2025-04-01", "2025-04-30"),
                                       ("2025-Q2", 1, 720_000, "2025-07-01", "2025-07-30")]
    assert all(n["regulation"] == "PCR 2015 regulation 50" for n in notices.json)


# --- the DPS release


def test_the_dps_release_lists_its_admitted_suppliers_per_lot(client, rt):
    both, one, suspended = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    admit(rt, both, lot=1, name="Acorn Academy")
    admit(rt, both, lot=2, name="Acorn Academy")
    admit(rt, one, lot=2, name="Birch Tutors")
    admit(rt, suspended, lot=3, name="Cedar Care")
    membership(rt, "suspended", suspended, lot=3)

    dps = export(client)["releases"][0]

    assert [(a["suppliers"][0]["name"], a["relatedLots"]) for a in dps["awards"]] == [
        ("Acorn Academy", ["1", "2"]), ("Birch Tutors", ["2"])]
    suppliers = {p["id"]: p for p in dps["parties"] if "supplier" in p["roles"]}
    assert set(suppliers) == {f"provider-{both}", f"provider-{one}"}
    assert all(a["suppliers"][0]["id"] in suppliers for a in dps["awards"])


def test_the_dps_release_changes_its_id_and_date_only_when_its_content_changes(client, rt):
    provider = uuid.uuid4()
    admit(rt, provider, name="Acorn Academy")
    first = export(client)["releases"][0]
    at(rt, IN_Q2)
    again = export(client)["releases"][0]
    assert (again["id"], again["date"]) == (first["id"], first["date"])

    later = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    admit(rt, uuid.uuid4(), name="Birch Tutors", at=later)
    changed = export(client)["releases"][0]
    assert changed["id"] != first["id"] and changed["date"] == later.isoformat()


# --- organisations' identifiers


def test_organisations_carry_their_identifiers_from_the_registrys_events(client, rt):
    provider = uuid.uuid4()
    earlier = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    feed(rt, "membership.admitted", {
        "provider_id": str(provider), "provider_name": "Acorn Academy Trust", "lot": 2, "status": "admitted",
        "registration_status": "registered_school", "setting_kind": "registered_school", "urn": "100001",
        "identifiers": [{"scheme": "GB-URN", "id": "100001"}, {"scheme": "GB-COH", "id": "07654321"}],
        "pricing_lines": [], "capacity": 3, "at": earlier.isoformat(), "dps_id": str(FIRST_DPS_ID)})

    [party] = [p for p in export(client)["releases"][0]["parties"] if p["id"] == f"provider-{provider}"]
    assert party["identifier"] == {"scheme": "GB-COH", "id": "07654321"}
    assert party["additionalIdentifiers"] == [{"scheme": "GB-URN", "id": "100001"}]

    registration = {"provider_id": str(provider), "provider_name": "Acorn Academy Trust",
                    "registration_status": "registered_school", "setting_kind": "registered_school",
                    "inspectorate": "ofsted", "last_inspection_date": "2024-11-02",
                    "last_inspection_outcome": "good", "urn": "100001"}
    feed(rt, "provider.registration_changed", {
        **registration, "identifiers": [{"scheme": "GB-CHC", "id": "1123456"}, {"scheme": "GB-UKPRN",
                                                                                 "id": "10012345"}],
        "at": datetime(2025, 3, 5, 9, 0, tzinfo=UTC).isoformat()})
    feed(rt, "provider.registration_changed", {  # late and older: ignored
        **registration, "identifiers": [], "at": datetime(2025, 3, 2, 9, 0, tzinfo=UTC).isoformat()})

    [party] = [p for p in export(client)["releases"][0]["parties"] if p["id"] == f"provider-{provider}"]
    assert party["identifier"] == {"scheme": "GB-CHC", "id": "1123456"}
    assert party["additionalIdentifiers"] == [{"scheme": "GB-UKPRN", "id": "10012345"}]


def test_a_call_offs_supplier_carries_its_identifiers(client, rt):
    provider = uuid.uuid4()
    admit(rt, provider)
    feed(rt, "provider.registration_changed", {
        "provider_id": str(provider), "provider_name": "Sole Trader Tutoring", "registration_status": "unregistered",
        "identifiers": [{"scheme": "GB-UKPRN", "id": "10099999"}], "at": NOW.isoformat()})
    award(client, rt, provider, NOW)
    at(rt, IN_Q2)

    [call_off] = call_offs(export(client))
    [supplier] = [p for p in call_off["parties"] if "supplier" in p["roles"]]
    assert supplier["identifier"] == {"scheme": "GB-UKPRN", "id": "10099999"}


# --- the DPS records (awards' replica of dps.configured)

SUCCESSOR = uuid.UUID("5b1d2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d")


def configured(**changes) -> dict:
    return {"dps_id": str(SUCCESSOR), "name": "AP Open Framework", "regime": "pa2023_open_framework",
            "start": "2025-01-06", "term_ends_on": "2028-12-31", "statutory_end": None, "ends_on": "2028-12-31",
            "status": "open", "lots": [1, 2], "agreed_minimum_window_days": None, "agreed_in_sla_version": None,
            "sla_version": "2", "at": "2025-01-06T09:00:00+00:00",
            "award_criteria": [{"code": "value", "name": "Value", "description": "Best value at the volume asked"},
                               {"code": "travel", "name": "Travel", "description": "Travel time for this child"}],
            **changes}


def test_the_dps_release_has_its_regime_its_period_to_the_statutory_end_and_its_award_criteria(client, rt):
    feed(rt, "dps.configured", configured(
        dps_id=str(FIRST_DPS_ID), name="Alternative Provision DPS", regime="pcr2015_dps",
        start="2024-04-01", term_ends_on="2031-03-31", statutory_end="2029-02-23", ends_on="2029-02-23",
        lots=[1, 2, 3, 4]))

    dps = export(client)["releases"][0]

    tender = dps["tender"]
    assert tender["tenderPeriod"] == {"startDate": "2024-04-01T00:00:00+01:00",
                                      "endDate": "2029-02-23T23:59:59+00:00"}
    assert "SI 2024/716 regulation 5(4)" in tender["description"] and "2031-03-31" in tender["description"]
    assert "regulation 34" in tender["procurementMethodDetails"]
    assert "Travel (travel): Travel time for this child" in tender["awardCriteriaDetails"]
    assert tender["techniques"] == {"hasDynamicPurchasingSystem": True,
                                    "dynamicPurchasingSystem": {"type": "closed", "status": "active"}}
    assert dps["date"] == "2025-01-06T09:00:00+00:00"  # the record's last change


def test_a_successor_is_published_beside_the_first_dps_with_the_providers_admitted_to_it(client, rt):
    feed(rt, "dps.configured", configured())
    first_only, both = uuid.uuid4(), uuid.uuid4()
    admit(rt, first_only, name="Acorn Academy")
    admit(rt, both, name="Birch Tutors")
    feed(rt, "membership.admitted", {
        "dps_id": str(SUCCESSOR), "provider_id": str(both), "provider_name": "Birch Tutors", "lot": 1,
        "status": "admitted", "registration_status": "registered_school", "pricing_lines": [], "capacity": 2,
        "at": NOW.isoformat()})

    first, successor = export(client)["releases"][:2]

    assert first["ocid"] != successor["ocid"] and successor["ocid"].endswith(str(SUCCESSOR))
    assert [a["suppliers"][0]["name"] for a in first["awards"]] == ["Acorn Academy", "Birch Tutors"]
    assert [(a["suppliers"][0]["name"], a["relatedLots"]) for a in successor["awards"]] == [("Birch Tutors", ["1"])]
    assert [lot["id"] for lot in successor["tender"]["lots"]] == ["1", "2"]
    assert successor["tender"]["techniques"] == {"hasFrameworkAgreement": True,
                                                 "frameworkAgreement": {"method": "withReopeningCompetition"}}
    assert "Procurement Act 2023" in successor["tender"]["procurementMethodDetails"]
    assert successor["tender"]["tenderPeriod"]["endDate"].startswith("2028-12-31T23:59:59")


def test_a_dps_past_its_last_day_is_published_terminated_dated_the_day_after(client, rt):
    feed(rt, "dps.configured", configured(ends_on="2025-03-31", term_ends_on="2025-03-31"))
    at(rt, IN_Q2)

    successor = export(client)["releases"][1]

    assert successor["tender"]["status"] == "complete"
    assert successor["tender"]["techniques"]["hasFrameworkAgreement"] is True
    assert [lot["status"] for lot in successor["tender"]["lots"]] == ["complete", "complete"]
    assert successor["date"] == "2025-03-31T23:00:00+00:00"  # 1 April at the council


def test_the_offer_window_and_its_basis_are_kept_and_published_with_the_award(client, rt):
    """Issue #15 item 3: a window shorter than 10 days has a recorded basis, kept with the award (the council
    sees the words) and published with it (days and basis only: never the words about the child)."""
    provider, referral_id = uuid.uuid4(), uuid.uuid4()
    admit(rt, provider, name="Sole Trader Tutoring")
    priced = offer(provider, 4000)
    data = closed_referral(referral_id, [priced])
    data["window_basis"] = {"kind": "urgency", "days": 3, "reason": "Excluded on Monday; no school place at all"}
    feed(rt, "referral.closed", data)
    at(rt, NOW)
    made = client.post(f"/v1/referrals/{referral_id}/award", json={"offer_id": priced["offer_id"]}, headers=OFFICER)
    assert made.status_code == 201, made.json
    kept = client.get(f"/v1/awards/{made.json['award_id']}", headers=OFFICER).json
    assert kept["window_basis"] == data["window_basis"]

    at(rt, IN_Q2)
    [published] = call_offs(export(client))
    assert published["tender"]["tenderPeriod"] == {"durationInDays": 3}
    assert "the offer window was 3 days, shorter than 10 days for the urgency of a child without education" in (
        published["tender"]["procurementMethodDetails"])
    assert "Excluded on Monday" not in str(published)


def test_the_notices_follow_each_call_offs_regime(client, rt):
    """Issue #15: under the 2015 rules a grouped notice a quarter (regulation 50); a call-off under a successor
    made under the Procurement Act 2023 has its own notice before its contract (section 50)."""
    feed(rt, "dps.configured", configured())
    provider = uuid.uuid4()
    line = admit(rt, provider)
    feed(rt, "membership.admitted", {
        "dps_id": str(SUCCESSOR), "provider_id": str(provider), "provider_name": "Acorn", "lot": 2,
        "status": "admitted", "registration_status": "registered_school", "capacity": 5, "at": NOW.isoformat(),
        "pricing_lines": [line]})
    award(client, rt, provider, NOW)
    referral_id, priced = uuid.uuid4(), offer(provider, 4000)
    feed(rt, "referral.closed", {**closed_referral(referral_id, [priced]), "dps_id": str(SUCCESSOR)})
    made = client.post(f"/v1/referrals/{referral_id}/award", json={"offer_id": priced["offer_id"]},
                       headers=OFFICER)
    assert made.status_code == 201, made.json
    at(rt, IN_Q2)

    notices = client.get("/v1/ocds/award-notices").json

    assert [(n["quarter"], n["regime"], n["call_offs"], n["notice_due"]) for n in notices] == [
        ("2025-Q1", "pcr2015_dps", 1, "2025-04-30"), ("2025-Q1", "pa2023", 1, None)]
    assert notices[1]["regulation"].startswith("Procurement Act 2023 section 50")
    methods = sorted(r["tender"]["procurementMethodDetails"] for r in call_offs(export(client)))
    assert [m.split(":")[0] for m in methods] == [  # each call-off names the arrangement it came from
        "Call-off from the Dynamic Purchasing System for Alternative Provision",
        "Call-off from the Open Framework for Alternative Provision"]
