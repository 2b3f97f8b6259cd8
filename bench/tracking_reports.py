"""Tracking's reports over a big DPS: 10,000 placements and 500,000 weekly
attendance returns in PostgreSQL, seeded with COPY, then each report timed
as a query and as a whole HTTP request (JSON and CSV).  Every report must
answer in under a second.

    python -m bench.tracking_reports --url postgresql+psycopg://user@host:5432/dbname
    python -m bench.tracking_reports --start-test-cluster      # a throwaway cluster, as the tests use
    python -m bench.tracking_reports --start-test-cluster --placements 2000 --attendance 100000

The database given by --url must be empty (or pass --reset to empty the
tracking tables first); it is migrated to the tracking service's schema.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a file or with -m

import sqlalchemy as sa  # noqa: E402

from services.tracking import domain, models, views  # noqa: E402
from services.tracking.handlers import expected_end  # noqa: E402
from shared.auth import mint_token  # noqa: E402
from shared.config import load_settings  # noqa: E402
from shared.service import Runtime, load_definition  # noqa: E402

TODAY = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)  # a Friday of spring term
TEAMS = ("send", "exclusions", "medical", "virtual_school", "post16")
REASONS = ("permanent exclusion", "suspension", "medical needs", "mental health", "SEND needs",
           "unable to cope with full-time curriculum", "16-25 with an EHCP")
SECRET = "bench-secret-of-at-least-32-bytes-long"
TRACKING_TABLES = ("committed_spend", "block_contracts", "concerns", "reviews", "outcomes", "attendance_returns",
                   "placements", "providers", "memberships")


# -- seeding --------------------------------------------------------------------------------

def _placements(count: int, providers: list[uuid.UUID], rng: random.Random) -> list[dict]:
    """Placements started over two academic years; some awarded only, some
    ended, a few cancelled.  Lengths of 36 to 100 weeks, so the returns add up."""
    today = domain.council_date(TODAY)
    rows = []
    for _ in range(count):
        lot = rng.choice((1, 1, 2, 3, 4))
        hours = {1: 25, 2: rng.choice((6, 10, 15)), 3: rng.choice((12, 20, 25)), 4: rng.choice((8, 16))}[lot]
        weeks = rng.randint(36, 100)
        start = date(2022, 9, 5) + timedelta(weeks=rng.randint(0, 125))
        start = domain.week_commencing(start)
        end = expected_end(start, weeks)
        roll = rng.random()
        status = ("awarded" if start > today or roll < 0.06 else "cancelled" if roll < 0.09
                  else "ended" if roll < 0.45 else "started")
        started_on = start + timedelta(days=rng.randint(0, 3)) if status in ("started", "ended") else None
        ended_on = None
        if status == "ended":
            ended_on = min(started_on + timedelta(days=rng.randint(20, weeks * 7)), today, end)
            ended_on = max(ended_on, started_on)
        elif status == "cancelled":
            ended_on = min(start, today)
        last_review = (started_on + timedelta(days=rng.randint(0, (today - started_on).days))
                       if status == "started" and rng.random() < 0.7 else None)
        cost = int(weeks * rng.randint(300, 1500) * 100)
        rows.append(dict(
            placement_id=uuid.uuid4(), source=rng.choice(("call_off", "call_off", "block_place")),
            award_id=uuid.uuid4(), referral_id=uuid.uuid4(), child_ref=uuid.uuid4(),
            provider_id=rng.choice(providers), lot=lot, team=rng.choice(TEAMS), reason_for_ap=rng.choice(REASONS),
            hours_per_week=hours, full_time=hours > 18 or lot == 1, agreed_cost_pence=cost, weeks=weeks,
            start_date=start, expected_end_date=end, safeguarding="commissioning_team", provision="main",
            status=status, started_on=started_on,
            end_date=ended_on, end_reason=(rng.choice([r.value for r in domain.EndReason if r.value != "cancelled"])
                                           if status == "ended" else "cancelled" if status == "cancelled" else None),
            next_step=rng.choice([s.value for s in domain.NextStep]) if status in ("ended", "cancelled") else None,
            last_review_on=last_review,
            review_due_on=domain.review_due(started_on, last_review) if status == "started" else None,
            flagged_for_review=status == "started" and rng.random() < 0.02, review_flags="[]",
            awarded_at=TODAY - timedelta(days=400), created_at=TODAY, updated_at=TODAY))
    return rows


def _attendance(placements: list[dict], target: int, rng: random.Random) -> tuple[list[tuple], list[tuple]]:
    """Weekly returns from each placement's first week to its end (or today),
    cut at `target`; a concern row for each week with unexplained absence."""
    today = domain.council_date(TODAY)
    returns, concerns = [], []
    running = [p for p in placements if p["started_on"] is not None]
    rng.shuffle(running)
    for p in running:
        last = min(p["end_date"] or today, today)
        week = domain.week_commencing(p["started_on"])
        while week <= last and len(returns) < target:
            offered = rng.choice((5, 10, 10, 10))
            attended = max(0, offered - rng.choice((0, 0, 0, 1, 1, 2, 3, 5)))
            unauthorised = 1 if attended < offered and rng.random() < 0.15 else 0
            authorised = offered - attended - unauthorised
            returns.append((p["placement_id"], week, p["provider_id"], p["lot"], p["team"], offered, attended,
                            authorised, unauthorised, 0, "provider", TODAY))
            if unauthorised:
                concerns.append((uuid.uuid4(), p["placement_id"], p["provider_id"], p["lot"], p["team"],
                                 "unexplained_absence", week, domain.rate(attended, offered), TODAY))
            week += timedelta(weeks=1)
    return returns, concerns


def _spend(placements: list[dict]) -> list[tuple]:
    rows = []
    for p in placements:
        if p["status"] == "cancelled":
            continue
        spread = domain.allocate_by_month(p["agreed_cost_pence"], p["started_on"] or p["start_date"],
                                          p["expected_end_date"])
        rows += [(p["placement_id"], month, p["provider_id"], p["lot"], p["team"], pence)
                 for month, pence in spread.items()]
    return rows


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed(engine: sa.Engine, placements: int, attendance: int, seed_value: int = 20240315) -> dict:
    rng = random.Random(seed_value)
    providers = [uuid.uuid4() for _ in range(60)]
    placement_rows = _placements(placements, providers, rng)
    returns, concerns = _attendance(placement_rows, attendance, rng)
    spend = _spend(placement_rows)
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()
        _copy(cursor, "providers", ["provider_id", "name", "as_of"],
              [(pid, f"Provider {i:02d} Learning", TODAY) for i, pid in enumerate(providers)])
        columns = list(placement_rows[0])
        _copy(cursor, "placements", columns, ([row[c] for c in columns] for row in placement_rows))
        _copy(cursor, "attendance_returns",
              ["placement_id", "week_commencing", "provider_id", "lot", "team", "sessions_offered", "attended",
               "authorised_absence", "unauthorised_absence", "corrections", "recorded_by", "recorded_at"], returns)
        _copy(cursor, "concerns", ["concern_id", "placement_id", "provider_id", "lot", "team", "kind",
                                   "week_commencing", "rate", "raised_at"], concerns)
        _copy(cursor, "committed_spend", ["placement_id", "month", "provider_id", "lot", "team", "pence"], spend)
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return {"placements": len(placement_rows), "attendance_returns": len(returns), "concerns": len(concerns),
            "committed_spend": len(spend), "seconds": time.perf_counter() - started}


# -- timing ---------------------------------------------------------------------------------

def _timed(run, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def _time_request(client, url: str, headers: dict, repeat: int):
    return _timed(lambda: client.get(url, headers=headers), repeat)


def _queries(session, scope: dict, provider_id) -> dict:
    today = domain.council_date(TODAY)
    one = {"team": scope.get("team"), "provider_id": provider_id}
    return {
        "active placements (lot, team, provider, reason)": lambda: views.active_placements(session, scope, today),
        "committed spend (provider, lot, month)": lambda: views.committed_spend(session, scope),
        "provider accountability": lambda: views.accountability(session, scope),
        "overdue reviews": lambda: views.overdue_reviews(session, scope, today),
        "January census 2025": lambda: views.census(session, scope, 2025)[1],
        "chart data, whole DPS": lambda: (views.attendance_by_week(session, scope)
                                          + views.spend_by_month(session, scope, today)),
        "chart data, one provider": lambda: (views.attendance_by_week(session, one)
                                             + views.spend_by_month(session, one, today)),
    }


def _urls(provider_id) -> dict:
    return {
        "active placements (lot, team, provider, reason)": "/v1/reports/active-placements",
        "committed spend (provider, lot, month)": "/v1/reports/committed-spend",
        "provider accountability": "/v1/reports/accountability",
        "overdue reviews": "/v1/reports/overdue-reviews",
        "January census 2025": "/v1/reports/census?year=2025",
        "chart data, whole DPS": "/v1/reports/chart.png",
        "chart data, one provider": f"/v1/reports/chart.png?provider_id={provider_id}",
    }


def measure(runtime: Runtime, repeat: int) -> list[dict]:
    from shared.web import create_app

    app = create_app(runtime.definition, runtime.settings, runtime)
    client = app.test_client()
    with runtime.engine.connect() as connection:
        provider_id = connection.execute(sa.select(models.providers.c.provider_id).limit(1)).scalar_one()
    results = []
    for scope_name, scope, token in (
            ("manager", {}, mint_token(roles=["manager"], secret=SECRET)),
            ("officer (exclusions)", {"team": "exclusions"},
             mint_token(roles=["officer"], team="exclusions", secret=SECRET))):
        headers = {"Authorization": f"Bearer {token}"}
        with runtime.session_factory() as session:
            queries = _queries(session, scope, provider_id)
            for name, run in queries.items():
                query_ms, rows = _timed(run, repeat)
                url = _urls(provider_id)[name]
                http_ms, response = _time_request(client, url, headers, repeat)
                assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True))
                csv_ms = None
                if not url.startswith("/v1/reports/chart"):
                    csv_url = f"{url}{'&' if '?' in url else '?'}format=csv"
                    csv_ms, csv_response = _time_request(client, csv_url, headers, repeat)
                    assert csv_response.mimetype == "text/csv"
                results.append({"report": name, "scope": scope_name, "rows": len(rows), "query_ms": query_ms,
                                "http_ms": http_ms, "csv_ms": csv_ms})
    return results


def print_table(seeded: dict, results: list[dict]) -> None:
    print(f"\nseeded: {seeded['placements']:,} placements, {seeded['attendance_returns']:,} attendance returns, "
          f"{seeded['concerns']:,} concerns, {seeded['committed_spend']:,} spend rows "
          f"(COPY in {seeded['seconds']:.1f} s)\n")
    header = f"{'report':<48} {'scope':<21} {'rows':>6} {'query ms':>9} {'HTTP ms':>9} {'CSV ms':>9}  < 1 s"
    print(header)
    print("-" * len(header))
    for r in results:
        worst = max(r["query_ms"], r["http_ms"], r["csv_ms"] or 0)
        csv_ms = f"{r['csv_ms']:9.1f}" if r["csv_ms"] is not None else f"{'png':>9}"
        print(f"{r['report']:<48} {r['scope']:<21} {r['rows']:>6} {r['query_ms']:9.1f} {r['http_ms']:9.1f} "
              f"{csv_ms}  {'yes' if worst < 1000 else 'NO'}")
    print("\nmedian of the repeats; HTTP is the whole request through the Flask app (auth, SQL, "
          "serialisation; the chart's HTTP time includes drawing the PNG)")


# -- running --------------------------------------------------------------------------------

def _runtime(url: str) -> Runtime:
    settings = replace(load_settings("tracking"), database_url=url, jwt_secret=SECRET, jwt_public_key=None)
    runtime = Runtime(load_definition("tracking"), settings)
    runtime.clock = lambda: TODAY
    return runtime


def _reset(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {', '.join(TRACKING_TABLES)}"))


def run(url: str, placements: int, attendance: int, repeat: int, reset: bool) -> list[dict]:
    runtime = _runtime(url)
    try:
        runtime.migrate()
        with runtime.engine.connect() as connection:
            existing = connection.execute(sa.select(sa.func.count()).select_from(models.placements)).scalar_one()
        if existing and not reset:
            raise SystemExit(f"{existing} placements already in that database: give an empty one, or --reset")
        if reset:
            _reset(runtime.engine)
        seeded = seed(runtime.engine, placements, attendance)
        results = measure(runtime, repeat)
        print_table(seeded, results)
        return results
    finally:
        runtime.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="a PostgreSQL database (postgresql+psycopg://...)")
    where.add_argument("--start-test-cluster", action="store_true",
                       help="start a throwaway PostgreSQL cluster as the tests do, and stop it after")
    parser.add_argument("--placements", type=int, default=10_000)
    parser.add_argument("--attendance", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reset", action="store_true", help="empty the tracking tables first")
    args = parser.parse_args(argv)
    if args.url:
        if not args.url.startswith("postgresql"):
            parser.error("the benchmark is for PostgreSQL")
        results = run(args.url, args.placements, args.attendance, args.repeat, args.reset)
    else:
        from tests.support.servers import start_postgres

        server = start_postgres()
        try:
            results = run(server.create_database("bench_tracking"), args.placements, args.attendance,
                          args.repeat, False)
        finally:
            server.stop()
    slow = [r for r in results if max(r["query_ms"], r["http_ms"], r["csv_ms"] or 0) >= 1000]
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())


# -- in `make bench` (bench/run.py) ---------------------------------------------------------

REPORT_TARGET_MS = 1000.0


def section(ctx) -> list:
    """Every report at three sizes (1x, 10x, 100x of 100 placements and 5,000
    attendance returns, so 10,000 and 500,000 at 100x), each in a database
    of its own on the run's PostgreSQL; the value is the slowest of the
    query, the JSON request and the CSV request (median of the repeats)."""
    from bench.common import Measure

    out = []
    largest = max(ctx.sizes)
    for factor in ctx.sizes:
        placements, attendance = 100 * factor, 5_000 * factor
        name = f"bench_tracking_{factor}x"
        ctx.postgres.drop_database(name)
        runtime = _runtime(ctx.postgres.create_database(name))
        try:
            runtime.migrate()
            seeded = seed(runtime.engine, placements, attendance)
            results = measure(runtime, repeat=3 if factor >= 100 else 5)
        finally:
            runtime.engine.dispose()
            ctx.postgres.drop_database(name)
        size = f"{seeded['placements']:,} placements, {seeded['attendance_returns']:,} returns"
        for r in results:
            if r["scope"] != "manager" and factor != largest:
                continue  # the officer's (one team's) view only at the largest size
            worst = max(r["query_ms"], r["http_ms"], r["csv_ms"] or 0)
            at_target = factor == largest
            out.append(Measure(
                "tracking reports", f"{r['report']} [{r['scope']}]", size, worst, "ms",
                target="< 1 s" if at_target else "", met=(worst < REPORT_TARGET_MS) if at_target else None,
                extra={"rows": r["rows"], "query_ms": round(r["query_ms"], 1), "http_ms": round(r["http_ms"], 1),
                       "csv_ms": None if r["csv_ms"] is None else round(r["csv_ms"], 1),
                       "seed_seconds": round(seeded["seconds"], 1)}))
    return out
