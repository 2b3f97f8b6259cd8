"""A reporting system outside the DPS, written with pika (not the DPS's kombu)
and knowing nothing of the DPS's code: it trusts the AsyncAPI documents alone.

Started before the services, it declares the exchanges (with the arguments
the documents give) and its own durable queues, bound with the routing keys
the documents list, on `dps.awards`, `dps.provider_registry` and
`dps.tracking`; then the four services start, a call-off journey and two more
awards run, and the reader rebuilds tracking's per-provider accountability
report from the events, by the definitions docs/reporting-events.md gives.
Its numbers must be the API's.  Every message it receives must be valid
against its payload schema in the documents."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pika
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from demo import journey as j
from tests.conftest import _clean_broker
from tests.support.runtime import wait_until

pytestmark = pytest.mark.integration

DOCS = Path(__file__).resolve().parents[2] / "docs" / "asyncapi"
READER = "reporting"
EXCHANGES = ("awards", "provider_registry", "tracking")  # what the reports need (docs/reporting-events.md)

# docs/reporting-events.md, "Definitions": the reader's own copy, not the DPS's code
PLANNED_ENDS = {"completed", "moved_on_early"}
POSITIVE_NEXT_STEPS = {"reintegrated_mainstream", "special_school", "further_education",
                       "training_or_apprenticeship", "employment"}


def _documents() -> dict[str, dict]:
    return {service: json.loads((DOCS / f"{service}.json").read_text()) for service in EXCHANGES}


class PikaReader:
    """Declares from the documents, then consumes in a thread of its own (pika's
    BlockingConnection belongs to one thread), storing by envelope id."""

    def __init__(self, amqp_url: str, documents: dict[str, dict]) -> None:
        self.documents = documents
        self.parameters = pika.URLParameters(amqp_url)  # where the broker is: the reader's own setting
        [vhost] = {c["bindings"]["amqp"].get("exchange", c["bindings"]["amqp"].get("queue"))["vhost"]
                   for d in documents.values() for c in d["channels"].values()}
        self.parameters.virtual_host = vhost  # the documents' (kombu's "//" is not pika's "/")
        self.validators = {
            type_: Draft202012Validator(message["payload"], format_checker=FormatChecker())
            for document in documents.values() for type_, message in document["components"]["messages"].items()}
        self.queues: list[str] = []
        self.declared: list[tuple] = []
        self.events: dict[str, dict] = {}  # envelope id -> envelope: a redelivery is stored once
        self.invalid: list[str] = []
        self.lock = threading.Lock()
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="pika-reader", daemon=True)
        self.thread.start()
        if not self._ready.wait(30) or self._failure:
            raise AssertionError(f"the pika reader did not declare its queues: {self._failure!r}")

    def _declare(self, channel) -> None:
        for document in self.documents.values():
            reader = document["channels"]["reader"]
            queue = reader["bindings"]["amqp"]["queue"]
            name = reader["address"].replace("{reader}", READER)
            exchanges = {c["bindings"]["amqp"]["exchange"]["name"]: c["bindings"]["amqp"]
                         for key, c in document["channels"].items() if c["bindings"]["amqp"]["is"] == "routingKey"}
            for exchange_name, amqp in exchanges.items():
                exchange = amqp["exchange"]
                channel.exchange_declare(exchange=exchange_name, exchange_type=exchange["type"],
                                         durable=exchange["durable"], auto_delete=exchange["autoDelete"],
                                         arguments=amqp.get("x-exchange-arguments") or None)
                self.declared.append(("exchange", exchange_name, amqp.get("x-exchange-arguments")))
            channel.queue_delete(queue=name)  # a fresh start for this test module
            channel.queue_declare(queue=name, durable=queue["durable"], exclusive=queue["exclusive"],
                                  auto_delete=queue["autoDelete"])
            for bound in reader["bindings"]["amqp"]["x-bindings"]:
                channel.queue_bind(queue=name, exchange=bound["exchange"], routing_key=bound["routingKey"])
                self.declared.append(("binding", name, bound["exchange"], bound["routingKey"]))
            self.queues.append(name)

    def _run(self) -> None:
        try:
            connection = pika.BlockingConnection(self.parameters)
            channel = connection.channel()
            self._declare(channel)
            channel.basic_qos(prefetch_count=50)
            for name in self.queues:
                channel.basic_consume(queue=name, on_message_callback=self._on_message)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self._failure = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while not self._stop.is_set():
                connection.process_data_events(time_limit=0.2)
        finally:
            connection.close()

    def _on_message(self, channel, method, properties, body: bytes) -> None:
        envelope = json.loads(body)
        validator = self.validators.get(envelope.get("type"))
        with self.lock:
            if validator is None:
                self.invalid.append(f"{method.routing_key}: no message in the documents")
            else:
                self.invalid += [f"{envelope['type']}: {e.json_path}: {e.message}" for e in validator.iter_errors(
                    envelope)]
            if properties.content_type != "application/json" or method.routing_key != envelope.get("type"):
                self.invalid.append(f"{envelope.get('type')}: content type {properties.content_type}, "
                                    f"routing key {method.routing_key}")
            self.events.setdefault(envelope["id"], envelope)
        channel.basic_ack(method.delivery_tag)  # after storing

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=10)

    # --- the report, from the events alone

    def accountability(self) -> list[dict]:
        with self.lock:
            events = sorted(self.events.values(), key=lambda e: (e["data"].get("at") or e["occurred_at"]))
        names: dict[str, str] = {}
        placements: dict[str, dict] = {}
        returns: dict[tuple[str, str], dict] = {}
        concerns: dict[str, int] = defaultdict(int)
        for event in events:
            data = event["data"]
            match event["type"]:
                case "membership.admitted" | "provider.registration_changed":
                    names[data["provider_id"]] = data["provider_name"]
                case "placement.awarded" | "block_place.allocated":
                    placements.setdefault(data["placement_id"], {"provider_id": data["provider_id"],
                                                                 "status": "awarded"})
                case "placement.started":
                    placements.setdefault(data["placement_id"], {"provider_id": data["provider_id"]})
                    placements[data["placement_id"]]["status"] = "started"
                case "placement.ended":
                    placement = placements.setdefault(data["placement_id"], {"provider_id": data["provider_id"]})
                    cancelled = data["end_reason"] == "cancelled"
                    placement.update(status="cancelled" if cancelled else "ended", end_reason=data["end_reason"],
                                     next_step=data["next_step"])
                case "attendance.recorded":
                    returns[(data["placement_id"], data["week_commencing"])] = data  # a later one replaces
                case "concern.raised":
                    concerns[data["provider_id"]] += 1
        totals: dict[str, dict] = defaultdict(lambda: defaultdict(int))
        for placement in placements.values():
            if placement["status"] == "cancelled":
                continue
            row = totals[placement["provider_id"]]
            row["placements"] += 1
            row["active"] += placement["status"] == "started"
            if placement["status"] == "ended":
                row["ended"] += 1
                row["completed"] += placement["end_reason"] in PLANNED_ENDS
                row["reintegrated"] += placement["next_step"] == "reintegrated_mainstream"
                row["progressed"] += placement["next_step"] in POSITIVE_NEXT_STEPS
        for returned in returns.values():
            row = totals[returned["provider_id"]]
            row["sessions_offered"] += returned["sessions_offered"]
            row["attended"] += returned["attended"]
        for provider_id, count in concerns.items():
            totals[provider_id]["concerns"] += count
        return sorted(({
            "provider_id": provider_id, "provider_name": names.get(provider_id),
            "placements": row["placements"], "active": row["active"], "ended": row["ended"],
            "sessions_offered": row["sessions_offered"], "attended": row["attended"],
            "average_attendance_rate": _rate(row["attended"], row["sessions_offered"]),
            "completion_rate": _rate(row["completed"], row["ended"]),
            "reintegration_rate": _rate(row["reintegrated"], row["ended"]),
            "progression_rate": _rate(row["progressed"], row["ended"]),
            "concerns": row["concerns"],
        } for provider_id, row in totals.items() if row["placements"]), key=_order)


def _rate(part: int, whole: int) -> float | None:
    """A fraction rounded half-up to 4 places, None with nothing to divide by."""
    return None if not whole else float((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def _order(row: dict) -> tuple:
    return ((row["provider_name"] or "").casefold(), row["provider_id"])


# --------------------------------------------------------------------------- the system, after the reader


@pytest.fixture(scope="module")
def reader(rabbitmq):
    """Before any service: a broker with no DPS exchange at all, then the reader declares what it reads."""
    _clean_broker(rabbitmq.amqp_url)
    started = PikaReader(rabbitmq.amqp_url, _documents())
    yield started
    started.close()


@pytest.fixture(scope="module")
def running_system(reader, postgres, rabbitmq, _templates, tmp_path_factory):
    """The four services, started after the reader (the e2e fixtures `tap` and `client` use this one)."""
    from tests.support.system import System

    system = System(postgres, rabbitmq, _templates, tmp_path_factory.mktemp("system")).start()
    yield system
    system.stop()


def _award(client, providers, offers: dict[str, int], decline: tuple[str, ...]) -> j.Award:
    referral = j.refer_child(client, lot=1, deadline=j.now_utc() + timedelta(hours=1))
    for name in decline:
        j.decline_referral(client, providers[name], referral, "No place this term")
    for name, price in offers.items():
        j.make_offer(client, providers[name], referral, unit_price_pence=price)
    j.close_and_assess(client, referral)
    return j.award(client, referral)


@pytest.fixture(scope="module")
def journey(client, reader):
    """The call-off journey (a placement started, attended, a concern, ended), then a second placement
    started and attended, and a third awarded and not yet started."""
    call_off = j.call_off_journey(client)
    providers = call_off.providers
    second = _award(client, providers, {"oakwood": 38_000, "harbour": 46_000}, decline=("bridges",))
    winner = next(p for p in providers.values() if str(p.id) == second.provider_id)
    j.start_placement(client, winner, second.placement_id)
    j.return_attendance(client, winner, second.placement_id, attended=9, authorised_absence=1)
    third = _award(client, providers, {"harbour": 46_000}, decline=("bridges", "oakwood"))
    return call_off, second, third


def test_the_reader_declared_everything_from_the_documents_before_the_services_started(reader, running_system):
    exchanges = {d[1]: d[2] for d in reader.declared if d[0] == "exchange"}
    assert exchanges == {f"dps.{s}": {"alternate-exchange": f"dps.{s}.unrouted"} for s in EXCHANGES}
    assert sorted(reader.queues) == sorted(f"{READER}.dps.{s}" for s in EXCHANGES)
    bound = {(d[2], d[3]) for d in reader.declared if d[0] == "binding"}
    assert ("dps.awards", "placement.awarded") in bound and ("dps.tracking", "attendance.recorded") in bound
    assert ("dps.provider_registry", "membership.admitted") in bound
    for service in EXCHANGES:  # the services found the exchanges as they declare them: nothing refused
        log = running_system[service].log("web")
        assert "exists without its alternate exchange" not in log, log[-2000:]


def test_the_reader_rebuilds_the_accountability_report_from_events(client, reader, journey):
    call_off, second, third = journey

    def from_api() -> list[dict]:
        return client.call_all("tracking", "/v1/reports/accountability", j.REPORTING)

    api = from_api()
    assert len(api) >= 2 and sum(row["placements"] for row in api) == 3, api
    assert sum(row["active"] for row in api) == 1 and sum(row["ended"] for row in api) == 1
    assert sum(row["concerns"] for row in api) >= 1
    wait_until(lambda: reader.accountability() == from_api(), timeout=30,
               message="the reader's accountability report to match the API's")
    assert reader.accountability() == from_api()
    rebuilt = {row["provider_id"]: row for row in reader.accountability()}
    assert rebuilt[third.provider_id]["placements"] >= 1
    assert rebuilt[call_off.award.provider_id]["reintegration_rate"] is not None


def test_every_message_the_reader_received_is_valid_against_the_documents(reader, journey):
    with reader.lock:
        received = {e["type"] for e in reader.events.values()}
        invalid = list(reader.invalid)
    assert {"membership.admitted", "placement.awarded", "placement.started", "attendance.recorded",
            "concern.raised", "placement.ended"} <= received
    assert not invalid, invalid[:20]


def test_every_event_of_the_journey_on_all_four_exchanges_is_valid_against_its_document(tap, journey):
    """The tap (bound with `#` to every exchange) saw referrals' events too: each valid against its payload."""
    tap.wait_for(lambda e: e["type"] == "placement.awarded", count=3, timeout=30)
    documents = {service: json.loads((DOCS / f"{service}.json").read_text())
                 for service in ("provider_registry", "referrals", "awards", "tracking")}
    payloads = {type_: message["payload"] for document in documents.values()
                for type_, message in document["components"]["messages"].items()}
    invalid = [f"{e['type']}: {error.json_path}: {error.message}" for e in tap.received
               for error in Draft202012Validator(payloads[e["type"]], format_checker=FormatChecker()).iter_errors(e)]
    assert {e["type"] for e in tap.received} >= {"referral.published", "referral.closed", "offer.submitted",
                                                 "placement.awarded", "membership.admitted", "placement.ended"}
    assert not invalid, invalid[:20]
