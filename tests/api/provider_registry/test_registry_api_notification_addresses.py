"""Where the DPS writes to a provider (issue #18): its notification addresses,
set from the safeguarding lead's at admission, changed by the provider or the
manager, refused with the field named when not addresses, audited and
published for the notifications service."""

from __future__ import annotations

import uuid

import pytest

from tests.api.provider_registry.registry_support import (
    MANAGER,
    OFFICER,
    admitted_provider,
    application_form,
    assert_refused,
    audit_actions,
    outbox,
    provider_auth,
)

pytestmark = pytest.mark.integration


def _put(client, provider_id, addresses, headers):
    return client.put(f"/v1/providers/{provider_id}/notification-addresses",
                      json={"notification_addresses": addresses}, headers=headers)


def test_admission_publishes_the_leads_address_and_the_provider_changes_it(client, rt):
    provider_id = admitted_provider(client)
    [first] = outbox(rt, "provider.contacts_changed")
    lead_email = application_form()["safeguarding_lead"]["email"]
    assert first["data"]["notification_addresses"] == [lead_email]

    changed = _put(client, provider_id, ["referrals@bridges.example", "head@bridges.example"],
                   provider_auth(provider_id))
    assert changed.status_code == 200
    assert changed.json["notification_addresses"] == ["referrals@bridges.example", "head@bridges.example"]
    last = outbox(rt, "provider.contacts_changed")[-1]
    assert last["data"]["notification_addresses"] == ["referrals@bridges.example", "head@bridges.example"]
    assert "provider.contacts_changed" in audit_actions(rt)
    assert _put(client, provider_id, ["x@y.example"], MANAGER).status_code == 200


@pytest.mark.parametrize("addresses, field", [
    ([], "notification_addresses"),
    (["not an address"], "notification_addresses.0"),
    (["a@b.example", "A@b.example"], "notification_addresses.1"),
    ([f"p{n}@b.example" for n in range(6)], "notification_addresses"),
])
def test_what_is_not_one_to_five_addresses_is_refused_naming_the_field(client, rt, addresses, field):
    provider_id = admitted_provider(client)
    assert_refused(rt, _put, client, provider_id, addresses, provider_auth(provider_id), field=field)


def test_no_one_else_changes_them(client, rt):
    provider_id = admitted_provider(client)
    assert_refused(rt, _put, client, provider_id, ["a@b.example"], provider_auth(uuid.uuid4()), status=403)
    assert_refused(rt, _put, client, provider_id, ["a@b.example"], OFFICER, status=403)
