"""Events this service reads from others, turned into its own commands.

- From the provider registry: DPS records (`dps.configured`), the SLA
  versions providers accepted, lot memberships (per DPS; an event without
  `dps_id` is about the first DPS), pricing schedules, capacity and
  registration, to keep referrals' own copy (it never calls the registry).
- From awards: `placement.awarded` (a referral's offer won),
  `block_place.allocated` (the child took a block contract's place) and
  `calloff.no_eligible_offers` (none of the offers can be awarded).

Each handler reads only the fields it needs (unknown fields are ignored); bad
data fails the schema and is dead-lettered.  Handlers are safe when an event
comes twice or late: the registry copy keeps the time of the event behind
each fact, and marking a referral awarded twice is a no-op.
"""

from __future__ import annotations

import logging

from marshmallow import EXCLUDE, Schema, fields, validate

from services.referrals import erasure, handlers
from services.referrals.domain import LOTS, MembershipStatus
from shared.catalogue import FIRST_DPS_ID
from shared.messaging.consumer import Handler, reading
from shared.schemas import cached
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class _Data(Schema):
    class Meta:
        unknown = EXCLUDE


class _LotEvent(_Data):
    dps_id = fields.UUID(load_default=FIRST_DPS_ID)  # older events: the first DPS
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


class IdentifierData(_Data):
    scheme = fields.String(required=True)
    id = fields.String(required=True)


class _SettingData(_Data):
    """The AP census's facts of the setting; older events say none of them (None: not said)."""

    setting_kind = fields.String(load_default=None, allow_none=True)
    establishment_type = fields.String(load_default=None, allow_none=True)
    identifiers = fields.List(fields.Nested(IdentifierData), load_default=None, allow_none=True)


class MembershipAdmitted(_LotEvent, _SettingData):
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


class RegistrationChanged(_SettingData):
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(load_default=None, allow_none=True)
    registration_status = fields.String(load_default=None, allow_none=True)
    urn = fields.String(load_default=None, allow_none=True)
    ofsted_grade = fields.String(load_default=None, allow_none=True)
    at = fields.AwareDateTime(required=True)


class AwardCriterionData(_Data):
    code = fields.String(required=True)


class DpsConfigured(_Data):
    dps_id = fields.UUID(required=True)
    name = fields.String(load_default="")
    regime = fields.String(required=True)
    start = fields.Date(load_default=None, allow_none=True)
    term_ends_on = fields.Date(load_default=None, allow_none=True)
    statutory_end = fields.Date(load_default=None, allow_none=True)
    ends_on = fields.Date(load_default=None, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(["open", "closed"]))
    lots = fields.List(fields.Integer(strict=True), load_default=list)
    agreed_minimum_window_days = fields.Integer(load_default=None, allow_none=True, strict=True,
                                                validate=validate.Range(min=0))
    agreed_in_sla_version = fields.String(load_default=None, allow_none=True)
    sla_version = fields.String(load_default=None, allow_none=True)
    at = fields.AwareDateTime(load_default=None, allow_none=True)  # not in the contract: used when sent


class SlaAccepted(_Data):
    provider_id = fields.UUID(required=True)
    dps_id = fields.UUID(load_default=FIRST_DPS_ID)
    sla_version = fields.String(required=True)
    accepted_at = fields.AwareDateTime(required=True)


class IneligibleOffer(_Data):
    reasons = fields.List(fields.String(), load_default=list)


class NoEligibleOffers(_Data):
    referral_id = fields.UUID(required=True)
    offers = fields.List(fields.Nested(IneligibleOffer), load_default=list)
    at = fields.AwareDateTime(load_default=None, allow_none=True)


class PlacementAwarded(_Data):
    award_id = fields.UUID(load_default=None, allow_none=True)
    referral_id = fields.UUID(required=True)
    offer_id = fields.UUID(required=True)
    at = fields.AwareDateTime(required=True)


class BlockPlaceAllocated(_Data):
    allocation_id = fields.UUID(required=True)
    referral_id = fields.UUID(load_default=None, allow_none=True)
    at = fields.AwareDateTime(required=True)


class _PlacementEvent(_Data):
    placement_id = fields.UUID(required=True)
    referral_id = fields.UUID(required=True)


class PlacementStarted(_PlacementEvent):
    started_on = fields.Date(required=True)
    provider_id = fields.UUID(load_default=None, allow_none=True)  # the AP census's: where, and how long
    hours_per_week = fields.Decimal(load_default=None, allow_none=True)
    full_time = fields.Boolean(load_default=None, allow_none=True)


class PlacementEnded(_PlacementEvent):
    ended_on = fields.Date(required=True)


