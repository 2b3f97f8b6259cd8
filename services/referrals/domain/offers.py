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
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from shared.errors import InvalidInput

from .common import required_text
from .profile import FurtherQuestion
from .registry import PricingLine

_STAFFING_RATIO = re.compile(r"^\d{1,2}:\d{1,3}$")  # staff:children, e.g. 1:1, 2:6
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")


def _positive_units(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or not Decimal(value).is_finite() \
            or Decimal(value) <= 0:
        raise InvalidInput("units per week must be more than 0", field="units_per_week")
    return Decimal(value)


@dataclass(frozen=True)
class OfferTerms:
    """What a provider proposes; checks that need nothing but the offer itself."""

    pricing_line_id: UUID
    unit_price_pence: int
    units_per_week: Decimal
    weeks: int
    proposed_start: date
    staffing_ratio: str
    delivery_site: str
    delivery_postcode: str
    how_it_meets_needs: str
    place_available: bool
    answers: Mapping[UUID, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        price = self.unit_price_pence
        if isinstance(price, bool) or not isinstance(price, int) or price <= 0:
            raise InvalidInput("the unit price must be a whole number of pence above 0", field="unit_price_pence")
        put("units_per_week", _positive_units(self.units_per_week))
        if isinstance(self.weeks, bool) or not isinstance(self.weeks, int) or self.weeks <= 0:
            raise InvalidInput("weeks must be a whole number above 0", field="weeks")
        if not isinstance(self.proposed_start, date) or isinstance(self.proposed_start, datetime):
            raise InvalidInput("the proposed start date is required", field="proposed_start")
        ratio = required_text(self.staffing_ratio, "staffing_ratio", "the staffing ratio").replace(" ", "")
        if not _STAFFING_RATIO.match(ratio):
            raise InvalidInput("give the staffing ratio as staff:children, for example 1:4", field="staffing_ratio")
        put("staffing_ratio", ratio)
        put("delivery_site", required_text(self.delivery_site, "delivery_site", "the delivery site"))
        postcode = _POSTCODE.match(required_text(self.delivery_postcode, "delivery_postcode",
                                                 "the delivery postcode").upper())
        if not postcode:
            raise InvalidInput("not a UK postcode", field="delivery_postcode")
        put("delivery_postcode", f"{postcode.group(1)} {postcode.group(2)}")
        put("how_it_meets_needs", required_text(self.how_it_meets_needs, "how_it_meets_needs",
                                                "how the offer meets the needs and aims"))
        if self.place_available is not True:
            raise InvalidInput("confirm that a place is available", field="place_available")
        put("answers", {qid: text.strip() for qid, text in dict(self.answers).items()
                        if isinstance(text, str)})

    @property
    def total_pence(self) -> int:
        exact = self.unit_price_pence * self.units_per_week * self.weeks
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def check_price(terms: OfferTerms, line: PricingLine | None, lot: int) -> PricingLine:
    """The line must be in the provider's schedule for the lot, the price at most its maximum."""
    if line is None:
        raise InvalidInput(f"not a line of your pricing schedule for lot {lot}", field="pricing_line_id")
    if terms.unit_price_pence > line.maximum_price_pence:
        raise InvalidInput(f"above the maximum price of {line.maximum_price_pence} pence for this line",
                           field="unit_price_pence")
    return line


def check_answers(terms: OfferTerms, questions: Sequence[FurtherQuestion]) -> None:
    """Every further question answered, and nothing else."""
    asked = {q.id for q in questions}
    unknown = set(terms.answers) - asked
    if unknown:
        raise InvalidInput("answers a question this referral does not ask", field="answers")
    for question in questions:
        if not terms.answers.get(question.id):
            raise InvalidInput(f"answer the further question: {question.text}", field="answers")


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


@dataclass(frozen=True)
class Decline:
    """A provider's "no", with its reason: where the market has gaps."""

    provider_id: UUID
    reason: str
    at: datetime


@dataclass(frozen=True)
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
    """No DPS provider can meet the needs: the officer's reason, for the manager."""

    reason: str
    by: UUID
    at: datetime
