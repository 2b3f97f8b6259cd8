"""The AsyncAPI 3.0 document of a service's exchange, generated from the code
that publishes on it, so it cannot drift from what is sent:

- the types, their producer, version and meaning from `shared/catalogue.py`;
- each event's `data` from the marshmallow schema the producer dumps it with
  (`services/<service>/messages.py` `DATA_SCHEMAS`, given to the service's
  definition as `published`), turned into JSON Schema by apispec's converter;
- the envelope from `shared/events.EnvelopeSchema`;
- the exchange (its type, durability and arguments) from
  `shared/messaging/topology.py`.

One document per exchange `dps.<service>`: a channel per routing key (the
event type) on the exchange, the message of each with its payload (the
envelope whose `data` is the event's) and an example built from that payload
schema, and the queue a reader should declare (durable, bound to every routing
key; `x-bindings` lists them, `x-exchange-arguments` the arguments an
exchange must be declared with).  Served at `GET /asyncapi.json`, written to
`docs/asyncapi/<service>.json` by `dps asyncapi`.

A field class the converter does not know describes itself with a
`json_schema` attribute (a JSON Schema dict); a field that passes on data
another schema already dumped names that schema: `metadata={"dumped_by": Schema}`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from pathlib import Path

from apispec import APISpec
from apispec.ext.marshmallow import OpenAPIConverter
from marshmallow import Schema, fields

from shared.catalogue import CATALOGUE, exchange_for
from shared.events import EnvelopeSchema
from shared.messaging.topology import service_exchange

ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING = "0.3.0"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "asyncapi"
EXAMPLE_NAMESPACE = uuid.UUID("0c5e2a7e-6f4b-4d1a-9f3e-2a9b7c1d0e55")  # example ids: stable across runs
EXAMPLE_DATE = "2026-09-07"
EXAMPLE_TIME = "2026-09-07T09:30:00+00:00"


class _Converter(OpenAPIConverter):
    """apispec's marshmallow -> JSON Schema (OpenAPI 3.1 = JSON Schema), nested schemas inline."""

    def __init__(self) -> None:
        spec = APISpec("events", "1", openapi_version="3.1.0")
        super().__init__("3.1.0", lambda schema: None, spec)
        self.add_attribute_function(_self_described)

    def schema2jsonschema(self, schema):
        described = super().schema2jsonschema(schema)
        # A producer may add fields and a reader ignores what it does not know: never closed.
        described.pop("additionalProperties", None)
        doc = (schema if isinstance(schema, type) else type(schema)).__dict__.get("__doc__")
        if doc:
            described.setdefault("description", " ".join(doc.split()))
        return described


def _self_described(self: _Converter, field: fields.Field, ret: dict) -> dict:
    dumped_by = field.metadata.get("dumped_by")
    if dumped_by is not None:
        nested = self.resolve_nested_schema(dumped_by)
        return {"anyOf": [nested, {"type": "null"}]} if field.allow_none else nested
    described = dict(getattr(field, "json_schema", None) or {})
    if described and field.allow_none:
        if "type" in described:
            described["type"] = [described["type"], "null"]
        if "enum" in described:
            described["enum"] = [*described["enum"], None]
    return described


def json_schema(schema: type[Schema] | Schema) -> dict:
    """A marshmallow schema as JSON Schema (draft 7 / 2020-12 compatible)."""
    return _Converter().schema2jsonschema(schema)


# --- examples ------------------------------------------------------------------------

