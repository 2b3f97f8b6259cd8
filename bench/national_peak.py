"""The national peak, open-loop: docs/operations.md's capacity plan driven
through the four services' real APIs, as their real clients would, at a
fixed rate from a clock.

The capacity plan (docs/operations.md, "Capacity plan: a national service")
puts the peak hour (Friday afternoon, attendance returns) at about 17
requests/s on tracking and about the same again on the other three services
together, so **34 requests/s** across the four on average, and in five-fold
bursts **170 requests/s** (about 17 events/s: a write is about one request
in eleven). Each phase sends that mix for a bounded time (30 s by default),
first at the average rate, then at the burst rate.

Open-loop: request i is due at start + i / rate, whatever happened to the
earlier ones, and a pool of client threads sends it when it is due.  Its
latency is measured from that due time, not from when a thread got round to
sending it, so a stall of the system (or of the client) counts against
every request that should have gone out meanwhile (no coordinated
omission).  Each service's requests have a pool of client threads of their
own (sized for every request its rate can have waiting on a full timeout,
at most CLIENT_THREADS), so a service that stalls does not hold up the
clients of the others, as it would not in life.  `client_lag_p99_ms` says how late the client itself sent
(a high figure there means the bench machine, not the system, is the limit).

The mix (per 1,000 requests; writes are 88, about one in eleven as in the
plan, each a valid request that the service accepts, each with the token of
the right person: the council's officer or manager, a provider's own system):

- tracking 500: attendance returns (a provider's correction of this week's
  return, 45), a placement (manager, 150), a provider's placements (100),
  a placement's attendance (provider, 100), the manager's placements list (60),
  the active-placements report (45);
- referrals 250: a draft referral (6), publishing a draft (6), a provider's
  offer (10) and decline (10) on an open referral, a provider changing its
  offer (3); a referral (officer, 70), the officer's referrals list (50), a
  provider's open referrals (65), a provider's offers (30);
- provider_registry 120: a provider (manager, 60), the providers list (30),
  the lots (25), a provider's capacity change (5);
- awards 130: a referral's ranking (officer, 90), the awards list (25), the
  closed referrals list (12), an award of the top-ranked offer (3).

Every record a write needs is made before the clock starts (drafts to
publish, open referrals with a (provider, referral) pair for each offer or
decline, closed and assessed referrals to award, started placements), so the
measured phases are the load alone.  Offers and declines go round the open
referrals, so two providers rarely answer the same referral in the same
instant (any 409 they get is counted as an error all the same).

Targets: p99 < 200 ms at the average rate, < 500 ms in the burst, 0 errors
(any answer other than the expected 2xx; no answer: a timeout of REQUEST_TIMEOUT_S, or the connection
refused or reset).
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta

import requests

from bench.common import Measure, percentile
from bench.event_path import MANAGER, OFFICER, Journey, line_id, provider_auth, referral_form, wait_for
from bench.system import BenchSystem, consumers_of

AVERAGE_RATE = 34.0  # requests/s across the four services at the peak hour (docs/operations.md)
BURST_FACTOR = 5
PHASE_SECONDS = 30
REQUEST_TIMEOUT_S = 5.0
CLIENT_THREADS = 256  # at most, per service
PROVIDERS = 12
PLACEMENTS = 10
TARGETS_MS = {"average": 200.0, "burst": 500.0}
LOT = 1

# (service, name, weight per 1,000, write?)
MIX = [
    ("tracking", "POST /v1/placements/{id}/attendance (a correction)", 45, True),
    ("tracking", "GET /v1/placements/{id}", 150, False),
    ("tracking", "GET /v1/placements (a provider's own)", 100, False),
    ("tracking", "GET /v1/placements/{id}/attendance (provider)", 100, False),
    ("tracking", "GET /v1/placements (manager)", 60, False),
    ("tracking", "GET /v1/reports/active-placements", 45, False),
    ("referrals", "POST /v1/referrals (a draft)", 6, True),
    ("referrals", "POST /v1/referrals/{id}/publish", 6, True),
    ("referrals", "POST /v1/provider/referrals/{id}/offers", 10, True),
    ("referrals", "POST /v1/provider/referrals/{id}/decline", 10, True),
    ("referrals", "PUT /v1/provider/offers/{id} (change an offer)", 3, True),
    ("referrals", "GET /v1/referrals/{id}", 70, False),
    ("referrals", "GET /v1/referrals (officer)", 50, False),
    ("referrals", "GET /v1/provider/referrals", 65, False),
    ("referrals", "GET /v1/provider/offers", 30, False),
    ("provider_registry", "GET /v1/providers/{id}", 60, False),
    ("provider_registry", "GET /v1/providers", 30, False),
    ("provider_registry", "GET /v1/lots", 25, False),
    ("provider_registry", "PUT /v1/providers/{id}/lots/1/capacity", 5, True),
    ("awards", "GET /v1/referrals/{id}/ranking", 90, False),
    ("awards", "GET /v1/awards", 25, False),
    ("awards", "GET /v1/referrals (closed)", 12, False),
    ("awards", "POST /v1/referrals/{id}/award", 3, True),
]
assert sum(w for *_, w, _ in MIX) == 1000


@dataclass
class Request:
    service: str
    name: str
    method: str
    path: str
    headers: dict
    body: dict | None = None
    expect: tuple = (200, 201)


@dataclass
class Result:
    name: str
    service: str
    latency_ms: float
    lag_ms: float
    status: int | None  # None: timeout or connection error
    error: str = ""


@dataclass
class Pools:
    """The records made before the clock starts, each write's supply."""

    drafts: list = field(default_factory=list)  # referral ids, drafts to publish
    pairs: list = field(default_factory=list)  # (referral dict, provider id): each answered once
    offers: list = field(default_factory=list)  # (offer id, provider id, referral dict): live offers to change
    to_award: list = field(default_factory=list)  # (referral id, top-ranked offer id)
    placements: list = field(default_factory=list)  # (placement id, provider id), started
    closed: list = field(default_factory=list)  # referral ids, closed (officer reads, rankings)


