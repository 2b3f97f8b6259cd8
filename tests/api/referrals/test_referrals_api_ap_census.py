"""The January AP census return through the API, on PostgreSQL: the manager and officers only (never a
provider, never the reporting role), an officer sees their own team's children, the CSV is DfE's items
(UTF-8 BOM, CRLF) and every row passes the published item list; the child's census details are recorded
and corrected on the council side, refused unless DfE's codes; each child shown is an identity read."""

from __future__ import annotations

import csv
import io
import uuid

import sqlalchemy as sa

from services.referrals.domain.census_items import census_items
from tests.api.referrals.referrals_support import (
    CHILD,
    MANAGER,
    OFFICER,
    OTHER_TEAM_OFFICER,
    admit,
    create,
    deliver,
    fields_of,
    provider_auth,
    published_referral,
    referral_form,
    snapshot,
)
from tests.support.off_dps import off_dps_json
from tests.support.runtime import auth

CENSUS = {"surname": "Quartermaine", "forename": "Zebedee", "sex": "M", "ethnicity": "WBRI",
          "sen_provision": "E", "fsm_eligible": True}
URL = "/v1/reports/ap-census?year=2025"  # census day: Thursday 16 January 2025


def _placed(rt, client, *, establishment_type="independent", setting_kind="registered_school", child=None):
    """A referral of the child with its census details, and tracking's word that its placement started."""
    identifiers = [{"scheme": "GB-URN", "id": "100001"}] if setting_kind == "registered_school" else [
        {"scheme": "GB-UKPRN", "id": "10012345"}]
    provider = admit(rt, setting_kind=setting_kind, establishment_type=establishment_type, identifiers=identifiers,
                     urn="100001" if setting_kind == "registered_school" else None)
    referral = create(client, referral_form(child={**CHILD, **CENSUS, **(child or {})}))
    placement_id = uuid.uuid4()
    deliver(rt, "placement.started", {
        "placement_id": str(placement_id), "referral_id": referral["referral_id"], "provider_id": str(provider),
        "lot": 1, "team": "exclusions", "started_on": "2025-01-06", "hours_per_week": 25, "full_time": True,
        "at": "2025-01-06T09:00:00+00:00"}, producer="tracking")
    return referral, placement_id


def test_the_manager_gets_the_return_with_dfe_items_and_codes(rt, client):
    referral, placement_id = _placed(rt, client)
    response = client.get(URL, headers=MANAGER)
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["year"], body["census_day"], body["items"]) == (2025, "2025-01-16", list(census_items().columns))
    [pupil] = body["pupils"]
    assert (pupil["child_ref"], pupil["placement_id"], pupil["problems"]) == (
        referral["child_ref"], str(placement_id), [])
    assert pupil["items"] == {
        "UPN": "A123456789012", "Surname": "Quartermaine", "Forename": "Zebedee", "DOB": "2010-06-02", "Sex": "M",
        "Ethnicity": "WBRI", "SENprovision": "E", "FSMeligible": "1", "Address": CHILD["address"],
        "Postcode": "SE15 4QT", "URN": "100001", "UKPRN": "", "APTypeOfSetting": "", "APReason": "PEX",
        "APEntryDate": "2025-01-06", "APAttendancePattern": "F", "APSessionsPerWeek": "8"}


def test_the_csv_is_dfe_items_utf8_bom_crlf_and_passes_the_item_list(rt, client):
    _placed(rt, client)
    _placed(rt, client, setting_kind="fe_or_training_provider", establishment_type=None,
            child={"upn": "B123456789012", "name": "Ada Lark", "surname": "Lark", "forename": "Ada"})
    response = client.get(URL + "&format=csv", headers=MANAGER)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    raw = response.data
    assert raw.startswith("\ufeff".encode()) and b"\r\n" in raw
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    assert tuple(reader.fieldnames) == census_items().columns
    rows = list(reader)
    assert [(r["UPN"], r["URN"], r["UKPRN"]) for r in rows] == [("A123456789012", "100001", ""),
                                                                 ("B123456789012", "", "10012345")]
    assert all(census_items().problems(row) == [] for row in rows)
    assert client.get(URL, headers={**MANAGER, "Accept": "text/csv"}).mimetype == "text/csv"


def test_a_pupil_referral_unit_is_left_to_the_school_census(rt, client):
    _placed(rt, client, establishment_type="pupil_referral_unit")
    body = client.get(URL, headers=MANAGER).json
    assert body["pupils"] == []
    assert "school census" in body["left_out"][0]["reason"]


