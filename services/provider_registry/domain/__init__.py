"""The provider registry's rules: the DPS and its lots, applications and the
decision on them, memberships, compliance, pricing schedules and capacity.

Pure Python: no I/O, no framework; time comes in as `now` / `today`.
"""

from .application import (
    Application,
    ApplicationForm,
    ApplicationStatus,
    Decision,
    DecisionDeadline,
    LotApplication,
    Organisation,
    Reason,
    SafeguardingLead,
    check_form,
    decision_reminder,
    overdue_applications,
    submit_application,
)
from .compliance import (
    EXPIRY_WARNING_DAYS,
    REQUIRED_DOCUMENTS,
    ComplianceActions,
    ComplianceDocument,
    DocumentKind,
    compliance_actions,
    compliance_problems,
    expiry_warning,
)
from .declarations import ANSWER_WORKING_DAYS, DeclarationRequest, declaration_due_on
from .dps import (
    DECISION_WORKING_DAYS,
    DEFAULT_AWARD_CRITERIA,
    DEFAULT_START,
    DEFAULT_TERM_YEARS,
    DPS,
    EXTENDED_DECISION_WORKING_DAYS,
    LOT_NAMES,
    LOTS,
    AdmissionRound,
    AwardCriterion,
    DPSStatus,
    Lot,
    StatutoryEndWarning,
    check_lot,
)
from .events import (
    EVENTS,
    AnswerMarked,
    ApplicationDecided,
    ApplicationSubmitted,
    CapacityChanged,
    ComplianceDocumentExpired,
    ComplianceDocumentExpiring,
    ContactsChanged,
    DeadlineExtended,
    DeclarationAnswered,
    DeclarationLapsed,
    DeclarationRequested,
    DetailsChanged,
    DocumentUploaded,
    DpsClosed,
    DpsConfigured,
    DpsStatutoryEndApproaching,
    Event,
    LotQuestionsSet,
    MembershipAdmitted,
    MembershipReinstated,
    MembershipRemoved,
    MembershipSuspended,
    PricingChanged,
    PricingScheduleEffective,
    RegistrationChanged,
    RollDeclared,
    SlaAccepted,
    SlaIssued,
)
from .membership import Membership, MembershipStatus
from .pricing import PRICING_LINE_NAMESPACE, PricingLine, PricingSchedule, ScheduleStatus, Unit, pricing_line_id
from .provider import COMPLIANCE_RESTORED, Provider, SlaAcceptance
from .questions import (
    Answer,
    Assessment,
    PassFailQuestion,
    Question,
    QuestionResult,
    ScoredQuestion,
    assess_answer,
    assess_answers,
)
from .regime import (
    DEFAULT_PCR2015_STATUTORY_END,
    STATUTORY_END_REGULATION,
    STATUTORY_END_WARNING_MONTHS,
    Regime,
    Standstill,
)
from .setting import (
    DeclaredRoll,
    EstablishmentType,
    Identifier,
    Inspectorate,
    Registration,
    SettingKind,
    check_registration,
    identifiers,
)

__all__ = [
    "decision_reminder",
    # the DPS and its lots
    "DPS", "DPSStatus", "Lot", "LOTS", "LOT_NAMES", "DEFAULT_START", "DEFAULT_TERM_YEARS",
    "DECISION_WORKING_DAYS", "EXTENDED_DECISION_WORKING_DAYS", "check_lot",
    "AdmissionRound", "AwardCriterion", "DEFAULT_AWARD_CRITERIA", "StatutoryEndWarning",
    # the regime and the rules that hang off it
    "Regime", "Standstill", "DEFAULT_PCR2015_STATUTORY_END", "STATUTORY_END_REGULATION",
    "STATUTORY_END_WARNING_MONTHS",
    # qualification questions
    "Answer", "Assessment", "PassFailQuestion", "Question", "QuestionResult", "ScoredQuestion",
    "assess_answer", "assess_answers",
    # applications and decisions
    "Application", "ApplicationForm", "ApplicationStatus", "Decision", "DecisionDeadline", "LotApplication",
    "Organisation", "Reason", "SafeguardingLead", "check_form", "overdue_applications", "submit_application",
    # the kind of setting and its identifiers
    "DeclaredRoll", "EstablishmentType", "Identifier", "Inspectorate", "Registration", "SettingKind",
    "check_registration", "identifiers",
    # compliance
    "REQUIRED_DOCUMENTS", "ComplianceActions", "ComplianceDocument", "DocumentKind", "compliance_actions",
    "compliance_problems", "EXPIRY_WARNING_DAYS", "expiry_warning",
    # providers, memberships, pricing
    "COMPLIANCE_RESTORED", "Membership", "MembershipStatus", "PRICING_LINE_NAMESPACE", "PricingLine",
    "PricingSchedule", "Provider", "ScheduleStatus", "SlaAcceptance", "Unit", "pricing_line_id",
    # renewed self-declarations
    "ANSWER_WORKING_DAYS", "DeclarationRequest", "declaration_due_on",
    # events
    "EVENTS", "Event", "CapacityChanged", "ContactsChanged", "MembershipAdmitted", "MembershipReinstated",
    "MembershipRemoved",
    "MembershipSuspended", "PricingScheduleEffective", "RegistrationChanged",
    "AnswerMarked", "ApplicationDecided", "ApplicationSubmitted", "DeadlineExtended", "DeclarationAnswered",
    "DeclarationLapsed", "DeclarationRequested", "DetailsChanged", "RollDeclared",
    "DocumentUploaded", "DpsClosed", "DpsConfigured", "LotQuestionsSet", "PricingChanged", "SlaAccepted", "SlaIssued",
    "DpsStatutoryEndApproaching", "ComplianceDocumentExpiring", "ComplianceDocumentExpired",
]
