"""Block contracts by mini-competition.

The service area opens an opportunity on a lot; every provider admitted and
not suspended on the lot is invited.  Bids are sealed until the deadline.
Evaluators score each bid per criterion independently; a moderated score per
criterion is agreed with a reason.  Bids below a criterion's minimum are
excluded before price is scored, then

    quality = Q x sum(weight_c x score_c / max_score)      (weights sum to 1)
    price   = P x lowest_price / bid_price                 (lowest of bids kept)
    total   = quality + price

and the highest total wins, ties settled by the published tie-break rule.
Each evaluator declares any conflict of interest before scoring (a conflict
keeps them out), and a score is moderated only from at least two evaluators'
scores.  At the award, a bid whose provider is no longer admitted, or is
suspended, on the lot is excluded (the rule named) before price is scored.
A standstill of working days follows the award; then the contract is
confirmed and becomes a BlockContract whose places can be allocated.  Each
bidder's assessment summary names the winner, with both bids' scores and
the reasons.

Arithmetic: weights and splits are Decimal; scores are computed exactly as
fractions.Fraction and compared unrounded, so two bids are equal only when
they truly are.  For people they are shown as Decimal rounded to 2 places,
ROUND_HALF_UP (see `two_places`).
"""

from __future__ import annotations

import enum
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from uuid import UUID

from shared.calendar import WORKING_DAYS, Calendar
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

from .block_contract import BlockContract
from .common import EVALUATOR, Authority, breach, check_lot, council_date, refuse
from .events import (
    BidSubmitted,
    BidWithdrawn,
    BlockContractAwarded,
    BlockContractConfirmed,
    InterestDeclared,
    OfferUnsuccessful,
    OpportunityCreated,
    ScoreModerated,
    ScoreRecorded,
)
from .registry import Registry, standing_refusal

DEFAULT_DESCRIPTORS = {
    0: "no response, or the response does not address the question",
    1: "poor: serious doubts that the requirement will be met",
    2: "weak: meets part of the requirement, with concerns",
    3: "satisfactory: meets the requirement",
    4: "good: meets the requirement with some added value",
    5: "excellent: exceeds the requirement, with clear evidence",
}

STANDSTILL_WORKING_DAYS = 8

CONFLICTS_OF_INTEREST = Authority("PCR 2015 regulation 24; Procurement Act 2023 sections 81-83: conflicts of "
                                  "interest are identified and kept out of the assessment", law=True)
DECLARE_BEFORE_SCORING = Authority("the council's evaluation procedure: each evaluator declares any conflict "
                                   "of interest in a mini-competition before scoring it", law=False)
TWO_EVALUATORS = Authority("the council's evaluation procedure: a score is moderated from at least two "
                           "evaluators' independent scores", law=False)
BIDDERS_TOLD = ("PCR 2015 regulation 86 (the successful bidder's name, the scores and the reasons; "
                "regulation 55 for a DPS); Procurement Act 2023 section 50 (an assessment summary)")
"""The law that says what each bidder is told (its assessment summary)."""


def two_places(value: Fraction) -> Decimal:
    """A score as shown to people: 2 decimal places, halves rounded up (exact)."""
    hundredths, remainder = divmod(value * 100, 1)
    hundredths = int(hundredths) + (1 if remainder >= Fraction(1, 2) else 0)
    return Decimal(hundredths).scaleb(-2)


def _decimal(value, field_name: str) -> Decimal:
    """Weights and splits as Decimal; a float goes through its shortest text (0.3 -> 0.3)."""
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except ArithmeticError:
        raise InvalidInput(f"{value!r} is not a number", field=field_name) from None


# --- the terms of an opportunity


