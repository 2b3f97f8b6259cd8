"""Awards' copy of a child's referrals follows referrals' `child.corrected` and `child.erased`
(issue #17 item 5), on PostgreSQL: the corrected facts change for that child only; an erasure
deletes that child's referrals with their offers and leaves another child's, and the audit keeps
counts, never contents."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from services.awards import consumers, models
from shared.events import new_event
from tests.api.awards.awards_support import NOW, close, offer


@pytest.fixture
def rt(service):
    runtime = service("awards")
    runtime.clock = lambda: NOW
    return runtime


def _from_referrals(rt, type_: str, data: dict) -> None:
    with rt.unit_of_work() as uow:
        consumers.event_handlers()[type_](uow, new_event(type_, data, "referrals"))
        uow.commit()


def _copies(rt) -> dict:
    r = models.referrals
    with rt.engine.connect() as connection:
        return {row.child_ref: (row.ehcp, row.looked_after) for row in connection.execute(sa.select(r))}


def test_a_correction_changes_the_facts_of_that_child_only(rt):
    child, other = uuid.uuid4(), uuid.uuid4()
    close(rt, uuid.uuid4(), [], child_ref=child, ehcp=True, looked_after=False)
    close(rt, uuid.uuid4(), [], child_ref=other, ehcp=True, looked_after=False)
    _from_referrals(rt, "child.corrected", {"child_ref": str(child), "looked_after": True, "at": NOW.isoformat()})
    assert _copies(rt) == {child: (True, True), other: (True, False)}


def test_an_erasure_deletes_that_childs_referrals_and_offers_and_records_counts(rt):
    child, other = uuid.uuid4(), uuid.uuid4()
    close(rt, uuid.uuid4(), [offer(uuid.uuid4(), 3000)], child_ref=child)
    close(rt, uuid.uuid4(), [offer(uuid.uuid4(), 3000)], child_ref=other)
    _from_referrals(rt, "child.erased", {"child_ref": str(child), "at": NOW.isoformat()})
    assert list(_copies(rt)) == [other]
    with rt.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(models.offers)).scalar_one() == 1
        audit = rt.audit_table
        [entry] = connection.execute(sa.select(audit).where(audit.c.action == "child.erased")).all()
    assert entry.subject_id == str(child) and entry.details == {"removed": {"referrals": 1}}
