"""The referral aggregate mapped onto its tables (SQLAlchemy's imperative
mapping, as cosmicpython's `adapters/orm.py`): the Session tracks what
changed and writes only that.

- `Referral` onto `referrals` joined with `referral_children` (one to one): the
  child's details are the `child` composite, the offer window's basis the
  `window_basis` composite; `_child_ref`, the child's opaque
  reference, is kept by `_child_refs` before each flush.  The referral's row
  has its own `version` (optimistic concurrency), bumped only when the row
  itself changes: an offer or a decline is a row of its own and leaves it be.
- `Offer` onto `offers` (the `terms` composite; `_version` its own version),
  `Decline` onto `declines` (by provider), `Assessment` onto `assessments` (by
  offer), `FurtherQuestion` onto `referral_questions` (in order), and the
  invitations onto `invitations` (`Referral.invited`, the providers' ids).

`start_mappers()` maps once per process; the service's definition calls it.
"""

from __future__ import annotations

import inspect
import uuid
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, attribute_keyed_dict, composite, registry, relationship

from services.referrals import models
from services.referrals.domain import (
    Assessment,
    ChildDetails,
    Decline,
    FurtherQuestion,
    OffDpsException,
    Offer,
    OfferTerms,
    Referral,
    WindowBasis,
)
from services.referrals.domain.erasure import ErasureRequest
from shared.db import insert_for

mapper_registry = registry()


class Invitation:
    """One provider invited to a referral (a row; the domain sees `Referral.invited`)."""

    def __init__(self, provider_id: UUID, invited_at) -> None:
        self.provider_id, self.invited_at = provider_id, invited_at


def _invited(referral: Referral) -> tuple[UUID, ...]:
    return tuple(sorted((i.provider_id for i in referral._invitations), key=str))


def _invite(referral: Referral, provider_ids) -> None:
    # Publishing sets published_at before the list (Referral.publish): the invitations' time.
    referral._invitations = [Invitation(p, referral.published_at) for p in provider_ids]


# The child's AP census details: ChildDetails's fields after the identity, columns of the same names.
CENSUS_DETAILS = ("surname", "forename", "sex", "ethnicity", "sen_provision", "fsm_eligible")


def start_mappers() -> None:
    """Map the aggregate (once: mapping a class twice raises)."""
    if mapper_registry.mappers:
        return
    r, c = models.referrals, models.referral_children
    # The terms are the offer's columns of the same names, in the order OfferTerms takes them: a new term
    # is a field of OfferTerms and a column of `offers`, nothing here.
    o, terms_columns = models.offers, list(inspect.signature(OfferTerms).parameters)
    for part, table in ((FurtherQuestion, models.referral_questions), (Invitation, models.invitations),
                        (Decline, models.declines), (Assessment, models.assessments)):
        mapper_registry.map_imperatively(part, table, properties={"_referral_id": table.c.referral_id})
    mapper_registry.map_imperatively(Offer, o, version_id_col=o.c.version, properties={
        **{f"_{name}": o.c[name] for name in terms_columns},
        "terms": composite(OfferTerms, *(f"_{name}" for name in terms_columns)),
        "_total_pence": o.c.total_pence, "_version": o.c.version, "_referral_id": o.c.referral_id,
        "_idempotency_key": o.c.idempotency_key, "_request_fingerprint": o.c.request_fingerprint,
    })
    mapper_registry.map_imperatively(Referral, r.join(c, c.c.referral_id == r.c.id), version_id_col=r.c.version,
                                     properties={
        "id": [r.c.id, c.c.referral_id],
        "_version": r.c.version,
        "_child_ref": c.c.child_ref,
        "_child_name": c.c.name, "_child_date_of_birth": c.c.date_of_birth, "_child_upn": c.c.upn,
        "_child_address": c.c.address,
        **{f"_child_{name}": c.c[name] for name in CENSUS_DETAILS},
        "child": composite(ChildDetails, "_child_name", "_child_date_of_birth", "_child_upn", "_child_address",
                           *(f"_child_{name}" for name in CENSUS_DETAILS)),
        "_off_dps_reason": r.c.off_dps_reason, "_off_dps_by": r.c.off_dps_by, "_off_dps_at": r.c.off_dps_at,
        "_off_dps_details": r.c.off_dps_details,
        "off_dps_exception": composite(OffDpsException, "_off_dps_reason", "_off_dps_by", "_off_dps_at",
                                       "_off_dps_details",
                                       return_none_on=lambda *values: all(v is None for v in values)),
        "_window_basis_kind": r.c.window_basis_kind, "_window_basis_days": r.c.window_basis_days,
        "_window_basis_reason": r.c.window_basis_reason,
        "window_basis": composite(WindowBasis, "_window_basis_kind", "_window_basis_days", "_window_basis_reason",
                                  return_none_on=lambda *values: all(v is None for v in values)),
        "questions": relationship(FurtherQuestion, order_by=models.referral_questions.c.position,
                                  cascade="all, delete-orphan", lazy="selectin"),
        "_invitations": relationship(Invitation, cascade="all, delete-orphan", lazy="selectin"),
        "offers": relationship(Offer, order_by=o.c.submitted_at, cascade="all, delete-orphan", lazy="selectin"),
        "declines": relationship(Decline, collection_class=attribute_keyed_dict("provider_id"),
                                 order_by=models.declines.c.at, cascade="all, delete-orphan", lazy="selectin"),
        "assessments": relationship(Assessment, collection_class=attribute_keyed_dict("offer_id"),
                                    order_by=models.assessments.c.at, cascade="all, delete-orphan",
                                    lazy="selectin"),
    })
    Referral.invited = property(_invited, _invite)
    mapper_registry.map_imperatively(ErasureRequest, models.erasure_requests)
    event.listen(ErasureRequest, "load", _receive_load)
    event.listen(Referral, "load", _receive_load)
    event.listen(Offer, "before_insert", _total)
    event.listen(Offer, "before_update", _total)
    event.listen(Session, "before_flush", _before_flush)


def _receive_load(aggregate: Referral | ErasureRequest, _context) -> None:
    aggregate.events = []


def _total(_mapper, _connection, offer: Offer) -> None:
    offer._total_pence = offer.total_pence  # stored for reports; the terms decide it


def _before_flush(session: Session, _context, _instances) -> None:
    """What a referral's rows keep beside the domain: each question's position in the list, and the
    child's opaque child_ref (the same child, by UPN, keeps one across referrals)."""
    for referral in (*session.new, *session.dirty):
        if isinstance(referral, Referral):
            for position, question in enumerate(referral.questions):
                if getattr(question, "position", None) != position:
                    question.position = position
            changed = sa.inspect(referral).attrs._child_upn.history.deleted
            if getattr(referral, "_child_ref", None) is None or changed:
                referral._child_ref = child_ref_for_upn(session, referral.child.upn, referral.created_at)


def child_ref_for_upn(session: Session, upn: str, now) -> UUID:
    t = models.children
    session.execute(insert_for(session, t).values(child_ref=uuid.uuid4(), upn=upn, created_at=now)
                    .on_conflict_do_nothing(index_elements=["upn"]))
    return session.execute(sa.select(t.c.child_ref).where(t.c.upn == upn)).scalar_one()
