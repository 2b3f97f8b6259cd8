"""Events this service reads from others, turned into its own commands.

Each handler loads only the fields it reads (unknown ones are ignored); a
ValidationError, or data the council's rules refuse (a DPSError from the
domain), dead-letters the message at once: the one rule of
shared.messaging.consumer.  Handlers never commit: the consumer commits the
effect with its inbox row.
"""

from __future__ import annotations

from decimal import Decimal

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from services.tracking import erasure, handlers
from services.tracking.domain import PlacementSource
from shared.messaging.consumer import Handler, reading
from shared.schemas import cached
from shared.unit_of_work import UnitOfWork


class _Data(Schema):
    class Meta:
        unknown = EXCLUDE


class _Award(_Data):
    placement_id = fields.UUID(required=True)
    referral_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    lot = fields.Integer(required=True, strict=True)
    team = fields.String(required=True, validate=validate.Length(min=1, max=50))
    child_ref = fields.UUID(required=True)
    reason_for_ap = fields.String(required=True, validate=validate.Length(min=1, max=200))
    hours_per_week = fields.Decimal(required=True)
    weeks = fields.Decimal(required=True, validate=validate.Range(min=0, min_inclusive=False))
    start_date = fields.Date(required=True)
    full_time = fields.Boolean(load_default=None, allow_none=True)  # None: an event from before awards said
    at = fields.AwareDateTime(required=True)


class PlacementAwarded(_Award):
    award_id = fields.UUID(required=True)
    offer_id = fields.UUID(load_default=None)
    unit_price_pence = fields.Integer(strict=True, load_default=None)
    units_per_week = fields.Decimal(load_default=None, allow_none=True)
    total_pence = fields.Integer(required=True, strict=True)
    awarded_by = fields.String(load_default=None, allow_none=True)
    standstill_ends_on = fields.Date(load_default=None, allow_none=True)  # missing (an older event): none


class BlockPlaceAllocated(_Award):
    contract_id = fields.UUID(required=True)
    allocation_id = fields.UUID(required=True)
    cost_pence = fields.Integer(required=True, strict=True)


class BlockContractConfirmed(_Data):
    contract_id = fields.UUID(required=True)
    opportunity_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    lot = fields.Integer(required=True, strict=True)
    team = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=50))
    places = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    price_pence = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    contract_start = fields.Date(required=True)
    contract_end = fields.Date(required=True)
    at = fields.AwareDateTime(required=True)

    @validates_schema
    def _period(self, data, **kwargs):
        if data["contract_end"] < data["contract_start"]:
            raise ValidationError("the contract ends before it starts", "contract_end")


class OffDpsPlacementApproved(_Award):
    """An approved off-DPS exception.  Its provider is not on the DPS: its name comes with it."""

    provider_name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    weekly_cost_pence = fields.Integer(required=True, strict=True)
    total_pence = fields.Integer(required=True, strict=True)
    approved_by = fields.String(load_default=None, allow_none=True)

class ReferralClosed(_Data):
    """What the sixth day needs of a closed referral (the deadline referrals worked out, trusted here)."""

    referral_id = fields.UUID(required=True)
    child_ref = fields.UUID(required=True)
    team = fields.String(required=True, validate=validate.Length(min=1, max=50))
    lot = fields.Integer(required=True, strict=True)
    reason_for_ap = fields.String(required=True, validate=validate.Length(min=1, max=200))
    looked_after = fields.Boolean(load_default=False)
    full_time_provision_by = fields.Date(load_default=None, allow_none=True)  # none: no sixth-day duty
    first_school_day = fields.Date(load_default=None, allow_none=True)
    at = fields.AwareDateTime(required=True)


class MembershipChanged(_Data):
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)
    lot = fields.Integer(required=True, strict=True)
    status = fields.String(required=True)
    reason = fields.String(load_default=None, allow_none=True)
    at = fields.AwareDateTime(required=True)


class ProviderNamed(_Data):
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)
    at = fields.AwareDateTime(required=True)


# Transition: awards now carries `full_time` (decided once, where the facts
# are); events published before that change do not, and for those alone the
# placement is judged as awards judged it then.  Remove once no such event
# can be redelivered.
FULL_TIME_HOURS = Decimal(18)  # DfE: more than 18 hours a week in the day


def full_time_of(award: dict) -> bool:
    if award.get("full_time") is not None:
        return award["full_time"]
    return award["hours_per_week"] > FULL_TIME_HOURS or award["lot"] == 1


def _award(source: PlacementSource, cost: str):
    def place(uow: UnitOfWork, award: dict) -> None:
        award["agreed_cost_pence"] = award.pop(cost)
        award["full_time"] = full_time_of(award)
        handlers.place_award(uow, award, source)

    return place


def _off_dps(uow: UnitOfWork, approved: dict) -> None:
    """The off-DPS provider's name for the reports (no registry event will give it), then the placement:
    its cost is its weekly cost for its weeks, a week its unit."""
    handlers.note_provider_name(uow, approved["provider_id"], approved.pop("provider_name"), approved["at"])
    approved.update(agreed_cost_pence=approved.pop("total_pence"), unit_price_pence=approved.pop("weekly_cost_pence"),
                    units_per_week=Decimal(1), awarded_by=approved.pop("approved_by"))
    handlers.place_award(uow, approved, PlacementSource.OFF_DPS)


def _membership(status: str, *, with_reason: bool = True):
    def apply(uow: UnitOfWork, data: dict) -> None:
        # the type says what happened; the status field says the same in words
        handlers.apply_membership(uow, provider_id=data["provider_id"], provider_name=data["provider_name"],
                                  lot=data["lot"], status=status, reason=data["reason"] if with_reason else None,
                                  at=data["at"])

    return apply


def _provider_named(uow: UnitOfWork, data: dict) -> None:
    handlers.note_provider_name(uow, data["provider_id"], data["provider_name"], data["at"])


def event_handlers() -> dict[str, Handler]:
    membership = cached(MembershipChanged)
    return {
        "placement.awarded": reading(cached(PlacementAwarded), _award(PlacementSource.CALL_OFF, "total_pence")),
        "block_contract.confirmed": reading(cached(BlockContractConfirmed), handlers.note_block_contract),
        "block_place.allocated": reading(cached(BlockPlaceAllocated),
                                         _award(PlacementSource.BLOCK_PLACE, "cost_pence")),
        "off_dps_placement.approved": reading(cached(OffDpsPlacementApproved), _off_dps),
        "membership.suspended": reading(membership, _membership("suspended")),
        "membership.reinstated": reading(membership, _membership("admitted")),
        "membership.removed": reading(membership, _membership("removed")),
        # for the providers' names in the reports, and a clean membership history
        "membership.admitted": reading(membership, _membership("admitted", with_reason=False)),
        "provider.registration_changed": reading(cached(ProviderNamed), _provider_named),
        "child.erased": reading(cached(erasure.ChildErased), erasure.child_erased),
        # the sixth-day deadline of each child referred (none for a medical or post-16 referral)
        "referral.closed": reading(cached(ReferralClosed), handlers.note_sixth_day),
    }
