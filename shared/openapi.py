"""The finishing of every service's OpenAPI document, in one place (issue #21).

flask-smorest writes the document from the schemas and decorators; this adds,
the same way for every operation of every service, what an integrator needs
and the decorators do not say:

- an `operationId`: `<service>_<blueprint>_<endpoint>_<method>`, snake case,
  unique in the document (the Flask endpoint names the view);
- the errors the operation can answer, each with the one error body
  (`shared.errors`, "Error"): 401 and 403 when a token is needed, 400, 413 and
  422 when it reads a JSON body, 422 when it reads a query (and 414, the web
  server's, for a query too long to read), 404 when its path
  names something, 409 when it changes something, 503 when the database is
  away, and any other the operation declares (`@blp.alt_response(409, ...)`
  on a read refused by state); no catch-all `default` (a 500 is a bug, not
  part of the contract);
- the content type of each success: JSON unless the view says otherwise
  (`content_type=` on `@blp.response`: `text/csv`, `image/png`), and a CSV
  alternative where a report takes `format=csv`;
- null among the values of a nullable enum;
- lots as the catalogue's lots (1 to 4) wherever a path, query or body names a
  `lot` (Flask's `<int:lot>` says only "minimum 0");
- an example of every request body and every response, built from the schema
  (a field's own `example` metadata wins) and valid against it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from shared.catalogue import LOTS

METHODS = ("get", "put", "post", "patch", "delete")
WRITES = ("put", "post", "patch", "delete")

ERRORS: dict[str, tuple[str, dict]] = {
    "400": ("The body is not JSON the service reads (malformed, or nested too deep)",
            {"code": 400, "status": "Bad Request", "message": "the body is not valid JSON: JSONDecodeError"}),
    "401": ("Missing, expired or invalid token",
            {"code": 401, "status": "Unauthorized", "message": "missing bearer token"}),
    "403": ("The token lacks the role, or the record is not the caller's",
            {"code": 403, "status": "Forbidden", "message": "requires the role manager",
             "errors": {"headers": {"roles": ["requires the role manager"]}}}),
    "404": ("Nothing with that id (or not one the caller may see)",
            {"code": 404, "status": "Not Found", "message": "no such record"}),
    "409": ("The record's state does not allow this, or a value clashes with what is stored",
            {"code": 409, "status": "Conflict", "conflict": "state", "message": "the record is closed"}),
    "413": ("The body is larger than DPS_MAX_BODY_BYTES",
            {"code": 413, "status": "Request Entity Too Large",
             "message": "the request body is larger than 1048576 bytes"}),
    "414": ("The request line (path and query) is longer than the web server takes (gunicorn: 4094 bytes); "
            "the server answers it, with its own page, before the service sees it", None),
    "422": ("A field breaks a rule: `errors` names it, by where it was sent (json, query, path)",
            {"code": 422, "status": "Unprocessable Entity", "message": "invalid input",
             "errors": {"json": {"field": ["Missing data for required field."]}}}),
    "503": ("The service's database is unavailable; try again shortly",
            {"code": 503, "status": "Service Unavailable",
             "message": "the service's database is unavailable; try again shortly"}),
}

BINARY = {"type": "string", "format": "binary"}
EXAMPLE_ID = "3f0c4a8e-1b7d-4c55-9a43-0f2b9d1e6a11"
EXAMPLE_STRINGS = {
    "uuid": EXAMPLE_ID, "date": "2026-09-07", "date-time": "2026-09-07T09:30:00+00:00",
    "email": "referrals@council.example.org", "url": "https://provider.example.org/dps/webhook",
    "uri": "https://provider.example.org/dps/webhook", "decimal": "0.5", "binary": "",
}


def finish(document: dict, app) -> dict:
    """The document `app` serves: flask-smorest's, finished (a new dict; the spec is not changed)."""
    document = copy.deepcopy(document)
    service = app.extensions["dps"].definition.name
    components = document.setdefault("components", {})
    responses = components.setdefault("responses", {})
    for code, (description, example) in ERRORS.items():
        responses[_error_name(code)] = {"description": description} if example is None else {
            "description": description, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}, "example": example}}}
    for name in ("DEFAULT_ERROR", "UNPROCESSABLE_ENTITY"):
        responses.pop(name, None)
    endpoints = _endpoints(app)
    for path, item in document.get("paths", {}).items():
        shared_parameters = item.get("parameters", [])
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            endpoint = endpoints.get((path, method))
            operation.setdefault("operationId", _operation_id(service, endpoint, path, method))
            parameters = shared_parameters + operation.get("parameters", [])
            _successes(operation, _view(app, endpoint, method), parameters)
            _errors(operation, method, parameters)
        for parameter in shared_parameters:
            _lot(parameter.get("name"), parameter.get("schema"))
    for schema in components.get("schemas", {}).values():
        for name, prop in (schema.get("properties") or {}).items():
            _lot(name, prop)
    for item in document.get("paths", {}).values():
        for method in METHODS:
            for parameter in (item.get(method) or {}).get("parameters", []):
                _lot(parameter.get("name"), parameter.get("schema"))
    _null_in_enums(document)
    _examples(document)
    return document


