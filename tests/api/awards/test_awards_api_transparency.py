"""What the council publishes, and the audit trail.

The OCDS export is validated offline against the official OCDS 1.1.5 schemas
and the extensions it declares, copied into services/awards/ocds/
(awards_ocds.py), with format checking on, every codelist value checked
against its CSV and no field that neither OCDS nor a declared extension
describes; it must hold no child data."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime

import pytest

from tests.api.awards.awards_ocds import additional_fields, codelist_problems, package_errors
from tests.api.awards.awards_support import (
    EVALUATOR,
    MANAGER,
    NOW,
    OFFICER,
    REPORTING,
    Competition,
    Lot1,
    admit,
    at,
    close,
    errors,
    offer,
    provider_auth,
)

OVERRIDE = "the child's sibling attends this provider's other site"


# --- the data exported


class Published:
    """One call-off awarded with an override reason, one block contract
    confirmed, one mini-competition still taking bids."""

    def __init__(self, client, rt):
        cheap, chosen = uuid.uuid4(), uuid.uuid4()
        admit(rt, cheap, name="Cheap Tutors Ltd")
        admit(rt, chosen, name="Riverside Learning Centre")
        self.referral_id, self.child_ref = uuid.uuid4(), uuid.uuid4()
        offers = [offer(cheap, 3000), offer(chosen, 4005)]
        close(rt, self.referral_id, offers, child_ref=self.child_ref)
        self.award = client.post(f"/v1/referrals/{self.referral_id}/award",
                                 json={"offer_id": offers[1]["offer_id"], "reason": OVERRIDE, "reason_code": "travel"},
                                 headers=OFFICER).json
        at(rt, NOW)
        self.lot1 = Lot1(rt)
        self.competition = Competition(client, rt, self.lot1)
        self.competition.award()
        self.contract = self.competition.confirm(datetime(2025, 4, 9, 9, 0, tzinfo=UTC)).json
        at(rt, datetime(2025, 4, 10, 9, 0, tzinfo=UTC))
        self.open_one = client.post("/v1/opportunities", headers=OFFICER, json={
            "title": "Bespoke places", "lot": 1, "places": 1, "contract_start": "2025-09-01",
            "contract_end": "2026-08-31", "opens_at": "2025-04-10T09:00:00+00:00",
            "deadline": "2025-05-01T12:00:00+00:00", "criteria": [{"name": "approach", "weight": 1}]}).json


@pytest.fixture
def published(client, rt):
    return Published(client, rt)


def export(client) -> dict:
    response = client.get("/v1/ocds/release-package")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.json


def test_export_is_a_valid_ocds_release_package_with_the_extensions_it_declares(client, published):
    package = export(client)

    assert package_errors(package) == []
    assert codelist_problems(package) == []
    assert additional_fields(package) == []
    assert package["version"] == "1.1" and len(package["extensions"]) == 2


def test_the_validation_would_catch_a_bad_date_a_bad_code_a_missing_field_and_an_undeclared_extension(
        client, published):
    package = export(client)
    broken = json.loads(json.dumps(package))
    broken["releases"][1]["date"] = "12/03/2025"
    del broken["releases"][1]["initiationType"]
    broken["releases"][1]["parties"][0]["roles"] = ["landlord"]
    assert len(package_errors(broken)) == 2
    assert codelist_problems(broken) == [f"{broken['releases'][1]['ocid']}/parties/0/roles: 'landlord' not in "
                                         "partyRole.csv"]
    broken["releases"][0]["tender"]["lots"][0]["techniques"]["dynamicPurchasingSystem"]["type"] = "ajar"
    assert len(package_errors(broken)) == 3
    broken["extensions"] = broken["extensions"][1:]  # the Lots extension left out: tender.lots undescribed
    assert f"{broken['releases'][0]['ocid']}/tender/lots" in additional_fields(broken)


def test_the_dps_is_a_framework_with_dps_lots_and_every_call_off_and_competition_links_to_it(client, published):
    dps, call_off, mini, still_open = export(client)["releases"]

    assert dps["tender"]["techniques"] == {"hasDynamicPurchasingSystem": True,
                                           "dynamicPurchasingSystem": {"type": "closed", "status": "active"}}
    assert [lot["id"] for lot in dps["tender"]["lots"]] == ["1", "2", "3", "4"]
    assert all(lot["techniques"]["hasDynamicPurchasingSystem"] for lot in dps["tender"]["lots"])
    for release in (call_off, mini, still_open):
        assert release["ocid"] != dps["ocid"]
        [link] = release["relatedProcesses"]
        assert (link["relationship"], link["scheme"], link["identifier"]) == (["framework"], "ocid", dps["ocid"])
        assert release["tender"]["techniques"] == {"hasDynamicPurchasingSystem": True}


def test_awards_and_contracts_carry_their_values_in_pounds(client, published):
    _, call_off, mini, still_open = export(client)["releases"]

    # 4005p x 15 hours x 12 weeks = 720,900p = GBP 7,209
    assert call_off["awards"][0]["value"] == {"amount": 7209, "currency": "GBP"}
    assert call_off["awards"][0]["suppliers"][0]["name"] == "Riverside Learning Centre"
    assert call_off["contracts"][0]["value"] == {"amount": 7209, "currency": "GBP"}
    assert call_off["contracts"][0]["period"] == {"startDate": "2025-04-01T00:00:00+01:00"}  # the quarter only
    assert call_off["tender"]["numberOfTenderers"] == 2 and call_off["tag"] == ["award", "contract"]
    assert mini["awards"][0]["value"] == {"amount": 80000, "currency": "GBP"}
    assert mini["awards"][0]["status"] == "active"
    assert mini["contracts"][0]["id"] == published.contract["contract_id"]
    assert mini["tender"]["numberOfTenderers"] == 3 and mini["tag"] == ["tender", "award", "contract"]
    assert "awards" not in still_open and "numberOfTenderers" not in still_open["tender"]  # still sealed


def test_the_export_holds_no_child_data(client, published):
    text = json.dumps(export(client))

    for private in (str(published.referral_id), str(published.child_ref), "permanent_exclusion", "sibling",
                    published.award["placement_id"], "hours_per_week", "team", "exclusions"):
        assert private not in text


def test_the_export_is_public_and_valid_with_nothing_awarded_yet(client):
    package = export(client)
    assert package_errors(package) == [] and len(package["releases"]) == 1


# --- the quarterly CSV of call-offs


def _csv_rows(response) -> list[dict]:
    """The CSV as a spreadsheet opens it: UTF-8 with a byte-order mark, CRLF line ends, Excel's dialect."""
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbfaward_id,ocid,awarded_on,") and body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    header, *lines = csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), dialect="excel")
    assert "total_pounds" == header[header.index("total_pence") + 1]
    return [dict(zip(header, line, strict=True)) for line in lines]


