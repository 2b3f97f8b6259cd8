"""The January AP census: DfE's statutory return of the children in alternative provision the council
funds, built where the child's identity lives (DOMAIN.md, *Placement tracking*; DfE, *Alternative
provision (AP) census: which pupils to include*).

- **Census day**: the third Thursday of January unless the council is told another day (configuration).
- **Who is in it**: a child in one of the council's placements on census day (started by then and not
  ended before it: a placement ending on census day counts, the child was in AP that day), whatever the
  placement's source (call-off, block place, off-DPS), aged 2 to 18: for the census of January Y, born
  from 1 September of Y-20 (18 at most on 31 August before the census) to 31 December of Y-3 (2 by 31 December
  before it).  The setting must be an independent or non-maintained school, or education otherwise than
  at school (a further education college or training provider, an unregistered setting); pupils of pupil
  referral units, AP academies, AP free schools and other state-funded schools are in the school census.
- **One row per child**: the latest placement the child was in on census day.
- **The items and codes**: DfE's (`census_items`, from `ap_census_items.json`); each row lists what it
  lacks or gets wrong (`problems`) so the council can put it right before sending the return.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from shared.calendar import ap_census_day as census_day

from .census_items import census_items
from .off_dps import OffDpsDetails
from .profile import ChildDetails, ReasonForAP, is_full_time


class EstablishmentType(StrEnum):
    """What kind of registered school a setting is (the registry's word), as far as the census cares."""

    INDEPENDENT = "independent"  # an independent school, special or not
    NON_MAINTAINED_SPECIAL = "non_maintained_special"
    PUPIL_REFERRAL_UNIT = "pupil_referral_unit"
    AP_ACADEMY = "ap_academy"
    AP_FREE_SCHOOL = "ap_free_school"
    OTHER_STATE_FUNDED = "other_state_funded"  # maintained schools and academies: the school census


IN_THE_SCHOOL_CENSUS = frozenset({EstablishmentType.PUPIL_REFERRAL_UNIT, EstablishmentType.AP_ACADEMY,
                                  EstablishmentType.AP_FREE_SCHOOL, EstablishmentType.OTHER_STATE_FUNDED})

# The referral's reason for AP as the census's primary reason for placement.
PLACEMENT_REASON = {
    ReasonForAP.PERMANENT_EXCLUSION: "PEX",
    ReasonForAP.SUSPENSION: "SUS",
    ReasonForAP.MEDICAL: "MED",
    ReasonForAP.SEND_PLACEMENT_BREAKDOWN: "SEN",
    ReasonForAP.POST16: "OTH",
    ReasonForAP.OTHER: "OTH",
}

SCHOOL_WEEK_HOURS = Decimal("32.5")  # DfE's expected length of the school week: 10 sessions
SESSIONS_IN_A_WEEK = 10


def in_census_age_range(date_of_birth: date, year: int) -> bool:
    """Aged 2 to 18 for the census of January `year`: born 1 September of year-20 (18 at most on 31 August
    before the census) to 31 December of year-3 (2 by 31 December before it)."""
    return date(year - 20, 9, 1) <= date_of_birth <= date(year - 3, 12, 31)


def sessions_per_week(hours_per_week: Decimal) -> int:
    """Hours a week as sessions (half days), on DfE's 32.5-hour week of 10 sessions, rounded up, 1 to 10."""
    return max(1, min(SESSIONS_IN_A_WEEK, math.ceil(Decimal(hours_per_week) * SESSIONS_IN_A_WEEK
                                                    / SCHOOL_WEEK_HOURS)))


@dataclass(frozen=True)
class Setting:
    """A provider as the registry's events described it; None fields were not said."""

    provider_id: UUID
    setting_kind: str | None = None  # registered_school, fe_or_training_provider, unregistered
    urn: str | None = None
    ukprn: str | None = None
    establishment_type: str | None = None  # a registered school's EstablishmentType


def setting_of(provider_id: UUID, registry: Mapping | None, off_dps: OffDpsDetails | None) -> Setting:
    """The setting as the registry's events described it (`registry`: setting_kind, urn, ukprn,
    establishment_type); an off-DPS provider has no registry record, so where the registry does not know
    the setting, it is as the officer recorded it on the referral's off-DPS exception."""
    if registry is not None and registry.get("setting_kind") is not None:
        return Setting(provider_id, registry["setting_kind"], registry.get("urn"), registry.get("ukprn"),
                       registry.get("establishment_type"))
    if off_dps is not None:
        return Setting(provider_id, off_dps.provider.setting_kind, off_dps.provider.urn, off_dps.provider.ukprn)
    return Setting(provider_id, *(None if registry is None else registry.get(name) for name in (
        "setting_kind", "urn", "ukprn", "establishment_type")))


@dataclass(frozen=True)
class CensusPlacement:
    """One of the council's placements of a child, with the child's details and the referral's facts."""

    placement_id: UUID
    referral_id: UUID
    child_ref: UUID
    child: ChildDetails
    reason: ReasonForAP
    lot: int
    team: str
    ehcp: bool  # the profile's
    started_on: date | None
    ended_on: date | None
    hours_per_week: Decimal
    setting: Setting
    full_time: bool | None = None  # as placement.started carried it (referrals decided it); None: not said

    def on_roll_on(self, day: date) -> bool:
        return self.started_on is not None and self.started_on <= day and (
            self.ended_on is None or self.ended_on >= day)


@dataclass(frozen=True)
class CensusRow:
    child_ref: UUID
    referral_id: UUID
    placement_id: UUID
    team: str
    values: dict[str, str]  # DfE's items by column, as text ("" when not known)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, reason): to put right


@dataclass(frozen=True)
class LeftOut:
    child_ref: UUID
    placement_id: UUID
    team: str
    reason: str


@dataclass(frozen=True)
class CensusReturn:
    year: int
    day: date
    rows: list[CensusRow]
    left_out: list[LeftOut]  # in a placement on census day, but not the AP census's (and why)


def _out_of_scope(placement: CensusPlacement, year: int) -> str | None:
    if not in_census_age_range(placement.child.date_of_birth, year):
        return "not aged 2 to 18 (born 1 September %d to 31 December %d)" % (year - 20, year - 3)
    setting = placement.setting
    if setting.setting_kind == "registered_school" and setting.establishment_type in IN_THE_SCHOOL_CENSUS:
        return f"a {setting.establishment_type.replace('_', ' ')}: its pupils are in the school census"
    return None


def _setting_items(setting: Setting) -> tuple[dict[str, str], list[tuple[str, str]]]:
    problems = []
    if setting.setting_kind is None:
        problems.append(("APTypeOfSetting", "the provider's kind of setting is not known here"))
    if setting.setting_kind == "registered_school" and setting.establishment_type is None:
        problems.append(("URN", "the school's establishment type is not known: independent or non-maintained?"))
    if setting.urn:
        return {"URN": setting.urn, "UKPRN": "", "APTypeOfSetting": ""}, problems
    if setting.ukprn:
        return {"URN": "", "UKPRN": setting.ukprn, "APTypeOfSetting": ""}, problems
    if setting.setting_kind == "fe_or_training_provider":
        return {"URN": "", "UKPRN": "", "APTypeOfSetting": "NFE"}, problems
    return {"URN": "", "UKPRN": "", "APTypeOfSetting": "OTH"}, problems


def _sen_provision(placement: CensusPlacement) -> str:
    if placement.child.sen_provision:
        return placement.child.sen_provision
    return "E" if placement.ehcp else ""  # an EHCP in the profile is SEN provision E; else ask


def _full_time(placement: CensusPlacement) -> bool:
    if placement.full_time is not None:
        return placement.full_time
    return is_full_time(placement.lot, placement.hours_per_week)


def census_row(placement: CensusPlacement) -> CensusRow:
    child = placement.child
    setting_values, problems = _setting_items(placement.setting)
    fsm = "" if child.fsm_eligible is None else ("1" if child.fsm_eligible else "0")
    values = {
        "UPN": child.upn, "Surname": child.surname or "", "Forename": child.forename or "",
        "DOB": child.date_of_birth.isoformat(), "Sex": child.sex or "", "Ethnicity": child.ethnicity or "",
        "SENprovision": _sen_provision(placement), "FSMeligible": fsm,
        "Address": child.address, "Postcode": child.home_postcode or "",
        **setting_values,
        "APReason": PLACEMENT_REASON[placement.reason],
        "APEntryDate": placement.started_on.isoformat() if placement.started_on else "",
        "APAttendancePattern": "F" if _full_time(placement) else "P",
        "APSessionsPerWeek": str(sessions_per_week(placement.hours_per_week)),
    }
    values = {column: values[column] for column in census_items().columns}
    problems = problems + census_items().problems(values)
    return CensusRow(placement.child_ref, placement.referral_id, placement.placement_id, placement.team, values,
                     problems)


def census_return(placements: Iterable[CensusPlacement], year: int,
                  configured_days: Iterable[date] = ()) -> CensusReturn:
    """The AP census of January `year` from the council's placements: one row per child in scope (its
    latest placement on census day), by UPN; and the children in AP that day who are not the census's."""
    day = census_day(year, configured_days)
    latest: dict[UUID, CensusPlacement] = {}
    for placement in placements:
        if not placement.on_roll_on(day):
            continue
        held = latest.get(placement.child_ref)
        if held is None or (placement.started_on, str(placement.placement_id)) > (
                held.started_on, str(held.placement_id)):
            latest[placement.child_ref] = placement
    rows, left_out = [], []
    for placement in latest.values():
        reason = _out_of_scope(placement, year)
        if reason:
            left_out.append(LeftOut(placement.child_ref, placement.placement_id, placement.team, reason))
        else:
            rows.append(census_row(placement))
    rows.sort(key=lambda row: (row.values["UPN"], str(row.placement_id)))
    left_out.sort(key=lambda out: str(out.child_ref))
    return CensusReturn(year, day, rows, left_out)
