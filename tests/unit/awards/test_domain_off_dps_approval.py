"""An off-DPS exception before the manager (issue #16 item 5): approved once,
only where the registration rule holds (refused naming it as law), or refused
with a reason; nothing becomes a placement without approval."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.awards import consumers
from services.awards.domain import OffDpsPlacement, OffDpsPlacementApproved, OffDpsStatus, off_dps_provider_id
from shared.errors import Conflict, InvalidInput
from tests.support.off_dps import exception_event

NOW = datetime(2025, 1, 30, 9, 0, tzinfo=UTC)


def exception(**changes) -> OffDpsPlacement:
    return OffDpsPlacement.from_exception(consumers.OffDpsExceptionRecorded().load(
        exception_event(uuid.uuid4(), **changes)))


def test_the_copy_keeps_the_provider_the_terms_and_the_checks():
    it = exception()
    assert (it.provider_name, it.setting_kind, it.declared_full_time_pupils) == ("Riverside Tuition", "unregistered", 2)
    assert (it.hours_per_week, it.start_date, it.weekly_cost_pence, it.weeks) == (
        Decimal(15), date(2025, 2, 3), 45000, 12)
    assert it.total_pence == 540_000
    assert it.checks["dbs"] == {"confirmed": True, "by": "officer-1", "on": "2025-01-20"}
    assert it.status is OffDpsStatus.PENDING


def test_the_same_setting_has_the_same_off_dps_id_never_a_registry_one():
    assert off_dps_provider_id("Riverside  Tuition") == off_dps_provider_id("riverside tuition")
    assert off_dps_provider_id("A", urn="123456") == off_dps_provider_id("B", urn="123456")
    assert exception().provider_id == off_dps_provider_id("Riverside Tuition")


def test_approval_publishes_the_placement_once():
    it = exception()
    it.approve(by="vls-manager", now=NOW)
    [approved] = it.events
    assert isinstance(approved, OffDpsPlacementApproved)
    assert (approved.placement_id, approved.provider_id, approved.total_pence) == (
        it.placement_id, it.provider_id, 540_000)
    assert it.status is OffDpsStatus.APPROVED and it.decided_by == "vls-manager"
    with pytest.raises(Conflict, match="already approved"):
        it.approve(by="vls-manager", now=NOW)
    with pytest.raises(Conflict, match="already approved"):
        it.refuse("Changed my mind", by="vls-manager", now=NOW)
    assert len(it.events) == 1


def test_refusal_needs_a_reason_and_no_placement_follows():
    it = exception()
    with pytest.raises(InvalidInput) as refused:
        it.refuse("  ", by="vls-manager", now=NOW)
    assert refused.value.field == "reason" and it.status is OffDpsStatus.PENDING
    it.refuse("The setting's insurance does not cover under-16s", by="vls-manager", now=NOW)
    assert it.status is OffDpsStatus.REFUSED and it.refusal_reason.startswith("The setting's insurance")
    with pytest.raises(Conflict, match="no placement is made without the manager's approval"):
        it.approve(by="vls-manager", now=NOW)
    assert not any(isinstance(e, OffDpsPlacementApproved) for e in it.events)


@pytest.mark.parametrize(("changes", "why"), [
    ({"ehcp": True, "full_time": True, "terms": {"hours_per_week": 25}, "lot": 1}, "has an EHCP"),
    ({"looked_after": True, "full_time": True, "lot": 1, "terms": {"hours_per_week": 25}}, "is looked after"),
    ({"provider": {"full_time_pupils": 4}, "full_time": True, "lot": 1, "terms": {"hours_per_week": 25}},
     "5 pupils of compulsory school age full-time"),
])
def test_the_registration_rule_refuses_approval_naming_it_as_law(changes, why):
    it = exception(**changes)
    with pytest.raises(Conflict) as refused:
        it.approve(by="vls-manager", now=NOW)
    message = refused.value.message
    assert why in message and "Education Act 1996 s.463" in message and "law" in message
    assert it.status is OffDpsStatus.PENDING and it.events == []


def test_a_looked_after_child_at_12_hours_is_not_full_time_and_may_be_approved():
    it = exception(looked_after=True, lot=2, terms={"hours_per_week": 12})
    it.approve(by="vls-manager", now=NOW)
    assert it.status is OffDpsStatus.APPROVED


def test_the_councils_stricter_hours_are_refused_as_policy_not_law():
    from decimal import Decimal

    from services.awards.domain import RegistrationRules

    it = exception(terms={"hours_per_week": 25}, full_time=True)
    with pytest.raises(Conflict) as refused:
        it.approve(by="vls-manager", now=NOW, rules=RegistrationRules(unregistered_max_hours=Decimal(18)))
    assert "policy" in refused.value.message and "25" in refused.value.message
    it.approve(by="vls-manager", now=NOW)  # the law alone lets one pupil at 25 hours go ahead
    assert it.status is OffDpsStatus.APPROVED


def test_a_registered_school_is_not_caught_and_a_part_time_place_is_not_either():
    exception(provider={"setting_kind": "registered_school", "urn": "123456", "full_time_pupils": 40},
              terms={"hours_per_week": 25}, full_time=True, ehcp=True).approve(by="m", now=NOW)
    exception(provider={"full_time_pupils": 4}, terms={"hours_per_week": 12}).approve(by="m", now=NOW)
