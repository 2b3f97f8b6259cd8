"""Request and response schemas of the registry's HTTP API.

The schemas check types (a price is an integer number of pence, a date is a
date, a time has its zone); the domain checks the council's rules (a URN is
six digits, a price is above zero, a document is not expired) and names the
field it refuses.  Request schemas build the domain's value objects; enum
values the domain does not know are passed through for it to refuse by name.
"""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, fields, post_load, validate

from services.provider_registry.domain import (
    ApplicationForm,
    ApplicationStatus,
    AwardCriterion,
    ComplianceDocument,
    DocumentKind,
    DPSStatus,
    EstablishmentType,
    Inspectorate,
    LotApplication,
    MembershipStatus,
    Organisation,
    PassFailQuestion,
    PricingLine,
    Reason,
    Regime,
    Registration,
    SafeguardingLead,
    ScheduleStatus,
    ScoredQuestion,
    SettingKind,
    Unit,
)
from services.provider_registry.domain.common import as_member
from shared.catalogue import FIRST_DPS_ID
from shared.paging import Paging
from shared.schemas import AwareDateTime, Date, Integer, enum_of

LOT = validate.Range(min=1, max=4, error="unknown lot; the lots are 1 to 4")
WHOLE_PENCE = {"invalid": "a price is a whole number of pence", "required": "a price in pence is required"}
WHOLE_NUMBER = {"invalid": "must be a whole number"}
MAXIMUM_PRICE_PENCE = 100_000_000  # one million pounds: anything above is a typing error
MAXIMUM_PLACES = 10_000
YES_OR_NO = {"invalid": "must be true or false"}


def _enum(enum_type, value):
    """The member for a known value; anything else unchanged for the domain to refuse."""
    return as_member(enum_type, value) or value


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _boolean(**kwargs) -> fields.Boolean:
    # Only JSON true/false: "yes" or 1 is not a confirmation.
    return fields.Boolean(truthy={True}, falsy={False}, error_messages=YES_OR_NO, **kwargs)


def _text(max_length: int, **kwargs) -> fields.String:
    # Lengths the tables hold; longer is refused by name, never a database error.
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


def _count(**kwargs) -> fields.Integer:
    return Integer(strict=True, error_messages=WHOLE_NUMBER, **kwargs)


# ------------------------------------------------------------------ values


class OrganisationSchema(Schema):
    name = _text(300, required=True)
    address = _text(1000, required=True)
    postcode = _text(10, required=True)
    companies_house_number = _text(20, load_default=None, allow_none=True)
    charity_number = _text(20, load_default=None, allow_none=True)

    @post_load
    def make(self, data, **_):
        return Organisation(**{k: _strip(v) for k, v in data.items()})


class RegistrationSchema(Schema):
    setting_kind = _text(30, required=True, metadata=enum_of(SettingKind))
    urn = _text(20, load_default=None, allow_none=True,
                metadata={"description": "DfE URN, six digits: required of a registered school"})
    ukprn = _text(20, load_default=None, allow_none=True, metadata={
        "description": "UKPRN, eight digits: required of a further education college or training provider"})
    inspectorate = _text(10, load_default=None, allow_none=True, metadata={
        "description": "ofsted or isi: required of a registered school"})
    last_inspection_date = Date(load_default=None, allow_none=True)
    last_inspection_outcome = _text(200, load_default=None, allow_none=True, metadata={
        "description": "the outcome in words, as the report gives it (no grade is required)"})
    establishment_type = _text(30, load_default=None, allow_none=True, metadata={
        "description": "a registered school's: " + ", ".join(t.value for t in EstablishmentType)
                       + " (the AP census counts pupils of independent and non-maintained schools only)"})

    @post_load
    def make(self, data, **_):
        inspectorate = data["inspectorate"]
        return Registration(_enum(SettingKind, data["setting_kind"]), _strip(data["urn"]), _strip(data["ukprn"]),
                            None if inspectorate is None else _enum(Inspectorate, _strip(inspectorate)),
                            data["last_inspection_date"], _strip(data["last_inspection_outcome"]),
                            None if data["establishment_type"] is None
                            else _enum(EstablishmentType, _strip(data["establishment_type"])))


