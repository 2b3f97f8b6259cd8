"""What the registry's domain events become when a unit of work commits
(`translate`, the one mapping): the messages it publishes on
`dps.provider_registry`, with the schema of each one's `data`
(docs/events.md), and the lines of the audit trail.

Each message carries what the other services need to keep their own copy of
the provider, so no one calls this service to do their work.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, datetime
from uuid import UUID

from marshmallow import Schema, fields, validate

from services.provider_registry import domain
from services.provider_registry.domain.declarations import REGULATION as DECLARATION_REGULATION
from services.provider_registry.models import line_to_json, question_to_json
from shared.actor import Actor
from shared.schemas import cached
from shared.unit_of_work import AuditEntry, Message

# Who the trail names for what the compliance check does by itself (the daily
# job, or the check run straight after a document is uploaded).
COMPLIANCE_CHECK = Actor.system("compliance_and_pricing")

# What the registration rule's readers (awards, referrals) keep: a registered school, or not.  A further
# education college or training provider is not a registered school; `setting_kind` says which it is.
REGISTRATION_STATUSES = ("registered_school", "unregistered")
LOT = validate.Range(min=1, max=4)


class PricingLineData(Schema):
    pricing_line_id = fields.UUID(required=True)
    description = fields.String(required=True)
    unit = fields.String(required=True, validate=validate.OneOf([u.value for u in domain.Unit]))
    staffing_ratio = fields.String(required=True)
    maximum_price_pence = fields.Integer(required=True, strict=True)


class IdentifierData(Schema):
    scheme = fields.String(required=True)  # org-id.guide: GB-URN, GB-UKPRN, GB-COH, GB-CHC (GB-SC, GB-NIC)
    id = fields.String(required=True)


class DeclaredRollData(Schema):
    """An unregistered setting's whole roll, as it declared it (the registration rule)."""

    full_time_pupils = fields.Integer(required=True, strict=True)  # of compulsory school age, every commissioner
    any_ehcp = fields.Boolean(required=True)
    any_looked_after = fields.Boolean(required=True)
    any_sen = fields.Boolean(required=True)
    declared_at = fields.AwareDateTime(required=True, format="iso")


class _SettingData(Schema):
    registration_status = fields.String(required=True, validate=validate.OneOf(REGISTRATION_STATUSES))
    setting_kind = fields.String(required=True, validate=validate.OneOf([k.value for k in domain.SettingKind]))
    urn = fields.String(required=True, allow_none=True)
    identifiers = fields.List(fields.Nested(IdentifierData), required=True)
    # a registered school's establishment type (setting.EstablishmentType), else null: the AP census's scope
    establishment_type = fields.String(required=True, allow_none=True)
    declared_roll = fields.Nested(DeclaredRollData, required=True, allow_none=True)  # null: none declared


class _ProviderEvent(Schema):
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)
    at = fields.AwareDateTime(required=True, format="iso")


class _MembershipEvent(_ProviderEvent):
    dps_id = fields.UUID(required=True)  # a membership is of a lot of one DPS record
    lot = fields.Integer(required=True, strict=True, validate=LOT)
    status = fields.String(required=True)


class MembershipAdmittedData(_MembershipEvent, _SettingData):
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


class ContactsChangedData(_ProviderEvent):
    notification_addresses = fields.List(fields.Email(), required=True)


class RegistrationChangedData(_ProviderEvent, _SettingData):
    inspectorate = fields.String(required=True, allow_none=True)  # ofsted | isi
    last_inspection_date = fields.Date(required=True, allow_none=True)
    last_inspection_outcome = fields.String(required=True, allow_none=True)


class AwardCriterionData(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)


class DpsConfiguredData(Schema):
    """The whole DPS record, on every set-up and change (contracts: dps.configured v1)."""

    dps_id = fields.UUID(required=True)
    name = fields.String(required=True)
    regime = fields.String(required=True, validate=validate.OneOf([r.value for r in domain.Regime]))
    start = fields.Date(required=True)
    term_ends_on = fields.Date(required=True)
    statutory_end = fields.Date(required=True, allow_none=True)  # SI 2024/716 regulation 5(4): PCR 2015 only
    ends_on = fields.Date(required=True)  # the last day anything may be admitted, invited or awarded
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in domain.DPSStatus]))
    lots = fields.List(fields.Integer(strict=True, validate=LOT), required=True)
    award_criteria = fields.List(fields.Nested(AwardCriterionData), required=True)
    agreed_minimum_window_days = fields.Integer(required=True, strict=True, allow_none=True)
    agreed_in_sla_version = fields.String(required=True, allow_none=True)
    sla_version = fields.String(required=True)


