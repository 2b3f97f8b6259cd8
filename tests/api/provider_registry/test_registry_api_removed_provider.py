"""A removed provider keeps no access to what its membership gave (issue 13, defect 10),
over HTTP: each change is refused 403 with the reason and nothing stored
changes; reading its record still answers 200.  The rule itself (a member of
another lot, a suspended one, past the term, the council's staff) is tested on
the handlers: tests/unit/provider_registry/test_handlers.py."""

from __future__ import annotations

from tests.api.provider_registry.registry_support import (
    MANAGER,
    admitted_provider,
    provider_auth,
    snapshot,
)

PATCH = {"registration": {"setting_kind": "registered_school", "urn": "654321", "inspectorate": "ofsted"}}
DOCUMENT = {"kind": "insurance", "reference": "insurance-2026.pdf", "expires_on": "2027-01-31"}
LINES = [{"description": "Session", "unit": "session", "staffing_ratio": "1:1", "maximum_price_pence": 9_000}]


def _remove(client, provider_id, lot, reason="persistent poor performance"):
    response = client.post(f"/v1/providers/{provider_id}/lots/{lot}/removal", headers=MANAGER,
                           json={"reason": reason})
    assert response.status_code == 200, response.json


def _changes(client, provider_id, lot=1):
    base, me = f"/v1/providers/{provider_id}", provider_auth(provider_id)
    return {
        "details": lambda: client.patch(base, headers=me, json=PATCH),
        "document": lambda: client.post(f"{base}/documents", headers=me, json=DOCUMENT),
        "sla": lambda: client.post(f"{base}/sla-acceptances", headers=me, json={"version": "2"}),
        "capacity": lambda: client.put(f"{base}/lots/{lot}/capacity", headers=me, json={"capacity": 9}),
        "pricing": lambda: client.post(f"{base}/lots/{lot}/pricing-schedules", headers=me,
                                       json={"effective_from": "2025-03-03", "pricing_lines": LINES}),
    }


def _second_sla(client):
    """A new SLA version for providers to accept (issued after they were admitted on the first)."""
    assert client.post("/v1/dps/sla-versions", headers=MANAGER,
                       json={"version": "2", "reason": "annual review"}).status_code == 201


def test_a_provider_removed_from_every_lot_cannot_change_its_record(client, rt):
    provider_id = admitted_provider(client, lots=(1, 3))
    _second_sla(client)
    _remove(client, provider_id, 1)
    _remove(client, provider_id, 3)
    before = snapshot(rt)
    answers = {name: send() for name, send in _changes(client, provider_id).items()}
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 403)
    for response in answers.values():
        assert "removed" in response.json["message"], response.json
    assert snapshot(rt) == before


def test_it_may_still_read_its_own_record(client, rt):
    provider_id = admitted_provider(client)
    _remove(client, provider_id, 1)
    record = client.get(f"/v1/providers/{provider_id}", headers=provider_auth(provider_id))
    assert record.status_code == 200
    assert [m["status"] for m in record.json["memberships"]] == ["removed"]
    assert client.get("/v1/providers", headers=provider_auth(provider_id)).status_code == 200