class SafeguardingLeadSchema(Schema):
    name = _text(200, required=True)
    email = _text(254, required=True)
    phone = _text(40, load_default=None, allow_none=True)

    @post_load
    def make(self, data, **_):
        return SafeguardingLead(**{k: _strip(v) for k, v in data.items()})


class DocumentSchema(Schema):
    kind = _text(30, required=True, metadata=enum_of(DocumentKind))
    reference = _text(500, required=True, metadata={"description": "the stored file or certificate number"})
    expires_on = Date(required=True)

    @post_load
    def make(self, data, **_):
        return ComplianceDocument(_enum(DocumentKind, data["kind"]), _strip(data["reference"]), data["expires_on"])


class PricingLineSchema(Schema):
    description = _text(200, required=True, metadata={"description": "e.g. group place per week"})
    unit = _text(20, required=True, metadata={"description": ", ".join(u.value for u in Unit)})
    staffing_ratio = _text(20, required=True, metadata={"description": "staff:children such as 1:1, or group"})
    maximum_price_pence = Integer(required=True, strict=True, error_messages=WHOLE_PENCE,
                                         validate=validate.Range(max=MAXIMUM_PRICE_PENCE))

    @post_load
    def make(self, data, **_):
        return PricingLine(_strip(data["description"]), _enum(Unit, data["unit"]), _strip(data["staffing_ratio"]),
                           data["maximum_price_pence"])


class LotApplicationSchema(Schema):
    lot = Integer(required=True, strict=True, validate=LOT)
    answers = fields.Dict(keys=_text(100), values=fields.Raw(allow_none=True), required=True,
                          metadata={"description": "question id -> true/false (pass/fail) or a whole-number score"})
    pricing_lines = fields.List(fields.Nested(PricingLineSchema), required=True)
    capacity = _count(required=True, validate=validate.Range(max=MAXIMUM_PLACES),
                      metadata={"description": "places offered on the lot"})

    @post_load
    def make(self, data, **_):
        return LotApplication(data["lot"], data["answers"], tuple(data["pricing_lines"]), data["capacity"])


# ------------------------------------------------------------ applications


class ApplicationSchema(Schema):
    organisation = fields.Nested(OrganisationSchema, required=True)
    registration = fields.Nested(RegistrationSchema, required=True)
    safeguarding_lead = fields.Nested(SafeguardingLeadSchema, required=True)
    enhanced_dbs_confirmed = _boolean(required=True, metadata={
        "description": "enhanced DBS checks for all staff are recorded on a single central record"})
    documents = fields.List(fields.Nested(DocumentSchema), required=True)
    lots = fields.List(fields.Nested(LotApplicationSchema), required=True)
    sla_version = _text(50, required=True, metadata={"description": "the SLA version the provider accepts"})
    dps_id = fields.UUID(load_default=FIRST_DPS_ID, metadata={
        "description": "the DPS record applied to (default the first; a successor is joined separately)"})

    @post_load
    def make(self, data, **_):
        return ApplicationForm(data["organisation"], data["registration"], data["safeguarding_lead"],
                               data["enhanced_dbs_confirmed"], tuple(data["documents"]), tuple(data["lots"]),
                               _strip(data["sla_version"]), data["dps_id"])


class ReasonSchema(Schema):
    lot = Integer(required=True, strict=True)
    question_id = _text(100, load_default=None, allow_none=True,
                                metadata={"description": "the question failed, or null for the lot as a whole"})
    text = _text(2000, required=True)

    @post_load
    def make(self, data, **_):
        return Reason(data["lot"], data["question_id"], data["text"])


class DecisionSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(["admit", "reject"]))
    lots = fields.List(Integer(strict=True), load_default=list,
                       metadata={"description": "the lots admitted (some or all of those applied for)"})
    reasons = fields.List(fields.Nested(ReasonSchema), load_default=list,
                          metadata={"description": "why each lot not admitted failed (per question)"})


