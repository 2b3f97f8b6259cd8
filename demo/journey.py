"""The journey of issue 7 as plain, reusable steps over HTTP.

Every step takes a `Client` (the base URL of each service and a function that
mints tokens), calls the public APIs as a council officer, the manager, a
provider's system, an evaluator or a reporting tool would, checks the answer
it needs, tells what happened through `client.narrate(who, what)` and returns
what later steps need.  Where a step depends on an event reaching another
service, it polls that service's API until the effect shows (bounded by
`client.wait_timeout`; `PropagationTimeout` says what did not arrive): never a
blind sleep.

A refusal the step did not expect raises `Refused`, which carries the status
and the fields the service named; a caller that expects one catches it.

    client = Client(urls={"provider_registry": "http://127.0.0.1:8001", ...}, token=mint)
    bridges = admit_provider(client, "Bridges Learning Centre", lots=(1, 2))
    referral = refer_child(client, lot=1)
    offer = make_offer(client, bridges, referral, unit_price_pence=42_000)
    ...

`call_off_journey(client)` and `block_journey(client, ...)` run the whole of
issue 7's story and return a record of every step, for the end-to-end test
(which asserts on it) and the demo (which prints it).
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

SERVICES = ("provider_registry", "referrals", "awards", "tracking")
COUNCIL_TIMEZONE = ZoneInfo("Europe/London")
PRICING_LINE_NAMESPACE = uuid.UUID("6f1f6c0e-3c2a-4a0e-9a57-5d1c0e6b7a10")

Narrate = Callable[[str, str], None]
TokenFn = Callable[..., str]


# --------------------------------------------------------------------------- errors


class JourneyError(AssertionError):
    """A step found the system in a state it should not be in."""


class PropagationTimeout(JourneyError):
    """An effect of an event did not show in the receiving service in time."""


class Refused(JourneyError):
    """A request answered with a status the step did not expect."""

    def __init__(self, method: str, service: str, path: str, response: Response, expected: Sequence[int]):
        self.method, self.service, self.path, self.response = method, service, path, response
        self.status = response.status
        body = response.text[:1500]
        super().__init__(f"{method} {service} {path} answered {response.status} (expected "
                         f"{', '.join(map(str, expected))}): {body}")

    @property
    def message(self) -> str:
        return (self.response.json or {}).get("message", "") if isinstance(self.response.json, dict) else ""

    @property
    def fields(self) -> dict[str, list[str]]:
        """Every field the refusal names (from any location: json, query, path, headers)."""
        found: dict[str, list[str]] = {}
        errors = (self.response.json or {}).get("errors", {}) if isinstance(self.response.json, dict) else {}
        for by_field in errors.values():
            if isinstance(by_field, dict):
                for name, reasons in by_field.items():
                    found.setdefault(name, []).extend(reasons if isinstance(reasons, list) else [str(reasons)])
        return found


# --------------------------------------------------------------------------- HTTP


@dataclass
class Response:
    status: int
    body: bytes
    headers: Mapping[str, str]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8-sig", errors="replace")  # a CSV download starts with a byte-order mark

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


@dataclass(frozen=True)
class Actor:
    """Someone calling the APIs: who they are (for the narration) and their token's claims."""

    label: str
    roles: tuple[str, ...]
    sub: str
    team: str | None = None
    provider_id: uuid.UUID | None = None


OFFICER = Actor("Officer (exclusions team)", ("officer",), "officer-amira-exclusions", team="exclusions")
MANAGER = Actor("VLS manager", ("manager",), "vls-manager-jo")
REPORTING = Actor("Reporting tool", ("reporting",), "reporting-tool")
EVALUATORS = (Actor("Evaluator Priya", ("evaluator",), "evaluator-priya"),
              Actor("Evaluator Tom", ("evaluator",), "evaluator-tom"))
PUBLIC = Actor("The public", (), "anonymous")


def _next_page(headers: Mapping[str, str]) -> str | None:
    link = next((v for k, v in headers.items() if k.lower() == "link"), "")
    found = re.search(r'<([^>]*)>;\s*rel="next"', link)
    return found.group(1) if found else None


def _quiet(_who: str, _what: str) -> None:
    return None


def _no_chapter(_title: str) -> None:
    return None


@dataclass
class Client:
    """Where the four services are, how to get a token, and how to tell the story.

    `token(*roles, team=None, provider_id=None, sub=...)` returns a signed JWT
    (tests.support.runtime.token fits; the demo signs with DPS_JWT_SECRET).
    """

    urls: Mapping[str, str]
    token: TokenFn
    narrate: Narrate = _quiet
    chapter: Callable[[str], None] = _no_chapter
    wait_timeout: float = 30.0
    poll_interval: float = 0.1
    http_timeout: float = 30.0
    _lots: list | None = field(default=None, repr=False)

    def say(self, who: Actor | str, what: str) -> None:
        self.narrate(who.label if isinstance(who, Actor) else who, what)

    def headers(self, actor: Actor) -> dict[str, str]:
        if not actor.roles:
            return {}
        kwargs: dict[str, Any] = {"sub": actor.sub}
        if actor.team:
            kwargs["team"] = actor.team
        if actor.provider_id:
            kwargs["provider_id"] = actor.provider_id
        return {"Authorization": f"Bearer {self.token(*actor.roles, **kwargs)}"}

    def send(self, method: str, service: str, path: str, actor: Actor, *, body: Any = None,
             query: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> Response:
        url = self.urls[service].rstrip("/") + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body, default=str).encode()
        sent = {"Accept": "application/json", **self.headers(actor), **(headers or {})}
        if data is not None:
            sent["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=self.http_timeout) as answer:
                return Response(answer.status, answer.read(), dict(answer.headers))
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read(), dict(error.headers or {}))

    def call(self, method: str, service: str, path: str, actor: Actor, *, expect: int | Sequence[int] = 200,
             body: Any = None, query: Mapping[str, Any] | None = None,
             headers: Mapping[str, str] | None = None) -> Any:
        """Send; the parsed body when the status is expected, else `Refused`."""
        expected = (expect,) if isinstance(expect, int) else tuple(expect)
        response = self.send(method, service, path, actor, body=body, query=query, headers=headers)
        if response.status not in expected:
            raise Refused(method, service, path, response, expected)
        return response.json if response.json is not None else response.text

    def call_all(self, service: str, path: str, actor: Actor, *, query: Mapping[str, Any] | None = None) -> list:
        """Every item of a list, page by page: each page's Link header names the next (shared/paging.py)."""
        items: list = []
        response = self.send("GET", service, path, actor, query=query)
        while True:
            if response.status != 200:
                raise Refused("GET", service, path, response, (200,))
            items += response.json
            following = _next_page(response.headers)
            if following is None:
                return items
            response = self.send("GET", service, following, actor)

    def wait_for(self, what: str, probe: Callable[[], Any], timeout: float | None = None) -> Any:
        """Poll `probe` until it returns something truthy (returned); `PropagationTimeout` after `timeout`."""
        limit = self.wait_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            found = probe()
            if found:
                return found
            if time.monotonic() >= deadline:
                raise PropagationTimeout(f"waited {limit:.0f}s for {what}")
            time.sleep(self.poll_interval)

    def wait_until_found(self, what: str, service: str, path: str, actor: Actor) -> Any:
        """Poll GET `path` until it answers 200 (an event's effect arrived there); its body."""
        def found() -> Any:
            response = self.send("GET", service, path, actor)
            return response.json if response.status == 200 else None

        return self.wait_for(what, found)

    def lots(self) -> list[dict]:
        if self._lots is None:
            self._lots = self.call("GET", "provider_registry", "/v1/lots", PUBLIC)
        return self._lots


# --------------------------------------------------------------------------- dates


def now_utc() -> datetime:
    return datetime.now(UTC)


def council_today() -> date:
    return datetime.now(COUNCIL_TIMEZONE).date()


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def pounds(pence: int) -> str:
    return f"£{pence / 100:,.2f}"


# --------------------------------------------------------------------------- DPS records


def dps_record(client: Client, dps_id: str | uuid.UUID) -> dict:
    """One DPS record as the registry publishes it: regime, term, statutory end, lots and their questions."""
    return client.call("GET", "provider_registry", f"/v1/dps-records/{dps_id}", PUBLIC)


def set_up_dps(client: Client, name: str, *, regime: str = "pa2023_dynamic_market", lots: Iterable[int] = (1,),
               start: date | None = None, term_years: int = 4) -> dict:
    """The manager sets up a DPS record beside the first (a successor arrangement: its own regime, lots
    and term, from `start`, by default today); providers join it separately."""
    body = {"name": name, "regime": regime, "lots": list(lots), "start": (start or council_today()).isoformat(),
            "term_years": term_years}
    record = client.call("POST", "provider_registry", "/v1/dps-records", MANAGER, expect=201, body=body)
    client.say(MANAGER, f"sets up {name} ({regime}) for {_lots_text(tuple(lots))} from {body['start']}, "
                        f"to {record['ends_on']}")
    return record


