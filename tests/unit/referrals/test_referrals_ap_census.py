"""The AP census return's rules: who is in it (ages, kinds of setting, the child whose placement ends on
census day, off-DPS placements), one row per child, and every row checked against DfE's items and codes."""

import csv
import io
import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from services.referrals.domain import ChildDetails, ReasonForAP
from services.referrals.domain.census import (
    CensusPlacement,
    Setting,
    census_day,
    census_return,
    in_census_age_range,
    sessions_per_week,
    setting_of,
)
from services.referrals.domain.census_items import census_items
from services.referrals.domain.off_dps import OffDpsDetails
from shared.csv_files import csv_text
from shared.errors import InvalidInput
from tests.support.off_dps import off_dps_form

YEAR = 2027
DAY = date(2027, 1, 21)  # the third Thursday of January 2027
CHILD = ChildDetails("Ada Lark", date(2012, 5, 1), "A123456789012", "2 Street, London SE5 9ZZ",
                     surname="Lark", forename="Ada", sex="F", ethnicity="WBRI", sen_provision="K",
                     fsm_eligible=True)
SCHOOL = Setting(uuid.uuid4(), "registered_school", urn="123456", establishment_type="independent")
COLLEGE = Setting(uuid.uuid4(), "fe_or_training_provider", ukprn="10012345")
TUTORS = Setting(uuid.uuid4(), "unregistered")


def placement(child=CHILD, setting=SCHOOL, started_on=date(2026, 11, 2), ended_on=None, hours="25",
              child_ref=None, reason=ReasonForAP.PERMANENT_EXCLUSION, lot=1, ehcp=False):
    return CensusPlacement(uuid.uuid4(), uuid.uuid4(), child_ref or uuid.uuid4(), child, reason, lot, "exclusions",
                           ehcp, started_on, ended_on, Decimal(hours), setting)


def rows(*placements):
    return census_return(placements, YEAR).rows


# -- census day ---------------------------------------------------------------------------------------

def test_census_day_is_the_third_thursday_of_january_unless_the_council_sets_it():
    assert census_day(2027) == DAY
    assert census_day(2025) == date(2025, 1, 16)  # DfE's 2025 AP census day
    assert census_day(2027, [date(2027, 1, 14)]) == date(2027, 1, 14)
    assert census_day(2028, [date(2027, 1, 14)]) == date(2028, 1, 20)


# -- ages: 2 to 18, DfE's convention ------------------------------------------------------------------

@pytest.mark.parametrize(("born", "counted"), [
    (date(2007, 8, 31), False),  # 19 on 31 August 2026: too old for the 2027 census
    (date(2007, 9, 1), True),  # 18 on 31 August 2026 (19 the next day)
    (date(2024, 12, 31), True),  # 2 by 31 December 2026
    (date(2025, 1, 1), False),  # not yet 2 by 31 December before the census
])
def test_aged_2_to_18_born_1_september_twenty_years_before_to_31_december_three_years_before(born, counted):
    assert in_census_age_range(born, YEAR) is counted
    child = replace(CHILD, date_of_birth=born)
    result = census_return([placement(child=child)], YEAR)
    assert len(result.rows) == int(counted)
    assert len(result.left_out) == int(not counted)


def test_dfe_2025_range_is_september_2005_to_december_2022():
    assert in_census_age_range(date(2005, 9, 1), 2025) and in_census_age_range(date(2022, 12, 31), 2025)
    assert not in_census_age_range(date(2005, 8, 31), 2025) and not in_census_age_range(date(2023, 1, 1), 2025)


# -- kinds of setting -----------------------------------------------------------------------------------

@pytest.mark.parametrize("establishment", ["pupil_referral_unit", "ap_academy", "ap_free_school",
                                           "other_state_funded"])
def test_pupils_of_prus_ap_academies_and_free_schools_are_left_to_the_school_census(establishment):
    school = replace(SCHOOL, establishment_type=establishment)
    result = census_return([placement(setting=school)], YEAR)
    assert result.rows == []
    assert "school census" in result.left_out[0].reason


def test_independent_and_non_maintained_schools_give_their_urn():
    for establishment in ("independent", "non_maintained_special"):
        [row] = rows(placement(setting=replace(SCHOOL, establishment_type=establishment)))
        assert (row.values["URN"], row.values["UKPRN"], row.values["APTypeOfSetting"]) == ("123456", "", "")
        assert row.problems == []


