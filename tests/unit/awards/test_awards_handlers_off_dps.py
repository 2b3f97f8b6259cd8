"""The off-DPS use cases on the fake unit of work: awards keeps a copy of the
exception from referrals' event, the manager approves (the placement is
published for tracking) or refuses; a refused request commits nothing."""

from __future__ import annotations

import uuid

import pytest

from services.awards import consumers, handlers
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.support.off_dps import exception_event
from tests.unit.awards import test_awards_handlers as base
from tests.unit.awards.test_awards_handlers import AFTER, MANAGER, OFFICER, OTHER_OFFICER, admit, close, offer

store, uow = base.store, base.uow  # the same fixtures, used by name


def recorded(uow, **changes) -> uuid.UUID:
    return feed_exception(uow, uuid.uuid4(), **changes)


def feed_exception(uow, referral_id: uuid.UUID, **changes) -> uuid.UUID:
    unit = uow()
    handlers.off_dps_exception_recorded(unit, consumers.OffDpsExceptionRecorded().load(
        exception_event(referral_id, **changes)))
    unit.commit()
    return referral_id


def test_the_copy_is_kept_once_and_an_old_exception_without_a_provider_is_not(uow, store):
    referral_id = recorded(uow)
    data = consumers.OffDpsExceptionRecorded().load(exception_event(referral_id, reason="Another copy"))
    handlers.off_dps_exception_recorded(uow(), data)
    assert store.off_dps[referral_id].reason != "Another copy"
    old = {k: v for k, v in exception_event(uuid.uuid4()).items() if k not in ("provider", "terms", "checks")}
    handlers.off_dps_exception_recorded(uow(), consumers.OffDpsExceptionRecorded().load(old))
    assert list(store.off_dps) == [referral_id]


def test_the_manager_approves_and_tracking_is_told_of_the_placement(uow):
    referral_id = recorded(uow, child_ref="9b1d5f0e-3a7c-4c2e-8f6d-1e2a3b4c5d6e")
    unit = uow(MANAGER, AFTER)
    placement = handlers.approve_off_dps(unit, MANAGER, referral_id)
    [data] = unit.published("off_dps_placement.approved")
    assert data["placement_id"] == str(placement.placement_id) and data["referral_id"] == str(referral_id)
    assert data["provider_name"] == "Riverside Tuition" and data["setting_kind"] == "unregistered"
    assert (data["hours_per_week"], data["weeks"], data["weekly_cost_pence"], data["total_pence"]) == (
        15, 12, 45000, 540_000)
    assert data["child_ref"] == "9b1d5f0e-3a7c-4c2e-8f6d-1e2a3b4c5d6e" and data["approved_by"] == "vls-manager"
    assert "off_dps_placement.approved" in unit.audited()
    again = uow(MANAGER, AFTER)
    with pytest.raises(Conflict):
        handlers.approve_off_dps(again, MANAGER, referral_id)
    assert not again.committed and again.messages == []


def test_only_the_manager_decides(uow):
    referral_id = recorded(uow)
    for actor in (OFFICER, OTHER_OFFICER):
        unit = uow(actor, AFTER)
        with pytest.raises(Forbidden):
            handlers.approve_off_dps(unit, actor, referral_id)
        with pytest.raises(Forbidden):
            handlers.refuse_off_dps(unit, actor, referral_id, "No")
        assert not unit.committed
    assert handlers.off_dps_placement(uow(OFFICER), OFFICER, referral_id).team == "exclusions"
    with pytest.raises(Forbidden):
        handlers.off_dps_placement(uow(OTHER_OFFICER), OTHER_OFFICER, referral_id)


def test_a_refusal_gives_its_reason_and_then_no_approval(uow):
    referral_id = recorded(uow)
    with pytest.raises(InvalidInput):
        handlers.refuse_off_dps(uow(MANAGER, AFTER), MANAGER, referral_id, "")
    unit = uow(MANAGER, AFTER)
    handlers.refuse_off_dps(unit, MANAGER, referral_id, "DBS confirmation is out of date")
    assert "off_dps_placement.refused" in unit.audited() and unit.messages == []
    later = uow(MANAGER, AFTER)
    with pytest.raises(Conflict, match="refused"):
        handlers.approve_off_dps(later, MANAGER, referral_id)
    assert later.messages == []


def test_the_registration_rule_refuses_and_nothing_is_published(uow, store):
    referral_id = recorded(uow, lot=1, full_time=True, looked_after=True, terms={"hours_per_week": 25})
    unit = uow(MANAGER, AFTER)
    with pytest.raises(Conflict, match=r"looked after.*Education Act 1996 s\.463.*law"):
        handlers.approve_off_dps(unit, MANAGER, referral_id)
    assert not unit.committed and unit.messages == [] and store.off_dps[referral_id].status.value == "pending"


def test_an_unknown_exception_is_not_found(uow):
    with pytest.raises(NotFound):
        handlers.approve_off_dps(uow(MANAGER, AFTER), MANAGER, uuid.uuid4())


def test_a_child_placed_off_the_dps_takes_no_call_off_and_a_call_off_blocks_the_approval(uow):
    provider_id = uuid.uuid4()
    admit(uow, provider_id)
    placed_off, awarded = uuid.uuid4(), uuid.uuid4()
    for referral_id in (placed_off, awarded):
        close(uow, referral_id, [offer(provider_id, 3000)])
        feed_exception(uow, referral_id)
    handlers.approve_off_dps(uow(MANAGER, AFTER), MANAGER, placed_off)
    [made] = uow().call_offs.get(placed_off).offers
    refused = uow(OFFICER, AFTER)
    with pytest.raises(Conflict, match="placed off the DPS"):
        handlers.award_placement(refused, OFFICER, placed_off, made.offer_id)
    assert not refused.committed
    [other] = uow().call_offs.get(awarded).offers
    handlers.award_placement(uow(OFFICER, AFTER), OFFICER, awarded, other.offer_id)
    with pytest.raises(Conflict, match="already has a placement"):
        handlers.approve_off_dps(uow(MANAGER, AFTER), MANAGER, awarded)
