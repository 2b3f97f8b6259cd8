"""The event envelope every message on the wire carries."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from marshmallow import Schema, fields, validate

from shared import context
from shared.catalogue import SERVICES, event_type


class EnvelopeSchema(Schema):
    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Length(min=1, max=100))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True, format="iso")
    producer = fields.String(required=True, validate=validate.OneOf(SERVICES))
    correlation_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    causation_id = fields.String(load_default=None, allow_none=True)
    data = fields.Dict(required=True)


_SCHEMA = EnvelopeSchema()


@dataclass(frozen=True)
class Envelope:
    type: str
    data: dict
    producer: str
    version: int
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str = field(default_factory=context.current_correlation_id)
    causation_id: str | None = field(default_factory=context.causation_id.get)

    def to_json(self) -> str:
        return json.dumps(_SCHEMA.dump(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, body: bytes | str) -> Envelope:
        """Decode and validate; raises ValueError (bad JSON) or marshmallow.ValidationError."""
        loaded = _SCHEMA.load(json.loads(body))
        return cls(**loaded)


def new_event(type_: str, data: dict, producer: str, occurred_at: datetime | None = None) -> Envelope:
    """An envelope for an event of the catalogue, in the current conversation.

    `data` must already be JSON-ready (dumped by the producer's marshmallow schema).
    """
    spec = event_type(type_)
    if spec.producer != producer:
        raise ValueError(f"{type_} is published by {spec.producer}, not {producer}")
    json.dumps(data)  # fail here, inside the caller's transaction, not in the relay
    envelope = Envelope(type=type_, data=data, producer=producer, version=spec.version)
    if occurred_at is not None:
        envelope = replace(envelope, occurred_at=occurred_at)
    return envelope
