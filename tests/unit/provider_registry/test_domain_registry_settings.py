"""A provider's kind of setting and its identifiers (domain/setting.py): a
registered school gives its URN (six digits) and inspectorate, never a grade;
a further education college or training provider its UKPRN (eight digits);
an unregistered setting neither a URN nor a school inspection.  Identifiers
come out in org-id.guide's schemes."""

from __future__ import annotations

from datetime import date

import pytest

from services.provider_registry.domain import (
    Identifier,
    Inspectorate,
    Organisation,
    Registration,
    SettingKind,
    check_registration,
    identifiers,
)
from services.provider_registry.domain.common import Refusals

TODAY = date(2025, 1, 15)
SCHOOL = Registration(SettingKind.REGISTERED_SCHOOL, "145678", inspectorate=Inspectorate.OFSTED,
                      last_inspection_date=date(2023, 11, 8), last_inspection_outcome="Good")
COLLEGE = Registration(SettingKind.FE_OR_TRAINING_PROVIDER, ukprn="10001234")


def refused(registration: Registration) -> dict[str, list[str]]:
    refusals = Refusals()
    check_registration(registration, refusals, TODAY)
    return refusals.errors


def test_a_registered_school_with_urn_inspectorate_and_last_inspection_in_words_is_accepted():
    assert refused(SCHOOL) == {}


def test_a_registered_school_needs_no_grade_and_may_not_be_inspected_yet():
    assert refused(Registration(SettingKind.REGISTERED_SCHOOL, "145678", inspectorate=Inspectorate.ISI)) == {}


@pytest.mark.parametrize("urn", ["14567", "1456789", "14567a", " 145678", "\u0661\u0662\u0663\u0664\u0665\u0666"])
def test_a_urn_that_is_not_six_digits_is_refused(urn):
    assert refused(Registration(SettingKind.REGISTERED_SCHOOL, urn, inspectorate=Inspectorate.OFSTED)) == {
        "registration.urn": ["the URN must be exactly six digits"]}


def test_a_registered_school_must_name_ofsted_or_isi():
    assert refused(Registration(SettingKind.REGISTERED_SCHOOL, "145678", inspectorate="estyn")) == {
        "registration.inspectorate": ["ofsted or isi"]}


def test_a_last_inspection_in_the_future_is_refused():
    school = Registration(SettingKind.REGISTERED_SCHOOL, "145678", inspectorate=Inspectorate.OFSTED,
                          last_inspection_date=date(2025, 1, 16), last_inspection_outcome="Good")
    assert refused(school) == {"registration.last_inspection_date": ["cannot be in the future"]}


def test_a_college_gives_its_ukprn_and_may_give_a_urn():
    assert refused(COLLEGE) == {}
    assert refused(Registration(SettingKind.FE_OR_TRAINING_PROVIDER, "130456", "10001234",
                                Inspectorate.OFSTED, date(2024, 3, 1), "Good")) == {}


@pytest.mark.parametrize("ukprn", ["1000123", "100012345", "1000123x"])
def test_a_ukprn_that_is_not_eight_digits_is_refused(ukprn):
    assert refused(Registration(SettingKind.FE_OR_TRAINING_PROVIDER, ukprn=ukprn)) == {
        "registration.ukprn": ["the UKPRN must be exactly eight digits"]}


def test_a_college_without_ukprn_or_inspected_by_isi_is_refused():
    assert refused(Registration(SettingKind.FE_OR_TRAINING_PROVIDER, inspectorate=Inspectorate.ISI)) == {
        "registration.ukprn": ["a further education college or training provider must give its UKPRN"],
        "registration.inspectorate": ["Ofsted inspects further education and skills providers"]}


def test_an_unregistered_setting_has_no_urn_and_no_school_inspection():
    assert refused(Registration(SettingKind.UNREGISTERED)) == {}
    assert refused(Registration(SettingKind.UNREGISTERED, "145678", inspectorate=Inspectorate.OFSTED)) == {
        "registration.urn": ["an unregistered setting is not a school and has no URN"],
        "registration.inspectorate": ["an unregistered setting is not inspected as a school"]}


def test_an_unknown_kind_is_refused_by_name():
    assert refused(Registration("academy")) == {
        "registration.setting_kind": ["registered_school, fe_or_training_provider or unregistered"]}


def test_identifiers_use_org_id_schemes():
    trust = Organisation("Bridges Learning Trust", "1 High Street", "NT1 2AB", "sc123456", "1123456")
    assert identifiers(trust, SCHOOL) == (Identifier("GB-URN", "145678"), Identifier("GB-COH", "SC123456"),
                                          Identifier("GB-CHC", "1123456"))
    college = Organisation("Newtown College", "College Road", "NT2 3CD", charity_number="SC012345")
    assert identifiers(college, COLLEGE) == (Identifier("GB-UKPRN", "10001234"), Identifier("GB-SC", "SC012345"))
    tutor = Organisation("Ada Tuition", "2 Low Street", "NT1 2AC")
    assert identifiers(tutor, Registration(SettingKind.UNREGISTERED)) == ()
