"""Events this service reads from others, turned into its own commands.

- From the provider registry: lot memberships, pricing schedules, capacity
  and registration, to keep referrals' own copy (it never calls the registry).
- From awards: `placement.awarded` (a referral's offer won) and
  `block_place.allocated` (the child took a block contract's place).

Each handler reads only the fields it needs (unknown fields are ignored); bad
data fails the schema and is dead-lettered.  Handlers are safe when an event
comes twice or late: the registry copy keeps the time of the event behind
each fact, and marking a referral awarded twice is a no-op.
"""

from __future__ import annotations

import logging

from marshmallow import EXCLUDE, Schema, fields, validate

from services.referrals import handlers
from services.referrals.domain import LOTS, MembershipStatus
from shared.events import Envelope
from shared.messaging.consumer import Handler
from shared.schemas import cached
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class _Data(Schema):
    class Meta:
        unknown = EXCLUDE


class _LotEvent(_Data):
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(load_default=None, allow_none=True)
    lot = fields.Integer(required=True, strict=True, validate=validate.OneOf(list(LOTS)))
    at = fields.AwareDateTime(required=True)


class PricingLineData(_Data):
    pricing_line_id = fields.UUID(required=True)
    description = fields.String(load_default="")
    unit = fields.String(load_default="", allow_none=True)
    staffing_ratio = fields.String(load_default=None, allow_none=True)
    maximum_price_pence = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class MembershipAdmitted(_LotEvent):
    registration_status = fields.String(load_default=None, allow_none=True)
    urn = fields.String(load_default=None, allow_none=True)
    pricing_lines = fields.List(fields.Nested(PricingLineData), load_default=list)
    pricing_version = fields.Integer(load_default=0, strict=True)  # not in the contract: used when sent
    capacity = fields.Integer(load_default=None, allow_none=True, strict=True)
    ends_on = fields.Date(load_default=None, allow_none=True)


class MembershipChanged(_LotEvent):
    reason = fields.String(load_default=None, allow_none=True)


class PricingScheduleEffective(_LotEvent):
    version = fields.Integer(required=True, strict=True)
    effective_from = fields.Date(required=True)
    pricing_lines = fields.List(fields.Nested(PricingLineData), required=True)


class CapacityChanged(_LotEvent):
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class RegistrationChanged(_Data):
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(load_default=None, allow_none=True)
    registration_status = fields.String(load_default=None, allow_none=True)
    urn = fields.String(load_default=None, allow_none=True)
    ofsted_grade = fields.String(load_default=None, allow_none=True)
    at = fields.AwareDateTime(required=True)


class PlacementAwarded(_Data):
    award_id = fields.UUID(load_default=None, allow_none=True)
    referral_id = fields.UUID(required=True)
    offer_id = fields.UUID(required=True)
    at = fields.AwareDateTime(required=True)


class BlockPlaceAllocated(_Data):
    allocation_id = fields.UUID(required=True)
    referral_id = fields.UUID(load_default=None, allow_none=True)
    at = fields.AwareDateTime(required=True)


def _lines(data: dict) -> list[dict]:
    return [{**line, "pricing_line_id": str(line["pricing_line_id"])} for line in data["pricing_lines"]]


def on_membership_admitted(uow: UnitOfWork, envelope: Envelope) -> None:
    data = cached(MembershipAdmitted).load(envelope.data)
    handlers.membership_admitted(uow, provider_id=data["provider_id"], provider_name=data["provider_name"],
                                 lot=data["lot"], registration_status=data["registration_status"], urn=data["urn"],
                                 pricing_lines=_lines(data), pricing_version=data["pricing_version"],
                                 capacity=data["capacity"], ends_on=data["ends_on"], at=data["at"])


def _on_status(status: MembershipStatus) -> Handler:
    def handle(uow: UnitOfWork, envelope: Envelope) -> None:
        data = cached(MembershipChanged).load(envelope.data)
        handlers.membership_changed(uow, provider_id=data["provider_id"], provider_name=data["provider_name"],
                                    lot=data["lot"], status=status, reason=data["reason"], at=data["at"])

    handle.__name__ = f"on_membership_{status.value}"
    return handle


def on_pricing_schedule_effective(uow: UnitOfWork, envelope: Envelope) -> None:
    data = cached(PricingScheduleEffective).load(envelope.data)
    handlers.pricing_schedule_effective(uow, provider_id=data["provider_id"], provider_name=data["provider_name"],
                                        lot=data["lot"], version=data["version"],
                                        effective_from=data["effective_from"], pricing_lines=_lines(data),
                                        at=data["at"])


def on_capacity_changed(uow: UnitOfWork, envelope: Envelope) -> None:
    data = cached(CapacityChanged).load(envelope.data)
    handlers.capacity_changed(uow, provider_id=data["provider_id"], provider_name=data["provider_name"],
                              lot=data["lot"], capacity=data["capacity"], at=data["at"])


def on_registration_changed(uow: UnitOfWork, envelope: Envelope) -> None:
    data = cached(RegistrationChanged).load(envelope.data)
    handlers.registration_changed(uow, **data)


def on_placement_awarded(uow: UnitOfWork, envelope: Envelope) -> None:
    data = cached(PlacementAwarded).load(envelope.data)
    if not handlers.mark_awarded(uow, referral_id=data["referral_id"], offer_id=data["offer_id"],
                                 award_id=data["award_id"], at=data["at"]):
        log.warning("placement.awarded for a referral this service does not hold",
                    extra={"referral_id": str(data["referral_id"]), "event_id": str(envelope.id)})


def on_block_place_allocated(uow: UnitOfWork, envelope: Envelope) -> None:
    data = cached(BlockPlaceAllocated).load(envelope.data)
    if data["referral_id"] is None:
        return  # a place given without a referral: nothing of ours
    handlers.mark_placed_in_block(uow, referral_id=data["referral_id"], allocation_id=data["allocation_id"],
                                  at=data["at"])


def event_handlers() -> dict[str, Handler]:
    return {
        "membership.admitted": on_membership_admitted,
        "membership.suspended": _on_status(MembershipStatus.SUSPENDED),
        "membership.reinstated": _on_status(MembershipStatus.ADMITTED),
        "membership.removed": _on_status(MembershipStatus.REMOVED),
        "pricing_schedule.effective": on_pricing_schedule_effective,
        "capacity.changed": on_capacity_changed,
        "provider.registration_changed": on_registration_changed,
        "placement.awarded": on_placement_awarded,
        "block_place.allocated": on_block_place_allocated,
    }
