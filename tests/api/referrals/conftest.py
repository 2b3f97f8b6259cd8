"""Fixtures of the referrals API tests.

The tests of one module share one migrated PostgreSQL database (a copy of the
migrated template, as the `service` fixture makes) and one app; each test
starts from empty tables with the service's clock at NOW.  A fresh database
per test took most of the suite's time.
"""

from __future__ import annotations

import uuid

import pytest

from services.referrals import models
from tests.api.referrals.referrals_support import NOW
from tests.support.runtime import build_runtime


@pytest.fixture(scope="module")
def referrals_runtime(postgres, _templates):
    name = f"t_referrals_{uuid.uuid4().hex[:10]}"
    url = postgres.create_database(name, template=_templates("referrals"))
    runtime = build_runtime("referrals", url, "amqp://unused-by-api-tests//", migrate=False)
    yield runtime
    runtime.engine.dispose()
    postgres.drop_database(name)


@pytest.fixture(scope="module")
def referrals_app(referrals_runtime):
    from shared.web import create_app

    app = create_app(referrals_runtime.definition, referrals_runtime.settings, referrals_runtime)
    app.testing = True
    return app


@pytest.fixture
def rt(referrals_runtime):
    """The referrals runtime with empty tables, its clock at NOW."""
    with referrals_runtime.engine.begin() as connection:
        for table in reversed(models.metadata.sorted_tables):
            connection.execute(table.delete())
    referrals_runtime.clock = lambda: NOW
    return referrals_runtime


@pytest.fixture
def client(rt, referrals_app):
    return referrals_app.test_client()


@pytest.fixture(params=["postgresql", "sqlite"])
def stack(request, tmp_path):
    """(runtime, client) of the referrals service on either database, its clock at NOW."""
    if request.param == "postgresql":
        yield request.getfixturevalue("rt"), request.getfixturevalue("client")
        return
    from shared.web import create_app

    runtime = build_runtime("referrals", f"sqlite:///{tmp_path}/referrals.sqlite3", "amqp://unused//")
    runtime.clock = lambda: NOW
    app = create_app(runtime.definition, runtime.settings, runtime)
    app.testing = True
    yield runtime, app.test_client()
    runtime.engine.dispose()
