"""What the security suite shares: every operation of every OpenAPI document
with its `x-roles`, requests filled in for any operation, tokens that must be
refused, a small world of real data made through the running system's public
APIs (three providers, a referral with its offers, an award, a placement with
attendance, a mini-competition with bids), and a scan for a child's
identifying details in anything a provider can read or any event."""

from __future__ import annotations

import base64
import functools
import json
import uuid
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import jwt
import requests

from shared.auth import PUBLIC, ROLES
from shared.catalogue import FIRST_DPS_ID, SERVICES, exchange_for
from tests.support.runtime import TEST_JWT_SECRET, EventWaiter, auth, wait_until

METHODS = ("get", "post", "put", "patch", "delete")
LONDON = ZoneInfo("Europe/London")

# Routes every service answers outside its OpenAPI document, on purpose: the
# health, readiness and metrics probes and the documentation itself.  Any other
# route must be in the document, with its rule (x-roles).
INFRASTRUCTURE = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/asyncapi.json", "/docs",
                  "/docs/static/<path:filename>", "/static/<path:filename>"}


# --- the documents -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str
    spec: dict = field(compare=False, repr=False)

    @property
    def roles(self) -> list[str] | None:
        return self.spec.get("x-roles")

    @property
    def public(self) -> bool:
        return self.roles == [PUBLIC]

    @property
    def forbidden_roles(self) -> list[str]:
        return [r for r in ROLES if r not in (self.roles or [])]

    def __str__(self) -> str:
        return f"{self.service} {self.method.upper()} {self.path}"


@functools.cache
def offline_documents() -> dict[str, dict]:
    """Each service's OpenAPI document as its app serves it, built without a
    database or broker (nothing is touched until a request comes).  Shared:
    do not change it."""
    from shared.web import create_app
    from tests.support.runtime import build_runtime

    documents = {}
    for service in SERVICES:
        runtime = build_runtime(service, "sqlite://", "amqp://unused//", migrate=False)
        app = create_app(runtime.definition, runtime.settings, runtime)
        documents[service] = app.test_client().get("/openapi.json").get_json()
        runtime.engine.dispose()
    return documents


@contextmanager
def in_process_apps(postgres, template, services: Iterable[str] = SERVICES):
    """service -> (runtime, Flask app) of that service on its own migrated
    PostgreSQL database (a copy of the template); no broker is used."""
    from shared.web import create_app
    from tests.support.runtime import build_runtime

    made, names = {}, []
    try:
        for service in services:
            name = f"t_sec_{service}_{uuid.uuid4().hex[:8]}"
            url = postgres.create_database(name, template=template(service))
            names.append(name)
            runtime = build_runtime(service, url, "amqp://unused-by-in-process-apps//", migrate=False)
            made[service] = (runtime, create_app(runtime.definition, runtime.settings, runtime))
        yield made
    finally:
        for runtime, _app in made.values():
            runtime.engine.dispose()
        for name in names:
            postgres.drop_database(name)


def operations(service: str, document: dict) -> list[Operation]:
    return [Operation(service, method, path, spec)
            for path, item in document["paths"].items()
            for method, spec in item.items() if method in METHODS]


def fill_path(path: str, values: dict | None = None) -> str:
    """The path with each parameter filled: a given value, a valid lot (1),
    a version (1), the first DPS record, or a random UUID."""
    values = values or {}
    out, rest = [], path
    while "{" in rest:
        before, _, after = rest.partition("{")
        name, _, rest = after.partition("}")
        out.append(before)
        if name in values:
            out.append(str(values[name]))
        elif name in ("lot", "version"):
            out.append("1")
        elif name == "dps_id":  # every registry has the first DPS record
            out.append(str(FIRST_DPS_ID))
        else:
            out.append(str(uuid.uuid4()))
    out.append(rest)
    return "".join(out)


# --- tokens that must be refused ----------------------------------------------------------------

def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**changes) -> dict:
    now = datetime.now(UTC)
    claims = {"sub": "attacker", "roles": ["manager"], "iat": int(now.timestamp()),
              "exp": int((now + timedelta(hours=1)).timestamp())}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _hs512(claims: dict) -> str:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the key is short for SHA-512: that is the point
        return jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS512")


