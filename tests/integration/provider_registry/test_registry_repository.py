"""The registry's repository on a real database: saving by difference stays
right across a rollback, the process's copy of the DPS is never one a caller
changed or one that was rolled back, and a provider is read and saved the same
way on SQLite (the default without DATABASE_URL)."""

from __future__ import annotations

import pytest

from services.provider_registry import repository as repo
from services.provider_registry.domain import Lot, MembershipStatus
from tests.api.provider_registry.registry_support import MANAGER, NOW, admitted_provider, provider_auth
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


def test_a_save_rolled_back_is_written_again_by_the_next_save(client, rt):
    provider_id = admitted_provider(client, lots=(1, 3))
    with rt.unit_of_work() as uow:
        provider = repo.get_provider(uow.session, provider_id, for_update=True)
        provider.change_capacity(1, 9, NOW)
        repo.save_provider(uow.session, provider, NOW)
        uow.rollback()  # e.g. a refusal after the save: the capacity is not stored
        provider.suspend(3, "concern", NOW)
        repo.save_provider(uow.session, provider, NOW)
        uow.commit()
    with rt.unit_of_work() as uow:
        stored = repo.get_provider(uow.session, provider_id)
    assert stored.capacity == {1: 9, 3: 6}
    assert stored.memberships[3].status is MembershipStatus.SUSPENDED


def test_two_saves_in_one_unit_of_work_each_write_their_change(client, rt):
    provider_id = admitted_provider(client, lots=(1, 3))
    with rt.unit_of_work() as uow:
        provider = repo.get_provider(uow.session, provider_id, for_update=True)
        provider.change_capacity(1, 9, NOW)
        repo.save_provider(uow.session, provider, NOW)
        provider.change_capacity(1, 6, NOW)
        provider.change_capacity(3, 2, NOW)
        repo.save_provider(uow.session, provider, NOW)
        uow.commit()
    with rt.unit_of_work() as uow:
        assert repo.get_provider(uow.session, provider_id).capacity == {1: 6, 3: 2}


def test_a_provider_saved_without_being_loaded_for_a_change_is_compared_with_what_is_stored(client, rt):
    provider_id = admitted_provider(client, lots=(1, 3))
    with rt.unit_of_work() as uow:
        provider = repo.get_provider(uow.session, provider_id)  # not for a change: nothing remembered
        provider.change_capacity(3, 4, NOW)
        repo.save_provider(uow.session, provider, NOW)
        uow.commit()
    with rt.unit_of_work() as uow:
        assert repo.get_provider(uow.session, provider_id).capacity == {1: 6, 3: 4}


def test_the_dps_copy_kept_is_not_the_one_a_caller_changes(rt):
    with rt.unit_of_work() as uow:
        dps = repo.get_dps(uow.session)
        dps.sla_version = "changed in memory"
        dps.lots[1] = Lot(1, "changed in memory")
    with rt.unit_of_work() as uow:
        dps = repo.get_dps(uow.session)
    assert dps.sla_version == "1"
    assert dps.lots[1].name == "Full-time education"


def test_a_dps_change_rolled_back_is_never_served(rt):
    with rt.unit_of_work() as uow:
        dps = repo.get_dps(uow.session, for_update=True)
        dps.issue_sla("9")
        repo.save_dps(uow.session, dps)
        assert repo.get_dps(uow.session).sla_version == "9"  # its own change, not yet committed
        uow.rollback()
        assert repo.get_dps(uow.session).sla_version == "1"
    with rt.unit_of_work() as uow:
        assert repo.get_dps(uow.session).sla_version == "1"


def test_providers_are_read_and_saved_by_difference_on_sqlite(tmp_path, client_for):
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
            provider = repo.get_provider(uow.session, provider_id)
        assert [s.version for s in provider.schedules[1]] == [1, 2]
        assert provider.schedules[1][1].proposed_at == NOW
    finally:
        runtime.engine.dispose()
