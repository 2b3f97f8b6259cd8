"""The event path: all four services as real processes on PostgreSQL and the
run's RabbitMQ (bench/system.py), measured three ways, beside the broker's
raw limit measured in the same run (bench/broker_raw.py).

1. The journey, at three sizes (2 / 20 / 200 providers on a lot of their
   own, 10 referrals each): providers apply and are admitted through the
   registry's API; officers publish a burst of referrals; simulated provider
   systems (threads) offer on or decline every referral (5 offers each);
   officers close early, assess every offer and complete the assessment
   (referral.closed goes to awards); officers award the top-ranked offer
   (placement.awarded goes to referrals and tracking); the placements start
   in tracking.  Reported: every event the services committed over the
   journey per second of it, and the commit-to-effect latency of every
   delivery under that load.  HTTP is most of this: it is the whole system.
2. Bursts (20 / 200 / 2,000 capacity.changed events): committed at once
   into the registry's outbox through its own unit of work (as a request
   commits them), then relayed and applied by the referrals and awards
   consumers.  Events per second from the first commit to the last effect:
   this is the event path alone, compared with the raw confirmed-publish
   rate of the same broker.
3. Steady 100 events per second for 10 s, at the largest size: commit-to-
   effect latency p50/p95/p99, once with the events made by the registry's
   API (PUT capacity, paced) and once committed straight to its outbox.

Commit-to-effect: from the event's `occurred_at` (stamped in the producer's
transaction, just before its commit) to the commit of the consumer's
transaction that applied it (its inbox row's commit timestamp, with
track_commit_timestamp on in the run's own PostgreSQL cluster).
"""

from __future__ import annotations

import random
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from bench.common import Measure, percentile
from bench.system import BenchSystem, consumers_of, enable_commit_timestamps
from tests.support import runtime as rt
from tests.support.runtime import auth

REFERRALS = 10
OFFERS_PER_REFERRAL = 5
THREADS = 8
STEADY_RATE = 100
STEADY_SECONDS = 10
LATENCY_TARGET_MS = 100.0
RATIO_TARGET = 0.5
LOT_QUESTION = {1: "full_time_curriculum", 2: "reintegration", 3: "bespoke_planning", 4: "preparation_for_adulthood"}
LINE = "Group place per week"
MANAGER = auth("manager", sub="vls-manager")
OFFICER = auth("officer", team="exclusions", sub="officer-exclusions")


def provider_auth(provider_id) -> dict:
    return auth("provider", provider_id=provider_id, sub=f"system-of-{provider_id}")


def line_id(provider_id, lot: int) -> str:
    namespace = uuid.UUID("6f1f6c0e-3c2a-4a0e-9a57-5d1c0e6b7a10")
    return str(uuid.uuid5(namespace, f"{provider_id}:{lot}:{LINE.casefold()}"))


def application(lot: int, n: int) -> dict:
    expires = (date.today() + timedelta(days=400)).isoformat()
    return {
        "organisation": {"name": f"Bench Learning {lot}-{n:03d} Ltd", "address": "1 High Street, Newtown",
                         "postcode": "NT1 2AB", "companies_house_number": f"{10_000_000 + n:08d}",
                         "charity_number": None},
        "registration": {"setting_kind": "registered_school", "urn": f"{100_000 + n}", "inspectorate": "ofsted"},
        "safeguarding_lead": {"name": "Sam Okafor", "email": "sam@bench.example", "phone": "01632 960000"},
        "enhanced_dbs_confirmed": True,
        "documents": [{"kind": kind, "reference": f"{kind}.pdf", "expires_on": expires}
                      for kind in ("insurance", "dbs_confirmation", "safeguarding_policy")],
        "lots": [{"lot": lot,
                  "answers": {"enhanced_dbs": True, "safeguarding_policy": True, "insurance": True, "experience": 4,
                              LOT_QUESTION[lot]: 4},
                  "pricing_lines": [{"description": LINE, "unit": "week", "staffing_ratio": "1:4",
                                     "maximum_price_pence": 45_000}],
                  "capacity": 12}],
        "sla_version": "1",
    }