def _null_in_enums(node) -> None:
    """A nullable enum lists null among its values (OpenAPI 3.0.3: `enum` is checked before `nullable`)."""
    if isinstance(node, dict):
        if node.get("nullable") and isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"].append(None)
        for value in node.values():
            _null_in_enums(value)
    elif isinstance(node, list):
        for value in node:
            _null_in_enums(value)


def _error_name(code: str) -> str:
    return "Error" + code


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).replace("-", "_").replace(".", "_").lower()


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _endpoints(app) -> dict[tuple[str, str], str]:
    found = {}
    for rule in app.url_map.iter_rules():
        for method in rule.methods or ():
            found.setdefault((_openapi_path(rule.rule), method.lower()), rule.endpoint)
    return found


def _operation_id(service: str, endpoint: str | None, path: str, method: str) -> str:
    if endpoint is None:  # not a Flask rule (never so for a served operation)
        endpoint = re.sub(r"[{}]", "", path).strip("/").replace("/", "_")
    blueprint, _, view = endpoint.rpartition(".")
    parts = [service, blueprint, view, method]
    return "_".join(_snake(p) for p in parts if p)


def _view(app, endpoint: str | None, method: str):
    view = app.view_functions.get(endpoint) if endpoint else None
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, method, None) if view_class is not None else view


def _declared(view, code: str) -> tuple[str | None, Any]:
    """The content type and example the view's `@blp.response` gives for `code`."""
    apidoc = getattr(view, "_apidoc", None) or {}
    for response in (apidoc.get("response") or {}).get("responses", {}).get(int(code), []):
        if isinstance(response, Mapping) and response.get("content_type"):
            return response["content_type"], response.get("example")
    return None, None


def _successes(operation: dict, view, parameters: list[dict]) -> None:
    csv_too = any(p.get("in") == "query" and p.get("name") == "format"
                  and "csv" in (p.get("schema") or {}).get("enum", ()) for p in parameters)
    for code, response in operation.get("responses", {}).items():
        if not code.startswith("2") or code == "204" or "$ref" in response:
            continue
        content = response.setdefault("content", {})
        declared, given = _declared(view, code)
        if declared and declared != "application/json":
            media = content.setdefault(declared, {})
            media.setdefault("schema", {"type": "string"} if declared.startswith("text/") else BINARY)
            if given is not None:
                media.setdefault("example", given)
        elif not content:
            content["application/json"] = {"schema": {"type": "object"}}
        if csv_too and "text/csv" not in content:
            content["text/csv"] = {"schema": {"type": "string"}}


