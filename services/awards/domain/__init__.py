"""The awards service's rules, in the council's words.

- registry.py: awards' own copy of lot memberships, registration status,
  pricing maxima, capacity and places in use.
- registration.py: the registration rule for every child placed (call-off or block place).
- calloffs.py: individual placements: rank a closed referral's offers
  (eligibility with every reason why not), then award exactly once.
- mini_competition.py: block contracts: opportunity, sealed bids, independent
  and moderated scores, exclusion below minimum, quality/price scoring, award,
  standstill, confirmation, assessment summaries.
- block_contract.py: a confirmed block contract and the allocation of its places.
- events.py: what awards tells the world (names as in shared/catalogue.py).
"""

from .block_contract import BlockContract, PlaceAllocation
from .calloffs import (
    Award,
    CallOff,
    Offer,
    RankedOffer,
    Ranking,
    Reason,
    Referral,
    ReferralState,
    Rule,
    rank_offers,
    reasons_against,
)
from .common import EVALUATOR, LOTS, council_date
from .events import (
    BidSubmitted,
    BidWithdrawn,
    BlockContractAwarded,
    BlockContractConfirmed,
    BlockPlaceAllocated,
    OfferUnsuccessful,
    OpportunityCreated,
    PlacementAwarded,
    RankingMade,
    ScoreModerated,
    ScoreRecorded,
)
from .mini_competition import (
    DEFAULT_DESCRIPTORS,
    DEFAULT_TIE_BREAK,
    STANDSTILL_WORKING_DAYS,
    AssessmentSummary,
    Bid,
    BidResult,
    Criterion,
    CriterionFeedback,
    Evaluation,
    EvaluatorScore,
    MiniCompetition,
    ModeratedScore,
    OpportunityTerms,
    ScoringScale,
    Split,
    TieBreak,
    competition_status,
    evaluate_bids,
    in_standstill,
    two_places,
)
from .registration import FULL_TIME_HOURS, UNREGISTERED_FULL_TIME_LIMIT, registration_breaches
from .registry import MembershipStatus, PlacesInUse, ProviderOnLot, RegistrationStatus, Registry

__all__ = [
    "AssessmentSummary",
    "BidSubmitted",
    "BidWithdrawn",
    "OpportunityCreated",
    "RankingMade",
    "ScoreModerated",
    "ScoreRecorded",
    "competition_status",
    "in_standstill",
    "Award",
    "Bid",
    "BidResult",
    "BlockContract",
    "BlockContractAwarded",
    "BlockContractConfirmed",
    "BlockPlaceAllocated",
    "CallOff",
    "Criterion",
    "CriterionFeedback",
    "DEFAULT_DESCRIPTORS",
    "DEFAULT_TIE_BREAK",
    "EVALUATOR",
    "Evaluation",
    "EvaluatorScore",
    "FULL_TIME_HOURS",
    "LOTS",
    "MembershipStatus",
    "MiniCompetition",
    "ModeratedScore",
    "Offer",
    "OfferUnsuccessful",
    "OpportunityTerms",
    "PlaceAllocation",
    "PlacementAwarded",
    "PlacesInUse",
    "ProviderOnLot",
    "RankedOffer",
    "Ranking",
    "Reason",
    "Referral",
    "ReferralState",
    "RegistrationStatus",
    "Registry",
    "Rule",
    "STANDSTILL_WORKING_DAYS",
    "ScoringScale",
    "Split",
    "TieBreak",
    "UNREGISTERED_FULL_TIME_LIMIT",
    "council_date",
    "evaluate_bids",
    "rank_offers",
    "registration_breaches",
    "reasons_against",
    "two_places",
]