def bad_tokens() -> dict[str, dict]:
    """Authorization headers every protected operation answers with 401, by case."""
    now = datetime.now(UTC)
    expired = _claims(iat=int((now - timedelta(hours=2)).timestamp()), exp=int((now - timedelta(hours=1)).timestamp()))
    forged = jwt.encode(_claims(), "not-the-secret-of-this-council-at-all", algorithm="HS256")
    good = jwt.encode(_claims(), TEST_JWT_SECRET, algorithm="HS256")
    header, _payload, signature = good.split(".")
    tampered = f"{header}.{_b64(_claims(roles=['manager'], sub='someone-else'))}.{signature}"
    cases = {
        "no token": {},
        "not bearer": {"Authorization": f"Basic {base64.b64encode(b'manager:manager').decode()}"},
        "empty bearer": {"Authorization": "Bearer "},
        "garbage": {"Authorization": "Bearer not.a.jwt"},
        "expired": jwt.encode(expired, TEST_JWT_SECRET, algorithm="HS256"),
        "forged signature": forged,
        "tampered payload": tampered,
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.",
        "alg none with signature": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.{signature}",
        "HS512 with the secret": _hs512(_claims()),
        "no exp": jwt.encode(_claims(exp=None), TEST_JWT_SECRET, algorithm="HS256"),
        "exp in the year 9999": jwt.encode(_claims(exp=253402300799), TEST_JWT_SECRET, algorithm="HS256"),
        "no iat": jwt.encode(_claims(iat=None), TEST_JWT_SECRET, algorithm="HS256"),
        "no sub": jwt.encode(_claims(sub=None), TEST_JWT_SECRET, algorithm="HS256"),
        "no roles": jwt.encode(_claims(roles=None), TEST_JWT_SECRET, algorithm="HS256"),
        "empty roles": jwt.encode(_claims(roles=[]), TEST_JWT_SECRET, algorithm="HS256"),
        "unknown role": jwt.encode(_claims(roles=["admin"]), TEST_JWT_SECRET, algorithm="HS256"),
        "roles as text": jwt.encode(_claims(roles="manager"), TEST_JWT_SECRET, algorithm="HS256"),
        "officer without team": jwt.encode(_claims(roles=["officer"]), TEST_JWT_SECRET, algorithm="HS256"),
        "provider without provider_id": jwt.encode(_claims(roles=["provider"]), TEST_JWT_SECRET,
                                                   algorithm="HS256"),
        "provider with a bad provider_id": jwt.encode(_claims(roles=["provider"], provider_id="acme"),
                                                      TEST_JWT_SECRET, algorithm="HS256"),
    }
    return {name: value if isinstance(value, dict) else {"Authorization": f"Bearer {value}"}
            for name, value in cases.items()}


# The few cases the in-process role matrix sends to every operation (the
# end-to-end test sends them all to one running service).
MATRIX_TOKEN_CASES = ("no token", "expired", "forged signature", "alg none", "no exp", "no roles",
                      "provider without provider_id")


def role_headers(role: str, provider_id: uuid.UUID | None = None) -> dict:
    if role == "provider":
        return auth("provider", provider_id=provider_id or uuid.uuid4(), sub="security-provider")
    if role == "officer":
        return auth("officer", team="exclusions", sub="security-officer")
    return auth(role, sub=f"security-{role}")


def is_role_refusal(status: int, body) -> bool:
    """A 403 from the role check itself (shared.auth.authorize), not from an ownership rule."""
    return status == 403 and isinstance(body, dict) and str(body.get("message", "")).startswith("requires the role")


# --- the child's identifying details ---------------------------------------------------------------

CHILD = {"name": "Persephone Quillfeather-Obuya", "date_of_birth": "2011-02-17", "upn": "K918273645001",
         "address": "7 Wrenfield Mews, Camberwell, London SE5 9QX"}
IDENTIFYING = ["Persephone", "Quillfeather", "Obuya", "K918273645001", "2011-02-17", "17/02/2011",
               "Wrenfield", "SE5 9QX", "SE59QX"]


