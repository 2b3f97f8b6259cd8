"""The notifications service's tables, in its own database.

- `providers`: the registry's providers as this service needs them: the
  name and the notification addresses (a copy, replaced by its events);
- `referrals` and `responses`: published referrals still open, and which
  invited providers have answered (for the reminder 24 hours before);
- `deliveries`: one row per message to one address because of one event
  (unique on the three), with what became of it;
- `preferences`: the optional messages a person has turned off;
- `dead_letter_depths`: how many dead letters each service's queue held when
  last looked at (the manager hears when one grows).
"""

import sqlalchemy as sa

from services.notifications.domain import DeliveryStatus
from shared.db import Choice, UTCDateTime, new_metadata

metadata = new_metadata()

providers = sa.Table(
    "providers", metadata,
    sa.Column("provider_id", sa.Uuid, primary_key=True),
    sa.Column("provider_name", sa.String(200), nullable=False),
    sa.Column("addresses", sa.JSON, nullable=False, default=list),  # [email, ...] as the registry has them
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

referrals = sa.Table(
    "referrals", metadata,
    sa.Column("referral_id", sa.Uuid, primary_key=True),
    sa.Column("lot", sa.Integer, nullable=False),
    sa.Column("team", sa.String(50), nullable=False),
    sa.Column("deadline", UTCDateTime, nullable=False),
    sa.Column("hours_per_week", sa.Numeric(6, 2), nullable=False),
    sa.Column("start_date", sa.Date, nullable=True),
    sa.Column("invited_provider_ids", sa.JSON, nullable=False, default=list),
    sa.Column("reminded", sa.Boolean, nullable=False, default=False),
    sa.Column("published_at", UTCDateTime, nullable=False),
    sa.Index("ix_referrals_deadline", "reminded", "deadline"),
    # issue #18: the officer who published it (their token's sub), and whether the deadline's notice went
    sa.Column("published_by", sa.String(200), nullable=True),
    sa.Column("closed_notified", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Index("ix_referrals_closed", "closed_notified", "deadline"),
)

responses = sa.Table(
    "responses", metadata,
    sa.Column("referral_id", sa.Uuid, primary_key=True),
    sa.Column("provider_id", sa.Uuid, primary_key=True),
    sa.Column("responded_at", UTCDateTime, nullable=False),
    sa.Column("kind", sa.String(10), nullable=False, default="offer", server_default="offer"),  # offer | declined
)

deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("delivery_id", sa.Uuid, primary_key=True),
    sa.Column("event_id", sa.Uuid, nullable=False),
    sa.Column("event_type", sa.String(80), nullable=False),
    sa.Column("template", sa.String(80), nullable=False),
    sa.Column("audience", sa.String(20), nullable=False),
    sa.Column("recipient_key", sa.String(100), nullable=False),
    sa.Column("address", sa.String(254), nullable=False),
    sa.Column("values", sa.JSON, nullable=False),  # what the template is filled with: no child's identity
    sa.Column("status", Choice(DeliveryStatus, 10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=True),
    sa.Column("sent_at", UTCDateTime, nullable=True),
    sa.Column("failed_at", UTCDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("reference", sa.String(200), nullable=True),  # the mail server's or Notify's id
    sa.UniqueConstraint("event_id", "template", "address", name="uq_deliveries_once"),
    sa.Index("ix_deliveries_due", "status", "next_attempt_at"),
    sa.Index("ix_deliveries_created", "created_at"),
)

dead_letter_depths = sa.Table(  # issue #18: each service's dead-letter queue as last seen, to tell the manager
    "dead_letter_depths", metadata,
    sa.Column("queue", sa.String(200), primary_key=True),
    sa.Column("depth", sa.Integer, nullable=False),
    sa.Column("checked_at", UTCDateTime, nullable=False),
)

preferences = sa.Table(
    "preferences", metadata,
    sa.Column("recipient_key", sa.String(100), primary_key=True),
    sa.Column("template", sa.String(80), primary_key=True),
    sa.Column("turned_off_by", sa.String(200), nullable=False),
    sa.Column("turned_off_at", UTCDateTime, nullable=False),
)
