"""The provider registry service's tables (SQLAlchemy Core), in its own database.

The DPS is one row (id 1) and its lots four rows, seeded by the migration;
its revision changes with any of them.
An application keeps the form as submitted (JSON) and the questions it
answered, so later changes to a lot's questions do not change it.  A provider
is the admitted organisation; its memberships, pricing schedule versions,
compliance documents and SLA acceptances are rows of their own, filtered on
by the directory, the lists and the daily compliance job.
"""

import sqlalchemy as sa

from shared.db import UTCDateTime, new_metadata

metadata = new_metadata()

audit_log = metadata.tables["audit_log"]

dps = sa.Table(
    "dps", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # always 1: there is one DPS
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("start", sa.Date, nullable=False),
    sa.Column("term_years", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("sla_version", sa.String(50), nullable=False),
    sa.Column("decision_working_days", sa.Integer, nullable=False),
    sa.Column("extended_decision_working_days", sa.Integer, nullable=False),
    sa.Column("closed_at", UTCDateTime, nullable=True),
    # A new random value whenever the DPS or a lot changes: what an in-process
    # copy of the DPS and its lots is checked against (repository.get_dps).
    sa.Column("revision", sa.Uuid, nullable=False),
)

lots = sa.Table(
    "lots", metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("questions", sa.JSON, nullable=False),  # [{kind, id, text, pass_answer | pass_mark, ...}]
)

applications = sa.Table(
    "applications", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("provider_id", sa.Uuid, nullable=False, index=True),
    sa.Column("organisation_name", sa.String(300), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("form", sa.JSON, nullable=False),
    sa.Column("questions", sa.JSON, nullable=False),  # lot -> questions as published when it applied
    sa.Column("marks", sa.JSON, nullable=False),  # [{lot, question_id, score}]
    sa.Column("submitted_at", UTCDateTime, nullable=False),
    sa.Column("submitted_on", sa.Date, nullable=False),
    sa.Column("working_days", sa.Integer, nullable=False),
    sa.Column("extended_working_days", sa.Integer, nullable=False),
    sa.Column("extension_reason", sa.Text, nullable=True),
    sa.Column("extended_at", UTCDateTime, nullable=True),
    sa.Column("due_on", sa.Date, nullable=False, index=True),  # kept for the overdue list
    sa.Column("decision", sa.JSON, nullable=True),
    sa.Column("decided_at", UTCDateTime, nullable=True),
    # One pending application per provider, even when two requests race.
    sa.Index("uq_applications_one_pending", "provider_id", unique=True,
             postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'")),
)

providers = sa.Table(
    "providers", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(300), nullable=False, index=True),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("postcode", sa.String(10), nullable=False),
    sa.Column("companies_house_number", sa.String(20), nullable=True),
    sa.Column("charity_number", sa.String(20), nullable=True),
    sa.Column("registration_status", sa.String(30), nullable=False),
    sa.Column("urn", sa.String(6), nullable=True),
    sa.Column("ofsted_grade", sa.String(30), nullable=True),
    sa.Column("safeguarding_lead", sa.JSON, nullable=False),  # {name, email, phone}
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

memberships = sa.Table(
    "memberships", metadata,
    sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.id"), primary_key=True),
    sa.Column("lot", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("admitted_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("since", sa.Date, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("automatic", sa.Boolean, nullable=False),  # suspended by the compliance check
    sa.Column("capacity", sa.Integer, nullable=False),  # places declared for the lot
    sa.Index("ix_memberships_lot_status", "lot", "status"),
)

pricing_schedules = sa.Table(
    "pricing_schedules", metadata,
    sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.id"), primary_key=True),
    sa.Column("lot", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("lines", sa.JSON, nullable=False),  # [{description, unit, staffing_ratio, maximum_price_pence}]
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("proposed_at", UTCDateTime, nullable=False),
    sa.Column("decided_at", UTCDateTime, nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("announced", sa.Boolean, nullable=False),  # pricing_schedule.effective published
)

compliance_documents = sa.Table(
    "compliance_documents", metadata,
    sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.id"), primary_key=True),
    sa.Column("kind", sa.String(30), primary_key=True),
    sa.Column("reference", sa.String(500), nullable=False),
    sa.Column("expires_on", sa.Date, nullable=False, index=True),
)

sla_acceptances = sa.Table(
    "sla_acceptances", metadata,
    sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.id"), primary_key=True),
    sa.Column("version", sa.String(50), primary_key=True),
    sa.Column("accepted_on", sa.Date, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),  # the order accepted
)