class StatutoryEndApproachingData(Schema):
    dps_id = fields.UUID(required=True)
    statutory_end = fields.Date(required=True)
    months_before = fields.Integer(required=True, strict=True)
    regulation = fields.String(required=True)


class SlaAcceptedData(Schema):
    provider_id = fields.UUID(required=True)
    dps_id = fields.UUID(required=True)
    sla_version = fields.String(required=True)
    accepted_at = fields.AwareDateTime(required=True, format="iso")


# ------------------------------------------ told to the applicant and the provider (#18: notifications reads them)


class _ApplicationData(Schema):
    application_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)  # the organisation's name on the form
    dps_id = fields.UUID(required=True)
    lots = fields.List(fields.Integer(strict=True, validate=LOT), required=True)  # the lots applied for
    contact_address = fields.Email(required=True)  # the applicant's safeguarding lead's: where it is told
    at = fields.AwareDateTime(required=True, format="iso")


class ApplicationSubmittedData(_ApplicationData):
    due_on = fields.Date(required=True)  # the last day the decision is on time


class DecisionReasonData(Schema):
    lot = fields.Integer(required=True, strict=True, validate=LOT)
    question_id = fields.String(required=True, allow_none=True)  # the question failed, or null: the whole lot
    text = fields.String(required=True)


class ApplicationDecidedData(_ApplicationData):
    outcome = fields.String(required=True, validate=validate.OneOf(["admitted", "rejected"]))
    admitted_lots = fields.List(fields.Integer(strict=True, validate=LOT), required=True)
    reasons = fields.List(fields.Nested(DecisionReasonData), required=True)  # for each lot left out
    on_time = fields.Boolean(required=True)


class ComplianceDocumentExpiredData(_ProviderEvent):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in domain.DocumentKind]))
    expires_on = fields.Date(required=True)


class ComplianceDocumentExpiringData(ComplianceDocumentExpiredData):
    days_left = fields.Integer(required=True, strict=True)  # 30, 14 or 7 at most: the warning's threshold


class DeclarationRequestedData(_ProviderEvent):
    requested_on = fields.Date(required=True)
    due_on = fields.Date(required=True)  # the last day an answer is on time
    regulation = fields.String(required=True)


def _application(event: domain.ApplicationSubmitted | domain.ApplicationDecided) -> dict:
    return {"application_id": event.application_id, "provider_id": event.provider_id,
            "provider_name": event.provider_name, "dps_id": event.dps_id, "contact_address": event.contact_address,
            "at": event.at}


def _told(event: domain.Event) -> dict | None:
    """The data of the events told to an applicant or a provider, else None."""
    if isinstance(event, domain.ApplicationSubmitted):
        return cached(ApplicationSubmittedData).dump({**_application(event), "lots": list(event.lots),
                                                      "due_on": event.due_on})
    if isinstance(event, domain.ApplicationDecided):
        return cached(ApplicationDecidedData).dump({
            **_application(event), "lots": list(event.lots_applied_for),
            "outcome": "admitted" if event.admitted_lots else "rejected",
            "admitted_lots": list(event.admitted_lots), "on_time": event.on_time,
            "reasons": [{"lot": r.lot, "question_id": r.question_id, "text": r.text} for r in event.reasons]})
    common = {"provider_id": event.provider_id, "provider_name": getattr(event, "provider_name", None),
              "at": getattr(event, "at", None)}
    if isinstance(event, domain.ComplianceDocumentExpiring):
        return cached(ComplianceDocumentExpiringData).dump({**common, "kind": event.kind,
                                                            "expires_on": event.expires_on,
                                                            "days_left": event.days_left})
    if isinstance(event, domain.ComplianceDocumentExpired):
        return cached(ComplianceDocumentExpiredData).dump({**common, "kind": event.kind,
                                                           "expires_on": event.expires_on})
    if isinstance(event, domain.DeclarationRequested):
        return cached(DeclarationRequestedData).dump({**common, "requested_on": event.requested_on,
                                                      "due_on": event.due_on, "regulation": DECLARATION_REGULATION})
    return None


