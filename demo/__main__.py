"""`python -m demo` (or `make demo`): the whole journey against the system `make run` started, narrated.

Who did what, which events flowed between the services (a temporary queue
bound to the four `dps.*` exchanges), the ranking table, the award, the
attendance concern, the report rows and the OCDS release; then a block
mini-competition to its award and standstill; then a placement off the DPS,
approved and tracked, the sixth-day report and the January AP census return
(JSON and DfE's CSV).  About a minute; no setup beyond `make run` in another
terminal.

Environment: DPS_<SERVICE>_HOST / DPS_<SERVICE>_PORT (default 127.0.0.1 and
8001..8004), DPS_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672//),
DPS_JWT_SECRET (default: the development secret `make run` uses).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter

from demo import journey as j
from shared.auth import mint_token
from shared.config import DEFAULT_PORTS, DEVELOPMENT_JWT_AUDIENCE, DEVELOPMENT_JWT_ISSUER, DEVELOPMENT_JWT_SECRET

WHO_WIDTH = 27
COLOUR = sys.stdout.isatty() and os.environ.get("NO_COLOR") is None


def _style(code: str, text: str) -> str:
    return f"\033[{code}m{text}\033[0m" if COLOUR else text


class Terminal:
    """One writer for the narration (main thread) and the events (the tap's thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.chapters = 0

    def line(self, text: str = "") -> None:
        with self.lock:
            print(text, flush=True)

    def chapter(self, title: str) -> None:
        self.chapters += 1
        self.line()
        self.line(_style("1;36", f"── {self.chapters}. {title} ".ljust(100, "─")))

    def narrate(self, who: str, what: str) -> None:
        if what.startswith("\n"):  # a table
            self.line(f"  {_style('1', who)}")
            for row in what.strip("\n").splitlines():
                self.line(f"      {row}")
            return
        self.line(f"  {_style('1', who[:WHO_WIDTH].ljust(WHO_WIDTH))} {what}")

    def event(self, envelope: dict, summary: str) -> None:
        exchange = f"dps.{envelope.get('producer', '?')}"
        self.line(_style("2;33", f"  {'':{WHO_WIDTH}} ⇢ {exchange:<22} {envelope.get('type', '?'):<27} {summary}"))


# --------------------------------------------------------------------------- the event tap


class EventTap:
    """A temporary exclusive queue bound to the four exchanges with `#`; prints each event as it arrives."""

    def __init__(self, amqp_url: str, terminal: Terminal) -> None:
        from kombu import Connection, Queue

        from shared.messaging.topology import service_exchange

        self.terminal = terminal
        self.names: dict[str, str] = {}
        self.counts: Counter[str] = Counter()
        self.last_seen = time.monotonic()
        self.stopping = threading.Event()
        self.connection = Connection(amqp_url, connect_timeout=3)
        self.connection.ensure_connection(max_retries=1)
        channel = self.connection.channel()
        self.queue = Queue(f"demo.tap.{uuid.uuid4().hex[:8]}", exclusive=True, auto_delete=True,
                           channel=channel)
        self.queue.declare()
        for service in j.SERVICES:
            exchange = service_exchange(service).bind(channel)  # as `dps migrate` declared it
            exchange.declare()
            self.queue.bind_to(exchange=exchange, routing_key="#")
        self.channel = channel
        self.thread = threading.Thread(target=self._run, name="event-tap", daemon=True)

    def start(self) -> EventTap:
        self.thread.start()
        return self

    def _run(self) -> None:
        from kombu import Consumer

        with Consumer(self.channel, queues=[self.queue], on_message=self._on_message, no_ack=True):
            while not self.stopping.is_set():
                try:
                    self.connection.drain_events(timeout=0.3)
                except TimeoutError:
                    continue
                except Exception as exc:  # the broker went away: say so, stop tapping
                    self.terminal.line(_style("31", f"  (the event tap stopped: {exc})"))
                    return

    def _on_message(self, message) -> None:
        try:
            envelope = json.loads(message.body)
        except (TypeError, ValueError):
            return
        self.last_seen = time.monotonic()
        self.counts[envelope.get("type", "?")] += 1
        data = envelope.get("data", {})
        if data.get("provider_name"):
            self.names[str(data.get("provider_id"))] = data["provider_name"]
        self.terminal.event(envelope, self.summary(envelope.get("type", ""), data))

    def name(self, provider_id) -> str:
        return self.names.get(str(provider_id), str(provider_id)[:8])

    def summary(self, type_: str, d: dict) -> str:
        def short(value) -> str:
            return str(value)[:8]

        if type_.startswith("membership."):
            return f"{d.get('provider_name')}, lot {d.get('lot')}" + (f" ({d['reason']})" if d.get("reason") else "")
        if type_ == "referral.published":
            due = d.get("full_time_provision_by")
            return (f"referral {short(d['referral_id'])}, lot {d['lot']}, {len(d['invited_provider_ids'])} invited"
                    + (f", full-time by {due}" if due else ", no sixth-day duty"))
        if type_ in ("offer.submitted", "offer.changed", "offer.withdrawn"):
            return f"referral {short(d['referral_id'])} <- {self.name(d['provider_id'])} (no price: sealed)"
        if type_ == "offer.declined":
            return f"referral {short(d['referral_id'])}: {self.name(d['provider_id'])} declined"
        if type_ == "referral.closed":
            return f"referral {short(d['referral_id'])}: {len(d.get('offers', []))} offers assessed, child_ref only"
        if type_ == "placement.awarded":
            return (f"placement {short(d['placement_id'])} -> {self.name(d['provider_id'])}, "
                    f"{j.pounds(d['total_pence'])}")
        if type_ == "offer.unsuccessful":
            return f"{self.name(d['provider_id'])}: {d.get('reason')}"
        if type_ == "block_contract.awarded":
            return (f"{self.name(d['provider_id'])}, {d['places']} places, {j.pounds(d['price_pence'])}, standstill "
                    f"to {d['standstill_ends_on']}")
        if type_ == "placement.started":
            return f"placement {short(d['placement_id'])} on {d['started_on']}"
        if type_ == "attendance.recorded":
            return f"placement {short(d['placement_id'])}, week of {d['week_commencing']}, rate {d.get('rate')}"
        if type_ == "concern.raised":
            return f"placement {short(d['placement_id'])}: {d['kind']} (rate {d.get('rate')})"
        if type_ == "review.recorded":
            progress = d.get("progress") or {}
            return f"placement {short(d['placement_id'])}: " + ", ".join(f"{k} {v}" for k, v in progress.items())
        if type_ == "outcome.recorded":
            return f"placement {short(d['placement_id'])}: {d.get('stage')} outcomes"
        if type_ == "off_dps_exception.recorded":
            return f"referral {short(d['referral_id'])}: {(d.get('provider') or {}).get('name')}, for the manager"
        if type_ == "off_dps_placement.approved":
            return f"placement {short(d['placement_id'])} -> {d.get('provider_name')}, {j.pounds(d['total_pence'])}"
        if type_ == "placement.ended":
            return f"placement {short(d['placement_id'])}: {d.get('end_reason')}, next step {d.get('next_step')}"
        return ""

    def settle(self, quiet: float = 1.0, limit: float = 5.0) -> None:
        """Wait (at most `limit` s) until no event has arrived for `quiet` s: the last ones are shown."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and time.monotonic() - self.last_seen < quiet:
            time.sleep(0.1)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        try:
            self.connection.release()
        except OSError:
            pass


# --------------------------------------------------------------------------- running it


def service_urls() -> dict[str, str]:
    urls = {}
    for service in j.SERVICES:
        up = service.upper()
        host = os.environ.get(f"DPS_{up}_HOST") or os.environ.get("DPS_HOST") or "127.0.0.1"
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        port = os.environ.get(f"DPS_{up}_PORT") or os.environ.get("DPS_PORT") or DEFAULT_PORTS[service]
        urls[service] = f"http://{host}:{port}"
    return urls


def token(*roles: str, team: str | None = None, provider_id=None, sub: str = "demo-user") -> str:
    secret = os.environ.get("DPS_JWT_SECRET") or DEVELOPMENT_JWT_SECRET
    return mint_token(roles=list(roles), sub=sub, team=team, provider_id=provider_id, secret=secret,
                      issuer=os.environ.get("DPS_JWT_ISSUER") or DEVELOPMENT_JWT_ISSUER,
                      audience=os.environ.get("DPS_JWT_AUDIENCE") or DEVELOPMENT_JWT_AUDIENCE)


def not_ready(urls: dict[str, str]) -> list[str]:
    missing = []
    for service, url in urls.items():
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=3) as answer:
                if answer.status != 200:
                    missing.append(f"{service} ({url}: {answer.status})")
        except (urllib.error.URLError, OSError) as exc:
            missing.append(f"{service} ({url}: {getattr(exc, 'reason', exc)})")
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.splitlines()[0])
    parser.add_argument("--pace", type=float, default=1.0, help="seconds to pause between chapters (default 1)")
    parser.add_argument("--referral-window", type=float, default=20.0,
                        help="seconds the referral stays open when not every invited provider answers (default 20)")
    parser.add_argument("--bid-window", type=float, default=10.0,
                        help="seconds the mini-competition takes bids (default 10)")
    parser.add_argument("--keep", action="store_true", help="leave the demo's providers on their lots at the end")
    args = parser.parse_args(argv)

    terminal = Terminal()
    urls = service_urls()
    missing = not_ready(urls)
    if missing:
        terminal.line("The DPS is not running (or not ready): " + "; ".join(missing))
        terminal.line("Start it in another terminal with `make run`, then run `make demo` again.")
        return 2

    terminal.line(_style("1", "A council's Dynamic Purchasing System for Alternative Provision: the whole journey"))
    terminal.line("Four services (" + ", ".join(f"{s} {u}" for s, u in urls.items()) + ")")
    terminal.line("talk only through events on RabbitMQ; the lines marked ⇢ are those events as they flow.")

    amqp_url = os.environ.get("DPS_AMQP_URL") or "amqp://guest:guest@127.0.0.1:5672//"
    tap = None
    try:
        tap = EventTap(amqp_url, terminal).start()
    except Exception as exc:  # the journey still runs; only the events are not shown
        terminal.line(_style("31", f"(cannot tap the events on {amqp_url}: {exc}; the journey runs without them)"))

    first = [True]

    def chapter(title: str) -> None:
        if tap is not None:
            tap.settle()
        if not first[0] and args.pace > 0:
            time.sleep(args.pace)  # a pause for the reader, not for the system
        first[0] = False
        terminal.chapter(title)

    client = j.Client(urls, token, narrate=terminal.narrate, chapter=chapter)
    call_off = block = None
    status = 0
    try:
        call_off = j.call_off_journey(client, referral_window=args.referral_window)
        block = j.block_journey(client, call_off.providers, bid_window=args.bid_window)
        j.off_dps_journey(client, call_off.providers, referral_window=args.referral_window,
                          also_reported=[call_off.referral])
        chapter("What happens next")
        opportunity = block.opportunity
        ends = block.awarded.get("standstill_ends_on")
        terminal.narrate("Awards service", f"the block contract is in its standstill until the end of {ends} "
                                           f"({block.opportunity.view.get('standstill_working_days')} working days)")
        terminal.narrate("", f"then an officer confirms it: POST {urls['awards']}/v1/opportunities/{opportunity.id}"
                             "/confirmation")
        terminal.narrate("", "and a referred child takes one of its places: POST "
                             f"{urls['awards']}/v1/block-contracts/<contract_id>/allocations")
        terminal.narrate("", "(awards refuses both before the standstill ends, as it just did: 409)")
    except j.JourneyError as exc:
        terminal.line(_style("31", f"\nThe journey stopped: {exc}"))
        status = 1
    except KeyboardInterrupt:
        terminal.line("\nInterrupted.")
        status = 130
    finally:
        if call_off is not None and call_off.providers and not args.keep:
            try:
                chapter("Tidying up")
                j.leave_the_dps(client, call_off.providers.values())
            except (j.JourneyError, OSError) as exc:
                terminal.line(f"(could not remove the demo's providers: {exc})")
        if tap is not None:
            tap.settle()
            tap.stop()
    if status == 0 and tap is not None:
        terminal.line()
        terminal.line(f"{sum(tap.counts.values())} events flowed: " +
                      ", ".join(f"{t} x{n}" for t, n in sorted(tap.counts.items())))
    terminal.line(f"Done in {time.monotonic() - terminal.started:.0f}s.")
    return status


if __name__ == "__main__":
    sys.exit(main())
