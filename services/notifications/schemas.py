"""Request and response bodies of the notifications API (marshmallow)."""

from marshmallow import Schema, fields, validate

from services.notifications.domain import TEMPLATES, DeliveryStatus
from shared.paging import Paging

_TEMPLATE = validate.OneOf(sorted(TEMPLATES))


class DeliveryQuery(Paging):
    status = fields.String(validate=validate.OneOf([s.value for s in DeliveryStatus]))
    recipient_key = fields.String(validate=validate.Length(min=1, max=100),
                                  metadata={"description": "a provider's id, team:<code>, or manager"})


class DeliverySchema(Schema):
    """A line of the delivery log: who, which message, when and how it went (never the body)."""

    delivery_id = fields.UUID()
    event_id = fields.UUID()
    event_type = fields.String()
    template = fields.String()
    audience = fields.String(validate=validate.OneOf(["provider", "officer", "manager"]))
    recipient_key = fields.String()
    address = fields.String()
    status = fields.String(validate=validate.OneOf([s.value for s in DeliveryStatus]))
    attempts = fields.Integer()
    created_at = fields.AwareDateTime()
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    sent_at = fields.AwareDateTime(allow_none=True)
    failed_at = fields.AwareDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)


class MessageSchema(Schema):
    template = fields.String()
    audience = fields.String()
    subject = fields.String()
    optional = fields.Boolean(metadata={"description": "may a person turn it off"})
    why_required = fields.String(allow_none=True)


class PreferencesSchema(Schema):
    recipient_key = fields.String(dump_only=True)
    turned_off = fields.List(fields.String(validate=_TEMPLATE), required=True,
                             metadata={"description": "the optional messages not to send"})
