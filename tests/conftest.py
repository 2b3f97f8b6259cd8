"""Fixtures shared by every suite: the real servers, fresh databases, services.

Unit tests (tests/unit) use none of these and start nothing."""

from __future__ import annotations

import uuid

import pytest
from kombu import Connection

from shared.catalogue import SERVICES
from tests.support import runtime as rt
from tests.support.servers import ServerUnavailable, start_postgres, start_rabbitmq


@pytest.fixture(scope="session")
def rabbitmq():
    try:
        server = start_rabbitmq()
    except ServerUnavailable as exc:
        pytest.fail(f"RabbitMQ is needed for this test: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres():
    try:
        server = start_postgres()
    except ServerUnavailable as exc:
        pytest.fail(f"PostgreSQL is needed for this test: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _templates(postgres):
    """Each service's database migrated once; tests copy it (CREATE DATABASE ... TEMPLATE)."""
    made: dict[str, str] = {}

    def template(service: str) -> str:
        if service not in made:
            name = f"tpl_{service}"
            postgres.drop_database(name)
            url = postgres.create_database(name)
            runtime = rt.build_runtime(service, url, "amqp://unused//")
            runtime.engine.dispose()
            made[service] = name
        return made[service]

    return template


@pytest.fixture
def database(postgres, _templates):
    """fresh(service) -> the URL of a new migrated PostgreSQL database for that service."""
    created: list[str] = []

    def fresh(service: str) -> str:
        name = f"t_{service}_{uuid.uuid4().hex[:10]}"
        created.append(name)
        return postgres.create_database(name, template=_templates(service))

    yield fresh
    for name in created:
        postgres.drop_database(name)


def _clean_broker(amqp_url: str) -> None:
    """Every test starts with no DPS queues or exchanges left by another."""
    with Connection(amqp_url) as connection:
        channel = connection.channel()
        for service in SERVICES:
            base = f"{service}.events"
            names = [base, f"{base}.dead"] + [f"{base}.retry.{int(d * 1000)}ms" for d in rt.TEST_RETRY_DELAYS]
            unrouted = f"dps.{service}.unrouted"  # the exchange's alternate exchange, and its queue
            for name in [*names, unrouted]:
                channel.queue_delete(name)
            channel.exchange_delete(f"dps.{service}")
            channel.exchange_delete(unrouted)


@pytest.fixture
def broker(rabbitmq):
    """The test RabbitMQ, cleaned of DPS queues and exchanges; yields its URL."""
    _clean_broker(rabbitmq.amqp_url)
    yield rabbitmq.amqp_url


@pytest.fixture
def service(database, broker):
    """service(name) -> a migrated Runtime on its own fresh PostgreSQL database and the test broker."""
    runtimes = []

    def make(name: str, **overrides):
        runtime = rt.build_runtime(name, database(name), broker, migrate=False, **overrides)
        runtimes.append(runtime)
        return runtime

    yield make
    for runtime in runtimes:
        runtime.engine.dispose()


@pytest.fixture
def client_for():
    """client_for(runtime) -> a Flask test client of that service."""
    from shared.web import create_app

    def make(runtime):
        app = create_app(runtime.definition, runtime.settings, runtime)
        app.testing = True
        return app.test_client()

    return make


@pytest.fixture
def events(broker):
    """events(("dps.referrals", "referral.*"), ...) -> an EventWaiter on the test broker."""
    waiters = []

    def make(*bindings):
        waiter = rt.EventWaiter(broker, list(bindings))
        waiters.append(waiter)
        return waiter

    yield make
    for waiter in waiters:
        waiter.close()


@pytest.fixture(scope="module")
def running_system(postgres, rabbitmq, _templates, tmp_path_factory):
    """All five services as real processes (web, consumer, relay), each on its
    own PostgreSQL database, and the SMTP server notifications sends to
    (`running_system.mail`), for a whole test module."""
    from tests.support.system import System

    _clean_broker(rabbitmq.amqp_url)
    system = System(postgres, rabbitmq, _templates, tmp_path_factory.mktemp("system")).start()
    yield system
    system.stop()
