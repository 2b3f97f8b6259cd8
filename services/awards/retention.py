"""How long awards keeps each kind of record (issue #17; docs/data-protection.md).

Call-offs and mini-competitions are procurement records: kept six years after
the award or the contract's end (the Limitation Act 1980 for claims on a
contract), never under the three years PCR 2015 regulation 84 asks for.  They
carry no child's identity: a referral here is its opaque reference and needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shared.retention import Period, RetentionRule, RetentionTable, delete_rows

CALLOFF_PARTS = ("awards", "offers")  # what hangs off awards' copy of a referral (an erasure ends them too)
PROCUREMENT = "PCR 2015 regulation 84: procurement records kept at least 3 years"


def _calloffs(tables: Mapping[str, sa.Table]):
    referrals, awards = tables["referrals"], tables["awards"]

    def remove(session: Session, cutoff: datetime, now: datetime, limit: int) -> int:
        last = sa.func.coalesce(
            sa.select(sa.func.max(awards.c.awarded_at)).where(awards.c.referral_id == referrals.c.referral_id)
            .scalar_subquery(), referrals.c.cancelled_at, referrals.c.closed_at)
        placed = sa.select(tables["block_allocations"].c.referral_id)
        due = sa.and_(last.is_not(None), last < cutoff, referrals.c.referral_id.not_in(placed))
        return delete_rows(session, referrals, due, limit,
                           children=[(tables[name], ["referral_id"]) for name in CALLOFF_PARTS])

    return remove


def _competitions(tables: Mapping[str, sa.Table]):
    opportunities, contracts, bids = tables["opportunities"], tables["block_contracts"], tables["bids"]
    allocations = tables["block_allocations"]

    def remove(session: Session, cutoff: datetime, now: datetime, limit: int) -> int:
        ended = sa.func.coalesce(
            sa.select(sa.func.max(contracts.c.contract_end)).where(
                contracts.c.opportunity_id == opportunities.c.opportunity_id).scalar_subquery(),
            opportunities.c.contract_end)
        due = sa.and_(ended < cutoff.date(), sa.or_(opportunities.c.awarded_at.is_(None),
                                                    opportunities.c.awarded_at < cutoff))
        chosen = [row[0] for row in session.execute(
            sa.select(opportunities.c.opportunity_id).where(due).limit(limit))]
        if not chosen:
            return 0
        their_bids = sa.select(bids.c.bid_id).where(bids.c.opportunity_id.in_(chosen))
        their_contracts = sa.select(contracts.c.contract_id).where(contracts.c.opportunity_id.in_(chosen))
        for scores in (tables["evaluator_scores"], tables["moderated_scores"]):
            session.execute(scores.delete().where(scores.c.bid_id.in_(their_bids)))
        session.execute(allocations.delete().where(allocations.c.contract_id.in_(their_contracts)))
        for child in (bids, contracts, tables["invitations"], tables["interest_declarations"]):
            session.execute(child.delete().where(child.c.opportunity_id.in_(chosen)))
        session.execute(opportunities.delete().where(opportunities.c.opportunity_id.in_(chosen)))
        return len(chosen)

    return remove


def retention(tables: Mapping[str, sa.Table]) -> RetentionTable:
    ended, off_dps = tables["ended_placements"], tables["off_dps_placements"]
    return RetentionTable(
        rules=(
            RetentionRule(
                "calloff", "a call-off: the referral's needs as awards saw them, the offers, the ranking and the award",
                ("referrals", "offers", "awards"),
                Period("DPS_RETENTION_CALLOFF_YEARS", 6, "years", 3, PROCUREMENT),
                "the award (or the referral's cancelling)", "deleted", _calloffs(tables)),
            RetentionRule(
                "mini_competition",
                "a mini-competition: invitations, bids, evaluators' declarations, scores, block contracts and places",
                ("opportunities", "invitations", "bids", "evaluator_scores", "moderated_scores",
                 "block_contracts", "block_allocations", "interest_declarations"),
                Period("DPS_RETENTION_MINI_COMPETITION_YEARS", 6, "years", 3, PROCUREMENT),
                "the end of its contracts", "deleted", _competitions(tables)),
            RetentionRule(
                "off_dps_placement",
                "an off-DPS exception for the manager: the provider, the terms, the checks and the decision",
                ("off_dps_placements",),
                Period("DPS_RETENTION_OFF_DPS_PLACEMENT_YEARS", 6, "years", 3, PROCUREMENT),
                "the manager's decision (or the exception, while undecided)", "deleted",
                lambda s, cutoff, now, n: delete_rows(s, off_dps, sa.func.coalesce(
                    off_dps.c.decided_at, off_dps.c.recorded_at) < cutoff, n)),
            RetentionRule(
                "ended_placement", "that a placement ended early, and when (for the open data)", ("ended_placements",),
                Period("DPS_RETENTION_ENDED_PLACEMENT_YEARS", 6, "years", 3, PROCUREMENT),
                "the placement's end", "deleted",
                lambda s, cutoff, now, n: delete_rows(s, ended, ended.c.ended_on < cutoff.date(), n)),
        ),
        kept={
            "providers": "a copy of the registry's current record of each provider, replaced by its events",
            "provider_lots": "a copy of the registry's current memberships and capacity, replaced by its events",
            "pricing_lines": "a copy of the registry's current maximum prices, replaced by its events",
            "dps_records": "a copy of the registry's DPS records (regime, last day, award criteria), replaced by its "
                           "events",
        },
    )
