"""An admission reaches RabbitMQ as a `membership.admitted` event that another
service can read: through the outbox and the relay on the real broker, into a
consuming service's durable queue, read with that service's own schema of
just the fields it needs (docs/events.md)."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
import sqlalchemy as sa
from kombu import Connection
from marshmallow import EXCLUDE, Schema, fields

from services.provider_registry.domain import PRICING_LINE_NAMESPACE
from shared.events import Envelope
from shared.messaging.consumer import EventConsumer
from shared.messaging.topology import declare_consumer_topology
from tests.api.provider_registry.registry_support import MANAGER, NOW, admitted_provider
from tests.support.runtime import running, wait_until

pytestmark = pytest.mark.integration


class PricingLineAsReferralsReadsIt(Schema):
    class Meta:
        unknown = EXCLUDE

    pricing_line_id = fields.UUID(required=True)
    description = fields.String(required=True)
    unit = fields.String(required=True)
    staffing_ratio = fields.String(required=True)
    maximum_price_pence = fields.Integer(required=True, strict=True)


class AdmittedAsReferralsReadsIt(Schema):
    """What a consuming service keeps of an admission: the contract's fields only."""

    class Meta:
        unknown = EXCLUDE

    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)
    lot = fields.Integer(required=True, strict=True)
    status = fields.String(required=True)
    registration_status = fields.String(required=True)
    urn = fields.String(required=True, allow_none=True)
    pricing_lines = fields.List(fields.Nested(PricingLineAsReferralsReadsIt), required=True)
    capacity = fields.Integer(required=True, strict=True)
    ends_on = fields.Date(required=True)
    at = fields.AwareDateTime(required=True)


@pytest.fixture
def registry(service):
    runtime = service("provider_registry")
    runtime.clock = lambda: NOW
    return runtime


def _reader(runtime, handlers) -> EventConsumer:
    """Another service's consumer (named "referrals"), its inbox kept in the test's database."""
    s = runtime.settings
    consumer = EventConsumer("referrals", runtime.session_factory, runtime.inbox_table, runtime.outbox, handlers,
                             s.amqp_url, retry_delays=s.retry_delays)
    with Connection(s.amqp_url) as connection:  # bound before anything is published, as when deployed
        declare_consumer_topology(connection.channel(), "referrals", list(handlers), consumer.retry_delays, False)
    return consumer


def test_admission_reaches_rabbitmq_as_an_event_another_service_reads(registry, client_for, events):
    client = client_for(registry)
    waiter = events(("dps.provider_registry", "membership.*"))
    read: list[dict] = []
    reader = _reader(registry, {"membership.admitted": lambda uow, envelope: read.append(
        AdmittedAsReferralsReadsIt().load(envelope.data))})
    reader_thread = threading.Thread(target=reader.run, daemon=True)
    reader_thread.start()
    try:
        with running(registry, consumer=False):
            provider_id = admitted_provider(client, lots=(1, 2))

            envelopes = waiter.wait_for(lambda e: e["type"] == "membership.admitted", count=2)
            wait_until(lambda: len(read) == 2, message="the other service read both admissions")
            wait_until(lambda: _unpublished(registry) == 0, message="the relay marked the outbox published")
    finally:
        reader.stop()
        reader_thread.join(timeout=15)

    envelope = Envelope.from_json(json.dumps(envelopes[0]))
    assert (envelope.producer, envelope.version) == ("provider_registry", 1)
    assert sorted(r["lot"] for r in read) == [1, 2]
    admission = next(r for r in read if r["lot"] == 1)
    assert admission["provider_id"] == provider_id
    assert (admission["status"], admission["registration_status"], admission["urn"]) == (
        "admitted", "registered_school", "123456")
    assert admission["capacity"] == 6 and str(admission["ends_on"]) == "2029-02-23"
    line = admission["pricing_lines"][0]
    assert line["pricing_line_id"] == uuid.uuid5(PRICING_LINE_NAMESPACE, f"{provider_id}:1:group place per week")
    assert line["maximum_price_pence"] == 45_000


def test_suspension_reaches_rabbitmq_after_the_admission(registry, client_for, events):
    client = client_for(registry)
    waiter = events(("dps.provider_registry", "#"))
    with running(registry, consumer=False):
        provider_id = admitted_provider(client)
        client.post(f"/v1/providers/{provider_id}/lots/1/suspension", headers=MANAGER,
                    json={"reason": "safeguarding concern"})
        waiter.wait_for(lambda e: e["type"] == "membership.suspended")
    types = [e["type"] for e in waiter.received
             if e["data"]["provider_id"] == str(provider_id) and e["type"].startswith("membership.")]
    assert types == ["membership.admitted", "membership.suspended"]


def _unpublished(runtime) -> int:
    table = runtime.outbox_table
    with runtime.engine.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(table).where(table.c.published_at.is_(None))
                         ).scalar_one()
