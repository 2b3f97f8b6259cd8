"""The AsyncAPI 3.0 documents of the four exchanges: generated from the code,
valid against the AsyncAPI specification's own JSON Schema (offline, the copy
in tests/contracts), every example valid against its message's payload, and
the committed docs/asyncapi/*.json exactly what the code generates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker

from shared import asyncapi
from shared.catalogue import CATALOGUE, SERVICES
from shared.cli import main as dps
from shared.events import Envelope
from shared.messaging.topology import service_exchange

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"
SPEC = json.loads((CONTRACTS / "asyncapi-3.0.0.json").read_text())


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    return {service: asyncapi.document_for(service) for service in SERVICES}


@pytest.mark.parametrize("service", SERVICES)
def test_each_document_is_valid_asyncapi_3(documents, service):
    Draft7Validator.check_schema(SPEC)
    errors = sorted(Draft7Validator(SPEC).iter_errors(documents[service]), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:10])
    assert documents[service]["asyncapi"] == "3.0.0"


def test_the_specification_schema_rejects_a_broken_document(documents):
    """The check above is not vacuous: a channel with a field the specification does not have is refused."""
    broken = json.loads(json.dumps(documents["tracking"]))
    broken["channels"]["placement.started"]["routing"] = "placement.started"
    assert list(Draft7Validator(SPEC).iter_errors(broken))


@pytest.mark.parametrize("service", SERVICES)
def test_every_type_the_catalogue_gives_a_producer_is_on_its_exchange(documents, service):
    document = documents[service]
    produced = {name for name, spec in CATALOGUE.items() if spec.producer == service}
    assert set(document["components"]["messages"]) == produced
    assert {c["address"] for name, c in document["channels"].items() if name != "reader"} == produced
    exchange = service_exchange(service)
    for type_ in produced:
        amqp = document["channels"][type_]["bindings"]["amqp"]
        assert amqp["is"] == "routingKey"
        assert amqp["exchange"] == {"name": f"dps.{service}", "type": "topic", "durable": True,
                                    "autoDelete": False, "vhost": "/"}
        assert amqp["x-exchange-arguments"] == {"alternate-exchange": f"dps.{service}.unrouted"} == \
            exchange.arguments
        payload = document["components"]["messages"][type_]["payload"]
        assert payload["properties"]["type"]["const"] == type_
        assert payload["properties"]["version"]["const"] == CATALOGUE[type_].version
    reader = document["channels"]["reader"]["bindings"]["amqp"]
    assert reader["queue"]["durable"] is True and reader["queue"]["autoDelete"] is False
    assert {(b["exchange"], b["routingKey"]) for b in reader["x-bindings"]} == \
        {(f"dps.{service}", t) for t in produced}
    assert asyncapi.reader_queue_name(document, "reporting") == f"reporting.dps.{service}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_example_is_valid_against_its_payload_and_is_an_envelope(documents, service):
    for type_, message in documents[service]["components"]["messages"].items():
        Draft202012Validator.check_schema(message["payload"])
        validator = Draft202012Validator(message["payload"], format_checker=FormatChecker())
        assert message["examples"], type_
        for example in message["examples"]:
            errors = list(validator.iter_errors(example["payload"]))
            assert not errors, (type_, [e.message for e in errors])
            envelope = Envelope.from_json(json.dumps(example["payload"]))  # what a DPS consumer decodes
            assert envelope.type == type_


def test_a_payload_refuses_what_the_producer_would_never_send(documents):
    message = documents["tracking"]["components"]["messages"]["placement.ended"]
    bad = json.loads(json.dumps(message["examples"][0]["payload"]))
    bad["data"]["end_reason"] = "vanished"
    del bad["data"]["placement_id"]
    assert len(list(Draft202012Validator(message["payload"]).iter_errors(bad))) == 2


def test_a_nullable_enum_accepts_null(documents):
    """outcome.recorded's next_step is null until the placement has ended."""
    message = documents["tracking"]["components"]["messages"]["outcome.recorded"]
    event = json.loads(json.dumps(message["examples"][0]["payload"]))
    event["data"]["next_step"] = None
    assert not list(Draft202012Validator(message["payload"]).iter_errors(event))
    event["data"]["next_step"] = "nowhere"
    assert list(Draft202012Validator(message["payload"]).iter_errors(event))


