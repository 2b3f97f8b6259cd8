"""The whole system as real processes: for each of the four services a web
process (gunicorn), a consumer and a relay, each service on its own
PostgreSQL database, all on the test RabbitMQ.  Used by the end-to-end,
resilience and security suites."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

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

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def log(self, role: str) -> str:
        return (self.logdir / f"{self.name}.{role}.log").read_text(errors="replace")


class System:
    def __init__(self, postgres: PostgresServer, rabbitmq: RabbitServer, template, logdir: Path,
                 extra_env: dict | None = None) -> None:
        self.postgres = postgres
        self.rabbitmq = rabbitmq
        self.logdir = logdir
        self.services: dict[str, ServiceUnderTest] = {}
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("DPS_")}
        base_env.update({
            "DPS_AMQP_URL": rabbitmq.amqp_url,
            "DPS_JWT_SECRET": TEST_JWT_SECRET,
            "DPS_RETRY_DELAYS": "0.5,1,2",
            "DPS_RELAY_POLL_INTERVAL": "0.02",
            "DPS_DATA_DIR": str(logdir / "data"),
            "DPS_JOB_INTERVAL": "2",
            "PYTHONUNBUFFERED": "1",
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
        for service in self.services.values():
            self.postgres.drop_database(service.database)