def test_quarterly_csv_lists_the_call_offs_awarded_in_that_council_quarter(client, rt):
    provider = uuid.uuid4()
    admit(rt, provider, name="Riverside Learning Centre")
    in_q1, in_q2 = uuid.uuid4(), uuid.uuid4()
    for referral_id, moment in ((in_q1, NOW), (in_q2, datetime(2025, 3, 31, 23, 30, tzinfo=UTC))):  # 1 April, BST
        priced = offer(provider, 4000)
        close(rt, referral_id, [priced])
        at(rt, moment)
        assert client.post(f"/v1/referrals/{referral_id}/award", json={"offer_id": priced["offer_id"]},
                           headers=OFFICER).status_code == 201

    q1 = client.get("/v1/reports/call-offs.csv?year=2025&quarter=1", headers=REPORTING)
    q2 = client.get("/v1/reports/call-offs.csv?year=2025&quarter=2", headers=MANAGER)

    assert q1.status_code == 200 and q1.mimetype == "text/csv"
    [row] = _csv_rows(q1)
    assert (row["awarded_on"], row["lot"], row["provider_name"], row["total_pence"], row["total_pounds"],
            row["unit_price_pence"], row["unit_price_pounds"], row["units_per_week"], row["top_ranked_offer"]) == (
        "2025-03-12", "2", "Riverside Learning Centre", "720000", "7200.00", "4000", "40.00", "15", "yes")
    [row] = _csv_rows(q2)
    assert row["awarded_on"] == "2025-04-01"
    assert str(in_q1) not in q1.get_data(as_text=True)


def test_quarterly_csv_refuses_a_bad_quarter(client):
    for query, field in (("year=2025&quarter=5", "quarter"), ("quarter=1", "year"), ("year=twenty&quarter=1", "year")):
        refused = client.get(f"/v1/reports/call-offs.csv?{query}", headers=MANAGER)
        assert refused.status_code == 422 and field in refused.json["errors"]["query"], query


def test_who_may_not_read_the_quarterly_csv(client):
    for headers, status in (({}, 401), (OFFICER, 403), (provider_auth(uuid.uuid4()), 403), (EVALUATOR, 403)):
        assert client.get("/v1/reports/call-offs.csv?year=2025&quarter=1", headers=headers).status_code == status


# --- the audit trail


def test_audit_trail_records_every_ranking_score_moderation_override_and_award(client, published):
    client.get(f"/v1/referrals/{uuid.uuid4()}/ranking", headers=OFFICER)  # unknown: not recorded

    trail = client.get("/v1/audit?page_size=200", headers=MANAGER)

    assert trail.status_code == 200
    actions = [e["action"] for e in trail.json]
    for action, count in (("placement.awarded", 1), ("opportunity.created", 2), ("bid.submitted", 3),
                          ("score.recorded", 18), ("score.moderated", 9), ("block_contract.awarded", 1),
                          ("block_contract.confirmed", 1)):
        assert actions.count(action) == count, action
    [awarded] = [e for e in trail.json if e["action"] == "placement.awarded"]
    assert awarded["reason"] == OVERRIDE and awarded["actor"] == "officer-exclusions"
    assert awarded["details"]["rank"] == 2 and awarded["details"]["ranking"][0]["rank"] == 1
    by_subject = client.get(f"/v1/audit?subject_type=referral&subject_id={published.referral_id}",
                            headers=MANAGER).json
    assert [e["action"] for e in by_subject] == ["placement.awarded"]


def test_only_the_manager_reads_the_audit_trail(client):
    for headers, status in (({}, 401), (OFFICER, 403), (REPORTING, 403), (EVALUATOR, 403)):
        refused = client.get("/v1/audit", headers=headers)
        assert refused.status_code == status, headers
        if status == 403:
            assert "roles" in errors(refused)
