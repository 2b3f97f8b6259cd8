"""A child's data corrected or erased in referrals, applied to awards' copy (issue #17 item 5).

- `child.corrected`: the profile facts awards keeps of the child's referrals
  and off-DPS exceptions (`ehcp`, `looked_after`) take their corrected values.
- `child.erased`: the manager granted the erasure (referrals decided it, and
  the holds on it): awards deletes its copy of the child's referrals with
  their offers, awards, any place in a block contract and any off-DPS
  exception, and records the
  counts (never the contents) in its audit trail.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from marshmallow import EXCLUDE, Schema, fields

from services.awards import models
from services.awards.retention import CALLOFF_PARTS
from shared.retention import BATCH, delete_rows
from shared.unit_of_work import AuditEntry, UnitOfWork

FACTS = ("ehcp", "looked_after")


class ChildCorrected(Schema):
    class Meta:
        unknown = EXCLUDE

    child_ref = fields.UUID(required=True)
    ehcp = fields.Boolean()
    looked_after = fields.Boolean()


class ChildErased(Schema):
    class Meta:
        unknown = EXCLUDE

    child_ref = fields.UUID(required=True)


def child_corrected(uow: UnitOfWork, data: Mapping) -> None:
    facts = {name: data[name] for name in FACTS if name in data}
    if facts:
        for table in (models.referrals, models.off_dps_placements):
            uow.session.execute(table.update().where(table.c.child_ref == data["child_ref"]).values(**facts))


def child_erased(uow: UnitOfWork, data: Mapping) -> None:
    referrals, allocations = models.referrals, models.block_allocations
    of_child = referrals.c.child_ref == data["child_ref"]
    places = uow.session.execute(allocations.delete().where(
        allocations.c.referral_id.in_(sa.select(referrals.c.referral_id).where(of_child)))
    ).rowcount
    removed = {"referrals": 0}
    while done := delete_rows(uow.session, referrals, of_child, BATCH,
                              children=[(models.metadata.tables[name], ["referral_id"]) for name in CALLOFF_PARTS]):
        removed["referrals"] += done
    removed["block_places"] = places
    off_dps = models.off_dps_placements
    removed["off_dps_placements"] = uow.session.execute(
        off_dps.delete().where(off_dps.c.child_ref == data["child_ref"])).rowcount
    uow.record(AuditEntry("child.erased", "child", data["child_ref"],
                          details={"removed": {kind: n for kind, n in removed.items() if n}}))
