"""Every read of a child's identity is recorded: who, when, which child,
through which endpoint (issue #17 item 6)."""

from __future__ import annotations

import pytest

from services.referrals import handlers
from services.referrals.domain import Membership, MembershipStatus
from tests.unit.referrals.fakes import FakeUnitOfWork
from tests.unit.referrals.test_referrals_handlers import ACORN, BIRCH, LINE, MANAGER, NOW, OFFICER, draft


@pytest.fixture
def uow():
    uow = FakeUnitOfWork(NOW)
    for p in (ACORN, BIRCH):
        uow.registry.admit(Membership(p, 1, MembershipStatus.ADMITTED, (LINE,), capacity=3))
    return uow


def test_reading_a_referral_records_who_read_which_child_and_through_what(uow):
    referral = draft(uow)
    view = handlers.referral_for_council(uow, OFFICER, referral.id)
    uow.audit.clear()
    handlers.record_identity_reads(uow, OFFICER, [view], through="GET /v1/referrals/x")
    [entry] = uow.audit
    assert (entry.action, entry.subject_type, entry.subject_id) == ("child.identity_read", "child", view.child_ref)
    assert entry.actor == OFFICER
    assert entry.details == {"referral_id": str(referral.id), "through": "GET /v1/referrals/x"}
    assert uow.committed


def test_a_list_records_one_read_per_child_shown(uow):
    draft(uow), draft(uow)
    shown = handlers.referrals_for_council(uow, MANAGER)
    uow.audit.clear()
    handlers.record_identity_reads(uow, MANAGER, shown, through="GET /v1/referrals")
    assert len(uow.audit) == 2 and {e.subject_id for e in uow.audit} == {v.child_ref for v in shown}