def test_only_the_manager_and_officers_and_an_officer_sees_their_own_team(rt, client):
    _placed(rt, client)
    assert len(client.get(URL, headers=OFFICER).json["pupils"]) == 1
    assert client.get(URL, headers=OTHER_TEAM_OFFICER).json["pupils"] == []
    for headers, status in [(provider_auth(uuid.uuid4()), 403), (auth("reporting", sub="analyst"), 403),
                            (auth("evaluator", sub="evaluator-1"), 403), ({}, 401)]:
        response = client.get(URL, headers=headers)
        assert response.status_code == status, headers
        assert "Zebedee" not in response.get_data(as_text=True)


def test_each_child_the_return_shows_is_an_identity_read(rt, client):
    referral, _ = _placed(rt, client)
    client.get(URL, headers=MANAGER)
    table = rt.audit_table
    with rt.engine.connect() as connection:
        reads = connection.execute(sa.select(table).where(table.c.action == "child.identity_read")).mappings().all()
    assert [(r["subject_id"], r["details"]["through"]) for r in reads
            if "ap-census" in r["details"]["through"]] == [(referral["child_ref"], "GET /v1/reports/ap-census")]


def test_the_year_is_required_and_a_number(rt, client):
    assert "year" in client.get("/v1/reports/ap-census", headers=MANAGER).json["errors"]["query"]
    assert "year" in client.get("/v1/reports/ap-census?year=soon", headers=MANAGER).json["errors"]["query"]


def test_census_details_are_corrected_on_the_council_side_and_refused_unless_dfe_codes(rt, client):
    referral = create(client)
    child_ref = referral["child_ref"]
    before = snapshot(rt)
    refused = client.patch(f"/v1/children/{child_ref}", json={"sex": "X"}, headers=OFFICER)
    assert refused.status_code == 422
    assert "sex" in fields_of(refused)
    assert snapshot(rt) == before
    corrected = client.patch(f"/v1/children/{child_ref}", json={"ethnicity": "mwbc", "fsm_eligible": False},
                             headers=OFFICER)
    assert corrected.status_code == 200, corrected.json
    assert sorted(corrected.json["changed"]) == ["ethnicity", "fsm_eligible"]
    child = client.get(f"/v1/referrals/{referral['referral_id']}", headers=OFFICER).json["child"]
    assert (child["ethnicity"], child["fsm_eligible"], child["sex"]) == ("MWBC", False, None)
    provider_view = client.get(f"/v1/provider/referrals/{referral['referral_id']}",
                               headers=provider_auth(uuid.uuid4()))
    assert "MWBC" not in provider_view.get_data(as_text=True)


def test_revising_the_child_keeps_census_details_it_does_not_give(rt, client):
    referral = create(client, referral_form(child={**CHILD, **CENSUS}))
    revised = client.patch(f"/v1/referrals/{referral['referral_id']}", json={"child": {**CHILD, "name": "Zeb Q"}},
                           headers=OFFICER)
    assert revised.status_code == 200, revised.json
    assert (revised.json["child"]["sex"], revised.json["child"]["surname"]) == ("M", "Quartermaine")


def test_an_off_dps_placement_is_returned_with_the_setting_the_officer_recorded(rt, client):
    """The off-DPS provider has no registry record: the census takes its kind and URN from the exception."""
    referral = published_referral(client, child={**CHILD, **CENSUS})  # no provider admitted: none can offer
    url = f"/v1/referrals/{referral['referral_id']}"
    assert client.post(f"{url}/close", headers=OFFICER).status_code == 200
    school = {"name": "Hillside Independent School", "setting_kind": "registered_school", "urn": "123456"}
    recorded = client.post(f"{url}/off-dps-exception", headers=OFFICER, json=off_dps_json(provider=school))
    assert recorded.status_code == 201, recorded.json
    deliver(rt, "placement.started", {
        "placement_id": str(uuid.uuid4()), "referral_id": referral["referral_id"], "provider_id": str(uuid.uuid4()),
        "lot": 1, "team": "exclusions", "started_on": "2025-01-06", "hours_per_week": 15, "full_time": True,
        "at": "2025-01-06T09:00:00+00:00"}, producer="tracking")
    [pupil] = client.get(URL, headers=MANAGER).json["pupils"]
    assert (pupil["items"]["URN"], pupil["items"]["UKPRN"], pupil["items"]["APTypeOfSetting"]) == ("123456", "", "")
    assert [p["item"] for p in pupil["problems"]] == ["URN"]  # independent or non-maintained: the council adds it