def test_every_property_of_every_payload_has_a_type(documents):
    """No typeless field: a reader knows what each one is (numbers, enums, nested data included)."""
    untyped = []

    def walk(schema: dict, path: str) -> None:
        for name, sub in schema.get("properties", {}).items():
            if not ({"type", "const", "enum", "anyOf"} & set(sub)):
                untyped.append(f"{path}.{name}")
            walk(sub, f"{path}.{name}")
            for option in sub.get("anyOf", []):
                walk(option, f"{path}.{name}")
            if isinstance(sub.get("items"), dict):
                walk(sub["items"], f"{path}.{name}[]")

    for service, document in documents.items():
        for type_, message in document["components"]["messages"].items():
            walk(message["payload"], f"{service}:{type_}")
    assert not untyped


@pytest.mark.parametrize("service", SERVICES)
def test_the_committed_document_is_the_generated_one(documents, service):
    """docs/asyncapi/<service>.json cannot drift: regenerate with `dps asyncapi` (or `make asyncapi`)."""
    committed = asyncapi.DOCS / f"{service}.json"
    assert committed.exists(), "run `dps asyncapi`"
    assert committed.read_text() == asyncapi.render(documents[service]), \
        f"{committed} is not what the code generates: run `dps asyncapi`"


def test_dps_asyncapi_writes_the_documents(tmp_path, documents, capsys):
    assert dps(["asyncapi", "--out", str(tmp_path)]) == 0
    for service in SERVICES:
        assert json.loads((tmp_path / f"{service}.json").read_text()) == documents[service]
    assert dps(["asyncapi", "nowhere", "--out", str(tmp_path)]) == 2
    assert "no such service: nowhere" in capsys.readouterr().err


def test_a_service_whose_schemas_miss_a_catalogue_type_has_no_document():
    with pytest.raises(ValueError, match="the catalogue says"):
        asyncapi.document("tracking", {"placement.started": dict})


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_serves_its_document_to_anyone(tmp_path, documents, service):
    """GET /asyncapi.json, public like /openapi.json: the same document as docs/asyncapi/."""
    from dataclasses import replace

    from shared.config import load_settings
    from shared.service import Runtime, load_definition
    from shared.web import create_app

    definition = load_definition(service)
    settings = replace(load_settings(service), database_url=f"sqlite:///{tmp_path}/db.sqlite3")
    client = create_app(definition, settings, Runtime(definition, settings)).test_client()
    response = client.get("/asyncapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_data(as_text=True) == (asyncapi.DOCS / f"{service}.json").read_text()


def _carrying_child_ref(documents) -> set[str]:
    return {type_ for document in documents.values() for type_, message in document["components"]["messages"].items()
            if "child_ref" in message["payload"]["properties"]["data"]["properties"]}


def test_the_documents_say_which_events_carry_child_ref_as_the_code_does(documents):
    """docs/reporting-events.md and docs/events.md name exactly the events whose data has `child_ref`."""
    carrying = _carrying_child_ref(documents)
    assert carrying == {"referral.closed", "child.corrected", "child.erased", "placement.awarded",
                        "block_place.allocated", "off_dps_exception.recorded", "off_dps_placement.approved"}
    assert not {t for t in carrying if CATALOGUE[t].producer == "tracking"}
    docs = asyncapi.DOCS.parent
    for name in ("reporting-events.md", "events.md"):
        text = (docs / name).read_text()
        [paragraph] = [p for p in text.split("\n\n") if "`child_ref`" in p and "carr" in p and "no tracking" in p]
        named = {t for t in CATALOGUE if f"`{t}`" in paragraph}
        assert named == carrying, name


def test_reporting_events_names_the_three_exchanges_the_reports_need():
    text = (asyncapi.DOCS.parent / "reporting-events.md").read_text()
    assert all(f"**`dps.{s}`**" in text for s in ("awards", "provider_registry")) and "`dps.tracking`" in text
    assert "reporting.tracking" not in text, "the reader's queue is named as the AsyncAPI documents name it"
