"""`make bench`: every benchmark in one run on this machine, beside the
limits of the parts we stand on, written to bench/results/ as JSON and a
Markdown table.

    python -m bench.run                       # all sections, sizes 1x,10x,100x
    python -m bench.run --sections broker,http --sizes 1,10
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import Measure, machine

RESULTS = Path(__file__).parent / "results"


def section_broker(ctx) -> list[Measure]:
    from bench import broker_raw

    out = []
    for factor in ctx.sizes:  # 200 / 2,000 / 20,000 messages: the 100x run stays well under a minute
        out += broker_raw.run(ctx.rabbitmq.amqp_url, 200 * factor, f"{200 * factor:,} messages")
    ctx.raw_publish_rate = max(m.value for m in out if "publish" in m.name)
    return out


def section_http_baseline(ctx) -> list[Measure]:
    from bench.http import gunicorn, wrk
    from tests.support.servers import free_port

    with gunicorn("bench.minimal_app:create_app()", free_port()) as url:
        result = wrk(f"{url}/ping", seconds=ctx.seconds)
    ctx.minimal_rps = result["rps"]
    return [Measure("http", "minimal Flask GET /ping", "-", result["rps"], "req/s",
                    extra={"p99_ms": result["p99_ms"]})]


# Read with the numbers: what they can and cannot say (bench/README.md has the rest).
NOTES = [
    "The machine has 2 cores and was shared with other test runs during this run (see the load averages): "
    "every number here is noisy, and the ratios (measured side by side, in the same minutes) say more than the "
    "absolute rates.",
    "The PostgreSQL and RabbitMQ are the tests' throwaway servers (PostgreSQL with fsync off); the services run "
    "with the production settings of the README (web 2 workers x 4 threads, relay poll 0.05 s).",
    "Targets missed and what stands in the way: bench/README.md, 'Missed targets'.",
]

SECTIONS = {
    "broker": section_broker,
    "http": section_http_baseline,
}


def _optional_sections() -> None:
    """Sections that live in their own modules register themselves when present."""
    import importlib

    for name in ("event_path", "http_services", "domain", "tracking_reports", "national_peak"):
        try:
            module = importlib.import_module(f"bench.{name}")
        except ImportError:
            continue
        if hasattr(module, "section"):
            SECTIONS[name] = module.section


class Context:
    def __init__(self, sizes: list[int], seconds: int, peak_seconds: int | None = None) -> None:
        self.sizes = sizes
        self.seconds = seconds
        self.peak_seconds = peak_seconds
        self.rabbitmq = None
        self.postgres = None
        self.raw_publish_rate = None
        self.minimal_rps = None


# Shown in the Markdown table's last column, when a measure has them.
DETAILS = ("p50_ms", "p95_ms", "p99_ms", "ratio_to_minimal", "non_2xx", "achieved_events_per_s", "deliveries",
           "deliveries_per_s", "stages_p50_p99_ms", "events", "http_requests", "wall_s", "peak_mib", "us_per_moderate",
           "moderation_projected_from", "rows", "query_ms", "http_ms", "csv_ms", "messages",
           "raw_publish_msg_per_s", "event_path_events_per_s", "ratio_to_broker_section_best", "cpu_ms_per_request",
           "requests", "achieved_rate_per_s", "errors", "timeouts", "connection_errors", "errors_by_status",
           "client_lag_p99_ms", "scheduler_lag_p99_ms", "most_in_flight", "client_threads", "client_cpu_s_per_s",
           "load_average_before", "load_average_after_1_5_15")


def _details(row: dict) -> str:
    parts = []
    for key in DETAILS:
        value = row.get(key)
        if value is None or (key == "p99_ms" and row.get("unit") == "ms" and row.get("value") == value):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items() if v is not None)
        parts.append(f"{key} {value}")
    return "; ".join(parts)


def to_markdown(results: dict) -> str:
    m = results["machine"]
    load = results.get("load_average", {})
    lines = [f"# Benchmark results, {results['at']}", "",
             f"Machine: {m['cpu']} ({m['cores']} cores, {m['memory']}), Python {m['python']}, "
             f"RabbitMQ {m['rabbitmq']}, PostgreSQL {m['postgresql']}, kernel {m['kernel']}.", ""]
    if load:
        lines += ["Load average (1 min) when each section began: " + ", ".join(
            f"{name} {value}" for name, value in load.items()) + ". The machine is shared: see the notes.", ""]
    lines += ["| section | measure | size | value | unit | target | met | details |",
              "|---|---|---|---|---|---|---|---|"]
    for r in results["measures"]:
        met = "" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append(f"| {r['section']} | {r['name']} | {r['size']} | {r['value']:,} | {r['unit']} | "
                     f"{r['target']} | {met} | {_details(r)} |")
    if results.get("notes"):
        lines += ["", "## Notes", "", *[f"- {n}" for n in results["notes"]]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    _optional_sections()
    p = argparse.ArgumentParser()
    p.add_argument("--sections", default=",".join(SECTIONS))
    p.add_argument("--sizes", default="1,10,100")
    p.add_argument("--seconds", type=int, default=8, help="wrk duration per HTTP measure")
    p.add_argument("--peak-seconds", type=int, default=None,
                   help="national_peak: seconds of each open-loop phase (average rate, then burst; default 30)")
    args = p.parse_args(argv)
    from tests.support.servers import start_postgres, start_rabbitmq

    ctx = Context([int(s) for s in args.sizes.split(",")], args.seconds, args.peak_seconds)
    ctx.rabbitmq, ctx.postgres = start_rabbitmq(), start_postgres()
    measures: list[Measure] = []
    notes: list[str] = []
    load: dict[str, float] = {}
    run_started = time.perf_counter()
    try:
        for name in args.sections.split(","):
            load[name] = round(os.getloadavg()[0], 2)
            started = time.perf_counter()
            print(f"== {name}", file=sys.stderr, flush=True)
            try:
                measures += SECTIONS[name](ctx)
            except Exception as exc:  # noqa: BLE001 - one broken section must not lose the others' numbers
                notes.append(f"section {name} failed: {type(exc).__name__}: {exc}")
                print(f"   failed: {exc}", file=sys.stderr)
            print(f"   {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
    finally:
        ctx.rabbitmq.stop()
        ctx.postgres.stop()
    load["end"] = round(os.getloadavg()[0], 2)
    results = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
               "seconds": round(time.perf_counter() - run_started), "sizes": ctx.sizes, "load_average": load,
               "measures": [m.row() for m in measures], "notes": notes + NOTES}
    RESULTS.mkdir(exist_ok=True)
    stamp = results["at"].replace(":", "").replace("+0000", "Z")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(results, indent=2))
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    (RESULTS / "latest.md").write_text(to_markdown(results))
    print(to_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