def example(schema: dict, path: str = "") -> object:  # noqa: PLR0911 - one case per JSON type
    """A value valid against `schema` (the JSON Schema this module writes), stable across runs."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return next(v for v in schema["enum"] if v is not None)
    if "anyOf" in schema:
        return example(next(s for s in schema["anyOf"] if s.get("type") != "null"), path)
    types = schema.get("type")
    kind = next((t for t in types if t != "null"), None) if isinstance(types, list) else types
    if kind is None and "properties" in schema:
        kind = "object"
    match kind:
        case "object":
            if "properties" not in schema:
                values = schema.get("additionalProperties")
                return {"key": example(values, f"{path}.key")} if isinstance(values, dict) else {}
            return {name: example(sub, f"{path}.{name}") for name, sub in schema["properties"].items()}
        case "array":
            return [example(schema.get("items", {}), f"{path}[]")]
        case "integer":
            return schema.get("minimum", 1)
        case "number":
            return schema.get("minimum", 12.5)
        case "boolean":
            return False
        case "string":
            return _string(schema, path)
    return None  # any JSON value


def _string(schema: dict, path: str) -> str:
    match schema.get("format"):
        case "uuid":
            return str(uuid.uuid5(EXAMPLE_NAMESPACE, path))
        case "date":
            return EXAMPLE_DATE
        case "date-time":
            return EXAMPLE_TIME
        case "email":
            return "name@example.org"
    text = path.rsplit(".", 1)[-1].strip("[]") or "text"
    return text.ljust(schema.get("minLength", 0), "x")


# --- the document --------------------------------------------------------------------

def _envelope(type_: str, data: dict) -> dict:
    spec = CATALOGUE[type_]
    envelope = json_schema(EnvelopeSchema)
    envelope["description"] = ("The envelope every message on the wire is (shared/events.py); "
                               "`data` is this event's.")
    properties = envelope["properties"]
    properties["type"] = {"type": "string", "const": type_}
    properties["version"] = {"type": "integer", "const": spec.version}
    properties["producer"] = {"type": "string", "const": spec.producer}
    properties["data"] = data
    return envelope


def _exchange(service: str) -> dict:
    exchange = service_exchange(service)
    return {"name": exchange.name, "type": exchange.type, "durable": exchange.durable,
            "autoDelete": exchange.auto_delete, "vhost": "/"}


def reader_queue_name(document: dict, reader: str) -> str:
    """The queue a reader named `reader` declares, from a document this module wrote."""
    return document["channels"]["reader"]["address"].replace("{reader}", reader)


def document(service: str, published: Mapping[str, type[Schema]], title: str = "") -> dict:
    """The AsyncAPI 3.0 document of `dps.<service>`: every type the catalogue says
    `service` publishes, with the schema of its data from `published`."""
    types = sorted(name for name, spec in CATALOGUE.items() if spec.producer == service)
    if set(types) != set(published):
        raise ValueError(f"{service} publishes {sorted(published)}, the catalogue says {types}")
    exchange_name = exchange_for(service)
    exchange = service_exchange(service)
    route = {"is": "routingKey", "exchange": _exchange(service), "bindingVersion": AMQP_BINDING,
             "x-exchange-arguments": dict(exchange.arguments or {})}
    channels: dict = {}
    operations: dict = {}
    messages: dict = {}
    for type_ in types:
        spec = CATALOGUE[type_]
        payload = _envelope(type_, json_schema(published[type_]))
        messages[type_] = {
            "name": type_, "title": type_, "summary": spec.meaning, "contentType": "application/json",
            "correlationId": {"description": "joins the events one request caused",
                              "location": "$message.payload#/correlation_id"},
            "payload": payload,
            "bindings": {"amqp": {"messageType": type_, "bindingVersion": AMQP_BINDING}},
            "examples": [{"name": type_.replace(".", "_"), "summary": f"a {type_} event (values made up)",
                          "payload": example(payload, type_)}],
        }
        channels[type_] = {
            "address": type_, "title": f"{type_} on {exchange_name}",
            "description": f"Routing key `{type_}` on the topic exchange `{exchange_name}`.",
            "messages": {type_: {"$ref": f"#/components/messages/{type_}"}},
            "bindings": {"amqp": route},
        }
        operations[f"publish.{type_}"] = {
            "action": "send", "title": f"{service} publishes {type_}",
            "summary": spec.meaning,
            "description": "From the transactional outbox, with publisher confirms: at least once, "
                           "only if the change it reports was committed.",
            "channel": {"$ref": f"#/channels/{type_}"},
            "messages": [{"$ref": f"#/channels/{type_}/messages/{type_}"}],
            "bindings": {"amqp": {"deliveryMode": 2, "timestamp": True, "bindingVersion": AMQP_BINDING}},
        }
    channels["reader"] = {
        "address": f"{{reader}}.{exchange_name}",
        "title": f"A reader's own queue on {exchange_name}",
        "description": (f"What a system outside the DPS declares to read `{exchange_name}`: a durable queue "
                        "of its own (never one of the DPS's `*.events` queues), bound to the exchange with "
                        "each routing key it reads (`x-bindings`: all of them). Declare it, and the exchange "
                        "with `x-exchange-arguments` (or passively), before the events you need are published: "
                        "RabbitMQ keeps messages only for queues that exist. Store each envelope's `id` and "
                        "ignore a second copy (delivery is at least once); acknowledge after storing."),
        "parameters": {"reader": {"description": "your system's name, e.g. `reporting`",
                                  "examples": ["reporting"]}},
        "messages": {t: {"$ref": f"#/components/messages/{t}"} for t in types},
        "bindings": {"amqp": {
            "is": "queue", "bindingVersion": AMQP_BINDING,
            "queue": {"name": f"{{reader}}.{exchange_name}", "durable": True, "exclusive": False,
                      "autoDelete": False, "vhost": "/"},
            "x-bindings": [{"exchange": exchange_name, "routingKey": t} for t in types],
        }},
    }
    operations["read"] = {
        "action": "receive", "title": f"A reader reads {exchange_name}",
        "channel": {"$ref": "#/channels/reader"},
        "messages": [{"$ref": f"#/channels/reader/messages/{t}"} for t in types],
        "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING}},
    }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": f"{exchange_name}: {title or service} events",
            "version": "1.0.0",
            "description": (f"The events the {service} service publishes on the topic exchange `{exchange_name}` "
                            "(routing key = event type), generated from the code (shared/asyncapi.py). "
                            "Ids are UUID strings, money integer pence, dates YYYY-MM-DD, times ISO 8601 UTC "
                            "with offset. A producer may add fields: read what you need, ignore the rest; "
                            "a field is only removed with a new `version`."),
        },
        "servers": {"rabbitmq": {
            "host": "rabbitmq:5672", "protocol": "amqp", "protocolVersion": "0.9.1",
            "description": "The council's RabbitMQ (the services' DPS_AMQP_URL).",
        }},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render(document_: dict) -> str:
    """The document as the committed file holds it."""
    return json.dumps(document_, indent=2, ensure_ascii=False) + "\n"


def document_for(service: str) -> dict:
    from shared.service import load_definition

    definition = load_definition(service)
    return document(service, definition.published, definition.title)


def write(services, directory: Path = DOCS) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for service in services:
        path = directory / f"{service}.json"
        path.write_text(render(document_for(service)))
        written.append(path)
    return written