# --------------------------------------------------------------------------- providers


DEFAULT_PRICING = (
    {"description": "Group place per week", "unit": "week", "staffing_ratio": "1:4", "maximum_price_pence": 45_000},
    {"description": "1:1 tuition per hour", "unit": "hour", "staffing_ratio": "1:1", "maximum_price_pence": 5_500},
)


@dataclass
class Provider:
    id: uuid.UUID
    name: str
    registered: bool
    lots: tuple[int, ...]
    capacity: int
    # lot -> description (case-folded) -> the line as the registry shows it (with pricing_line_id)
    lines: dict[int, dict[str, dict]] = field(default_factory=dict)
    application_id: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.name, ("provider",), f"system-of-{self.id}", provider_id=self.id)

    def line(self, lot: int, description: str) -> dict:
        return self.lines[lot][description.casefold()]

    def maximum(self, lot: int, description: str) -> int:
        return self.line(lot, description)["maximum_price_pence"]


def pricing_line_id(provider_id: uuid.UUID, lot: int, description: str) -> uuid.UUID:
    """As docs/events.md defines it: stable across schedule versions."""
    return uuid.uuid5(PRICING_LINE_NAMESPACE, f"{provider_id}:{lot}:{description.casefold()}")


def _passing_answers(client: Client, lot: int, dps_id: str | uuid.UUID | None = None) -> dict:
    """Passing answers to the lot's qualification questions, as the registry publishes them
    (the first DPS's, or those of the DPS record `dps_id`)."""
    lots = client.lots() if dps_id is None else dps_record(client, dps_id)["lots"]
    questions = next(entry for entry in lots if entry["number"] == lot)["questions"]
    answers: dict[str, Any] = {}
    for question in questions:
        if question["kind"] == "pass_fail":
            answers[question["id"]] = question.get("pass_answer", True)
        else:
            answers[question["id"]] = min(question.get("max_score", 5), max(question.get("pass_mark", 3) + 1, 4))
    return answers


def application_form(client: Client, name: str, lots: Iterable[int], *, registered: bool = True,
                     pricing: Mapping[int, Sequence[dict]] | Sequence[dict] | None = None,
                     capacity: int = 6, dps_id: str | uuid.UUID | None = None) -> dict:
    """A complete request to participate that passes every qualification question (of the first DPS,
    or of the DPS record `dps_id`: a successor is joined separately)."""
    lots = tuple(lots)
    expires = (council_today() + timedelta(days=365)).isoformat()
    slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20] or "provider"

    def lines_for(lot: int) -> list[dict]:
        if pricing is None:
            return [dict(line) for line in DEFAULT_PRICING]
        if isinstance(pricing, Mapping):
            return [dict(line) for line in pricing.get(lot, DEFAULT_PRICING)]
        return [dict(line) for line in pricing]

    registration = ({"setting_kind": "registered_school", "urn": f"{random.randint(100000, 999999)}",
                     "inspectorate": "ofsted", "last_inspection_outcome": "Good"} if registered
                    else {"setting_kind": "unregistered"})
    form = {
        "organisation": {"name": name, "address": f"1 {name} Way, Newtown", "postcode": "NT1 2AB",
                         "companies_house_number": f"{random.randint(10_000_000, 99_999_999)}", "charity_number": None},
        "registration": registration,
        "safeguarding_lead": {"name": "Sam Okafor", "email": f"safeguarding@{slug}.example", "phone": "01632 960000"},
        "enhanced_dbs_confirmed": True,
        "documents": [{"kind": "insurance", "reference": "insurance-certificate.pdf", "expires_on": expires},
                      {"kind": "dbs_confirmation", "reference": "single-central-record.pdf", "expires_on": expires},
                      {"kind": "safeguarding_policy", "reference": "safeguarding-policy.pdf", "expires_on": expires}],
        "lots": [{"lot": lot, "answers": _passing_answers(client, lot, dps_id), "pricing_lines": lines_for(lot),
                  "capacity": capacity} for lot in lots],
        "sla_version": "1",
    }
    if dps_id is not None:
        form["dps_id"] = str(dps_id)
    return form


def admit_provider(client: Client, name: str, lots: Iterable[int] = (1,), *, registered: bool = True,
                   pricing: Mapping[int, Sequence[dict]] | Sequence[dict] | None = None, capacity: int = 6,
                   provider_id: uuid.UUID | None = None, wait: bool = True,
                   dps_id: str | uuid.UUID | None = None) -> Provider:
    """The provider applies for `lots` with its pricing schedule (to the first DPS, or to the DPS record
    `dps_id`); the manager admits it to all of them.

    With `wait`, returns once referrals and awards (which invite and rank by
    their own copies of the registry) show it admitted on every lot."""
    lots = tuple(lots)
    provider = Provider(provider_id or uuid.uuid4(), name, registered, lots, capacity)
    form = application_form(client, name, lots, registered=registered, pricing=pricing, capacity=capacity,
                            dps_id=dps_id)
    application = client.call("POST", "provider_registry", "/v1/applications", provider.actor, expect=201, body=form)
    provider.application_id = application["id"]
    for entry in application["lots"]:
        provider.lines[entry["lot"]] = {line["description"].casefold(): line for line in entry["pricing_lines"]}
    kind = "a registered school" if registered else "an unregistered setting"
    schedule = "; ".join(f"{line['description']} at most {pounds(line['maximum_price_pence'])}"
                         for line in application["lots"][0]["pricing_lines"])
    of_dps = "" if dps_id is None else f" of DPS record {str(dps_id)[:8]}…"
    client.say(provider.actor, f"applies to join {_lots_text(lots)}{of_dps} as {kind}, capacity {capacity} "
                               f"(pricing schedule: {schedule})")
    client.call("POST", "provider_registry", f"/v1/applications/{provider.application_id}/decision", MANAGER,
                body={"outcome": "admit", "lots": list(lots), "reasons": []})
    client.say(MANAGER, f"admits {name} to {_lots_text(lots)}{of_dps}")
    if wait:
        wait_for_membership(client, provider, lots, "admitted", dps_id=dps_id)
    return provider


def suspend_provider(client: Client, provider: Provider, lot: int, reason: str, *, wait: bool = True) -> None:
    client.call("POST", "provider_registry", f"/v1/providers/{provider.id}/lots/{lot}/suspension", MANAGER,
                body={"reason": reason})
    client.say(MANAGER, f"suspends {provider.name} on lot {lot}: {reason}")
    if wait:
        wait_for_membership(client, provider, (lot,), "suspended")


def remove_provider(client: Client, provider: Provider, lot: int, reason: str, *, wait: bool = True) -> None:
    client.call("POST", "provider_registry", f"/v1/providers/{provider.id}/lots/{lot}/removal", MANAGER,
                body={"reason": reason})
    client.say(MANAGER, f"removes {provider.name} from lot {lot}: {reason}")
    if wait:
        wait_for_membership(client, provider, (lot,), "removed")


def wait_for_membership(client: Client, provider: Provider, lots: Iterable[int], status: str, *,
                        dps_id: str | uuid.UUID | None = None) -> None:
    """Referrals' and awards' copies of the registry show `status` on every lot (of the DPS record
    `dps_id` where given, else of any)."""
    lots = tuple(lots)

    def of_dps(row: dict) -> bool:
        return dps_id is None or row.get("dps_id") == str(dps_id)

    def in_referrals() -> bool:
        rows = client.call_all("referrals", "/v1/registry/memberships", MANAGER,
                               query={"provider_id": provider.id})
        seen = {row["lot"]: row["status"] for row in rows if of_dps(row)}
        return all(seen.get(lot) == status for lot in lots)

    def in_awards() -> bool:
        for lot in lots:
            rows = client.call_all("awards", "/v1/providers", MANAGER, query={"lot": lot})
            if not any(r["provider_id"] == str(provider.id) and r["membership_status"] == status and of_dps(r)
                       for r in rows):
                return False
        return True

    client.wait_for(f"referrals to see {provider.name} {status} on {_lots_text(lots)}", in_referrals)
    client.wait_for(f"awards to see {provider.name} {status} on {_lots_text(lots)}", in_awards)


def _lots_text(lots: Sequence[int]) -> str:
    return ("lot " if len(lots) == 1 else "lots ") + " and ".join(str(lot) for lot in lots)


# --------------------------------------------------------------------------- referrals


FIRST_NAMES = ("Riley", "Jordan", "Casey", "Morgan", "Alexis", "Rowan", "Skyler", "Jamie")
LAST_NAMES = ("Featherstonehaugh", "Quartermaine", "Okonkwo-Reid", "Pemberton-Vale", "Ashworth-Binns")


