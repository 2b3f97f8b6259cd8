"""The role matrix of every operation of every service, generated from the
services' own OpenAPI documents: a new operation is in the matrix the moment
it is in a document, and fails here unless it carries its rule (`x-roles`,
written by shared.auth's `requires`/`public`) and the service enforces it.

For each operation: no token, an expired one, a forged signature, `alg:
none`, missing claims -> 401; a valid token of each role the rule leaves out
-> 403 from the role check; each role it names gets past the role check and
never a 5xx (path parameters are random UUIDs or lot 1, bodies empty, so
nothing is changed).  Public operations answer without a token.  Every route
a service answers is in its document (bar the probes and the docs).

The apps run in-process (Flask's test client) on a migrated PostgreSQL
database each; no broker is needed."""

from __future__ import annotations

import re

import pytest

from shared.auth import PUBLIC, ROLES
from shared.catalogue import SERVICES
from tests.support.security import (
    INFRASTRUCTURE,
    MATRIX_TOKEN_CASES,
    METHODS,
    bad_tokens,
    fill_path,
    in_process_apps,
    is_role_refusal,
    offline_documents,
    operations,
    role_headers,
)

pytestmark = pytest.mark.integration

DOCUMENTS = offline_documents()
OPERATIONS = [op for service in SERVICES for op in operations(service, DOCUMENTS[service])]


@pytest.fixture(scope="module")
def apps(postgres, _templates):
    """service -> a Flask app of that service on its own migrated database."""
    with in_process_apps(postgres, _templates) as made:
        yield {service: app for service, (_runtime, app) in made.items()}


def _send(client, operation, headers):
    body = {} if operation.method in ("post", "put", "patch") else None
    return getattr(client, operation.method)(fill_path(operation.path), headers=headers, json=body)


def test_the_matrix_covers_every_operation_the_services_serve(apps):
    """The documents the matrix was generated from are the ones the apps serve."""
    for service, app in apps.items():
        served = app.test_client().get("/openapi.json").get_json()
        assert {(o.method, o.path) for o in operations(service, served)} == \
            {(o.method, o.path) for o in OPERATIONS if o.service == service}, service
    assert len(OPERATIONS) > 80


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_a_service_answers_is_in_its_document(apps, service):
    """A route added outside flask-smorest (and so outside the matrix) fails here."""
    documented = {(o.method, o.path) for o in OPERATIONS if o.service == service}
    undocumented = []
    for rule in apps[service].url_map.iter_rules():
        if rule.rule in INFRASTRUCTURE:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted(m.lower() for m in rule.methods if m.lower() in METHODS):
            if (method, path) not in documented:
                undocumented.append(f"{method.upper()} {rule.rule}")
    assert not undocumented, f"{service} answers routes its OpenAPI document does not have: {undocumented}"


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_role_matrix(apps, operation):
    roles = operation.roles
    assert roles, f"{operation} has no x-roles: decorate it with shared.auth.requires(...) or public"
    assert roles == [PUBLIC] or (PUBLIC not in roles and set(roles) <= set(ROLES)), (str(operation), roles)
    client = apps[operation.service].test_client()

    if operation.public:
        assert "security" not in operation.spec, str(operation)
        response = _send(client, operation, {})
        assert response.status_code == 200, (str(operation), response.status_code, response.get_data(True)[:300])
        return

    assert operation.spec.get("security") == [{"bearerAuth": []}], str(operation)
    assert {"401", "403"} <= set(operation.spec["responses"]), f"{operation} does not document 401 and 403"
    problems = []
    tokens = bad_tokens()
    for case in MATRIX_TOKEN_CASES:
        response = _send(client, operation, tokens[case])
        if response.status_code != 401 or (response.get_json() or {}).get("code") != 401:
            problems.append(f"{case}: {response.status_code} {response.get_data(True)[:200]}")
    for role in operation.forbidden_roles:
        response = _send(client, operation, role_headers(role))
        if not is_role_refusal(response.status_code, response.get_json()):
            problems.append(f"role {role} (not in {roles}): {response.status_code} {response.get_data(True)[:200]}")
    for role in roles:
        response = _send(client, operation, role_headers(role))
        if response.status_code in (401, 500) or response.status_code > 500 or \
                is_role_refusal(response.status_code, response.get_json()):
            problems.append(f"role {role} (in {roles}): {response.status_code} {response.get_data(True)[:200]}")
    assert not problems, f"{operation}:\n" + "\n".join(problems)
