"""`make bench`: every benchmark in one run on this machine, beside the
limits of the parts we stand on, written to bench/results/ as JSON and a
Markdown table.

    python -m bench.run                       # all sections, sizes 1x,10x,100x
    python -m bench.run --sections broker,http --sizes 1,10
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import Measure, machine

RESULTS = Path(__file__).parent / "results"


def section_broker(ctx) -> list[Measure]:
    from bench import broker_raw

    out = []
    for factor in ctx.sizes:
        out += broker_raw.run(ctx.rabbitmq.amqp_url, 1000 * factor, f"{factor}x")
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


SECTIONS = {
    "broker": section_broker,
    "http": section_http_baseline,
}


def _optional_sections() -> None:
    """Sections that live in their own modules register themselves when present."""
    import importlib

    for name in ("event_path", "http_services", "domain", "tracking_reports"):
        try:
            module = importlib.import_module(f"bench.{name}")
        except ImportError:
            continue
        if hasattr(module, "section"):
            SECTIONS[name] = module.section


class Context:
    def __init__(self, sizes: list[int], seconds: int) -> None:
        self.sizes = sizes
        self.seconds = seconds
        self.rabbitmq = None
        self.postgres = None
        self.raw_publish_rate = None
        self.minimal_rps = None


def to_markdown(results: dict) -> str:
    m = results["machine"]
    lines = [f"# Benchmark results, {results['at']}", "",
             f"Machine: {m['cpu']} ({m['cores']} cores, {m['memory']}), Python {m['python']}, "
             f"RabbitMQ {m['rabbitmq']}, PostgreSQL {m['postgresql']}.", "",
             "| section | measure | size | value | unit | target | met |", "|---|---|---|---|---|---|---|"]
    for r in results["measures"]:
        met = "" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append(f"| {r['section']} | {r['name']} | {r['size']} | {r['value']:,} | {r['unit']} | "
                     f"{r['target']} | {met} |")
    if results.get("notes"):
        lines += ["", "## Notes", "", *[f"- {n}" for n in results["notes"]]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    _optional_sections()
    p = argparse.ArgumentParser()
    p.add_argument("--sections", default=",".join(SECTIONS))
    p.add_argument("--sizes", default="1,10,100")
    p.add_argument("--seconds", type=int, default=8, help="wrk duration per HTTP measure")
    args = p.parse_args(argv)
    from tests.support.servers import start_postgres, start_rabbitmq

    ctx = Context([int(s) for s in args.sizes.split(",")], args.seconds)
    ctx.rabbitmq, ctx.postgres = start_rabbitmq(), start_postgres()
    measures: list[Measure] = []
    notes: list[str] = []
    try:
        for name in args.sections.split(","):
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
    results = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
               "measures": [m.row() for m in measures], "notes": notes}
    RESULTS.mkdir(exist_ok=True)
    stamp = results["at"].replace(":", "").replace("+0000", "Z")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(results, indent=2))
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    (RESULTS / "latest.md").write_text(to_markdown(results))
    print(to_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