def identifying_in(value) -> list[str]:
    """Every identifying detail of CHILD found anywhere in a JSON value or text (case-insensitive)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    folded = text.casefold()
    return [needle for needle in IDENTIFYING if needle.casefold() in folded]


# --- talking to the running system ---------------------------------------------------------------------

class Client:
    """HTTP to the running system's services, as an outside caller would."""

    def __init__(self, system) -> None:
        self.system = system
        self.http = requests.Session()

    def url(self, service: str) -> str:
        return self.system.url(service)

    def call(self, service: str, method: str, path: str, headers: dict | None = None, json_body=None,
             params: dict | None = None, timeout: float = 20) -> requests.Response:
        response = self.http.request(method.upper(), self.url(service) + path, headers=headers or {},
                                     json=json_body, params=params, timeout=timeout)
        return response

    def ok(self, service: str, method: str, path: str, headers: dict, json_body=None, params=None,
           expect: Iterable[int] = (200, 201, 204)) -> dict | list | None:
        response = self.call(service, method, path, headers, json_body, params)
        assert response.status_code in tuple(expect), (service, method, path, response.status_code, response.text)
        return response.json() if response.content and "json" in response.headers.get("Content-Type", "") else None

    def document(self, service: str) -> dict:
        response = self.http.get(self.url(service) + "/openapi.json", timeout=20)
        response.raise_for_status()
        return response.json()


def event_tap(amqp_url: str) -> EventWaiter:
    """Every event on every service's exchange, from now on."""
    return EventWaiter(amqp_url, [(exchange_for(s), "#") for s in SERVICES])


def drain_now(tap: EventWaiter) -> list[dict]:
    """Every event the tap has received so far (without waiting for more)."""
    while (message := tap.queue.get(no_ack=True)) is not None:
        tap.received.append(json.loads(message.body))
    return list(tap.received)


# --- the world --------------------------------------------------------------------------------------

MANAGER = auth("manager", sub="security-manager")
OFFICER = auth("officer", team="exclusions", sub="security-officer-exclusions")


def provider_headers(provider_id) -> dict:
    return auth("provider", provider_id=provider_id, sub=f"user-of-{provider_id}")


def london_today() -> date:
    return datetime.now(LONDON).date()


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


COMMON_ANSWERS = {"enhanced_dbs": True, "safeguarding_policy": True, "insurance": True, "experience": 4}
LOT_QUESTION = {1: "full_time_curriculum", 2: "reintegration", 3: "bespoke_planning", 4: "preparation_for_adulthood"}


def application_form(name: str, lots: Iterable[int], maximum: int = 45_000) -> dict:
    expires = (london_today() + timedelta(days=365)).isoformat()
    return {
        "organisation": {"name": name, "address": "1 High Street, Newtown", "postcode": "NT1 2AB",
                         "companies_house_number": "01234567", "charity_number": None},
        "registration": {"setting_kind": "registered_school", "urn": "123456", "inspectorate": "ofsted"},
        "safeguarding_lead": {"name": "Sam Okafor", "email": "sam@example.org", "phone": "01632 960000"},
        "enhanced_dbs_confirmed": True,
        "documents": [{"kind": kind, "reference": f"{kind}.pdf", "expires_on": expires}
                      for kind in ("insurance", "dbs_confirmation", "safeguarding_policy")],
        "lots": [{"lot": lot, "answers": {**COMMON_ANSWERS, LOT_QUESTION[lot]: 4}, "capacity": 6,
                  "pricing_lines": [{"description": "Group place per week", "unit": "week", "staffing_ratio": "1:4",
                                     "maximum_price_pence": maximum}]}
                 for lot in lots],
        "sla_version": "1",
    }


def referral_form(lot: int = 1) -> dict:
    today = london_today()
    return {
        "lot": lot, "deadline": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
        "urgency": "Permanently excluded: no school place (the basis for a window under 10 days)",
        "exclusion_start": (today - timedelta(days=2)).isoformat(), "child": dict(CHILD),
        "questions": ["Describe your experience of supporting SEMH needs"],
        "profile": {"age": 14, "year_group": 9, "primary_need": "Social, emotional and mental health", "ehcp": True,
                    "looked_after": False, "reason": "permanent_exclusion",
                    "needs_and_risks": "Needs a small group; risk of absconding when anxious.",
                    "aims": "Stabilise attendance, then move on to a special school within two terms.",
                    "success_measures": {"attendance": "Above 90% by half term"},
                    "curriculum": "English, maths, science and PSHE", "qualification_route": "Functional skills",
                    "hours_per_week": 25, "pattern": "Five mornings", "start_date": today.isoformat(),
                    "expected_weeks": 12, "postcode_district": "SE15", "transport_needed": True},
    }


