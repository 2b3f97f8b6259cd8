"""The whole system as real processes: for each of the five services a web
process (gunicorn), a consumer and a relay (for notifications, the mail
relay), each service on its own PostgreSQL database, all on the test
RabbitMQ, and a local SMTP server the notifications service sends to (its
messages kept as files, `system.mail`).  Used by the end-to-end, resilience
and security suites."""

from __future__ import annotations

import asyncio
import email
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from services.notifications.mailbox import LocalMailServer
from shared.catalogue import SERVICES
from tests.support.runtime import TEST_JWT_SECRET
from tests.support.servers import PostgresServer, RabbitServer, free_port

ROOT = Path(__file__).resolve().parents[2]
DPS = [sys.executable, "-m", "shared.cli"]
ROLES = ("web", "consumer", "relay")


@dataclass
class ServiceUnderTest:
    name: str
    port: int
    database: str
    database_url: str
    env: dict
    logdir: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, role: str) -> None:
        argv = [*DPS, role, self.name] + (["--workers", "1"] if role == "web" else [])
        log = open(self.logdir / f"{self.name}.{role}.log", "ab")
        self.processes[role] = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)

    def signal(self, role: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes[role]
        os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def restart(self, role: str) -> None:
        """Kill -9 the role's process (e.g. mid-batch) and start it again."""
        self.signal(role, signal.SIGKILL)
        self.start(role)

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def log(self, role: str) -> str:
        return (self.logdir / f"{self.name}.{role}.log").read_text(errors="replace")


class _Watching:
    """The mail server's handler, wrapped: counts every message it is sent (by Message-ID), and can hold
    the next one unanswered until a test has killed its sender, then keep it (the sender never learns
    that it was delivered) or drop it, as a server that failed before keeping it would (so only sending it
    again delivers it)."""

    def __init__(self, keep) -> None:
        self.keep = keep
        self.sent: Counter[str] = Counter()
        self.gate: threading.Event | None = None
        self.keep_held = False
        self.holding = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        gate, self.gate = self.gate, None
        if gate is None or self.keep_held:
            self.sent[email.message_from_bytes(envelope.content)["Message-ID"] or ""] += 1
            answer = await self.keep.handle_DATA(server, session, envelope)
        else:
            answer = "421 Service not available, closing transmission channel"
        if gate is not None:  # kept or not, the answer waits (aiosmtpd gives up when the sender is gone)
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, gate.wait)
        return answer


class SystemMail(LocalMailServer):
    """The system's SMTP server: each message a file in `folder` (`messages()`), and `sent`, how many times
    each Message-ID was sent to it."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder, port=free_port())
        self.watching = _Watching(self.controller.handler)
        self.controller.handler = self.watching

    @property
    def sent(self) -> Counter[str]:
        return self.watching.sent

    def hold_next(self, *, keep: bool) -> threading.Event:
        """Hold the next message mid-send (its sender waits for the answer to DATA); set the event
        returned to keep it or drop it."""
        self.watching.holding.clear()
        self.watching.keep_held = keep
        self.watching.gate = threading.Event()
        return self.watching.gate

    def wait_holding(self, timeout: float = 30) -> None:
        if not self.watching.holding.wait(timeout):
            raise AssertionError(f"no message was sent within {timeout}s")


class System:
    def __init__(self, postgres: PostgresServer, rabbitmq: RabbitServer, template, logdir: Path,
                 extra_env: dict | None = None) -> None:
        self.postgres = postgres
        self.rabbitmq = rabbitmq
        self.logdir = logdir
        self.services: dict[str, ServiceUnderTest] = {}
        self.mail = SystemMail(logdir / "mail")
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("DPS_")}
        base_env.update({
            "DPS_AMQP_URL": rabbitmq.amqp_url,
            "DPS_JWT_SECRET": TEST_JWT_SECRET,
            "DPS_RETRY_DELAYS": "0.5,1,2",
            "DPS_RELAY_POLL_INTERVAL": "0.02",
            "DPS_DATA_DIR": str(logdir / "data"),
            "DPS_JOB_INTERVAL": "2",
            "PYTHONUNBUFFERED": "1",
            "DPS_SMTP_PORT": str(self.mail.port),
            "DPS_TEAM_MAILBOXES": "exclusions=exclusions@council.example",
            **(extra_env or {}),
        })
        for name in SERVICES:
            database = f"sys_{name}_{uuid.uuid4().hex[:8]}"
            url = postgres.create_database(database, template=template(name))
            port = free_port()
            env = {**base_env, f"DPS_{name.upper()}_DATABASE_URL": url, f"DPS_{name.upper()}_PORT": str(port)}
            self.services[name] = ServiceUnderTest(name, port, database, url, env, logdir)

    def __getitem__(self, name: str) -> ServiceUnderTest:
        return self.services[name]

    def url(self, name: str) -> str:
        return self.services[name].url

    def start(self, timeout: float = 60) -> System:
        self.mail.start()
        for service in self.services.values():
            for role in ROLES:
                service.start(role)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        waiting = set(self.services)
        while waiting and time.monotonic() < deadline:
            waiting = {n for n in waiting if not self.services[n].ready()}
            time.sleep(0.2)
        if waiting:
            logs = "\n".join(self.services[n].log("web")[-2000:] for n in waiting)
            raise AssertionError(f"not ready within {timeout}s: {sorted(waiting)}\n{logs}")

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()
        self.mail.stop()
        for service in self.services.values():
            self.postgres.drop_database(service.database)