def offer_terms(provider_id, referral: dict, price: int) -> dict:
    return {"pricing_line_id": line_id(provider_id, LOT), "unit_price_pence": price, "units_per_week": 1,
            "weeks": 12, "proposed_start": date.today().isoformat(), "staffing_ratio": "1:4",
            "delivery_site": "Riverside Centre", "delivery_postcode": "SE15 5AB",
            "how_it_meets_needs": "Groups of four with a trained SEMH mentor; weekly reviews.",
            "place_available": True,
            "answers": {q["question_id"]: "Ten years running an SEMH provision" for q in referral["questions"]}}


def counts(total: int) -> dict[str, int]:
    """How many of each request a phase of `total` sends (largest remainders, so they add up)."""
    exact = {name: total * w / 1000 for _, name, w, _ in MIX}
    out = {name: int(v) for name, v in exact.items()}
    for name in sorted(exact, key=lambda n: exact[n] - out[n], reverse=True)[:total - sum(out.values())]:
        out[name] += 1
    return out


def prepare(system: BenchSystem, needs: Counter) -> tuple[Journey, Pools]:
    """Providers admitted on lot 1, and every record the phases' writes use."""
    journey = Journey(system, consumers_of(), LOT, PROVIDERS, 0)
    since = system.outbox_position()
    journey.providers = journey._pool(journey.admit_one, range(PROVIDERS))
    journey.wait(since)  # referrals must know the providers before publishing
    pools = Pools()
    rng = journey.rng
    # drafts for the publishes, beside the drafts the phase itself creates
    pools.drafts = [journey.call("POST", "referrals", "/v1/referrals", OFFICER, referral_form(LOT, rng))["referral_id"]
                    for _ in range(needs["POST /v1/referrals/{id}/publish"])]
    # open referrals: the first two providers offer on each (offers to change), the others answer during the run
    answers = needs["POST /v1/provider/referrals/{id}/offers"] + needs["POST /v1/provider/referrals/{id}/decline"]
    open_count = max(2, -(-answers // (PROVIDERS - 2)))
    open_referrals = journey._pool(journey.publish_one, range(open_count))
    for referral in open_referrals:
        for provider_id in journey.providers[:2]:
            offer = journey.call("POST", "referrals", f"/v1/provider/referrals/{referral['referral_id']}/offers",
                                 provider_auth(provider_id), offer_terms(provider_id, referral, 40_000))
            pools.offers.append((offer["offer_id"], provider_id, referral))
    # answers go round the referrals: the k-th answer is to referral k mod R, from the next provider on it
    pools.pairs = [(open_referrals[k % open_count], journey.providers[2 + k // open_count]) for k in range(answers)]
    # closed and assessed referrals: some to award during the run, some awarded and started now (placements)
    closing = journey._pool(journey.publish_one, range(needs["POST /v1/referrals/{id}/award"] + PLACEMENTS))
    # two offers on each, spread over every provider (each award takes a place of the winner's capacity), and
    # every other provider declines (an officer closes early only once every invited provider has answered)
    jobs = [(r, p, p in {journey.providers[(2 * j + m) % PROVIDERS] for m in (0, 1)})
            for j, r in enumerate(closing) for p in journey.providers]
    journey._pool(journey.respond, jobs)
    before_close = system.outbox_position()
    journey._pool(journey.close_and_assess, closing)
    ids = {r["referral_id"] for r in closing}
    wait_for(lambda: system.scalar("awards", "SELECT count(*) FROM inbox WHERE event_type = 'referral.closed' "
                                             "AND event_id::text = ANY(:ids)",
                                   ids=journey._event_ids(before_close, "referral.closed")) >= len(ids),
             120, "awards to hold the closed referrals")
    pools.closed = [r["referral_id"] for r in closing]
    placed, to_award = closing[:PLACEMENTS], closing[PLACEMENTS:]
    placements = journey._pool(journey.award, placed)
    wait_for(lambda: system.scalar("tracking", "SELECT count(*) FROM placements WHERE placement_id::text = ANY(:ids)",
                                   ids=placements) >= len(placements), 120, "tracking to hold the placements")
    journey._pool(journey.start, placements)
    pools.placements = list(journey.placement_providers.items())
    for referral in to_award:
        rid = referral["referral_id"]
        ranking = journey.call("GET", "awards", f"/v1/referrals/{rid}/ranking", OFFICER)
        pools.to_award.append((rid, next(e for e in ranking["entries"] if e["rank"] == 1)["offer_id"]))
    system.wait_drained(120)
    return journey, pools


class Supply:
    """Builds the n-th request of each kind; writes take their records from the pools, in order."""

    def __init__(self, journey: Journey, pools: Pools) -> None:
        self.providers, self.pools = journey.providers, pools
        self.rng = random.Random(14)
        self.n: Counter = Counter()
        self.week = (date.today() - timedelta(days=date.today().weekday())).isoformat()

    def take(self, pool: list):
        return pool.pop(0)

    def build(self, name: str) -> Request:
        i = self.n[name]
        self.n[name] += 1
        p, pools = self.providers, self.pools
        provider = p[i % len(p)]
        placement_id, placement_provider = pools.placements[i % len(pools.placements)]
        closed = pools.closed[i % len(pools.closed)]
        svc = next(s for s, n, *_ in MIX if n == name)
        r = lambda method, path, headers, body=None: Request(svc, name, method, path, headers, body)  # noqa: E731
        match name:
            case "POST /v1/placements/{id}/attendance (a correction)":
                sessions = 6 + i % 5
                return r("POST", f"/v1/placements/{placement_id}/attendance", provider_auth(placement_provider),
                         {"week_commencing": self.week, "sessions_offered": sessions, "attended": sessions,
                          "authorised_absence": 0, "unauthorised_absence": 0})
            case "GET /v1/placements/{id}":
                return r("GET", f"/v1/placements/{placement_id}", MANAGER)
            case "GET /v1/placements (a provider's own)":
                return r("GET", "/v1/placements?page_size=20", provider_auth(placement_provider))
            case "GET /v1/placements/{id}/attendance (provider)":
                return r("GET", f"/v1/placements/{placement_id}/attendance", provider_auth(placement_provider))
            case "GET /v1/placements (manager)":
                return r("GET", "/v1/placements?page_size=20", MANAGER)
            case "GET /v1/reports/active-placements":
                return r("GET", "/v1/reports/active-placements?page_size=50", MANAGER)
            case "POST /v1/referrals (a draft)":
                return r("POST", "/v1/referrals", OFFICER, referral_form(LOT, self.rng))
            case "POST /v1/referrals/{id}/publish":
                return r("POST", f"/v1/referrals/{self.take(pools.drafts)}/publish", OFFICER)
            case "POST /v1/provider/referrals/{id}/offers":
                referral, provider_id = self.take(pools.pairs)
                return r("POST", f"/v1/provider/referrals/{referral['referral_id']}/offers",
                         provider_auth(provider_id), offer_terms(provider_id, referral, 30_000 + 500 * (i % 30)))
            case "POST /v1/provider/referrals/{id}/decline":
                referral, provider_id = self.take(pools.pairs)
                return r("POST", f"/v1/provider/referrals/{referral['referral_id']}/decline",
                         provider_auth(provider_id), {"reason": "No place free this term"})
            case "PUT /v1/provider/offers/{id} (change an offer)":
                offer_id, provider_id, referral = pools.offers[i % len(pools.offers)]
                return r("PUT", f"/v1/provider/offers/{offer_id}", provider_auth(provider_id),
                         offer_terms(provider_id, referral, 35_000 + 100 * i))
            case "GET /v1/referrals/{id}":
                return r("GET", f"/v1/referrals/{closed}", OFFICER)
            case "GET /v1/referrals (officer)":
                return r("GET", "/v1/referrals?page_size=20", OFFICER)
            case "GET /v1/provider/referrals":
                return r("GET", "/v1/provider/referrals?page_size=20", provider_auth(provider))
            case "GET /v1/provider/offers":
                return r("GET", "/v1/provider/offers?page_size=20", provider_auth(provider))
            case "GET /v1/providers/{id}":
                return r("GET", f"/v1/providers/{provider}", MANAGER)
            case "GET /v1/providers":
                return r("GET", "/v1/providers?page_size=20", MANAGER)
            case "GET /v1/lots":
                return r("GET", "/v1/lots", MANAGER)
            case "PUT /v1/providers/{id}/lots/1/capacity":
                return r("PUT", f"/v1/providers/{provider}/lots/{LOT}/capacity", provider_auth(provider),
                         {"capacity": 6 + i % 7})
            case "GET /v1/referrals/{id}/ranking":
                return r("GET", f"/v1/referrals/{closed}/ranking", OFFICER)
            case "GET /v1/awards":
                return r("GET", "/v1/awards?page_size=20", OFFICER)
            case "GET /v1/referrals (closed)":
                return r("GET", "/v1/referrals?page_size=20", OFFICER)
            case "POST /v1/referrals/{id}/award":
                rid, offer_id = self.take(pools.to_award)
                return r("POST", f"/v1/referrals/{rid}/award", OFFICER, {"offer_id": offer_id})
        raise KeyError(name)


def schedule(total: int, seed: int) -> list[str]:
    """The phase's requests in the order they are due: the mix's counts, shuffled."""
    names = [name for name, n in counts(total).items() for _ in range(n)]
    random.Random(seed).shuffle(names)
    return names


def open_loop(system: BenchSystem, requests_due: list[Request], rate: float) -> tuple[list[Result], float, dict]:
    """Sends request i at start + i / rate from its service's pool of threads; latency from that due time.
    Also says how the client kept up: how late the clock loop handed each request to a pool
    (scheduler_lag: the bench process's own CPU), and the most requests in flight at once (when a
    service's pool is full, its requests wait for a free thread, and that wait counts in their latency)."""
    local = threading.local()
    results: list[Result] = []
    lock = threading.Lock()
    in_flight = [0, 0]  # now, most at once
    submit_lags: list[float] = []

    def send(request: Request, due: float) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        began = time.perf_counter()
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        status, error = None, ""
        try:
            response = session.request(request.method, system.url(request.service) + request.path,
                                       json=request.body, headers=request.headers, timeout=REQUEST_TIMEOUT_S)
            status = response.status_code
            if status not in request.expect:
                error = response.text[:200]
        except requests.Timeout as exc:
            error = f"timeout: {exc}"[:200]
        except requests.RequestException as exc:  # refused, reset: no answer either
            error = f"{type(exc).__name__}: {exc}"[:200]
        ended = time.perf_counter()
        with lock:
            in_flight[0] -= 1
            results.append(Result(request.name, request.service, (ended - due) * 1000, (began - due) * 1000,
                                  status, error))

    # The clients of one service are not held up by another's: a pool of threads per service, big enough
    # for every request its rate can have waiting on a full timeout (threads start only when needed).
    share = Counter(r.service for r in requests_due)
    sizes = {service: max(16, min(CLIENT_THREADS, int(rate * n / len(requests_due) * REQUEST_TIMEOUT_S * 1.2)))
             for service, n in share.items()}
    pools = {service: ThreadPoolExecutor(size, thread_name_prefix=f"peak-{service}") for service, size in sizes.items()}
    try:
        started = time.perf_counter() + 0.2
        for i, request in enumerate(requests_due):
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            submit_lags.append((time.perf_counter() - due) * 1000)
            pools[request.service].submit(send, request, due)
        sent_for = time.perf_counter() - started
    finally:
        for pool in pools.values():
            pool.shutdown(wait=True)
    client = {"most_in_flight": in_flight[1], "client_threads": sum(sizes.values()),
              "scheduler_lag_p99_ms": round(percentile(submit_lags, 99), 1)}
    return results, len(requests_due) / sent_for if sent_for > 0 else float("nan"), client


def summarise(results: list[Result], expect: dict[str, tuple]) -> dict:
    latencies = [r.latency_ms for r in results]
    errors = [r for r in results if r.status is None or r.status not in expect[r.name]]
    return {"requests": len(results), "p50_ms": round(percentile(latencies, 50), 1),
            "p95_ms": round(percentile(latencies, 95), 1), "p99_ms": round(percentile(latencies, 99), 1),
            "max_ms": round(max(latencies), 1) if latencies else None,
            "errors": len(errors), "non_2xx": sum(1 for r in errors if r.status is not None),
            "timeouts": sum(1 for r in errors if r.status is None and r.error.startswith("timeout")),
            "connection_errors": sum(1 for r in errors if r.status is None and not r.error.startswith("timeout")),
            "errors_by_status": dict(Counter(str(r.status) for r in errors if r.status is not None)) or None}


def phase(system: BenchSystem, supply: Supply, label: str, rate: float, seconds: int, seed: int) -> list[Measure]:
    total = int(rate * seconds)
    due = [supply.build(name) for name in schedule(total, seed)]
    expect = {r.name: r.expect for r in due}
    load_before = round(os.getloadavg()[0], 2)
    print(f"   {label}: {total} requests at {rate:g}/s for {seconds} s (open loop)", file=sys.stderr, flush=True)
    cpu_before = time.process_time()
    results, achieved, client = open_loop(system, due, rate)
    client["client_cpu_s_per_s"] = round((time.process_time() - cpu_before) / seconds, 2)
    target = TARGETS_MS[label]
    overall = summarise(results, expect)
    lags = [r.lag_ms for r in results]
    writes = {name for _, name, _, write in MIX if write}
    extra = {**overall, "rate_per_s": rate, "achieved_rate_per_s": round(achieved, 1), "seconds": seconds,
             "writes": sum(1 for r in results if r.name in writes),
             "client_lag_p99_ms": round(percentile(lags, 99), 1), **client, "load_average_before": load_before,
             "load_average_after_1_5_15": [round(x, 2) for x in os.getloadavg()]}
    met = overall["p99_ms"] < target and overall["errors"] == 0
    print(f"   {label}: p50 {overall['p50_ms']} ms, p95 {overall['p95_ms']} ms, p99 {overall['p99_ms']} ms, "
          f"errors {overall['errors']} {overall['errors_by_status'] or ''}, client lag p99 "
          f"{extra['client_lag_p99_ms']} ms, {client}", file=sys.stderr, flush=True)
    for r in results:
        if r.error:
            print(f"     e.g. {r.name} -> {r.status}: {r.error}", file=sys.stderr, flush=True)
            break
    size = f"{rate:g} req/s for {seconds} s"
    out = [Measure("national peak", f"{label} rate, all requests: p99 latency from the due time", size,
                   overall["p99_ms"], "ms", target=f"< {target:.0f} ms, 0 errors", met=met, extra=extra)]
    for service, name, _, write in MIX:
        mine = [r for r in results if r.name == name]
        if not mine:
            continue
        s = summarise(mine, expect)
        out.append(Measure("national peak", f"{label}: {service} {'write' if write else 'read'}: {name}", size,
                           s["p99_ms"], "ms", target=f"< {target:.0f} ms", met=s["p99_ms"] < target and not s["errors"],
                           extra=s))
    return out


def section(ctx) -> list[Measure]:
    seconds = getattr(ctx, "peak_seconds", None) or PHASE_SECONDS
    rates = {"average": AVERAGE_RATE, "burst": AVERAGE_RATE * BURST_FACTOR}
    needs: Counter = Counter()
    for rate in rates.values():
        needs.update(counts(int(rate * seconds)))
    out: list[Measure] = []
    with BenchSystem(ctx) as system:
        print("   setting up the records", file=sys.stderr, flush=True)
        started = time.perf_counter()
        journey, pools = prepare(system, needs)
        print(f"   set up in {time.perf_counter() - started:.0f} s ({journey.requests} requests)", file=sys.stderr,
              flush=True)
        supply = Supply(journey, pools)
        for seed, (label, rate) in enumerate(rates.items()):
            out += phase(system, supply, label, rate, seconds, seed)
            system.wait_drained(120)
    return out


if __name__ == "__main__":  # the section alone: python -m bench.national_peak [seconds]
    from bench import run

    sys.exit(run.main(["--sections", "national_peak", *(["--peak-seconds", sys.argv[1]] if sys.argv[1:] else [])]))