class MarkSchema(Schema):
    lot = Integer(required=True, strict=True, validate=LOT)
    question_id = _text(100, required=True)
    score = _count(required=True)


class ReasonOnlySchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ApplicationQuery(Paging):
    status = fields.String(validate=validate.OneOf([s.value for s in ApplicationStatus]))
    overdue = fields.Boolean(load_default=False, metadata={"description": "pending past the decision date"})
    provider_id = fields.UUID()


# ------------------------------------------------------------ the DPS, lots


class QuestionSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["pass_fail", "scored"]))
    id = _text(100, required=True)
    text = _text(2000, required=True)
    pass_answer = _boolean(load_default=True, metadata={"description": "pass/fail: the answer that passes"})
    pass_mark = Integer(strict=True, load_default=None, error_messages=WHOLE_NUMBER)
    min_score = Integer(strict=True, load_default=0, error_messages=WHOLE_NUMBER)
    max_score = Integer(strict=True, load_default=5, error_messages=WHOLE_NUMBER)

    @post_load
    def make(self, data, **_):
        if data["kind"] == "pass_fail":
            return PassFailQuestion(_strip(data["id"]), _strip(data["text"]), data["pass_answer"])
        return ScoredQuestion(_strip(data["id"]), _strip(data["text"]), data["pass_mark"], data["min_score"],
                              data["max_score"])


class QuestionsSchema(Schema):
    questions = fields.List(fields.Nested(QuestionSchema), required=True)


class DPSChangeSchema(Schema):
    name = _text(200)
    start = Date(validate=validate.Range(min=date(2000, 1, 1), max=date(2100, 1, 1)))
    term_years = _count(validate=validate.Range(min=1, max=25, error="the term is 1 to 25 years"))
    decision_working_days = _count(validate=validate.Range(min=1, max=60))
    extended_decision_working_days = _count(validate=validate.Range(min=1, max=60))


class SlaIssueSchema(Schema):
    version = fields.String(required=True, validate=validate.Length(min=1, max=50))
    reason = _text(2000, load_default=None, allow_none=True)
    agreed_minimum_window_days = Integer(strict=True, allow_none=True, error_messages=WHOLE_NUMBER, metadata={
        "description": "a call-off offer window shorter than 10 days agreed with every provider in this SLA "
                       "version (null clears it; absent keeps the one in force)"})


class DpsQuery(Schema):
    dps_id = fields.UUID(load_default=FIRST_DPS_ID, metadata={"description": "the DPS record (default the first)"})


class AwardCriterionSchema(Schema):
    code = _text(40, required=True)
    name = _text(200, required=True)
    description = _text(2000, required=True)

    @post_load
    def make(self, data, **_):
        return AwardCriterion(_strip(data["code"]), data["name"], data["description"])


class AwardCriteriaSchema(Schema):
    award_criteria = fields.List(fields.Nested(AwardCriterionSchema), required=True)


class DPSSetUpSchema(Schema):
    name = _text(200, required=True)
    regime = fields.String(required=True, metadata={
        "description": "pcr2015_dps, pa2023_dynamic_market or pa2023_open_framework"})
    lots = fields.List(Integer(strict=True, validate=LOT), required=True)
    start = Date(required=True, validate=validate.Range(min=date(2000, 1, 1), max=date(2100, 1, 1)))
    term_years = _count(required=True, validate=validate.Range(min=1, max=25, error="the term is 1 to 25 years"))
    award_criteria = fields.List(fields.Nested(AwardCriterionSchema), load_default=None, metadata={
        "description": "the published call-off award criteria (default: the council's five)"})


class RoundSchema(Schema):
    opens_on = Date(required=True)
    closes_on = Date(required=True)


class QuestionOut(Schema):
    kind = fields.String(metadata=enum_of(["pass_fail", "scored"]))
    id = fields.String()
    text = fields.String()
    pass_answer = fields.Boolean()
    pass_mark = Integer()
    min_score = Integer()
    max_score = Integer()


