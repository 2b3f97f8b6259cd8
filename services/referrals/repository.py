"""Rows <-> referrals' domain objects.

- `RegistryCopy`: the service's own copy of lot memberships, pricing
  schedules, capacity and registration, written from the registry's events
  (each fact keeps the time of the event that set it, so an older event
  arriving late never overwrites a newer one) and read as domain
  `Membership`s.
- `ReferralRepository`: a referral is loaded whole (its child, questions,
  invitations, offers, declines and assessments) and saved whole.  Loading for
  a change locks the referral's row (FOR UPDATE on PostgreSQL), and the row's
  `version` guards against a lost update where there is no lock (SQLite).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.referrals import models
from services.referrals.domain import (
    Assessment,
    ChildDetails,
    Decline,
    FurtherQuestion,
    Membership,
    MembershipStatus,
    OffDpsException,
    Offer,
    OfferTerms,
    PricingLine,
    Profile,
    Referral,
    ReferralStatus,
)
from services.referrals.events import profile_data
from shared.errors import Conflict, NotFound

NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # before any event: the first real status wins


def _insert(session: Session, table: sa.Table):
    """The dialect's INSERT, which has ON CONFLICT (PostgreSQL and SQLite alike)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def _insert_ignoring_duplicates(session: Session, table: sa.Table, values: dict, keys: Sequence[str]):
    """INSERT ... ON CONFLICT DO NOTHING on PostgreSQL and SQLite alike."""
    return session.execute(_insert(session, table).values(**values).on_conflict_do_nothing(index_elements=list(keys)))


