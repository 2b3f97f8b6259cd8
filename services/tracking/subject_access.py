"""What tracking holds about one child, for subject access (shared/subject_access.py):
every placement with its attendance, concerns, reviews (with the child's and
the family's views), outcomes and spend, the child's sixth-day deadlines, and
their audit."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.orm import Session

from services.tracking import models
from shared.subject_access import audit_of, rows

PARTS = ("attendance_returns", "concerns", "reviews", "outcomes", "committed_spend")


def gather(session: Session, child_ref: UUID) -> dict[str, list[dict]] | None:
    t = models.metadata.tables
    placements = rows(session, t["placements"], t["placements"].c.child_ref == child_ref)
    duties = rows(session, t["sixth_day_duties"], t["sixth_day_duties"].c.child_ref == child_ref)
    if not placements and not duties:
        return None
    ids = [UUID(str(p["placement_id"])) for p in placements]
    found = {"placements": placements, "sixth_day_duties": duties}
    for part in PARTS:
        found[part] = rows(session, t[part], t[part].c.placement_id.in_(ids))
    found["audit"] = audit_of(session, t["audit_log"], [("placement", i) for i in ids])
    return found