@dataclass(frozen=True)
class ScoringScale:
    """Whole points from 0 to `maximum`, each with a descriptor."""

    maximum: int = 5
    descriptors: Mapping[int, str] | None = None  # None: the defaults for 0-5, none otherwise

    def __post_init__(self) -> None:
        if isinstance(self.maximum, bool) or not isinstance(self.maximum, int) or self.maximum < 1:
            raise InvalidInput("the top of the scoring scale must be a whole number of at least 1",
                               field="scale")
        if self.descriptors is not None and set(self.descriptors) != set(range(self.maximum + 1)):
            raise InvalidInput(f"the scale needs one descriptor for each point from 0 to {self.maximum}",
                               field="scale")

    def descriptor(self, point: int) -> str:
        if self.descriptors is not None:
            return self.descriptors[point]
        return DEFAULT_DESCRIPTORS[point] if self.maximum == 5 else ""

    def check(self, score, field_name: str = "score") -> int:
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= self.maximum:
            raise InvalidInput(f"a score must be a whole number from 0 to {self.maximum}", field=field_name)
        return score


@dataclass(frozen=True)
class Criterion:
    name: str
    weight: Decimal
    minimum_score: int | None = None  # a bid scoring below this is excluded
    question: str = ""


@dataclass(frozen=True)
class Split:
    """How many of the 100 points go to quality and to price (50/50 by default)."""

    quality: Decimal = Decimal(50)
    price: Decimal = Decimal(50)

    def __post_init__(self) -> None:
        quality, price = _decimal(self.quality, "split"), _decimal(self.price, "split")
        if quality < 0 or price < 0 or quality + price != 100:
            raise InvalidInput("the quality and price split must be two shares summing to 100",
                               field="split")
        object.__setattr__(self, "quality", quality)
        object.__setattr__(self, "price", price)


class TieBreak(enum.Enum):
    HIGHER_QUALITY = "higher_quality"
    LOWER_PRICE = "lower_price"
    EARLIER_SUBMISSION = "earlier_submission"


DEFAULT_TIE_BREAK = (TieBreak.HIGHER_QUALITY, TieBreak.LOWER_PRICE)


@dataclass(frozen=True)
class OpportunityTerms:
    """Everything published with the opportunity; checked once, when it is set."""

    lot: int
    places: int
    contract_start: date
    contract_end: date
    criteria: tuple[Criterion, ...]
    opens_at: datetime
    deadline: datetime
    scale: ScoringScale = ScoringScale()
    split: Split = Split()
    tie_break: tuple[TieBreak, ...] = DEFAULT_TIE_BREAK
    standstill_working_days: int = STANDSTILL_WORKING_DAYS

    def __post_init__(self) -> None:
        check_lot(self.lot)
        if self.places < 1:
            raise InvalidInput("a block contract needs at least one place", field="places")
        if self.contract_end <= self.contract_start:
            raise InvalidInput("the contract must end after it starts", field="contract_end")
        if self.deadline <= self.opens_at:
            raise InvalidInput("the deadline must be after the opportunity opens", field="deadline")
        if self.standstill_working_days < 0:
            raise InvalidInput("the standstill cannot be negative", field="standstill_working_days")
        object.__setattr__(self, "criteria", self._checked_criteria())
        object.__setattr__(self, "tie_break", tuple(TieBreak(rule) for rule in self.tie_break))

    def _checked_criteria(self) -> tuple[Criterion, ...]:
        criteria = tuple(Criterion(c.name, _decimal(c.weight, "criteria"), c.minimum_score, c.question)
                         for c in self.criteria)
        problems = []
        if not criteria:
            problems.append("at least one quality criterion is needed")
        names = [c.name for c in criteria]
        if len(set(names)) != len(names) or not all(n.strip() for n in names):
            problems.append("each criterion needs its own non-empty name")
        if any(c.weight <= 0 for c in criteria):
            problems.append("each weight must be more than 0")
        if criteria and sum(c.weight for c in criteria) != 1:
            problems.append(f"the weights sum to {sum(c.weight for c in criteria)}, not 1")
        for c in criteria:
            if c.minimum_score is not None:
                try:
                    self.scale.check(c.minimum_score, "criteria")
                except InvalidInput:
                    problems.append(f"the minimum score of {c.name!r} is not a point of the scale")
        if problems:
            raise refuse("criteria", "the quality criteria are not valid", problems)
        return criteria

    def criterion(self, name: str) -> Criterion:
        for c in self.criteria:
            if c.name == name:
                return c
        raise InvalidInput(f"{name!r} is not a criterion of this opportunity", field="criterion")


# --- bids and scores