def offer_terms(line_id, question_ids: Iterable[str], price: int) -> dict:
    return {"pricing_line_id": str(line_id), "unit_price_pence": price, "units_per_week": 1, "weeks": 12,
            "proposed_start": london_today().isoformat(), "staffing_ratio": "1:4",
            "delivery_site": "Riverside Centre", "delivery_postcode": "SE15 5AB",
            "how_it_meets_needs": "Groups of four with a trained SEMH mentor.", "place_available": True,
            "answers": {q: "Ten years running an SEMH provision" for q in question_ids}}


@dataclass
class World:
    """Real data made through the public APIs of the running system.

    A (lots 1 and 2) and B (lot 1) were invited to the referral on lot 1 and
    both offered; A won the award, started the placement and returned a week
    of attendance; A has a pricing proposal awaiting approval on lot 1; both
    bid in the mini-competition on lot 1.  C is only on lot 2: it was invited
    to nothing."""

    a: uuid.UUID
    b: uuid.UUID
    c: uuid.UUID
    applications: dict[uuid.UUID, str]
    referral_id: str
    question_ids: list[str]
    offers: dict[uuid.UUID, str]
    award_id: str
    placement_id: str
    opportunity_id: str
    bids: dict[uuid.UUID, str]
    audit: dict[str, dict[str, dict]] = field(default_factory=dict)  # service -> audit entries by id, once made

    def ids(self) -> dict[str, str]:
        """Path parameter values that exist."""
        return {"application_id": self.applications[self.a], "provider_id": str(self.a),
                "referral_id": self.referral_id, "offer_id": self.offers[self.a], "award_id": self.award_id,
                "placement_id": self.placement_id, "opportunity_id": self.opportunity_id,
                "bid_id": self.bids[self.a], "question_id": self.question_ids[0]}


def admit(client: Client, name: str, lots: tuple[int, ...], maximum: int = 45_000) -> tuple[uuid.UUID, str]:
    provider_id = uuid.uuid4()
    application = client.ok("provider_registry", "post", "/v1/applications", provider_headers(provider_id),
                             application_form(name, lots, maximum), expect=(201,))
    client.ok("provider_registry", "post", f"/v1/applications/{application['id']}/decision", MANAGER,
              {"outcome": "admit", "lots": list(lots), "reasons": []})
    return provider_id, application["id"]


def _members(client: Client, service: str, path: str, lot: int) -> set[str]:
    # (no ?lot= filter: referrals refuses every value of it, see test_security_bugs)
    response = client.call(service, "get", path, OFFICER)
    if response.status_code != 200:
        return set()
    return {str(row["provider_id"]) for row in response.json() if row["lot"] == lot}


