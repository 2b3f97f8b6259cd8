"""What the awards API and integration tests share: the registry and closed
referrals seeded through awards' own consumers (as the events would bring
them), the events in the outbox, the field a refusal names, and a snapshot
of everything stored (to show a refused request changed nothing)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from services.awards import consumers, models
from shared.events import new_event
from tests.support.runtime import auth

# Wednesday 12 March 2025, in term.
NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(days=7)

OFFICER = auth("officer", team="exclusions", sub="officer-exclusions")
OTHER_OFFICER = auth("officer", team="send", sub="officer-send")
MANAGER = auth("manager", sub="vls-manager")
REPORTING = auth("reporting", sub="reporting-system")
EVALUATOR = auth("evaluator", sub="evaluator-alice")
EVALUATOR_2 = auth("evaluator", sub="evaluator-bob")

PRODUCERS = {"dps": "provider_registry", "membership": "provider_registry", "pricing_schedule": "provider_registry",
             "capacity": "provider_registry", "provider": "provider_registry", "referral": "referrals",
             "placement": "tracking", "off_dps_exception": "referrals", "child": "referrals"}


def provider_auth(provider_id) -> dict:
    return auth("provider", provider_id=provider_id, sub=f"provider-user-{provider_id}")


def ids(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


# --- feeding awards' consumers, as the broker would


def feed(rt, type_: str, data: dict) -> None:
    envelope = new_event(type_, json.loads(json.dumps(data, default=str)), PRODUCERS[type_.split(".")[0]])
    with rt.unit_of_work() as uow:
        consumers.event_handlers()[type_](uow, envelope)
        uow.commit()


def line(provider_id, maximum: int, description="group place per hour") -> dict:
    return {"pricing_line_id": str(uuid.uuid5(provider_id, description)), "description": description,
            "unit": "hour", "staffing_ratio": "1:4", "maximum_price_pence": maximum}


def admit(rt, provider_id, lot: int = 2, *, maximum: int = 5000, capacity: int = 3, name: str | None = None,
          registration: str = "registered_school", at: datetime = EARLIER) -> dict:
    """membership.admitted with one pricing line; returns that line."""
    priced = line(provider_id, maximum)
    feed(rt, "membership.admitted", {
        "provider_id": provider_id, "provider_name": name or f"Provider {str(provider_id)[:8]}", "lot": lot,
        "status": "admitted", "registration_status": registration,
        "urn": "100001" if registration == "registered_school" else None, "pricing_lines": [priced],
        "capacity": capacity, "ends_on": "2030-12-31", "at": at.isoformat()})
    return priced


def membership(rt, status: str, provider_id, lot: int = 2, at: datetime = NOW, reason="a safeguarding concern"):
    type_ = {"suspended": "membership.suspended", "admitted": "membership.reinstated",
             "removed": "membership.removed"}[status]
    feed(rt, type_, {"provider_id": provider_id, "provider_name": "Renamed", "lot": lot, "status": status,
                     "reason": reason, "at": at.isoformat()})


def offer(provider_id, unit_price: int, *, units="15", weeks: int = 12, start=date(2025, 4, 7),
          submitted_at: datetime = EARLIER, meets_needs=True, pricing_line_id=None) -> dict:
    total = int(unit_price * float(units) * weeks)
    return {"offer_id": str(uuid.uuid4()), "provider_id": str(provider_id),
            "pricing_line_id": pricing_line_id or str(uuid.uuid5(provider_id, "group place per hour")),
            "unit_price_pence": unit_price, "units_per_week": float(units), "weeks": weeks, "total_pence": total,
            "proposed_start": start.isoformat(), "staffing_ratio": "1:4", "submitted_at": submitted_at.isoformat(),
            "meets_needs": meets_needs, "assessment_reason": "meets the needs" if meets_needs else
            "no experience of the child's primary need"}


def closed_referral(referral_id, offers: list[dict], *, lot: int = 2, team: str = "exclusions", hours="15",
                    full_time=False, ehcp=False, looked_after=False, child_ref=None, at: datetime = NOW,
                    **facts) -> dict:
    """`facts`: any other field of referral.closed (compulsory_school_age, has_sen...)."""
    return {"referral_id": str(referral_id), "lot": lot, "team": team, "child_ref": str(child_ref or uuid.uuid4()),
            "reason_for_ap": "permanent_exclusion", "hours_per_week": float(hours), "full_time": full_time,
            "ehcp": ehcp, "looked_after": looked_after, "start_date": "2025-04-07", "expected_weeks": 12,
            "offers": offers, "declines": [], "at": at.isoformat(), **facts}


def close(rt, referral_id, offers: list[dict], **kwargs) -> dict:
    data = closed_referral(referral_id, offers, **kwargs)
    feed(rt, "referral.closed", data)
    return data


# --- looking at what is stored


def errors(response) -> dict:
    """The named fields of a refusal, wherever they were (body, query or headers)."""
    found: dict = {}
    for fields in (response.json or {}).get("errors", {}).values():
        found.update(fields)
    return found


def outbox(rt, type_: str | None = None) -> list[dict]:
    with rt.engine.connect() as c:
        bodies = c.execute(sa.select(rt.outbox_table.c.body).order_by(rt.outbox_table.c.position)).scalars()
        envelopes = [json.loads(b) for b in bodies]
    return [e for e in envelopes if type_ is None or e["type"] == type_]


def audit_actions(rt) -> list[str]:
    with rt.engine.connect() as c:
        return list(c.execute(sa.select(rt.audit_table.c.action).order_by(rt.audit_table.c.at)).scalars())


def snapshot(rt) -> dict:
    """Every row of every awards table (outbox and audit included)."""
    with rt.engine.connect() as c:
        return {name: sorted(tuple(str(v) for v in row) for row in c.execute(sa.select(table)))
                for name, table in models.metadata.tables.items() if name not in ("inbox", "job_runs")}


# --- a mini-competition on lot 1, driven through the API

OPENS = datetime(2025, 3, 13, 10, 0, tzinfo=UTC)
BIDDING = datetime(2025, 3, 20, 10, 0, tzinfo=UTC)
DEADLINE = datetime(2025, 3, 26, 12, 0, tzinfo=UTC)
SCORING = datetime(2025, 3, 27, 9, 0, tzinfo=UTC)
AWARDED = datetime(2025, 3, 27, 10, 0, tzinfo=UTC)    # a Thursday
LAST_DAY_OF_STANDSTILL = "2025-04-08"                 # 8 working days later
EDUCATION, SAFEGUARDING, OUTCOMES = "quality of education", "safeguarding", "outcomes"


def at(rt, moment: datetime) -> None:
    rt.clock = lambda: moment


class Lot1:
    """P1, P2, P3 admitted on lot 1; P4 suspended on it; P5 only on lot 2."""

    def __init__(self, rt):
        self.p1, self.p2, self.p3, self.p4, self.p5 = (uuid.uuid4() for _ in range(5))
        for p in (self.p1, self.p2, self.p3, self.p4):
            admit(rt, p, lot=1, capacity=10)
        membership(rt, "suspended", self.p4, lot=1)
        admit(rt, self.p5, lot=2)


def opportunity_body(**changes) -> dict:
    body = {
        "title": "Full-time places for permanently excluded pupils, 2025-26",
        "description": "Two places from September.", "lot": 1, "places": 2,
        "contract_start": "2025-09-01", "contract_end": "2026-08-31",
        "opens_at": OPENS.isoformat(), "deadline": DEADLINE.isoformat(),
        "criteria": [{"name": EDUCATION, "weight": 0.5, "minimum_score": 2, "question": "Your curriculum?"},
                     {"name": SAFEGUARDING, "weight": 0.3, "minimum_score": 3},
                     {"name": OUTCOMES, "weight": 0.2}],
    }
    return {**body, **changes}


ANSWERS = {EDUCATION: "our curriculum...", SAFEGUARDING: "our safeguarding lead...", OUTCOMES: "last year..."}


def create(client, headers=OFFICER, **changes):
    return client.post("/v1/opportunities", json=opportunity_body(**changes), headers=headers)


def bid(client, opportunity_id, provider, price, answers=ANSWERS):
    return client.post(f"/v1/opportunities/{opportunity_id}/bids", json={"price_pence": price, "answers": answers},
                       headers=provider_auth(provider))


def score(client, opportunity_id, bid_id, criterion, value, headers=EVALUATOR, reason="as the descriptor says"):
    return client.post(f"/v1/opportunities/{opportunity_id}/bids/{bid_id}/scores",
                       json={"criterion": criterion, "score": value, "reason": reason}, headers=headers)


def declare(client, opportunity_id, headers=EVALUATOR, conflict=False, details=""):
    return client.post(f"/v1/opportunities/{opportunity_id}/declarations",
                       json={"conflict": conflict, "details": details}, headers=headers)


def moderate(client, opportunity_id, bid_id, criterion, value, reason="agreed at moderation", headers=EVALUATOR):
    return client.post(f"/v1/opportunities/{opportunity_id}/bids/{bid_id}/moderation",
                       json={"criterion": criterion, "score": value, "reason": reason}, headers=headers)


class Competition:
    """Three bids, scored by two evaluators (who declared no conflict) and moderated:

    P1  8,000,000p  moderated 4 / 4 / 3
    P2 10,000,000p  moderated 5 / 4 / 5
    P3 12,000,000p  moderated 3 / 2 / 4   -> excluded: safeguarding 2, below the minimum of 3
    """

    PRICES = {"p1": 8_000_000, "p2": 10_000_000, "p3": 12_000_000}
    AGREED = {"p1": (4, 4, 3), "p2": (5, 4, 5), "p3": (3, 2, 4)}

    def __init__(self, client, rt, lot1: Lot1, *, moderated: bool = True):
        self.client, self.rt, self.lot1 = client, rt, lot1
        self.id = create(client).json["opportunity_id"]
        for evaluator in (EVALUATOR, EVALUATOR_2):  # no conflict of interest, before scoring
            assert declare(client, self.id, evaluator).status_code == 201
        at(rt, BIDDING)
        self.bids = {name: bid(client, self.id, getattr(lot1, name), price).json["bid_id"]
                     for name, price in self.PRICES.items()}
        at(rt, SCORING)
        if moderated:
            for name, scores in self.AGREED.items():
                for criterion, agreed in zip((EDUCATION, SAFEGUARDING, OUTCOMES), scores, strict=True):
                    score(client, self.id, self.bids[name], criterion, agreed)
                    score(client, self.id, self.bids[name], criterion, max(agreed - 1, 0), headers=EVALUATOR_2)
                    assert moderate(client, self.id, self.bids[name], criterion, agreed).status_code == 201

    def award(self, headers=OFFICER):
        at(self.rt, AWARDED)
        return self.client.post(f"/v1/opportunities/{self.id}/award", headers=headers)

    def confirm(self, when: datetime, headers=OFFICER):
        at(self.rt, when)
        return self.client.post(f"/v1/opportunities/{self.id}/confirmation", headers=headers)
