"""`make run`, exactly as the README says, brings up all five services with
their workers and the local SMTP server; every /readyz answers 200 within 60
seconds; a published referral's message is a file in data/mail; Ctrl-C stops
all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[2]
PORTS = {"provider_registry": 8001, "referrals": 8002, "awards": 8003, "tracking": 8004, "notifications": 8005}
SMTP_PORT = 1025
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


def test_make_run_brings_up_all_five_services_ready_within_60_seconds(tmp_path):
    busy = [p for p in (*PORTS.values(), SMTP_PORT) if _port_busy(p)]
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
        print(f"all five ready after {elapsed:.1f} s")
        while time.monotonic() - started < 60 and not any("The DPS is running" in line for line in lines):
            time.sleep(0.2)
        assert any("The DPS is running" in line for line in lines), "make run tells the user where the services are"
        assert any(f"each message is a file in {env['DPS_DATA_DIR']}/mail" in line for line in lines), \
            "make run says where mail goes"
        _assert_the_portal_answers(lines)
        _assert_dps_token_is_accepted(env)
        workers = subprocess.run(["pgrep", "-f", "-c", r"bin/dps (consumer|relay) "], capture_output=True, text=True)
        assert int(workers.stdout.strip() or 0) == 10, "five consumers and five relays run"
        _assert_a_published_referral_is_mailed(Path(env["DPS_DATA_DIR"]) / "mail")
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert not any(_port_busy(p) for p in (*PORTS.values(), SMTP_PORT, PORTAL)), \
        "every web process, the portal and the SMTP server stopped"
    left = subprocess.run(["pgrep", "-f", r"dps (consumer|relay|web|smtp|portal)"], capture_output=True,
                          text=True).stdout
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


def _assert_a_published_referral_is_mailed(folder: Path) -> None:
    """A provider admitted, a child referred on its lot: the new referral's message is a file in data/mail
    (the local SMTP server `make run` starts, which the notifications mail relay sends to)."""
    from demo import journey as j
    from services.notifications.mailbox import LocalMailServer
    from shared.auth import mint_token
    from shared.config import DEVELOPMENT_JWT_AUDIENCE, DEVELOPMENT_JWT_ISSUER, DEVELOPMENT_JWT_SECRET

    def token(*roles: str, team=None, provider_id=None, sub: str = "system-test") -> str:
        return mint_token(roles=list(roles), sub=sub, team=team, provider_id=provider_id,
                          secret=DEVELOPMENT_JWT_SECRET, issuer=DEVELOPMENT_JWT_ISSUER,
                          audience=DEVELOPMENT_JWT_AUDIENCE)

    client = j.Client({s: f"http://127.0.0.1:{port}" for s, port in PORTS.items()}, token)
    provider = j.admit_provider(client, "Make Run Learning", (1,))
    referral = j.refer_child(client, lot=1, deadline=j.now_utc() + timedelta(days=3))
    assert str(provider.id) in referral.invited

    def mailed() -> bool:  # read as a mail client does: the body is quoted-printable
        return any(f"/provider/referrals/{referral.id}" in message.get_content()
                   for message in LocalMailServer.read(folder))

    started = time.monotonic()
    while not mailed() and time.monotonic() - started < 30:
        time.sleep(0.5)
    assert mailed(), f"no message about the referral in {folder}"
