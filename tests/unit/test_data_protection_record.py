"""docs/data-protection.md (the record of processing a council's DPIA starts
from) stays in step with the code (issue #17 item 7): every field of a
request, response or event schema that holds personal data is named in its
service's section, and every field is classified, so a new one cannot slip
in unlisted."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
from pathlib import Path

import pytest
from marshmallow import Schema

from shared.catalogue import SERVICES

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "docs" / "data-protection.md"

# Fields that hold personal data: about a child (identity, the pseudonymised
# profile, its placement), about a person who works for a provider or the
# council, or free text written about a child's referral or placement.
PERSONAL = set("""
    child child_ref name date_of_birth upn address postcode email phone safeguarding_lead
    age year_group primary_need ehcp looked_after has_sen compulsory_school_age needs_and_risks aims success_measures
    reason_for_ap
    curriculum qualification_route hours_per_week pattern start_date expected_weeks postcode_district
    transport_needed profile exclusion_start full_time_provision_by pupils
    attendance attendance_rate recent_attendance_rate attended authorised_absence unauthorised_absence
    sessions_offered correction corrections
    attainment attitude behaviour notes note engagement qualifications next_step concerns rate acknowledgement
    weeks_low
    reason cancel_reason end_reason override_reason assessment_reason overlap_reason off_dps_exception
    answers how_it_meets_needs delivery_postcode text question questions body
    created_by recorded_by acknowledged_by assessed_by awarded_by closed_by allocated_by confirmed_by
    moderated_by start_confirmed_by evaluator_id by conflict details winner_name
    urgency window_basis changes exclusion_grounds_apply winner_provider_name
    grounds decision_reason requested_by decided_by published_by
    notification_addresses contact_address
    approved_by refusal_reason registration_refusals
    first_school_day first_day_aim first_day_aim_met first_full_time_day sixth_day_status missed_by_school_days
    placed_part_time_only
    child_views family_views
    surname forename sex ethnicity sen_provision fsm_eligible items problems left_out
""".split())

# Fields that hold no personal data: ids, dates of the process, money, the
# lot, statuses, the arrangement's own terms, organisations' identifiers.
NOT_PERSONAL = set((ROOT / "tests" / "unit" / "data_protection_not_personal.txt").read_text().split())


def _fields(service: str) -> set[str]:
    found: set[str] = set()
    for module_name in ("schemas", "messages", "consumers"):
        if importlib.util.find_spec(f"services.{service}.{module_name}") is None:
            continue  # notifications publishes no events: it has no messages module
        module = importlib.import_module(f"services.{service}.{module_name}")
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, Schema) and obj.__module__ == module.__name__:
                found |= set(obj._declared_fields)
    return found


def _section(service: str) -> str:
    text = RECORD.read_text()
    found = re.search(rf"^### {service}\n(.*?)(?=^##)", text, re.M | re.S)
    assert found, f"docs/data-protection.md has no section '### {service}'"
    return found.group(1)


@pytest.mark.parametrize("service", SERVICES)
def test_every_personal_field_is_in_the_record(service):
    listed = set(re.findall(r"`([a-z_]+)`", _section(service)))
    missing = sorted((_fields(service) & PERSONAL) - listed)
    assert not missing, f"personal fields of {service} not in docs/data-protection.md: {missing}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_field_is_classified(service):
    unknown = sorted(_fields(service) - PERSONAL - NOT_PERSONAL)
    assert not unknown, (f"{service}: classify {unknown} in tests/unit/test_data_protection_record.py "
                         "(PERSONAL, and list it in docs/data-protection.md) or in "
                         "tests/unit/data_protection_not_personal.txt")
