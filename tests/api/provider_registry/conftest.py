"""The registry's runtime for its API tests: a fresh database, the clock at NOW."""

from __future__ import annotations

import pytest

from tests.api.provider_registry.registry_support import NOW


@pytest.fixture
def rt(service):
    runtime = service("provider_registry")
    runtime.clock = lambda: NOW
    return runtime


@pytest.fixture
def client(rt, client_for):
    return client_for(rt)
