"""The harness itself: twelve processes, four services, all ready."""

import json
import urllib.request

import pytest

pytestmark = pytest.mark.integration


def test_all_four_services_run_as_processes_and_are_ready(running_system):
    for name in ("provider_registry", "referrals", "awards", "tracking"):
        with urllib.request.urlopen(f"{running_system.url(name)}/readyz") as response:
            assert json.load(response)["status"] == "ready"
        for role in ("web", "consumer", "relay"):
            assert running_system[name].processes[role].poll() is None, f"{name} {role} is running"
