"""How long referrals keeps each kind of record (issue #17; docs/data-protection.md).

A referral (the child's identity, the pseudonymised profile, the offers and
their assessment) is kept until the child is 25, or 31 where the profile
records an EHCP (SEN records: the IRMS toolkit for schools and local
authorities), and never less than three years after the award, which
procurement law asks for (PCR 2015 regulation 84).  Webhook bodies go 30 days
after delivery.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shared.retention import AUDIT_PERIOD, Period, RetentionRule, RetentionTable, delete_rows, older_than

PROCUREMENT_MINIMUM_YEARS = 3  # PCR 2015 regulation 84: procurement records kept 3 years after award


def _referrals_of_children_over(tables: Mapping[str, sa.Table], ehcp: bool):
    referrals, children = tables["referrals"], tables["referral_children"]

    def remove(session: Session, cutoff: datetime, now: datetime, limit: int) -> int:
        decided = sa.func.coalesce(referrals.c.awarded_at, referrals.c.cancelled_at, referrals.c.off_dps_at,
                                   referrals.c.created_at)
        procurement_cutoff = now.replace(year=now.year - PROCUREMENT_MINIMUM_YEARS)
        has_ehcp = sa.type_coerce(referrals.c.profile, sa.JSON)["ehcp"].as_boolean()
        due = sa.and_(
            referrals.c.id.in_(sa.select(children.c.referral_id).where(children.c.date_of_birth < cutoff.date())),
            decided < procurement_cutoff,
            has_ehcp if ehcp else sa.not_(has_ehcp))
        return delete_referrals(session, tables, due, limit)

    return remove


# What hangs off a referral, deleted before it (in this order: an assessment names an offer).
REFERRAL_PARTS = ("assessments", "offers", "declines", "invitations", "referral_questions", "webhook_deliveries",
                  "child_placements", "referral_children")


def delete_referrals(session: Session, tables: Mapping[str, sa.Table], where: sa.ColumnElement, limit: int) -> int:
    """Delete up to `limit` referrals matching `where`, with everything of them (the child's identity
    included), and the index entry of a child left with no referral; how many referrals went.
    The retention rule and an erasure (services/referrals/erasure.py) both end referrals through it."""
    children = tables["referral_children"]
    removed = delete_rows(session, tables["referrals"], where, limit,
                          children=[(tables[name], ["referral_id"]) for name in REFERRAL_PARTS])
    index = tables["children"]
    session.execute(index.delete().where(index.c.child_ref.not_in(sa.select(children.c.child_ref))))
    return removed


def retention(tables: Mapping[str, sa.Table]) -> RetentionTable:
    deliveries, requests = tables["webhook_deliveries"], tables["erasure_requests"]
    referral_tables = ("referrals", "referral_children", "children", "offers", "assessments", "declines",
                       "invitations", "referral_questions", "child_placements")
    return RetentionTable(
        rules=(
            RetentionRule(
                "referral", "a referral: the child's identity, the pseudonymised profile, questions, invitations, "
                "offers, declines and their assessment", referral_tables,
                Period("DPS_RETENTION_REFERRAL_AGE_YEARS", 25, "years", 18,
                       "kept at least until the child is an adult"),
                "the child's date of birth (and at least 3 years after the award: PCR 2015 reg. 84)", "deleted",
                _referrals_of_children_over(tables, ehcp=False)),
            RetentionRule(
                "referral_ehcp", "a referral whose profile records an EHCP (a SEN record)", referral_tables,
                Period("DPS_RETENTION_REFERRAL_EHCP_AGE_YEARS", 31, "years", 25,
                       "SEN records: the date of birth plus 25 years at least (IRMS toolkit)"),
                "the child's date of birth (and at least 3 years after the award: PCR 2015 reg. 84)", "deleted",
                _referrals_of_children_over(tables, ehcp=True)),
            RetentionRule(
                "webhook_delivery", "webhook deliveries to providers' systems, with their bodies",
                ("webhook_deliveries",),
                Period("DPS_RETENTION_WEBHOOK_DELIVERY_DAYS", 30, "days", 1, "a day at least, to investigate"),
                "delivery, or giving up", "deleted",
                lambda s, cutoff, now, n: delete_rows(s, deliveries, sa.or_(
                    older_than(deliveries.c.delivered_at, cutoff), older_than(deliveries.c.gave_up_at, cutoff)), n)),
            RetentionRule(
                "erasure_request", "a request to erase a child's data and its decision (by the child's opaque "
                "reference; never the erased data)", ("erasure_requests",), AUDIT_PERIOD,
                "the request", "deleted",
                lambda s, cutoff, now, n: delete_rows(s, requests, requests.c.requested_at < cutoff, n)),
        ),
        kept={
            "providers": "a copy of the registry's current record of each provider, replaced by its events",
            "memberships": "a copy of the registry's current memberships, replaced by its events",
            "pricing_schedules": "a copy of the registry's current maximum prices, replaced by its events",
            "webhooks": "a provider's current webhook address: kept while registered, deleted when removed",
            "dps_records": "a copy of the registry's DPS records (regime, last day, agreed window), replaced by its "
                           "events",
            "sla_acceptances": "a copy of which providers accepted which DPS terms, replaced by the registry's events",
        },
    )