def make_world(client: Client, tap: EventWaiter) -> World:
    a, app_a = admit(client, "Acorn Alternative Learning", (1, 2))
    b, app_b = admit(client, "Birch Tutoring", (1,))
    c, app_c = admit(client, "Cedar Skills", (2,))

    # A asks for a new price on lot 1 (awaiting the manager's approval).
    client.ok("provider_registry", "post", f"/v1/providers/{a}/lots/1/pricing-schedules", provider_headers(a),
              {"effective_from": (london_today() + timedelta(days=30)).isoformat(),
               "pricing_lines": [{"description": "Group place per week", "unit": "week", "staffing_ratio": "1:4",
                                  "maximum_price_pence": 47_000}]}, expect=(201,))

    on_lot_1 = {str(a), str(b)}
    wait_until(lambda: on_lot_1 <= _members(client, "referrals", "/v1/registry/memberships", 1), timeout=30,
               message="referrals knows A and B on lot 1")
    wait_until(lambda: on_lot_1 <= _members(client, "awards", "/v1/providers", 1), timeout=30,
               message="awards knows A and B on lot 1")

    referral = client.ok("referrals", "post", "/v1/referrals", OFFICER, referral_form(lot=1), expect=(201,))
    referral_id = referral["referral_id"]
    question_ids = [q["question_id"] for q in referral["questions"]]
    published = client.ok("referrals", "post", f"/v1/referrals/{referral_id}/publish", OFFICER)
    assert set(published["invited_provider_ids"]) == on_lot_1, published

    offers = {}
    for provider_id, price in ((a, 40_000), (b, 42_000)):
        headers = provider_headers(provider_id)
        schedules = client.ok("provider_registry", "get", f"/v1/providers/{provider_id}/lots/1/pricing-schedules",
                              headers)
        line_id = next(s for s in schedules if s.get("in_force"))["pricing_lines"][0]["pricing_line_id"]
        made = client.ok("referrals", "post", f"/v1/provider/referrals/{referral_id}/offers", headers,
                         offer_terms(line_id, question_ids, price), expect=(201,))
        offers[provider_id] = made["offer_id"]

    client.ok("referrals", "post", f"/v1/referrals/{referral_id}/close", OFFICER)
    for offer_id in offers.values():
        client.ok("referrals", "put", f"/v1/referrals/{referral_id}/offers/{offer_id}/assessment", OFFICER,
                  {"meets_needs": True, "reason": "Meets the needs", "criteria_met": {q: True for q in question_ids}})
    client.ok("referrals", "post", f"/v1/referrals/{referral_id}/complete-assessment", OFFICER)

    wait_until(lambda: client.call("awards", "get", f"/v1/referrals/{referral_id}/ranking", OFFICER).status_code
               == 200, timeout=30, message="awards has the closed referral")
    award = client.ok("awards", "post", f"/v1/referrals/{referral_id}/award", OFFICER,
                      {"offer_id": offers[a]}, expect=(201,))

    def placement_of_a():
        rows = client.call("tracking", "get", "/v1/placements", provider_headers(a)).json()
        return rows[0]["placement_id"] if isinstance(rows, list) and rows else None

    wait_until(lambda: placement_of_a() is not None, timeout=30, message="tracking has A's placement")
    wait_until(lambda: client.call("referrals", "get", f"/v1/provider/referrals/{referral_id}",
                                   provider_headers(b)).status_code == 404, timeout=30,
               message="referrals has the award: the referral is closed to B, whose offer lost")
    placement_id = placement_of_a()
    today = london_today()
    client.ok("tracking", "post", f"/v1/placements/{placement_id}/start", provider_headers(a),
              {"started_on": today.isoformat()})
    client.ok("tracking", "post", f"/v1/placements/{placement_id}/attendance", provider_headers(a),
              {"week_commencing": monday_of(today).isoformat(), "sessions_offered": 10, "attended": 4,
               "authorised_absence": 1, "unauthorised_absence": 5}, expect=(201,))

    now = datetime.now(UTC)
    opportunity = client.ok("awards", "post", "/v1/opportunities", OFFICER, {
        "title": "Block places for key stage 4", "lot": 1, "places": 4,
        "contract_start": (today + timedelta(days=60)).isoformat(),
        "contract_end": (today + timedelta(days=400)).isoformat(),
        "opens_at": (now - timedelta(minutes=5)).isoformat(), "deadline": (now + timedelta(days=2)).isoformat(),
        "criteria": [{"name": "quality of education", "weight": "0.6"}, {"name": "safeguarding", "weight": "0.4"}],
    }, expect=(201,))
    opportunity_id = opportunity["opportunity_id"]
    bids = {}
    for provider_id, price in ((a, 900_000), (b, 950_000)):
        bid = client.ok("awards", "post", f"/v1/opportunities/{opportunity_id}/bids", provider_headers(provider_id),
                        {"price_pence": price, "answers": {"quality of education": f"Our plan ({provider_id})",
                                                           "safeguarding": "Our safeguarding approach"}},
                        expect=(201,))
        bids[provider_id] = bid["bid_id"]

    tap.wait_for(lambda e: e.get("type") == "concern.raised", timeout=30)  # the last event the world makes
    return World(a=a, b=b, c=c, applications={a: app_a, b: app_b, c: app_c}, referral_id=referral_id,
                 question_ids=question_ids, offers=offers, award_id=award["award_id"], placement_id=placement_id,
                 opportunity_id=opportunity_id, bids=bids)


def audit_entries(client: Client, service: str) -> dict[str, dict]:
    """Every entry of a service's audit trail, by id (as the manager reads it, page by page)."""
    found: dict[str, dict] = {}
    number, page_size = 1, 200
    while True:
        page = client.ok(service, "get", "/v1/audit", MANAGER, params={"page": number, "page_size": page_size})
        for entry in page:
            found[str(entry["id"])] = entry
        if len(page) < page_size:
            return found
        number += 1


# --- fuzzing with schemathesis ---------------------------------------------------------------------------

FUZZ_CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
               "response_schema_conformance", "response_headers_conformance")