def referral_form(lot: int, rng: random.Random) -> dict:
    today = date.today()
    upn = "A" + "".join(rng.choice("0123456789") for _ in range(12))
    return {
        "lot": lot, "deadline": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        "urgency": "Permanently excluded: no school place (the basis for a window under 10 days)",
        "exclusion_start": (today - timedelta(days=2)).isoformat(),
        "child": {"name": f"Child {upn}", "date_of_birth": "2011-06-02", "upn": upn,
                  "address": "14 Larch Walk, London SE15 4QT"},
        "profile": {"age": 14, "year_group": 9, "primary_need": "Social, emotional and mental health", "ehcp": False,
                    "looked_after": False, "reason": "permanent_exclusion",
                    "needs_and_risks": "Needs a small group; risk of absconding when anxious.",
                    "aims": "Stabilise attendance, then move on within two terms.",
                    "success_measures": {"attendance": "Above 90% by half term"},
                    "curriculum": "English, maths, science and PSHE", "qualification_route": "Functional skills",
                    "hours_per_week": 25, "pattern": "Five mornings", "start_date": today.isoformat(),
                    "expected_weeks": 12, "postcode_district": "SE15", "transport_needed": False},
        "questions": ["Describe your experience of supporting SEMH needs"],
    }


def latency_extra(effects: list[dict]) -> dict:
    """p50/p95/p99 commit-to-effect, and where the time goes (p50 / p99 of each stage from occurred_at):
    marked published by the relay, picked up by the consumer (inbox received_at), effect committed."""
    lat = [e["latency_ms"] for e in effects]
    out = {"deliveries": len(lat), "p50_ms": round(percentile(lat, 50), 1), "p95_ms": round(percentile(lat, 95), 1),
           "p99_ms": round(percentile(lat, 99), 1), "max_ms": round(max(lat), 1) if lat else None}

    def stage(key):
        values = [(e[key] - e["occurred_at"]).total_seconds() * 1000 for e in effects if e.get(key) is not None]
        return f"{percentile(values, 50):.0f} / {percentile(values, 99):.0f}" if values else None

    out["stages_p50_p99_ms"] = {"published": stage("published_at"), "picked_up": stage("received_at"),
                                "effect": stage("effect_at")}
    return out


