"""Bad input over every write endpoint of every service: never a 5xx, always
a 4xx naming the field, and nothing stored changes (issue #13, defects 6, 7, 13).

The endpoints and their request bodies come from each service's own OpenAPI
document, so a new endpoint is swept the moment it is documented.  For each,
a plausible body is built from its schema (known-good forms for the ones whose
rules reach further), then broken one field at a time: a NUL and an unpaired
surrogate in every text field, whole numbers beyond any column, the dates
0001-01-01 and 9999-12-31; and whole bodies: JSON nested 100,000 deep, NaN,
and a body above the size limit.  Query strings get a NUL.  Each service runs
in-process on SQLite and on PostgreSQL, with a referral, an application and an
opportunity of its own so that some paths name things that exist."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from shared.auth import PUBLIC
from shared.catalogue import SERVICES
from tests.support.security import (
    MANAGER,
    OFFICER,
    application_form,
    fill_path,
    in_process_apps,
    london_today,
    offline_documents,
    operations,
    provider_headers,
    referral_form,
    role_headers,
)

pytestmark = pytest.mark.integration

DOCUMENTS = offline_documents()
WRITES = [op for service in SERVICES for op in operations(service, DOCUMENTS[service])
          if op.method in ("post", "put", "patch")]
JSON_WRITES = [op for op in WRITES if "application/json" in (op.spec.get("requestBody") or {}).get("content", {})]
PROVIDER = uuid.UUID("7d1e4c1a-0000-4000-8000-00000000b4d1")

NUL, SURROGATE = "a\x00b", "a\ud800b"
HUGE_INTEGERS = (2**63, 10**30, -(2**40))
BAD_DATES = ("0001-01-01", "9999-12-31")
BAD_MOMENTS = ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-14:00")


def opportunity_form() -> dict:
    today, now = london_today(), datetime.now(UTC)
    return {"title": "Block places for key stage 4", "lot": 1, "places": 4,
            "contract_start": (today + timedelta(days=60)).isoformat(),
            "contract_end": (today + timedelta(days=400)).isoformat(),
            "opens_at": (now - timedelta(minutes=5)).isoformat(), "deadline": (now + timedelta(days=2)).isoformat(),
            "criteria": [{"name": "quality of education", "weight": "0.6"}, {"name": "safeguarding", "weight": "0.4"}]}


# Known-good bodies where a body made from the schema alone would stop at the first domain rule.
EXAMPLES = {
    ("provider_registry", "post", "/v1/applications"): lambda: application_form("Bad Input Ltd", (1,)),
    ("referrals", "post", "/v1/referrals"): referral_form,
    ("referrals", "patch", "/v1/referrals/{referral_id}"): lambda: {
        k: v for k, v in referral_form().items() if k != "questions"},
    ("awards", "post", "/v1/opportunities"): opportunity_form,
}


# --- bodies from the documents ------------------------------------------------------------------------

def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in schema:
        merged: dict = {"type": "object", "properties": {}}
        for part in schema["allOf"]:
            merged["properties"].update(_resolve(document, part).get("properties", {}))
        return merged
    return schema


def example(document: dict, schema: dict, depth: int = 0):
    """A plausible value of `schema` (every property filled, one item per list)."""
    schema = _resolve(document, schema)
    if "enum" in schema:
        return next((v for v in schema["enum"] if v is not None), None)
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        value = {name: example(document, prop, depth + 1) for name, prop in schema.get("properties", {}).items()
                 if not prop.get("readOnly")}
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and not value and depth < 6:
            value["k"] = example(document, extra, depth + 1)
        return value
    if kind == "array":
        return [example(document, schema.get("items", {}), depth + 1)]
    if kind == "integer":
        return max(schema.get("minimum", 1), 1) if schema.get("maximum", 1) >= 1 else schema["maximum"]
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    fmt = schema.get("format")
    return {"uuid": str(uuid.uuid4()), "date": london_today().isoformat(), "email": "a@example.org",
            "date-time": (datetime.now(UTC) + timedelta(days=1)).isoformat()}.get(fmt, "text")


def leaves(document: dict, schema: dict, value, path: tuple = ()):
    """(path, leaf schema) of every scalar in `value`, as `example` made it."""
    schema = _resolve(document, schema)
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key, item in value.items():
            sub = props.get(key) or (schema.get("additionalProperties") if isinstance(
                schema.get("additionalProperties"), dict) else {})
            yield from leaves(document, sub, item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(document, schema.get("items", {}), item, (*path, index))
    else:
        yield path, schema


def replaced(body, path: tuple, new):
    body = copy.deepcopy(body)
    node = body
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = new
    return body


def cases(op) -> list[tuple[str, tuple, object]]:
    """(case name, field path, body) of every bad body for one operation."""
    document = DOCUMENTS[op.service]
    schema = op.spec["requestBody"]["content"]["application/json"]["schema"]
    maker = EXAMPLES.get((op.service, op.method, op.path))
    good = maker() if maker else example(document, schema)
    out = []
    for path, leaf in leaves(document, schema, good):
        if not path:
            continue
        kind, fmt = leaf.get("type"), leaf.get("format")
        kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
        value = _at(good, path)
        if isinstance(value, str):
            out += [("nul", path, replaced(good, path, NUL)), ("surrogate", path, replaced(good, path, SURROGATE))]
        if fmt == "date" or (isinstance(value, str) and _looks_like_date(value)):
            out += [(f"date {d}", path, replaced(good, path, d)) for d in BAD_DATES]
        if fmt == "date-time":
            out += [(f"moment {d}", path, replaced(good, path, d)) for d in BAD_MOMENTS]
        if kind in ("integer", "number") or (isinstance(value, int) and not isinstance(value, bool)):
            out += [(f"integer {n}", path, replaced(good, path, n)) for n in HUGE_INTEGERS]
        # a key of a free-form map is a text field too
        if isinstance(path[-1], str) and len(path) > 1 and path[-1] not in _resolve(
                document, schema).get("properties", {}) and _is_map_key(document, schema, path):
            parent = _at(good, path[:-1])
            for name, bad in (("nul key", NUL), ("surrogate key", SURROGATE)):
                changed = copy.deepcopy(good)
                holder = _at(changed, path[:-1])
                holder[bad] = holder.pop(path[-1]) if path[-1] in parent else None
                out.append((name, path[:-1], changed))
    return out


def _at(value, path):
    for part in path:
        value = value[part]
    return value


def _looks_like_date(text: str) -> bool:
    try:
        datetime.strptime(text[:10], "%Y-%m-%d")
    except ValueError:
        return False
    return len(text) == 10


def _is_map_key(document, schema, path) -> bool:
    node = _resolve(document, schema)
    for part in path[:-1]:
        if isinstance(part, int):
            node = _resolve(document, node.get("items", {}))
        else:
            node = _resolve(document, node.get("properties", {}).get(part) or {})
    return isinstance(node.get("additionalProperties"), dict) and not node.get("properties")


# --- the apps --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def apps(request, tmp_path_factory):
    """service -> (runtime, app) on the database named by the parameter, with a few things made."""
    if request.param == "postgresql":
        postgres, templates = request.getfixturevalue("postgres"), request.getfixturevalue("_templates")
        with in_process_apps(postgres, templates) as made:
            yield made, _seed(made)
        return
    from shared.web import create_app
    from tests.support.runtime import build_runtime

    made = {}
    directory = tmp_path_factory.mktemp("bad_input")
    for service in SERVICES:
        runtime = build_runtime(service, f"sqlite:///{directory / service}.sqlite3", "amqp://unused//")
        made[service] = (runtime, create_app(runtime.definition, runtime.settings, runtime))
    try:
        yield made, _seed(made)
    finally:
        for runtime, _app in made.values():
            runtime.engine.dispose()


def _deliver(made, producer: str) -> None:
    """Every event in `producer`'s outbox, handled by each service that reads it (no broker)."""
    import importlib

    from shared.events import Envelope

    runtime = made[producer][0]
    with runtime.engine.connect() as connection:
        bodies = connection.execute(sa.text("SELECT body FROM outbox ORDER BY position")).scalars().all()
    for service, (consumer_runtime, _app) in made.items():
        handlers = importlib.import_module(f"services.{service}.consumers").event_handlers()
        for body in bodies:
            envelope = Envelope.from_json(body)
            if envelope.type in handlers:
                with consumer_runtime.unit_of_work() as uow:
                    handlers[envelope.type](uow, envelope)
                    uow.commit()


