"""Races through a service's HTTP API on either database the product supports:
a runtime on SQLite (the default of `make run`) or on PostgreSQL, and
requests sent from threads released together."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from shared.service import Runtime
from tests.support.runtime import build_runtime

DATABASES = ["sqlite", "postgresql"]


def runtime_on(request: pytest.FixtureRequest, service: str, tmp_path: Path) -> Runtime:
    """A migrated runtime of `service` on the database named by `request.param`
    (a fresh SQLite file, or a fresh copy of the migrated PostgreSQL template);
    no broker: the events stay in the outbox."""
    if request.param == "sqlite":
        return build_runtime(service, f"sqlite:///{tmp_path}/{service}.sqlite3", "amqp://unused//")
    url = request.getfixturevalue("database")(service)
    return build_runtime(service, url, "amqp://unused//", migrate=False)


def app_of(runtime: Runtime):
    from shared.web import create_app

    app = create_app(runtime.definition, runtime.settings, runtime)
    app.testing = True
    return app


def at_once(app, requests: list[tuple[str, dict | None, dict]], timeout: float = 60) -> list:
    """POST each (path, body, headers) from its own thread and test client,
    all released together; the responses in the order given."""
    start = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)

    def press(i: int, path: str, body: dict | None, headers: dict) -> None:
        client = app.test_client()
        start.wait()
        responses[i] = client.post(path, json=body, headers=headers)

    threads = [threading.Thread(target=press, args=(i, *request)) for i, request in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert all(r is not None for r in responses), "a request did not finish"
    return responses
