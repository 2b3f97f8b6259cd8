"""Minimal reproductions of what the fuzzing (test_security_system.py) found,
each on an in-process app of the one service concerned.  Each known bug is
marked xfail(strict=True) and fails only with BugStillPresent, so a broken
precondition is a real failure and a fix shows up as XPASS (then remove the
mark, and the matching entry of test_security_system._known_bug)."""

from __future__ import annotations

import uuid
from datetime import date

import jsonschema
import pytest

from shared.auth import PUBLIC
from shared.events import new_event
from tests.support.security import (
    fill_path,
    in_process_apps,
    offline_documents,
    operations,
    provider_headers,
    role_headers,
)

pytestmark = pytest.mark.integration

DOCUMENTS = offline_documents()
BEYOND_BIGINT = 2**63  # PostgreSQL's OFFSET is a bigint


class BugStillPresent(AssertionError):
    """The known bug this test reproduces is still there."""


def bug(condition: bool, message: str) -> None:
    if not condition:
        raise BugStillPresent(message)


@pytest.fixture(scope="module")
def apps(postgres, _templates):
    with in_process_apps(postgres, _templates) as made:
        yield made


def _headers(roles: list[str]) -> dict:
    role = "manager" if "manager" in roles else roles[0]
    return provider_headers(uuid.uuid4()) if role == "provider" else role_headers(role)


# --- unbounded offsets: 500 "bigint out of range" ---------------------------------------------------------

PAGED = [op for service, document in DOCUMENTS.items() for op in operations(service, document)
         if op.method == "get" and any(p.get("in") == "query" and p.get("name") == "page"
                                       for p in op.spec.get("parameters", []))]
@pytest.mark.parametrize("operation", PAGED, ids=str)
def test_an_offset_beyond_bigint_is_refused_not_a_server_error(apps, operation):
    """Bug: `offset` has no maximum in referrals schemas.Paging, tracking schemas._Page and awards
    schemas.AuditQuery, so an offset beyond a bigint reaches PostgreSQL and answers 500 "bigint out of
    range".  Fix: validate.Range(min=0, max=1_000_000), as provider_registry's Paging has."""
    _runtime, app = apps[operation.service]
    path = fill_path(operation.path)
    headers = {} if operation.roles == [PUBLIC] else _headers(operation.roles)
    response = app.test_client().get(path, query_string={"page": BEYOND_BIGINT}, headers=headers)
    assert response.status_code != 401, response.get_data(True)
    bug(response.status_code < 500, f"GET {path}?page={BEYOND_BIGINT}: {response.status_code} "
                                    f"{response.get_data(True)[:200]}")
    assert response.status_code in (200, 403, 404, 422), response.get_data(True)


def test_paged_operations_were_found():
    assert len(PAGED) > 15, [str(op) for op in PAGED]


# --- a 500's body is not what the documents say an error looks like --------------------------------------------

def test_the_body_of_a_500_matches_the_documented_error_schema(postgres, _templates):
    """Bug: shared/web.py `unexpected` answers 500 with a request_id field, but the documented Error
    schema (flask-smorest's, additionalProperties: false) has only code, status, message and errors.
    Fix: document request_id in the error schema (or drop it from the body)."""
    with in_process_apps(postgres, _templates, services=("tracking",)) as made:
        runtime, app = made["tracking"]
        app.add_url_rule("/v1/security-test-boom", "security_test_boom", lambda: 1 // 0)
        response = app.test_client().get("/v1/security-test-boom")
    assert response.status_code == 500, response.get_data(True)
    document = DOCUMENTS["tracking"]
    schema = {**document["components"]["schemas"]["Error"], "components": document["components"]}
    errors = [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(response.get_json())]
    bug(not errors, f"500 body {response.get_json()} breaks the documented Error schema: {errors}")


# --- tracking's committed-spend report ------------------------------------------------------------------------

def test_committed_spend_month_conforms_to_the_document(apps):
    """Bug: tracking schemas.SpendRowSchema.month is fields.Date(format='%Y-%m'): served as '2025-01' but
    documented as a string of format date.  Fix: document it as a string with pattern ^[0-9]{4}-[0-9]{2}$.
    (Since issue #21 the month is `month_start`, its first day: a date, as documented.)"""
    from services.tracking import consumers

    runtime, app = apps["tracking"]
    provider_id = uuid.uuid4()
    data = {"award_id": str(uuid.uuid4()), "placement_id": str(uuid.uuid4()), "referral_id": str(uuid.uuid4()),
            "offer_id": str(uuid.uuid4()), "provider_id": str(provider_id), "lot": 1, "team": "exclusions",
            "child_ref": str(uuid.uuid4()), "reason_for_ap": "permanent exclusion",
            "pricing_line_id": str(uuid.uuid4()), "unit_price_pence": 45_000, "units_per_week": 1,
            "hours_per_week": 25, "weeks": 12, "total_pence": 540_000, "start_date": "2025-01-06",
            "full_time": True, "override_reason": None, "awarded_by": "officer", "at": "2025-01-02T10:00:00+00:00"}
    with runtime.unit_of_work() as uow:
        consumers.event_handlers()["placement.awarded"](uow, new_event("placement.awarded", data, "awards"))
        uow.commit()
    response = app.test_client().get("/v1/reports/committed-spend", headers=role_headers("manager"))
    assert response.status_code == 200, response.get_data(True)
    rows = response.get_json()
    assert rows, "the award committed spend"
    documented = DOCUMENTS["tracking"]["components"]["schemas"]["SpendRow"]["properties"]["month_start"]
    for row in rows:
        if documented.get("format") == "date":
            try:
                date.fromisoformat(row["month_start"])
            except ValueError:
                bug(False, f"month_start {row['month_start']!r} is not a date, as the document says it is "
                           f"({documented})")


# --- referrals' lot filters refuse every lot ----------------------------------------------------------------

def test_the_lot_filter_of_referrals_lists_accepts_a_lot(apps):
    """Bug: referrals schemas._lot is fields.Integer(strict=True); in a query string every value is text,
    so ?lot=1 is refused with 422 'Not a valid integer.' on GET /v1/referrals, /v1/provider/referrals and
    /v1/registry/memberships.  Fix: strict=True only in bodies."""
    _runtime, app = apps["referrals"]
    client = app.test_client()
    refused = []
    for path, headers in (("/v1/referrals", role_headers("officer")),
                          ("/v1/registry/memberships", role_headers("officer")),
                          ("/v1/provider/referrals", provider_headers(uuid.uuid4()))):
        assert client.get(path, headers=headers).status_code == 200, path
        response = client.get(path, query_string={"lot": 1}, headers=headers)
        if response.status_code != 200:
            refused.append(f"{path}?lot=1: {response.status_code} {response.get_data(True)[:150]}")
    bug(not refused, "; ".join(refused))
