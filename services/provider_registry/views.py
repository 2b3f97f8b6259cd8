"""What each reader is shown of the registry's records.

Officers, the manager and the provider itself see a provider's whole record;
the public directory shows only what the council publishes: the name, the
area, the registration and the lots admitted to (no documents, safeguarding
lead, DBS confirmation or prices).
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from services.provider_registry.domain import (
    DPS,
    LOT_NAMES,
    STATUTORY_END_REGULATION,
    Application,
    ComplianceDocument,
    DeclarationRequest,
    DocumentKind,
    Membership,
    PricingLine,
    PricingSchedule,
    Provider,
    Regime,
    compliance_problems,
    pricing_line_id,
)
from services.provider_registry.models import line_to_json, question_to_json
from shared.catalogue import FIRST_DPS_ID


def _value(member) -> str | None:
    return getattr(member, "value", member)


def postcode_district(postcode: str) -> str:
    """The outward code ("NT1 2AB" -> "NT1"): the inward code is always three characters."""
    return "".join(postcode.split()).upper()[:-3]


def _registration(registration) -> dict:
    return {"setting_kind": _value(registration.setting_kind), "urn": registration.urn, "ukprn": registration.ukprn,
            "inspectorate": _value(registration.inspectorate),
            "last_inspection_date": registration.last_inspection_date,
            "last_inspection_outcome": registration.last_inspection_outcome,
            "establishment_type": _value(registration.establishment_type)}


def _identifiers(provider: Provider) -> list[dict]:
    return [{"scheme": i.scheme, "id": i.id} for i in provider.identifiers]


def declaration_view(request: DeclarationRequest) -> dict:
    return {"requested_on": request.requested_on, "due_on": request.due_on, "answered_at": request.answered_at,
            "answered_on_time": request.answered_on_time, "exclusion_grounds_apply": request.exclusion_grounds_apply,
            "selection_criteria_met": request.selection_criteria_met, "changes": request.changes,
            "lapsed_on": request.lapsed_on}


def declaration_request_view(provider: Provider) -> dict:
    """The request just made of a provider, for the manager."""
    return {"provider_id": provider.id, "provider_name": provider.name,
            **declaration_view(provider.latest_declaration_request)}


def dps_view(dps: DPS, today: date) -> dict:
    return {"id": dps.id, "regime": dps.regime.value, "rules": regime_rules(dps.regime),
            "name": dps.name, "start": dps.start, "term_years": dps.term_years,
            "term_ends_on": dps.term_ends_on, "statutory_end": dps.statutory_end,
            "statutory_end_regulation": STATUTORY_END_REGULATION if dps.statutory_end else None,
            "ends_by_law": dps.ends_by_law, "ends_on": dps.ends_on,
            "statutory_end_warnings": [w.__dict__ for w in dps.warnings_given],
            "status": dps.status.value, "open": dps.is_open(today), "sla_version": dps.sla_version,
            "award_criteria": [c.__dict__ for c in dps.award_criteria],
            "agreed_minimum_window_days": dps.agreed_minimum_window_days,
            "agreed_in_sla_version": dps.agreed_in_sla_version, "rounds": [r.__dict__ for r in dps.rounds],
            "decision_working_days": dps.decision_working_days,
            "extended_decision_working_days": dps.extended_decision_working_days,
            "lots": [lot_view(dps, n) for n in sorted(dps.lots)]}


def regime_rules(regime: Regime) -> dict:
    return {"law": regime.law, "rolling_admission": regime.rolling_admission,
            "admission_rule": regime.admission_rule, "call_off_standstill": regime.call_off_standstill.__dict__,
            "unsuccessful_bidder_told": regime.unsuccessful_bidder_told, "notices": list(regime.notices)}


def lot_view(dps: DPS, number: int) -> dict:
    lot = dps.lots[number]
    return {"number": lot.number, "name": lot.name, "questions": [question_to_json(q) for q in lot.questions]}


def _lines(provider_id: UUID, lot: int, lines: tuple[PricingLine, ...]) -> list[dict]:
    return [{"pricing_line_id": pricing_line_id(provider_id, lot, line.description), **line_to_json(line)}
            for line in lines]


def _document(document: ComplianceDocument, today: date) -> dict:
    return {"kind": _value(document.kind), "reference": document.reference, "expires_on": document.expires_on,
            "expired": document.has_expired(today)}


# ------------------------------------------------------------ applications


def application_view(application: Application, today: date) -> dict:
    form, deadline, decision = application.form, application.deadline, application.decision
    return {
        "id": application.id, "dps_id": application.dps_id, "provider_id": application.provider_id,
        "status": application.status.value,
        "submitted_at": application.submitted_at, "overdue": application.is_overdue(today),
        "organisation": form.organisation.__dict__, "registration": _registration(form.registration),
        "safeguarding_lead": form.safeguarding_lead.__dict__, "enhanced_dbs_confirmed": form.enhanced_dbs_confirmed,
        "documents": [_document(d, today) for d in form.documents], "sla_version": form.sla_version,
        "lots": [_lot_application(application, entry.lot) for entry in form.lots],
        "marks": [{"lot": lot, "question_id": qid, "score": score}
                  for (lot, qid), score in sorted(application.marks.items())],
        "deadline": {"submitted_on": deadline.submitted_on, "due_on": deadline.due_on,
                     "working_days": deadline.extended_working_days if deadline.is_extended
                     else deadline.working_days,
                     "extended": deadline.is_extended, "extension_reason": deadline.extension_reason,
                     "extended_at": deadline.extended_at},
        "decision": None if decision is None else {
            "admitted_lots": list(decision.admitted_lots), "decided_at": decision.decided_at,
            "on_time": decision.on_time, "reasons": [r.__dict__ for r in decision.reasons]},
    }


def _lot_application(application: Application, lot: int) -> dict:
    entry = application.lot(lot)
    assessment = application.assessment(lot)  # the automatic scoring against the pass marks
    return {
        "lot": lot, "answers": dict(entry.answers),
        "questions": [question_to_json(q) for q in application.questions[lot]],
        "pricing_lines": _lines(application.provider_id, lot, entry.pricing_lines), "capacity": entry.capacity,
        "assessment": {"passed": assessment.passed, "results": [r.__dict__ for r in assessment.results]},
    }


# ------------------------------------------------------------------ providers


def schedule_view(provider_id: UUID, provider_name: str, schedule: PricingSchedule,
                  in_force: bool | None) -> dict:
    """`in_force`: the version in force today (None where not worked out)."""
    return {"provider_id": provider_id, "provider_name": provider_name, "lot": schedule.lot,
            "version": schedule.version, "status": schedule.status.value, "effective_from": schedule.effective_from,
            "in_force": in_force, "proposed_at": schedule.proposed_at,
            "decided_at": schedule.decided_at, "reason": schedule.reason,
            "pricing_lines": _lines(provider_id, schedule.lot, schedule.lines)}


def provider_schedules(provider: Provider, lot: int, today: date) -> list[dict]:
    in_force = provider.schedule_in_force(lot, today)
    return [schedule_view(provider.id, provider.name, s, s is in_force) for s in provider.schedules.get(lot, ())]


def provider_view(provider: Provider, today: date, current_sla: str) -> dict:
    """The whole record: for officers, the manager and the provider itself."""
    documents = [provider.documents[k] for k in DocumentKind if k in provider.documents]
    return {
        "id": provider.id, "name": provider.name, "organisation": provider.organisation.__dict__,
        "registration": _registration(provider.registration),
        "safeguarding_lead": provider.safeguarding_lead.__dict__,
        "notification_addresses": list(provider.notification_addresses),
        "documents": [_document(d, today) for d in documents],
        "compliance_problems": compliance_problems(documents, today),
        "sla_acceptances": [{"dps_id": a.dps_id, "version": a.version, "accepted_on": a.accepted_on}
                            for a in provider.sla_acceptances],
        "current_sla_accepted": provider.has_accepted(current_sla),
        "identifiers": _identifiers(provider),
        "declarations": [declaration_view(r) for r in provider.declaration_requests],
        "declared_roll": None if provider.declared_roll is None else provider.declared_roll.__dict__,
        "memberships": [_membership(provider, m, today) for m in _in_order(provider)],
    }


def _in_order(provider: Provider) -> list[Membership]:
    """The first DPS's memberships first, then a successor's; by lot."""
    return sorted(provider.memberships.values(), key=lambda m: (m.dps_id != FIRST_DPS_ID, str(m.dps_id), m.lot))


def _membership(provider: Provider, m: Membership, today: date) -> dict:
    lot = m.lot
    in_force = provider.schedule_in_force(lot, today)
    return {"dps_id": m.dps_id, "lot": lot, "lot_name": LOT_NAMES[lot], "status": m.status_on(today).value,
            "admitted_on": m.admitted_on, "ends_on": m.ends_on, "since": m.since, "reason": m.reason,
            "automatic": m.automatic, "capacity": m.capacity,
            "pricing": schedule_view(provider.id, provider.name, in_force, True) if in_force else None}


def directory_entry(provider: Provider, today: date, lot: int | None = None, dps_id: UUID = FIRST_DPS_ID) -> dict:
    """What the council publishes: nothing private."""
    lots = [n for n in provider.active_lots(today, dps_id) if lot is None or n == lot]
    return {"provider_id": provider.id, "name": provider.name,
            "postcode_district": postcode_district(provider.organisation.postcode),
            "registration": _registration(provider.registration), "identifiers": _identifiers(provider),
            "lots": [{"lot": n, "lot_name": LOT_NAMES[n], "admitted_on": provider.membership(n, dps_id).admitted_on}
                     for n in lots]}
