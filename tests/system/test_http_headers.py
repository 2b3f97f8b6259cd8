"""A real gunicorn web process (`dps web`, as `make run` and the containers
start it) sends the security headers and no `Server` banner (issue #13, defect 11)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.runtime import auth

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    from tests.support.runtime import TEST_JWT_SECRET

    port, data = _free_port(), tmp_path_factory.mktemp("web")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DPS_")}
    env.update(DPS_DATA_DIR=str(data), DPS_TRACKING_PORT=str(port), DPS_JWT_SECRET=TEST_JWT_SECRET,
               DPS_AMQP_URL=f"amqp://guest:guest@127.0.0.1:{_free_port()}//", DPS_WEB_WORKERS="1")
    log = (data / "web.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "shared.cli", "web", "tracking"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if _get(url + "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail(f"dps web tracking did not become ready:\n{(data / 'web.log').read_text()[-3000:]}")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.mark.parametrize("path", ["/v1/placements", "/healthz", "/openapi.json", "/docs", "/v1/nowhere"])
def test_gunicorn_sends_no_server_banner(web, path):
    _status, headers = _get(web + path, auth("manager"))
    assert headers.get("Server") is None, headers.get("Server")


def test_gunicorn_sends_the_security_headers_and_no_store_on_the_api(web):
    status, headers = _get(web + "/v1/placements", auth("manager"))
    assert status == 200
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