def _seed(made) -> dict[str, str]:
    """Path values that exist in these databases: an admitted provider, a referral, an opportunity."""
    def created(response, key):
        assert response.status_code in (200, 201), response.get_data(True)
        return response.get_json()[key]

    ids: dict[str, str] = {"provider_id": str(PROVIDER)}
    registry = made["provider_registry"][1].test_client()
    ids["application_id"] = created(registry.post(
        "/v1/applications", json=application_form("Seeded Ltd", (1,)), headers=provider_headers(PROVIDER)), "id")
    created(registry.post(f"/v1/applications/{ids['application_id']}/decision", headers=MANAGER,
                          json={"outcome": "admit", "lots": [1], "reasons": []}), "id")
    _deliver(made, "provider_registry")
    referrals = made["referrals"][1].test_client()
    referral = created(referrals.post("/v1/referrals", json=referral_form(), headers=OFFICER), "questions")
    ids["question_id"] = referral[0]["question_id"]
    ids["referral_id"] = referrals.get("/v1/referrals", headers=OFFICER).get_json()[0]["referral_id"]
    awards = made["awards"][1].test_client()
    ids["opportunity_id"] = created(awards.post("/v1/opportunities", json=opportunity_form(), headers=OFFICER),
                                    "opportunity_id")
    return ids


def headers_for(op) -> dict:
    roles = op.roles or []
    if roles == [PUBLIC]:
        return {}
    for role in ("officer", "manager", "provider", "evaluator", "reporting"):
        if role in roles:
            return provider_headers(PROVIDER) if role == "provider" else (
                OFFICER if role == "officer" else MANAGER if role == "manager" else role_headers(role))
    raise AssertionError(f"{op}: no role to call it with")