def _newer(stored: sa.Column, at: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """An event applies unless the stored fact came from a later one (in SQL: stored vs the event's)."""
    return stored.is_(None) | (stored <= at)


def _if(applies: sa.ColumnElement[bool], columns: Sequence[sa.Column], excluded) -> dict:
    """SET each column to the event's value where `applies`, else leave it as stored."""
    return {c.name: sa.case((applies, excluded[c.name]), else_=c) for c in columns}


# --- the registry copy -----------------------------------------------------------

class RegistryCopy:
    def __init__(self, session: Session) -> None:
        self.session = session

    # writing, from the registry's events: each is one upsert (INSERT ... ON
    # CONFLICT DO UPDATE) that sets a fact only when the stored one is not from
    # a later event, compared in the statement on the row it locks, so an
    # older event arriving late changes nothing.

    def note_provider(self, provider_id: UUID, name: str | None, at: datetime, *,
                      registration: dict | None = None) -> None:
        """The provider's name and, when given, its registration (status, urn, ofsted_grade)."""
        t = models.providers
        values: dict = {"provider_id": provider_id}
        facts: list[tuple[sa.Column, list[sa.Column]]] = []  # (the time it was set, the columns it sets)
        if name:
            values.update(name=name, name_at=at)
            facts.append((t.c.name_at, [t.c.name, t.c.name_at]))
        if registration is not None:
            values.update(registration_status=registration.get("registration_status"), urn=registration.get("urn"),
                          registration_at=at)
            columns = [t.c.registration_status, t.c.urn, t.c.registration_at]
            if "ofsted_grade" in registration:
                values["ofsted_grade"] = registration["ofsted_grade"]
                columns.append(t.c.ofsted_grade)
            facts.append((t.c.registration_at, columns))
        insert = _insert(self.session, t).values(**values)
        if not facts:
            self.session.execute(insert.on_conflict_do_nothing(index_elements=["provider_id"]))
            return
        changes: dict = {}
        for stamp, columns in facts:
            changes.update(_if(_newer(stamp, insert.excluded[stamp.name]), columns, insert.excluded))
        self.session.execute(insert.on_conflict_do_update(
            index_elements=["provider_id"], set_=changes,
            where=sa.or_(*(_newer(stamp, insert.excluded[stamp.name]) for stamp, _ in facts))))

    def set_status(self, provider_id: UUID, lot: int, status: MembershipStatus, at: datetime, *,
                   reason: str | None = None, capacity: int | None = None, ends_on: date | None = None) -> bool:
        """The membership's status as of `at`; False when a later event already set it."""
        t = models.memberships
        values: dict = {"provider_id": provider_id, "lot": lot, "status": status.value, "status_at": at,
                        "reason": reason}
        columns = [t.c.status, t.c.status_at, t.c.reason]
        if ends_on is not None:
            values["ends_on"] = ends_on
            columns.append(t.c.ends_on)
        if capacity is not None:
            values.update(capacity=capacity, capacity_at=at)
        insert = _insert(self.session, t).values(**values)
        status_applies = _newer(t.c.status_at, insert.excluded.status_at)
        changes, where = _if(status_applies, columns, insert.excluded), [status_applies]
        if capacity is not None:
            capacity_applies = _newer(t.c.capacity_at, insert.excluded.capacity_at)
            changes.update(_if(capacity_applies, [t.c.capacity, t.c.capacity_at], insert.excluded))
            where.append(capacity_applies)
        row = self.session.execute(insert.on_conflict_do_update(
            index_elements=["provider_id", "lot"], set_=changes, where=sa.or_(*where))
            .returning(t.c.status_at)).first()
        # Applied when the row (new or updated) now holds this event's status time.
        return row is not None and row.status_at == at

    def set_capacity(self, provider_id: UUID, lot: int, capacity: int, at: datetime) -> None:
        t = models.memberships
        # Capacity before admission (out of order): keep it; the membership
        # stays "removed" (not eligible) until the admission arrives.
        insert = _insert(self.session, t).values(provider_id=provider_id, lot=lot, status="removed",
                                                 status_at=NEVER, capacity=capacity, capacity_at=at)
        self.session.execute(insert.on_conflict_do_update(
            index_elements=["provider_id", "lot"],
            set_={"capacity": insert.excluded.capacity, "capacity_at": insert.excluded.capacity_at},
            where=_newer(t.c.capacity_at, insert.excluded.capacity_at)))

    def add_schedule(self, provider_id: UUID, lot: int, *, version: int, effective_from: date,
                     lines: list[dict], at: datetime) -> None:
        """Keep every version: the one in force is chosen by date when read."""
        _insert_ignoring_duplicates(self.session, models.pricing_schedules, {
            "id": uuid.uuid4(), "provider_id": provider_id, "lot": lot, "version": version,
            "effective_from": effective_from, "pricing_lines": lines, "at": at},
            ["provider_id", "lot", "version", "effective_from", "at"])

    # reading, as the rules see it

    def membership(self, provider_id: UUID, lot: int, today: date) -> Membership | None:
        """The membership with the schedule in force today, in one round trip."""
        t = models.memberships
        lines = self._lines_in_force(t.c.provider_id, t.c.lot, today).scalar_subquery()
        row = self.session.execute(sa.select(t, lines.label("lines_in_force"))
                                   .where((t.c.provider_id == provider_id) & (t.c.lot == lot))).first()
        if row is None:
            return None
        return Membership(provider_id=row.provider_id, lot=row.lot, status=_status(row, today),
                          pricing_lines=_pricing_lines(row.lines_in_force), capacity=row.capacity or 0)

    def memberships_on(self, lot: int, today: date) -> list[Membership]:
        """Every membership of the lot, standing as of today (lines are not needed to invite)."""
        t = models.memberships
        rows = self.session.execute(sa.select(t).where(t.c.lot == lot)).all()
        return [Membership(provider_id=r.provider_id, lot=r.lot, status=_status(r, today), capacity=r.capacity or 0)
                for r in rows]

    def pricing_lines(self, provider_id: UUID, lot: int, today: date) -> tuple[PricingLine, ...]:
        return _pricing_lines(self.session.execute(self._lines_in_force(provider_id, lot, today)).scalar())

    @staticmethod
    def _lines_in_force(provider_id, lot, today: date) -> sa.Select:
        """The schedule in force today: the latest effective one, by date then version."""
        t = models.pricing_schedules
        return (sa.select(t.c.pricing_lines)
                .where((t.c.provider_id == provider_id) & (t.c.lot == lot) & (t.c.effective_from <= today))
                .order_by(t.c.effective_from.desc(), t.c.version.desc(), t.c.at.desc()).limit(1))

    def rows(self, *, lot: int | None = None, provider_id: UUID | None = None, status: str | None = None,
             limit: int = 200, offset: int = 0) -> list[dict]:
        m, p = models.memberships, models.providers
        query = (sa.select(m, p.c.name.label("provider_name"), p.c.registration_status, p.c.urn)
                 .select_from(m.outerjoin(p, p.c.provider_id == m.c.provider_id))
                 .order_by(m.c.lot, p.c.name, m.c.provider_id))
        if lot is not None:
            query = query.where(m.c.lot == lot)
        if provider_id is not None:
            query = query.where(m.c.provider_id == provider_id)
        if status is not None:
            query = query.where(m.c.status == status)
        return [dict(r._mapping) for r in self.session.execute(query.limit(limit).offset(offset))]


def _pricing_lines(lines: list[dict] | None) -> tuple[PricingLine, ...]:
    return tuple(PricingLine(id=UUID(str(line["pricing_line_id"])), description=line.get("description", ""),
                             unit=line.get("unit", ""), maximum_price_pence=int(line["maximum_price_pence"]))
                 for line in lines or ())


def _status(row, today: date) -> MembershipStatus:
    # Membership ends when the DPS term (or the membership) ends, event or not.
    if row.ends_on is not None and row.ends_on < today:
        return MembershipStatus.REMOVED
    return MembershipStatus(row.status)


# --- referrals ---------------------------------------------------------------------

def profile_from_json(data: dict) -> Profile:
    return Profile(
        age=data["age"], year_group=data.get("year_group"), primary_need=data["primary_need"], ehcp=data["ehcp"],
        looked_after=data["looked_after"], reason=data["reason"], needs_and_risks=data["needs_and_risks"],
        aims=data["aims"], success_measures=dict(data["success_measures"]), curriculum=data["curriculum"],
        qualification_route=data["qualification_route"], hours_per_week=Decimal(str(data["hours_per_week"])),
        pattern=data["pattern"], start_date=date.fromisoformat(data["start_date"]),
        expected_weeks=data["expected_weeks"], postcode_district=data["postcode_district"],
        transport_needed=data["transport_needed"])


class ReferralRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._versions: dict[UUID, int] = {}  # as loaded, for the optimistic check on save

    # loading

    def get(self, referral_id: UUID, *, for_update: bool = False) -> Referral:
        found = self.get_many([referral_id], for_update=for_update)
        if referral_id not in found:
            raise NotFound("no such referral")
        return found[referral_id]

    def get_many(self, ids: Iterable[UUID], *, for_update: bool = False) -> dict[UUID, Referral]:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        r = models.referrals
        query = sa.select(r).where(r.c.id.in_(ids)).order_by(r.c.id)
        if for_update:
            query = query.with_for_update()
        rows = self.session.execute(query).all()
        if not rows:
            return {}
        found = [row.id for row in rows]
        children = self._by_referral(models.referral_children, found)
        questions = self._grouped(models.referral_questions, found, order=models.referral_questions.c.position)
        invited = self._grouped(models.invitations, found, order=models.invitations.c.provider_id)
        offers = self._grouped(models.offers, found, order=models.offers.c.submitted_at)
        declines = self._grouped(models.declines, found, order=models.declines.c.at)
        assessments = self._grouped(models.assessments, found, order=models.assessments.c.at)
        result = {}
        for row in rows:
            referral = self._referral(row, children[row.id], questions.get(row.id, []), invited.get(row.id, []),
                                      offers.get(row.id, []), declines.get(row.id, []),
                                      assessments.get(row.id, []))
            self._versions[row.id] = row.version
            result[row.id] = referral
        return result

    def _by_referral(self, table: sa.Table, ids: list[UUID]) -> dict:
        return {row.referral_id: row for row in self.session.execute(
            sa.select(table).where(table.c.referral_id.in_(ids)))}

    def _grouped(self, table: sa.Table, ids: list[UUID], order) -> dict[UUID, list]:
        grouped: dict[UUID, list] = {}
        for row in self.session.execute(sa.select(table).where(table.c.referral_id.in_(ids)).order_by(order)):
            grouped.setdefault(row.referral_id, []).append(row)
        return grouped

    @staticmethod
    def _referral(row, child, questions, invited, offers, declines, assessments) -> Referral:
        referral = Referral(
            id=row.id, team=row.team, lot=row.lot,
            child=ChildDetails(child.name, child.date_of_birth, child.upn, child.address),
            profile=profile_from_json(row.profile), deadline=row.deadline, created_by=row.created_by,
            created_at=row.created_at, exclusion_start=row.exclusion_start,
            full_time_provision_by=row.full_time_provision_by,
            questions=[FurtherQuestion(q.id, q.text) for q in questions], status=ReferralStatus(row.status))
        referral.invited = tuple(sorted((i.provider_id for i in invited), key=str))
        referral.published_by, referral.published_at = row.published_by, row.published_at
        referral.offers = [_offer(o) for o in offers]
        referral.declines = {d.provider_id: Decline(d.provider_id, d.reason, d.at) for d in declines}
        referral.window_closed_at, referral.closed_by = row.window_closed_at, row.closed_by
        referral.assessments = {a.offer_id: Assessment(a.offer_id, a.meets_needs, a.reason,
                                                       {UUID(k): v for k, v in a.criteria_met.items()}, a.by, a.at)
                                for a in assessments}
        referral.assessment_completed_at = row.assessment_completed_at
        referral.awarded_offer_id, referral.awarded_at = row.awarded_offer_id, row.awarded_at
        referral.awarded_allocation_id = row.awarded_allocation_id
        referral.cancel_reason, referral.cancelled_by, referral.cancelled_at = (
            row.cancel_reason, row.cancelled_by, row.cancelled_at)
        if row.off_dps_at is not None:
            referral.off_dps_exception = OffDpsException(row.off_dps_reason, row.off_dps_by, row.off_dps_at)
        return referral

    # saving

    def add(self, referral: Referral) -> None:
        self.session.execute(models.referrals.insert().values(id=referral.id, version=1, **_columns(referral)))
        self._versions[referral.id] = 1
        self._save_parts(referral)

    def save(self, referral: Referral) -> None:
        r = models.referrals
        loaded = self._versions[referral.id]
        updated = self.session.execute(r.update().where((r.c.id == referral.id) & (r.c.version == loaded))
                                       .values(version=loaded + 1, **_columns(referral)))
        if updated.rowcount != 1:
            raise Conflict("the referral was changed by someone else at the same time: try again")
        self._versions[referral.id] = loaded + 1
        self._save_parts(referral)

    def _save_parts(self, referral: Referral) -> None:
        rid = referral.id
        self._save_child(referral)
        for table in (models.referral_questions, models.declines, models.assessments):
            self.session.execute(table.delete().where(table.c.referral_id == rid))
        if referral.questions:
            self.session.execute(models.referral_questions.insert(), [
                {"id": q.id, "referral_id": rid, "position": i, "text": q.text}
                for i, q in enumerate(referral.questions)])
        self._save_invitations(referral)
        self._save_offers(referral)
        if referral.declines:
            self.session.execute(models.declines.insert(), [
                {"referral_id": rid, "provider_id": d.provider_id, "reason": d.reason, "at": d.at}
                for d in referral.declines.values()])
        if referral.assessments:
            self.session.execute(models.assessments.insert(), [
                {"offer_id": a.offer_id, "referral_id": rid, "meets_needs": a.meets_needs, "reason": a.reason,
                 "criteria_met": {str(k): v for k, v in a.criteria_met.items()}, "by": str(a.by), "at": a.at}
                for a in referral.assessments.values()])

    def _save_child(self, referral: Referral) -> None:
        child, t = referral.child, models.referral_children
        values = {"child_ref": self.child_ref_for_upn(child.upn, referral.created_at), "name": child.name,
                  "date_of_birth": child.date_of_birth, "upn": child.upn, "address": child.address}
        if self.session.execute(t.update().where(t.c.referral_id == referral.id).values(**values)).rowcount == 0:
            self.session.execute(t.insert().values(referral_id=referral.id, **values))

    def child_ref_for_upn(self, upn: str, now: datetime) -> UUID:
        """The same child (same UPN) keeps one opaque child_ref across referrals."""
        t = models.children
        _insert_ignoring_duplicates(self.session, t, {"child_ref": uuid.uuid4(), "upn": upn, "created_at": now},
                                    ["upn"])
        return self.session.execute(sa.select(t.c.child_ref).where(t.c.upn == upn)).scalar_one()

    def child_ref(self, referral_id: UUID) -> UUID:
        t = models.referral_children
        return self.session.execute(sa.select(t.c.child_ref).where(t.c.referral_id == referral_id)).scalar_one()

    def _save_invitations(self, referral: Referral) -> None:
        t = models.invitations
        stored = set(self.session.execute(sa.select(t.c.provider_id).where(t.c.referral_id == referral.id))
                     .scalars())
        new = [p for p in referral.invited if p not in stored]
        if new:
            self.session.execute(t.insert(), [{"referral_id": referral.id, "provider_id": p,
                                               "invited_at": referral.published_at} for p in new])

    def _save_offers(self, referral: Referral) -> None:
        t = models.offers
        for offer in referral.offers:
            values = _offer_columns(offer)
            if self.session.execute(t.update().where(t.c.id == offer.id).values(**values)).rowcount == 0:
                self.session.execute(t.insert().values(id=offer.id, referral_id=referral.id, **values))

    # finding

    def due_to_close(self, now: datetime, limit: int = 500) -> list[UUID]:
        r = models.referrals
        return list(self.session.execute(
            sa.select(r.c.id).where((r.c.status == ReferralStatus.PUBLISHED.value) & (r.c.deadline <= now))
            .order_by(r.c.deadline).limit(limit)).scalars())

    def find(self, *, team: str | None = None, status: str | None = None, lot: int | None = None,
             upn: str | None = None, child_ref: UUID | None = None, limit: int = 100, offset: int = 0) -> list[UUID]:
        r, c = models.referrals, models.referral_children
        query = sa.select(r.c.id).select_from(r.join(c, c.c.referral_id == r.c.id))
        for column, value in ((r.c.team, team), (r.c.status, status), (r.c.lot, lot), (c.c.upn, upn),
                              (c.c.child_ref, child_ref)):
            if value is not None:
                query = query.where(column == value)
        return list(self.session.execute(query.order_by(r.c.created_at.desc(), r.c.id).limit(limit).offset(offset))
                    .scalars())

    def invited_to(self, provider_id: UUID, *, statuses: Iterable[str] | None = None, lot: int | None = None,
                   limit: int = 100, offset: int = 0) -> list[UUID]:
        r, i = models.referrals, models.invitations
        query = (sa.select(r.c.id).select_from(r.join(i, i.c.referral_id == r.c.id))
                 .where(i.c.provider_id == provider_id))
        if statuses is not None:
            query = query.where(r.c.status.in_(list(statuses)))
        if lot is not None:
            query = query.where(r.c.lot == lot)
        return list(self.session.execute(query.order_by(r.c.deadline, r.c.id).limit(limit).offset(offset)).scalars())

    def offer_ids_of(self, provider_id: UUID, *, referral_id: UUID | None = None, live: bool | None = None,
                     limit: int = 100, offset: int = 0) -> list[tuple[UUID, UUID]]:
        """(referral_id, offer_id) of a provider's offers, newest first."""
        t = models.offers
        query = sa.select(t.c.referral_id, t.c.id).where(t.c.provider_id == provider_id)
        if referral_id is not None:
            query = query.where(t.c.referral_id == referral_id)
        if live is True:
            query = query.where(t.c.withdrawn_at.is_(None))
        elif live is False:
            query = query.where(t.c.withdrawn_at.is_not(None))
        return [(row.referral_id, row.id) for row in
                self.session.execute(query.order_by(t.c.submitted_at.desc(), t.c.id).limit(limit).offset(offset))]

    def referral_of_offer(self, offer_id: UUID) -> tuple[UUID, UUID] | None:
        """(referral_id, provider_id) of an offer."""
        t = models.offers
        row = self.session.execute(sa.select(t.c.referral_id, t.c.provider_id).where(t.c.id == offer_id)).first()
        return None if row is None else (row.referral_id, row.provider_id)

    def offer_by_idempotency_key(self, provider_id: UUID, key: str):
        t = models.offers
        return self.session.execute(sa.select(t.c.id, t.c.referral_id, t.c.request_fingerprint).where(
            (t.c.provider_id == provider_id) & (t.c.idempotency_key == key))).first()

    def remember_idempotency_key(self, offer_id: UUID, key: str, fingerprint: str) -> None:
        t = models.offers
        self.session.execute(t.update().where(t.c.id == offer_id).values(idempotency_key=key,
                                                                          request_fingerprint=fingerprint))

    def off_dps_exceptions(self, *, team: str | None = None, lot: int | None = None, since: datetime | None = None,
                           limit: int = 100, offset: int = 0) -> list[dict]:
        r = models.referrals
        query = (sa.select(r.c.id.label("referral_id"), r.c.team, r.c.lot, r.c.status,
                           r.c.off_dps_reason.label("reason"), r.c.off_dps_by.label("recorded_by"),
                           r.c.off_dps_at.label("recorded_at"))
                 .where(r.c.off_dps_at.is_not(None)))
        for column, value in ((r.c.team, team), (r.c.lot, lot)):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(r.c.off_dps_at >= since)
        return [dict(row._mapping) for row in self.session.execute(
            query.order_by(r.c.off_dps_at.desc(), r.c.id).limit(limit).offset(offset))]


def _columns(referral: Referral) -> dict:
    exception = referral.off_dps_exception
    return {
        "team": referral.team, "lot": referral.lot, "status": referral.status.value, "deadline": referral.deadline,
        "exclusion_start": referral.exclusion_start, "full_time_provision_by": referral.full_time_provision_by,
        "profile": profile_data(referral.profile), "created_by": referral.created_by,
        "created_at": referral.created_at, "published_by": referral.published_by,
        "published_at": referral.published_at, "window_closed_at": referral.window_closed_at,
        "closed_by": referral.closed_by, "assessment_completed_at": referral.assessment_completed_at,
        "awarded_offer_id": referral.awarded_offer_id, "awarded_allocation_id": referral.awarded_allocation_id,
        "awarded_at": referral.awarded_at, "cancel_reason": referral.cancel_reason,
        "cancelled_by": referral.cancelled_by, "cancelled_at": referral.cancelled_at,
        "off_dps_reason": exception.reason if exception else None,
        "off_dps_by": str(exception.by) if exception else None, "off_dps_at": exception.at if exception else None,
    }


def _offer(row) -> Offer:
    terms = OfferTerms(
        pricing_line_id=row.pricing_line_id, unit_price_pence=int(row.unit_price_pence),
        units_per_week=Decimal(row.units_per_week), weeks=row.weeks, proposed_start=row.proposed_start,
        staffing_ratio=row.staffing_ratio, delivery_site=row.delivery_site, delivery_postcode=row.delivery_postcode,
        how_it_meets_needs=row.how_it_meets_needs, place_available=row.place_available,
        answers={UUID(k): v for k, v in row.answers.items()})
    return Offer(id=row.id, provider_id=row.provider_id, terms=terms, maximum_price_pence=int(row.maximum_price_pence),
                 submitted_at=row.submitted_at, changed_at=row.changed_at, withdrawn_at=row.withdrawn_at)


def _offer_columns(offer: Offer) -> dict:
    terms = offer.terms
    return {"provider_id": offer.provider_id, "pricing_line_id": terms.pricing_line_id,
            "unit_price_pence": terms.unit_price_pence, "units_per_week": terms.units_per_week,
            "weeks": terms.weeks, "total_pence": offer.total_pence, "maximum_price_pence": offer.maximum_price_pence,
            "proposed_start": terms.proposed_start, "staffing_ratio": terms.staffing_ratio,
            "delivery_site": terms.delivery_site, "delivery_postcode": terms.delivery_postcode,
            "how_it_meets_needs": terms.how_it_meets_needs, "place_available": terms.place_available,
            "answers": {str(k): v for k, v in terms.answers.items()}, "submitted_at": offer.submitted_at,
            "changed_at": offer.changed_at, "withdrawn_at": offer.withdrawn_at}
