"""The audit trail: who did what, when, to what, and why.

Rows are only ever inserted, in the same transaction as the change they
record; no API updates or deletes them."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shared.db import UTCDateTime, utcnow


def audit_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "audit_log", metadata,
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),  # the token's sub, or "system:<job>"
        sa.Column("actor_roles", sa.String(200), nullable=False, default=""),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("subject_type", sa.String(100), nullable=False),
        sa.Column("subject_id", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("details", sa.JSON, nullable=True),
        sa.Column("correlation_id", sa.String(200), nullable=True),
        sa.Index("ix_audit_subject", "subject_type", "subject_id"),
        sa.Index("ix_audit_at", "at"),
    )


def record(session: Session, table: sa.Table, *, actor: str, action: str, subject_type: str, subject_id: Any,
           roles: Any = (), reason: str | None = None, details: dict | None = None, at=None) -> None:
    from shared import context

    session.execute(table.insert().values(
        id=uuid.uuid4(), at=at or utcnow(), actor=str(actor)[:200], actor_roles=",".join(sorted(roles))[:200],
        action=action,
        subject_type=subject_type, subject_id=str(subject_id), reason=reason, details=details,
        correlation_id=context.correlation_id.get()))


def entries(session: Session, table: sa.Table, *, subject_type: str | None = None, subject_id: str | None = None,
            limit: int = 200, offset: int = 0) -> list[dict]:
    query = sa.select(table).order_by(table.c.at.desc(), table.c.id)
    if subject_type:
        query = query.where(table.c.subject_type == subject_type)
    if subject_id:
        query = query.where(table.c.subject_id == subject_id)
    return [dict(row._mapping) for row in session.execute(query.limit(limit).offset(offset))]


# -- the one read-only endpoint every service serves: GET /v1/audit (manager) ---------

def blueprint():
    """GET /v1/audit: the manager reads the trail, newest first.  There is no
    endpoint that changes or deletes an entry."""
    from flask import current_app
    from flask.views import MethodView
    from flask_smorest import Blueprint
    from marshmallow import Schema, fields, validate

    from shared.auth import requires
    from shared.paging import LINK_DOC, Page, Paging

    class AuditQuery(Paging):
        subject_type = fields.String(validate=validate.Length(max=100))
        subject_id = fields.String(validate=validate.Length(max=100))

    class AuditEntry(Schema):
        id = fields.UUID()
        at = fields.AwareDateTime()
        actor = fields.String()
        actor_roles = fields.String()
        action = fields.String()
        subject_type = fields.String()
        subject_id = fields.String()
        reason = fields.String(allow_none=True)
        details = fields.Dict(allow_none=True)
        correlation_id = fields.String(allow_none=True)

    blp = Blueprint("audit", __name__, url_prefix="/v1", description="The audit trail: who did what, when and why")

    @blp.route("/audit")
    class AuditTrail(MethodView):
        @blp.arguments(AuditQuery, location="query")
        @blp.response(200, AuditEntry(many=True), headers=LINK_DOC)
        @requires("manager")
        def get(self, query):
            """Every decision and change: who, when, what, why (newest first)"""
            runtime, page = current_app.extensions["dps"], Page.take(query)
            with runtime.unit_of_work() as uow:
                return page.respond(entries(uow.session, runtime.audit_table, **query, limit=page.fetch,
                                            offset=page.offset))

    return blp
