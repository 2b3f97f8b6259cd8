"""The referral form, in two halves that never meet outside the council.

`ChildDetails` identifies the child (name, date of birth, UPN, address): only
officers and the manager ever see it.  `Profile` is the pseudonymised profile
providers read: it has no field that could hold an identifying detail, and
`ProfileForProviders` (what a provider or an event gets) is built from the
profile alone, so identifying details cannot reach a provider by mistake.
It is pseudonymised, not anonymous: with the council's records it identifies
the child, and it holds special category data, so UK GDPR applies to every
copy.  Officers write the profile's words by hand, so `check_pseudonymised`
also refuses a profile whose text names the child (any one name alone), gives
the date of birth, the street, the UPN or the home postcode.

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

from .census_items import check_code, check_name
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
    # What DfE's AP census asks of the child beyond the above (council only, never in the profile or an event);
    # None until recorded.  Codes: `census_items` (DfE's code sets).
    surname: str | None = field(default=None, repr=False)
    forename: str | None = field(default=None, repr=False)
    sex: str | None = field(default=None, repr=False)  # F, M or U
    ethnicity: str | None = field(default=None, repr=False)  # DfE's main ethnicity codes: WBRI, ...
    sen_provision: str | None = field(default=None, repr=False)  # N, K (SEN support) or E (EHC plan)
    fsm_eligible: bool | None = field(default=None, repr=False)  # eligible for free school meals

    def __post_init__(self) -> None:
        object.__setattr__(self, "surname", check_name(self.surname, "Surname", "surname", "the legal surname"))
        object.__setattr__(self, "forename", check_name(self.forename, "Forename", "forename", "the forename"))
        object.__setattr__(self, "sex", check_code(self.sex, "sex", "sex", "sex"))
        object.__setattr__(self, "ethnicity", check_code(self.ethnicity, "ethnicity", "ethnicity", "ethnicity"))
        object.__setattr__(self, "sen_provision",
                           check_code(self.sen_provision, "sen_provision", "sen_provision", "SEN provision"))
        if self.fsm_eligible is not None and not isinstance(self.fsm_eligible, bool):
            raise InvalidInput("must be true or false", field="fsm_eligible")
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
    """The pseudonymised profile: what providers see of the child's need."""

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
    has_sen: bool = False  # special educational needs (an EHCP is one kind): the registration rule counts it

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        _whole(self.age, "age", "the child's age", MIN_AGE, MAX_AGE)
        if self.year_group is not None:
            _whole(self.year_group, "year_group", "the year group", YEAR_GROUPS.start, YEAR_GROUPS.stop - 1)
        put("primary_need", required_text(self.primary_need, "primary_need", "the primary need"))
        for flag in ("ehcp", "looked_after", "transport_needed", "has_sen"):
            if not isinstance(getattr(self, flag), bool):
                raise InvalidInput("must be true or false", field=flag)
        put("has_sen", self.has_sen or self.ehcp)  # a child with an EHCP has special educational needs
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


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_HOUSE_NUMBER = re.compile(r"^(?:(?:flat|apartment|unit)\s+\w+\s+)?\d+[a-z]?\s+", re.IGNORECASE)


@dataclass(frozen=True)
class PrivacyFinding:
    """Where a profile's words identify the child: the field, the characters
    (start, end) in that field's text, and why.  Never the words themselves,
    so the finding can travel in an error body without repeating them."""

    field: str
    start: int
    end: int
    kind: str  # "name", "date_of_birth", "street", "upn", "postcode"

    @property
    def why(self) -> str:
        what = {"name": "names the child", "date_of_birth": "gives the child's date of birth",
                "street": "gives the street of the child's home", "upn": "gives the child's UPN",
                "postcode": "gives the child's home postcode"}[self.kind]
        return (f"{what} (characters {self.start + 1} to {self.end}): the profile providers see "
                "is pseudonymised and must not identify the child")


def _words(text: str) -> str:
    """A pattern for text's words, as whole words, whatever the spacing between them."""
    return r"(?<!\w)" + r"\s+".join(re.escape(word) for word in text.split()) + r"(?!\w)"


def _name_patterns(name: str) -> list[str]:
    # The whole name, and each name alone (first name, surname, each half of a
    # double-barrelled one): any one of them, with the council's records, points at the child.
    parts = {name}
    for part in name.split():
        parts.add(part)
        parts.update(half for half in part.split("-") if len(half) > 1)
    return [_words(part) for part in sorted(parts, key=len, reverse=True) if len(part) > 1]


