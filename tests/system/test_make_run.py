"""`make run`, exactly as the README says, brings up all four services with
their workers; every /readyz answers 200 within 60 seconds; Ctrl-C stops all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[2]
PORTS = {"provider_registry": 8001, "referrals": 8002, "awards": 8003, "tracking": 8004}
PORTAL = 8000


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
        _assert_the_portal_answers(lines)
        _assert_dps_token_is_accepted(env)
        workers = subprocess.run(["pgrep", "-f", "-c", r"bin/dps (consumer|relay) "], capture_output=True, text=True)
        assert int(workers.stdout.strip() or 0) == 8, "four consumers and four relays run"
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert not any(_port_busy(p) for p in [*PORTS.values(), PORTAL]), "every web process stopped"
    left = subprocess.run(["pgrep", "-f", r"dps (consumer|relay|web) "], capture_output=True, text=True).stdout
    assert not left.strip(), f"processes left after Ctrl-C: {left}"


def _assert_the_portal_answers(lines: list[str]) -> None:
    """The portal's address comes first in what `make run` prints, and its start page offers the development
    sign-in."""
    running = next(i for i, line in enumerate(lines) if "The DPS is running" in line)
    assert f"http://127.0.0.1:{PORTAL}" in lines[running + 1], lines[running:running + 3]
    with urllib.request.urlopen(f"http://127.0.0.1:{PORTAL}/", timeout=5) as response:
        assert "Sign in as a manager, an officer of a team or a user of a provider" in response.read().decode()


def _assert_dps_token_is_accepted(env: dict) -> None:
    """The token the README tells a user to mint is one `make run` accepts: bound to the issuer and
    audience run.sh sets (issue #13, defect 9), and a token of another issuer is not; no Server banner."""
    import jwt

    minted = subprocess.run([str(ROOT / ".venv" / "bin" / "dps"), "token", "--role", "manager"], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=True).stdout.strip()
    claims = jwt.decode(minted, options={"verify_signature": False})
    assert claims.get("iss") and claims.get("aud"), claims
    forged = jwt.encode({**claims, "iss": "https://elsewhere.example"},
                        "dps-development-secret-do-not-use-in-production", algorithm="HS256")
    for token, expected in ((minted, 200), (forged, 401)):
        request = urllib.request.Request(f"http://127.0.0.1:{PORTS['tracking']}/v1/placements",
                                         headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                status, headers = response.status, response.headers
        except urllib.error.HTTPError as error:
            status, headers = error.code, error.headers
        assert status == expected, (expected, status)
        assert headers.get("Server") is None and headers.get("X-Content-Type-Options") == "nosniff"
