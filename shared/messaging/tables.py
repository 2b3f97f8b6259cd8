"""The tables the messaging layer keeps in every service's own database."""

from __future__ import annotations

import sqlalchemy as sa

from shared.db import UTCDateTime


def messaging_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    outbox = sa.Table(
        "outbox", metadata,
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("exchange", sa.String(100), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("published_at", UTCDateTime, nullable=True),
        sa.Index("ix_outbox_unpublished", "published_at", "position"),
    )
    inbox = sa.Table(
        "inbox", metadata,
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
    )
    job_runs = sa.Table(
        "job_runs", metadata,
        sa.Column("job", sa.String(100), primary_key=True),
        sa.Column("period", sa.String(50), primary_key=True),
        sa.Column("ran_at", UTCDateTime, nullable=False),
    )
    return {"outbox": outbox, "inbox": inbox, "job_runs": job_runs}
