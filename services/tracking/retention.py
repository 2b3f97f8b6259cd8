"""How long tracking keeps each kind of record (issue #17; docs/data-protection.md).

A placement, with its attendance, concerns, reviews, outcomes and spend, is an
education record about a child (by an opaque reference, never by name): kept
six years after the placement ended, then deleted.  A placement not yet ended
is kept.  A block contract (no child in it) is a copy of awards' procurement
record: kept as long as awards keeps it, six years after the contract's end.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from shared import reminders
from shared.retention import Period, RetentionRule, RetentionTable, delete_rows

CHILDREN = ("attendance_returns", "committed_spend", "concerns", "outcomes", "reviews")


PLACEMENT_YEARS = Period("DPS_RETENTION_PLACEMENT_YEARS", 6, "years", 3,
                         "PCR 2015 regulation 84: the call-off's record kept at least 3 years")


def retention(tables: Mapping[str, sa.Table]) -> RetentionTable:
    placements, contracts, duties = tables["placements"], tables["block_contracts"], tables["sixth_day_duties"]
    # A cancelled placement never started: it ended when it was cancelled.
    ended = sa.func.coalesce(placements.c.end_date, sa.func.date(placements.c.updated_at))
    return RetentionTable(
        rules=(
            RetentionRule(
                "placement", "a placement: its attendance, concerns, reviews, outcomes and committed spend",
                ("placements", *CHILDREN),
                PLACEMENT_YEARS, "the placement's end", "deleted",
                lambda s, cutoff, now, n: delete_rows(
                    s, placements, sa.and_(placements.c.status.in_(("ended", "cancelled")),
                                           ended < cutoff.date()), n,
                    children=[(tables[name], ["placement_id"]) for name in CHILDREN])),
            RetentionRule(
                "block_contract", "a copy of a block contract awards confirmed (its value is committed spend)",
                ("block_contracts",),
                Period("DPS_RETENTION_MINI_COMPETITION_YEARS", 6, "years", 3,
                       "PCR 2015 regulation 84: procurement records kept at least 3 years"),
                "the contract's end", "deleted",
                lambda s, cutoff, now, n: delete_rows(s, contracts, contracts.c.contract_end < cutoff.date(), n)),
            RetentionRule(
                "sixth_day", "a child's sixth-day deadline (the record that the duty was met, or missed)",
                ("sixth_day_duties",), PLACEMENT_YEARS, "the deadline", "deleted",
                lambda s, cutoff, now, n: delete_rows(s, duties, duties.c.full_time_provision_by < cutoff.date(),
                                                      n)),
            reminders.retention_rule(tables),
        ),
        kept={
            "providers": "a copy of the registry's providers' names, replaced by its events",
            "memberships": "a copy of the registry's current memberships, replaced by its events",
        },
    )
