"""A child's data erased in referrals, applied to tracking's copy (issue #17 item 5).

`child.erased`: the manager granted the erasure (referrals decided it, and the
holds on it: a live placement or one ended within the years its record is
kept refuses it there): tracking deletes the child's placements with their
attendance, concerns, reviews, outcomes and spend, and its sixth-day deadlines, and records the counts
(never the contents) in its audit trail.  Tracking keeps none of the facts
`child.corrected` carries (`ehcp`, `looked_after`), so it does not read it.
"""

from __future__ import annotations

from collections.abc import Mapping

from marshmallow import EXCLUDE, Schema, fields

from services.tracking import models
from services.tracking.retention import CHILDREN
from shared.retention import BATCH, delete_rows
from shared.unit_of_work import AuditEntry, UnitOfWork


class ChildErased(Schema):
    class Meta:
        unknown = EXCLUDE

    child_ref = fields.UUID(required=True)


def child_erased(uow: UnitOfWork, data: Mapping) -> None:
    placements = models.placements
    removed = 0
    while done := delete_rows(uow.session, placements, placements.c.child_ref == data["child_ref"], BATCH,
                              children=[(models.metadata.tables[name], ["placement_id"]) for name in CHILDREN]):
        removed += done
    duties = uow.session.execute(models.sixth_day_duties.delete().where(
        models.sixth_day_duties.c.child_ref == data["child_ref"])).rowcount
    counts = {name: count for name, count in (("placements", removed), ("sixth_day_duties", duties)) if count}
    uow.record(AuditEntry("child.erased", "child", data["child_ref"], details={"removed": counts}))
