"""What awards holds about one child, for subject access (shared/subject_access.py):
its copy of the child's referrals (needs as awards saw them), the offers
ranked, the awards, any place in a block contract and any off-DPS exception,
with their audit."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.orm import Session

from services.awards import models
from shared.subject_access import audit_of, rows


def gather(session: Session, child_ref: UUID) -> dict[str, list[dict]] | None:
    t = models.metadata.tables
    referrals = rows(session, t["referrals"], t["referrals"].c.child_ref == child_ref)
    off_dps = rows(session, t["off_dps_placements"], t["off_dps_placements"].c.child_ref == child_ref)
    if not referrals and not off_dps:
        return None
    ids = [UUID(str(r["referral_id"])) for r in referrals + off_dps]
    awards = rows(session, t["awards"], t["awards"].c.referral_id.in_(ids))
    places = rows(session, t["block_allocations"], t["block_allocations"].c.referral_id.in_(ids))
    subjects = [("referral", i) for i in ids] + [("award", a["award_id"]) for a in awards]
    return {
        "referrals": referrals,
        "offers": rows(session, t["offers"], t["offers"].c.referral_id.in_(ids)),
        "awards": awards,
        "block_places": places,
        "off_dps_placements": off_dps,
        "audit": audit_of(session, t["audit_log"], subjects),
    }
