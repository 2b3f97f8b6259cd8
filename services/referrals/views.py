"""What a response shows of a referral: the council's view, a provider's view
(built from the pseudonymised profile alone) and an offer.  The HTTP schemas
(schemas.py) say which fields are sent and how."""

from __future__ import annotations

import dataclasses
import inspect
from uuid import UUID

from services.referrals.domain import Offer, OfferTerms, Referral, ReferralStatus, details_fields
from services.referrals.domain.census import CensusReturn
from services.referrals.domain.census_items import census_items
from services.referrals.messages import profile_data


def _questions(referral: Referral) -> list[dict]:
    return [{"question_id": q.id, "text": q.text} for q in referral.questions]


def council_view(referral: Referral, child_ref: UUID) -> dict:
    child, exception, invited = referral.child, referral.off_dps_exception, referral.invited
    return {
        "referral_id": referral.id, "team": referral.team, "lot": referral.lot, "status": referral.status.value,
        "deadline": referral.deadline, "exclusion_start": referral.exclusion_start,
        "full_time_provision_by": referral.full_time_provision_by, "first_day_aim": referral.first_day_aim,
        "child_ref": child_ref,
        "child": dataclasses.asdict(child),
        "profile": profile_data(referral.profile), "questions": _questions(referral),
        "invited_provider_ids": list(invited), "no_eligible_providers": referral.no_eligible_providers,
        "invited_count": len(invited), "answered_count": len(referral.answered.intersection(invited)),
        "created_by": referral.created_by, "created_at": referral.created_at,
        "published_at": referral.published_at, "window_closed_at": referral.window_closed_at,
        "closed_by": referral.closed_by, "assessment_completed_at": referral.assessment_completed_at,
        "awarded_offer_id": referral.awarded_offer_id, "awarded_allocation_id": referral.awarded_allocation_id,
        "awarded_at": referral.awarded_at, "cancel_reason": referral.cancel_reason,
        "dps_id": referral.dps_id, "urgency": referral.urgency, "window_basis": referral.window_basis,
        "republished_from": referral.republished_from, "no_eligible_offers_at": referral.no_eligible_offers_at,
        "off_dps_exception": None if exception is None else {
            "referral_id": referral.id, "team": referral.team, "lot": referral.lot, "status": referral.status.value,
            "reason": exception.reason, "recorded_by": str(exception.by), "recorded_at": exception.at,
            **(details_fields(exception.details) or {})},
    }


PROVIDER_STATUS = {ReferralStatus.PUBLISHED: "open", ReferralStatus.CLOSED: "closed",
                   ReferralStatus.AWARDED: "closed", ReferralStatus.NO_SUITABLE_OFFER: "closed",
                   ReferralStatus.CANCELLED: "cancelled"}


def provider_view(referral: Referral, provider_id: UUID, lines: tuple | None = None) -> dict:
    """Built from the pseudonymised profile alone (ProfileForProviders): nothing else; with one referral, the
    lines of the provider's own schedule it may quote (`lines`)."""
    shared = referral.profile_for_providers()
    live = referral.live_offer_of(provider_id)
    quotable = {} if lines is None else {"my_pricing_lines": [
        {"pricing_line_id": line.id, "description": line.description, "unit": line.unit,
         "maximum_price_pence": line.maximum_price_pence, "staffing_ratio": line.staffing_ratio} for line in lines]}
    return {**quotable,
        "referral_id": shared.referral_id, "lot": shared.lot, "team": shared.team,
        "status": PROVIDER_STATUS.get(referral.status, "closed"), "deadline": shared.deadline,
        "full_time_provision_by": shared.full_time_provision_by, "first_day_aim": shared.first_day_aim,
        "profile": profile_data(shared.profile),
        "questions": [{"question_id": q.id, "text": q.text} for q in shared.questions],
        "my_live_offer_id": live.id if live else None, "declined": provider_id in referral.declines,
    }


TERMS = tuple(inspect.signature(OfferTerms).parameters)  # every term, as the offer was made


def offer_view(referral: Referral, offer: Offer, *, with_assessment: bool = False) -> dict:
    """The offer with all its terms (the output schema says which are shown)."""
    terms = offer.terms
    view = {
        **{name: getattr(terms, name) for name in TERMS},
        "offer_id": offer.id, "referral_id": referral.id, "provider_id": offer.provider_id,
        "status": "live" if offer.live else "withdrawn", "maximum_price_pence": offer.maximum_price_pence,
        "total_pence": offer.total_pence, "answers": {str(k): v for k, v in terms.answers.items()},
        "submitted_at": offer.submitted_at, "changed_at": offer.changed_at, "withdrawn_at": offer.withdrawn_at,
    }
    if with_assessment:
        a = referral.assessments.get(offer.id)
        view["assessment"] = None if a is None else {
            "meets_needs": a.meets_needs, "reason": a.reason,
            "criteria_met": {str(k): v for k, v in a.criteria_met.items()}, "assessed_by": str(a.by),
            "assessed_at": a.at}
    return view


# -- the January AP census (services/referrals/census.py) ----------------------------------------------

def census_view(result: CensusReturn) -> dict:
    return {
        "year": result.year, "census_day": result.day, "items": list(census_items().columns),
        "pupils": [{"child_ref": row.child_ref, "placement_id": row.placement_id, "team": row.team,
                    "items": row.values, "problems": [{"item": item, "reason": why} for item, why in row.problems]}
                   for row in result.rows],
        "left_out": [{"child_ref": out.child_ref, "placement_id": out.placement_id, "team": out.team,
                      "reason": out.reason} for out in result.left_out],
    }