class Journey:
    def __init__(self, system: BenchSystem, consumers: dict, lot: int, providers: int, referrals: int) -> None:
        self.system, self.consumers, self.lot = system, consumers, lot
        self.provider_count, self.referral_count = providers, referrals
        self.providers: list[uuid.UUID] = []
        self.referrals: list[dict] = []
        self.placements: list[str] = []
        self.placement_providers: dict[str, str] = {}
        self.requests = 0
        self._lock = threading.Lock()
        self.rng = random.Random(lot)

    def call(self, *args, **kwargs) -> dict:
        with self._lock:
            self.requests += 1
        return self.system.call(*args, **kwargs)

    def _pool(self, fn, items) -> list:
        with ThreadPoolExecutor(THREADS) as pool:
            return list(pool.map(fn, items))

    def admit_one(self, n: int) -> uuid.UUID:
        provider_id = uuid.uuid4()
        applied = self.call("POST", "provider_registry", "/v1/applications", provider_auth(provider_id),
                            application(self.lot, n))
        self.call("POST", "provider_registry", f"/v1/applications/{applied['id']}/decision", MANAGER,
                  {"outcome": "admit", "lots": [self.lot], "reasons": []})
        return provider_id

    def publish_one(self, _n: int) -> dict:
        referral = self.call("POST", "referrals", "/v1/referrals", OFFICER, referral_form(self.lot, self.rng))
        published = self.call("POST", "referrals", f"/v1/referrals/{referral['referral_id']}/publish", OFFICER)
        assert len(published["invited_provider_ids"]) == self.provider_count, published
        return referral

    def respond(self, job: tuple) -> None:
        referral, provider_id, offers = job
        rid = referral["referral_id"]
        if offers:
            price = self.rng.randint(30_000, 45_000)
            self.call("POST", "referrals", f"/v1/provider/referrals/{rid}/offers", provider_auth(provider_id), {
                "pricing_line_id": line_id(provider_id, self.lot), "unit_price_pence": price, "units_per_week": 1,
                "weeks": 12, "proposed_start": date.today().isoformat(), "staffing_ratio": "1:4",
                "delivery_site": "Riverside Centre", "delivery_postcode": "SE15 5AB",
                "how_it_meets_needs": "Groups of four with a trained SEMH mentor; weekly reviews.",
                "place_available": True,
                "answers": {q["question_id"]: "Ten years running an SEMH provision" for q in referral["questions"]}})
        else:
            self.call("POST", "referrals", f"/v1/provider/referrals/{rid}/decline", provider_auth(provider_id),
                      {"reason": "No place free this term"})

    def close_and_assess(self, referral: dict) -> None:
        rid = referral["referral_id"]
        self.call("POST", "referrals", f"/v1/referrals/{rid}/close", OFFICER)
        offers = self.call("GET", "referrals", f"/v1/referrals/{rid}/offers", OFFICER)
        for offer in offers:
            self.call("PUT", "referrals", f"/v1/referrals/{rid}/offers/{offer['offer_id']}/assessment", OFFICER,
                      {"meets_needs": True, "reason": "Meets the needs set out in the profile",
                       "criteria_met": {q["question_id"]: True for q in referral["questions"]}})
        self.call("POST", "referrals", f"/v1/referrals/{rid}/complete-assessment", OFFICER)

    def award(self, referral: dict) -> str:
        rid = referral["referral_id"]
        ranking = self.call("GET", "awards", f"/v1/referrals/{rid}/ranking", OFFICER)
        top = next(e for e in ranking["entries"] if e["rank"] == 1)
        award = self.call("POST", "awards", f"/v1/referrals/{rid}/award", OFFICER, {"offer_id": top["offer_id"]})
        self.placement_providers[award["placement_id"]] = award["provider_id"]
        return award["placement_id"]

    def start(self, placement_id: str) -> None:
        self.call("POST", "tracking", f"/v1/placements/{placement_id}/start", MANAGER,
                  {"started_on": date.today().isoformat()})

    def wait(self, since: dict) -> list[dict]:
        """Every event committed since `since` applied by each of its consumers."""
        self.system.wait_drained()
        return self.system.effects(self.system.produced_since(since), self.consumers)

    def run(self) -> dict:
        s = self.system
        since = s.outbox_position()
        started = time.perf_counter()
        phases = {}
        t = time.perf_counter()
        self.providers = self._pool(self.admit_one, range(self.provider_count))
        self.wait(since)  # referrals must know them before publishing
        phases["admit"] = time.perf_counter() - t
        t = time.perf_counter()
        referrals = self.referrals = self._pool(self.publish_one, range(self.referral_count))
        phases["publish"] = time.perf_counter() - t
        t = time.perf_counter()
        jobs = []
        for referral in referrals:
            offering = set(self.rng.sample(self.providers, min(OFFERS_PER_REFERRAL, len(self.providers))))
            jobs += [(referral, p, p in offering) for p in self.providers]
        self.rng.shuffle(jobs)
        self._pool(self.respond, jobs)
        phases["offer or decline"] = time.perf_counter() - t
        t = time.perf_counter()
        self._pool(self.close_and_assess, referrals)
        closed = {r["referral_id"] for r in referrals}
        # awards must hold the closed referrals before an officer can award them
        wait_for(lambda: s.scalar("awards", "SELECT count(*) FROM inbox WHERE event_type = 'referral.closed' "
                                            "AND event_id::text = ANY(:ids)",
                                  ids=self._event_ids(since, "referral.closed")) >= len(closed),
                 120, "awards to hold the closed referrals")
        phases["close and assess"] = time.perf_counter() - t
        t = time.perf_counter()
        placements = self.placements = self._pool(self.award, referrals)
        wait_for(lambda: s.scalar("tracking", "SELECT count(*) FROM placements WHERE placement_id::text = ANY(:ids)",
                                  ids=placements) >= len(placements), 120, "tracking to hold the placements")
        phases["award"] = time.perf_counter() - t
        t = time.perf_counter()
        self._pool(self.start, placements)
        phases["start"] = time.perf_counter() - t
        effects = self.wait(since)
        wall = time.perf_counter() - started
        s.add_published_at(effects)
        events = s.produced_since(since)
        return {"wall_s": wall, "events": len(events), "effects": effects, "requests": self.requests,
                "phases": {k: round(v, 1) for k, v in phases.items()}}

    def _event_ids(self, since: dict, event_type: str) -> list[str]:
        return [e["id"] for e in self.system.produced_since(since) if e["type"] == event_type]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited {timeout}s for {what}")
        time.sleep(0.1)


