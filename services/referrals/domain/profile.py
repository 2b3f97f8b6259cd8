"""The referral form, in two halves that never meet outside the council.

`ChildDetails` identifies the child (name, date of birth, UPN, address): only
officers and the manager ever see it.  `Profile` is the anonymised profile
providers read: it has no field that could hold an identifying detail, and
`ProfileForProviders` (what a provider or an event gets) is built from the
profile alone, so identifying details cannot reach a provider by mistake.
Officers write the profile's words by hand, so `check_anonymous` also refuses
a profile whose text mentions the child's name, UPN or home postcode.

AP is an intervention, not a destination: the aims of the placement and at
least one success measure are required.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from shared.errors import InvalidInput

from .common import required_text

MIN_HOURS_PER_WEEK = Decimal(1)
MAX_HOURS_PER_WEEK = Decimal(40)
MIN_AGE, MAX_AGE = 4, 25  # Reception to the end of post-16 support with an EHCP
YEAR_GROUPS = range(0, 15)  # 0 is Reception; None when past school year groups

# A UPN is a check letter and 12 characters: 11 digits then a digit (permanent)
# or a letter (temporary UPN).
_UPN = re.compile(r"^[A-Z]\d{11}[0-9A-Z]$")
# The outward half of a postcode only: SE15, W1A, EC1A, M1.
_POSTCODE_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_FULL_POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b", re.IGNORECASE)


class ReasonForAP(enum.Enum):
    PERMANENT_EXCLUSION = "permanent_exclusion"
    SUSPENSION = "suspension"
    MEDICAL = "medical"
    SEND_PLACEMENT_BREAKDOWN = "send_placement_breakdown"
    POST16 = "post16"
    OTHER = "other"


class SuccessMeasure(enum.Enum):
    ATTENDANCE = "attendance"
    ATTITUDE = "attitude"
    ATTAINMENT = "attainment"
    BEHAVIOUR = "behaviour"


@dataclass(frozen=True)
class ChildDetails:
    """Who the child is.  Fields are left out of repr so a log line cannot leak them."""

    name: str = field(repr=False)
    date_of_birth: date = field(repr=False)
    upn: str = field(repr=False)
    address: str = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", " ".join(required_text(self.name, "name", "the child's name").split()))
        object.__setattr__(self, "address", required_text(self.address, "address", "the child's address"))
        upn = required_text(self.upn, "upn", "the child's UPN").replace(" ", "").upper()
        if not _UPN.match(upn):
            raise InvalidInput("a UPN is a letter followed by 12 characters (11 digits, then a digit or letter)",
                               field="upn")
        object.__setattr__(self, "upn", upn)
        if not isinstance(self.date_of_birth, date) or isinstance(self.date_of_birth, datetime):
            raise InvalidInput("the child's date of birth is required", field="date_of_birth")

    @property
    def home_postcode(self) -> str | None:
        """The full postcode in the address, normalised ("SE15 4AB"), if it has one."""
        found = _FULL_POSTCODE.search(self.address)
        return f"{found.group(1)} {found.group(2)}".upper() if found else None


def _hours(value: object) -> Decimal:
    # Decimal, not float: 12.5 hours stays 12.5.  bool is an int; refuse it.
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise InvalidInput("hours per week must be a number of hours", field="hours_per_week")
    hours = Decimal(value)
    if not hours.is_finite() or not MIN_HOURS_PER_WEEK <= hours <= MAX_HOURS_PER_WEEK:
        raise InvalidInput(f"hours per week must be between {MIN_HOURS_PER_WEEK} and {MAX_HOURS_PER_WEEK}",
                           field="hours_per_week")
    return hours


def _whole(value: object, field_name: str, what: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidInput(f"{what} must be a whole number {bounds}", field=field_name)
    return value


def _success_measures(value: object) -> dict[SuccessMeasure, str]:
    if not isinstance(value, Mapping):
        raise InvalidInput("say what success looks like for at least one of attendance, attitude, "
                           "attainment and behaviour", field="success_measures")
    measures: dict[SuccessMeasure, str] = {}
    for key, words in value.items():
        try:
            measure = SuccessMeasure(key.value if isinstance(key, SuccessMeasure) else key)
        except ValueError:
            raise InvalidInput(f"{key!r} is not a success measure (attendance, attitude, attainment, behaviour)",
                               field="success_measures") from None
        if isinstance(words, str) and words.strip():
            measures[measure] = words.strip()
    if not measures:
        raise InvalidInput("say what success looks like for at least one of attendance, attitude, "
                           "attainment and behaviour: AP is an intervention, not a destination",
                           field="success_measures")
    return measures


def _postcode_district(value: object) -> str:
    district = required_text(value, "postcode_district", "the postcode district").upper()
    if not _POSTCODE_DISTRICT.match(district):
        raise InvalidInput("give the postcode district only (for example SE15), never a full postcode",
                           field="postcode_district")
    return district


FULL_TIME_LOT = 1
FULL_TIME_HOURS = Decimal(18)  # DfE: more than 18 hours a week in the day is full-time


def is_full_time(lot: int, hours_per_week: Decimal) -> bool:
    """Lot 1 is full-time education; elsewhere more than 18 hours a week is (the
    registration rule awards applies depends on it)."""
    return lot == FULL_TIME_LOT or Decimal(hours_per_week) > FULL_TIME_HOURS


@dataclass(frozen=True)
class Profile:
    """The anonymised profile: what providers see of the child's need."""

    age: int
    year_group: int | None
    primary_need: str
    ehcp: bool
    looked_after: bool
    reason: ReasonForAP
    needs_and_risks: str
    aims: str
    success_measures: Mapping[SuccessMeasure, str]
    curriculum: str
    qualification_route: str
    hours_per_week: Decimal
    pattern: str
    start_date: date
    expected_weeks: int
    postcode_district: str
    transport_needed: bool

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        _whole(self.age, "age", "the child's age", MIN_AGE, MAX_AGE)
        if self.year_group is not None:
            _whole(self.year_group, "year_group", "the year group", YEAR_GROUPS.start, YEAR_GROUPS.stop - 1)
        put("primary_need", required_text(self.primary_need, "primary_need", "the primary need"))
        for flag in ("ehcp", "looked_after", "transport_needed"):
            if not isinstance(getattr(self, flag), bool):
                raise InvalidInput("must be true or false", field=flag)
        try:
            put("reason", ReasonForAP(self.reason.value if isinstance(self.reason, ReasonForAP) else self.reason))
        except ValueError:
            raise InvalidInput(f"{self.reason!r} is not a reason for AP", field="reason") from None
        put("needs_and_risks", required_text(self.needs_and_risks, "needs_and_risks", "the needs and risks"))
        put("aims", required_text(self.aims, "aims",
                                  "the aims of the placement (AP is an intervention, not a destination)"))
        put("success_measures", _success_measures(self.success_measures))
        put("curriculum", required_text(self.curriculum, "curriculum", "the curriculum"))
        put("qualification_route", required_text(self.qualification_route, "qualification_route",
                                                 "the qualification route"))
        put("hours_per_week", _hours(self.hours_per_week))
        put("pattern", required_text(self.pattern, "pattern", "the pattern of hours"))
        if not isinstance(self.start_date, date) or isinstance(self.start_date, datetime):
            raise InvalidInput("the start date is required", field="start_date")
        _whole(self.expected_weeks, "expected_weeks", "the expected length in weeks", 1)
        put("postcode_district", _postcode_district(self.postcode_district))

    def texts(self) -> dict[str, str]:
        """Every field an officer writes in words, by field name."""
        words = {name: getattr(self, name) for name in
                 ("primary_need", "needs_and_risks", "aims", "curriculum", "qualification_route", "pattern")}
        for measure, text in self.success_measures.items():
            words[f"success_measures.{measure.value}"] = text
        return words


