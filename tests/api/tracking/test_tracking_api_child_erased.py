"""Tracking deletes a child's placements when referrals publishes `child.erased` (issue #17
item 5), on PostgreSQL: that child's placements with what hangs off them go, another child's
stay, and the audit keeps the count."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from services.tracking import models
from tests.api.tracking.tracking_support import NOW, awarded, deliver


def _placements(rt) -> list:
    with rt.engine.connect() as connection:
        return [row.child_ref for row in connection.execute(sa.select(models.placements))]


def test_an_erasure_deletes_that_childs_placements_only(rt):
    child, other = uuid.uuid4(), uuid.uuid4()
    awarded(rt, child_ref=str(child))
    awarded(rt, child_ref=str(child))
    awarded(rt, child_ref=str(other))
    deliver(rt, "child.erased", {"child_ref": str(child), "at": NOW.isoformat()}, producer="referrals")
    assert _placements(rt) == [other]
    with rt.engine.connect() as connection:
        audit = rt.audit_table
        [entry] = connection.execute(sa.select(audit).where(audit.c.action == "child.erased")).all()
    assert entry.details == {"removed": {"placements": 2}}