def test_education_otherwise_than_at_school_gives_the_ukprn_or_the_type_of_setting():
    [college] = rows(placement(setting=COLLEGE))
    assert (college.values["URN"], college.values["UKPRN"], college.values["APTypeOfSetting"]) == (
        "", "10012345", "")
    [tutors] = rows(placement(setting=TUTORS))
    assert (tutors.values["URN"], tutors.values["UKPRN"], tutors.values["APTypeOfSetting"]) == ("", "", "OTH")
    [no_ukprn] = rows(placement(setting=replace(COLLEGE, ukprn=None)))
    assert no_ukprn.values["APTypeOfSetting"] == "NFE"


def test_a_school_whose_establishment_type_is_not_known_is_returned_and_flagged():
    [row] = rows(placement(setting=replace(SCHOOL, establishment_type=None)))
    assert any(column == "URN" and "establishment type" in reason for column, reason in row.problems)


def test_an_off_dps_provider_the_registry_does_not_know_is_returned_as_other_and_flagged():
    [row] = rows(placement(setting=Setting(uuid.uuid4())))  # an off-DPS placement's provider: no registry facts
    assert row.values["APTypeOfSetting"] == "OTH"
    assert [column for column, _ in row.problems] == ["APTypeOfSetting"]


def test_an_off_dps_setting_is_returned_as_the_officer_recorded_it_where_the_registry_does_not_know_it():
    provider_id = uuid.uuid4()
    college = OffDpsDetails.from_form(off_dps_form(provider={
        "name": "Riverside Training", "setting_kind": "fe_or_training_provider", "ukprn": "10012345"}))
    setting = setting_of(provider_id, {"setting_kind": None, "urn": None, "ukprn": None,
                                       "establishment_type": None}, college)
    assert setting == Setting(provider_id, "fe_or_training_provider", None, "10012345")
    [row] = rows(placement(setting=setting))
    assert (row.values["URN"], row.values["UKPRN"], row.values["APTypeOfSetting"], row.problems) == (
        "", "10012345", "", [])
    known = {"setting_kind": "registered_school", "urn": "123456", "ukprn": None, "establishment_type": "independent"}
    assert setting_of(provider_id, known, college) == replace(SCHOOL, provider_id=provider_id)  # the registry's word
    assert setting_of(provider_id, None, None) == Setting(provider_id)


# -- on census day ----------------------------------------------------------------------------------------

def test_the_child_whose_placement_ends_on_census_day_is_counted_the_day_before_is_not():
    assert len(rows(placement(ended_on=DAY))) == 1
    assert rows(placement(ended_on=DAY.replace(day=20))) == []


def test_a_placement_starting_after_census_day_or_never_started_is_not_counted():
    assert rows(placement(started_on=DAY.replace(day=22))) == []
    assert rows(placement(started_on=None)) == []
    assert len(rows(placement(started_on=DAY))) == 1


def test_one_row_per_child_its_latest_placement_on_census_day():
    ref = uuid.uuid4()
    first = placement(child_ref=ref, started_on=date(2026, 9, 7), hours="12", lot=2)
    second = placement(child_ref=ref, setting=COLLEGE, started_on=date(2026, 11, 2), hours="12", lot=2)
    [row] = rows(first, second)
    assert row.placement_id == second.placement_id
    assert row.values["APEntryDate"] == "2026-11-02"


# -- items and codes ---------------------------------------------------------------------------------------

def test_a_row_carries_dfe_items_and_codes():
    [row] = rows(placement(hours="25"))
    assert row.values == {
        "UPN": "A123456789012", "Surname": "Lark", "Forename": "Ada", "DOB": "2012-05-01", "Sex": "F",
        "Ethnicity": "WBRI", "SENprovision": "K", "FSMeligible": "1", "Address": "2 Street, London SE5 9ZZ",
        "Postcode": "SE5 9ZZ", "URN": "123456", "UKPRN": "", "APTypeOfSetting": "", "APReason": "PEX",
        "APEntryDate": "2026-11-02", "APAttendancePattern": "F", "APSessionsPerWeek": "8"}
    assert row.problems == []


