"""Each service's main read and write endpoints under load from wrk (a second
process), with the whole system running as `make run` runs it (web under
gunicorn at the README's settings, DPS_WEB_WORKERS x DPS_WEB_THREADS, 2 x 4
by default; consumers and relays running), beside the minimal Flask app
under the same gunicorn settings in the same run (bench/run.py, section
`http`).

The state comes from a small journey (bench/event_path.py) on lot 1: 8
providers admitted, 4 referrals awarded and their placements started, 4
referrals open with an offer from every provider, and an open
mini-competition.  Requests go round those records, each with the token
of the right person (the provider's own system for its own records).

Writes are valid requests (2xx; any other answer is counted and reported),
each different from the last:
- provider_registry: PUT a provider's capacity on its lot -> capacity.changed (outbox)
- referrals: PUT (change) a provider's live offer, new price -> offer.changed (outbox)
- awards: POST a provider's sealed bid again (it replaces the last), new price (no event: bids are sealed)
- tracking: POST the week's attendance return again (a correction) -> attendance.recorded (outbox)

The baseline is measured again at the start of this section, with the system idling beside it
(the `http` section measured it earlier in the run, before the system started; both are reported),
and beside it the same app's GET /db (one pooled PostgreSQL round trip): the floor of any endpoint
that reads its database.
Targets: reads >= 50% of the minimal app's GET rate; writes >= 30%.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta

from bench import cpu
from bench.common import Measure
from bench.event_path import OFFICER, Journey, provider_auth
from bench.http import gunicorn, wrk
from bench.system import BenchSystem, consumers_of
from tests.support.runtime import auth

MANAGER = auth("manager", sub="vls-manager")
READ_TARGET, WRITE_TARGET = 0.5, 0.3
JSON = {"Content-Type": "application/json"}
CRITERIA = ("quality of education", "safeguarding", "outcomes")


def _template(body: dict) -> str:
    """A JSON body whose "@N@" string becomes a number per request."""
    return json.dumps(body).replace('"@N@"', "@N@")


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


class State:
    """The records the load goes round."""

    def __init__(self, system: BenchSystem) -> None:
        consumers = consumers_of()
        journey = Journey(system, consumers, lot=1, providers=8, referrals=4)
        journey.run()
        self.journey = journey
        self.providers = journey.providers
        self.closed_referrals = [r["referral_id"] for r in journey.referrals]
        self.placements = journey.placement_providers  # placement id -> provider id
        # open referrals, each with a live offer from every provider
        self.open_referrals = journey._pool(journey.publish_one, range(4))
        self.offers = []  # (offer id, provider id, question ids)
        for referral in self.open_referrals:
            for provider_id in self.providers:
                offer = system.call("POST", "referrals", f"/v1/provider/referrals/{referral['referral_id']}/offers",
                                    provider_auth(provider_id), self.offer_terms(provider_id, referral, 40_000))
                self.offers.append((offer["offer_id"], provider_id, referral))
        # an open mini-competition on lot 1, which every provider was invited to
        now = datetime.now(UTC)
        opportunity = system.call("POST", "awards", "/v1/opportunities", OFFICER, {
            "title": "Benchmark block places", "lot": 1, "places": 2,
            "contract_start": (date.today() + timedelta(days=60)).isoformat(),
            "contract_end": (date.today() + timedelta(days=425)).isoformat(),
            "opens_at": (now - timedelta(hours=1)).isoformat(), "deadline": (now + timedelta(days=2)).isoformat(),
            "criteria": [{"name": CRITERIA[0], "weight": 0.5, "minimum_score": 2},
                         {"name": CRITERIA[1], "weight": 0.3}, {"name": CRITERIA[2], "weight": 0.2}]})
        self.opportunity_id = opportunity["opportunity_id"]
        self.week = _monday(date.today()).isoformat()
        self.system = system

    @staticmethod
    def offer_terms(provider_id, referral: dict, price) -> dict:
        from bench.event_path import line_id

        return {"pricing_line_id": line_id(provider_id, 1), "unit_price_pence": price, "units_per_week": 1,
                "weeks": 12, "proposed_start": date.today().isoformat(), "staffing_ratio": "1:4",
                "delivery_site": "Riverside Centre", "delivery_postcode": "SE15 5AB",
                "how_it_meets_needs": "Groups of four with a trained SEMH mentor; weekly reviews.",
                "place_available": True,
                "answers": {q["question_id"]: "Ten years running an SEMH provision" for q in referral["questions"]}}

    def endpoints(self) -> list[dict]:
        """service, kind, name, method, targets [(path, headers[, body template])], n_expr."""
        p, placements = self.providers, list(self.placements.items())
        bid = {"price_pence": "@N@", "answers": {c: "our answer to " + c for c in CRITERIA}}
        return [
            dict(service="provider_registry", kind="read", name="GET /v1/providers/{id}", method="GET",
                 targets=[(f"/v1/providers/{x}", MANAGER) for x in p]),
            dict(service="provider_registry", kind="write", name="PUT /v1/providers/{id}/lots/1/capacity",
                 method="PUT", n_expr="6 + counter % 7",
                 targets=[(f"/v1/providers/{x}/lots/1/capacity", {**provider_auth(x), **JSON},
                           _template({"capacity": "@N@"})) for x in p]),
            dict(service="referrals", kind="read", name="GET /v1/referrals/{id}", method="GET",
                 targets=[(f"/v1/referrals/{r}", OFFICER) for r in self.closed_referrals]),
            dict(service="referrals", kind="write", name="PUT /v1/provider/offers/{id} (change an offer)",
                 method="PUT", n_expr="30000 + counter % 15000",
                 targets=[(f"/v1/provider/offers/{o}", {**provider_auth(x), **JSON},
                           _template(self.offer_terms(x, r, "@N@"))) for o, x, r in self.offers]),
            dict(service="awards", kind="read", name="GET /v1/referrals/{id}/ranking", method="GET",
                 targets=[(f"/v1/referrals/{r}/ranking", OFFICER) for r in self.closed_referrals]),
            dict(service="awards", kind="write", name="POST /v1/opportunities/{id}/bids (a bid again)",
                 method="POST", n_expr="5000000 + counter % 1000000",
                 targets=[(f"/v1/opportunities/{self.opportunity_id}/bids", {**provider_auth(x), **JSON},
                           _template(bid)) for x in p]),
            dict(service="tracking", kind="read", name="GET /v1/placements/{id}", method="GET",
                 targets=[(f"/v1/placements/{pid}", MANAGER) for pid, _ in placements]),
            dict(service="tracking", kind="write", name="POST /v1/placements/{id}/attendance (a correction)",
                 method="POST", n_expr="1 + counter % 10",
                 targets=[(f"/v1/placements/{pid}/attendance", {**provider_auth(x), **JSON},
                           _template({"week_commencing": self.week, "sessions_offered": "@N@", "attended": "@N@",
                                      "authorised_absence": 0, "unauthorised_absence": 0}))
                          for pid, x in placements]),
        ]


def _check(system: BenchSystem, endpoint: dict) -> None:
    """One request by hand first: a 2xx, or the benchmark would measure refusals."""
    path, headers, *template = endpoint["targets"][0]
    body = None
    if template and template[0]:
        body = json.loads(template[0].replace("@N@", "7"))
    system.call(endpoint["method"], endpoint["service"], path, headers, body)


def _loaded(wrk_run, *args, **kwargs) -> tuple[dict, dict[str, float]]:
    """wrk's result, and the CPU seconds each kind of process used meanwhile."""
    before = cpu.snapshot()
    result = wrk_run(*args, **kwargs)
    return result, cpu.spent(before, cpu.snapshot())


