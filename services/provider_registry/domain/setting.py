"""What kind of setting a provider is, and the identifiers that name it.

A provider is one of three kinds (DOMAIN.md, *Provider registry and lots*):

- a **registered school** (state-funded, independent or non-maintained): its
  DfE URN (six digits), its inspectorate (Ofsted or ISI) and the date and
  outcome of its last inspection, in words, and its establishment type
  (independent, non-maintained special, pupil referral unit, AP academy, AP
  free school, other state-funded: the AP census counts only the first two).  Single-word Ofsted grades ended
  for state schools in September 2024, so no grade is ever required;
- a **further education college or training provider**: its UKPRN (eight
  digits, the UK Register of Learning Providers); a college may also have a
  URN, and Ofsted inspects further education and skills;
- an **unregistered setting** (tutors, AP settings that are not schools):
  no URN and no school inspection.

The AP census needs the URN or the UKPRN.  `identifiers` lists the
organisation's identifiers in org-id.guide's schemes (GB-URN, GB-UKPRN,
GB-COH, GB-CHC, and GB-SC / GB-NIC for Scottish and Northern Irish charities),
as the registry's events and the open data carry them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from .common import Refusals, as_member, is_blank, is_whole_number

if TYPE_CHECKING:
    from .application import Organisation

OUTCOME_LENGTH = 200


class SettingKind(StrEnum):
    REGISTERED_SCHOOL = "registered_school"
    FE_OR_TRAINING_PROVIDER = "fe_or_training_provider"
    UNREGISTERED = "unregistered"


class EstablishmentType(StrEnum):
    """What kind of registered school (DfE's establishment types, grouped as the AP census needs them):
    the census counts pupils the council places in independent and non-maintained schools; pupil
    referral units, AP academies and AP free schools (and other state-funded schools) are in the school
    census instead."""

    INDEPENDENT = "independent"  # an independent school, special or not
    NON_MAINTAINED_SPECIAL = "non_maintained_special"
    PUPIL_REFERRAL_UNIT = "pupil_referral_unit"
    AP_ACADEMY = "ap_academy"
    AP_FREE_SCHOOL = "ap_free_school"
    OTHER_STATE_FUNDED = "other_state_funded"  # maintained schools and academies


class Inspectorate(StrEnum):
    OFSTED = "ofsted"
    ISI = "isi"  # the Independent Schools Inspectorate: independent schools only


@dataclass(frozen=True)
class Registration:
    setting_kind: SettingKind
    urn: str | None = None  # DfE unique reference number: six digits
    ukprn: str | None = None  # UK provider reference number: eight digits
    inspectorate: Inspectorate | None = None
    last_inspection_date: date | None = None
    last_inspection_outcome: str | None = None  # in words, as the report gives it; never a grade required
    establishment_type: EstablishmentType | None = None  # a registered school's (None: not said yet)

    @property
    def is_registered_school(self) -> bool:
        return as_member(SettingKind, self.setting_kind) is SettingKind.REGISTERED_SCHOOL


REGISTRATION_RULE = ("the registration rule (Education Act 1996 s.463; Education and Skills Act 2008 s.92): law")


@dataclass(frozen=True)
class DeclaredRoll:
    """An unregistered setting's whole roll, as it declares it and keeps it current (the registration rule:
    5 or more full-time pupils of compulsory school age, or one with an EHCP or looked after, requires
    registration as an independent school; SEN joins the list from the Children's Wellbeing and Schools Act
    2026 s.43).  From every commissioner, not only this council; awards adds this council's placements made
    after `declared_at`."""

    full_time_pupils: int  # of compulsory school age, educated full-time, from any commissioner
    any_ehcp: bool
    any_looked_after: bool
    any_sen: bool
    declared_at: datetime


def check_roll(full_time_pupils: object, flags: dict[str, object], refusals: Refusals) -> None:
    """Every refused field of a declared roll, by name."""
    if not is_whole_number(full_time_pupils) or full_time_pupils < 0:
        refusals.add("full_time_pupils", f"how many pupils of compulsory school age the setting educates full-time, "
                                         f"from every commissioner: a whole number, 0 or more ({REGISTRATION_RULE})")
    for name, value in flags.items():
        if not isinstance(value, bool):
            refusals.add(name, f"true or false ({REGISTRATION_RULE})")


@dataclass(frozen=True)
class Identifier:
    scheme: str  # an org-id.guide list code
    id: str


_URN = re.compile(r"[0-9]{6}")
_UKPRN = re.compile(r"[0-9]{8}")


def check_registration(reg: Registration, refusals: Refusals, today: date | None = None,
                       path: str = "registration") -> None:
    """Every refused field of a provider's registration, by name."""
    kind = as_member(SettingKind, reg.setting_kind)
    if kind is None:
        refusals.add(f"{path}.setting_kind", "registered_school, fe_or_training_provider or unregistered")
        return
    _check_number(reg.urn, _URN, "the URN must be exactly six digits", f"{path}.urn", refusals)
    _check_number(reg.ukprn, _UKPRN, "the UKPRN must be exactly eight digits", f"{path}.ukprn", refusals)
    if reg.establishment_type is not None:
        if kind is not SettingKind.REGISTERED_SCHOOL:
            refusals.add(f"{path}.establishment_type", "only a registered school has an establishment type")
        elif as_member(EstablishmentType, reg.establishment_type) is None:
            refusals.add(f"{path}.establishment_type", ", ".join(t.value for t in EstablishmentType))
    if kind is SettingKind.REGISTERED_SCHOOL:
        if reg.urn is None:
            refusals.add(f"{path}.urn", "a registered school must give its DfE URN")
        if reg.inspectorate is None:
            refusals.add(f"{path}.inspectorate", "a registered school must name its inspectorate: ofsted or isi")
    elif kind is SettingKind.FE_OR_TRAINING_PROVIDER:
        if reg.ukprn is None:
            refusals.add(f"{path}.ukprn", "a further education college or training provider must give its UKPRN")
        if reg.inspectorate is not None and as_member(Inspectorate, reg.inspectorate) is not Inspectorate.OFSTED:
            refusals.add(f"{path}.inspectorate", "Ofsted inspects further education and skills providers")
    else:
        if reg.urn is not None:
            refusals.add(f"{path}.urn", "an unregistered setting is not a school and has no URN")
        for name in ("inspectorate", "last_inspection_date", "last_inspection_outcome"):
            if getattr(reg, name) is not None:
                refusals.add(f"{path}.{name}", "an unregistered setting is not inspected as a school")
        return
    _check_inspection(reg, refusals, today, path)