@dataclass
class Bid:
    bid_id: UUID
    provider_id: UUID
    price_pence: int
    answers: Mapping[str, str]  # criterion name -> the provider's answer
    submitted_at: datetime


@dataclass
class EvaluatorScore:
    bid_id: UUID
    criterion: str
    evaluator_id: str  # the evaluator's sub (token subject)
    score: int
    reason: str
    at: datetime


@dataclass
class ModeratedScore:
    bid_id: UUID
    criterion: str
    score: int
    reason: str
    moderated_by: str
    at: datetime


@dataclass
class InterestDeclaration:
    """An evaluator's declaration for one mini-competition, made before scoring:
    no conflict of interest, or a conflict (described), which keeps them out of it."""

    evaluator_id: str
    conflict: bool
    details: str
    at: datetime


# --- evaluation: a pure function of the terms, the bids and the moderated scores


@dataclass(frozen=True)
class BidResult:
    bid: Bid
    scores: Mapping[str, ModeratedScore]
    excluded: tuple[str, ...] = ()  # why, when below a minimum
    quality_exact: Fraction | None = None
    price_exact: Fraction | None = None
    rank: int | None = None

    @property
    def total_exact(self) -> Fraction | None:
        return None if self.excluded else self.quality_exact + self.price_exact

    @property
    def quality(self) -> Decimal | None:
        return None if self.quality_exact is None else two_places(self.quality_exact)

    @property
    def price(self) -> Decimal | None:
        return None if self.price_exact is None else two_places(self.price_exact)

    @property
    def total(self) -> Decimal | None:
        return None if self.excluded else two_places(self.total_exact)


@dataclass(frozen=True)
class Evaluation:
    lowest_price_pence: int | None  # lowest among bids not excluded
    results: tuple[BidResult, ...]  # ranked first, best first; then the excluded

    @property
    def ranked(self) -> tuple[BidResult, ...]:
        return tuple(r for r in self.results if r.rank is not None)

    @property
    def winner(self) -> BidResult | None:
        return next(iter(self.ranked), None)

    def result_of(self, provider_id: UUID) -> BidResult | None:
        return next((r for r in self.results if r.bid.provider_id == provider_id), None)


def _below_minimum(terms: OpportunityTerms, scores: Mapping[str, ModeratedScore]) -> tuple[str, ...]:
    return tuple(f"scored {scores[c.name].score} on {c.name!r}, below the minimum of {c.minimum_score}"
                 for c in terms.criteria
                 if c.minimum_score is not None and scores[c.name].score < c.minimum_score)


def _quality(terms: OpportunityTerms, scores: Mapping[str, ModeratedScore]) -> Fraction:
    weighted = sum((Fraction(c.weight) * scores[c.name].score / terms.scale.maximum for c in terms.criteria),
                   Fraction(0))
    return Fraction(terms.split.quality) * weighted


def _order(terms: OpportunityTerms, result: BidResult) -> tuple:
    """Highest total first, then the published tie-break, then (so there is
    always one winner) earlier submission and the bid id."""
    keys = {TieBreak.HIGHER_QUALITY: -result.quality_exact,
            TieBreak.LOWER_PRICE: result.bid.price_pence,
            TieBreak.EARLIER_SUBMISSION: result.bid.submitted_at}
    return (-result.total_exact, *(keys[rule] for rule in terms.tie_break),
            result.bid.submitted_at, result.bid.bid_id)


