"""Tools of the resilience suite (tests/resilience): the running system seen
from outside while parts of it fail.

- `Bus`: publishes envelopes on a producer's exchange as that service would
  (persistent, with confirms), or straight onto a service's queue (a poison
  message); reads queue depths and dead letters.
- `Db`: one service's own database, read with SQLAlchemy (outbox left
  unpublished, inbox rows, effects counted), never written.
- `Api`: the public HTTP API of one service, with a bounded request time.
- Event data as each producer sends it (docs/events.md), for the consumers
  under test.
"""

from __future__ import annotations

import json
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import requests
import sqlalchemy as sa
from kombu import Connection, Producer

from shared.catalogue import event_type
from shared.events import Envelope, new_event
from shared.messaging.consumer import peek_dead_letters
from shared.messaging.topology import dead_letter_queue_name, queue_name, service_exchange
from tests.support.runtime import auth

OFFICER = auth("officer", team="exclusions", sub="officer-exclusions-1")
SECOND_OFFICER = auth("officer", team="exclusions", sub="officer-exclusions-2")
REQUEST_TIMEOUT = 15


def provider_auth(provider_id) -> dict:
    return auth("provider", provider_id=provider_id, sub=f"user-of-{provider_id}")


# -- the broker -----------------------------------------------------------------------


class Bus:
    """The test RabbitMQ as a producing service (or a careless one) sees it."""

    def __init__(self, amqp_url: str) -> None:
        self.amqp_url = amqp_url

    @contextmanager
    def _producer(self):
        with Connection(self.amqp_url, transport_options={"confirm_publish": True}) as connection:
            yield Producer(connection.channel())

    def publish(self, *envelopes: Envelope) -> list[Envelope]:
        """Each envelope on its producer's exchange, routing key = type, confirmed."""
        with self._producer() as producer:
            for envelope in envelopes:
                spec = event_type(envelope.type)
                producer.publish(envelope.to_json(), exchange=service_exchange(spec.producer),
                                 routing_key=envelope.type, content_type="application/json",
                                 content_encoding="utf-8", delivery_mode=2, message_id=str(envelope.id),
                                 type=envelope.type, declare=[service_exchange(spec.producer)])
        return list(envelopes)

    def event(self, type_: str, data: dict) -> Envelope:
        """Publish one event of the catalogue, as its producer would."""
        envelope = new_event(type_, json.loads(json.dumps(data, default=str)), event_type(type_).producer)
        self.publish(envelope)
        return envelope

    def to_queue(self, service: str, body: str | bytes, message_id: str | None = None) -> str:
        """Straight onto `<service>.events` through the default exchange."""
        message_id = message_id or str(uuid.uuid4())
        with self._producer() as producer:
            producer.publish(body, exchange="", routing_key=queue_name(service), content_type="application/json",
                             content_encoding="utf-8", delivery_mode=2, message_id=message_id)
        return message_id

    def depth(self, queue: str) -> int:
        with Connection(self.amqp_url) as connection:
            _, count, _ = connection.channel().queue_declare(queue, passive=True)
            return count

    def dead_letters(self, service: str) -> list[dict]:
        return peek_dead_letters(service, self.amqp_url, limit=500)

    def purge_dead_letters(self, service: str) -> None:
        with Connection(self.amqp_url) as connection:
            connection.channel().queue_purge(dead_letter_queue_name(service))


# -- a service's own database ---------------------------------------------------------


