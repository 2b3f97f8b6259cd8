"""The events this service publishes on `dps.provider_registry`: the schema of
each event's `data` (docs/events.md) and the mapping from the domain's events.

Each carries what the other services need to keep their own copy of the
provider, so no one calls this service to do their work.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.provider_registry.domain import (
    CapacityChanged,
    Event,
    MembershipAdmitted,
    MembershipReinstated,
    MembershipRemoved,
    MembershipSuspended,
    PricingLine,
    PricingScheduleEffective,
    RegistrationChanged,
    RegistrationStatus,
    Unit,
    pricing_line_id,
)
from shared.schemas import cached

# The contract's words for registration status; the domain says "unregistered setting".
REGISTRATION_ON_THE_WIRE = {
    RegistrationStatus.REGISTERED_SCHOOL.value: "registered_school",
    RegistrationStatus.UNREGISTERED_SETTING.value: "unregistered",
}
LOT = validate.Range(min=1, max=4)


class PricingLineData(Schema):
    pricing_line_id = fields.UUID(required=True)
    description = fields.String(required=True)
    unit = fields.String(required=True, validate=validate.OneOf([u.value for u in Unit]))
    staffing_ratio = fields.String(required=True)
    maximum_price_pence = fields.Integer(required=True, strict=True)


class _ProviderEvent(Schema):
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)
    at = fields.AwareDateTime(required=True, format="iso")


class _MembershipEvent(_ProviderEvent):
    lot = fields.Integer(required=True, strict=True, validate=LOT)
    status = fields.String(required=True)


class MembershipAdmittedData(_MembershipEvent):
    registration_status = fields.String(required=True, validate=validate.OneOf(list(REGISTRATION_ON_THE_WIRE.values())))
    urn = fields.String(required=True, allow_none=True)
    pricing_version = fields.Integer(required=True, strict=True)
    pricing_lines = fields.List(fields.Nested(PricingLineData), required=True)
    capacity = fields.Integer(required=True, strict=True)
    admitted_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class MembershipChangedData(_MembershipEvent):
    """membership.suspended, .reinstated and .removed."""

    reason = fields.String(required=True)
    automatic = fields.Boolean(required=True)  # by the compliance check, not the manager


class PricingScheduleEffectiveData(_ProviderEvent):
    lot = fields.Integer(required=True, strict=True, validate=LOT)
    version = fields.Integer(required=True, strict=True)
    effective_from = fields.Date(required=True)
    pricing_lines = fields.List(fields.Nested(PricingLineData), required=True)


class CapacityChangedData(_ProviderEvent):
    lot = fields.Integer(required=True, strict=True, validate=LOT)
    capacity = fields.Integer(required=True, strict=True)


class RegistrationChangedData(_ProviderEvent):
    registration_status = fields.String(required=True, validate=validate.OneOf(list(REGISTRATION_ON_THE_WIRE.values())))
    urn = fields.String(required=True, allow_none=True)
    ofsted_grade = fields.String(required=True, allow_none=True)


def _lines(provider_id, lot: int, lines: tuple[PricingLine, ...]) -> list[dict]:
    return [{"pricing_line_id": pricing_line_id(provider_id, lot, line.description),
             "description": line.description, "unit": Unit(line.unit).value, "staffing_ratio": line.staffing_ratio,
             "maximum_price_pence": line.maximum_price_pence} for line in lines]


def _wire_registration(status: str) -> str:
    return REGISTRATION_ON_THE_WIRE[RegistrationStatus(status).value]


def message_for(event: Event) -> tuple[str, dict]:
    """The outbox message (type, JSON-ready data) for a domain event."""
    common = {"provider_id": event.provider_id, "provider_name": event.provider_name, "at": event.at}
    if isinstance(event, MembershipAdmitted):
        data = cached(MembershipAdmittedData).dump({
            **common, "lot": event.lot, "status": event.status,
            "registration_status": _wire_registration(event.registration_status), "urn": event.urn,
            "pricing_version": event.pricing_version,
            "pricing_lines": _lines(event.provider_id, event.lot, event.pricing_lines),
            "capacity": event.capacity, "admitted_on": event.admitted_on, "ends_on": event.ends_on})
    elif isinstance(event, (MembershipSuspended, MembershipReinstated)):
        data = cached(MembershipChangedData).dump({**common, "lot": event.lot, "status": event.status,
                                             "reason": event.reason, "automatic": event.automatic})
    elif isinstance(event, MembershipRemoved):
        data = cached(MembershipChangedData).dump({**common, "lot": event.lot, "status": event.status,
                                             "reason": event.reason, "automatic": False})
    elif isinstance(event, PricingScheduleEffective):
        data = cached(PricingScheduleEffectiveData).dump({
            **common, "lot": event.lot, "version": event.version, "effective_from": event.effective_from,
            "pricing_lines": _lines(event.provider_id, event.lot, event.lines)})
    elif isinstance(event, CapacityChanged):
        data = cached(CapacityChangedData).dump({**common, "lot": event.lot, "capacity": event.capacity})
    elif isinstance(event, RegistrationChanged):
        data = cached(RegistrationChangedData).dump({
            **common, "registration_status": _wire_registration(event.registration_status), "urn": event.urn,
            "ofsted_grade": event.ofsted_grade})
    else:  # pragma: no cover - every domain event is mapped above
        raise TypeError(f"no message for {type(event).__name__}")
    return event.type, data


DATA_SCHEMAS: dict[str, type[Schema]] = {
    "membership.admitted": MembershipAdmittedData,
    "membership.suspended": MembershipChangedData,
    "membership.reinstated": MembershipChangedData,
    "membership.removed": MembershipChangedData,
    "pricing_schedule.effective": PricingScheduleEffectiveData,
    "capacity.changed": CapacityChangedData,
    "provider.registration_changed": RegistrationChangedData,
}