def _errors(operation: dict, method: str, parameters: list[dict]) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("default", None)
    codes = {"503"}
    if operation.get("security"):
        codes |= {"401", "403"}
    if "requestBody" in operation:
        codes |= {"400", "413", "422"}
    if any(p.get("in") == "query" for p in parameters):
        codes |= {"414", "422"}
    if any(p.get("in") == "path" for p in parameters):
        codes.add("404")
    if method in WRITES:
        codes.add("409")
    for code in sorted(codes | {c for c in responses if c[0] in "45"}):
        given = responses.get(code)
        if given is None or "$ref" in given:
            responses[code] = {"$ref": f"#/components/responses/{_error_name(code)}"}
        else:  # described by the operation: keep its words, with the one error body
            given.setdefault("content", {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}, "example": _error_example(code)}})


def _error_example(code: str) -> dict:
    from http import HTTPStatus

    known = ERRORS.get(code, (None, None))[1]
    return known or {"code": int(code), "status": HTTPStatus(int(code)).phrase, "message": "refused"}


def _lot(name: str | None, schema: dict | None) -> None:
    """A `lot` is one of the catalogue's lots, wherever it is named."""
    if name == "lot" and isinstance(schema, dict) and schema.get("type") == "integer":
        schema["minimum"], schema["maximum"] = min(LOTS), max(LOTS)
        if "enum" in schema:
            schema["enum"] = sorted(LOTS)


# --- examples ------------------------------------------------------------------------------------------


def _examples(document: dict) -> None:
    schemas = document.get("components", {}).get("schemas", {})
    for item in document.get("paths", {}).values():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                if "schema" in media and "example" not in media:
                    media["example"] = example(media["schema"], schemas, writing=True)
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                for media_type, media in content.items():
                    if "example" not in media and "schema" in media and media_type.startswith("application/json"):
                        media["example"] = example(media["schema"], schemas, writing=False)
                if "example" not in content.get("text/csv", {"example": None}):
                    content["text/csv"]["example"] = _csv_example(content.get("application/json", {}).get("example"))


def _csv_example(rows) -> str:
    """The CSV form of a JSON example: its rows' fields as columns (a report's download)."""
    import csv
    import io

    if isinstance(rows, dict):  # a report with its rows under one key (the census: "pupils")
        rows = next((v for v in rows.values() if isinstance(v, list)), [rows])
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
        return "column\r\nvalue\r\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: "; ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()}
                     for row in rows)
    return out.getvalue()


def example(schema: dict, schemas: dict, *, writing: bool, depth: int = 0) -> Any:
    """A value valid against `schema` (OpenAPI 3.0), the field's own example first."""
    if "$ref" in schema:
        target = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return example(target, schemas, writing=writing, depth=depth + 1)
    for key in ("allOf", "oneOf", "anyOf"):
        if schema.get(key):
            return example(schema[key][0], schemas, writing=writing, depth=depth)
    if "example" in schema:
        return schema["example"]
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v is not None), schema["enum"][0])
    kind = schema.get("type")
    if kind == "object" or (kind is None and "properties" in schema):
        if depth > 8:
            return {}
        skip = "readOnly" if writing else "writeOnly"
        return {name: example(prop, schemas, writing=writing, depth=depth + 1)
                for name, prop in (schema.get("properties") or {}).items() if not prop.get(skip)}
    if kind == "array":
        count = max(1, schema.get("minItems", 1))
        if schema.get("maxItems") == 0 or depth > 8:
            return []
        return [example(schema.get("items", {}), schemas, writing=writing, depth=depth + 1)] * count
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        return _number(schema, kind)
    if kind == "boolean":
        return True
    return None if schema.get("nullable") else {}


def _string(schema: dict) -> str:
    text = EXAMPLE_STRINGS.get(schema.get("format"), "example")
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if len(text) < low:
        text = text + "x" * (low - len(text))
    if high is not None:
        text = text[:high]
    return text


def _number(schema: dict, kind: str):
    value = 1
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and value < low or schema.get("exclusiveMinimum") and value <= low:
        value = low + (1 if schema.get("exclusiveMinimum") else 0)
    if high is not None and value > high:
        value = high
    step = schema.get("multipleOf")
    if step and value % step:
        value = (value // step + 1) * step
    return int(value) if kind == "integer" else value
