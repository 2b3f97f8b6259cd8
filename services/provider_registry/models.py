"""The provider registry service's tables, in its own database, and the
column types that hold the domain's values (orm.py maps the aggregates onto
these tables; the repositories query them).

A DPS record is a row (the first, FIRST_DPS_ID, seeded by the migration; a
successor arrangement another) and its lots rows keyed by (DPS, lot).
An application keeps the form as submitted (JSON) and the questions it
answered, so later changes to a lot's questions do not change it.  A provider
is the admitted organisation; its memberships, pricing schedule versions,
compliance documents and SLA acceptances are rows of their own, filtered on
by the directory, the lists and the daily compliance job.

A value held as JSON is written and read through one pair of functions below
(`*_to_json` / `*_from_json`); the API shows questions and pricing lines in
the same shape.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from uuid import UUID

import sqlalchemy as sa

from services.provider_registry import domain
from shared.catalogue import FIRST_DPS_ID
from shared.db import Choice, UTCDateTime, new_metadata
from shared.reminders import reminders_table

# ------------------------------------------------------------------ values as JSON


def question_to_json(question: domain.Question) -> dict:
    if isinstance(question, domain.PassFailQuestion):
        return {"kind": "pass_fail", "id": question.id, "text": question.text, "pass_answer": question.pass_answer}
    return {"kind": "scored", "id": question.id, "text": question.text, "pass_mark": question.pass_mark,
            "min_score": question.min_score, "max_score": question.max_score}


def question_from_json(data: dict) -> domain.Question:
    if data["kind"] == "pass_fail":
        return domain.PassFailQuestion(data["id"], data["text"], data.get("pass_answer", True))
    return domain.ScoredQuestion(data["id"], data["text"], data["pass_mark"], data.get("min_score", 0),
                          data.get("max_score", 5))


def line_to_json(line: domain.PricingLine) -> dict:
    return {"description": line.description, "unit": domain.Unit(line.unit).value,
            "staffing_ratio": line.staffing_ratio,
            "maximum_price_pence": line.maximum_price_pence}


def line_from_json(data: dict) -> domain.PricingLine:
    return domain.PricingLine(data["description"], domain.Unit(data["unit"]), data["staffing_ratio"],
                              data["maximum_price_pence"])


def _registration_to_json(reg: domain.Registration) -> dict:
    inspected_on = reg.last_inspection_date
    return {"setting_kind": domain.SettingKind(reg.setting_kind).value, "urn": reg.urn, "ukprn": reg.ukprn,
            "inspectorate": domain.Inspectorate(reg.inspectorate).value if reg.inspectorate else None,
            "last_inspection_date": inspected_on.isoformat() if inspected_on else None,
            "last_inspection_outcome": reg.last_inspection_outcome,
            "establishment_type": domain.EstablishmentType(reg.establishment_type).value
            if reg.establishment_type else None}


def _registration_from_json(data: dict) -> domain.Registration:
    inspectorate, inspected_on = data.get("inspectorate"), data.get("last_inspection_date")
    return domain.Registration(domain.SettingKind(data["setting_kind"]), data.get("urn"), data.get("ukprn"),
                               domain.Inspectorate(inspectorate) if inspectorate else None,
                               date.fromisoformat(inspected_on) if inspected_on else None,
                               data.get("last_inspection_outcome"),
                               domain.EstablishmentType(data["establishment_type"])
                               if data.get("establishment_type") else None)


def lead_to_json(lead: domain.SafeguardingLead) -> dict:
    return {"name": lead.name, "email": lead.email, "phone": lead.phone}


def _document_to_json(document: domain.ComplianceDocument) -> dict:
    return {"kind": domain.DocumentKind(document.kind).value, "reference": document.reference,
            "expires_on": document.expires_on.isoformat()}


def _document_from_json(data: dict) -> domain.ComplianceDocument:
    return domain.ComplianceDocument(domain.DocumentKind(data["kind"]), data["reference"],
                                     date.fromisoformat(data["expires_on"]))


def form_to_json(form: domain.ApplicationForm) -> dict:
    org = form.organisation
    return {
        "organisation": {"name": org.name, "address": org.address, "postcode": org.postcode,
                         "companies_house_number": org.companies_house_number, "charity_number": org.charity_number},
        "registration": _registration_to_json(form.registration),
        "safeguarding_lead": lead_to_json(form.safeguarding_lead),
        "enhanced_dbs_confirmed": form.enhanced_dbs_confirmed,
        "documents": [_document_to_json(d) for d in form.documents],
        "lots": [{"lot": e.lot, "answers": dict(e.answers), "pricing_lines": [line_to_json(x) for x in e.pricing_lines],
                  "capacity": e.capacity} for e in form.lots],
        "sla_version": form.sla_version,
        "dps_id": str(form.dps_id),
    }


def form_from_json(data: dict) -> domain.ApplicationForm:
    return domain.ApplicationForm(
        organisation=domain.Organisation(**data["organisation"]),
        registration=_registration_from_json(data["registration"]),
        safeguarding_lead=domain.SafeguardingLead(**data["safeguarding_lead"]),
        enhanced_dbs_confirmed=data["enhanced_dbs_confirmed"],
        documents=tuple(_document_from_json(d) for d in data["documents"]),
        lots=tuple(domain.LotApplication(e["lot"], dict(e["answers"]),
                                         tuple(line_from_json(x) for x in e["pricing_lines"]), e["capacity"])
                   for e in data["lots"]),
        sla_version=data["sla_version"],
        dps_id=UUID(data["dps_id"]) if "dps_id" in data else FIRST_DPS_ID,  # forms stored before #15: the first
    )


def _decision_to_json(decision: domain.Decision) -> dict:
    return {"admitted_lots": list(decision.admitted_lots),
            "reasons": [{"lot": r.lot, "question_id": r.question_id, "text": r.text} for r in decision.reasons],
            "decided_at": decision.decided_at.isoformat(), "decided_on": decision.decided_on.isoformat(),
            "on_time": decision.on_time}


def _decision_from_json(d: dict) -> domain.Decision:
    reasons = tuple(domain.Reason(r["lot"], r["question_id"], r["text"]) for r in d["reasons"])
    return domain.Decision(tuple(d["admitted_lots"]), reasons, datetime.fromisoformat(d["decided_at"]),
                    date.fromisoformat(d["decided_on"]), d["on_time"])


# ------------------------------------------------------------------ column types


class _Json(sa.types.TypeDecorator):
    """A JSON column holding a domain value, through its pair of functions."""

    impl = sa.JSON
    cache_ok = True
    to_json = staticmethod(lambda value: value)
    from_json = staticmethod(lambda data: data)

    def process_bind_param(self, value, dialect):
        return None if value is None else self.to_json(value)

    def process_result_value(self, value, dialect):
        return None if value is None else self.from_json(value)


class QuestionsJson(_Json):
    to_json = staticmethod(lambda questions: [question_to_json(q) for q in questions])
    from_json = staticmethod(lambda data: tuple(question_from_json(q) for q in data))


class LotQuestionsJson(_Json):
    """lot -> the questions as published when the provider applied."""

    to_json = staticmethod(lambda by_lot: {str(lot): [question_to_json(q) for q in qs] for lot, qs in by_lot.items()})
    from_json = staticmethod(lambda data: {int(lot): tuple(question_from_json(q) for q in qs)
                                           for lot, qs in data.items()})


class LinesJson(_Json):
    to_json = staticmethod(lambda lines: [line_to_json(x) for x in lines])
    from_json = staticmethod(lambda data: tuple(line_from_json(x) for x in data))


class FormJson(_Json):
    to_json, from_json = staticmethod(form_to_json), staticmethod(form_from_json)


class MarksJson(_Json):
    to_json = staticmethod(lambda marks: [{"lot": lot, "question_id": qid, "score": score}
                                          for (lot, qid), score in marks.items()])
    from_json = staticmethod(lambda data: {(m["lot"], m["question_id"]): m["score"] for m in data})


class DecisionJson(_Json):
    to_json, from_json = staticmethod(_decision_to_json), staticmethod(_decision_from_json)


class CriteriaJson(_Json):
    to_json = staticmethod(lambda criteria: [{"code": c.code, "name": c.name, "description": c.description}
                                             for c in criteria])
    from_json = staticmethod(lambda data: tuple(domain.AwardCriterion(**c) for c in data))


class RoundsJson(_Json):
    to_json = staticmethod(lambda rounds: [{"opens_on": r.opens_on.isoformat(), "closes_on": r.closes_on.isoformat()}
                                           for r in rounds])
    from_json = staticmethod(lambda data: tuple(domain.AdmissionRound(date.fromisoformat(r["opens_on"]),
                                                                      date.fromisoformat(r["closes_on"]))
                                                for r in data))


class WarningsJson(_Json):
    to_json = staticmethod(lambda warnings: [{"months_before": w.months_before, "given_on": w.given_on.isoformat()}
                                             for w in warnings])
    from_json = staticmethod(lambda data: tuple(domain.StatutoryEndWarning(w["months_before"],
                                                                           date.fromisoformat(w["given_on"]))
                                                for w in data))


class LeadJson(_Json):
    to_json, from_json = staticmethod(lead_to_json), staticmethod(lambda data: domain.SafeguardingLead(**data))


class RollJson(_Json):
    """An unregistered setting's declared roll: {full_time_pupils, any_ehcp, any_looked_after, any_sen,
    declared_at}."""

    to_json = staticmethod(lambda roll: {**asdict(roll), "declared_at": roll.declared_at.isoformat()})
    from_json = staticmethod(lambda data: domain.DeclaredRoll(**{
        **data, "declared_at": datetime.fromisoformat(data["declared_at"])}))


# ------------------------------------------------------------------ tables

metadata = new_metadata()

audit_log = metadata.tables["audit_log"]

dps = sa.Table(
    "dps", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),  # the first DPS: shared.catalogue.FIRST_DPS_ID
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("start", sa.Date, nullable=False),
    sa.Column("term_years", sa.Integer, nullable=False),
    sa.Column("status", Choice(domain.DPSStatus, 20), nullable=False),
    sa.Column("sla_version", sa.String(50), nullable=False),
    sa.Column("decision_working_days", sa.Integer, nullable=False),
    sa.Column("extended_decision_working_days", sa.Integer, nullable=False),
    sa.Column("closed_at", UTCDateTime, nullable=True),
    sa.Column("regime", Choice(domain.Regime, 40), nullable=False),
    sa.Column("statutory_end", sa.Date, nullable=True),  # a 2015-rules DPS: SI 2024/716 regulation 5(4)
    sa.Column("award_criteria", CriteriaJson, nullable=False),  # [{code, name, description}]
    sa.Column("agreed_minimum_window_days", sa.Integer, nullable=True),
    sa.Column("agreed_in_sla_version", sa.String(50), nullable=True),
    sa.Column("rounds", RoundsJson, nullable=False),  # an open framework's admission rounds
    sa.Column("warnings_given", WarningsJson, nullable=False),  # the statutory end's warnings given
)

lots = sa.Table(
    "lots", metadata,
    sa.Column("dps_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("questions", QuestionsJson, nullable=False),  # [{kind, id, text, pass_answer | pass_mark, ...}]
)

applications = sa.Table(
    "applications", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("provider_id", sa.Uuid, nullable=False, index=True),
    sa.Column("dps_id", sa.Uuid, nullable=False),  # the DPS record applied to
    sa.Column("organisation_name", sa.String(300), nullable=False),
    sa.Column("status", Choice(domain.ApplicationStatus, 20), nullable=False, index=True),
    sa.Column("form", FormJson, nullable=False),
    sa.Column("questions", LotQuestionsJson, nullable=False),  # lot -> questions as published when it applied
    sa.Column("marks", MarksJson, nullable=False),  # [{lot, question_id, score}]
    sa.Column("submitted_at", UTCDateTime, nullable=False),
    sa.Column("submitted_on", sa.Date, nullable=False),
    sa.Column("working_days", sa.Integer, nullable=False),
    sa.Column("extended_working_days", sa.Integer, nullable=False),
    sa.Column("extension_reason", sa.Text, nullable=True),
    sa.Column("extended_at", UTCDateTime, nullable=True),
    sa.Column("due_on", sa.Date, nullable=False, index=True),  # kept for the overdue list
    sa.Column("decision", DecisionJson, nullable=True),
    sa.Column("decided_at", UTCDateTime, nullable=True),
    # One pending application per provider, even when two requests race.
    sa.Index("uq_applications_one_pending", "provider_id", unique=True,
             postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'")),
)

providers = sa.Table(
    "providers", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(300), nullable=False, index=True),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("postcode", sa.String(10), nullable=False),
    sa.Column("companies_house_number", sa.String(20), nullable=True),
    sa.Column("charity_number", sa.String(20), nullable=True),
    sa.Column("setting_kind", Choice(domain.SettingKind, 30), nullable=False),
    sa.Column("urn", sa.String(6), nullable=True),
    sa.Column("ukprn", sa.String(8), nullable=True),
    sa.Column("inspectorate", Choice(domain.Inspectorate, 10), nullable=True),
    sa.Column("last_inspection_date", sa.Date, nullable=True),
    sa.Column("last_inspection_outcome", sa.String(200), nullable=True),
    sa.Column("establishment_type", Choice(domain.EstablishmentType, 30), nullable=True),  # a registered school's
    sa.Column("safeguarding_lead", LeadJson, nullable=False),  # {name, email, phone}
    sa.Column("notification_addresses", sa.JSON, nullable=False, default=list),  # [email, ...]
    # whether provider.contacts_changed has carried them (a provider admitted before notifications: not yet)
    sa.Column("contacts_announced", sa.Boolean, nullable=False, default=False),
    sa.Column("declared_roll", RollJson, nullable=True),  # an unregistered setting's (the registration rule)
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

memberships = sa.Table(
    "memberships", metadata,
    sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.id"), primary_key=True),
    sa.Column("dps_id", sa.Uuid, primary_key=True),  # a membership is of a lot of one DPS record
    sa.Column("lot", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("status", Choice(domain.MembershipStatus, 20), nullable=False),
    sa.Column("admitted_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("since", sa.Date, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("automatic", sa.Boolean, nullable=False),  # suspended by the compliance check
    sa.Column("capacity", sa.Integer, nullable=False),  # places declared for the lot
    sa.Index("ix_memberships_lot_status", "lot", "status"),
)

pricing_schedules = sa.Table(
    "pricing_schedules", metadata,
    sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.id"), primary_key=True),
    sa.Column("lot", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("lines", LinesJson, nullable=False),  # [{description, unit, staffing_ratio, maximum_price_pence}]
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("status", Choice(domain.ScheduleStatus, 20), nullable=False, index=True),
    sa.Column("proposed_at", UTCDateTime, nullable=False),
    sa.Column("decided_at", UTCDateTime, nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("announced", sa.Boolean, nullable=False),  # pricing_schedule.effective published
)

compliance_documents = sa.Table(
    "compliance_documents", metadata,
    sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.id"), primary_key=True),
    sa.Column("kind", Choice(domain.DocumentKind, 30), primary_key=True),
    sa.Column("reference", sa.String(500), nullable=False),
    sa.Column("expires_on", sa.Date, nullable=False, index=True),
    # the last expiry warning given (30, 14, 7 days before; 0: expired), so each is given once (#18)
    sa.Column("warned_days", sa.Integer, nullable=True),
)

sla_acceptances = sa.Table(
    "sla_acceptances", metadata,
    sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.id"), primary_key=True),
    sa.Column("dps_id", sa.Uuid, primary_key=True),  # each DPS record has its own SLA versions
    sa.Column("version", sa.String(50), primary_key=True),
    sa.Column("accepted_on", sa.Date, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),  # the order accepted
)

declaration_requests = sa.Table(
    "declaration_requests", metadata,
    sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),  # the order asked
    sa.Column("requested_at", UTCDateTime, nullable=False),
    sa.Column("requested_on", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("answered_at", UTCDateTime, nullable=True),
    sa.Column("exclusion_grounds_apply", sa.Boolean, nullable=True),
    sa.Column("selection_criteria_met", sa.Boolean, nullable=True),
    sa.Column("changes", sa.Text, nullable=True),
    sa.Column("lapsed_on", sa.Date, nullable=True),  # memberships suspended for want of an answer
)

# Which reminders the daily job published (issue #18; shared/reminders.py): an application due for decision
# or overdue, once per application and due date.
reminders_published = reminders_table(metadata)