def _check_number(value: object, pattern: re.Pattern, reason: str, field: str, refusals: Refusals) -> None:
    if value is not None and not (isinstance(value, str) and pattern.fullmatch(value)):
        refusals.add(field, reason)


def _check_inspection(reg: Registration, refusals: Refusals, today: date | None, path: str) -> None:
    if reg.inspectorate is not None and as_member(Inspectorate, reg.inspectorate) is None:
        refusals.add(f"{path}.inspectorate", "ofsted or isi")
    inspected = reg.last_inspection_date is not None or reg.last_inspection_outcome is not None
    if inspected and reg.inspectorate is None:
        refusals.add(f"{path}.inspectorate", "name the inspectorate that made the last inspection")
    if reg.last_inspection_date is not None:
        if not isinstance(reg.last_inspection_date, date):
            refusals.add(f"{path}.last_inspection_date", "a date")
        elif today is not None and reg.last_inspection_date > today:
            refusals.add(f"{path}.last_inspection_date", "cannot be in the future")
    outcome = reg.last_inspection_outcome
    if outcome is not None and (is_blank(outcome) or len(outcome) > OUTCOME_LENGTH):
        refusals.add(f"{path}.last_inspection_outcome",
                     f"the outcome in words, at most {OUTCOME_LENGTH} characters (or null if not inspected yet)")


def _charity_scheme(number: str) -> str:
    upper = number.upper()
    if upper.startswith("SC"):
        return "GB-SC"  # the Scottish Charity Regulator
    if upper.startswith("NIC"):
        return "GB-NIC"  # the Charity Commission for Northern Ireland
    return "GB-CHC"  # the Charity Commission for England and Wales


def identifiers(organisation: Organisation, registration: Registration) -> tuple[Identifier, ...]:
    """The organisation's identifiers, in org-id.guide's schemes: the URN and
    UKPRN of the setting, then its company and charity numbers."""
    found = []
    if registration.urn:
        found.append(Identifier("GB-URN", registration.urn))
    if registration.ukprn:
        found.append(Identifier("GB-UKPRN", registration.ukprn))
    if organisation.companies_house_number:
        found.append(Identifier("GB-COH", organisation.companies_house_number.upper()))
    if organisation.charity_number:
        found.append(Identifier(_charity_scheme(organisation.charity_number), organisation.charity_number.upper()))
    return tuple(found)