class LotOut(Schema):
    number = Integer()
    name = fields.String()
    questions = fields.List(fields.Nested(QuestionOut))


class AwardCriterionOut(Schema):
    code = fields.String()
    name = fields.String()
    description = fields.String()


class RoundOut(Schema):
    opens_on = Date()
    closes_on = Date()


class WarningOut(Schema):
    months_before = Integer()
    given_on = Date()


class StandstillOut(Schema):
    required = fields.Boolean()
    days = Integer()
    working_days = fields.Boolean()
    rule = fields.String()


class RegimeRulesOut(Schema):
    law = fields.String()
    rolling_admission = fields.Boolean()
    admission_rule = fields.String()
    call_off_standstill = fields.Nested(StandstillOut)
    unsuccessful_bidder_told = fields.String()
    notices = fields.List(fields.String())


class DPSOut(Schema):
    id = fields.UUID()
    regime = fields.String(metadata=enum_of(Regime))
    rules = fields.Nested(RegimeRulesOut, metadata={"description": "the rules that hang off the regime"})
    term_ends_on = Date(metadata={"description": "the last day of the advertised term"})
    statutory_end = Date(allow_none=True, metadata={"description": "a 2015-rules DPS: SI 2024/716 regulation 5(4)"})
    statutory_end_regulation = fields.String(allow_none=True)
    ends_by_law = fields.Boolean()
    statutory_end_warnings = fields.List(fields.Nested(WarningOut))
    award_criteria = fields.List(fields.Nested(AwardCriterionOut))
    agreed_minimum_window_days = Integer(allow_none=True)
    agreed_in_sla_version = fields.String(allow_none=True)
    rounds = fields.List(fields.Nested(RoundOut))
    name = fields.String()
    start = Date()
    term_years = Integer()
    ends_on = Date(metadata={"description": "the last day anything may be admitted, invited or awarded"})
    status = fields.String(metadata=enum_of(DPSStatus))
    open = fields.Boolean(metadata={"description": "providers may apply today"})
    sla_version = fields.String()
    decision_working_days = Integer()
    extended_decision_working_days = Integer()
    lots = fields.List(fields.Nested(LotOut))


# ------------------------------------------------------------------ providers


class DetailsChangeSchema(Schema):
    organisation = fields.Nested(OrganisationSchema)
    registration = fields.Nested(RegistrationSchema)
    safeguarding_lead = fields.Nested(SafeguardingLeadSchema)


class DeclaredRollSchema(Schema):
    """An unregistered setting's whole roll, from every commissioner (the registration rule).  The domain
    checks the values, so a missing or negative count is refused naming the field and the rule."""

    full_time_pupils = fields.Raw(load_default=None, metadata={
        "type": "integer", "minimum": 0,
        "description": "pupils of compulsory school age the setting educates full-time, from any commissioner "
                       "(required, 0 or more)"})
    any_ehcp = fields.Boolean(load_default=False, metadata={"description": "any of them has an EHCP"})
    any_looked_after = fields.Boolean(load_default=False, metadata={"description": "any of them is looked after"})
    any_sen = fields.Boolean(load_default=False, metadata={
        "description": "any of them has special educational needs"})


class DeclaredRollOut(Schema):
    full_time_pupils = Integer()
    any_ehcp = fields.Boolean()
    any_looked_after = fields.Boolean()
    any_sen = fields.Boolean()
    declared_at = AwareDateTime()


class SlaAcceptanceSchema(Schema):
    version = _text(50, required=True)
    dps_id = fields.UUID(load_default=FIRST_DPS_ID, metadata={"description": "the DPS record (default the first)"})


class CapacitySchema(Schema):
    capacity = _count(required=True)


class ProposalSchema(Schema):
    effective_from = Date(required=True)
    pricing_lines = fields.List(fields.Nested(PricingLineSchema), required=True)


class ProviderQuery(Paging):
    lot = Integer(validate=LOT)
    status = fields.String(validate=validate.OneOf([s.value for s in MembershipStatus if s.value != "ended"]))
    name = fields.String(validate=validate.Length(max=200))


