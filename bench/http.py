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


def _lua(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal for the ASCII we send


def wrk(url: str, *, seconds: int = 5, connections: int = 16, threads: int = 2, method: str = "GET",
        body: dict | None = None, headers: dict | None = None, body_factory: str | None = None,
        targets: list[tuple] | None = None, n_expr: str = "counter") -> dict:
    """Runs wrk; returns requests/s, p50/p99 latency in ms, the request count, the non-2xx count and
    socket errors.

    body_factory: a Lua expression producing the body per request (to make each write unique); it may use
    `counter`, which goes up by one per request and starts at a million times the wrk thread's number.
    targets: (path, headers) or (path, headers, body_template) tuples the requests go round (e.g. each
    provider's own placement with its own token); a template's "@N@" becomes the Lua expression `n_expr`
    for each request.  The url then gives only the scheme, host and port (and the first path)."""
    script = ["wrk.method = %s" % json.dumps(method)]
    for name, value in (headers or {}).items():
        script.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    if body is not None:
        script.append(f"wrk.body = {json.dumps(json.dumps(body))}")
    if body_factory or targets:
        script.append("local threads = 0\nfunction setup(thread)\n threads = threads + 1\n"
                      " thread:set(\"tid\", threads)\nend\n"
                      "function init(args)\n counter = (tid or 0) * 1000000\nend")
        make_body = body_factory or "nil"
        pick = ""
        if targets:
            script.append("paths = {" + ", ".join(_lua(t[0]) for t in targets) + "}")
            script.append("heads = {" + ", ".join(
                "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in {**(headers or {}), **t[1]}.items()) + "}"
                for t in targets) + "}")
            pick = "local i = counter % #paths + 1\n local h = {}\n for k, v in pairs(heads[i]) do h[k] = v end\n "
            if any(len(t) > 2 and t[2] is not None for t in targets):
                script.append("bodies = {" + ", ".join(
                    _lua(t[2] if isinstance(t[2], str) else json.dumps(t[2])) for t in targets) + "}")
                make_body = f'(string.gsub(bodies[i], "@N@", tostring({n_expr})))'
        script.append("request = function()\n counter = counter + 1\n " + pick +
                      f"return wrk.format(nil, {'paths[i]' if targets else 'nil'}, {'h' if targets else 'nil'}, "
                      f"{make_body})\nend")
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
    requests = re.search(r"(\d+) requests in", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": rps, "p50_ms": pct(50), "p99_ms": pct(99), "non_2xx": non2xx,
            "requests": int(requests.group(1)) if requests else None,
            "socket_errors": sum(int(g) for g in socket.groups()) if socket else 0}
