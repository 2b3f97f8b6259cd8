"""What referrals holds about one child, for subject access (shared/subject_access.py):
the child's identity, every referral with its profile, questions, invitations,
offers, declines and assessments, the webhook bodies sent about it, its
placements as tracking reported them, the requests to erase its data, and the
audit trail about the child and its referrals (who read or changed what)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.orm import Session

from services.referrals import models
from shared.subject_access import audit_of, rows


def gather(session: Session, child_ref: UUID) -> dict[str, list[dict]] | None:
    t = models.metadata.tables
    identities = rows(session, t["referral_children"], t["referral_children"].c.child_ref == child_ref)
    if not identities:
        return None
    ids = [UUID(str(r["referral_id"])) for r in identities]
    of_them = lambda table: rows(session, t[table], t[table].c.referral_id.in_(ids))  # noqa: E731
    return {
        "identity": identities,
        "referrals": rows(session, t["referrals"], t["referrals"].c.id.in_(ids)),
        "questions": of_them("referral_questions"),
        "invitations": of_them("invitations"),
        "offers": of_them("offers"),
        "declines": of_them("declines"),
        "assessments": of_them("assessments"),
        "webhook_deliveries": of_them("webhook_deliveries"),
        "placements": of_them("child_placements"),
        "erasure_requests": rows(session, t["erasure_requests"], t["erasure_requests"].c.child_ref == child_ref),
        "audit": audit_of(session, t["audit_log"], [("child", child_ref), *(("referral", i) for i in ids)]),
    }



