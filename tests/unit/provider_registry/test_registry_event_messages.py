"""The messages the registry writes to its outbox: each domain event becomes
the data docs/events.md promises, in JSON, with the contract's words."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import pytest

from services.provider_registry.domain import (
    DPS,
    EVENTS,
    PRICING_LINE_NAMESPACE,
    ApplicationDecided,
    ApplicationSubmitted,
    CapacityChanged,
    ComplianceDocumentExpired,
    ComplianceDocumentExpiring,
    ContactsChanged,
    DeclarationRequested,
    DpsConfigured,
    DpsStatutoryEndApproaching,
    Identifier,
    Inspectorate,
    MembershipAdmitted,
    MembershipReinstated,
    MembershipRemoved,
    MembershipSuspended,
    PricingLine,
    PricingScheduleEffective,
    Reason,
    Registration,
    RegistrationChanged,
    SettingKind,
    SlaAccepted,
    Unit,
    pricing_line_id,
)
from services.provider_registry.messages import DATA_SCHEMAS, message_for
from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict, InvalidInput

AT = datetime(2025, 1, 15, 10, tzinfo=UTC)
PID = uuid.UUID("2f0a5c1e-6a59-4c55-9e8a-5d8a2d1c9b01")
SCHOOL = Registration(SettingKind.REGISTERED_SCHOOL, "123456", inspectorate=Inspectorate.ISI,
                      last_inspection_date=date(2024, 5, 9), last_inspection_outcome="Excellent")
LINES = (PricingLine("Group place per week", Unit.WEEK, "1:4", 45_000),)

# docs/events.md: the fields each type must carry.
CONTRACT = {
    "dps.configured": {"dps_id", "name", "regime", "start", "term_ends_on", "statutory_end", "ends_on", "status",
                       "lots", "award_criteria", "agreed_minimum_window_days", "agreed_in_sla_version",
                       "sla_version"},
    "dps.statutory_end_approaching": {"dps_id", "statutory_end", "months_before", "regulation"},
    "provider.sla_accepted": {"provider_id", "dps_id", "sla_version", "accepted_at"},
    "membership.admitted": {"dps_id", "provider_id", "provider_name", "lot", "status", "registration_status", "urn",
                            "setting_kind", "identifiers", "declared_roll", "pricing_lines", "capacity", "ends_on",
                            "at"},
    "membership.suspended": {"dps_id", "provider_id", "provider_name", "lot", "status", "reason", "at"},
    "membership.reinstated": {"dps_id", "provider_id", "provider_name", "lot", "status", "reason", "at"},
    "membership.removed": {"dps_id", "provider_id", "provider_name", "lot", "status", "reason", "at"},
    "pricing_schedule.effective": {"provider_id", "provider_name", "lot", "version", "effective_from",
                                   "pricing_lines", "at"},
    "capacity.changed": {"provider_id", "provider_name", "lot", "capacity", "at"},
    "provider.registration_changed": {"provider_id", "provider_name", "registration_status", "urn",
                                      "setting_kind", "identifiers", "inspectorate", "last_inspection_date",
                                      "last_inspection_outcome", "declared_roll", "at"},
    "provider.contacts_changed": {"provider_id", "provider_name", "notification_addresses", "at"},
    "application.submitted": {"application_id", "provider_id", "provider_name", "dps_id", "lots", "due_on",
                              "contact_address", "at"},
    "application.decided": {"application_id", "provider_id", "provider_name", "dps_id", "lots", "outcome",
                            "admitted_lots", "reasons", "on_time", "contact_address", "at"},
    "compliance_document.expiring": {"provider_id", "provider_name", "kind", "expires_on", "days_left", "at"},
    "compliance_document.expired": {"provider_id", "provider_name", "kind", "expires_on", "at"},
    "provider.declaration_requested": {"provider_id", "provider_name", "requested_on", "due_on", "regulation",
                                       "at"},
    # published by the daily job, not from a domain event (tests/api/provider_registry/
    # test_registry_decision_reminders_job.py checks their data)
    "application.decision_due": {"application_id", "provider_id", "provider_name", "received_on", "due_on", "at"},
    "application.decision_overdue": {"application_id", "provider_id", "provider_name", "received_on", "due_on",
                                     "at"},
}

SAMPLES = [
    MembershipAdmitted(PID, "Bridges", 1, "unregistered", 1, LINES, 6, date(2025, 1, 15),
                       date(2031, 3, 31), AT),
    MembershipSuspended(PID, "Bridges", 1, "insurance expired", True, AT),
    MembershipReinstated(PID, "Bridges", 1, "all valid", True, AT),
    MembershipRemoved(PID, "Bridges", 1, "left the area", AT),
    PricingScheduleEffective(PID, "Bridges", 1, 2, date(2025, 2, 3), LINES, AT),
    CapacityChanged(PID, "Bridges", 1, 9, AT),
    RegistrationChanged(PID, "Bridges", SCHOOL, (Identifier("GB-URN", "123456"), Identifier("GB-COH", "01234567")),
                        AT),
    DpsConfigured(None, None, record=DPS("AP DPS").published()),
    DpsStatutoryEndApproaching(FIRST_DPS_ID, date(2029, 2, 23), 12, "SI 2024/716 regulation 5(4)"),
    SlaAccepted(PID, "2", date(2025, 1, 15), AT),
    ContactsChanged(PID, "Bridges", ("office@bridges.example",), AT),
    ApplicationSubmitted(uuid.uuid4(), PID, (1, 2), date(2025, 1, 29), "Bridges", "lead@bridges.example", AT),
    ApplicationDecided(uuid.uuid4(), PID, (1,), (Reason(2, "insured", "no insurance for lot 2"),), True, "Bridges",
                       "lead@bridges.example", (1, 2), AT),
    ComplianceDocumentExpiring(PID, "Bridges", "insurance", date(2025, 2, 14), AT, days_left=30),
    ComplianceDocumentExpired(PID, "Bridges", "insurance", date(2025, 1, 14), AT),
    DeclarationRequested(PID, date(2025, 1, 15), date(2025, 1, 22), "Bridges", AT),
]


def test_a_decision_says_admitted_or_rejected_with_each_reason_and_where_to_tell_the_applicant():
    admitted = next(e for e in SAMPLES if isinstance(e, ApplicationDecided))
    _, data = message_for(admitted)
    assert (data["outcome"], data["admitted_lots"], data["lots"]) == ("admitted", [1], [1, 2])
    assert data["reasons"] == [{"lot": 2, "question_id": "insured", "text": "no insurance for lot 2"}]
    assert data["contact_address"] == "lead@bridges.example"
    rejected = ApplicationDecided(uuid.uuid4(), PID, (), (Reason(1, None, "outside the area"),), False, "Bridges",
                                  "lead@bridges.example", (1,), AT)
    assert message_for(rejected)[1]["outcome"] == "rejected"


def test_a_declaration_request_names_its_regulation():
    _, data = message_for(DeclarationRequested(PID, date(2025, 1, 15), date(2025, 1, 22), "Bridges", AT))
    assert (data["due_on"], data["regulation"]) == ("2025-01-22", "PCR 2015 regulation 34(25)")


def test_every_domain_event_has_a_message():
    assert {type(e) for e in SAMPLES} == set(EVENTS)
    assert set(DATA_SCHEMAS) == set(CONTRACT)


@pytest.mark.parametrize("event", SAMPLES, ids=[e.type for e in SAMPLES])
def test_message_carries_the_contracts_fields_as_json_and_loads_with_its_schema(event):
    type_, data = message_for(event)

    assert type_ == event.type
    assert CONTRACT[type_] <= set(data)
    assert json.loads(json.dumps(data)) == data
    assert data.get("at", data.get("accepted_at", "2025-01-15T10:00:00+00:00")) == "2025-01-15T10:00:00+00:00"
    DATA_SCHEMAS[type_]().load(data)  # the producer's own schema accepts what it writes


def test_admission_names_registration_status_in_the_contracts_words_and_ids_each_line():
    _, data = message_for(SAMPLES[0])
    assert data["registration_status"] == "unregistered"
    assert data["urn"] is None
    assert data["pricing_lines"] == [{
        "pricing_line_id": str(uuid.uuid5(PRICING_LINE_NAMESPACE, f"{PID}:1:group place per week")),
        "description": "Group place per week", "unit": "week", "staffing_ratio": "1:4",
        "maximum_price_pence": 45_000}]


def test_pricing_line_keeps_its_id_whatever_the_case_of_its_description():
    assert pricing_line_id(PID, 1, "Group Place per Week") == pricing_line_id(PID, 1, "group place per week")
    assert pricing_line_id(PID, 1, "Session") != pricing_line_id(PID, 2, "Session")


# ------------------------------------------------- changing the DPS record


def test_term_is_fixed_once_providers_are_admitted_but_the_name_is_not():
    dps = DPS("AP DPS")
    dps.reconfigure(has_members=False, start=date(2024, 9, 1), term_years=4)
    assert dps.ends_on == date(2028, 8, 31)
    with pytest.raises(Conflict):
        dps.reconfigure(has_members=True, term_years=5)
    dps.reconfigure(has_members=True, name="AP DPS (Newtown)", term_years=4)  # unchanged term: allowed
    assert dps.name == "AP DPS (Newtown)"


@pytest.mark.parametrize("changes, field", [({"name": " "}, "name"), ({"term_years": 0}, "term_years")])
def test_bad_dps_change_is_refused_and_changes_nothing(changes, field):
    dps = DPS("AP DPS")
    with pytest.raises(InvalidInput) as refused:
        dps.reconfigure(has_members=False, **changes)
    assert field in refused.value.field_errors
    assert (dps.name, dps.term_years) == ("AP DPS", 7)


def test_decision_periods_may_change_but_the_extension_is_never_shorter():
    dps = DPS("AP DPS")
    dps.reconfigure(has_members=True, decision_working_days=8, extended_decision_working_days=12)
    assert (dps.decision_working_days, dps.extended_decision_working_days) == (8, 12)
    with pytest.raises(InvalidInput) as refused:
        dps.reconfigure(has_members=True, decision_working_days=13)
    assert "extended_decision_working_days" in refused.value.field_errors
    assert dps.decision_working_days == 8


def test_dps_configured_carries_the_whole_record_with_the_statutory_end_and_the_criteria():
    _, data = message_for(SAMPLES[7])
    assert data["dps_id"] == str(FIRST_DPS_ID) and data["regime"] == "pcr2015_dps"
    assert (data["term_ends_on"], data["statutory_end"], data["ends_on"]) == ("2031-03-31", "2029-02-23", "2029-02-23")
    assert [c["code"] for c in data["award_criteria"]] == ["value", "travel", "continuity", "specialism", "start"]
    assert data["award_criteria"][0]["description"] == "Best value for money at the volume asked for"
    assert (data["agreed_minimum_window_days"], data["agreed_in_sla_version"]) == (None, None)


def test_membership_events_name_their_dps():
    assert message_for(SAMPLES[0])[1]["dps_id"] == str(FIRST_DPS_ID)
    other = uuid.uuid4()
    assert message_for(MembershipRemoved(PID, "Bridges", 1, "gone", AT, dps_id=other))[1]["dps_id"] == str(other)
