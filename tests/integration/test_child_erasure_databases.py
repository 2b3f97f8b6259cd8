"""An erasure on SQLite and PostgreSQL alike (issue #17 item 5): under a hold it is refused and
nothing stored changes; granted, one child's identity, referrals and what hangs off them go, and
another child's stay."""

from __future__ import annotations

import uuid

import pytest

from shared.web import create_app
from tests.api.referrals.referrals_support import MANAGER, OFFICER, create, deliver, referral_form, snapshot
from tests.integration.test_retention import database_url, runtime  # noqa: F401 - the fixtures, on both databases

pytestmark = pytest.mark.integration


def _child(client, upn: str, *, cancel: bool) -> dict:
    form = referral_form()
    form["child"]["upn"] = upn
    referral = create(client, form)
    if cancel:
        assert client.post(f"/v1/referrals/{referral['referral_id']}/cancel", json={"reason": "Moved away."},
                           headers=OFFICER).status_code == 200
    return referral


def _erase(client, child_ref):
    request = client.post(f"/v1/children/{child_ref}/erasure-requests", json={"grounds": "The parent asked."},
                          headers=OFFICER)
    assert request.status_code == 201, request.json
    return client.post(f"/v1/children/{child_ref}/erasure-requests/{request.json['request_id']}/decision",
                       json={"grant": True, "reason": "No statutory record must be kept."}, headers=MANAGER)


def test_an_erasure_is_refused_under_a_hold_and_carried_out_without_one(runtime):  # noqa: F811
    client = create_app(runtime.definition, runtime.settings, runtime).test_client()
    open_child = _child(client, "A123456789012", cancel=False)
    gone = _child(client, "B123456789012", cancel=True)
    deliver(runtime, "placement.ended", {"placement_id": str(uuid.uuid4()), "referral_id": gone["referral_id"],
                                         "ended_on": "2010-07-20"}, "tracking")  # long ago: no hold

    request_state = snapshot(runtime)
    refused = _erase(client, open_child["child_ref"])
    assert refused.status_code == 409 and "open_referral" in refused.json["message"]
    after = snapshot(runtime)
    assert {k: v for k, v in after.items() if k not in ("erasure_requests", "audit_log", "outbox")} == \
        {k: v for k, v in request_state.items() if k not in ("erasure_requests", "audit_log", "outbox")}

    granted = _erase(client, gone["child_ref"])
    assert granted.status_code == 200, granted.json
    assert granted.json["removed"]["child_placements"] == 1 and granted.json["removed"]["children"] == 1
    stored = snapshot(runtime)
    assert len(stored["referrals"]) == len(stored["referral_children"]) == len(stored["children"]) == 1
    assert client.get(f"/v1/referrals/{open_child['referral_id']}", headers=OFFICER).status_code == 200
    assert client.get(f"/v1/referrals/{gone['referral_id']}", headers=OFFICER).status_code == 404
    assert stored["child_placements"] == []
