"""The awards service under test: `rt` (on its own database, its clock at NOW) and `client`, shared by the
awards API modules (a module may define its own)."""

import pytest

from tests.api.awards.awards_support import NOW, at


@pytest.fixture
def rt(service):
    runtime = service("awards")
    at(runtime, NOW)
    return runtime


@pytest.fixture
def client(rt, client_for):
    return client_for(rt)