def section(ctx) -> list[Measure]:
    seconds = ctx.seconds
    out = []
    with BenchSystem(ctx) as system:
        print("   setting up the records", file=sys.stderr, flush=True)
        state = State(system)
        # The minimal app again, now, with the system idling beside it as it will be during the measures
        # (the `http` section's figure, earlier in the run, is kept for reference).
        from tests.support.servers import free_port

        with gunicorn("bench.minimal_app:create_app()", free_port(),
                      env={"BENCH_DATABASE_URL": system.system["tracking"].database_url}) as url:
            minimal, minimal_cpu = _loaded(wrk, f"{url}/ping", seconds=seconds)
            with_db, _ = _loaded(wrk, f"{url}/db", seconds=seconds)
        baseline = minimal["rps"]
        out.append(Measure("http", "minimal Flask GET /ping, again beside the idle system", "-", baseline, "req/s",
                           extra={"p50_ms": round(minimal["p50_ms"], 1), "p99_ms": round(minimal["p99_ms"], 1),
                                  "minimal_rps_in_http_section": ctx.minimal_rps,
                                  "cpu_ms_per_request": cpu.per_request(minimal_cpu, minimal["requests"])}))
        out.append(Measure("http", "minimal Flask GET /db: one PostgreSQL round trip (SELECT 1, pooled)", "-",
                           with_db["rps"], "req/s",
                           extra={"p50_ms": round(with_db["p50_ms"], 1), "p99_ms": round(with_db["p99_ms"], 1),
                                  "ratio_to_minimal": round(with_db["rps"] / baseline, 3)}))
        for endpoint in state.endpoints():
            n_expr = endpoint.get("n_expr", "counter")
            targets = endpoint["targets"]
            _check(system, endpoint)
            result, used = _loaded(wrk, system.url(endpoint["service"]), seconds=seconds, method=endpoint["method"],
                                   targets=targets, n_expr=n_expr)
            ratio = result["rps"] / baseline
            target = READ_TARGET if endpoint["kind"] == "read" else WRITE_TARGET
            valid = result["non_2xx"] == 0 and result["socket_errors"] == 0
            print(f"   {endpoint['service']} {endpoint['name']}: {result['rps']:.0f} req/s, p99 "
                  f"{result['p99_ms']:.0f} ms, ratio {ratio:.2f}, non-2xx {result['non_2xx']}",
                  file=sys.stderr, flush=True)
            out.append(Measure("http", f"{endpoint['service']} {endpoint['kind']}: {endpoint['name']}",
                               f"{len(targets)} records", result["rps"], "req/s",
                               target=f">= {target:.0%} of minimal Flask", met=ratio >= target and valid,
                               extra={"p50_ms": round(result["p50_ms"], 1), "p99_ms": round(result["p99_ms"], 1),
                                      "ratio_to_minimal": round(ratio, 3), "minimal_rps": round(baseline, 1),
                                      "requests": result["requests"], "non_2xx": result["non_2xx"],
                                      "socket_errors": result["socket_errors"],
                                      "cpu_ms_per_request": cpu.per_request(used, result["requests"])}))
        system.wait_drained(120)
    return out

