"""Rectification and erasure of a child's data, with the fake unit of work: a correction reaches
every referral of the child, is audited by field name only, and tells other services only what
they keep; an erasure is recorded, decided by the manager, refused under a hold (nothing deleted),
and, granted, deletes the child's referrals and publishes `child.erased`."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.referrals import erasure, handlers
from services.referrals.domain import ReferralStatus
from services.referrals.domain.erasure import ErasureStatus
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.unit.referrals.erasure_fakes import ErasureUnitOfWork
from tests.unit.referrals.test_referrals_handlers import CHILD, MANAGER, OFFICER, OTHER_OFFICER, PROFILE

NOW = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def uow():
    return ErasureUnitOfWork(NOW)


def draft(uow, **child):
    return handlers.create_referral(uow, OFFICER, lot=1, child={**CHILD, **child}, profile=PROFILE,
                                    deadline=NOW + timedelta(days=7), exclusion_start=date(2025, 1, 13)).referral


def cancelled(uow, **child):
    referral = draft(uow, **child)
    handlers.cancel_referral(uow, OFFICER, referral.id, "The family moved away.")
    return referral


def child_ref_of(uow, referral):
    return uow.referrals.child_ref(referral.id)


def fresh(uow):
    uow.messages.clear()
    uow.audit.clear()


# --- rectification ---------------------------------------------------------------------------------

def test_a_correction_reaches_every_referral_of_the_child_and_is_audited_by_field_name_only(uow):
    first, second = draft(uow), draft(uow, address="2 New Road, London SE15 5AA")
    child_ref = child_ref_of(uow, first)
    fresh(uow)
    changed = erasure.correct_child(uow, OFFICER, child_ref, {"name": "Zebedee Quartermain", "ehcp": False})
    assert changed == ("name", "ehcp")
    assert {first.child.name, second.child.name} == {"Zebedee Quartermain"}
    assert second.child.address == "2 New Road, London SE15 5AA"  # what was not corrected stays as it was
    assert not first.profile.ehcp and not second.profile.ehcp
    entry = uow.audit_of("child.corrected")
    assert entry.subject_id == child_ref and entry.details["changed"] == ["name", "ehcp"]
    assert "Zebedee" not in repr(entry) and "Quartermain" not in repr(uow.messages)
    assert uow.published("child.corrected") == [{"child_ref": str(child_ref), "ehcp": False,
                                                 "at": "2025-01-15T10:00:00+00:00"}]


def test_a_correction_of_the_identity_alone_is_audited_and_sent_to_no_one(uow):
    child_ref = child_ref_of(uow, draft(uow))
    fresh(uow)
    assert erasure.correct_child(uow, MANAGER, child_ref, {"address": "3 Elm Row, London SE15 6BB"}) == ("address",)
    assert uow.audited() == ["child.corrected"] and uow.messages == []


def test_a_corrected_upn_keeps_the_childs_reference(uow):
    referral = draft(uow)
    child_ref = child_ref_of(uow, referral)
    erasure.correct_child(uow, OFFICER, child_ref, {"upn": "a 1234 5678 9099"})
    assert referral.child.upn == "A12345678909" + "9" and child_ref_of(uow, referral) == child_ref


def test_a_upn_that_is_another_childs_is_refused(uow):
    child_ref = child_ref_of(uow, draft(uow))
    draft(uow, upn="B123456789012")
    with pytest.raises(Conflict) as refused:
        erasure.correct_child(uow, OFFICER, child_ref, {"upn": "B123456789012"})
    assert refused.value.field == "upn"


def test_a_correction_that_is_not_one_is_refused_naming_the_field(uow):
    child_ref = child_ref_of(uow, draft(uow))
    with pytest.raises(InvalidInput) as refused:
        erasure.correct_child(uow, OFFICER, child_ref, {"upn": "not a upn"})
    assert refused.value.field == "upn"
    with pytest.raises(InvalidInput) as refused:
        erasure.correct_child(uow, OFFICER, child_ref, {"primary_need": "SEMH"})
    assert refused.value.field == "primary_need"


def test_a_corrected_name_the_profile_uses_is_refused_as_the_privacy_check_refuses_it(uow):
    referral = draft(uow, name="Ann Lee")
    with pytest.raises(InvalidInput) as refused:
        erasure.correct_child(uow, OFFICER, child_ref_of(uow, referral), {"name": "Mornings Smith"})
    assert refused.value.field == "pattern" and referral.child.name == "Ann Lee"


def test_an_officer_of_another_team_may_not_correct_the_child(uow):
    child_ref = child_ref_of(uow, draft(uow))
    with pytest.raises(Forbidden):
        erasure.correct_child(uow, OTHER_OFFICER, child_ref, {"name": "Someone Else"})


def test_an_unknown_child_is_not_found(uow):
    with pytest.raises(NotFound):
        erasure.correct_child(uow, MANAGER, uuid.uuid4(), {"name": "Someone"})
    with pytest.raises(NotFound):
        erasure.request_erasure(uow, MANAGER, uuid.uuid4(), "asked by the parent")


# --- erasure ---------------------------------------------------------------------------------------

def test_an_erasure_granted_without_a_hold_deletes_the_child_and_says_so(uow):
    referral = cancelled(uow)
    child_ref = child_ref_of(uow, referral)
    request = erasure.request_erasure(uow, OFFICER, child_ref, "The parent asked in writing on 10 January.")
    fresh(uow)
    decided = erasure.decide_erasure(uow, MANAGER, child_ref, request.id, grant=True, reason="No record held.")
    assert decided.status is ErasureStatus.GRANTED and decided.removed == {"referrals": 1}
    assert referral.id not in uow.referrals.referrals
    assert uow.published("child.erased") == [{"child_ref": str(child_ref), "at": "2025-01-15T10:00:00+00:00"}]
    assert uow.audited() == ["erasure.granted", "child.erased"]
    assert uow.audit_of("child.erased").details["removed"] == {"referrals": 1}


def test_an_erasure_under_a_hold_is_refused_naming_it_and_nothing_is_deleted(uow):
    referral = draft(uow)  # an open referral
    child_ref = child_ref_of(uow, referral)
    request = erasure.request_erasure(uow, OFFICER, child_ref, "asked by the parent")
    fresh(uow)
    with pytest.raises(Conflict, match="open_referral"):
        erasure.decide_erasure(uow, MANAGER, child_ref, request.id, grant=True, reason="asked")
    assert referral.id in uow.referrals.referrals and request.status is ErasureStatus.PENDING
    assert uow.messages == [] and uow.audit == []


def test_a_placement_tracking_reported_holds_the_record(uow):
    referral = cancelled(uow)
    child_ref = child_ref_of(uow, referral)
    erasure.placement_started(uow, {"placement_id": uuid.uuid4(), "referral_id": referral.id,
                                    "started_on": date(2025, 1, 6)})
    request = erasure.request_erasure(uow, OFFICER, child_ref, "asked by the parent")
    with pytest.raises(Conflict, match="live_placement"):
        erasure.decide_erasure(uow, MANAGER, child_ref, request.id, grant=True, reason="asked")


def test_only_the_manager_decides(uow):
    child_ref = child_ref_of(uow, cancelled(uow))
    request = erasure.request_erasure(uow, OFFICER, child_ref, "asked by the parent")
    with pytest.raises(Forbidden):
        erasure.decide_erasure(uow, OFFICER, child_ref, request.id, grant=True, reason="asked")
    with pytest.raises(NotFound):
        erasure.decide_erasure(uow, MANAGER, uuid.uuid4(), request.id, grant=True, reason="asked")


def test_a_refusal_is_recorded_with_its_reason_and_deletes_nothing(uow):
    referral = draft(uow)
    child_ref = child_ref_of(uow, referral)
    request = erasure.request_erasure(uow, OFFICER, child_ref, "asked by the parent")
    fresh(uow)
    erasure.decide_erasure(uow, MANAGER, child_ref, request.id, grant=False, reason="The referral is open.")
    assert request.status is ErasureStatus.REFUSED and referral.id in uow.referrals.referrals
    entry = uow.audit_of("erasure.refused")
    assert entry.reason == "The referral is open." and entry.details["holds"] == ["open_referral"]
    assert uow.messages == []
    assert ReferralStatus.DRAFT is referral.status