def _lines(provider_id, lot: int, lines: tuple[domain.PricingLine, ...]) -> list[dict]:
    return [{"pricing_line_id": domain.pricing_line_id(provider_id, lot, line.description),
             "description": line.description, "unit": domain.Unit(line.unit).value,
             "staffing_ratio": line.staffing_ratio,
             "maximum_price_pence": line.maximum_price_pence} for line in lines]


def _setting(setting_kind: str, urn: str | None, identifiers: tuple[domain.Identifier, ...],
             establishment_type: str | None, roll: domain.DeclaredRoll | None) -> dict:
    kind = domain.SettingKind(setting_kind)
    registered = kind is domain.SettingKind.REGISTERED_SCHOOL
    return {"registration_status": "registered_school" if registered else "unregistered",
            "setting_kind": kind.value, "urn": urn,
            "establishment_type": domain.EstablishmentType(establishment_type).value if establishment_type else None,
            "identifiers": [{"scheme": i.scheme, "id": i.id} for i in identifiers],
            "declared_roll": None if roll is None else asdict(roll)}


def message_for(event: domain.Event) -> tuple[str, dict]:
    """The outbox message (type, JSON-ready data) for a domain event."""
    if isinstance(event, domain.DpsConfigured):
        return event.type, cached(DpsConfiguredData).dump(event.record)
    if isinstance(event, domain.DpsStatutoryEndApproaching):
        return event.type, cached(StatutoryEndApproachingData).dump(asdict(event))
    if isinstance(event, domain.SlaAccepted):
        return event.type, cached(SlaAcceptedData).dump({
            "provider_id": event.provider_id, "dps_id": event.dps_id, "sla_version": event.version,
            "accepted_at": event.accepted_at})
    told = _told(event)
    if told is not None:
        return event.type, told
    common = {"provider_id": event.provider_id, "provider_name": event.provider_name, "at": event.at}
    if isinstance(event, domain.MembershipAdmitted):
        data = cached(MembershipAdmittedData).dump({
            **common, "dps_id": event.dps_id, "lot": event.lot, "status": event.status,
            **_setting(event.setting_kind, event.urn, event.identifiers, event.establishment_type,
                       event.declared_roll),
            "pricing_version": event.pricing_version,
            "pricing_lines": _lines(event.provider_id, event.lot, event.pricing_lines),
            "capacity": event.capacity, "admitted_on": event.admitted_on, "ends_on": event.ends_on})
    elif isinstance(event, (domain.MembershipSuspended, domain.MembershipReinstated)):
        data = cached(MembershipChangedData).dump({**common, "dps_id": event.dps_id, "lot": event.lot,
                                                   "status": event.status, "reason": event.reason,
                                                   "automatic": event.automatic})
    elif isinstance(event, domain.MembershipRemoved):
        data = cached(MembershipChangedData).dump({**common, "dps_id": event.dps_id, "lot": event.lot,
                                                   "status": event.status, "reason": event.reason,
                                                   "automatic": False})
    elif isinstance(event, domain.PricingScheduleEffective):
        data = cached(PricingScheduleEffectiveData).dump({
            **common, "lot": event.lot, "version": event.version, "effective_from": event.effective_from,
            "pricing_lines": _lines(event.provider_id, event.lot, event.lines)})
    elif isinstance(event, domain.CapacityChanged):
        data = cached(CapacityChangedData).dump({**common, "lot": event.lot, "capacity": event.capacity})
    elif isinstance(event, domain.ContactsChanged):
        data = cached(ContactsChangedData).dump({**common,
                                                 "notification_addresses": list(event.notification_addresses)})
    elif isinstance(event, domain.RegistrationChanged):
        registration = event.registration
        data = cached(RegistrationChangedData).dump({
            **common, **_setting(registration.setting_kind, registration.urn, event.identifiers,
                                 registration.establishment_type, event.declared_roll),
            "inspectorate": registration.inspectorate and domain.Inspectorate(registration.inspectorate).value,
            "last_inspection_date": registration.last_inspection_date,
            "last_inspection_outcome": registration.last_inspection_outcome})
    else:  # pragma: no cover - every domain event is mapped above
        raise TypeError(f"no message for {type(event).__name__}")
    return event.type, data