# -- the event path alone: events committed straight to the registry's outbox ---------------------

class RegistryOutbox:
    """The registry's own unit of work and outbox, from the bench process:
    capacity.changed exactly as a capacity change request commits it."""

    def __init__(self, system: BenchSystem, providers: list[uuid.UUID], lot: int) -> None:
        self.runtime = rt.build_runtime("provider_registry", system.system["provider_registry"].database_url,
                                        system.ctx.rabbitmq.amqp_url, migrate=False)
        self.providers, self.lot = providers, lot
        self.n = 0

    def _data(self, uow) -> dict:
        self.n += 1
        return {**self._data_for(self.n), "at": uow.now().isoformat()}

    def _data_for(self, n: int) -> dict:
        provider_id = self.providers[n % len(self.providers)]
        return {"provider_id": str(provider_id), "provider_name": "Bench Learning", "lot": self.lot,
                "capacity": 6 + n % 7}

    def commit(self, count: int = 1) -> None:
        with self.runtime.unit_of_work() as uow:
            for _ in range(count):
                uow.publish("capacity.changed", self._data(uow))
            uow.commit()

    def close(self) -> None:
        self.runtime.engine.dispose()


def burst(system: BenchSystem, consumers: dict, outbox: RegistryOutbox, count: int) -> dict:
    system.wait_drained()
    since = system.outbox_position()
    for start in range(0, count, 100):
        outbox.commit(min(100, count - start))
    effects = system.effects(system.produced_since(since), consumers, timeout=300)
    system.add_published_at(effects)
    first = min(e["occurred_at"] for e in effects)
    last = max(e["effect_at"] for e in effects)
    span = (last - first).total_seconds()
    return {"events": count, "span_s": span, "events_per_s": count / span, "deliveries_per_s": len(effects) / span,
            "effects": effects}


def paced(emit, rate: float, seconds: float, threads: int = 1) -> float:
    """Calls emit() `rate` times a second for `seconds` (spread over `threads`); returns the rate achieved."""
    total = int(rate * seconds)
    started = time.perf_counter()
    counter = iter(range(total))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            emit()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return total / (time.perf_counter() - started)


def steady(system: BenchSystem, consumers: dict, emit, threads: int) -> dict:
    system.wait_drained()
    since = system.outbox_position()
    achieved = paced(emit, STEADY_RATE, STEADY_SECONDS, threads)
    events = [e for e in system.produced_since(since) if e["type"] == "capacity.changed"]
    effects = system.effects(events, consumers, timeout=120)
    system.add_published_at(effects)
    return {"achieved": achieved, "events": len(events), "effects": effects}


# -- the section ---------------------------------------------------------------------------------