def _setting(data: dict) -> dict:
    """The setting's facts an event gave (none from an older event: the copy keeps what it had)."""
    if data["setting_kind"] is None:
        return {}
    ukprn = next((i["id"] for i in data["identifiers"] or () if i["scheme"] == "GB-UKPRN"), None)
    return {"setting_kind": data["setting_kind"], "establishment_type": data["establishment_type"], "ukprn": ukprn}


def _lines(data: dict) -> list[dict]:
    return [{**line, "pricing_line_id": str(line["pricing_line_id"])} for line in data["pricing_lines"]]


def membership_admitted(uow: UnitOfWork, data: dict) -> None:
    handlers.membership_admitted(uow, provider_id=data["provider_id"], provider_name=data["provider_name"],
                                 lot=data["lot"], registration_status=data["registration_status"], urn=data["urn"],
                                 pricing_lines=_lines(data), pricing_version=data["pricing_version"],
                                 capacity=data["capacity"], ends_on=data["ends_on"], at=data["at"],
                                 dps_id=data["dps_id"], setting=_setting(data))


def _membership_now(status: MembershipStatus):
    def membership_changed(uow: UnitOfWork, data: dict) -> None:
        handlers.membership_changed(uow, provider_id=data["provider_id"], provider_name=data["provider_name"],
                                    lot=data["lot"], status=status, reason=data["reason"], at=data["at"],
                                    dps_id=data["dps_id"])

    membership_changed.__name__ = f"membership_{status.value}"
    return membership_changed


def pricing_schedule_effective(uow: UnitOfWork, data: dict) -> None:
    # A provider's prices are its own, whichever DPS it quotes them on: kept by provider and lot.
    handlers.pricing_schedule_effective(uow, **{**{k: v for k, v in data.items() if k != "dps_id"},
                                                "pricing_lines": _lines(data)})


def registration_changed(uow: UnitOfWork, data: dict) -> None:
    handlers.registration_changed(uow, provider_id=data["provider_id"], provider_name=data["provider_name"],
                                  registration_status=data["registration_status"], urn=data["urn"],
                                  ofsted_grade=data["ofsted_grade"], at=data["at"], setting=_setting(data))


def dps_configured(uow: UnitOfWork, data: dict) -> None:
    handlers.dps_configured(uow, **{**data, "at": data["at"] or uow.now()})


def no_eligible_offers(uow: UnitOfWork, data: dict) -> None:
    reasons = [reason for offer in data["offers"] for reason in offer["reasons"]]
    at = data["at"] or uow.now()
    if not handlers.no_eligible_offers(uow, referral_id=data["referral_id"], reasons=reasons, at=at):
        log.warning("calloff.no_eligible_offers for a referral this service does not hold",
                    extra={"referral_id": str(data["referral_id"])})


def placement_awarded(uow: UnitOfWork, data: dict) -> None:
    if not handlers.mark_awarded(uow, **data):
        log.warning("placement.awarded for a referral this service does not hold",
                    extra={"referral_id": str(data["referral_id"])})


def block_place_allocated(uow: UnitOfWork, data: dict) -> None:
    if data["referral_id"] is not None:  # a place given without a referral: nothing of ours
        handlers.mark_placed_in_block(uow, **data)


def event_handlers() -> dict[str, Handler]:
    return {
        "membership.admitted": reading(cached(MembershipAdmitted), membership_admitted),
        "membership.suspended": reading(cached(MembershipChanged), _membership_now(MembershipStatus.SUSPENDED)),
        "membership.reinstated": reading(cached(MembershipChanged), _membership_now(MembershipStatus.ADMITTED)),
        "membership.removed": reading(cached(MembershipChanged), _membership_now(MembershipStatus.REMOVED)),
        "pricing_schedule.effective": reading(cached(PricingScheduleEffective), pricing_schedule_effective),
        "capacity.changed": reading(cached(CapacityChanged), lambda uow, data: handlers.capacity_changed(uow, **data)),
        "provider.registration_changed": reading(cached(RegistrationChanged), registration_changed),
        "dps.configured": reading(cached(DpsConfigured), dps_configured),
        "provider.sla_accepted": reading(cached(SlaAccepted), lambda uow, data: handlers.sla_accepted(uow, **data)),
        "placement.awarded": reading(cached(PlacementAwarded), placement_awarded),
        "calloff.no_eligible_offers": reading(cached(NoEligibleOffers), no_eligible_offers),
        "block_place.allocated": reading(cached(BlockPlaceAllocated), block_place_allocated),
        # a child's placements, for the holds on erasing its record (services/referrals/erasure.py)
        "placement.started": reading(cached(PlacementStarted), erasure.placement_started),
        "placement.ended": reading(cached(PlacementEnded), erasure.placement_ended),
    }