class DecisionReminderData(Schema):
    """`application.decision_due` and `application.decision_overdue` (issue #18): the daily job, once per
    application and due date."""

    application_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)
    received_on = fields.Date(required=True)
    due_on = fields.Date(required=True)
    at = fields.AwareDateTime(required=True)


DATA_SCHEMAS: dict[str, type[Schema]] = {
    "dps.configured": DpsConfiguredData,
    "dps.statutory_end_approaching": StatutoryEndApproachingData,
    "provider.sla_accepted": SlaAcceptedData,
    "membership.admitted": MembershipAdmittedData,
    "membership.suspended": MembershipChangedData,
    "membership.reinstated": MembershipChangedData,
    "membership.removed": MembershipChangedData,
    "pricing_schedule.effective": PricingScheduleEffectiveData,
    "capacity.changed": CapacityChangedData,
    "provider.registration_changed": RegistrationChangedData,
    "provider.contacts_changed": ContactsChangedData,
    "application.submitted": ApplicationSubmittedData,
    "application.decided": ApplicationDecidedData,
    "compliance_document.expiring": ComplianceDocumentExpiringData,
    "compliance_document.expired": ComplianceDocumentExpiredData,
    "provider.declaration_requested": DeclarationRequestedData,
    "application.decision_due": DecisionReminderData,
    "application.decision_overdue": DecisionReminderData,
}


# ------------------------------------------------------------------ the one mapping


def translate(event: domain.Event) -> Iterator[Message | AuditEntry]:
    """Every domain event becomes its message (if other services read it) and
    its line of the audit trail (if it is a change someone made)."""
    if event.type in DATA_SCHEMAS:
        yield Message(*message_for(event))
    entry = audit_entry(event)
    if entry is not None:
        yield entry