def a_child(age: int = 14, *, census: bool = False) -> dict:
    """A child's identifying details: only ever on the council's side (a fresh UPN each time); with `census`,
    also what DfE's AP census asks (legal names, sex, ethnicity, SEN provision, free school meals)."""
    today = council_today()
    born = today.replace(year=today.year - age, day=1) - timedelta(days=45)
    upn = random.choice("ABCDEFGHJKLMNPQRTUVWXYZ") + "".join(random.choice("0123456789") for _ in range(12))
    forename, surname = random.choice(FIRST_NAMES), random.choice(LAST_NAMES)
    child = {"name": f"{forename} {surname}", "date_of_birth": born.isoformat(), "upn": upn,
             "address": "14 Larch Walk, London SE15 4QT"}
    if census:
        child.update(surname=surname, forename=forename, sex="F", ethnicity="WBRI", sen_provision="N",
                     fsm_eligible=True)
    return child


def a_profile(*, start_date: date | None = None, hours_per_week: int = 25, ehcp: bool = True,
              looked_after: bool = False, reason: str = "permanent_exclusion", expected_weeks: int = 12,
              **changes) -> dict:
    """The pseudonymised profile providers see."""
    profile = {
        "age": 14, "year_group": 9, "primary_need": "Social, emotional and mental health", "ehcp": ehcp,
        "looked_after": looked_after, "reason": reason,
        "needs_and_risks": "Needs a small group and a trusted adult; risk of absconding when anxious.",
        "aims": "Stabilise attendance and re-engage with learning, then return to a mainstream school "
                "within two terms.",
        "success_measures": {"attendance": "Above 90% by half term", "behaviour": "No exclusions"},
        "curriculum": "English, maths, science and PSHE", "qualification_route": "Functional skills level 1",
        "hours_per_week": hours_per_week, "pattern": "Five days, 9:30 to 2:30",
        "start_date": (start_date or council_today()).isoformat(), "expected_weeks": expected_weeks,
        "postcode_district": "SE15", "transport_needed": True,
    }
    profile.update(changes)
    return profile


@dataclass
class Referral:
    id: str
    lot: int
    child: dict
    child_ref: str
    deadline: datetime
    full_time_provision_by: str | None
    questions: list[dict]
    status: str
    invited: list[str] = field(default_factory=list)
    view: dict = field(default_factory=dict, repr=False)


URGENCY = "The child is out of education now and needs a place this week"


def refer_child(client: Client, *, lot: int = 1, child: dict | None = None, profile: dict | None = None,
                exclusion_start: date | None = None, deadline: datetime | None = None,
                questions: Sequence[str] = ("How will you help this child settle in the first fortnight?",),
                officer: Actor = OFFICER, publish: bool = True, urgency: str | None = URGENCY,
                dps_id: str | uuid.UUID | None = None) -> Referral:
    """An officer completes the referral form (the child's details stay on the council's side) and,
    with `publish`, sends the pseudonymised profile to every provider admitted and not suspended on the lot
    (of the DPS record `dps_id`, or the one referrals chooses: the only open DPS with the lot, else the first).
    A window shorter than 10 days needs a recorded basis: the demo's windows are minutes long, so the
    form gives the urgency of a child without education, in words."""
    child = child or a_child()
    profile = profile or a_profile()
    deadline = deadline or now_utc() + timedelta(hours=1)
    form = {"lot": lot, "deadline": deadline.isoformat(), "child": child, "profile": profile,
            "questions": list(questions), "urgency": urgency}
    if dps_id is not None:
        form["dps_id"] = str(dps_id)
    if profile.get("reason") == "permanent_exclusion":
        form["exclusion_start"] = (exclusion_start or council_today()).isoformat()
    view = client.call("POST", "referrals", "/v1/referrals", officer, expect=201, body=form)
    referral = Referral(view["referral_id"], lot, child, view["child_ref"], deadline,
                        view.get("full_time_provision_by"), view["questions"], view["status"], view=view)
    shown = (f"; full-time provision is due by {referral.full_time_provision_by} (the sixth school day of the "
             f"exclusion)") if referral.full_time_provision_by else ""
    client.say(officer, f"refers a {profile['age']}-year-old ({profile['reason'].replace('_', ' ')}, "
                        f"{profile['hours_per_week']} h/week, EHCP {'yes' if profile['ehcp'] else 'no'}) to lot {lot}"
                        f"{shown}; offers by {deadline.astimezone(COUNCIL_TIMEZONE):%H:%M:%S}")
    if publish:
        publish_referral(client, referral, officer)
    return referral


def publish_referral(client: Client, referral: Referral, officer: Actor = OFFICER) -> list[str]:
    published = client.call("POST", "referrals", f"/v1/referrals/{referral.id}/publish", officer)
    referral.invited = [str(p) for p in published["invited_provider_ids"]]
    referral.status = "published"
    client.say(officer, f"publishes the referral: {len(referral.invited)} providers invited")
    return referral.invited


def provider_view_of_referral(client: Client, provider: Provider, referral: Referral) -> Response:
    """What the provider's system gets asking for the referral (200 with the pseudonymised profile, or 404)."""
    return client.send("GET", "referrals", f"/v1/provider/referrals/{referral.id}", provider.actor)


def open_referrals_of(client: Client, provider: Provider) -> list[dict]:
    return client.call_all("referrals", "/v1/provider/referrals", provider.actor)


@dataclass
class Offer:
    id: str
    provider: Provider
    unit_price_pence: int
    total_pence: int
    view: dict = field(repr=False)


def offer_terms(provider: Provider, referral: Referral, *, unit_price_pence: int,
                line: str = "Group place per week", units_per_week: float = 1, weeks: int = 12,
                proposed_start: date | None = None, **changes) -> dict:
    chosen = provider.line(referral.lot, line)
    terms = {"pricing_line_id": chosen["pricing_line_id"], "unit_price_pence": unit_price_pence,
             "units_per_week": units_per_week, "weeks": weeks,
             "proposed_start": (proposed_start or council_today()).isoformat(),
             "staffing_ratio": chosen.get("staffing_ratio", "1:4"), "delivery_site": f"{provider.name} main site",
             "delivery_postcode": "SE15 5AB",
             "how_it_meets_needs": "Small groups with a named key worker; a calm space; weekly reviews against "
                                   "the aims and a planned return to school.",
             "place_available": True,
             "answers": {q["question_id"]: "A daily check-in with a key worker and a buddy for the first "
                                           "fortnight." for q in referral.questions}}
    terms.update(changes)
    return terms


def make_offer(client: Client, provider: Provider, referral: Referral, *, unit_price_pence: int,
               line: str = "Group place per week", units_per_week: float = 1, weeks: int = 12,
               proposed_start: date | None = None, idempotency_key: str | None = None, **changes) -> Offer:
    """The provider's system offers a place (sealed); `Refused` if the service says no."""
    terms = offer_terms(provider, referral, unit_price_pence=unit_price_pence, line=line,
                        units_per_week=units_per_week, weeks=weeks, proposed_start=proposed_start, **changes)
    maximum = provider.maximum(referral.lot, line)
    try:
        view = client.call("POST", "referrals", f"/v1/provider/referrals/{referral.id}/offers", provider.actor,
                           expect=(200, 201), body=terms,
                           headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())})
    except Refused as refused:
        named = "; ".join(f"{name}: {' '.join(reasons)}" for name, reasons in refused.fields.items())
        client.say(provider.actor, f"offers {pounds(unit_price_pence)} a {line.lower()} (its maximum is "
                                   f"{pounds(maximum)}) -> refused {refused.status}: {named or refused.message}")
        raise
    offer = Offer(view["offer_id"], provider, unit_price_pence, view["total_pence"], view)
    client.say(provider.actor, f"offers {pounds(unit_price_pence)} a {line.lower()} x {units_per_week} x {weeks} "
                               f"weeks = {pounds(offer.total_pence)} (sealed)")
    return offer


def decline_referral(client: Client, provider: Provider, referral: Referral, reason: str) -> None:
    client.call("POST", "referrals", f"/v1/provider/referrals/{referral.id}/decline", provider.actor,
                body={"reason": reason})
    client.say(provider.actor, f"declines the referral: {reason}")


def council_view(client: Client, referral: Referral, officer: Actor = OFFICER) -> dict:
    view = client.call("GET", "referrals", f"/v1/referrals/{referral.id}", officer)
    referral.status, referral.view = view["status"], view
    return view


