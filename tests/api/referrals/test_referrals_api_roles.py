"""Every endpoint names the roles it admits (x-roles in the OpenAPI document),
and the oversight endpoints: the audit trail for the manager only."""

from __future__ import annotations

import uuid

from tests.api.referrals.referrals_support import (
    MANAGER,
    OFFICER,
    admit,
    offer,
    provider_auth,
    published_referral,
)

EXPECTED_ROLES = {
    ("post", "/v1/referrals"): ["officer"],
    ("get", "/v1/referrals"): ["officer", "manager"],
    ("get", "/v1/referrals/{referral_id}"): ["officer", "manager"],
    ("patch", "/v1/referrals/{referral_id}"): ["officer"],
    ("post", "/v1/referrals/{referral_id}/publish"): ["officer"],
    ("post", "/v1/referrals/{referral_id}/extend"): ["officer"],
    ("post", "/v1/referrals/{referral_id}/republish"): ["officer"],
    ("get", "/v1/referrals/{referral_id}/offers"): ["officer", "manager"],
    ("put", "/v1/referrals/{referral_id}/offers/{offer_id}/assessment"): ["officer"],
    ("post", "/v1/referrals/{referral_id}/off-dps-exception"): ["officer"],
    ("get", "/v1/provider/referrals"): ["provider"],
    ("get", "/v1/provider/referrals/{referral_id}"): ["provider"],
    ("post", "/v1/provider/referrals/{referral_id}/offers"): ["provider"],
    ("put", "/v1/provider/offers/{offer_id}"): ["provider"],
    ("post", "/v1/provider/offers/{offer_id}/withdraw"): ["provider"],
    ("post", "/v1/provider/referrals/{referral_id}/decline"): ["provider"],
    ("put", "/v1/provider/webhook"): ["provider"],
    ("get", "/v1/off-dps-exceptions"): ["manager"],
    ("get", "/v1/webhook-deliveries"): ["manager"],
    ("get", "/v1/audit"): ["manager"],
    ("get", "/v1/reports/ap-census"): ["officer", "manager"],
}


def test_every_endpoint_declares_its_roles(client):
    spec = client.get("/openapi.json").json
    operations = {(method, path): op for path, item in spec["paths"].items() for method, op in item.items()
                  if method in ("get", "post", "put", "patch", "delete")}
    assert operations
    for key, operation in operations.items():
        assert operation.get("x-roles"), f"{key} declares no roles"
    for key, roles in EXPECTED_ROLES.items():
        assert operations[key]["x-roles"] == roles, key


def test_offer_creation_documents_the_idempotency_key(client):
    operation = client.get("/openapi.json").json["paths"]["/v1/provider/referrals/{referral_id}/offers"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"])
    assert {"200", "201"} <= set(operation["responses"])


def test_the_manager_reads_the_audit_trail_of_decisions(client, rt):
    acorn = admit(rt)
    referral = published_referral(client)
    offer(client, referral, acorn)
    trail = client.get(f"/v1/audit?subject_id={referral['referral_id']}", headers=MANAGER)
    assert trail.status_code == 200
    assert {(e["action"], e["actor"]) for e in trail.json} == {
        ("referral.created", "officer-1"), ("referral.published", "officer-1")}
    offers = client.get("/v1/audit?subject_type=offer", headers=MANAGER).json
    assert [(e["action"], e["actor"]) for e in offers] == [("offer.submitted", f"user-of-{acorn}")]
    for headers, status in [(OFFICER, 403), (provider_auth(uuid.uuid4()), 403), ({}, 401)]:
        assert client.get("/v1/audit", headers=headers).status_code == status
    # there is no way to change the trail
    assert client.delete("/v1/audit", headers=MANAGER).status_code == 405