def section(ctx) -> list[Measure]:
    timestamps = enable_commit_timestamps(ctx.postgres)
    consumers = consumers_of()
    sizes = sorted(ctx.sizes)
    out: list[Measure] = []
    best_burst = None
    with BenchSystem(ctx) as system:
        outbox = None
        for index, factor in enumerate(sizes):
            lot = index + 1
            providers = 2 * factor
            print(f"   journey: lot {lot}, {providers} providers, {REFERRALS} referrals", file=sys.stderr, flush=True)
            journey = Journey(system, consumers, lot, providers, REFERRALS)
            result = journey.run()
            out.append(Measure(
                "event path", "journey: admit, refer, offer/decline, close, assess, award, start (events/s)",
                f"{providers} providers, {REFERRALS} referrals", result["events"] / result["wall_s"], "events/s",
                extra={"events": result["events"], "wall_s": round(result["wall_s"], 1),
                       "http_requests": result["requests"],
                       "http_per_s": round(result["requests"] / result["wall_s"], 1),
                       "phases_s": result["phases"], **latency_extra(result["effects"])}))
            out.append(Measure(
                "event path", "journey: commit-to-effect p99 under its own load",
                f"{providers} providers, {REFERRALS} referrals", latency_extra(result["effects"])["p99_ms"], "ms",
                extra=latency_extra(result["effects"])))
            if outbox is not None:
                outbox.close()
            outbox = RegistryOutbox(system, journey.providers, lot)
            count = 20 * factor
            print(f"   burst: {count} events", file=sys.stderr, flush=True)
            b = burst(system, consumers, outbox, count)
            best_burst = b if best_burst is None or b["events_per_s"] > best_burst["events_per_s"] else best_burst
            out.append(Measure(
                "event path", "burst: capacity.changed committed at once -> relay -> referrals + awards consumers",
                f"{count:,} events", b["events_per_s"], "events/s",
                extra={"deliveries_per_s": round(b["deliveries_per_s"], 1), "span_s": round(b["span_s"], 2),
                       **latency_extra(b["effects"])}))
        # steady 100 events/s at the largest size
        providers = journey.providers
        n = iter(range(10**9))

        def through_api():
            i = next(n)
            provider_id = providers[i % len(providers)]
            system.call("PUT", "provider_registry", f"/v1/providers/{provider_id}/lots/{lot}/capacity",
                        provider_auth(provider_id), {"capacity": 6 + i % 7})

        for how, emit, threads in (("registry API, PUT capacity", through_api, 8),
                                   ("registry outbox, one event per transaction", outbox.commit, 1)):
            print(f"   steady {STEADY_RATE}/s: {how}", file=sys.stderr, flush=True)
            s = steady(system, consumers, emit, threads)
            extra = latency_extra(s["effects"])
            out.append(Measure(
                "event path", f"commit-to-effect p99 at a steady {STEADY_RATE} events/s ({how})",
                f"{providers and len(providers)} providers", extra["p99_ms"], "ms",
                target=f"< {LATENCY_TARGET_MS:.0f} ms", met=extra["p99_ms"] < LATENCY_TARGET_MS,
                extra={"achieved_events_per_s": round(s["achieved"], 1), "events": s["events"], **extra}))
        outbox.close()
    # The raw limit again, now, beside the bursts (the broker's rate swings with the machine's load);
    # and the broker section's best, earlier in the same run.
    from bench import broker_raw

    raw_now = next(m.value for m in broker_raw.run(ctx.rabbitmq.amqp_url, 2000, "2,000 messages")
                   if "publish" in m.name)
    raw_section = ctx.raw_publish_rate
    ratio = best_burst["events_per_s"] / raw_now
    print(f"   event path {best_burst['events_per_s']:.0f} events/s / raw confirmed publish {raw_now:.0f} msg/s "
          f"= {ratio:.2f}", file=sys.stderr, flush=True)
    out.append(Measure("event path", "raw confirmed persistent publish, measured right after the bursts",
                       "2,000 messages", raw_now, "msg/s"))
    out.append(Measure("event path", "event path / raw confirmed-publish rate (best burst / raw just after)", "-",
                       ratio, "ratio", target=f">= {RATIO_TARGET}", met=ratio >= RATIO_TARGET,
                       extra={"event_path_events_per_s": round(best_burst["events_per_s"], 1),
                              "raw_publish_msg_per_s": round(raw_now, 1),
                              "ratio_to_broker_section_best": (round(best_burst["events_per_s"] / raw_section, 3)
                                                               if raw_section else None),
                              "commit_timestamps": "pg_xact_commit_timestamp" if timestamps else "inbox received_at"}))
    return out
