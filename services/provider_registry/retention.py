"""How long the registry keeps each kind of record (issue #17; docs/data-protection.md).

Applications and providers' records are procurement records: kept six years
after the decision, or after the provider's last membership ended (the
Limitation Act 1980 for claims on the contract), never under the three years
PCR 2015 regulation 84 asks for.  They hold a few people's details (the
safeguarding lead, the contact on the application), nothing of any child.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shared import reminders
from shared.retention import Period, RetentionRule, RetentionTable, delete_rows, older_than

PROCUREMENT = ("PCR 2015 regulation 84: procurement records kept at least 3 years")


def _providers_gone(tables: Mapping[str, sa.Table]):
    providers, memberships, applications = tables["providers"], tables["memberships"], tables["applications"]

    def remove(session: Session, cutoff: datetime, now: datetime, limit: int) -> int:
        current = sa.select(memberships.c.provider_id).where(sa.and_(
            memberships.c.status != "removed", sa.or_(memberships.c.ends_on.is_(None),
                                                      memberships.c.ends_on >= cutoff.date())))
        recent = sa.select(memberships.c.provider_id).where(memberships.c.since >= cutoff.date())
        applying = sa.select(applications.c.provider_id).where(
            applications.c.provider_id.is_not(None),
            sa.or_(applications.c.decided_at.is_(None), applications.c.decided_at >= cutoff))
        due = sa.and_(providers.c.updated_at < cutoff, providers.c.id.not_in(current),
                      providers.c.id.not_in(recent), providers.c.id.not_in(applying))
        return delete_rows(session, providers, due, limit, children=[
            (tables[name], ["provider_id"])
            for name in ("memberships", "pricing_schedules", "compliance_documents", "sla_acceptances",
                         "declaration_requests")])

    return remove


def retention(tables: Mapping[str, sa.Table]) -> RetentionTable:
    applications = tables["applications"]
    return RetentionTable(
        rules=(
            RetentionRule(
                "application", "a request to participate: the form, answers, marks and decision", ("applications",),
                Period("DPS_RETENTION_APPLICATION_YEARS", 6, "years", 3, PROCUREMENT),
                "the decision", "deleted",
                lambda s, cutoff, now, n: delete_rows(s, applications,
                                                      older_than(applications.c.decided_at, cutoff), n)),
            RetentionRule(
                "provider", "a provider no longer on the DPS: its details, memberships, pricing schedules, "
                "compliance evidence, SLA acceptances and renewed self-declarations",
                ("providers", "memberships", "pricing_schedules", "compliance_documents", "sla_acceptances",
                 "declaration_requests"),
                Period("DPS_RETENTION_PROVIDER_YEARS", 6, "years", 3, PROCUREMENT),
                "the end of its last membership", "deleted", _providers_gone(tables)),
            reminders.retention_rule(tables),
        ),
        kept={
            "dps": "the DPS record itself: the arrangement every membership and call-off refers to",
            "lots": "the DPS's lots and their qualification questions",
        },
    )