class DirectoryQuery(Paging):
    lot = Integer(validate=LOT)
    dps_id = fields.UUID(load_default=FIRST_DPS_ID, metadata={"description": "the DPS record (default the first)"})


class ScheduleQuery(Paging):
    status = fields.String(validate=validate.OneOf([s.value for s in ScheduleStatus]))
    lot = Integer(validate=LOT)


# ------------------------------------------------------------------ responses


class OrganisationOut(Schema):
    name = fields.String()
    address = fields.String()
    postcode = fields.String()
    companies_house_number = fields.String(allow_none=True)
    charity_number = fields.String(allow_none=True)


class IdentifierOut(Schema):
    scheme = fields.String(metadata={"description": "org-id.guide: GB-URN, GB-UKPRN, GB-COH, GB-CHC, GB-SC, GB-NIC"})
    id = fields.String()


class RegistrationOut(Schema):
    setting_kind = fields.String(metadata=enum_of(SettingKind))
    urn = fields.String(allow_none=True)
    ukprn = fields.String(allow_none=True)
    inspectorate = fields.String(allow_none=True)
    last_inspection_date = Date(allow_none=True)
    last_inspection_outcome = fields.String(allow_none=True)
    establishment_type = fields.String(allow_none=True)


class LeadOut(Schema):
    name = fields.String()
    email = fields.String()
    phone = fields.String(allow_none=True)


class DocumentOut(Schema):
    kind = fields.String(metadata=enum_of(DocumentKind))
    reference = fields.String()
    expires_on = Date()
    expired = fields.Boolean()


class PricingLineOut(Schema):
    pricing_line_id = fields.UUID()
    description = fields.String()
    unit = fields.String()
    staffing_ratio = fields.String()
    maximum_price_pence = Integer()


class ResultOut(Schema):
    question_id = fields.String()
    passed = fields.Boolean()
    reason = fields.String(allow_none=True)
    score = Integer(allow_none=True)


class AssessmentOut(Schema):
    passed = fields.Boolean()
    results = fields.List(fields.Nested(ResultOut))


class LotApplicationOut(Schema):
    lot = Integer()
    answers = fields.Dict()
    questions = fields.List(fields.Nested(QuestionOut))
    pricing_lines = fields.List(fields.Nested(PricingLineOut))
    capacity = Integer()
    assessment = fields.Nested(AssessmentOut)


class DeadlineOut(Schema):
    submitted_on = Date()
    due_on = Date()
    working_days = Integer()
    extended = fields.Boolean()
    extension_reason = fields.String(allow_none=True)
    extended_at = AwareDateTime(allow_none=True)


class ReasonOut(Schema):
    lot = Integer()
    question_id = fields.String(allow_none=True)
    text = fields.String()


class DecisionOut(Schema):
    admitted_lots = fields.List(Integer())
    reasons = fields.List(fields.Nested(ReasonOut))
    decided_at = AwareDateTime()
    on_time = fields.Boolean()


class MarkOut(Schema):
    lot = Integer()
    question_id = fields.String()
    score = Integer()


class ApplicationOut(Schema):
    id = fields.UUID()
    dps_id = fields.UUID()
    provider_id = fields.UUID()
    status = fields.String(metadata=enum_of(ApplicationStatus))
    submitted_at = AwareDateTime()
    overdue = fields.Boolean()
    organisation = fields.Nested(OrganisationOut)
    registration = fields.Nested(RegistrationOut)
    safeguarding_lead = fields.Nested(LeadOut)
    enhanced_dbs_confirmed = fields.Boolean()
    documents = fields.List(fields.Nested(DocumentOut))
    sla_version = fields.String()
    lots = fields.List(fields.Nested(LotApplicationOut))
    marks = fields.List(fields.Nested(MarkOut))
    deadline = fields.Nested(DeadlineOut)
    decision = fields.Nested(DecisionOut, allow_none=True)


