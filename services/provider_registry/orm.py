"""The registry's aggregates mapped onto its tables (models.py), after
cosmicpython's `adapters/orm.py`: the domain classes stay plain Python, the
Session tracks what changes and writes only that.

- DPS records (one row each) and their lots (rows keyed by DPS and number, read with it by the repository);
- Application, its deadline a composite of five columns; `due_on`,
  `organisation_name` and `decided_at` are columns kept for queries, written
  from the domain's values whenever the row is;
- Provider, its organisation and registration composites of its own columns,
  with its memberships (keyed by lot), pricing schedule versions, compliance
  documents (keyed by kind), SLA acceptances (in the order accepted) and
  requests for a renewed self-declaration (in the order asked).

Call `start_mappers()` when the service is built (it does nothing the second
time): never at import time.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import attribute_keyed_dict, composite, registry, relationship

from services.provider_registry import models
from services.provider_registry.domain import (
    DPS,
    Application,
    ComplianceDocument,
    DecisionDeadline,
    DeclarationRequest,
    Lot,
    Membership,
    Organisation,
    PricingSchedule,
    Provider,
    Registration,
    SlaAcceptance,
)

mapper_registry = registry()
_started = threading.Lock()


def start_mappers() -> None:
    with _started:
        if getattr(start_mappers, "done", False):
            return
        _map()
        start_mappers.done = True  # type: ignore[attr-defined]


def _map() -> None:
    m = models
    mapper_registry.map_imperatively(Lot, m.lots)
    # The lots are rows of their own keyed by (DPS, number): the repository
    # reads them with their DPS, and the Session tracks each.
    mapper_registry.map_imperatively(DPS, m.dps)

    mapper_registry.map_imperatively(Application, m.applications, properties={
        "_organisation_name": m.applications.c.organisation_name,
        "_dps_id": m.applications.c.dps_id,
        "_due_on": m.applications.c.due_on,
        "_decided_at": m.applications.c.decided_at,
        "deadline": composite(DecisionDeadline, m.applications.c.submitted_on, m.applications.c.working_days,
                              m.applications.c.extended_working_days, m.applications.c.extension_reason,
                              m.applications.c.extended_at),
    })

    mapper_registry.map_imperatively(Membership, m.memberships, properties={
        "_provider_id": m.memberships.c.provider_id})
    mapper_registry.map_imperatively(PricingSchedule, m.pricing_schedules, properties={
        "_provider_id": m.pricing_schedules.c.provider_id})
    mapper_registry.map_imperatively(ComplianceDocument, m.compliance_documents, properties={
        "_provider_id": m.compliance_documents.c.provider_id})
    mapper_registry.map_imperatively(SlaAcceptance, m.sla_acceptances, properties={
        "_provider_id": m.sla_acceptances.c.provider_id, "_position": m.sla_acceptances.c.position})
    mapper_registry.map_imperatively(DeclarationRequest, m.declaration_requests, properties={
        "_provider_id": m.declaration_requests.c.provider_id, "_position": m.declaration_requests.c.position})
    p = m.providers
    children = {"cascade": "all, delete-orphan", "lazy": "selectin"}
    mapper_registry.map_imperatively(Provider, p, properties={
        "_name": p.c.name, "_address": p.c.address, "_postcode": p.c.postcode,
        "_companies_house_number": p.c.companies_house_number, "_charity_number": p.c.charity_number,
        "organisation": composite(Organisation, p.c.name, p.c.address, p.c.postcode, p.c.companies_house_number,
                                  p.c.charity_number),
        "_setting_kind": p.c.setting_kind, "_urn": p.c.urn, "_ukprn": p.c.ukprn, "_inspectorate": p.c.inspectorate,
        "_last_inspection_date": p.c.last_inspection_date, "_last_inspection_outcome": p.c.last_inspection_outcome,
        "_establishment_type": p.c.establishment_type,
        "registration": composite(Registration, p.c.setting_kind, p.c.urn, p.c.ukprn, p.c.inspectorate,
                                  p.c.last_inspection_date, p.c.last_inspection_outcome, p.c.establishment_type),
        "_created_at": p.c.created_at, "_updated_at": p.c.updated_at,
        "memberships": relationship(Membership, collection_class=attribute_keyed_dict("key"),
                                    order_by=(m.memberships.c.dps_id, m.memberships.c.lot), **children),
        "pricing_schedules": relationship(PricingSchedule, order_by=(m.pricing_schedules.c.lot,
                                                                     m.pricing_schedules.c.version), **children),
        "documents": relationship(ComplianceDocument, collection_class=attribute_keyed_dict("kind"),
                                  order_by=m.compliance_documents.c.kind, **children),
        "sla_acceptances": relationship(SlaAcceptance, order_by=m.sla_acceptances.c.position,
                                        collection_class=ordering_list("_position"), **children),
        "declaration_requests": relationship(DeclarationRequest, order_by=m.declaration_requests.c.position,
                                             collection_class=ordering_list("_position"), **children),
    })

    # What the constructors would have set, for aggregates the Session loads.
    for aggregate in (DPS, Application, Provider):
        sa.event.listen(aggregate, "load", _no_events_yet)
    for when in ("before_insert", "before_update"):
        sa.event.listen(Application, when, _application_columns)


def _no_events_yet(aggregate, _context) -> None:
    aggregate.events = []


def _application_columns(_mapper, _connection, application: Application) -> None:
    """The columns kept for queries (the overdue list, the names), from the domain's values."""
    application._organisation_name = application.form.organisation.name
    application._dps_id = application.form.dps_id
    application._due_on = application.deadline.due_on
    application._decided_at = application.decision.decided_at if application.decision else None