def stored(made) -> dict[str, int]:
    counts = {}
    for service, (runtime, _app) in made.items():
        with runtime.engine.connect() as connection:
            for table in sa.inspect(connection).get_table_names():
                if table == "alembic_version":
                    continue
                counts[f"{service}.{table}"] = connection.execute(
                    sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one()
    return counts


def python_text(errors) -> list[str]:
    """Error messages that are a Python repr of a structure instead of JSON."""
    found = []
    if isinstance(errors, dict):
        for value in errors.values():
            found += python_text(value)
    elif isinstance(errors, list):
        for value in errors:
            found += python_text(value)
    elif isinstance(errors, str) and errors[:2] in ("{'", "['", '{"'):
        found.append(errors)
    return found


def _send(client, op, ids, body=None, data=None, query=None):
    kwargs = {"headers": headers_for(op), "query_string": query}
    if data is not None:
        kwargs.update(data=data, content_type="application/json")
    else:
        kwargs["data"] = json.dumps(body, ensure_ascii=True)  # ensure_ascii: a lone surrogate as \ud800
        kwargs["content_type"] = "application/json"
    return getattr(client, op.method)(fill_path(op.path, ids), **kwargs)


def _named(errors, path) -> bool:
    node = (errors or {}).get("json", {})
    for part in path:
        if not isinstance(node, dict):
            return False
        node = node.get(part, node.get(str(part)))
        if node is None:
            return False
    return True


# --- the sweep ------------------------------------------------------------------------------------------------

def test_the_sweep_covers_every_json_write_endpoint():
    assert len(JSON_WRITES) >= 40, [str(op) for op in JSON_WRITES]
    assert all(cases(op) for op in JSON_WRITES), [str(op) for op in JSON_WRITES if not cases(op)]


def test_no_bad_input_to_any_write_endpoint_is_a_server_error_or_stored(apps):
    made, ids = apps
    before = stored(made)
    failures, sent = [], 0
    for op in JSON_WRITES:
        client = made[op.service][1].test_client()
        whole = [("nested 100,000 deep", (), None, "[" * 100_000 + "]" * 100_000),
                 ("NaN", (), None, '{"x": NaN}'),
                 ("oversized", (), None, '{"x": "' + "a" * (2 * 1024 * 1024) + '"}')]
        for name, path, body, data in [*whole, *((n, p, b, None) for n, p, b in cases(op))]:
            response = _send(client, op, ids, body=body, data=data)
            sent += 1
            status, answer = response.status_code, response.get_json(silent=True) or {}
            where = f"{op} [{name} at {'.'.join(map(str, path))}] -> {status} {response.get_data(True)[:200]}"
            if status >= 500:
                failures.append(where)
            elif status < 400:
                failures.append(f"accepted: {where}")
            elif name in ("nul", "surrogate") and not (status == 422 and _named(answer.get("errors"), path)):
                failures.append(f"field not named: {where}")
            elif name == "oversized" and status != 413:
                failures.append(f"not 413: {where}")
            elif name.startswith("nested") and status != 400:
                failures.append(f"not 400: {where}")
            elif python_text(answer.get("errors")):
                failures.append(f"errors as Python text: {where}")
    assert sent > 500, sent
    server_errors = sum(1 for f in failures if f.split("] -> ")[-1][:1] == "5")
    assert not failures, (f"{len(failures)} of {sent} bad requests went wrong ({server_errors} server errors):\n"
                          + "\n".join(failures[:60]))
    assert stored(made) == before


def test_a_nul_in_any_query_string_is_refused_naming_the_parameter(apps):
    made, ids = apps
    failures = []
    for service in SERVICES:
        for op in operations(service, DOCUMENTS[service]):
            names = [p["name"] for p in op.spec.get("parameters", []) if p.get("in") == "query"]
            for name in names:
                response = _send(made[service][1].test_client(), op, ids, data="{}" if op.method != "get" else "",
                                 query={name: NUL})
                body = response.get_json(silent=True) or {}
                if response.status_code != 422 or name not in (body.get("errors") or {}).get("query", {}):
                    failures.append(f"{op} ?{name}=NUL -> {response.status_code} {response.get_data(True)[:200]}")
    assert not failures, "\n".join(failures)


def test_a_criterion_named_with_a_lone_surrogate_is_refused_and_ocds_keeps_working(apps):
    made, _ids = apps
    client = made["awards"][1].test_client()
    form = opportunity_form()
    form["criteria"][0]["name"] = "quality \ud800"
    response = client.post("/v1/opportunities", data=json.dumps(form), content_type="application/json",
                           headers=OFFICER)
    assert response.status_code == 422, response.get_data(True)
    assert response.get_json()["errors"]["json"]["criteria"]["0"]["name"], response.get_json()
    package = client.get("/v1/ocds/release-package")
    assert package.status_code == 200, package.get_data(True)[:300]
