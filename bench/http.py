"""HTTP load from a second process (wrk, from Debian's packages) against
gunicorn, at the settings the README recommends."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = ["--worker-class", "gthread", "--workers", os.environ.get("DPS_WEB_WORKERS", "2"),
            "--threads", os.environ.get("DPS_WEB_THREADS", "4")]


def require_wrk() -> str:
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("wrk is needed for the HTTP benchmark: apt-get install wrk")
    return path


@contextmanager
def gunicorn(app: str, port: int, env: dict | None = None):
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", *GUNICORN,
                                "--access-logfile", "/dev/null", "--error-logfile", "/dev/null", app],
                               cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/", timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, *, seconds: int = 5, connections: int = 16, threads: int = 2, method: str = "GET",
        body: dict | None = None, headers: dict | None = None, body_factory: str | None = None) -> dict:
    """Runs wrk; returns requests/s, p50/p99 latency in ms and the non-2xx count.

    body_factory: a Lua expression producing the body per request (to make each write unique)."""
    script = ["wrk.method = %s" % json.dumps(method)]
    for name, value in (headers or {}).items():
        script.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    if body is not None:
        script.append(f"wrk.body = {json.dumps(json.dumps(body))}")
    if body_factory:
        script.append("counter = 0\nrequest = function()\n counter = counter + 1\n"
                      f" return wrk.format(nil, nil, nil, {body_factory})\nend")
    script.append("""done = function(summary, latency, requests)
  io.write(string.format("NON2XX %d\\n", summary.errors.status))
end""")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write("\n".join(script))
        lua = f.name
    out = subprocess.run([require_wrk(), "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
                          "-s", lua, url], capture_output=True, text=True, timeout=seconds + 60).stdout
    os.unlink(lua)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out)
        return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")

    non2xx = int(re.search(r"NON2XX (\d+)", out).group(1)) if "NON2XX" in out else 0
    return {"rps": rps, "p50_ms": pct(50), "p99_ms": pct(99), "non_2xx": non2xx}
