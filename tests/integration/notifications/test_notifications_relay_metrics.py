"""The mail relay's metrics (issue #18 item 5): `dps relay notifications --metrics-port N`, the real process,
serves messages sent, deliveries failed for good and retried (each by template), and the age of the oldest
delivery waiting, scraped while it sends to a real SMTP server that accepts one address, answers 451 (try
later) for another, and a delivery whose template lacks a value fails without being sent."""

from __future__ import annotations

import os
import subprocess
import urllib.request
import uuid
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from services.notifications.domain import Delivery
from shared.db import utcnow
from tests.support.runtime import build_runtime, wait_until
from tests.support.servers import free_port
from tests.support.system import DPS, ROOT

pytestmark = pytest.mark.integration

VALUES = {"provider_name": "Acme Tutors", "lot": 1, "lot_name": "Full-time education", "asked": "25 hours",
          "deadline": "5pm on 10 December 2026", "link": "https://dps.example/r", "council_name": "Exampleshire"}


class _BusyForOne:
    """Accepts every recipient but busy@..., which it asks to try later (451)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's
        if address.startswith("busy@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        return "250 Message accepted for delivery"


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def test_the_relay_process_serves_sent_failed_retried_and_queue_age(tmp_path):
    smtp = Controller(_BusyForOne(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    database_url = f"sqlite:///{tmp_path}/notifications.sqlite3"
    runtime = build_runtime("notifications", database_url, "amqp://unused//")
    an_hour_ago = utcnow() - timedelta(hours=1)
    with runtime.unit_of_work() as uow:
        for address, values in (("office@acme.example", VALUES), ("busy@bridge.example", VALUES),
                                ("half@filled.example", {"provider_name": "Half"})):
            uow.deliveries.add_once(Delivery(uuid.uuid4(), "referral.published", "referral.new", "provider",
                                             str(uuid.uuid4()), address, values, created_at=an_hour_ago))
        uow.commit()
    runtime.engine.dispose()
    port = free_port()
    env = {**os.environ, "DPS_NOTIFICATIONS_DATABASE_URL": database_url, "DPS_SMTP_HOST": "127.0.0.1",
           "DPS_SMTP_PORT": str(smtp.port), "DPS_JWT_SECRET": "x" * 32}
    relay = subprocess.Popen([*DPS, "relay", "notifications", "--metrics-port", str(port)], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def served(*lines: str) -> bool:
            try:
                text = _scrape(port)
            except OSError:
                return False
            return all(line in text for line in lines)

        wait_until(lambda: served('dps_notifications_sent_total{template="referral.new"} 1.0',
                                  'dps_notifications_failed_total{template="referral.new"} 1.0',
                                  'dps_notifications_retried_total{template="referral.new"} 1.0'),
                   timeout=30, message="the relay's counters")
        age = next(line for line in _scrape(port).splitlines()
                   if line.startswith("dps_notifications_queue_age_seconds "))
        assert float(age.split()[-1]) >= 3600  # the delivery to busy@ waits to be tried again
    finally:
        relay.terminate()
        relay.wait(15)
        smtp.stop()
