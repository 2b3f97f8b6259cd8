"""What the referrals API and integration tests share: a valid referral form
and offer, the registry events that admit and
suspend providers, the steps to publish and offer, the error fields of a
refusal, the events in the outbox and a snapshot of everything stored (to
show a refusal changed nothing)."""

from __future__ import annotations

import json
import uuid
from copy import deepcopy
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from services.referrals import consumers, models
from shared.events import new_event
from tests.support.runtime import auth

# A Wednesday in term.
NOW = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=14)  # at least 10 days: the minimum offer window
AFTER_DEADLINE = DEADLINE + timedelta(minutes=1)
START = date(2025, 1, 27)

OFFICER = auth("officer", team="exclusions", sub="officer-1")
OTHER_TEAM_OFFICER = auth("officer", team="send", sub="officer-send")
MANAGER = auth("manager", sub="vls-manager")

# The child: identifying details that must never reach a provider.
CHILD = {"name": "Zebedee Quartermaine", "date_of_birth": "2010-06-02", "upn": "A123456789012",
         "address": "14 Larch Walk, London SE15 4QT"}
IDENTIFYING = ["Zebedee", "Quartermaine", "A123456789012", "2010-06-02", "Larch Walk", "SE15 4QT", "SE154QT"]


def provider_auth(provider_id) -> dict:
    return auth("provider", provider_id=provider_id, sub=f"user-of-{provider_id}")


def line_id(provider_id, description: str = "Group place per week", lot: int = 1) -> uuid.UUID:
    namespace = uuid.UUID("6f1f6c0e-3c2a-4a0e-9a57-5d1c0e6b7a10")
    return uuid.uuid5(namespace, f"{provider_id}:{lot}:{description.casefold()}")


def pricing_lines(provider_id, lot: int = 1, maximum: int = 50_000) -> list[dict]:
    return [{"pricing_line_id": str(line_id(provider_id, "Group place per week", lot)),
             "description": "Group place per week", "unit": "week", "staffing_ratio": "1:4",
             "maximum_price_pence": maximum},
            {"pricing_line_id": str(line_id(provider_id, "1:1 tuition per hour", lot)),
             "description": "1:1 tuition per hour", "unit": "hour", "staffing_ratio": "1:1",
             "maximum_price_pence": 6_000}]


def admitted_data(provider_id, lot: int = 1, *, at: datetime = NOW - timedelta(days=30), name: str = "Acorn",
                  maximum: int = 50_000, **changes) -> dict:
    return {"provider_id": str(provider_id), "provider_name": name, "lot": lot, "status": "admitted",
            "registration_status": "registered_school", "urn": "100001",
            "pricing_lines": pricing_lines(provider_id, lot, maximum), "capacity": 4, "ends_on": "2031-12-31",
            "at": at.isoformat(), **changes}


def status_data(provider_id, lot: int = 1, *, status: str = "suspended", at: datetime = NOW - timedelta(days=1),
                reason: str = "Insurance certificate expired") -> dict:
    return {"provider_id": str(provider_id), "provider_name": "Acorn", "lot": lot, "status": status,
            "reason": reason, "at": at.isoformat()}


def deliver(rt, type_: str, data: dict, producer: str = "provider_registry") -> None:
    """An event from another service, through referrals' own consumer handler."""
    with rt.unit_of_work() as uow:
        consumers.event_handlers()[type_](uow, new_event(type_, data, producer))
        uow.commit()


def admit(rt, provider_id=None, lot: int = 1, **changes) -> uuid.UUID:
    provider_id = provider_id or uuid.uuid4()
    deliver(rt, "membership.admitted", admitted_data(provider_id, lot, **changes))
    return provider_id


def suspend(rt, provider_id, lot: int = 1, at: datetime = NOW - timedelta(days=1)) -> None:
    deliver(rt, "membership.suspended", status_data(provider_id, lot, at=at))


def profile(**changes) -> dict:
    return {"age": 14, "year_group": 9, "primary_need": "Social, emotional and mental health", "ehcp": True,
            "looked_after": False, "reason": "permanent_exclusion",
            "needs_and_risks": "Needs a small group; risk of absconding when anxious.",
            "aims": "Stabilise attendance, then move on to a special school within two terms.",
            "success_measures": {"attendance": "Above 90% by half term", "behaviour": "No fixed-term exclusions"},
            "curriculum": "English, maths, science and PSHE", "qualification_route": "Functional skills level 1",
            "hours_per_week": 25, "pattern": "Five mornings and two afternoons", "start_date": START.isoformat(),
            "expected_weeks": 12, "postcode_district": "SE15", "transport_needed": True, **changes}


def referral_form(*, lot: int = 1, questions=("Describe your experience of supporting SEMH needs",),
                  profile_changes: dict | None = None, **changes) -> dict:
    form = {"lot": lot, "deadline": DEADLINE.isoformat(), "exclusion_start": "2025-01-13",
            "child": dict(CHILD), "profile": profile(**(profile_changes or {})), "questions": list(questions)}
    form.update(changes)
    return deepcopy(form)


def create(client, form: dict | None = None, headers=OFFICER) -> dict:
    response = client.post("/v1/referrals", json=form or referral_form(), headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def publish(client, referral_id, headers=OFFICER) -> dict:
    response = client.post(f"/v1/referrals/{referral_id}/publish", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def published_referral(client, **form_changes) -> dict:
    referral = create(client, referral_form(**form_changes))
    publish(client, referral["referral_id"])
    return referral


def offer_terms(provider_id, questions=(), **changes) -> dict:
    terms = {"pricing_line_id": str(line_id(provider_id)), "unit_price_pence": 45_000, "units_per_week": 1,
             "weeks": 12, "proposed_start": START.isoformat(), "staffing_ratio": "1:4",
             "delivery_site": "Riverside Centre", "delivery_postcode": "se15 5ab",
             "how_it_meets_needs": "Groups of four with a trained SEMH mentor; weekly reviews against the aims.",
             "place_available": True,
             "answers": {q["question_id"]: "Ten years running an SEMH provision" for q in questions}}
    terms.update(changes)
    return terms


def offer(client, referral: dict, provider_id, headers=None, **changes):
    return client.post(f"/v1/provider/referrals/{referral['referral_id']}/offers",
                       json=offer_terms(provider_id, referral["questions"], **changes),
                       headers=headers or provider_auth(provider_id))


def fields_of(response) -> dict:
    """The fields a refusal names (flask-smorest validation and domain errors alike)."""
    return (response.json or {}).get("errors", {}).get("json", {})


def outbox(rt, type_: str | None = None) -> list[dict]:
    with rt.engine.connect() as connection:
        rows = connection.execute(sa.select(rt.outbox_table.c.body).order_by(rt.outbox_table.c.position)).all()
    envelopes = [json.loads(row.body) for row in rows]
    return [e for e in envelopes if type_ is None or e["type"] == type_]


def audit_actions(rt) -> list[str]:
    with rt.engine.connect() as connection:
        return list(connection.execute(sa.select(rt.audit_table.c.action).order_by(rt.audit_table.c.at)).scalars())


def snapshot(rt) -> dict:
    """Every row of every table the service writes (bar the consumer's inbox and job claims)."""
    skip = {"inbox", "job_runs"}
    with rt.engine.connect() as connection:
        return {name: sorted(json.dumps(_plain(dict(row._mapping)), default=str, sort_keys=True)
                             for row in connection.execute(sa.select(table)))
                for name, table in models.metadata.tables.items() if name not in skip}


def _plain(value):
    """Stored values as JSON takes them (answers are keyed by question id)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
