"""What the tracking API tests share: the council's clock, awards delivered
through the service's own consumer handlers, headers for each role, and a
snapshot of everything stored (a refused request must change none of it)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import sqlalchemy as sa

from services.tracking import consumers, models
from shared.events import new_event
from tests.support.runtime import auth

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)  # a Friday in spring term
PROVIDER_A = uuid.UUID("aaaaaaaa-0000-4000-8000-000000000001")
PROVIDER_B = uuid.UUID("bbbbbbbb-0000-4000-8000-000000000002")

OFFICER = auth("officer", team="exclusions", sub="officer.exclusions")
OTHER_TEAM = auth("officer", team="send", sub="officer.send")
MANAGER = auth("manager", sub="the.manager")
REPORTING = auth("reporting", sub="reporting.system")
PROVIDER = auth("provider", provider_id=PROVIDER_A, sub="provider.a")
OTHER_PROVIDER = auth("provider", provider_id=PROVIDER_B, sub="provider.b")
EVALUATOR = auth("evaluator", sub="an.evaluator")

STORED_TABLES = ("placements", "attendance_returns", "concerns", "reviews", "outcomes", "committed_spend",
                 "block_contracts", "memberships", "providers", "outbox", "audit_log")


def award_data(**overrides) -> dict:
    data = {
        "award_id": str(uuid.uuid4()), "placement_id": str(uuid.uuid4()), "referral_id": str(uuid.uuid4()),
        "offer_id": str(uuid.uuid4()), "provider_id": str(PROVIDER_A), "lot": 1, "team": "exclusions",
        "child_ref": str(uuid.uuid4()), "reason_for_ap": "permanent exclusion",
        "pricing_line_id": str(uuid.uuid4()), "unit_price_pence": 45_000, "units_per_week": 1,
        "hours_per_week": 25, "weeks": 28, "total_pence": 1_260_000, "start_date": "2024-01-08",
        "full_time": True, "override_reason": None, "awarded_by": "officer.exclusions",
        "at": "2024-01-02T10:00:00+00:00",
    }
    data.update(overrides)
    return data


def deliver(runtime, type_: str, data: dict, producer: str = "awards"):
    """An event handled as the consumer would (it commits with the inbox row)."""
    envelope = new_event(type_, data, producer)
    with runtime.unit_of_work() as uow:
        consumers.event_handlers()[type_](uow, envelope)
        uow.commit()
    return envelope


def awarded(runtime, **overrides) -> uuid.UUID:
    data = award_data(**overrides)
    deliver(runtime, "placement.awarded", data)
    return uuid.UUID(data["placement_id"])


def started(client, runtime, on: str = "2024-01-08", **overrides) -> uuid.UUID:
    placement_id = awarded(runtime, **overrides)
    response = client.post(f"/v1/placements/{placement_id}/start", json={"started_on": on}, headers=MANAGER)
    assert response.status_code == 200, response.json
    return placement_id


def week(monday: str, offered: int = 10, attended: int = 10, authorised: int = 0, unauthorised: int = 0) -> dict:
    return {"week_commencing": monday, "sessions_offered": offered, "attended": attended,
            "authorised_absence": authorised, "unauthorised_absence": unauthorised}


def snapshot(runtime) -> dict:
    """Every row of every table the service writes, to show nothing changed."""
    tables = {}
    with runtime.engine.connect() as connection:
        for name in STORED_TABLES:
            table = models.metadata.tables[name]
            rows = connection.execute(sa.select(table)).mappings().all()
            tables[name] = sorted(tuple(sorted((k, str(v)) for k, v in row.items())) for row in rows)
    return tables


def outbox(runtime, type_: str | None = None) -> list[dict]:
    import json

    table = models.metadata.tables["outbox"]
    query = sa.select(table.c.body).order_by(table.c.position)
    if type_:
        query = query.where(table.c.event_type == type_)
    with runtime.engine.connect() as connection:
        return [json.loads(body) for body in connection.execute(query).scalars()]


def mondays(first: str, count: int) -> list[str]:
    start = date.fromisoformat(first)
    return [date.fromordinal(start.toordinal() + 7 * i).isoformat() for i in range(count)]
