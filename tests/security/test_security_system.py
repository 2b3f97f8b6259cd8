"""Security of the running system: the four services as real processes on
PostgreSQL and RabbitMQ, with real data made through their public APIs
(tests.support.security.make_world).

- JWT end to end against one running service: expired, wrong signature,
  `alg: none`, missing claims, and a provider token with someone else's
  `provider_id` in the path.
- Isolation: a provider cannot read or change another provider's registry
  record, applications, pricing, offers, bids, awards or placements
  (attendance returns), nor see referrals of lots it is not on.
- A child's identifying details (name, UPN, date of birth, address) never
  reach any response a provider (or anyone without a token) can read, nor any
  event on the exchanges.
- Fuzzing every service's OpenAPI document with schemathesis, per role,
  offline against the running services: no 5xx, and every response conforms
  to the document (status code and schema).
- The audit trail cannot be altered through any API: no write operation on
  any /audit path, 405 for the manager's attempts, and every entry written
  while making the world is still there, unchanged, after every endpoint has
  been exercised (by the fuzzing and by a sweep here).

The tests run in file order and share one world: the read-only checks first,
then the fuzzing (which changes things), then the audit trail and the events.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest

from shared.catalogue import SERVICES
from tests.support.security import (
    MANAGER,
    METHODS,
    OFFICER,
    Client,
    audit_entries,
    bad_tokens,
    drain_now,
    event_tap,
    fill_path,
    identifying_in,
    london_today,
    make_world,
    monday_of,
    offer_terms,
    operations,
    provider_headers,
    role_document,
    role_headers,
    run_schemathesis,
)

pytestmark = [pytest.mark.integration, pytest.mark.system]

REFUSED = (403, 404)  # refused, or not even shown to exist


class BugStillPresent(AssertionError):
    """A known bug (see the test's docstring) is still there."""


@pytest.fixture(scope="module")
def client(running_system) -> Client:
    return Client(running_system)


@pytest.fixture(scope="module")
def tap(running_system, rabbitmq):
    """Every event on every exchange, from before the world is made to the end of the module."""
    waiter = event_tap(rabbitmq.amqp_url)
    yield waiter
    waiter.close()


@pytest.fixture(scope="module")
def world(client, tap):
    made = make_world(client, tap)
    made.audit = {service: audit_entries(client, service) for service in SERVICES}
    return made


@pytest.fixture(scope="module")
def documents(client) -> dict[str, dict]:
    return {service: client.document(service) for service in SERVICES}


def _json(response):
    try:
        return response.json()
    except ValueError:
        return None


# --- JWT, end to end against one running service ---------------------------------------------------------


def test_jwt_refusals_end_to_end_against_a_running_service(client, world):
    """Every bad token is refused with 401 by a real web process; a good one is served."""
    path = "/v1/registry/memberships"
    assert client.call("referrals", "get", path, OFFICER).status_code == 200
    for case, headers in bad_tokens().items():
        response = client.call("referrals", "get", path, headers)
        body = _json(response) or {}
        assert response.status_code == 401, (case, response.status_code, response.text)
        assert body.get("code") == 401 and body.get("message"), (case, body)
        if case == "expired":
            assert body["message"] == "token expired", body
    # a token with a role the operation does not allow: 403, naming the roles field
    response = client.call("referrals", "get", path, provider_headers(world.b))
    assert response.status_code == 403 and "roles" in str(_json(response).get("errors")), response.text


def test_a_provider_token_with_someone_elses_provider_id_in_the_path_is_refused(client, world):
    a, b = world.a, world.b
    as_b = provider_headers(b)
    for service, method, path, body in [
        ("provider_registry", "get", f"/v1/providers/{a}", None),
        ("provider_registry", "patch", f"/v1/providers/{a}", {"organisation": {
            "name": "Hijacked Ltd", "address": "1 Evil Street", "postcode": "EV1 1LL"}}),
        ("provider_registry", "get", f"/v1/providers/{a}/lots/1/pricing-schedules", None),
        ("provider_registry", "put", f"/v1/providers/{a}/lots/1/capacity", {"capacity": 1}),
        ("awards", "get", f"/v1/opportunities/{world.opportunity_id}/summaries/{a}", None),
        ("awards", "get", f"/v1/awards?provider_id={a}", None),
        ("awards", "get", f"/v1/block-contracts?provider_id={a}", None),
        ("tracking", "get", f"/v1/placements?provider_id={a}", None),
        ("tracking", "get", f"/v1/reports/committed-spend?provider_id={a}", None),
    ]:
        response = client.call(service, method, path, as_b, body)
        assert response.status_code == 403, (service, method, path, response.status_code, response.text)
    # the same requests with its own provider_id are served (the refusal is about whose id it is)
    assert client.call("provider_registry", "get", f"/v1/providers/{b}", as_b).status_code == 200
    assert client.call("tracking", "get", f"/v1/placements?provider_id={b}", as_b).status_code == 200


# --- isolation between providers --------------------------------------------------------------------------


def test_a_provider_cannot_read_or_change_another_providers_registry_record_applications_or_pricing(client, world):
    a, b = world.a, world.b
    as_b = provider_headers(b)
    record = client.ok("provider_registry", "get", f"/v1/providers/{a}", MANAGER)
    schedules = client.ok("provider_registry", "get", f"/v1/providers/{a}/lots/1/pricing-schedules", MANAGER)
    proposed = next(s["version"] for s in schedules if s["status"] == "proposed")
    expires = (london_today() + timedelta(days=400)).isoformat()
    attempts = [
        ("get", f"/v1/providers/{a}", None),
        ("patch", f"/v1/providers/{a}", {"safeguarding_lead": {"name": "Mallory", "email": "m@example.org"}}),
        ("post", f"/v1/providers/{a}/documents", {"kind": "insurance", "reference": "x.pdf", "expires_on": expires}),
        ("post", f"/v1/providers/{a}/sla-acceptances", {"version": "1"}),
        ("put", f"/v1/providers/{a}/lots/1/capacity", {"capacity": 0}),
        ("put", f"/v1/providers/{a}/declared-roll", {"full_time_pupils": 0}),
        ("get", f"/v1/providers/{a}/lots/1/pricing-schedules", None),
        ("post", f"/v1/providers/{a}/lots/1/pricing-schedules",
         {"effective_from": expires, "pricing_lines": [{"description": "Day", "unit": "day", "staffing_ratio": "1:1",
                                                        "maximum_price_pence": 1}]}),
        ("post", f"/v1/providers/{a}/lots/1/pricing-schedules/{proposed}/withdrawal", None),
    ]
    for method, path, body in attempts:
        response = client.call("provider_registry", method, path, as_b, body)
        assert response.status_code == 403, (method, path, response.status_code, response.text)
    response = client.call("provider_registry", "get", f"/v1/applications/{world.applications[a]}", as_b)
    assert response.status_code in REFUSED, response.text

    # what B can list is its own
    providers = client.ok("provider_registry", "get", "/v1/providers", as_b)
    assert [p["id"] for p in providers] == [str(b)], providers
    assert client.ok("provider_registry", "get", "/v1/providers", as_b, params={"name": "Acorn"}) == []
    applications = client.ok("provider_registry", "get", "/v1/applications", as_b)
    assert [x["id"] for x in applications] == [world.applications[b]], applications

    # and nothing of A's changed
    assert client.ok("provider_registry", "get", f"/v1/providers/{a}", MANAGER) == record
    assert client.ok("provider_registry", "get", f"/v1/providers/{a}/lots/1/pricing-schedules", MANAGER) == schedules


def test_a_provider_sees_no_referral_of_a_lot_it_is_not_on(client, world):
    c = world.c
    as_c = provider_headers(c)
    listed = client.ok("referrals", "get", "/v1/provider/referrals", as_c, params={"open_only": "false"})
    assert world.referral_id not in str(listed), listed
    for method, path, body in [
        ("get", f"/v1/provider/referrals/{world.referral_id}", None),
        ("post", f"/v1/provider/referrals/{world.referral_id}/decline", {"reason": "not for us"}),
        ("post", f"/v1/provider/referrals/{world.referral_id}/offers",
         offer_terms(uuid.uuid4(), world.question_ids, 1_000)),
    ]:
        response = client.call("referrals", method, path, as_c, body)
        assert response.status_code in REFUSED + (409,), (method, path, response.status_code, response.text)
        assert response.status_code != 409 or "invited" in response.text, response.text
    response = client.call("referrals", "get", f"/v1/provider/referrals/{world.referral_id}/offers", as_c)
    assert response.status_code in REFUSED or response.json() == [], response.text
    # an invited provider does see it (the refusal above is about the lot): A, whose offer won it
    assert client.ok("referrals", "get", f"/v1/provider/referrals/{world.referral_id}",
                     provider_headers(world.a))["referral_id"] == world.referral_id


def test_a_provider_cannot_read_or_change_another_providers_offers(client, world):
    a, b = world.a, world.b
    as_a, as_b = provider_headers(a), provider_headers(b)
    offer_of_a = world.offers[a]
    before = client.ok("referrals", "get", f"/v1/provider/offers/{offer_of_a}", as_a)
    for method, path, body in [
        ("get", f"/v1/provider/offers/{offer_of_a}", None),
        ("put", f"/v1/provider/offers/{offer_of_a}", offer_terms(before["pricing_line_id"], world.question_ids, 1)),
        ("post", f"/v1/provider/offers/{offer_of_a}/withdraw", None),
    ]:
        response = client.call("referrals", method, path, as_b, body)
        assert response.status_code in REFUSED, (method, path, response.status_code, response.text)
    mine = client.ok("referrals", "get", "/v1/provider/offers", as_b, params={"live": "true"})
    assert {o["offer_id"] for o in mine} == {world.offers[b]}, mine
    on_referral = client.ok("referrals", "get", f"/v1/provider/referrals/{world.referral_id}/offers", as_b)
    assert {o["offer_id"] for o in on_referral} == {world.offers[b]}, on_referral
    seen = client.ok("referrals", "get", f"/v1/provider/referrals/{world.referral_id}", as_a)
    assert seen["my_live_offer_id"] == offer_of_a and world.offers[b] not in str(seen), seen
    closed = client.call("referrals", "get", f"/v1/provider/referrals/{world.referral_id}", as_b)
    assert closed.status_code == 404 and "closed to you" in closed.text  # B's offer lost: the profile is gone
    assert client.ok("referrals", "get", f"/v1/provider/offers/{offer_of_a}", as_a) == before


def test_a_provider_cannot_read_another_providers_awards_or_bids(client, world):
    a, b, c = world.a, world.b, world.c
    as_a, as_b, as_c = provider_headers(a), provider_headers(b), provider_headers(c)
    opportunity = world.opportunity_id

    assert client.ok("awards", "get", "/v1/awards", as_b) == []
    assert client.call("awards", "get", f"/v1/awards/{world.award_id}", as_b).status_code == 403
    won = client.ok("awards", "get", f"/v1/awards/{world.award_id}", as_a)
    assert won["provider_id"] == str(a) and "ranking" not in won and "awarded_by" not in won, won
    # Each bidder reads its own offer's result, and no one else's.
    result = f"/v1/referrals/{world.referral_id}/offers/{{}}/result"
    lost = client.ok("awards", "get", result.format(world.offers[b]), as_b)
    assert lost["outcome"] == "unsuccessful" and lost["winner_provider_id"] == str(a), lost
    for offer_of, headers in ((a, as_b), (b, as_a), (b, as_c)):
        assert client.call("awards", "get", result.format(world.offers[offer_of]), headers).status_code == 403

    bids_of_a = client.ok("awards", "get", f"/v1/opportunities/{opportunity}/bids", as_a)
    assert {x["bid_id"] for x in bids_of_a} == {world.bids[a]}, bids_of_a
    seen_by_b = client.ok("awards", "get", f"/v1/opportunities/{opportunity}/bids", as_b)
    assert {x["bid_id"] for x in seen_by_b} == {world.bids[b]}, seen_by_b
    response = client.call("awards", "delete", f"/v1/opportunities/{opportunity}/bids/{world.bids[a]}", as_b)
    assert response.status_code in REFUSED, response.text
    assert client.ok("awards", "get", f"/v1/opportunities/{opportunity}/bids", as_a) == bids_of_a
    view = client.ok("awards", "get", f"/v1/opportunities/{opportunity}", as_b)
    assert not view.get("invited") and str(a) not in str(view), view

    # C was not invited (it is not on lot 1): it sees neither the competition nor a bid
    assert opportunity not in str(client.ok("awards", "get", "/v1/opportunities", as_c))
    for method, path, body in [
        ("get", f"/v1/opportunities/{opportunity}", None),
        ("post", f"/v1/opportunities/{opportunity}/bids", {"price_pence": 1, "answers": {}}),
    ]:
        response = client.call("awards", method, path, as_c, body)
        assert response.status_code in REFUSED, (method, path, response.status_code, response.text)
    response = client.call("awards", "get", f"/v1/opportunities/{opportunity}/bids", as_c)
    assert response.status_code in REFUSED or response.json() == [], response.text


def test_a_provider_not_invited_learns_nothing_of_a_mini_competition(client, world):
    """Bug (awards, minor): a provider not invited to a mini-competition is refused the competition
    itself (403), but its bids list answers [] and its summary 409 "given once the mini-competition is
    awarded", so it learns that the competition exists and whether it is awarded.  handlers.bids_for and
    assessment_summary do not check the invitation as api._opportunity does."""
    as_c = provider_headers(world.c)
    for path in (f"/v1/opportunities/{world.opportunity_id}/bids",
                 f"/v1/opportunities/{world.opportunity_id}/summaries/{world.c}"):
        response = client.call("awards", "get", path, as_c)
        if response.status_code not in REFUSED:
            raise BugStillPresent(f"{path}: {response.status_code} {response.text}")


def test_a_provider_cannot_read_or_change_another_providers_placement_or_attendance(client, world):
    a, b = world.a, world.b
    as_a, as_b = provider_headers(a), provider_headers(b)
    placement = world.placement_id
    attendance = client.ok("tracking", "get", f"/v1/placements/{placement}/attendance", as_a)
    detail = client.ok("tracking", "get", f"/v1/placements/{placement}", as_a)
    assert detail["child_ref"] is None, "the child's reference stays on the council's side"

    assert client.ok("tracking", "get", "/v1/placements", as_b) == []
    monday = monday_of(london_today()).isoformat()
    for method, path, body in [
        ("get", f"/v1/placements/{placement}", None),
        ("get", f"/v1/placements/{placement}/attendance", None),
        ("get", f"/v1/placements/{placement}/reviews", None),
        ("get", f"/v1/placements/{placement}/outcomes", None),
        ("post", f"/v1/placements/{placement}/attendance", {"week_commencing": monday, "sessions_offered": 10,
                                                            "attended": 10, "authorised_absence": 0,
                                                            "unauthorised_absence": 0}),
        ("post", f"/v1/placements/{placement}/end", {"end_date": london_today().isoformat(),
                                                     "end_reason": "completed",
                                                     "next_step": "reintegrated_mainstream"}),
        ("post", f"/v1/placements/{placement}/outcomes", {"stage": "review", "engagement": 1,
                                                          "recorded_on": london_today().isoformat()}),
        ("post", f"/v1/placements/{placement}/start", {"started_on": london_today().isoformat()}),
    ]:
        response = client.call("tracking", method, path, as_b, body)
        assert response.status_code in REFUSED, (method, path, response.status_code, response.text)
    assert client.ok("tracking", "get", f"/v1/placements/{placement}/attendance", as_a) == attendance
    assert client.ok("tracking", "get", f"/v1/placements/{placement}", as_a)["status"] == detail["status"]


# --- a child's identifying details -----------------------------------------------------------------------


def _provider_reads(documents: dict, world, provider_id) -> list[tuple[str, str]]:
    """(service, path) of every GET a provider (or anyone) may make, filled with the world's ids
    and the provider's own id."""
    ids = {**world.ids(), "provider_id": str(provider_id)}
    reads = []
    for service, document in documents.items():
        for operation in operations(service, document):
            if operation.method == "get" and ("provider" in operation.roles or operation.public):
                reads.append((service, fill_path(operation.path, ids)))
    return reads


def test_identifying_details_of_a_child_never_reach_a_provider(client, world, documents):
    # the council does see them (so the scan can find them)
    council_view = client.ok("referrals", "get", f"/v1/referrals/{world.referral_id}", OFFICER)
    assert identifying_in(council_view), "the officer's view carries the child's details"
    child_ref = council_view["child_ref"]

    leaks, served = [], 0
    for provider_id in (world.a, world.b, world.c):
        headers = provider_headers(provider_id)
        reads = _provider_reads(documents, world, provider_id) + [
            ("referrals", "/v1/provider/referrals?open_only=false"), ("referrals", "/v1/provider/offers?live=false")]
        for service, path in reads:
            response = client.call(service, "get", path, headers)
            served += response.status_code == 200
            found = identifying_in(response.text) + ([child_ref] if child_ref in response.text else [])
            if found:
                leaks.append(f"{provider_id} GET {service}{path}: {found}")
    for service, path in _provider_reads(documents, world, world.a):
        response = client.call(service, "get", path, {})
        if identifying_in(response.text):
            leaks.append(f"no token GET {service}{path}: {identifying_in(response.text)}")
    assert not leaks, "\n".join(leaks)
    assert served > 30, f"only {served} provider reads were served: the sweep did not reach the data"


# --- fuzzing -----------------------------------------------------------------------------------------------

FUZZ_EXAMPLES = int(os.environ.get("DPS_FUZZ_EXAMPLES", "6"))
FUZZ_PHASES = os.environ.get("DPS_FUZZ_PHASES", "examples,fuzzing")
# The manager last: it can close the DPS and suspend providers, which changes what the others see.
FUZZ_ROLES = ("public", "reporting", "evaluator", "provider", "officer", "manager")


def _fuzz_targets() -> list[tuple[str, str]]:
    from tests.support.security import offline_documents

    documents = offline_documents()
    return [(service, role) for role in FUZZ_ROLES for service in SERVICES
            if role_document(documents[service], role)["paths"]]


def _known_bug(failure: dict) -> str | None:
    """Failures already reported (with a reproduction in test_security_bugs.py); None for a new one."""
    return None  # every bug found so far is fixed; a new failure fails the test


@pytest.mark.parametrize(("service", "role"), _fuzz_targets(), ids=lambda v: v)
def test_fuzz_the_openapi_document(client, world, documents, tmp_path, service, role):
    """schemathesis generates requests from the operations `role` may call and
    checks every answer: no 5xx, a documented status, a body matching the schema."""
    if role == "public":
        headers = {}
    elif role == "provider":
        headers = provider_headers(world.a)
    else:
        headers = role_headers(role)
    run = run_schemathesis(client.url(service), role_document(documents[service], role), headers, tmp_path,
                           f"{service}-{role}", ids=world.ids(), max_examples=FUZZ_EXAMPLES, phases=FUZZ_PHASES)
    assert run.statuses, f"schemathesis sent nothing:\n{run.output[-3000:]}"
    new = [f for f in run.failures if _known_bug(f) is None]
    assert not new, f"{service} as {role}:\n{run.report(new)}"
    assert run.returncode == 0 or run.failures, f"schemathesis failed without a failure:\n{run.output[-5000:]}"


# --- after everything: the audit trail, the events, and nothing sent outside ---------------------------------


def test_no_webhook_delivery_was_made_to_anything_the_fuzzing_registered(client, world):
    """Provider A's fuzzed webhook URLs got no delivery: none is made except on publishing."""
    deliveries = client.ok("referrals", "get", "/v1/webhook-deliveries", MANAGER, params={"page_size": 200})
    assert deliveries == [], deliveries


def test_the_audit_trail_cannot_be_altered_through_any_api(client, world, documents):
    writes = [f"{service} {method.upper()} {path}" for service, document in documents.items()
              for path, item in document["paths"].items() if "audit" in path
              for method in item if method in METHODS and method != "get"]
    assert not writes, f"write operations on the audit trail: {writes}"

    entry = {service: next(iter(entries), None) for service, entries in world.audit.items()}
    for service in SERVICES:
        assert world.audit[service], f"{service} wrote no audit entry while the world was made"
        for method in ("post", "put", "patch", "delete"):
            for path in ("/v1/audit", f"/v1/audit/{entry[service]}"):
                response = client.call(service, method, path, MANAGER, {"action": "nothing happened"})
                assert response.status_code in (404, 405), (service, method, path, response.status_code)
                assert response.status_code == 405 or path != "/v1/audit", (service, method, path)

    # every operation once more as the manager (the fuzzing has run them all, per role)
    for service, document in documents.items():
        for operation in operations(service, document):
            client.call(service, operation.method, fill_path(operation.path, world.ids()), MANAGER,
                        {} if operation.method in ("post", "put", "patch") else None)

    for service, before in world.audit.items():
        after = audit_entries(client, service)
        missing = sorted(set(before) - set(after))
        changed = sorted(k for k in before if k in after and after[k] != before[k])
        assert not missing and not changed, (service, missing, changed)


def test_no_event_carries_a_childs_identifying_details(tap, world):
    events = drain_now(tap)
    types = {e.get("type") for e in events}
    assert {"referral.published", "referral.closed", "placement.awarded", "attendance.recorded"} <= types, types
    leaks = [(e.get("type"), identifying_in(e)) for e in events if identifying_in(e)]
    assert not leaks, leaks