def role_document(document: dict, role: str) -> dict:
    """The document with only the operations `role` may call ("public": the public ones)."""
    paths = {}
    for path, item in document["paths"].items():
        kept = {m: op for m, op in item.items() if m not in METHODS or role in (op.get("x-roles") or [])}
        if any(m in METHODS for m in kept):
            paths[path] = kept
    return {**document, "paths": paths}


def fuzz_config(ids: dict[str, str], probability: float) -> str:
    """A schemathesis.toml that makes each path parameter name data that exists
    (with `probability`; otherwise a generated value)."""
    lines = []
    for name, value in sorted(ids.items()):
        lines += [f"[dictionaries.{name}]", f"values = [{json.dumps(value)}]", ""]
    lines.append("[parameters]")
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = {probability} }}' for name in sorted(ids)]
    return "\n".join(lines) + "\n"


@dataclass
class FuzzRun:
    returncode: int
    output: str
    failures: list[dict]
    statuses: list[tuple[str, int]]  # (operation, status) of every response

    def report(self, failures: list[dict]) -> str:
        lines = []
        for f in failures:
            first = f["message"].splitlines()[0] if f["message"] else ""
            lines.append(f"- {f['operation']}: {f['code']} {f['title']}: {first}"
                         f"\n    {f['method']} {f['uri']}  body={json.dumps(f['body'])[:300]} -> {f['status']}")
        return "\n".join(lines)


def run_schemathesis(base_url: str, document: dict, headers: dict, workdir, name: str, *,
                     ids: dict[str, str] | None = None, max_examples: int = 6, seed: int = 20250115,
                     phases: str = "fuzzing", checks=FUZZ_CHECKS, probability: float = 0.5,
                     timeout: float = 300, extra: Iterable[str] = ()) -> FuzzRun:
    """`st run` against one service with one set of headers, offline (the
    document is a file; every request goes to `base_url`).  One worker: the
    generator is not safe in threads on this Python (ast.parse races)."""
    import subprocess
    import sys
    from pathlib import Path

    workdir = Path(workdir)
    spec = workdir / f"{name}.openapi.json"
    spec.write_text(json.dumps(document))
    ndjson = workdir / f"{name}.ndjson"
    argv = [sys.executable, "-m", "schemathesis.cli"]  # `st`, from the interpreter running the tests
    if ids:
        config = workdir / f"{name}.schemathesis.toml"
        config.write_text(fuzz_config(ids, probability))
        argv += ["--config-file", str(config)]
    argv += ["--no-color", "run", str(spec), "--url", base_url, "--checks", ",".join(checks),
             "--max-examples", str(max_examples), "--seed", str(seed), "--phases", phases, "--workers", "1",
             "--no-shrink", "--generation-database", "none", "--request-timeout", "30",
             "--report", "ndjson", "--report-ndjson-path", str(ndjson), "--warnings", "off", *extra]
    for key, value in headers.items():
        argv += ["--header", f"{key}: {value}"]
    # run in the work directory: any cache schemathesis keeps stays there
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=workdir)
    failures, statuses = _read_ndjson(ndjson) if ndjson.exists() else ([], [])
    return FuzzRun(done.returncode, done.stdout + done.stderr, failures, statuses)


def _read_ndjson(path) -> tuple[list[dict], list[tuple[str, int]]]:
    failures, statuses = [], []
    for line in path.read_text().splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        operation = recorder["label"]
        for interaction in recorder.get("interactions", {}).values():
            response = interaction.get("response") or {}
            if "status_code" in response:
                statuses.append((operation, response["status_code"]))
        for case_id, checks in recorder.get("checks", {}).items():
            case = recorder["cases"].get(case_id, {}).get("value", {})
            interaction = recorder.get("interactions", {}).get(case_id, {})
            for check in checks:
                if check["status"] == "success":
                    continue
                failure = (check.get("failure_info") or {}).get("failure") or {}
                failures.append({
                    "operation": operation, "check": check["name"], "code": failure.get("code", check["status"]),
                    "title": failure.get("title", ""), "message": failure.get("message", ""),
                    "method": case.get("method"), "uri": (interaction.get("request") or {}).get("uri"),
                    "query": case.get("query"), "body": case.get("body"),
                    "status": (interaction.get("response") or {}).get("status_code")})
    return failures, statuses