def test_missing_census_details_are_listed_to_put_right_and_an_ehcp_is_sen_provision_e():
    bare = ChildDetails("Ada Lark", date(2012, 5, 1), "A123456789012", "2 Street, London")
    [row] = rows(placement(child=bare, ehcp=True))
    assert row.values["SENprovision"] == "E"
    assert sorted(column for column, _ in row.problems) == ["Ethnicity", "FSMeligible", "Forename", "Sex",
                                                            "Surname"]


def test_part_time_hours_are_sessions_on_a_32_and_a_half_hour_week():
    assert [sessions_per_week(Decimal(h)) for h in ("1", "3.25", "3.5", "12", "18", "32.5", "40")] == [
        1, 1, 2, 4, 6, 10, 10]
    [row] = rows(placement(hours="12", lot=2))
    assert (row.values["APAttendancePattern"], row.values["APSessionsPerWeek"]) == ("P", "4")


def test_every_reason_for_ap_has_a_census_code():
    codes = census_items().code_set("placement_reason")
    for reason in ReasonForAP:
        [row] = rows(placement(reason=reason))
        assert row.values["APReason"] in codes


def test_census_details_are_refused_unless_dfe_codes_naming_the_field():
    with pytest.raises(InvalidInput) as sex:
        replace(CHILD, sex="X")
    assert sex.value.field == "sex"
    with pytest.raises(InvalidInput) as ethnicity:
        replace(CHILD, ethnicity="BRIT")
    assert ethnicity.value.field == "ethnicity"
    with pytest.raises(InvalidInput) as sen:
        replace(CHILD, sen_provision="S")  # SEN code S was discontinued in 2018
    assert sen.value.field == "sen_provision"
    assert replace(CHILD, sex="m", ethnicity="mwbc").sex == "M"


# -- the CSV, validated against the published item list -----------------------------------------------------

def test_the_csv_has_dfe_items_in_order_and_every_value_is_a_code_or_in_format():
    result = census_return([placement(), placement(setting=COLLEGE, hours="12", lot=2),
                            placement(setting=TUTORS, reason=ReasonForAP.MEDICAL)], YEAR)
    body = csv_text(census_items().columns, (row.values for row in result.rows), names_given=True)
    assert body.startswith("\ufeff") and "\r\n" in body
    reader = csv.DictReader(io.StringIO(body.lstrip("\ufeff"), newline=""))
    items = census_items()
    assert tuple(reader.fieldnames) == items.columns
    read = list(reader)
    assert len(read) == 3
    for row in read:
        assert items.problems(row) == []


def test_the_item_list_names_its_source_and_licence():
    items = census_items()
    assert "Open Government Licence v3.0" in items.licence
    assert any("gov.uk/guidance/alternative-provision-ap-census" in source for source in items.source)
    assert {"UPN", "Surname", "Forename", "DOB", "Sex", "Ethnicity", "SENprovision", "FSMeligible", "Postcode",
            "URN", "UKPRN", "APTypeOfSetting", "APReason", "APEntryDate", "APSessionsPerWeek"} <= set(items.columns)


def test_the_checker_catches_a_wrong_row():
    items = census_items()
    [row] = rows(placement())
    assert items.problems({**row.values, "Sex": "X"}) == [("Sex", "'X' is not a code of Sex")]
    assert [c for c, _ in items.problems({**row.values, "UKPRN": "10012345"})] == ["URN"]  # two of URN/UKPRN
    assert [c for c, _ in items.problems({**row.values, "Shoe size": "4"})] == ["Shoe size"]


def test_full_time_as_referrals_decided_it_and_the_placement_carried_it():
    decided = replace(placement(hours="12", lot=2), full_time=True)
    [row] = rows(decided)
    assert row.values["APAttendancePattern"] == "F"


def test_census_days_the_council_sets_are_january_dates_one_a_year(monkeypatch):
    from shared.config import load_settings

    monkeypatch.setenv("DPS_AP_CENSUS_DAYS", "2027-01-14, 2028-01-20")
    assert load_settings("referrals").ap_census_days == (date(2027, 1, 14), date(2028, 1, 20))
    for bad in ("2027-02-18", "2027-01-14,2027-01-21", "soon"):
        monkeypatch.setenv("DPS_AP_CENSUS_DAYS", bad)
        with pytest.raises(ValueError, match="DPS_AP_CENSUS_DAYS"):
            load_settings("referrals")
