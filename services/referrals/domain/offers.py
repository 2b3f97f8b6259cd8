"""Offers: a provider's answer to a referral, and the officer's assessment of it.

An offer names a line of the provider's pricing schedule for the lot and a
unit price at most that line's maximum; the total is unit price x units per
week x weeks, in whole pence (rounded half up when units are fractional, e.g.
7.5 hours of tuition).  It says how it meets the needs and aims, answers every
further question, and confirms a place is available.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from shared.errors import InvalidInput

from .common import required_text
from .off_dps import OffDpsDetails
from .profile import FurtherQuestion
from .registry import PricingLine

_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")


class _Problems:
    """Every problem of one offer, by field: all are reported at once."""

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def add(self, field_name: str, message: str) -> None:
        self.found.setdefault(field_name, []).append(message)

    def text(self, value: object, field_name: str, what: str) -> object:
        try:
            return required_text(value, field_name, what)
        except InvalidInput as exc:
            self.add(field_name, exc.message)
            return value

    def raise_any(self) -> None:
        if len(self.found) == 1 and len(next(iter(self.found.values()))) == 1:
            [(name, [reason])] = self.found.items()
            raise InvalidInput(reason, field=name)
        if self.found:
            raise InvalidInput(f"the offer is refused: {len(self.found)} fields to put right ({', '.join(self.found)})",
                               errors=self.found)


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _units(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or not Decimal(value).is_finite() \
            or Decimal(value) <= 0:
        return None
    return Decimal(value)


def _ratio_key(ratio: str) -> str:
    return ratio.replace(" ", "").casefold()


@dataclass(frozen=True)
class OfferTerms:
    """What a provider proposes, normalised.  Building terms refuses nothing:
    `check_offer` judges them with the line they quote and the referral, and
    reports every problem at once (`problems` are the ones the terms alone show).

    The staffing ratio is the quoted line's (the registry's vocabulary): left
    out, the line's is taken; given, it must be the line's."""

    pricing_line_id: UUID
    unit_price_pence: int
    units_per_week: Decimal
    weeks: int
    proposed_start: date
    delivery_site: str
    delivery_postcode: str
    how_it_meets_needs: str
    place_available: bool
    staffing_ratio: str | None = None
    answers: Mapping[UUID, str] = field(default_factory=dict)
    problems: Mapping[str, tuple[str, ...]] = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        problems = _Problems()
        price = self.unit_price_pence
        if not _is_whole(price) or price <= 0:
            problems.add("unit_price_pence", "the unit price must be a whole number of pence above 0")
        units = _units(self.units_per_week)
        if units is None:
            problems.add("units_per_week", "units per week must be more than 0")
        else:
            put("units_per_week", units)
        if not _is_whole(self.weeks) or self.weeks <= 0:
            problems.add("weeks", "weeks must be a whole number above 0")
        if not isinstance(self.proposed_start, date) or isinstance(self.proposed_start, datetime):
            problems.add("proposed_start", "the proposed start date is required")
        if self.staffing_ratio is not None:
            if not isinstance(self.staffing_ratio, str) or not self.staffing_ratio.strip():
                problems.add("staffing_ratio", "give the staffing ratio of the line you quote, or leave it out")
            else:
                put("staffing_ratio", self.staffing_ratio.strip())
        put("delivery_site", problems.text(self.delivery_site, "delivery_site", "the delivery site"))
        postcode = problems.text(self.delivery_postcode, "delivery_postcode", "the delivery postcode")
        if isinstance(postcode, str) and postcode.strip():
            matched = _POSTCODE.match(postcode.upper())
            if matched:
                put("delivery_postcode", f"{matched.group(1)} {matched.group(2)}")
            else:
                problems.add("delivery_postcode", "not a UK postcode")
        put("how_it_meets_needs", problems.text(self.how_it_meets_needs, "how_it_meets_needs",
                                                "how the offer meets the needs and aims"))
        if self.place_available is not True:
            problems.add("place_available", "confirm that a place is available")
        put("answers", {qid: text.strip() for qid, text in dict(self.answers).items()
                        if isinstance(text, str)})
        put("problems", {name: tuple(reasons) for name, reasons in problems.found.items()})

    @property
    def total_pence(self) -> int:
        exact = self.unit_price_pence * self.units_per_week * self.weeks
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def check_offer(terms: OfferTerms, line: PricingLine | None, *, lot: int, questions: Sequence[FurtherQuestion],
                today: date) -> OfferTerms:
    """Every rule of an offer, every problem reported at once (422, each field named): the terms
    themselves, the line quoted (in the provider's schedule for the lot, the price at most its maximum,
    the staffing ratio the line's), the further questions, a start not in the past.  Returns the terms
    with the line's staffing ratio."""
    problems = _Problems()
    for name, reasons in terms.problems.items():
        for reason in reasons:
            problems.add(name, reason)
    if line is None:
        problems.add("pricing_line_id", f"not a line of your pricing schedule for lot {lot}")
    else:
        if "unit_price_pence" not in terms.problems and terms.unit_price_pence > line.maximum_price_pence:
            problems.add("unit_price_pence", f"above the maximum price of {line.maximum_price_pence} pence "
                                             "for this line")
        if (line.staffing_ratio is not None and terms.staffing_ratio is not None
                and "staffing_ratio" not in terms.problems
                and _ratio_key(terms.staffing_ratio) != _ratio_key(line.staffing_ratio)):
            problems.add("staffing_ratio", f"the line you quote is priced for a staffing ratio of "
                                           f"{line.staffing_ratio}: quote the line for the ratio you offer")
    for field_name, reason in answer_problems(terms, questions):
        problems.add(field_name, reason)
    if "proposed_start" not in terms.problems and terms.proposed_start < today:
        problems.add("proposed_start", "the proposed start date is in the past")
    if terms.staffing_ratio is None and line is not None and line.staffing_ratio is None:
        problems.add("staffing_ratio", "the staffing ratio is required: the line quoted does not give one")
    problems.raise_any()
    if line is not None and line.staffing_ratio is not None:
        return replace(terms, staffing_ratio=line.staffing_ratio)
    return terms


def answer_problems(terms: OfferTerms, questions: Sequence[FurtherQuestion]) -> list[tuple[str, str]]:
    """Every further question answered, and nothing else."""
    found = []
    asked = {q.id for q in questions}
    if set(terms.answers) - asked:
        found.append(("answers", "answers a question this referral does not ask"))
    found += [("answers", f"answer the further question: {question.text}")
              for question in questions if not terms.answers.get(question.id)]
    return found


@dataclass
class Offer:
    """A provider's offer on one referral.  Live until withdrawn."""

    id: UUID
    provider_id: UUID
    terms: OfferTerms
    maximum_price_pence: int  # of its line when last priced: the award re-checks against the schedule then
    submitted_at: datetime
    changed_at: datetime | None = None
    withdrawn_at: datetime | None = None

    @property
    def live(self) -> bool:
        return self.withdrawn_at is None

    @property
    def total_pence(self) -> int:
        return self.terms.total_pence


@dataclass(unsafe_hash=True)  # not frozen: the ORM keeps its state on it (orm.py)
class Decline:
    """A provider's "no", with its reason: where the market has gaps."""

    provider_id: UUID
    reason: str
    at: datetime


@dataclass(unsafe_hash=True)  # not frozen: the ORM keeps its state on it (orm.py)
class Assessment:
    """An officer's judgement of one offer: meets the needs or not, and why;
    each further question met or not."""

    offer_id: UUID
    meets_needs: bool
    reason: str
    criteria_met: Mapping[UUID, bool]
    by: UUID
    at: datetime


@dataclass(frozen=True)
class OffDpsException:
    """No DPS provider can meet the needs: the officer's reason, for the manager, with the provider, the
    placement's terms and the minimum checks (off_dps.py)."""

    reason: str
    by: UUID
    at: datetime
    details: OffDpsDetails | None = None  # None only on an exception recorded before these were asked