class Db:
    """Read-only look at one service's database (no pool: survives an outage)."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 3})

    def scalar(self, sql: str, **params):
        with self.engine.connect() as connection:
            return connection.execute(sa.text(sql), params).scalar()

    def rows(self, sql: str, **params) -> list:
        with self.engine.connect() as connection:
            return list(connection.execute(sa.text(sql), params).mappings())

    def count(self, table: str, where: str = "true", **params) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {table} WHERE {where}", **params))

    def unpublished(self) -> int:
        """Outbox rows the relay has not published yet."""
        return self.count("outbox", "published_at IS NULL")

    def inbox(self, event_ids) -> int:
        """How many of these events the consumer recorded (each at most once: the primary key)."""
        ids = [str(i) for i in event_ids]
        return self.count("inbox", "CAST(event_id AS text) = ANY(:ids)", ids=ids)

    def answers(self) -> bool:
        try:
            self.scalar("SELECT 1")
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def close(self) -> None:
        self.engine.dispose()


def databases(system) -> dict[str, Db]:
    return {name: Db(service.database_url) for name, service in system.services.items()}


# -- HTTP -----------------------------------------------------------------------------


class Api:
    """One service's public API; every request has a bounded time."""

    def __init__(self, base_url: str, timeout: float = REQUEST_TIMEOUT) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.session = requests.Session()

    def request(self, method: str, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return self.session.request(method, self.base_url + path, headers=headers, **kwargs)

    def get(self, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
        return self.request("GET", path, headers, **kwargs)

    def post(self, path: str, body: dict | None = None, headers: dict | None = None, **kwargs) -> requests.Response:
        return self.request("POST", path, headers, json=body if body is not None else {}, **kwargs)

    def put(self, path: str, body: dict, headers: dict | None = None, **kwargs) -> requests.Response:
        return self.request("PUT", path, headers, json=body, **kwargs)


def apis(system) -> dict[str, Api]:
    return {name: Api(system.url(name)) for name in system.services}


def expect(response: requests.Response, status: int) -> dict | list:
    assert response.status_code == status, (response.request.method, response.url, response.status_code,
                                            response.text[:2000])
    return response.json() if response.content else {}


# -- event data as the producers send it (docs/events.md) ---------------------------

PRICING_LINE_NAMESPACE = uuid.UUID("6f1f6c0e-3c2a-4a0e-9a57-5d1c0e6b7a10")


def now() -> datetime:
    return datetime.now(UTC)


def line_id(provider_id, lot: int, description: str = "Group place per week") -> uuid.UUID:
    return uuid.uuid5(PRICING_LINE_NAMESPACE, f"{provider_id}:{lot}:{description.casefold()}")


def admitted(provider_id, lot: int = 2, *, at: datetime | None = None, capacity: int = 4, maximum: int = 5_000,
             name: str | None = None) -> dict:
    """membership.admitted, as provider_registry sends it (one pricing line)."""
    return {"provider_id": str(provider_id), "provider_name": name or f"Provider {str(provider_id)[:8]}",
            "lot": lot, "status": "admitted", "registration_status": "registered_school", "urn": "100001",
            "pricing_lines": [{"pricing_line_id": str(line_id(provider_id, lot)), "description": "Group place per week",
                               "unit": "hour", "staffing_ratio": "1:4", "maximum_price_pence": maximum}],
            "capacity": capacity, "ends_on": (date.today() + timedelta(days=3 * 365)).isoformat(),
            "at": (at or now()).isoformat()}


def status_changed(provider_id, lot: int = 2, *, status: str = "suspended", at: datetime | None = None,
                   reason: str = "Insurance certificate expired", name: str | None = None) -> dict:
    """membership.suspended / reinstated ("admitted") / removed."""
    return {"provider_id": str(provider_id), "provider_name": name or f"Provider {str(provider_id)[:8]}",
            "lot": lot, "status": status, "reason": reason, "at": (at or now()).isoformat()}


def closed_offer(provider_id, lot: int = 2, unit_price: int = 3_000, *, units: float = 15, weeks: int = 12,
                 start: date | None = None) -> dict:
    return {"offer_id": str(uuid.uuid4()), "provider_id": str(provider_id),
            "pricing_line_id": str(line_id(provider_id, lot)), "unit_price_pence": unit_price,
            "units_per_week": units, "weeks": weeks, "total_pence": int(unit_price * units * weeks),
            "proposed_start": (start or date.today() + timedelta(days=14)).isoformat(), "staffing_ratio": "1:4",
            "submitted_at": (now() - timedelta(days=1)).isoformat(), "meets_needs": True,
            "assessment_reason": "meets the needs"}


def referral_closed(referral_id, offers: list[dict], *, lot: int = 2, team: str = "exclusions",
                    at: datetime | None = None, child_ref=None) -> dict:
    """referral.closed, as referrals sends it once the assessment is complete."""
    return {"referral_id": str(referral_id), "lot": lot, "team": team, "child_ref": str(child_ref or uuid.uuid4()),
            "reason_for_ap": "permanent_exclusion", "hours_per_week": 15, "full_time": False, "ehcp": False,
            "looked_after": False, "start_date": (date.today() + timedelta(days=14)).isoformat(),
            "expected_weeks": 12, "offers": offers, "declines": [], "at": (at or now()).isoformat()}


def placement_awarded(provider_id, *, lot: int = 2, placement_id=None, referral_id=None, at: datetime | None = None,
                      start: date | None = None) -> dict:
    """placement.awarded, as awards sends it."""
    return {"award_id": str(uuid.uuid4()), "placement_id": str(placement_id or uuid.uuid4()),
            "referral_id": str(referral_id or uuid.uuid4()), "offer_id": str(uuid.uuid4()),
            "provider_id": str(provider_id), "lot": lot, "team": "exclusions", "child_ref": str(uuid.uuid4()),
            "reason_for_ap": "permanent_exclusion", "pricing_line_id": str(line_id(provider_id, lot)),
            "unit_price_pence": 3_000, "units_per_week": 15, "hours_per_week": 15, "weeks": 12,
            "total_pence": 540_000, "start_date": (start or date.today() + timedelta(days=14)).isoformat(),
            "full_time": False, "override_reason": None, "awarded_by": "officer-exclusions-1",
            "at": (at or now()).isoformat()}


def placement_ended(placement_id, provider_id, *, lot: int = 2, at: datetime | None = None) -> dict:
    """placement.ended, as tracking sends it."""
    return {"placement_id": str(placement_id), "referral_id": str(uuid.uuid4()), "provider_id": str(provider_id),
            "lot": lot, "team": "exclusions", "started_on": date.today().isoformat(),
            "ended_on": date.today().isoformat(), "end_reason": "reintegration",
            "next_step": "mainstream_school", "at": (at or now()).isoformat()}


# -- waiting --------------------------------------------------------------------------


def eventually(check, timeout: float = 30, interval: float = 0.2, message: str = "condition"):
    """Run `check` (which asserts) until it passes; re-raise its last failure after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (AssertionError, sa.exc.SQLAlchemyError, requests.RequestException) as exc:
            if time.monotonic() >= deadline:
                raise AssertionError(f"{message} not met within {timeout}s: {exc}") from exc
        time.sleep(interval)