def close_window(client: Client, referral: Referral, officer: Actor = OFFICER) -> dict:
    """Close the window for offers: early when every invited provider has answered, else once the
    deadline passes (the service closes it by itself; this waits for that)."""
    try:
        view = client.call("POST", "referrals", f"/v1/referrals/{referral.id}/close", officer)
        client.say(officer, f"closes the window early: all {view['invited_count']} invited providers have answered")
    except Refused as refused:
        if refused.status != 409:
            raise
        left = max(0.0, (referral.deadline - now_utc()).total_seconds())
        client.say(officer, f"cannot close early ({refused.message}); waits {left:.0f}s for the deadline")
        view = client.wait_for(f"referral {referral.id} to close at its deadline",
                               lambda: _closed_view(client, referral, officer), timeout=left + client.wait_timeout)
        client.say("Referrals service", f"closes the window at the deadline ({view['window_closed_at']})")
    referral.status, referral.view = view["status"], view
    return view


def _closed_view(client: Client, referral: Referral, officer: Actor) -> dict | None:
    view = council_view(client, referral, officer)
    return view if view["status"] != "published" else None


def assess_offers(client: Client, referral: Referral, verdicts: Mapping[str, tuple[bool, str]] | None = None,
                  officer: Actor = OFFICER) -> list[dict]:
    """The officer opens the sealed offers and records for each whether it meets the needs (and each
    further question); `verdicts` maps provider id -> (meets_needs, reason), by default all meet them."""
    offers = client.call_all("referrals", f"/v1/referrals/{referral.id}/offers", officer)
    assessed = []
    for offer in offers:
        meets, reason = (verdicts or {}).get(str(offer["provider_id"]),
                                             (True, "Small groups and a key worker meet the child's needs"))
        body = {"meets_needs": meets, "reason": reason,
                "criteria_met": {q["question_id"]: meets for q in referral.questions}}
        assessed.append(client.call("PUT", "referrals",
                                    f"/v1/referrals/{referral.id}/offers/{offer['offer_id']}/assessment",
                                    officer, body=body))
    client.say(officer, f"opens {len(offers)} sealed offers and records whether each meets the needs")
    return assessed


def complete_assessment(client: Client, referral: Referral, officer: Actor = OFFICER, *, wait: bool = True) -> dict:
    """Every offer assessed: referrals tells awards (referral.closed); with `wait`, returns once awards has it."""
    view = client.call("POST", "referrals", f"/v1/referrals/{referral.id}/complete-assessment", officer)
    referral.status, referral.view = view["status"], view
    client.say(officer, "completes the assessment: the referral goes to awards")
    if wait:
        wait_for_awards_referral(client, referral, officer)
    return view


def wait_for_awards_referral(client: Client, referral: Referral, officer: Actor = OFFICER) -> dict:
    def known() -> dict | None:
        rows = client.call_all("awards", "/v1/referrals", officer)
        return next((r for r in rows if r["referral_id"] == referral.id), None)

    return client.wait_for(f"awards to receive referral {referral.id} closed", known)


def close_and_assess(client: Client, referral: Referral, verdicts: Mapping[str, tuple[bool, str]] | None = None,
                     officer: Actor = OFFICER) -> list[dict]:
    close_window(client, referral, officer)
    assessed = assess_offers(client, referral, verdicts, officer)
    complete_assessment(client, referral, officer)
    return assessed


# --------------------------------------------------------------------------- awards (call-offs)


def ranking(client: Client, referral: Referral, officer: Actor = OFFICER) -> dict:
    """The closed referral's offers in rank order, each eligible or not, with every reason why not."""
    found = client.call("GET", "awards", f"/v1/referrals/{referral.id}/ranking", officer)
    client.say(officer, f"sees the ranking of {len(found['entries'])} offers")
    return found


def ranking_table(found: dict) -> list[str]:
    """The ranking as lines of text (for the terminal)."""
    lines = [f"{'rank':>4}  {'provider':<26} {'unit':>9} {'total':>11}  eligible"]
    for e in found["entries"]:
        why = "yes" if e["eligible"] else "no: " + "; ".join(r["message"] for r in e["reasons"])
        lines.append(f"{e['rank'] or '-':>4}  {(e['provider_name'] or e['provider_id'])[:26]:<26} "
                     f"{pounds(e['unit_price_pence']):>9} {pounds(e['total_pence']):>11}  {why}")
    return lines


@dataclass
class Award:
    id: str
    placement_id: str
    provider_id: str
    offer_id: str
    total_pence: int
    view: dict = field(repr=False)


def award(client: Client, referral: Referral, offer_id: str | None = None, reason: str | None = None,
          officer: Actor = OFFICER, *, wait: bool = True, reason_code: str = "travel") -> Award:
    """Award the placement to the top-ranked offer (or another eligible one, for a published award
    criterion, `reason_code`, with a reason in words).

    With `wait`, returns once tracking has the placement and referrals marks the referral awarded."""
    if offer_id is None:
        top = next(e for e in ranking(client, referral, officer)["entries"] if e["rank"] == 1)
        offer_id = str(top["offer_id"])
    body = {"offer_id": offer_id} if reason is None else {"offer_id": offer_id, "reason": reason,
                                                          "reason_code": reason_code}
    view = client.call("POST", "awards", f"/v1/referrals/{referral.id}/award", officer, expect=201, body=body)
    made = Award(str(view["award_id"]), str(view["placement_id"]), str(view["provider_id"]), str(view["offer_id"]),
                 view["total_pence"], view)
    winner = next((e for e in view["ranking"]["entries"] if str(e["offer_id"]) == made.offer_id), {})
    client.say(officer, f"awards the placement to {winner.get('provider_name') or made.provider_id} "
                        f"({pounds(made.total_pence)})")
    if wait:
        wait_for_placement(client, made.placement_id, officer)
        client.wait_for(f"referrals to mark referral {referral.id} awarded",
                        lambda: council_view(client, referral, officer)["status"] == "awarded")
    return made


# --------------------------------------------------------------------------- tracking


def wait_for_placement(client: Client, placement_id: str, actor: Actor = OFFICER) -> dict:
    return client.wait_until_found(f"tracking to show placement {placement_id}", "tracking",
                                   f"/v1/placements/{placement_id}", actor)


def placement(client: Client, placement_id: str, actor: Actor = OFFICER) -> dict:
    return client.call("GET", "tracking", f"/v1/placements/{placement_id}", actor)


def _actor(who: Provider | Actor) -> Actor:
    return who.actor if isinstance(who, Provider) else who


def start_placement(client: Client, who: Provider | Actor, placement_id: str, started_on: date | None = None) -> dict:
    """The provider's system (or, for an off-DPS placement, whose provider has no account, an officer)
    confirms the start."""
    started_on = started_on or council_today()
    view = client.call("POST", "tracking", f"/v1/placements/{placement_id}/start", _actor(who),
                       body={"started_on": started_on.isoformat()})
    client.say(_actor(who), f"confirms the child started on {started_on.isoformat()}")
    return view


def return_attendance(client: Client, who: Provider | Actor, placement_id: str, *, attended: int,
                      sessions_offered: int = 10, authorised_absence: int = 0, unauthorised_absence: int = 0,
                      week_commencing: date | None = None) -> dict:
    """A week's return (by the provider's system, or an officer for an off-DPS placement); the answer lists
    any concerns it raised."""
    week = week_commencing or monday_of(council_today())
    body = {"week_commencing": week.isoformat(), "sessions_offered": sessions_offered, "attended": attended,
            "authorised_absence": authorised_absence, "unauthorised_absence": unauthorised_absence}
    recorded = client.call("POST", "tracking", f"/v1/placements/{placement_id}/attendance", _actor(who),
                           expect=201, body=body)
    raised = ", ".join(c["kind"].replace("_", " ") for c in recorded["concerns_raised"]) or "no concern"
    client.say(_actor(who), f"returns attendance for the week of {week.isoformat()}: {attended} of "
                            f"{sessions_offered} sessions -> {raised}")
    return recorded


def concerns(client: Client, placement_id: str, officer: Actor = OFFICER) -> list[dict]:
    return client.call_all("tracking", "/v1/concerns", officer, query={"placement_id": placement_id})


def acknowledge_concern(client: Client, concern_id: str, note: str, officer: Actor = OFFICER) -> dict:
    view = client.call("POST", "tracking", f"/v1/concerns/{concern_id}/acknowledge", officer, body={"note": note})
    client.say(officer, f"acknowledges the concern: {note}")
    return view


def record_review(client: Client, placement_id: str, *, notes: str, attendance: str = "improving",
                  attitude: str = "improving", attainment: str = "steady", behaviour: str = "improving",
                  review_date: date | None = None, officer: Actor = OFFICER) -> dict:
    body = {"review_date": (review_date or council_today()).isoformat(), "attendance": attendance,
            "attitude": attitude, "attainment": attainment, "behaviour": behaviour, "notes": notes,
            "child_views": "Likes the small group; wants to go back to a school.",
            "family_views": "Pleased with the progress; worried about the journey."}
    view = client.call("POST", "tracking", f"/v1/placements/{placement_id}/reviews", officer, expect=201, body=body)
    client.say(officer, f"reviews the placement against its aims: attendance {attendance}, attitude {attitude}, "
                        f"attainment {attainment}, behaviour {behaviour}")
    return view