def evaluate_bids(terms: OpportunityTerms, bids: Iterable[Bid],
                  moderated: Mapping[tuple[UUID, str], ModeratedScore],
                  ineligible: Mapping[str, Iterable[str]] | None = None) -> Evaluation:
    """`ineligible`: bids (by bid id, as text) whose provider could not be
    awarded when the award was made, with why: excluded like a bid below a minimum."""
    ineligible = ineligible or {}
    results = []
    for bid in bids:
        scores = {c.name: moderated[(bid.bid_id, c.name)] for c in terms.criteria}
        excluded = (*ineligible.get(str(bid.bid_id), ()), *_below_minimum(terms, scores))
        results.append(BidResult(bid, scores, excluded))
    kept = [r for r in results if not r.excluded]
    # Exclusion comes first, so an excluded bid's low price never sets `lowest`.
    lowest = min((r.bid.price_pence for r in kept), default=None)
    scored = [BidResult(r.bid, r.scores, (), _quality(terms, r.scores),
                        Fraction(terms.split.price) * Fraction(lowest, r.bid.price_pence))
              for r in kept]
    scored.sort(key=lambda r: _order(terms, r))
    ranked = [BidResult(r.bid, r.scores, (), r.quality_exact, r.price_exact, rank)
              for rank, r in enumerate(scored, start=1)]
    excluded = sorted((r for r in results if r.excluded), key=lambda r: (r.bid.submitted_at, r.bid.bid_id))
    return Evaluation(lowest, tuple(ranked + excluded))


# --- what each bidder is told


@dataclass(frozen=True)
class CriterionFeedback:
    criterion: str
    weight: Decimal
    score: int
    descriptor: str
    reason: str


@dataclass(frozen=True)
class AssessmentSummary:
    opportunity_id: UUID
    provider_id: UUID
    successful: bool
    rank: int | None
    bids_ranked: int
    excluded: tuple[str, ...]
    scores: tuple[CriterionFeedback, ...]
    quality: Decimal | None
    price: Decimal | None
    total: Decimal | None
    winner_provider_id: UUID
    winner_scores: tuple[CriterionFeedback, ...]
    winner_quality: Decimal
    winner_price: Decimal
    winner_total: Decimal
    standstill_ends_on: date
    reasons: tuple[str, ...]  # why this bid won or did not, against the winner
    told_under: str = BIDDERS_TOLD


# --- where a mini-competition stands


def in_standstill(standstill_working_days: int, standstill_ends_on: date | None, now: datetime) -> bool:
    """The standstill runs to the end of its last working day; with none (0
    days) there is no standstill at all and confirmation may follow the award
    on the same day."""
    return (bool(standstill_working_days) and standstill_ends_on is not None
            and council_date(now) <= standstill_ends_on)


def competition_status(*, opens_at: datetime, deadline: datetime, standstill_working_days: int,
                       standstill_ends_on: date | None, awarded: bool, confirmed: bool, now: datetime) -> str:
    """not_open, open, evaluation, standstill, awarded (standstill over) or confirmed:
    the one place this is decided (the API shows it, confirmation obeys it)."""
    if confirmed:
        return "confirmed"
    if awarded:
        return "standstill" if in_standstill(standstill_working_days, standstill_ends_on, now) else "awarded"
    if now < opens_at:
        return "not_open"
    return "open" if now < deadline else "evaluation"


# --- the aggregate


