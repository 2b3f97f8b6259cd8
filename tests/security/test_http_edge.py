"""The HTTP edge every service shares (shared/web.py), in-process on SQLite:
security headers on every response and `no-store` on the API (defect 11),
a body above the limit refused 413 in the one error format (defect 7), a 409
that names what conflicted (defect 13), and readiness that follows the
database, not the broker (issue #13, the messaging edges)."""

from __future__ import annotations

import uuid
from dataclasses import replace

import jsonschema
import pytest

from shared.catalogue import SERVICES
from shared.web import create_app
from tests.support.runtime import auth, build_runtime
from tests.support.security import application_form, offline_documents, provider_headers

NO_BROKER = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens on port 1
API_PATHS = {"provider_registry": "/v1/applications", "referrals": "/v1/referrals", "awards": "/v1/awards",
             "tracking": "/v1/placements", "notifications": "/v1/deliveries"}


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    directory = tmp_path_factory.mktemp("edge")
    made = {}
    for service in SERVICES:
        runtime = build_runtime(service, f"sqlite:///{directory / service}.sqlite3", NO_BROKER)
        made[service] = (runtime, create_app(runtime.definition, runtime.settings, runtime).test_client())
    yield made
    for runtime, _client in made.values():
        runtime.engine.dispose()


def _assert_security_headers(response, where) -> None:
    headers = response.headers
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), where
    assert headers.get("Referrer-Policy") == "no-referrer", where


@pytest.mark.parametrize("service", SERVICES)
def test_every_response_carries_the_security_headers_and_the_api_is_never_cached(apps, service):
    _runtime, client = apps[service]
    manager = auth("manager")
    answers = {
        "api 200": client.get(API_PATHS[service], headers=manager),
        "api 401": client.get(API_PATHS[service]),
        "api 404": client.get(f"/v1/nowhere/{uuid.uuid4()}", headers=manager),
        "api 422": client.post(API_PATHS[service], json={"x": "a\u0000"}, headers=manager),
        "healthz": client.get("/healthz"),
        "openapi": client.get("/openapi.json"),
        "docs": client.get("/docs"),
    }
    for where, response in answers.items():
        _assert_security_headers(response, f"{service} {where}")
    for where in ("api 200", "api 401", "api 404", "api 422"):
        assert answers[where].headers.get("Cache-Control") == "no-store", (service, where)
    assert answers["api 200"].status_code == 200


def test_the_static_documentation_stays_cacheable(apps):
    _runtime, client = apps["tracking"]
    response = client.get("/docs/static/swagger-ui.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    _assert_security_headers(response, "docs static")


def test_a_body_above_the_limit_is_refused_413_in_the_one_error_format(tmp_path):
    runtime = build_runtime("tracking", f"sqlite:///{tmp_path}/t.sqlite3", NO_BROKER)
    runtime.settings = replace(runtime.settings, max_body_bytes=2048)
    client = create_app(runtime.definition, runtime.settings, runtime).test_client()
    response = client.post(f"/v1/placements/{uuid.uuid4()}/attendance", data='{"x": "' + "a" * 4096 + '"}',
                           content_type="application/json", headers=auth("provider", provider_id=uuid.uuid4()))
    assert response.status_code == 413, response.get_data(True)
    assert response.get_json() == {"code": 413, "status": "Request Entity Too Large",
                                   "message": "the request body is larger than 2048 bytes"}
    runtime.engine.dispose()


def test_the_body_limit_is_a_setting(monkeypatch):
    from shared.config import load_settings

    assert load_settings("tracking").max_body_bytes == 1024 * 1024
    monkeypatch.setenv("DPS_MAX_BODY_BYTES", "65536")
    assert load_settings("tracking").max_body_bytes == 65536


def test_a_409_names_what_conflicted_as_the_documents_say(apps):
    _runtime, client = apps["provider_registry"]
    provider = provider_headers(uuid.uuid4())
    assert client.post("/v1/applications", json=application_form("Twice Ltd", (1,)), headers=provider
                       ).status_code == 201
    response = client.post("/v1/applications", json=application_form("Twice Ltd", (1,)), headers=provider)
    assert response.status_code == 409, response.get_data(True)
    body = response.get_json()
    assert body["conflict"] == "state" and "awaiting a decision" in body["message"], body
    document = offline_documents()["provider_registry"]
    schema = {**document["components"]["schemas"]["Error"], "components": document["components"]}
    assert "conflict" in schema["properties"]
    jsonschema.validate(body, schema)


def test_a_conflict_about_a_field_names_the_field():
    from shared.errors import Conflict

    assert Conflict("already a member of lot 2", field="lot").to_dict()["conflict"] == "lot"
    assert Conflict("the DPS is already closed").to_dict()["conflict"] == "state"


@pytest.mark.parametrize("service", SERVICES)
def test_a_web_process_is_ready_when_its_database_is_even_with_the_broker_away(apps, service):
    _runtime, client = apps[service]
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["checks"] == {"database": "ok"}
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["checks"]["broker"].startswith("unavailable"), health.get_json()
    metrics = client.get("/metrics").get_data(True)
    assert f'dps_broker_up{{service="{service}"}} 0.0' in metrics


def test_a_web_process_is_not_ready_without_its_database(tmp_path):
    from shared.db import make_engine
    from shared.service import Runtime

    runtime = build_runtime("tracking", f"sqlite:///{tmp_path}/t.sqlite3", NO_BROKER)
    # a database server that is not there (nothing listens on port 1)
    away = Runtime(runtime.definition, runtime.settings, engine=make_engine("postgresql+psycopg://dps@127.0.0.1:1/dps"))
    client = create_app(away.definition, away.settings, away).test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"]["database"].startswith("unavailable")
    assert client.get("/healthz").status_code == 200, "alive, only not ready"
    runtime.engine.dispose()
    away.engine.dispose()


def test_the_docs_page_allows_only_its_own_inline_script(apps):
    """Swagger UI still works under the CSP: its one inline script is allowed by hash, no other inline code."""
    import base64
    import hashlib
    import re

    _runtime, client = apps["referrals"]
    page = client.get("/docs")
    [script] = re.findall(r"<script>(.*?)</script>", page.get_data(True), re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    policy = page.headers["Content-Security-Policy"]
    assert f"script-src 'self' 'sha256-{digest}';" in policy and "unsafe-inline'; frame" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