def audit_entry(event: domain.Event) -> AuditEntry | None:
    if isinstance(event, domain.DpsConfigured):
        if event.after is None:  # closing, a new SLA version: their own line of the trail
            return None
        return AuditEntry("dps.configured", "dps", event.dps_id, details=_jsonable(
            {"before": event.before, "after": event.after}))
    if isinstance(event, domain.DpsStatutoryEndApproaching):
        return AuditEntry("dps.statutory_end_approaching", "dps", event.dps_id, details=_jsonable(asdict(event)))
    if isinstance(event, domain.DpsClosed):
        return AuditEntry("dps.closed", "dps", event.dps_id, reason=event.reason)
    if isinstance(event, domain.SlaIssued):
        return AuditEntry("sla.issued", "dps", event.dps_id, reason=event.reason,
                          details={"previous_version": event.previous_version, "version": event.version})
    if isinstance(event, domain.LotQuestionsSet):
        return AuditEntry("lot.questions_set", "lot", f"{event.dps_id}:{event.lot}", details={
            "before": [question_to_json(q) for q in event.before], "after": [question_to_json(q) for q in event.after]})
    if isinstance(event, domain.ApplicationSubmitted):
        return AuditEntry("application.submitted", "application", event.application_id, details=_jsonable({
            "provider_id": event.provider_id, "lots": event.lots, "due_on": event.due_on}))
    if isinstance(event, domain.AnswerMarked):
        return AuditEntry("application.marked", "application", event.application_id, details={
            "lot": event.lot, "question_id": event.question_id, "score": event.score,
            "previous_mark": event.previous_mark})
    if isinstance(event, domain.DeadlineExtended):
        return AuditEntry("application.deadline_extended", "application", event.application_id, reason=event.reason,
                          details=_jsonable({"was_due_on": event.was_due_on, "due_on": event.due_on}))
    if isinstance(event, domain.ApplicationDecided):
        reasons = "; ".join(f"lot {r.lot}{f' {r.question_id}' if r.question_id else ''}: {r.text}"
                            for r in event.reasons)
        return AuditEntry("application.admitted" if event.admitted_lots else "application.rejected", "application",
                          event.application_id, reason=reasons or None, details=_jsonable({
                              "provider_id": event.provider_id, "admitted_lots": event.admitted_lots,
                              "reasons": [asdict(r) for r in event.reasons], "on_time": event.on_time}))
    if isinstance(event, domain.ContactsChanged):
        return AuditEntry("provider.contacts_changed", "provider", event.provider_id,
                          details={"addresses": len(event.notification_addresses)})
    if isinstance(event, domain.DetailsChanged):
        return AuditEntry("provider.details_changed", "provider", event.provider_id,
                          details={"changed": list(event.changed)})
    if isinstance(event, domain.RollDeclared):
        return AuditEntry("provider.roll_declared", "provider", event.provider_id,
                          details=_jsonable(asdict(event.roll)))
    if isinstance(event, domain.DocumentUploaded):
        return AuditEntry("provider.document_uploaded", "provider", event.provider_id, details=_jsonable({
            "kind": event.kind, "reference": event.reference, "expires_on": event.expires_on}))
    if isinstance(event, domain.SlaAccepted):
        return AuditEntry("provider.sla_accepted", "provider", event.provider_id, details=_jsonable({
            "dps_id": event.dps_id, "version": event.version, "accepted_on": event.accepted_on}))
    if isinstance(event, domain.DeclarationRequested):
        return AuditEntry("provider.declaration_requested", "provider", event.provider_id, details=_jsonable({
            "requested_on": event.requested_on, "due_on": event.due_on}))
    if isinstance(event, domain.DeclarationAnswered):
        return AuditEntry("provider.declaration_answered", "provider", event.provider_id, details=_jsonable({
            "requested_on": event.requested_on, "due_on": event.due_on, "answered_on": event.answered_on,
            "on_time": event.on_time, "exclusion_grounds_apply": event.exclusion_grounds_apply,
            "selection_criteria_met": event.selection_criteria_met, "changes": event.changes}))
    if isinstance(event, domain.DeclarationLapsed):
        return AuditEntry("provider.declaration_lapsed", "provider", event.provider_id, reason=event.reason,
                          details=_jsonable({"requested_on": event.requested_on, "due_on": event.due_on}))
    if isinstance(event, (domain.MembershipSuspended, domain.MembershipReinstated, domain.MembershipRemoved)):
        action = {domain.MembershipSuspended: "suspend", domain.MembershipReinstated: "reinstate",
                  domain.MembershipRemoved: "remove"}
        automatic = getattr(event, "automatic", False)
        return AuditEntry(f"membership.{action[type(event)]}", "membership", f"{event.provider_id}:{event.lot}",
                          reason=event.reason, details=_jsonable({
                              "provider_id": event.provider_id, "lot": event.lot, "status": event.status,
                              "automatic": automatic}),
                          actor=COMPLIANCE_CHECK if automatic else None)
    if isinstance(event, domain.CapacityChanged):
        return AuditEntry("membership.capacity_changed", "membership", f"{event.provider_id}:{event.lot}",
                          details=_jsonable({"provider_id": event.provider_id, "lot": event.lot,
                                             "before": event.previous, "capacity": event.capacity}))
    if isinstance(event, domain.PricingChanged):
        details = {"provider_id": event.provider_id, "lot": event.lot, "version": event.version,
                   "effective_from": event.effective_from}
        if event.lines:
            details["lines"] = [line_to_json(line) for line in event.lines]
        return AuditEntry(f"pricing_schedule.{event.action}", "pricing_schedule",
                          f"{event.provider_id}:{event.lot}:{event.version}", reason=event.reason,
                          details=_jsonable(details))
    if isinstance(event, domain.PricingScheduleEffective):
        return AuditEntry("pricing_schedule.effective", "pricing_schedule",
                          f"{event.provider_id}:{event.lot}:{event.version}", details=_jsonable({
                              "provider_id": event.provider_id, "lot": event.lot, "version": event.version,
                              "effective_from": event.effective_from}))
    return None  # published only: membership.admitted (the decision is audited), the registration's copy


def _jsonable(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
