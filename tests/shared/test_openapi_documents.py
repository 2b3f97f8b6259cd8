"""Each service's OpenAPI document says everything an integrator needs (issue
#21), checked offline on the documents the apps serve: valid OpenAPI 3.0
(openapi-spec-validator), an operationId and examples for every operation,
each example valid against its schema, a type for every property, lots as the
catalogue's lots, the errors each operation can answer with the one error
body, CSV and PNG with their content types, and `Allow` on every 405."""

from __future__ import annotations

import re
from functools import cache

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from shared.catalogue import LOTS, SERVICES

METHODS = ("get", "put", "post", "patch", "delete")


@cache
def _documents() -> dict[str, dict]:
    from tests.support.security import offline_documents

    return offline_documents()


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method], item.get("parameters", []) + item[method].get("parameters", [])


def _schemas_in(node, where=""):
    """Every (where, schema-with-properties) in a document part."""
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            yield where, node
        for key, value in node.items():
            yield from _schemas_in(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _schemas_in(value, f"{where}[{index}]")


@pytest.mark.parametrize("service", SERVICES)
def test_the_document_is_valid_openapi(service):
    validate(_documents()[service])


def test_every_operation_has_a_unique_operation_id_named_for_its_service():
    seen: dict[str, str] = {}
    for service, document in _documents().items():
        for path, method, operation, _ in _operations(document):
            operation_id = operation.get("operationId")
            assert operation_id and re.fullmatch(rf"{service}_[a-z0-9_]+_{method}", operation_id), (
                service, method, path, operation_id)
            assert operation_id not in seen, (operation_id, seen.get(operation_id), f"{method} {path}")
            seen[operation_id] = f"{service} {method} {path}"


def _check_example(document: dict, schema: dict, value, where: str) -> None:
    wrapped = {**schema, "components": document["components"]} if "$ref" not in schema else {
        "$ref": schema["$ref"], "components": document["components"]}
    errors = sorted(OAS30Validator(wrapped).iter_errors(value), key=str)
    assert not errors, f"{where}: example {value!r} breaks its schema: {errors[0].message}"


def test_every_operation_has_examples_of_its_body_and_its_responses_valid_against_their_schemas():
    for service, document in _documents().items():
        for path, method, operation, _ in _operations(document):
            where = f"{service} {method.upper()} {path}"
            for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
                assert "example" in media, f"{where}: no request example ({media_type})"
                _check_example(document, media["schema"], media["example"], f"{where} request")
            shown = 0
            for code, response in operation["responses"].items():
                if "$ref" in response:
                    response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
                for media_type, media in response.get("content", {}).items():
                    assert "schema" in media, f"{where} {code}: no schema ({media_type})"
                    if media["schema"].get("format") == "binary":
                        shown += 1  # a PNG: its bytes are no example a document can hold
                        continue
                    assert "example" in media, f"{where} {code}: no example ({media_type})"
                    shown += 1
                    if media_type == "application/json":
                        _check_example(document, media["schema"], media["example"], f"{where} {code}")
            assert shown, f"{where}: no response example"


def test_every_property_has_a_type():
    untyped = []
    for service, document in _documents().items():
        for where, schema in _schemas_in(document):
            for name, prop in schema["properties"].items():
                if not any(key in prop for key in ("type", "$ref", "allOf", "oneOf", "anyOf")):
                    untyped.append(f"{service} {where}.{name}: {prop}")
    assert not untyped, "\n".join(untyped)


def test_a_lot_is_one_of_the_catalogues_lots_wherever_it_is_named():
    wrong = []
    for service, document in _documents().items():
        named = [(f"{where}.lot", schema["properties"]["lot"]) for where, schema in _schemas_in(document)
                 if "lot" in schema["properties"]]
        named += [(f"{method} {path} {p['in']} lot", p["schema"]) for path, method, _, parameters
                  in _operations(document) for p in parameters if p["name"] == "lot"]
        for where, schema in named:
            if "$ref" in schema:
                continue
            if (schema.get("minimum"), schema.get("maximum")) != (min(LOTS), max(LOTS)):
                wrong.append(f"{service} {where}: {schema}")
    assert not wrong, "\n".join(wrong)


def test_the_errors_each_operation_can_answer_are_documented_with_the_one_error_body():
    for service, document in _documents().items():
        responses = document["components"]["responses"]
        for path, method, operation, parameters in _operations(document):
            where = f"{service} {method.upper()} {path}"
            codes = set(operation["responses"])
            assert "default" not in codes, where
            expected = {"503"}
            if operation.get("security"):
                expected |= {"401", "403"}
            if "requestBody" in operation:
                expected |= {"400", "413", "422"}
            if any(p["in"] == "query" for p in parameters):
                expected |= {"414", "422"}
            if any(p["in"] == "path" for p in parameters):
                expected.add("404")
            if method != "get":
                expected.add("409")
            assert expected <= codes, f"{where}: {sorted(expected - codes)} undocumented"
            for code in codes - {"200", "201", "204", "414"}:  # 414: the web server's own page
                response = operation["responses"][code]
                if "$ref" in response:
                    response = responses[response["$ref"].rsplit("/", 1)[-1]]
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (where, code, schema)


def test_csv_and_png_responses_say_their_content_type():
    documents = _documents()
    calloffs = documents["awards"]["paths"]["/v1/reports/call-offs.csv"]["get"]["responses"]["200"]["content"]
    assert list(calloffs) == ["text/csv"]
    chart = documents["tracking"]["paths"]["/v1/reports/chart.png"]["get"]["responses"]["200"]["content"]
    assert chart == {"image/png": {"schema": {"type": "string", "format": "binary"}}}
    spend = documents["tracking"]["paths"]["/v1/reports/committed-spend"]["get"]["responses"]["200"]["content"]
    assert set(spend) == {"application/json", "text/csv"}
    ocds = documents["awards"]["paths"]["/v1/ocds/release-package"]["get"]["responses"]["200"]["content"]
    assert list(ocds) == ["application/json"]


@pytest.mark.parametrize("service", SERVICES)
def test_a_405_says_which_methods_are_allowed(service):
    from shared.web import create_app
    from tests.support.runtime import build_runtime

    runtime = build_runtime(service, "sqlite://", "amqp://unused//", migrate=False)
    try:
        app = create_app(runtime.definition, runtime.settings, runtime)
        response = app.test_client().delete("/v1/teams")
        assert response.status_code == 405
        assert set(response.headers["Allow"].split(", ")) >= {"GET"}, response.headers
        assert response.get_json()["code"] == 405
    finally:
        runtime.engine.dispose()


def test_what_is_an_enum_is_documented_as_one():
    from services.provider_registry.domain import DocumentKind
    from services.tracking.domain import PlacementStatus

    registry = _documents()["provider_registry"]["components"]["schemas"]
    kinds = [k.value for k in DocumentKind]
    assert registry["Document"]["properties"]["kind"]["enum"] == kinds
    assert registry["DocumentOut"]["properties"]["kind"]["enum"] == kinds
    tracking = _documents()["tracking"]["components"]["schemas"]
    assert tracking["Placement"]["properties"]["status"]["enum"] == [s.value for s in PlacementStatus]
    assert None in tracking["Placement"]["properties"]["end_reason"]["enum"]  # nullable: null is a value
