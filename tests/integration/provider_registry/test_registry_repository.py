"""The registry's repositories on a real database: a change rolled back is
not stored, every change of a unit of work is, the DPS read is never one a
caller changed or one that was rolled back, and a provider is read and saved
the same way on SQLite (the default without DATABASE_URL)."""

from __future__ import annotations

import pytest

from services.provider_registry.domain import MembershipStatus
from shared.catalogue import FIRST_DPS_ID
from tests.api.provider_registry.registry_support import MANAGER, NOW, admitted_provider, outbox, provider_auth
from tests.support.runtime import build_runtime

pytestmark = pytest.mark.integration


@pytest.fixture
def rt(service):
    runtime = service("provider_registry")
    runtime.clock = lambda: NOW
    return runtime


@pytest.fixture
def client(rt, client_for):
    return client_for(rt)


def test_a_change_rolled_back_is_not_stored_and_the_next_one_is(client, rt):
    provider_id = admitted_provider(client, lots=(1, 3))
    with rt.unit_of_work() as uow:
        uow.providers.get(provider_id, for_update=True).change_capacity(1, 9, NOW)
        uow.rollback()  # e.g. a refusal after the change: the capacity is not stored
        uow.providers.get(provider_id, for_update=True).suspend(3, "concern", NOW)
        uow.commit()
    with rt.unit_of_work() as uow:
        stored = uow.providers.get(provider_id)
        assert (stored.membership(1).capacity, stored.membership(3).capacity) == (6, 6)
        assert stored.membership(3).status is MembershipStatus.SUSPENDED


def test_every_change_of_one_unit_of_work_is_stored_and_announced(client, rt):
    provider_id = admitted_provider(client, lots=(1, 3))
    with rt.unit_of_work() as uow:
        provider = uow.providers.get(provider_id, for_update=True)
        provider.change_capacity(1, 9, NOW)
        provider.change_capacity(1, 6, NOW)
        provider.change_capacity(3, 2, NOW)
        uow.commit()
    with rt.unit_of_work() as uow:
        assert set(uow.providers.get(provider_id).capacity.items()) == {((FIRST_DPS_ID, 1), 6), ((FIRST_DPS_ID, 3), 2)}
    assert [(e["data"]["lot"], e["data"]["capacity"]) for e in outbox(rt, "capacity.changed")] == [
        (1, 9), (1, 6), (3, 2)]


def test_a_change_never_committed_is_never_read(rt):
    with rt.unit_of_work() as uow:
        dps = uow.dps.get()
        dps.sla_version = "changed in memory"
        dps.lots[1].name = "changed in memory"
    with rt.unit_of_work() as uow:
        dps = uow.dps.get()
        assert dps.sla_version == "1"
        assert dps.lots[1].name == "Full-time education"


def test_a_dps_change_rolled_back_is_never_served(rt):
    with rt.unit_of_work() as uow:
        uow.dps.get(for_update=True).issue_sla("9")
        uow.session.flush()
        assert uow.dps.get().sla_version == "9"  # its own change, not yet committed
        uow.rollback()
        assert uow.dps.get().sla_version == "1"
    with rt.unit_of_work() as uow:
        assert uow.dps.get().sla_version == "1"


def test_providers_are_read_and_saved_on_sqlite(tmp_path, client_for):
    runtime = build_runtime("provider_registry", f"sqlite:///{tmp_path / 'registry.sqlite3'}", "amqp://unused//")
    runtime.clock = lambda: NOW
    try:
        client = client_for(runtime)
        provider_id = admitted_provider(client, lots=(1, 3))
        me = provider_auth(provider_id)
        assert client.put(f"/v1/providers/{provider_id}/lots/3/capacity", headers=me,
                          json={"capacity": 2}).status_code == 200
        proposed = client.post(f"/v1/providers/{provider_id}/lots/1/pricing-schedules", headers=me, json={
            "effective_from": "2025-02-03", "pricing_lines": [
                {"description": "Session", "unit": "session", "staffing_ratio": "group",
                 "maximum_price_pence": 9_000}]})
        assert proposed.status_code == 201, proposed.json
        record = client.get(f"/v1/providers/{provider_id}", headers=MANAGER).json
        assert {m["lot"]: m["capacity"] for m in record["memberships"]} == {1: 6, 3: 2}
        assert record["memberships"][0]["pricing"]["version"] == 1
        assert [d["expires_on"] for d in record["documents"]] == ["2026-01-31"] * 3
        with runtime.unit_of_work() as uow:
            provider = uow.providers.get(provider_id)
            assert [s.version for s in provider.schedules[1]] == [1, 2]
            assert provider.schedules[1][1].proposed_at == NOW
    finally:
        runtime.engine.dispose()
