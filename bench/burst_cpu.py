"""CPU per request of the national peak's endpoints: where the burst's CPU goes.

The burst (170 requests/s on 2 cores, beside the relays, consumers, PostgreSQL,
RabbitMQ and the client) leaves about 8 ms of CPU per request all told.  On a
shared machine wall-clock latencies are noise, but the CPU a process spends on a
request is not (much), so this measures that: the whole system as the national
peak starts it (`bench/system.py`, `make run`'s settings), the records made as
`national_peak.prepare` makes them, then each endpoint of the mix sent `--repeat`
times in turn, one at a time, over HTTP.  Around each endpoint the CPU time
(user + system, from /proc) of this run's own processes only (each service's
gunicorn master and workers, consumer and relay with their children, the run's
PostgreSQL and RabbitMQ: other work on the machine is not counted) is read, the
writes' events are awaited until every consumer has applied them, and the idle
cost of the same seconds (the relays' and consumers' polling, measured first) is
taken off.  Printed per endpoint: web ms/request, and all-in ms/request
(web + relays + consumers + PostgreSQL + RabbitMQ), then the mix's weighted mean.
Not part of `make bench`:

    .venv/bin/python -m bench.burst_cpu [--repeat 40] [--concurrency 1] [--only SUBSTRING] [--json FILE]
                                        [--in-process N [--profile DIR]]
    DPS_WEB_WORKERS=4 DPS_WEB_THREADS=2 .venv/bin/python -m bench.burst_cpu --concurrency 8   # other settings
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.national_peak import MIX, Supply, prepare
from bench.system import BenchSystem, consumers_of, own_servers

TICKS = os.sysconf("SC_CLK_TCK")


class _Ctx:
    templates = None


def _processes() -> tuple[dict[int, int], dict[int, float]]:
    """Every process's parent and CPU seconds so far."""
    parents, used = {}, {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(pid)] = int(fields[1])
        used[int(pid)] = (int(fields[11]) + int(fields[12])) / TICKS
    return parents, used


class Meter:
    """CPU seconds used by each group of this run's processes (a root process and all its descendants)."""

    def __init__(self, roots: dict[str, list[int]]) -> None:
        self.roots = roots

    def snapshot(self) -> Counter:
        parents, used = _processes()
        children: dict[int, list[int]] = {}
        for pid, parent in parents.items():
            children.setdefault(parent, []).append(pid)
        out: Counter = Counter()
        for group, roots in self.roots.items():
            stack = list(roots)
            while stack:
                pid = stack.pop()
                out[group] += used.get(pid, 0.0)
                stack.extend(children.get(pid, ()))
        return out


def roots_of(system: BenchSystem, ctx) -> dict[str, list[int]]:
    roots: dict[str, list[int]] = {}
    for name, service in system.system.services.items():
        for role, process in service.processes.items():
            roots[f"{role} {name}"] = [process.pid]
    if ctx.postgres.datadir is not None:
        roots["postgresql"] = [int((Path(ctx.postgres.datadir) / "postmaster.pid").read_text().split()[0])]
    if ctx.rabbitmq.process is not None:
        roots["rabbitmq"] = [ctx.rabbitmq.process.pid]
    return roots


def _kind(group: str) -> str:
    return group.split()[0]


