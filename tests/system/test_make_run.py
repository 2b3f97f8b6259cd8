"""`make run`, exactly as the README says, brings up all four services with
their workers; every /readyz answers 200 within 60 seconds; Ctrl-C stops all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[2]
PORTS = {"provider_registry": 8001, "referrals": 8002, "awards": 8003, "tracking": 8004}


def _port_busy(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_make_run_brings_up_all_four_services_ready_within_60_seconds(tmp_path):
    busy = [p for p in PORTS.values() if _port_busy(p)]
    if busy:
        pytest.fail(f"ports {busy} are in use (is `make run` already running?); stop it to run this test")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DPS_")}
    env["DPS_DATA_DIR"] = str(tmp_path / "data")
    # set-up (venv, RabbitMQ) is done by `make test` already; the clock starts at `make run`
    started = time.monotonic()
    process = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True).start()
    try:
        waiting = dict(PORTS)
        while waiting and time.monotonic() - started < 60:
            for service, port in list(waiting.items()):
                if _ready(port):
                    del waiting[service]
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        assert not waiting, f"not ready after 60 s: {sorted(waiting)}"
        print(f"all four ready after {elapsed:.1f} s")
        while time.monotonic() - started < 60 and not any("The DPS is running" in line for line in lines):
            time.sleep(0.2)
        assert any("The DPS is running" in line for line in lines), "make run tells the user where the services are"
        workers = subprocess.run(["pgrep", "-f", "-c", r"bin/dps (consumer|relay) "], capture_output=True, text=True)
        assert int(workers.stdout.strip() or 0) == 8, "four consumers and four relays run"
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert not any(_port_busy(p) for p in PORTS.values()), "every web process stopped"
    left = subprocess.run(["pgrep", "-f", r"dps (consumer|relay|web) "], capture_output=True, text=True).stdout
    assert not left.strip(), f"processes left after Ctrl-C: {left}"