def record_outcome(client: Client, actor: Actor, placement_id: str, *, stage: str,
                   attainment: Mapping[str, str] | None = None, qualifications: Sequence[dict] = (),
                   engagement: int | None = None, recorded_on: date | None = None) -> dict:
    body = {"stage": stage, "recorded_on": (recorded_on or council_today()).isoformat(),
            "attainment": dict(attainment or {}), "qualifications": list(qualifications), "engagement": engagement}
    view = client.call("POST", "tracking", f"/v1/placements/{placement_id}/outcomes", actor, expect=201, body=body)
    gained = ", ".join(f"{q['name']} ({q['grade']})" for q in qualifications)
    client.say(actor, f"records {stage} outcomes: " + ", ".join(
        [f"{s} {v}" for s, v in (attainment or {}).items()] + ([f"gained {gained}"] if gained else [])
        + ([f"engagement {engagement}/5"] if engagement else [])))
    return view


def end_placement(client: Client, actor: Actor, placement_id: str, *, next_step: str = "reintegrated_mainstream",
                  end_reason: str = "moved_on_early", end_date: date | None = None) -> dict:
    end_date = end_date or council_today()
    view = client.call("POST", "tracking", f"/v1/placements/{placement_id}/end", actor,
                       body={"end_date": end_date.isoformat(), "end_reason": end_reason, "next_step": next_step})
    client.say(actor, f"ends the placement on {end_date.isoformat()} ({end_reason.replace('_', ' ')}); next step: "
                      f"{next_step.replace('_', ' ')}")
    return view


# --------------------------------------------------------------------------- reports and open data


def provider_reports(client: Client, provider_ids: Iterable[str], actor: Actor = REPORTING) -> dict:
    """Tracking's reports, the rows of these providers: accountability, committed spend, active placements."""
    wanted = {str(p) for p in provider_ids}

    def rows(path: str, query: Mapping[str, Any] | None = None) -> list[dict]:
        return [r for r in client.call_all("tracking", path, actor, query=query) if r["provider_id"] in wanted]

    return {"accountability": rows("/v1/reports/accountability"),
            "committed_spend": rows("/v1/reports/committed-spend"),
            "active_placements": rows("/v1/reports/active-placements", {"by": "provider,lot,team,reason"})}


def ocds_call_off(client: Client, award_id: str) -> dict | None:
    """The call-off's release in the awards service's OCDS 1.1 release package (public)."""
    package = client.call("GET", "awards", "/v1/ocds/release-package", PUBLIC)
    return next((r for r in package["releases"] if any(a["id"] == award_id for a in r.get("awards", []))), None)


