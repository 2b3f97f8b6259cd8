"""What the registry's API and integration tests share: a valid application,
the steps to admit a provider, the error fields of a refusal, the events in
the outbox and a snapshot of everything stored (to show a refusal changed
nothing)."""

from __future__ import annotations

import json
import uuid
from copy import deepcopy
from datetime import UTC, datetime

import sqlalchemy as sa

from services.provider_registry import models
from tests.support.runtime import auth

# A Wednesday in term; the decision falls due ten working days later.
NOW = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
DUE_ON = "2025-01-29"

MANAGER = auth("manager", sub="vls-manager")
OFFICER = auth("officer", team="exclusions", sub="officer-1")

# Passing answers to the questions the migration gives every lot.
COMMON_ANSWERS = {"enhanced_dbs": True, "safeguarding_policy": True, "insurance": True, "experience": 4}
LOT_QUESTION = {1: "full_time_curriculum", 2: "reintegration", 3: "bespoke_planning", 4: "preparation_for_adulthood"}


def provider_auth(provider_id) -> dict:
    return auth("provider", provider_id=provider_id, sub=f"user-of-{provider_id}")


def answers(lot: int, **changes) -> dict:
    return {**COMMON_ANSWERS, LOT_QUESTION[lot]: 4, **changes}


def lot_entry(lot: int = 1, **changes) -> dict:
    entry = {
        "lot": lot,
        "answers": answers(lot),
        "pricing_lines": [
            {"description": "Group place per week", "unit": "week", "staffing_ratio": "1:4",
             "maximum_price_pence": 45_000},
            {"description": "1:1 tuition per hour", "unit": "hour", "staffing_ratio": "1:1",
             "maximum_price_pence": 5_500},
        ],
        "capacity": 6,
    }
    entry.update(changes)
    return entry


def application_form(lots=(1,), **changes) -> dict:
    form = {
        "organisation": {"name": "Bridges Learning Ltd", "address": "1 High Street, Newtown", "postcode": "NT1 2AB",
                         "companies_house_number": "01234567", "charity_number": None},
        "registration": {"setting_kind": "registered_school", "urn": "123456", "inspectorate": "ofsted",
                         "last_inspection_date": "2023-11-08", "last_inspection_outcome": "Good"},
        "safeguarding_lead": {"name": "Sam Okafor", "email": "sam@bridges.example", "phone": "01632 960000"},
        "enhanced_dbs_confirmed": True,
        "documents": [
            {"kind": "insurance", "reference": "insurance-2025.pdf", "expires_on": "2026-01-31"},
            {"kind": "dbs_confirmation", "reference": "scr-extract.pdf", "expires_on": "2026-01-31"},
            {"kind": "safeguarding_policy", "reference": "policy-v4.pdf", "expires_on": "2026-01-31"},
        ],
        "lots": [lot_entry(n) for n in lots],
        "sla_version": "1",
    }
    form.update(deepcopy(changes))
    return form


def apply(client, provider_id, form=None):
    return client.post("/v1/applications", json=form or application_form(), headers=provider_auth(provider_id))


def decide(client, application_id, outcome="admit", lots=(1,), reasons=()):
    return client.post(f"/v1/applications/{application_id}/decision", headers=MANAGER,
                       json={"outcome": outcome, "lots": list(lots), "reasons": list(reasons)})


def admitted_provider(client, lots=(1,), provider_id=None, form=None) -> uuid.UUID:
    """A provider admitted to `lots` through the API."""
    provider_id = provider_id or uuid.uuid4()
    applied = apply(client, provider_id, form or application_form(lots=lots))
    assert applied.status_code == 201, applied.json
    decided = decide(client, applied.json["id"], lots=lots)
    assert decided.status_code == 200, decided.json
    return provider_id


def error_fields(response) -> set[str]:
    """Every field a refusal names, as dotted paths ("lots.0.capacity")."""
    errors = (response.json or {}).get("errors", {})
    found: set[str] = set()

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        else:
            found.add(path)

    for location in errors.values():
        walk(location, "")
    return found


def names(response, field: str) -> bool:
    """The refusal names `field` (a dotted path or its last part)."""
    return any(f == field or f.endswith(f".{field}") or f.startswith(f"{field}.") or f".{field}." in f
               for f in error_fields(response))


def outbox(rt, type_: str | None = None) -> list[dict]:
    """The envelopes written to the outbox, oldest first."""
    with rt.engine.connect() as c:
        query = sa.select(rt.outbox_table.c.body).order_by(rt.outbox_table.c.position)
        if type_:
            query = query.where(rt.outbox_table.c.event_type == type_)
        return [json.loads(body) for body in c.execute(query).scalars()]


def audit_actions(rt) -> list[str]:
    with rt.engine.connect() as c:
        return list(c.execute(sa.select(models.audit_log.c.action).order_by(models.audit_log.c.at)).scalars())


STORED_TABLES = ("dps", "lots", "applications", "providers", "memberships", "pricing_schedules",
                 "compliance_documents", "sla_acceptances", "declaration_requests", "outbox", "audit_log")


def snapshot(rt) -> dict[str, list]:
    """Every row of every table the service writes, comparable with ==."""
    result = {}
    with rt.engine.connect() as c:
        for name in STORED_TABLES:
            table = models.metadata.tables[name]
            rows = c.execute(sa.select(table)).all()
            result[name] = sorted(json.dumps(dict(r._mapping), default=str, sort_keys=True) for r in rows)
    return result


def assert_refused(rt, send, *args, status: int = 422, field: str | None = None, case: str = "", **kwargs):
    """`send(*args, **kwargs)` is refused with `status`, naming `field`, and nothing stored changes."""
    before = snapshot(rt)
    response = send(*args, **kwargs)
    assert response.status_code == status, (case, response.status_code, response.json)
    if field is not None:
        assert names(response, field), (case, field, response.json)
    assert snapshot(rt) == before, case
    return response