class ScheduleOut(Schema):
    provider_id = fields.UUID()
    provider_name = fields.String()
    lot = Integer()
    version = Integer()
    status = fields.String(metadata=enum_of(ScheduleStatus))
    effective_from = Date()
    in_force = fields.Boolean(allow_none=True, metadata={"description": "the version in force today"})
    proposed_at = AwareDateTime()
    decided_at = AwareDateTime(allow_none=True)
    reason = fields.String(allow_none=True)
    pricing_lines = fields.List(fields.Nested(PricingLineOut))


class MembershipOut(Schema):
    dps_id = fields.UUID()
    lot = Integer()
    lot_name = fields.String()
    status = fields.String(metadata=enum_of(MembershipStatus))
    admitted_on = Date()
    ends_on = Date()
    since = Date()
    reason = fields.String(allow_none=True)
    automatic = fields.Boolean(metadata={"description": "suspended by the compliance check"})
    capacity = Integer()
    pricing = fields.Nested(ScheduleOut, allow_none=True, metadata={"description": "the schedule in force"})


class DeclarationAnswerSchema(Schema):
    exclusion_grounds_apply = _boolean(required=True, metadata={
        "description": "whether any mandatory or discretionary ground for exclusion now applies"})
    selection_criteria_met = _boolean(required=True, metadata={
        "description": "whether the provider still meets the DPS's selection criteria"})
    changes = _text(4000, load_default=None, allow_none=True, metadata={
        "description": "what has changed since the last declaration (required when a ground applies or a "
                       "criterion is no longer met)"})


class DeclarationOut(Schema):
    requested_on = Date()
    due_on = Date(metadata={"description": "the last day to answer: 5 working days (PCR 2015 reg. 34(25))"})
    answered_at = AwareDateTime(allow_none=True)
    answered_on_time = fields.Boolean()
    exclusion_grounds_apply = fields.Boolean(allow_none=True)
    selection_criteria_met = fields.Boolean(allow_none=True)
    changes = fields.String(allow_none=True)
    lapsed_on = Date(allow_none=True, metadata={"description": "the day the daily job found it unanswered and "
                                                               "suspended the memberships"})


class DeclarationRequestOut(DeclarationOut):
    provider_id = fields.UUID()
    provider_name = fields.String()


class SlaOut(Schema):
    dps_id = fields.UUID()
    version = fields.String()
    accepted_on = Date()


class NotificationAddressesIn(Schema):
    notification_addresses = fields.List(_text(254), required=True, metadata={
        "description": "one to five email addresses the DPS sends the provider's notifications to"})


class ProviderOut(Schema):
    id = fields.UUID()
    name = fields.String()
    organisation = fields.Nested(OrganisationOut)
    registration = fields.Nested(RegistrationOut)
    safeguarding_lead = fields.Nested(LeadOut)
    notification_addresses = fields.List(fields.String(), metadata={
        "description": "where the DPS sends the provider's notifications"})
    documents = fields.List(fields.Nested(DocumentOut))
    compliance_problems = fields.List(fields.String())
    sla_acceptances = fields.List(fields.Nested(SlaOut))
    current_sla_accepted = fields.Boolean()
    identifiers = fields.List(fields.Nested(IdentifierOut))
    declarations = fields.List(fields.Nested(DeclarationOut), metadata={
        "description": "renewed self-declarations asked for, oldest first"})
    declared_roll = fields.Nested(DeclaredRollOut, allow_none=True, metadata={
        "description": "an unregistered setting's whole roll as it last declared it (the registration rule); "
                       "null: none declared"})
    memberships = fields.List(fields.Nested(MembershipOut))


class DirectoryLotOut(Schema):
    lot = Integer()
    lot_name = fields.String()
    admitted_on = Date()


class DirectoryEntryOut(Schema):
    provider_id = fields.UUID()
    name = fields.String()
    postcode_district = fields.String()
    registration = fields.Nested(RegistrationOut)
    identifiers = fields.List(fields.Nested(IdentifierOut))
    lots = fields.List(fields.Nested(DirectoryLotOut))