def in_process(system: BenchSystem, ctx, supply: Supply, mix: list, repeat: int, path: str = "") -> dict:
    """Each endpoint `repeat` times through its service's own app in this process (the test client, one
    thread): this process's CPU time per request, finer than /proc's ticks and free of the other processes;
    no gunicorn, no socket.  With `path`, `repeat` more under cProfile counting CPU time (not the wall clock:
    waiting for the database is not this process's cost), one file per endpoint in the directory `path`."""
    import cProfile

    from shared.web import create_app
    from tests.support import runtime as rt

    clients = {}
    for name, service in system.system.services.items():
        runtime = rt.build_runtime(name, service.database_url, ctx.rabbitmq.amqp_url, migrate=False)
        clients[name] = create_app(runtime.definition, runtime.settings, runtime).test_client()
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
    out = {}
    for service, name, _weight, _write in mix:
        client = clients[service]
        profiler = cProfile.Profile(time.process_time) if path else None
        spent, sent = 0.0, 0
        for i in range(2 * repeat + 1 if path else repeat + 1):
            request = supply.build(name)
            profiling = profiler is not None and i > repeat
            began = time.process_time()
            if profiling:
                profiler.enable()
            response = client.open(request.path, method=request.method, headers=request.headers, json=request.body)
            if profiling:
                profiler.disable()
            elif i:
                spent, sent = spent + time.process_time() - began, sent + 1
            if response.status_code not in request.expect:
                print(f"   in process: {name} -> {response.status_code} after {i} (its records ran out)", flush=True)
                break
        out[name] = round(spent * 1000 / sent, 2) if sent else None
        print(f"{service:<18} {name[:54]:<54} {out[name]!s:>7} ms in process ({sent} requests)", flush=True)
        if profiler is not None:
            slug = "".join(ch if ch.isalnum() else "_" for ch in f"{service} {name}").strip("_")
            profiler.dump_stats(Path(path) / f"{slug}.prof")
    if path:
        print(f"profiles: {path} (python -m pstats FILE)", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=1,
                        help="requests in flight at once (1: one at a time); the web processes' threads then "
                             "contend for their GIL as in a burst")
    parser.add_argument("--only", default="", help="only the endpoints whose name contains this")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    parser.add_argument("--in-process", type=int, default=0, metavar="N",
                        help="then send each endpoint N times through its app in this process (the test client), "
                             "timing this process's CPU")
    parser.add_argument("--profile", default="", help="with --in-process: N more under cProfile, one file per "
                                                        "endpoint in this directory")
    args = parser.parse_args(argv)
    mix = [m for m in MIX if args.only in m[1]]
    ctx = _Ctx()
    rows = []
    with own_servers(ctx), BenchSystem(ctx) as system:
        each = args.repeat + 1 + (args.in_process * (2 if args.profile else 1) + 1 if args.in_process else 0)
        needs = Counter({name: each for _, name, _, write in mix if write})
        journey, pools = prepare(system, needs)
        supply = Supply(journey, pools)
        consumers = consumers_of()
        meter = Meter(roots_of(system, ctx))
        local = threading.local()
        time.sleep(2)
        before, started = meter.snapshot(), time.perf_counter()
        time.sleep(5)
        idle_seconds = time.perf_counter() - started
        idle = {g: s / idle_seconds for g, s in (meter.snapshot() - before).items()}
        print("idle CPU ms/s: " + ", ".join(f"{g} {v * 1000:.1f}" for g, v in sorted(idle.items()) if v),
              flush=True)
        print(f"{'service':<18} {'request':<54} {'web ms':>7} {'all ms':>7}  breakdown (ms/request)", flush=True)
        for service, name, weight, write in mix:
            due = [supply.build(name) for _ in range(args.repeat + 1)]

            def send(request, name=name):
                if not hasattr(local, "http"):
                    local.http = requests.Session()  # one keep-alive connection per client thread
                response = local.http.request(request.method, system.url(request.service) + request.path,
                                              json=request.body, headers=request.headers, timeout=60)
                assert response.status_code in request.expect, (name, response.status_code, response.text[:300])

            send(due[0])  # warm: the first of each kind fills caches
            system.wait_drained(60)
            since = system.outbox_position()
            before, started = meter.snapshot(), time.perf_counter()
            if args.concurrency > 1:  # as a burst sends them: several in flight at once
                with ThreadPoolExecutor(args.concurrency) as pool:
                    list(pool.map(send, due[1:]))
            else:
                for request in due[1:]:
                    send(request)
            if write:
                system.wait_drained(60)
                system.effects(system.produced_since(since), consumers, timeout=60)
            after, seconds = meter.snapshot(), time.perf_counter() - started
            used = {g: max(0.0, after[g] - before[g] - idle.get(g, 0.0) * seconds) for g in meter.roots}
            by_kind: Counter = Counter()
            for g, s in used.items():
                by_kind[_kind(g)] += s * 1000 / args.repeat
            web = used.get(f"web {service}", 0.0) * 1000 / args.repeat
            total = sum(by_kind.values())
            rows.append({"service": service, "request": name, "weight": weight, "web_ms": round(web, 2),
                         "all_ms": round(total, 2), "by_kind": {k: round(v, 2) for k, v in by_kind.items()}})
            parts = ", ".join(f"{k} {v:.2f}" for k, v in by_kind.most_common() if v >= 0.05)
            print(f"{service:<18} {name[:54]:<54} {web:>7.2f} {total:>7.2f}  {parts}", flush=True)
        weights = sum(r["weight"] for r in rows)
        mean_web = sum(r["web_ms"] * r["weight"] for r in rows) / weights
        mean_all = sum(r["all_ms"] * r["weight"] for r in rows) / weights
        print(f"{'mix (weighted)':<18} {'':<54} {mean_web:>7.2f} {mean_all:>7.2f}", flush=True)
        if args.in_process:
            for name, ms in in_process(system, ctx, supply, mix, args.in_process, args.profile).items():
                next(r for r in rows if r["request"] == name)["in_process_ms"] = ms
            known = [r for r in rows if r.get("in_process_ms") is not None]
            mean = sum(r["in_process_ms"] * r["weight"] for r in known) / sum(r["weight"] for r in known)
            print(f"{'mix (weighted)':<18} {'':<54} {mean:>7.2f} ms in process", flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps({"repeat": args.repeat, "idle_ms_per_s": {
                g: round(v * 1000, 1) for g, v in idle.items()}, "rows": rows,
                "mix_web_ms": round(mean_web, 2), "mix_all_ms": round(mean_all, 2)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
