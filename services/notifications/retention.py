"""How long notifications keeps each kind of record (docs/data-protection.md).

A delivery names an address and a message about an organisation, never a
child: kept two years (the manager answers "was the provider told?"), then
deleted.  A referral's copy goes a year after its deadline."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from shared.retention import Period, RetentionRule, RetentionTable, delete_rows


def retention(tables: Mapping[str, sa.Table]) -> RetentionTable:
    deliveries, referrals = tables["deliveries"], tables["referrals"]
    return RetentionTable(
        rules=(
            RetentionRule(
                "delivery", "a message sent (or not) to one address: the delivery log",
                ("deliveries",),
                Period("DPS_RETENTION_DELIVERY_YEARS", 2, "years", 1,
                       "long enough to show a provider was told of each call-off (PCR 2015 reg. 84)"),
                "the delivery's creation", "deleted",
                lambda s, cutoff, now, n: delete_rows(s, deliveries, deliveries.c.created_at < cutoff, n)),
            RetentionRule(
                "referral_copy", "a published referral's lot, team and deadline, and who answered (for reminders)",
                ("referrals", "responses"),
                Period("DPS_RETENTION_REFERRAL_COPY_DAYS", 365, "days", 1, "needed only until the deadline"),
                "the referral's deadline", "deleted",
                lambda s, cutoff, now, n: delete_rows(s, referrals, referrals.c.deadline < cutoff, n,
                                                      children=[(tables["responses"], ["referral_id"])])),
        ),
        kept={
            "providers": "a copy of the registry's providers' names and notification addresses, replaced by its "
                         "events",
            "preferences": "a person's choice of optional messages, until they change it",
            "dead_letter_depths": "how many dead letters each service's queue held when last looked at: one row "
                                  "a service, replaced each time",
        },
    )
