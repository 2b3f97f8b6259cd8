"""Subject access (UK GDPR Article 15): everything the system holds about one child.

Each service answers for itself, through its own API: `GET
/v1/subject-access/CHILD_REF` (the manager only) returns what that service
holds about the child, gathered by the service's `subject_access` function
(`services/<service>/subject_access.py`), and records in its audit trail that
it was made and by whom.  A service that holds nothing about the child says
404; the registry, which holds no child's data at all, has no such endpoint.
`dps subject-access CHILD_REF` calls every service's endpoint and puts the
answers into one bundle: JSON, and a page a person can read.  Nothing reads
another service's database.
"""

from __future__ import annotations

import dataclasses
import html
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Session

# What a service gives of one child: named lists of records, or None when it holds nothing.
Gatherer = Callable[[Session, UUID], "dict[str, list[dict]] | None"]


def jsonable(value: Any) -> Any:
    """Stored values as JSON carries them (ids and Decimals as strings, times in ISO 8601)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a value a column maps to an object
        return jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, Mapping):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, Enum):
        return jsonable(value.value)
    return value


def rows(session: Session, table: sa.Table, where: sa.ColumnElement) -> list[dict]:
    """Every row of `table` matching `where`, every column, JSON-ready."""
    return [jsonable(dict(row._mapping)) for row in session.execute(sa.select(table).where(where))]


def audit_of(session: Session, audit: sa.Table, subjects: Iterable[tuple[str, Any]]) -> list[dict]:
    """The audit trail's entries about these subjects (type, id), oldest first."""
    subjects = [(kind, str(id_)) for kind, id_ in subjects]
    if not subjects:
        return []
    where = sa.or_(*(sa.and_(audit.c.subject_type == kind, audit.c.subject_id == id_) for kind, id_ in subjects))
    return [jsonable(dict(row._mapping)) for row in session.execute(
        sa.select(audit).where(where).order_by(audit.c.at, audit.c.id))]


def blueprint(gather: Gatherer):
    from flask import current_app
    from flask.views import MethodView
    from flask_smorest import Blueprint
    from marshmallow import Schema, fields

    from shared.auth import current_principal, requires
    from shared.errors import NotFound
    from shared.unit_of_work import AuditEntry

    class SubjectAccessOut(Schema):
        service = fields.String()
        child_ref = fields.UUID()
        made_at = fields.AwareDateTime()
        made_by = fields.String()
        records = fields.Dict(keys=fields.String(), values=fields.List(fields.Dict()))

    blp = Blueprint("subject_access", __name__, url_prefix="/v1",
                    description="Subject access: what this service holds about one child")

    @blp.route("/subject-access/<uuid:child_ref>")
    class SubjectAccess(MethodView):
        @blp.response(200, SubjectAccessOut)
        @requires("manager")
        def get(self, child_ref: UUID):
            """Everything this service holds about one child (the manager; the request is recorded)"""
            runtime, actor = current_app.extensions["dps"], current_principal()
            with runtime.unit_of_work(actor, read_only=True) as uow:
                records = gather(uow.session, child_ref)
            if records is None:
                raise NotFound(f"this service holds nothing about child {child_ref}")
            with runtime.unit_of_work(actor) as uow:
                uow.record(AuditEntry("subject_access.made", "child", child_ref,
                                      details={"kinds": sorted(records)}))
                uow.commit()
                made_at = uow.now()
            return {"service": runtime.definition.name, "child_ref": child_ref, "made_at": made_at,
                    "made_by": actor.id, "records": records}

    return blp


# --- the bundle: `dps subject-access` ---------------------------------------------------------


class UnknownChild(LookupError):
    pass


def bundle(child_ref: UUID, urls: Mapping[str, str], token: str, owner: str = "referrals") -> dict:
    """Every service's answer for one child, as one bundle.  The child is
    unknown if the service that holds children's identities (`owner`) holds
    nothing about it; another service holding nothing is an empty section."""
    sections = {}
    for service, base in urls.items():
        request = urllib.request.Request(f"{base}/v1/subject-access/{child_ref}",
                                         headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own services
                sections[service] = json.load(response)
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
            if service == owner:
                raise UnknownChild(f"no child {child_ref} is known to {owner}") from None
            sections[service] = None
    return {"child_ref": str(child_ref), "services": sections}


def render_html(found: dict) -> str:
    """The bundle as a page a person can read (every value escaped)."""
    out = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
           f"<title>Subject access: child {html.escape(found['child_ref'])}</title>",
           "<style>body{font-family:Arial,sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
           "td,th{border:1px solid #b1b4b6;padding:4px 8px;text-align:left;vertical-align:top}</style>",
           "</head><body>", f"<h1>Subject access: child {html.escape(found['child_ref'])}</h1>"]
    for service, section in found["services"].items():
        out.append(f"<h2>{html.escape(service)}</h2>")
        if section is None:
            out.append("<p>This service holds nothing about this child.</p>")
            continue
        out.append(f"<p>Made {html.escape(section['made_at'])} by {html.escape(section['made_by'])}.</p>")
        for kind, records in section["records"].items():
            out.append(f"<h3>{html.escape(kind)} ({len(records)})</h3>")
            for record in records:
                out.append("<table>")
                for key, value in record.items():
                    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                    out.append(f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(str(shown))}</td></tr>")
                out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)
