"""Real RabbitMQ and PostgreSQL servers for the tests.

Where a Docker engine answers, testcontainers starts them.  Otherwise the
servers installed from Debian's packages are started privately: a RabbitMQ
node on ports of its own with its data in a temporary directory, and a
throwaway PostgreSQL cluster in a temporary directory run as the `postgres`
user.  A missing server is a failure with the reason, never a silent skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")


class ServerUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_port_pair(offset: int) -> int:
    """A port p with p + offset also free (RabbitMQ's distribution port is p + 20000)."""
    for _ in range(50):
        port = free_port()
        if port + offset < 65535:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port + offset))
                    return port
                except OSError:
                    continue
    raise ServerUnavailable("no free port pair")


def docker_engine_answers() -> bool:
    if os.environ.get("DPS_TEST_NO_DOCKER"):
        return False
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means no engine
        return False


def wait_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    raise ServerUnavailable(f"nothing listens on {host}:{port} after {timeout}s")


# -- RabbitMQ -------------------------------------------------------------------

@dataclass
class RabbitServer:
    amqp_url: str
    port: int
    node: str | None = None  # private node name (Debian packages)
    home: Path | None = None
    process: subprocess.Popen | None = None
    container: object | None = None
    env: dict = field(default_factory=dict)

    def ctl(self, *args: str, timeout: float = 60) -> str:
        if self.container is not None:
            code, out = self.container.exec(["rabbitmqctl", *args])
            if code:
                raise ServerUnavailable(out.decode())
            return out.decode()
        result = subprocess.run([str(RABBITMQ_BIN / "rabbitmqctl"), "-n", self.node, *args],
                                env=self._ctl_env(), capture_output=True, text=True, timeout=timeout)
        if result.returncode:
            raise ServerUnavailable(result.stdout + result.stderr)
        return result.stdout

    def _ctl_env(self) -> dict:
        return {**os.environ, "HOME": str(self.home)}

    def stop_app(self) -> None:
        """The broker goes away (connections drop, port closes); the node stays."""
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        wait_port("127.0.0.1", self.port, 60)

    def stop(self) -> None:
        if self.container is not None:
            self.container.stop()
            return
        try:
            self.ctl("stop", timeout=60)
        except Exception:  # noqa: BLE001 - fall back to killing the process
            pass
        if self.process is not None:
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.home:
            shutil.rmtree(self.home, ignore_errors=True)


def start_rabbitmq() -> RabbitServer:
    if docker_engine_answers():
        from testcontainers.rabbitmq import RabbitMqContainer

        container = RabbitMqContainer("rabbitmq:3.13").start()
        port = int(container.get_exposed_port(5672))
        host = container.get_container_host_ip()
        return RabbitServer(amqp_url=f"amqp://guest:guest@{host}:{port}//", port=port, container=container)
    server_script = RABBITMQ_BIN / "rabbitmq-server"
    if not server_script.exists():
        raise ServerUnavailable(
            "RabbitMQ is not installed and no Docker engine answers: install it with "
            "`apt-get install rabbitmq-server` (make test does this when run as root)")
    home = Path(tempfile.mkdtemp(prefix="dps-rabbit-"))
    port = _free_port_pair(20000)
    node = f"dps_test_{os.getpid()}_{uuid.uuid4().hex[:6]}@localhost"
    (home / "enabled_plugins").write_text("[].")
    # Small disk and memory alarms must not stop publishers on a busy CI disk.
    (home / "rabbitmq.conf").write_text(
        f"disk_free_limit.absolute = 50MB\nlisteners.tcp.default = 127.0.0.1:{port}\n")
    env = {
        **os.environ,
        "HOME": str(home),
        "RABBITMQ_NODENAME": node,
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(port + 20000),
        "RABBITMQ_MNESIA_BASE": str(home / "mnesia"),
        "RABBITMQ_LOG_BASE": str(home / "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(home / "enabled_plugins"),
        "RABBITMQ_CONFIG_FILE": str(home / "rabbitmq"),
        "RABBITMQ_PID_FILE": str(home / "pid"),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
    }
    log = open(home / "server.log", "w")
    process = subprocess.Popen([str(server_script)], env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    server = RabbitServer(amqp_url=f"amqp://guest:guest@127.0.0.1:{port}//", port=port, node=node, home=home,
                          process=process, env=env)
    try:
        wait_port("127.0.0.1", port, 90)
        server.ctl("await_startup", timeout=90)
    except Exception as exc:
        tail = (home / "server.log").read_text()[-2000:]
        server.stop()
        raise ServerUnavailable(f"RabbitMQ did not start: {exc}\n{tail}") from exc
    return server


# -- PostgreSQL -------------------------------------------------------------------

@dataclass
class PostgresServer:
    host: str
    port: int
    user: str = "postgres"
    password: str = ""
    datadir: Path | None = None
    bindir: Path | None = None
    container: object | None = None

    def url(self, database: str = "postgres") -> str:
        auth = f"{self.user}:{self.password}@" if self.password else f"{self.user}@"
        return f"postgresql+psycopg://{auth}{self.host}:{self.port}/{database}"

    def admin_engine(self) -> sa.Engine:
        return sa.create_engine(self.url(), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)

    def create_database(self, name: str, template: str | None = None) -> str:
        engine = self.admin_engine()
        with engine.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        engine.dispose()
        return self.url(name)

    def drop_database(self, name: str) -> None:
        engine = self.admin_engine()
        with engine.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    def pg_ctl(self, action: str) -> None:
        """stop / start the cluster (for tests of a database outage)."""
        if self.container is not None:
            raise ServerUnavailable("pg_ctl is only for the local cluster")
        _as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-w", "-m", "fast", action,
                      *(["-o", self._options(), "-l", str(self.datadir / "server.log")] if action != "stop" else [])])

    def _options(self) -> str:
        return (f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=400")

    def stop(self) -> None:
        if self.container is not None:
            self.container.stop()
            return
        try:
            self.pg_ctl("stop")
        finally:
            shutil.rmtree(self.datadir, ignore_errors=True)


def _as_postgres(argv: list[str]) -> None:
    if os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if result.returncode:
        raise ServerUnavailable(f"{' '.join(argv)} failed: {result.stdout}{result.stderr}")


def _postgres_bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise ServerUnavailable(
            "PostgreSQL is not installed and no Docker engine answers: install it with "
            "`apt-get install postgresql` (make test does this when run as root)")
    return Path(found[-1]).parent


def start_postgres() -> PostgresServer:
    if docker_engine_answers():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16", username="postgres", password="postgres").start()
        return PostgresServer(host=container.get_container_host_ip(),
                              port=int(container.get_exposed_port(5432)), password="postgres", container=container)
    bindir = _postgres_bindir()
    datadir = Path(tempfile.mkdtemp(prefix="dps-pg-"))
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
    _as_postgres([str(bindir / "initdb"), "-D", str(datadir), "-A", "trust", "-U", "postgres", "--no-sync",
                  "-E", "UTF8"])
    server = PostgresServer(host="127.0.0.1", port=free_port(), datadir=datadir, bindir=bindir)
    server.pg_ctl("start")
    return server