def call_offs_csv(client: Client, on: date | None = None, actor: Actor = REPORTING) -> str:
    on = on or council_today()
    return client.call("GET", "awards", "/v1/reports/call-offs.csv", actor,
                       query={"year": on.year, "quarter": (on.month - 1) // 3 + 1})


# --------------------------------------------------------------------------- mini-competitions


DEFAULT_CRITERIA = (
    {"name": "quality of education", "weight": 0.6, "minimum_score": 2,
     "question": "How will your curriculum help pupils return to school?"},
    {"name": "safeguarding", "weight": 0.4, "minimum_score": 3, "question": "How do you keep pupils safe?"},
)


@dataclass
class Opportunity:
    id: str
    lot: int
    deadline: datetime
    criteria: list[dict]
    invited: list[str]
    view: dict = field(repr=False)


def open_mini_competition(client: Client, *, lot: int = 1, places: int = 2, bid_window: float = 8.0,
                          criteria: Sequence[dict] = DEFAULT_CRITERIA, title: str | None = None,
                          contract_start: date | None = None, contract_end: date | None = None,
                          standstill_working_days: int | None = None, officer: Actor = OFFICER) -> Opportunity:
    """The service area opens a mini-competition for a block contract; every provider admitted and not
    suspended on the lot is invited.  Bids close `bid_window` seconds from now."""
    opens, deadline = now_utc() - timedelta(seconds=1), now_utc() + timedelta(seconds=bid_window)
    start = contract_start or council_today() + timedelta(days=30)
    body = {"title": title or f"{places} full-time places for permanently excluded pupils", "lot": lot,
            "places": places, "contract_start": start.isoformat(),
            "contract_end": (contract_end or start + timedelta(days=364)).isoformat(),
            "opens_at": opens.isoformat(), "deadline": deadline.isoformat(), "criteria": [dict(c) for c in criteria]}
    if standstill_working_days is not None:
        body["standstill_working_days"] = standstill_working_days
    view = client.call("POST", "awards", "/v1/opportunities", officer, expect=201, body=body)
    opportunity = Opportunity(str(view["opportunity_id"]), lot, deadline, view["criteria"],
                              [str(p) for p in view.get("invited", [])], view)
    weights = ", ".join(f"{c['name']} {float(c['weight']):.0%}" for c in view["criteria"])
    client.say(officer, f"opens a mini-competition for {places} block places on lot {lot} ({weights}; "
                        f"quality/price {view['split']['quality']}/{view['split']['price']}); "
                        f"{len(opportunity.invited)} providers invited; bids close at "
                        f"{deadline.astimezone(COUNCIL_TIMEZONE):%H:%M:%S}")
    return opportunity


def submit_bid(client: Client, provider: Provider, opportunity: Opportunity, price_pence: int,
               answers: Mapping[str, str] | None = None) -> dict:
    answers = answers or {c["name"]: f"{provider.name} on {c['name']}: our approach, staff and record."
                          for c in opportunity.criteria}
    bid = client.call("POST", "awards", f"/v1/opportunities/{opportunity.id}/bids", provider.actor, expect=201,
                      body={"price_pence": price_pence, "answers": dict(answers)})
    client.say(provider.actor, f"bids {pounds(price_pence)} for the block (sealed)")
    return bid


def wait_for_bids_to_open(client: Client, opportunity: Opportunity, officer: Actor = OFFICER) -> dict:
    """Bids are sealed until the deadline: wait for it (the opportunity's status turns to evaluation)."""
    left = max(0.0, (opportunity.deadline - now_utc()).total_seconds())
    client.say(officer, f"waits {left:.0f}s for the bidding deadline")

    def opened() -> dict | None:
        view = client.call("GET", "awards", f"/v1/opportunities/{opportunity.id}", officer)
        return view if view["status"] == "evaluation" else None

    return client.wait_for(f"the bids of opportunity {opportunity.id} to open", opened,
                           timeout=left + client.wait_timeout)


def score_and_moderate(client: Client, opportunity: Opportunity, agreed: Mapping[str, Mapping[str, int]],
                       evaluators: Sequence[Actor] = EVALUATORS) -> None:
    """Each evaluator declares no conflict of interest, then scores every bid on every criterion on their
    own (the second a point apart where it can be), then the first records the moderated score agreed
    (moderation needs two evaluators' scores).  `agreed`: bid id -> criterion -> score."""
    maximum = opportunity.view.get("scale", {}).get("maximum", 5)
    for evaluator in evaluators:
        client.call("POST", "awards", f"/v1/opportunities/{opportunity.id}/declarations", evaluator, expect=201,
                    body={"conflict": False})
    client.say("Evaluators", f"{' and '.join(e.label for e in evaluators)} each declare no conflict of interest "
                             "with any bidder before scoring")
    for bid_id, by_criterion in agreed.items():
        for criterion, score in by_criterion.items():
            for number, evaluator in enumerate(evaluators):
                own = score if number == 0 else (score - 1 if score > 0 else min(score + 1, maximum))
                client.call("POST", "awards", f"/v1/opportunities/{opportunity.id}/bids/{bid_id}/scores", evaluator,
                            expect=201, body={"criterion": criterion, "score": own,
                                              "reason": f"scored {own} against the descriptors"})
            client.call("POST", "awards", f"/v1/opportunities/{opportunity.id}/bids/{bid_id}/moderation",
                        evaluators[0], expect=201,
                        body={"criterion": criterion, "score": score, "reason": "agreed at the moderation meeting"})
    names = " and ".join(e.label for e in evaluators)
    client.say("Evaluators", f"{names} score {len(agreed)} bids independently, then agree a moderated score "
                             "per criterion")


def evaluation(client: Client, opportunity: Opportunity, officer: Actor = OFFICER) -> dict:
    return client.call("GET", "awards", f"/v1/opportunities/{opportunity.id}/evaluation", officer)


def evaluation_table(found: dict, names: Mapping[str, str]) -> list[str]:
    lines = [f"{'rank':>4}  {'bidder':<26} {'price':>12} {'quality':>8} {'price pts':>9} {'total':>7}"]
    for r in found["results"]:
        name = names.get(str(r["provider_id"]), str(r["provider_id"]))[:26]
        if r["excluded"]:
            lines.append(f"{'-':>4}  {name:<26} {pounds(r['price_pence']):>12}  excluded: {'; '.join(r['excluded'])}")
        else:
            lines.append(f"{r['rank']:>4}  {name:<26} {pounds(r['price_pence']):>12} {float(r['quality']):>8.2f} "
                         f"{float(r['price']):>9.2f} {float(r['total']):>7.2f}")
    return lines


def award_block_contract(client: Client, opportunity: Opportunity, officer: Actor = OFFICER) -> dict:
    found = client.call("POST", "awards", f"/v1/opportunities/{opportunity.id}/award", officer, expect=201)
    winner = next(r for r in found["results"] if r["rank"] == 1)
    client.say(officer, f"awards the block contract to the top bid ({pounds(winner['price_pence'])}); the standstill "
                        f"runs until the end of {found['standstill_ends_on']}")
    return found


def confirm_block_contract(client: Client, opportunity: Opportunity, officer: Actor = OFFICER) -> dict:
    """Confirm the contract once the standstill is over (`Refused` 409 during it)."""
    contract = client.call("POST", "awards", f"/v1/opportunities/{opportunity.id}/confirmation", officer,
                           expect=201)
    client.say(officer, f"confirms the block contract: {contract['places']} places")
    return contract


def allocate_block_place(client: Client, contract_id: str, referral: Referral, start_date: date | None = None,
                         officer: Actor = OFFICER, *, wait: bool = True) -> dict:
    """A referred child (a closed referral) takes a place of a confirmed block contract."""
    body = {"referral_id": referral.id, "start_date": start_date.isoformat() if start_date else None}
    allocation = client.call("POST", "awards", f"/v1/block-contracts/{contract_id}/allocations", officer,
                             expect=201, body=body)
    client.say(officer, f"gives the child a place of the block contract from {allocation.get('start_date')}")
    if wait:
        wait_for_placement(client, str(allocation["placement_id"]), officer)
    return allocation


# --------------------------------------------------------------------------- the whole journey


@dataclass
class CallOffJourney:
    """What happened, step by step (for the test to assert and the demo to show)."""

    providers: dict[str, Provider] = field(default_factory=dict)
    referral: Referral | None = None
    suspended_view_status: int | None = None
    suspended_offer: Refused | None = None
    refused_offer: Refused | None = None
    offers: dict[str, Offer] = field(default_factory=dict)
    closed: dict = field(default_factory=dict)
    assessed: list[dict] = field(default_factory=list)
    ranking: dict = field(default_factory=dict)
    award: Award | None = None
    placement_awarded: dict = field(default_factory=dict)
    started: dict = field(default_factory=dict)
    attendance: dict = field(default_factory=dict)
    concerns: list[dict] = field(default_factory=list)
    acknowledged: dict = field(default_factory=dict)
    review: dict = field(default_factory=dict)
    outcomes: list[dict] = field(default_factory=list)
    ended: dict = field(default_factory=dict)
    reports: dict = field(default_factory=dict)
    ocds_release: dict | None = None
    csv: str = ""


PROVIDERS = {
    # key: (name, lots, registered, pricing of lot 1)
    "bridges": ("Bridges Learning Centre", (1, 2), True, 45_000),
    "oakwood": ("Oakwood Skills Hub", (1,), False, 40_000),
    "harbour": ("Harbour Academy", (1,), True, 48_000),
    "northgate": ("Northgate Tuition", (1,), True, 47_000),
}


def _pricing(maximum: int) -> list[dict]:
    return [{**DEFAULT_PRICING[0], "maximum_price_pence": maximum}, dict(DEFAULT_PRICING[1])]


def admit_journey_providers(client: Client, record: CallOffJourney) -> None:
    """Four providers on lot 1 (one also on lot 2, one unregistered); the fourth is then suspended."""
    for key, (name, lots, registered, maximum) in PROVIDERS.items():
        record.providers[key] = admit_provider(client, name, lots, registered=registered,
                                               pricing={lot: _pricing(maximum) for lot in lots})
    suspend_provider(client, record.providers["northgate"], 1,
                     "Safeguarding concern under investigation by the LADO")


def call_off_journey(client: Client, *, referral_window: float = 3600.0) -> CallOffJourney:
    """Issue 7's call-off journey, from admission to the reports and the OCDS export.

    The window for offers is closed early once every invited provider has
    answered; where some invited provider never answers (e.g. providers left
    by an earlier run of the demo), it closes at the deadline,
    `referral_window` seconds after the referral is made."""
    record = CallOffJourney()
    client.chapter("Providers join the DPS")
    admit_journey_providers(client, record)
    bridges, oakwood, harbour, northgate = (record.providers[k] for k in ("bridges", "oakwood", "harbour",
                                                                          "northgate"))

    client.chapter("A permanently excluded child is referred to lot 1")
    referral = record.referral = refer_child(client, lot=1,
                                             deadline=now_utc() + timedelta(seconds=referral_window))
    for provider in (bridges, oakwood, harbour):
        seen = provider_view_of_referral(client, provider, referral)
        if seen.status != 200:
            raise JourneyError(f"{provider.name} was invited but cannot read the referral: {seen.status} {seen.text}")
        client.say(provider.actor, f"receives the pseudonymised profile (full-time provision by "
                                   f"{seen.json['full_time_provision_by']})")
    record.suspended_view_status = provider_view_of_referral(client, northgate, referral).status
    client.say(northgate.actor, f"(suspended) was not invited: asking for the referral gets "
                                f"{record.suspended_view_status}")
    try:
        make_offer(client, northgate, referral, unit_price_pence=40_000)
    except Refused as refused:
        record.suspended_offer = refused
    else:
        raise JourneyError("a suspended provider's offer was accepted")

    client.chapter("Providers make sealed offers")
    record.offers["bridges"] = make_offer(client, bridges, referral, unit_price_pence=42_000)
    record.offers["oakwood"] = make_offer(client, oakwood, referral, unit_price_pence=38_000)
    try:
        make_offer(client, harbour, referral, unit_price_pence=52_000)
    except Refused as refused:
        record.refused_offer = refused
    else:
        raise JourneyError("an offer above the provider's maximum price was accepted")
    record.offers["harbour"] = make_offer(client, harbour, referral, unit_price_pence=46_000)

    client.chapter("The window closes; the officer assesses, ranks and awards")
    record.closed = close_window(client, referral)
    record.assessed = assess_offers(client, referral)
    complete_assessment(client, referral)
    record.ranking = ranking(client, referral)
    client.say("Ranking", "\n" + "\n".join(ranking_table(record.ranking)))
    top = next(e for e in record.ranking["entries"] if e["rank"] == 1)
    made = record.award = award(client, referral, str(top["offer_id"]))
    record.placement_awarded = placement(client, made.placement_id)
    client.say("Tracking service", f"shows the placement {made.placement_id[:8]}… as "
                                   f"{record.placement_awarded['status']} with {bridges.name}")

    client.chapter("The placement: start, attendance, a concern, a review, outcomes, the end")
    winner = next(p for p in record.providers.values() if str(p.id) == made.provider_id)
    record.started = start_placement(client, winner, made.placement_id)
    record.attendance = return_attendance(client, winner, made.placement_id, attended=6, authorised_absence=4)
    record.concerns = concerns(client, made.placement_id)
    for concern in record.concerns:
        client.say(OFFICER, f"sees a {concern['kind'].replace('_', ' ')} concern (rate "
                            f"{float(concern['rate']):.0%}) for the week of {concern['week_commencing']}")
    low = next(c for c in record.concerns if c["kind"] == "low_attendance")
    record.acknowledged = acknowledge_concern(client, low["concern_id"],
                                              "Spoke to the family and the provider: a new travel plan from Monday")
    record.review = record_review(client, made.placement_id,
                                  notes="Settled well after a slow start; ready to plan a return to a "
                                        "mainstream school.")
    record.outcomes.append(record_outcome(client, winner.actor, made.placement_id, stage="review",
                                          attainment={"english": "Working at Entry Level 3",
                                                      "maths": "Working at Entry Level 3"}, engagement=4))
    record.ended = end_placement(client, winner.actor, made.placement_id, next_step="reintegrated_mainstream")
    record.outcomes.append(record_outcome(
        client, winner.actor, made.placement_id, stage="end",
        attainment={"english": "Level 1", "maths": "Entry Level 3", "science": "Entry Level 3"},
        qualifications=[{"name": "Functional Skills English", "level": "Level 1", "grade": "Pass"}], engagement=5))

    client.chapter("What reporting and the public see")
    record.reports = provider_reports(client, [winner.id])
    for row in record.reports["accountability"]:
        client.say(REPORTING, f"accountability: {row['provider_name']}: {row['placements']} placement, "
                              f"{row['ended']} ended, attendance {_percent(row['average_attendance_rate'])}, "
                              f"reintegration {_percent(row['reintegration_rate'])}, {row['concerns']} concern")
    for row in record.reports["committed_spend"]:
        client.say(REPORTING, f"committed spend: {row['provider_name']}, lot {row['lot']}, {row['month_start'][:7]}: "
                              f"{pounds(row['committed_pence'])}")
    record.ocds_release = ocds_call_off(client, made.id)
    if record.ocds_release:
        value = record.ocds_release["awards"][0]["value"]
        client.say(PUBLIC, f"reads the OCDS release {record.ocds_release['ocid']}: {value['amount']} "
                           f"{value['currency']} to {record.ocds_release['awards'][0]['suppliers'][0]['name']}, "
                           f"linked to the DPS as a framework call-off")
    else:
        client.say(PUBLIC, "finds the call-off not yet in the OCDS release package: call-offs are published grouped "
                           "by quarter once the quarter is over (PCR 2015 regulation 50), with no date finer than the "
                           "quarter; the DPS's release lists the admitted suppliers per lot")
    record.csv = call_offs_csv(client)
    row = next((r for r in csv.DictReader(io.StringIO(record.csv)) if r["award_id"] == made.id), None)
    if row:
        client.say(REPORTING, f"reads the quarterly call-offs CSV: lot {row['lot']}, {row['provider_name']}, "
                              f"{row['service_line']}, £{row['total_pounds']}, {row['offers_received']} offers "
                              f"received, top-ranked offer: {row['top_ranked_offer']}")
    return record


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{float(value):.0%}"


@dataclass
class BlockJourney:
    opportunity: Opportunity | None = None
    bids: dict[str, dict] = field(default_factory=dict)
    evaluation: dict = field(default_factory=dict)
    awarded: dict = field(default_factory=dict)
    summaries: dict[str, dict] = field(default_factory=dict)
    confirmation_refused: Refused | None = None
    contract: dict | None = None
    referral: Referral | None = None
    allocation: dict | None = None


BLOCK_BIDS = {"bridges": 7_800_000, "oakwood": 6_900_000, "harbour": 8_600_000}
BLOCK_SCORES = {"bridges": {"quality of education": 4, "safeguarding": 5},
                "oakwood": {"quality of education": 3, "safeguarding": 2},   # below the safeguarding minimum
                "harbour": {"quality of education": 5, "safeguarding": 4}}


def block_journey(client: Client, providers: Mapping[str, Provider], *, bid_window: float = 8.0,
                  places: int = 2, standstill_working_days: int | None = None) -> BlockJourney:
    """A mini-competition on lot 1 with three bidders and two evaluators, to the award; then the
    confirmation, refused (recorded in `confirmation_refused`) while the standstill (8 working days
    by default) runs."""
    record = BlockJourney()
    client.chapter("A block contract by mini-competition")
    opportunity = record.opportunity = open_mini_competition(client, lot=1, places=places, bid_window=bid_window,
                                                             standstill_working_days=standstill_working_days)
    for key, price in BLOCK_BIDS.items():
        record.bids[key] = submit_bid(client, providers[key], opportunity, price)
    wait_for_bids_to_open(client, opportunity)
    score_and_moderate(client, opportunity, {record.bids[k]["bid_id"]: BLOCK_SCORES[k] for k in BLOCK_BIDS})
    record.evaluation = evaluation(client, opportunity)
    names = {str(p.id): p.name for p in providers.values()}
    client.say("Evaluation", "\n" + "\n".join(evaluation_table(record.evaluation, names)))
    record.awarded = award_block_contract(client, opportunity)
    for key in BLOCK_BIDS:
        provider = providers[key]
        record.summaries[key] = client.call("GET", "awards",
                                            f"/v1/opportunities/{opportunity.id}/summaries/{provider.id}",
                                            provider.actor)
    told = record.summaries[next(k for k in BLOCK_BIDS if not record.summaries[k]["successful"])]
    client.say("Bidders", f"each is told the winner ({told['winner_name']}), the winner's scores and its own, "
                          f"with the reasons: {'; '.join(told['reasons'])}")
    try:
        record.contract = confirm_block_contract(client, opportunity)
    except Refused as refused:
        if refused.status != 409:
            raise
        record.confirmation_refused = refused
        client.say(OFFICER, f"tries to confirm the contract at once -> refused 409: {refused.message}")
    return record


def leave_the_dps(client: Client, providers: Iterable[Provider],
                  reason: str = "The demonstration is over") -> None:
    """Remove each provider from each of its lots (the demo tidies up so that its next run starts
    with only the providers it admits itself)."""
    for provider in providers:
        for lot in provider.lots:
            response = client.send("POST", "provider_registry", f"/v1/providers/{provider.id}/lots/{lot}/removal",
                                   MANAGER, body={"reason": reason})
            if response.status not in (200, 409):
                raise Refused("POST", "provider_registry", f"/v1/providers/{provider.id}/lots/{lot}/removal",
                              response, (200, 409))
    client.say(MANAGER, f"removes the demo's providers from their lots: {reason}")


def place_child_in_block(client: Client, providers: Mapping[str, Provider], contract_id: str,
                         referral_window: float = 3600.0) -> tuple[Referral, dict]:
    """Another child is referred to lot 1; the invited providers decline (the council means to use its
    block places), the window closes, the empty assessment goes to awards, and the child takes a place
    of the confirmed block contract."""
    referral = refer_child(client, lot=1, deadline=now_utc() + timedelta(seconds=referral_window))
    for provider in providers.values():
        if str(provider.id) in referral.invited:
            decline_referral(client, provider, referral, "The council is placing this child in its block places")
    close_window(client, referral)
    complete_assessment(client, referral)
    return referral, allocate_block_place(client, contract_id, referral)


# --------------------------------------------------------------------------- off the DPS, the sixth day, the census


OFF_DPS_CHECKS = ("registration_status", "dbs", "insurance")
BOM = "\ufeff".encode()  # how a CSV download starts (for spreadsheets)


def off_dps_exception_form(name: str, *, setting_kind: str, urn: str | None = None, ukprn: str | None = None,
                           full_time_pupils: int = 2, hours_per_week: float = 25, weekly_cost_pence: int = 52_000,
                           weeks: int = 12, start: date | None = None, checked_by: str = OFFICER.sub,
                           reason: str = "No provider on the DPS can meet the child's needs this term") -> dict:
    """An off-DPS exception as the officer completes it: the provider (its kind of setting and identifier, the
    full-time pupils it declares from every commissioner), the placement's terms, and the minimum checks,
    each confirmed today by `checked_by`."""
    today = council_today().isoformat()
    return {"reason": reason,
            "provider": {"name": name, "setting_kind": setting_kind, "urn": urn, "ukprn": ukprn,
                         "full_time_pupils": full_time_pupils},
            "terms": {"hours_per_week": hours_per_week, "start_date": (start or council_today()).isoformat(),
                      "weekly_cost_pence": weekly_cost_pence, "weeks": weeks},
            "checks": {name: {"confirmed": True, "by": checked_by, "on": today} for name in OFF_DPS_CHECKS}}


def record_off_dps_exception(client: Client, referral: Referral, form: dict, officer: Actor = OFFICER) -> dict:
    """No offer meets the needs: the officer records the exception in referrals (awards gets a copy for the
    manager)."""
    recorded = client.call("POST", "referrals", f"/v1/referrals/{referral.id}/off-dps-exception", officer,
                           expect=201, body=form)
    provider, terms = form["provider"], form["terms"]
    identifier = (f"URN {provider['urn']}" if provider.get("urn") else f"UKPRN {provider['ukprn']}"
                  if provider.get("ukprn") else "no URN or UKPRN")
    kind = provider["setting_kind"].replace("_", " ")
    client.say(officer, f"records an off-DPS exception: {provider['name']} ({kind}, {identifier}), "
                        f"{terms['hours_per_week']} h/week from {terms['start_date']} at "
                        f"{pounds(terms['weekly_cost_pence'])} a week for {terms['weeks']} weeks; checked: "
                        f"{', '.join(name.replace('_', ' ') for name in form['checks'])}")
    return recorded


def off_dps_placement(client: Client, referral: Referral, actor: Actor = MANAGER) -> dict:
    """Awards' copy of the exception (once off_dps_exception.recorded has reached it)."""
    return client.wait_until_found(f"awards to receive the off-DPS exception of referral {referral.id}", "awards",
                                   f"/v1/off-dps-placements/{referral.id}", actor)


def approve_off_dps(client: Client, referral: Referral, manager: Actor = MANAGER, *, wait: bool = True) -> dict:
    """The manager weighs the exception (the checks, the registration rule) and approves it; with `wait`,
    returns once tracking follows the placement it became."""
    pending = off_dps_placement(client, referral, manager)
    refusals = pending.get("registration_refusals") or []
    checks = ", ".join(name.replace("_", " ") for name in sorted(pending["checks"]))
    client.say(manager, f"sees the exception pending: {pending['provider_name']}, checks {checks} confirmed; "
                        "the registration rule "
                        + ("holds" if not refusals else "does not hold: " + "; ".join(refusals)))
    approved = client.call("POST", "awards", f"/v1/off-dps-placements/{referral.id}/approve", manager)
    client.say(manager, f"approves the off-DPS placement ({pounds(approved['total_pence'])}): it is tracked like "
                        "any other")
    if wait:
        wait_for_placement(client, str(approved["placement_id"]))
    return approved


def decline_and_close(client: Client, referral: Referral, providers: Iterable[Provider], reason: str,
                      officer: Actor = OFFICER) -> dict:
    """Each invited provider of `providers` declines; the window closes (early when every invited provider
    has answered, else at the deadline)."""
    for provider in providers:
        if str(provider.id) in referral.invited:
            decline_referral(client, provider, referral, reason)
    return close_window(client, referral, officer)


def sixth_day_rows(client: Client, referrals: Iterable[Referral], actor: Actor = REPORTING) -> dict[str, dict]:
    """Tracking's sixth-day report, the rows of these referrals (waiting for each duty to arrive)."""
    wanted = {r.id for r in referrals}

    def rows() -> dict[str, dict] | None:
        found = {row["referral_id"]: row for row in client.call_all("tracking", "/v1/reports/sixth-day", actor)
                 if row["referral_id"] in wanted}
        return found if set(found) == wanted else None

    return client.wait_for("tracking to report the sixth day of each referral", rows)


def next_census_year(today: date | None = None) -> int:
    """The year of the next January AP census day after `today` (DfE's third Thursday of January)."""
    today = today or council_today()
    for year in (today.year, today.year + 1):
        first = date(year, 1, 1)
        if first + timedelta(days=(3 - first.weekday()) % 7, weeks=2) > today:
            return year
    raise AssertionError("unreachable")


def ap_census(client: Client, year: int, actor: Actor = MANAGER) -> dict:
    """Referrals' January AP census return (JSON): DfE's items per pupil, and who is left out and why."""
    return client.call("GET", "referrals", "/v1/reports/ap-census", actor, query={"year": year})


def ap_census_csv(client: Client, year: int, actor: Actor = MANAGER) -> Response:
    """The same return as DfE's CSV (the raw answer: its bytes, for the byte order mark and the line ends)."""
    path = "/v1/reports/ap-census"
    response = client.send("GET", "referrals", path, actor, query={"year": year, "format": "csv"})
    if response.status != 200:
        raise Refused("GET", "referrals", path, response, (200,))
    return response


@dataclass
class OffDpsJourney:
    referral: Referral | None = None  # the excluded child placed off the DPS
    exception: dict = field(default_factory=dict)
    approved: dict = field(default_factory=dict)
    started: dict = field(default_factory=dict)
    attendance: dict = field(default_factory=dict)
    sixth_day: dict[str, dict] = field(default_factory=dict)  # referral id -> its row of the report
    post16: Referral | None = None  # a young person of 20, placed off the DPS too: not the census's
    post16_approved: dict = field(default_factory=dict)
    census_year: int = 0
    census: dict = field(default_factory=dict)
    census_csv: Response | None = None


def off_dps_journey(client: Client, providers: Mapping[str, Provider], *, referral_window: float = 3600.0,
                    also_reported: Iterable[Referral] = ()) -> OffDpsJourney:
    """Issue 16's oversight of a placement off the DPS, to the sixth-day report and the AP census.

    An excluded child is referred to lot 1 and every provider invited declines; the officer records an
    off-DPS exception (an independent school, with its URN, and the minimum checks); the manager approves
    it; the officer confirms the start and returns the week's attendance (the school has no account here).
    Tracking's sixth-day report shows the child's deadline, first full-time day and standing (with the
    rows of `also_reported`).  A young person of 20 is placed off the DPS at a college too.  Referrals'
    return for the next January census day lists the excluded child with DfE's items, and leaves the
    young person out (the census is of pupils aged 2 to 18); DfE's CSV of it is fetched."""
    record = OffDpsJourney()
    window = now_utc() + timedelta(seconds=referral_window)
    client.chapter("No provider on the DPS can meet the needs: a placement off the DPS")
    referral = record.referral = refer_child(client, lot=1, child=a_child(census=True),
                                             profile=a_profile(ehcp=False), deadline=window)
    decline_and_close(client, referral, providers.values(), "We have no place that meets this child's needs "
                                                            "this term")
    school = off_dps_exception_form("Hillside Independent School", setting_kind="registered_school",
                                    urn=f"{random.randint(100_000, 999_999)}")
    record.exception = record_off_dps_exception(client, referral, school)
    record.approved = approve_off_dps(client, referral)
    placement_id = str(record.approved["placement_id"])
    record.started = start_placement(client, OFFICER, placement_id)
    record.attendance = return_attendance(client, OFFICER, placement_id, attended=9, authorised_absence=1)

    client.chapter("The sixth day: full-time provision by the sixth school day of the exclusion")
    record.sixth_day = sixth_day_rows(client, [referral, *also_reported])
    for row in record.sixth_day.values():
        missed = f" by {row['missed_by_school_days']} school days" if row["missed_by_school_days"] else ""
        client.say(REPORTING, f"sixth day: referral {row['referral_id'][:8]}…, deadline "
                              f"{row['full_time_provision_by']}, first full-time day "
                              f"{row['first_full_time_day'] or 'none yet'}: {row['sixth_day_status']}{missed}"
                              + (" (placed part-time only)" if row["placed_part_time_only"] else ""))

    client.chapter("The January AP census")
    post16 = record.post16 = refer_child(
        client, lot=4, child=a_child(age=20, census=True), deadline=window,
        profile=a_profile(age=20, year_group=None, reason="post16", ehcp=True, hours_per_week=16,
                          primary_need="Moderate learning difficulty"))
    decline_and_close(client, post16, providers.values(), "We do not offer post-16 support")
    record_off_dps_exception(client, post16, off_dps_exception_form(
        "Northfield College", setting_kind="fe_or_training_provider", ukprn=f"{random.randint(10_100_000, 10_199_999)}",
        full_time_pupils=0, hours_per_week=16, weekly_cost_pence=31_000,
        reason="The young person's plan names a course no provider on the DPS runs"))
    record.post16_approved = approve_off_dps(client, post16)
    start_placement(client, OFFICER, str(record.post16_approved["placement_id"]))

    year = record.census_year = next_census_year()

    def both_there() -> dict | None:
        found = ap_census(client, year)
        pupils = {p["child_ref"] for p in found["pupils"]}
        out = {o["child_ref"] for o in found["left_out"]}
        return found if referral.child_ref in pupils and post16.child_ref in out else None

    record.census = client.wait_for("referrals to hear both placements started", both_there)
    [pupil] = [p for p in record.census["pupils"] if p["child_ref"] == referral.child_ref]
    items = pupil["items"]
    client.say(MANAGER, f"builds the AP census return of {record.census['census_day']}: "
                        f"{len(record.census['pupils'])} pupils, {len(record.census['left_out'])} left out")
    client.say(MANAGER, f"the excluded child: URN {items['URN']}, reason {items['APReason']}, entry "
                        f"{items['APEntryDate']}, pattern {items['APAttendancePattern']}, "
                        f"{items['APSessionsPerWeek']} sessions a week; "
                        + ("to put right: " + "; ".join(f"{p['item']}: {p['reason']}" for p in pupil["problems"])
                           if pupil["problems"] else "nothing to put right"))
    for out in record.census["left_out"]:
        if out["child_ref"] == post16.child_ref:
            client.say(MANAGER, f"the young person of 20 is left out: {out['reason']}")
    record.census_csv = ap_census_csv(client, year)
    body = record.census_csv.body
    shape = ", ".join(what for what, found in (("a byte order mark", body.startswith(BOM)),
                                                ("CRLF line ends", b"\r\n" in body)) if found) or "plain text"
    client.say(MANAGER, f"downloads DfE's CSV ({shape}): {record.census_csv.text.splitlines()[0][:70]}…")
    return record