@dataclass(unsafe_hash=True)  # not frozen: the ORM keeps its state on it (orm.py)
class FurtherQuestion:
    """A further quality criterion: every offer answers it; the assessment marks it met or not."""

    id: UUID
    text: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", required_text(self.text, "question", "the question"))


def check_anonymous(child: ChildDetails, profile: Profile, questions: Iterable[FurtherQuestion] = ()) -> None:
    """Refuse words meant for providers that name the child, give the UPN or the home postcode.

    Only exact slips are caught (full name, first and last name, UPN, home
    postcode); a first name alone is too often an ordinary word to refuse.
    """
    names = {child.name.lower()}
    parts = child.name.split()
    if len(parts) > 2:
        names.add(f"{parts[0]} {parts[-1]}".lower())
    postcode = child.home_postcode
    texts = list(profile.texts().items()) + [("questions", q.text) for q in questions]
    for field_name, text in texts:
        flat = " ".join(text.split()).lower()
        squashed = flat.replace(" ", "")
        if any(re.search(rf"\b{re.escape(name)}\b", flat) for name in names):
            raise InvalidInput("names the child: the profile providers see must be anonymous", field=field_name)
        if child.upn.lower() in squashed:
            raise InvalidInput("gives the child's UPN: the profile providers see must be anonymous",
                               field=field_name)
        if postcode and postcode.replace(" ", "").lower() in squashed:
            raise InvalidInput("gives the child's home postcode: the profile providers see must be anonymous",
                               field=field_name)


@dataclass(frozen=True)
class ProfileForProviders:
    """All a provider (or any event) ever learns of a referral.

    Built from the anonymised profile and the referral's terms only: it has no
    place for a name, date of birth, UPN or address.
    """

    referral_id: UUID
    lot: int
    team: str
    profile: Profile
    questions: tuple[FurtherQuestion, ...]
    deadline: datetime
    full_time_provision_by: date | None
