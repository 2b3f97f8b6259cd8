"""The harness itself: fifteen processes, five services, all ready, and the SMTP server they send to."""

import json
import socket
import urllib.request

import pytest

from shared.catalogue import SERVICES

pytestmark = pytest.mark.integration


def test_all_five_services_run_as_processes_and_are_ready(running_system):
    with socket.create_connection(("127.0.0.1", running_system.mail.port), timeout=5) as smtp:
        assert smtp.recv(100).startswith(b"220"), "the system's SMTP server answers"
    for name in SERVICES:
        with urllib.request.urlopen(f"{running_system.url(name)}/readyz") as response:
            assert json.load(response)["status"] == "ready"
        for role in ("web", "consumer", "relay"):
            assert running_system[name].processes[role].poll() is None, f"{name} {role} is running"