def _date_patterns(day: date) -> list[str]:
    d, m, y = day.day, day.month, day.year
    month = _MONTHS[m - 1]
    dd, mm = rf"0?{d}", rf"0?{m}"
    years = rf"(?:{y}|{y % 100:02d})"
    named = rf"(?:{month}|{month[:3]}\.?)"
    ordinal = rf"{dd}(?:st|nd|rd|th)?"
    return [
        rf"(?<!\d){y}[-/.]{mm}[-/.]{dd}(?!\d)",                    # 2018-11-01
        rf"(?<!\d){dd}[-/.]{mm}[-/.]{years}(?!\d)",                 # 01/11/2018, 1.11.18
        rf"(?<!\w){ordinal}\s+(?:of\s+)?{named},?\s+{y}(?!\d)",    # 1st of November 2018
        rf"(?<!\w){named}\s+{ordinal},?\s+{y}(?!\d)",              # November 1, 2018
    ]


def _street(address: str) -> str | None:
    """The street of the home address: the first part of it that has words
    once a house or flat number is taken off ("12 Acacia Avenue, London" gives
    "Acacia Avenue")."""
    for part in address.split(","):
        words = _HOUSE_NUMBER.sub("", part.strip())
        if _FULL_POSTCODE.fullmatch(words.strip()) or not re.search(r"[A-Za-z]{2}", words):
            continue
        if sum(1 for word in words.split() if word.isalpha()) >= 2:  # not "Flat 2"
            return words.strip()
    return None


def privacy_findings(child: ChildDetails, profile: Profile,
                     questions: Iterable[FurtherQuestion] = ()) -> list[PrivacyFinding]:
    """Every place where the words meant for providers identify the child:
    the name or any one of its names alone, the date of birth as people write
    it, the street of the home address, the UPN, the home postcode (whole
    words, any case)."""
    patterns = [("name", p) for p in _name_patterns(child.name)]
    patterns += [("date_of_birth", p) for p in _date_patterns(child.date_of_birth)]
    street = _street(child.address)
    if street:
        patterns.append(("street", _words(street)))
    # A UPN or postcode may be written with spaces anywhere in it.
    patterns.append(("upn", r"(?<!\w)" + r"\s*".join(re.escape(c) for c in child.upn) + r"(?!\w)"))
    if child.home_postcode:
        patterns.append(("postcode", r"(?<!\w)" + r"\s*".join(
            re.escape(c) for c in child.home_postcode.replace(" ", "")) + r"(?!\w)"))
    texts = list(profile.texts().items()) + [("questions", q.text) for q in questions]
    findings: list[PrivacyFinding] = []
    for field_name, text in texts:
        taken: list[tuple[int, int]] = []
        for kind, pattern in patterns:
            for found in re.finditer(pattern, text, re.IGNORECASE):
                if any(s <= found.start() < e for s, e in taken):
                    continue  # already reported as part of a longer finding (the full name)
                taken.append(found.span())
                findings.append(PrivacyFinding(field_name, found.start(), found.end(), kind))
    return sorted(findings, key=lambda f: (f.field, f.start))


def check_pseudonymised(child: ChildDetails, profile: Profile, questions: Iterable[FurtherQuestion] = ()) -> None:
    """Refuse words meant for providers that identify the child, naming every
    field and where in it (see `privacy_findings`)."""
    findings = privacy_findings(child, profile, questions)
    if findings:
        errors: dict[str, list[str]] = {}
        for finding in findings:
            errors.setdefault(finding.field, []).append(finding.why)
        first = findings[0]
        refusal = InvalidInput(f"the profile {first.why.split(' (')[0]}: providers may only see a "
                               "pseudonymised profile", errors=errors)
        refusal.field = first.field  # the first place to look; every place is in `errors`
        raise refusal


@dataclass(frozen=True)
class ProfileForProviders:
    """All a provider (or any event) ever learns of a referral.

    Built from the pseudonymised profile and the referral's terms only: it has no
    place for a name, date of birth, UPN or address.
    """

    referral_id: UUID
    lot: int
    team: str
    profile: Profile
    questions: tuple[FurtherQuestion, ...]
    deadline: datetime
    full_time_provision_by: date | None
    first_day_aim: date | None = None  # a looked-after child's aim: full-time provision from the first school day
    # of compulsory school age on the placement's start date (school_age.py): the answer, never the date of birth
    compulsory_school_age: bool = True
