"""The end-to-end suites' shared fixtures: a tap on every event of the
running system and a journey client, both for a whole module.

A module may start its own `running_system` (e.g. with settings of its own):
these fixtures then use that one."""

from __future__ import annotations

import time

import pytest

from demo import journey as j
from shared.catalogue import SERVICES
from tests.support.runtime import EventWaiter, token


@pytest.fixture(scope="module")
def tap(running_system, rabbitmq):
    """Bound to all four exchanges before anything happens."""
    waiter = EventWaiter(rabbitmq.amqp_url, [(f"dps.{service}", "#") for service in SERVICES])
    yield waiter
    waiter.close()


@pytest.fixture(scope="module")
def client(running_system, tap):
    """The journey's client on the running system, narrating with the time since it was made."""
    started = time.monotonic()

    def narrate(who: str, what: str) -> None:
        print(f"[{time.monotonic() - started:6.2f}s] {who}: {what}")

    return j.Client({s: running_system.url(s) for s in SERVICES}, token, narrate=narrate, wait_timeout=30)