class MiniCompetition:
    """One opportunity from creation to confirmed contract.

    `version` goes up with every change; the service layer changes one
    competition at a time (it locks the opportunity's row).
    """

    def __init__(self, opportunity_id: UUID, terms: OpportunityTerms, invited: frozenset[UUID],
                 created_at: datetime, *, team: str | None = None) -> None:
        self.opportunity_id = opportunity_id
        self.terms = terms
        self.invited = invited
        self.created_at = created_at
        self.team = team  # the service area that runs it (None: the manager)
        self.bids: dict[UUID, Bid] = {}  # by provider
        self.evaluator_scores: dict[tuple[UUID, str, str], EvaluatorScore] = {}
        self.moderated: dict[tuple[UUID, str], ModeratedScore] = {}
        self.declarations: dict[str, InterestDeclaration] = {}  # by evaluator
        # bid id (text) -> why its provider could not win; None on competitions awarded before this was kept
        self.ineligible_at_award: dict[str, list[str]] | None = {}
        self._evaluation: Evaluation | None = None
        self.awarded_by: str | None = None
        self.awarded_at: datetime | None = None
        self.standstill_ends_on: date | None = None
        self.contract: BlockContract | None = None
        self.version = 0
        self.events: list = []

    @property
    def evaluation(self) -> Evaluation | None:
        """The evaluation the award was made from (None before the award).  Scores
        are final once awarded, so a stored competition recomputes it exactly."""
        if self.awarded_at is None:
            return None
        if self._evaluation is None:
            self._evaluation = evaluate_bids(self.terms, self.bids.values(), self.moderated,
                                             self.ineligible_at_award)
        return self._evaluation

    @classmethod
    def create(cls, terms: OpportunityTerms, registry: Registry, now: datetime,
               opportunity_id: UUID | None = None, *, team: str | None = None) -> MiniCompetition:
        """Invite every provider admitted and not suspended on the lot at this moment."""
        invited = registry.admitted_on(terms.lot)
        if not invited:
            raise InvalidInput(f"no provider is admitted and not suspended on lot {terms.lot}", field="lot")
        comp = cls(opportunity_id or uuid.uuid4(), terms, invited, now, team=team)
        comp.events.append(OpportunityCreated(comp.opportunity_id, team, terms, invited, now))
        return comp

    def status(self, now: datetime) -> str:
        return competition_status(
            opens_at=self.terms.opens_at, deadline=self.terms.deadline,
            standstill_working_days=self.terms.standstill_working_days, standstill_ends_on=self.standstill_ends_on,
            awarded=self.evaluation is not None, confirmed=self.contract is not None, now=now)

    # bidding

    def submit_bid(self, provider_id: UUID, price_pence: int, answers: Mapping[str, str], now: datetime,
                   bid_id: UUID | None = None) -> Bid:
        """A sealed bid; a provider's second bid before the deadline replaces its first."""
        if provider_id not in self.invited:
            raise Forbidden("this provider was not invited to this mini-competition", field="provider_id")
        self._check_bidding_open(now)
        if isinstance(price_pence, bool) or not isinstance(price_pence, int) or price_pence <= 0:
            raise InvalidInput("the price must be a whole number of pence above 0", field="price_pence")
        self._check_answers(answers)
        previous = self.bids.get(provider_id)
        bid = Bid(bid_id or (previous.bid_id if previous else uuid.uuid4()), provider_id, price_pence,
                  dict(answers), now)
        self.bids[provider_id] = bid
        self.version += 1
        self.events.append(BidSubmitted(self.opportunity_id, bid.bid_id, provider_id, now))
        return bid

    def withdraw_bid(self, provider_id: UUID, now: datetime) -> None:
        self._check_bidding_open(now)
        withdrawn = self.bids.pop(provider_id, None)
        if withdrawn is None:
            raise NotFound("this provider has no bid to withdraw")
        self.version += 1
        self.events.append(BidWithdrawn(self.opportunity_id, withdrawn.bid_id, now))

    def bid_of(self, provider_id: UUID) -> Bid | None:
        """A provider may always see its own bid, and only its own."""
        return self.bids.get(provider_id)

    def opened_bids(self, now: datetime) -> tuple[Bid, ...]:
        self._check_sealing_over(now)
        return tuple(sorted(self.bids.values(), key=lambda b: (b.submitted_at, b.bid_id)))

    def _check_bidding_open(self, now: datetime) -> None:
        if now < self.terms.opens_at:
            raise InvalidInput(f"bids are accepted from {self.terms.opens_at.isoformat()}", field="opens_at")
        if now >= self.terms.deadline:
            raise InvalidInput(f"the deadline for bids was {self.terms.deadline.isoformat()}", field="deadline")

    def _check_answers(self, answers: Mapping[str, str]) -> None:
        names = {c.name for c in self.terms.criteria}
        problems = [f"no answer to {n!r}" for n in sorted(names) if not str(answers.get(n, "")).strip()]
        problems += [f"{n!r} is not a criterion of this opportunity" for n in sorted(set(answers) - names)]
        if problems:
            raise refuse("answers", "a bid needs an answer to each criterion", problems)

    def _check_sealing_over(self, now: datetime) -> None:
        if now < self.terms.deadline:
            raise Conflict(f"bids are sealed until the deadline, {self.terms.deadline.isoformat()}")

    # conflicts of interest

    def declare_interests(self, *, evaluator_id: str, roles: Iterable[str], conflict: bool, details: str = "",
                          now: datetime) -> InterestDeclaration:
        """An evaluator declares, before scoring, no conflict of interest or a conflict
        (in words).  A conflict keeps them out: any score of theirs not yet
        moderated is withdrawn.  A conflict found after declaring none may be
        declared then; a declared conflict stands."""
        if EVALUATOR not in set(roles):
            raise Forbidden("only an evaluator declares interests in a mini-competition", field="roles")
        if self.evaluation is not None:
            raise Conflict("the mini-competition has been awarded: scores are final")
        details = (details or "").strip()
        if conflict and not details:
            raise InvalidInput("a conflict of interest is declared with what it is", field="details")
        previous = self.declarations.get(evaluator_id)
        if previous is not None and (previous.conflict or not conflict):
            said = "a conflict of interest" if previous.conflict else "no conflict of interest"
            raise Conflict(f"this evaluator already declared {said} in this mini-competition on "
                           f"{council_date(previous.at).isoformat()}", field="conflict")
        if previous is None:
            previous = self.declarations[evaluator_id] = InterestDeclaration(evaluator_id, conflict, details, now)
        else:  # none declared before, a conflict now
            previous.conflict, previous.details, previous.at = conflict, details, now
        withdrawn = self._withdraw_scores_of(evaluator_id) if conflict else 0
        self.version += 1
        self.events.append(InterestDeclared(self.opportunity_id, evaluator_id, conflict, withdrawn, now))
        return previous

    def _withdraw_scores_of(self, evaluator_id: str) -> int:
        keys = [key for key, s in self.evaluator_scores.items()
                if s.evaluator_id == evaluator_id and key[:2] not in self.moderated]
        for key in keys:
            del self.evaluator_scores[key]
        self._scored_cache = None
        return len(keys)

    def _check_declared(self, evaluator_id: str) -> None:
        declaration = self.declarations.get(evaluator_id)
        if declaration is None:
            raise breach("declare any conflict of interest in this mini-competition before scoring it",
                         DECLARE_BEFORE_SCORING, CONFLICTS_OF_INTEREST, field="evaluator_id")
        if declaration.conflict:
            raise breach("this evaluator declared a conflict of interest in this mini-competition and may not "
                         "score it", CONFLICTS_OF_INTEREST, field="evaluator_id")

    # scoring

    def score(self, bid_id: UUID, criterion: str, score: int, *, evaluator_id: str, roles: Iterable[str],
              now: datetime, reason: str = "") -> EvaluatorScore:
        """One evaluator's own score; scoring again before moderation replaces it."""
        self._check_can_score(roles, now, evaluator_id)
        bid = self._bid(bid_id)
        name = self.terms.criterion(criterion).name
        if (bid.bid_id, name) in self.moderated:
            raise Conflict(f"the score for {name!r} on this bid has already been moderated")
        entry = EvaluatorScore(bid.bid_id, name, evaluator_id, self.terms.scale.check(score), reason, now)
        self.evaluator_scores[(bid.bid_id, name, evaluator_id)] = entry
        self.version += 1
        self.events.append(ScoreRecorded(self.opportunity_id, bid.bid_id, name, entry.score, reason, now))
        return entry

    def moderate(self, bid_id: UUID, criterion: str, score: int, *, reason: str, moderator_id: str,
                 roles: Iterable[str], now: datetime) -> ModeratedScore:
        """The agreed score for one criterion of one bid, always with its reason,
        from at least two evaluators' independent scores."""
        self._check_can_score(roles, now, moderator_id)
        bid = self._bid(bid_id)
        name = self.terms.criterion(criterion).name
        checked = self.terms.scale.check(score)
        if not (reason or "").strip():
            raise InvalidInput("a moderated score needs the reason it was agreed", field="reason")
        scored_by = self._scored().get((bid.bid_id, name), 0)
        if not scored_by:
            raise Conflict(f"no evaluator has scored {name!r} on this bid yet")
        if scored_by < 2:
            raise breach(f"only one evaluator has scored {name!r} on this bid", TWO_EVALUATORS)
        entry = ModeratedScore(bid.bid_id, name, checked, reason.strip(), moderator_id, now)
        self.moderated[(bid.bid_id, name)] = entry
        self.version += 1
        independent = {key[2]: s.score for key, s in self.evaluator_scores.items() if key[:2] == (bid.bid_id, name)}
        self.events.append(ScoreModerated(self.opportunity_id, bid.bid_id, name, checked, entry.reason,
                                          independent, now))
        return entry

    def scores_by(self, evaluator_id: str) -> tuple[EvaluatorScore, ...]:
        """An evaluator's own scores: what each sees before moderation."""
        return tuple(s for s in self.evaluator_scores.values() if s.evaluator_id == evaluator_id)

    def _check_can_score(self, roles: Iterable[str], now: datetime, evaluator_id: str) -> None:
        if EVALUATOR not in set(roles):
            raise Forbidden("only an evaluator may score bids", field="roles")
        self._check_sealing_over(now)
        if self.evaluation is not None:
            raise Conflict("the mini-competition has been awarded: scores are final")
        self._check_declared(evaluator_id)

    def _scored(self) -> Counter[tuple[UUID, str]]:
        """How many evaluators have scored each (bid, criterion).  Scores are
        added or replaced (withdrawal clears the cache), so the count is rebuilt
        only when their number changes (500 bids x 20 criteria x 3 evaluators
        must not be scanned per moderation)."""
        cache = getattr(self, "_scored_cache", None)
        if cache is None or cache[0] != len(self.evaluator_scores):
            cache = (len(self.evaluator_scores), Counter(key[:2] for key in self.evaluator_scores))
            self._scored_cache = cache
        return cache[1]

    def _bid(self, bid_id: UUID) -> Bid:
        by_id = getattr(self, "_bids_by_id", {})
        bid = by_id.get(bid_id)
        if bid is None or self.bids.get(bid.provider_id) is not bid:  # new, replaced or withdrawn bids
            self._bids_by_id = by_id = {b.bid_id: b for b in self.bids.values()}
            bid = by_id.get(bid_id)
        if bid is None:
            raise NotFound("no such bid in this mini-competition")
        return bid

    # evaluation and award

    def evaluate(self, ineligible: Mapping[str, Iterable[str]] | None = None) -> Evaluation:
        """The current result; every bid needs a moderated score on every criterion."""
        if not self.bids:
            raise Conflict("there are no bids to evaluate")
        missing = [(b, c.name) for b in self.bids.values() for c in self.terms.criteria
                   if (b.bid_id, c.name) not in self.moderated]
        if missing:
            raise Conflict(f"{len(missing)} moderated score(s) still to agree before evaluation")
        return evaluate_bids(self.terms, self.bids.values(), self.moderated, ineligible)

    def award(self, *, awarded_by: str, registry: Registry, now: datetime,
              calendar: Calendar = WORKING_DAYS) -> Evaluation:
        """Award to the top-ranked bid and start the standstill.  Only a provider
        admitted and not suspended on the lot now may win: a bid from any other
        is excluded, with the rule named, and the award goes to the best of the rest."""
        self._check_sealing_over(now)
        if self.evaluation is not None:
            raise Conflict("this mini-competition has already been awarded")
        lot = self.terms.lot
        ineligible = {str(b.bid_id): [why] for b in self.bids.values()
                      if (why := standing_refusal(registry.on_lot(b.provider_id, lot), lot)) is not None}
        evaluation = self.evaluate(ineligible)
        winner = evaluation.winner
        if winner is None and ineligible:
            raise Conflict("no bid can be awarded: " + "; ".join(
                "; ".join(r.excluded) for r in evaluation.results))
        if winner is None:
            raise Conflict("every bid was excluded below a minimum score: there is nothing to award")
        self.ineligible_at_award = ineligible
        self._evaluation, self.awarded_by, self.awarded_at = evaluation, awarded_by, now
        self.standstill_ends_on = calendar.add_days(council_date(now), self.terms.standstill_working_days)
        self.version += 1
        self._record_award(evaluation, winner)
        return evaluation

    def _record_award(self, evaluation: Evaluation, winner: BidResult) -> None:
        t, at = self.terms, self.awarded_at
        self.events.append(BlockContractAwarded(
            self.opportunity_id, winner.bid.bid_id, winner.bid.provider_id, t.lot, t.places,
            winner.bid.price_pence, t.contract_start, t.contract_end, self.standstill_ends_on,
            self.awarded_by, at, evaluation=evaluation))
        for result in evaluation.results:
            if result is winner:
                continue
            if result.excluded:
                why = "excluded: " + "; ".join(result.excluded)
            else:
                why = f"ranked {result.rank} of {len(evaluation.ranked)} with a total of {result.total}"
            self.events.append(OfferUnsuccessful(result.bid.bid_id, result.bid.provider_id, why, at,
                                                 opportunity_id=self.opportunity_id, rank=result.rank,
                                                 winner_provider_id=winner.bid.provider_id))

    def confirm(self, *, confirmed_by: str, now: datetime, contract_id: UUID | None = None) -> BlockContract:
        """After the standstill: the contract is made and its places can be allocated."""
        if self.evaluation is None:
            raise Conflict("the mini-competition has not been awarded")
        if self.contract is not None:
            raise Conflict("the block contract has already been confirmed")
        if in_standstill(self.terms.standstill_working_days, self.standstill_ends_on, now):
            raise Conflict(f"the standstill runs until the end of {self.standstill_ends_on.isoformat()}")
        winner, t = self.evaluation.winner, self.terms
        self.contract = BlockContract(contract_id or uuid.uuid4(), self.opportunity_id, winner.bid.provider_id,
                                      t.lot, t.places, winner.bid.price_pence, t.contract_start,
                                      t.contract_end, confirmed_by=confirmed_by, confirmed_at=now)
        self.version += 1
        self.events.append(BlockContractConfirmed(
            self.contract.contract_id, self.opportunity_id, winner.bid.provider_id, t.lot, t.places,
            winner.bid.price_pence, t.contract_start, t.contract_end, confirmed_by, now, team=self.team))
        return self.contract

    # what each bidder may read

    def assessment_summary(self, provider_id: UUID) -> AssessmentSummary:
        if self.evaluation is None:
            raise Conflict("assessment summaries are given once the mini-competition is awarded")
        mine = self.evaluation.result_of(provider_id)
        if mine is None:
            raise NotFound("this provider made no bid in this mini-competition")
        winner = self.evaluation.winner
        return AssessmentSummary(
            self.opportunity_id, provider_id, mine is winner, mine.rank, len(self.evaluation.ranked),
            mine.excluded, self._feedback(mine), mine.quality, mine.price, mine.total, winner.bid.provider_id,
            self._feedback(winner), winner.quality, winner.price, winner.total, self.standstill_ends_on,
            self._reasons(mine, winner))

    def _reasons(self, mine: BidResult, winner: BidResult) -> tuple[str, ...]:
        """Why this bid won or did not, set against the winning bid."""
        ranked = len(self.evaluation.ranked)
        if mine is winner:
            return (f"the highest total of {ranked} bid(s) ranked: {winner.total}",)
        if mine.excluded:
            return tuple(f"excluded: {why}" for why in mine.excluded)
        reasons = [f"ranked {mine.rank} of {ranked}: a total of {mine.total} against the winning bid's "
                   f"{winner.total}"]
        for label, own, best in (("quality", mine.quality_exact, winner.quality_exact),
                                 ("price", mine.price_exact, winner.price_exact)):
            if own != best:
                word = "lower" if own < best else "higher"
                reasons.append(f"a {word} {label} score: {two_places(own)} against {two_places(best)}")
        reasons += [f"{c.name!r}: scored {mine.scores[c.name].score}, the winning bid "
                    f"{winner.scores[c.name].score}"
                    for c in self.terms.criteria if mine.scores[c.name].score != winner.scores[c.name].score]
        if mine.total_exact == winner.total_exact:
            reasons.append("equal totals: settled by the published tie-break "
                           f"({', '.join(rule.value for rule in self.terms.tie_break)})")
        return tuple(reasons)

    def _feedback(self, result: BidResult) -> tuple[CriterionFeedback, ...]:
        scale = self.terms.scale
        return tuple(CriterionFeedback(c.name, c.weight, result.scores[c.name].score,
                                       scale.descriptor(result.scores[c.name].score),
                                       result.scores[c.name].reason)
                     for c in self.terms.criteria)
