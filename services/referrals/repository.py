"""Rows <-> referrals' domain objects.

- `RegistryCopy`: the service's own copy of DPS records, SLA acceptances,
  lot memberships (per DPS), pricing schedules, capacity and registration, written from the registry's events
  (each fact keeps the time of the event that set it, so an older event
  arriving late never overwrites a newer one) and read as domain
  `Membership`s.
- `ReferralRepository`: a referral is loaded whole (orm.py maps it with its
  child, questions, invitations, offers, declines and assessments) and the
  Session writes what changed.  A change of the referral's state locks its
  row (FOR UPDATE); a provider's answer shares it (FOR SHARE) and locks only
  that provider's invitation, so providers answering at once never wait for
  or refuse each other, while closing waits for every answer in progress.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, raiseload

from services.referrals import models
from services.referrals.domain import (
    Decline,
    DpsRecord,
    Membership,
    MembershipStatus,
    Offer,
    PricingLine,
    Referral,
    ReferralStatus,
    details_fields,
)
from services.referrals.domain.registry import status_on
from shared.catalogue import FIRST_DPS_ID
from shared.db import insert_for
from shared.errors import NotFound
from shared.unit_of_work import Repository

NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # before any event: the first real status wins


def _insert_ignoring_duplicates(session: Session, table: sa.Table, values: dict, keys: Sequence[str]):
    """INSERT ... ON CONFLICT DO NOTHING on PostgreSQL and SQLite alike."""
    return session.execute(insert_for(session, table).values(**values)
                           .on_conflict_do_nothing(index_elements=list(keys)))


def _newer(stored: sa.Column, at: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """An event applies unless the stored fact came from a later one (in SQL: stored vs the event's)."""
    return stored.is_(None) | (stored <= at)


def _if(applies: sa.ColumnElement[bool], columns: Sequence[sa.Column], excluded) -> dict:
    """SET each column to the event's value where `applies`, else leave it as stored."""
    return {c.name: sa.case((applies, excluded[c.name]), else_=c) for c in columns}


def _upsert(session: Session, table: sa.Table, names: tuple[str, ...], changes) -> sa.Executable:
    """INSERT the row, ON CONFLICT apply `changes(table, names, excluded)` -> (set_, where, returning)."""
    insert = insert_for(session, table).values({n: sa.bindparam(n, type_=table.c[n].type) for n in names})
    set_, where, returning = changes(table, names, insert.excluded)
    keys = [column.name for column in table.primary_key.columns]
    statement = (insert.on_conflict_do_update(index_elements=keys, set_=set_, where=where) if set_
                 else insert.on_conflict_do_nothing(index_elements=keys))
    return statement if returning is None else statement.returning(returning)


def _facts(table: sa.Table, names: tuple[str, ...], excluded,
           facts: list[tuple[str, list[str]]]) -> tuple[dict, sa.ColumnElement | None]:
    """SET each fact's columns where its event is not older than the stored one."""
    changes: dict = {}
    applies = []
    for stamp, columns in facts:
        newer = _newer(table.c[stamp], excluded[stamp])
        changes.update(_if(newer, [table.c[name] for name in columns if name in names], excluded))
        applies.append(newer)
    return changes, sa.or_(*applies) if applies else None


def _provider_changes(table, names, excluded):
    facts = [("name_at", ["name", "name_at"])] if "name_at" in names else []
    if "registration_at" in names:
        facts.append(("registration_at", ["registration_status", "urn", "registration_at", "ofsted_grade",
                                          "setting_kind", "establishment_type", "ukprn"]))
    return (*_facts(table, names, excluded, facts), None)


def _status_changes(table, names, excluded):
    facts = [("status_at", ["status", "status_at", "reason", "ends_on"])]
    if "capacity_at" in names:
        facts.append(("capacity_at", ["capacity", "capacity_at"]))
    return (*_facts(table, names, excluded, facts), table.c.status_at)


def _capacity_changes(table, names, excluded):
    return (*_facts(table, names, excluded, [("capacity_at", ["capacity", "capacity_at"])]), None)


def _dps_changes(table, names, excluded):
    return (*_facts(table, names, excluded, [("at", [n for n in names if n != "dps_id"])]), None)


def _membership(row, today: date, lines: tuple[PricingLine, ...] = ()) -> Membership:
    return Membership(provider_id=row.provider_id, lot=row.lot, status=_status(row, today), pricing_lines=lines,
                      capacity=row.capacity or 0, dps_id=row.dps_id)


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
        """The provider's name and, when given, its registration (status, urn, ofsted_grade; the setting's
        kind, establishment type and UKPRN)."""
        values: dict = {"provider_id": provider_id}
        if name:
            values.update(name=name, name_at=at)
        if registration is not None:
            values.update(registration_status=registration.get("registration_status"), urn=registration.get("urn"),
                          registration_at=at)
            for name in ("ofsted_grade", "setting_kind", "establishment_type", "ukprn"):
                if name in registration:
                    values[name] = registration[name]
        self.session.execute(_upsert(self.session, models.providers, tuple(values), _provider_changes), values)

    def set_status(self, provider_id: UUID, lot: int, status: MembershipStatus, at: datetime, *,
                   reason: str | None = None, capacity: int | None = None, ends_on: date | None = None,
                   dps_id: UUID = FIRST_DPS_ID) -> bool:
        """The membership's status as of `at`; False when a later event already set it."""
        values: dict = {"dps_id": dps_id, "provider_id": provider_id, "lot": lot, "status": status.value,
                        "status_at": at, "reason": reason}
        if ends_on is not None:
            values["ends_on"] = ends_on
        if capacity is not None:
            values.update(capacity=capacity, capacity_at=at)
        statement = _upsert(self.session, models.memberships, tuple(values), _status_changes)
        row = self.session.execute(statement, values).first()
        # Applied when the row (new or updated) now holds this event's status time.
        return row is not None and row.status_at == at

    def set_capacity(self, provider_id: UUID, lot: int, capacity: int, at: datetime, *,
                     dps_id: UUID = FIRST_DPS_ID) -> None:
        # Capacity before admission (out of order): keep it; the membership
        # stays "removed" (not eligible) until the admission arrives.
        values = {"dps_id": dps_id, "provider_id": provider_id, "lot": lot, "status": "removed", "status_at": NEVER,
                  "capacity": capacity, "capacity_at": at}
        self.session.execute(_upsert(self.session, models.memberships, tuple(values), _capacity_changes), values)

    def add_schedule(self, provider_id: UUID, lot: int, *, version: int, effective_from: date,
                     lines: list[dict], at: datetime) -> None:
        """Keep every version: the one in force is chosen by date when read."""
        _insert_ignoring_duplicates(self.session, models.pricing_schedules, {
            "id": uuid.uuid4(), "provider_id": provider_id, "lot": lot, "version": version,
            "effective_from": effective_from, "pricing_lines": lines, "at": at},
            ["provider_id", "lot", "version", "effective_from", "at"])

    def note_dps(self, record: dict, at: datetime) -> None:
        """A DPS record as `dps.configured` described it at `at` (an older description changes nothing)."""
        values = {**record, "lots": list(record["lots"]), "at": at}
        self.session.execute(_upsert(self.session, models.dps_records, tuple(values), _dps_changes), values)

    def note_sla_accepted(self, provider_id: UUID, dps_id: UUID, sla_version: str, at: datetime) -> None:
        _insert_ignoring_duplicates(self.session, models.sla_acceptances, {
            "dps_id": dps_id, "provider_id": provider_id, "sla_version": sla_version, "accepted_at": at},
            ["dps_id", "provider_id", "sla_version"])

    # reading, as the rules see it

    def dps(self, dps_id: UUID) -> DpsRecord | None:
        row = self.session.execute(sa.select(models.dps_records).where(models.dps_records.c.dps_id == dps_id)).first()
        return None if row is None else _dps(row)

    def dps_records(self) -> list[DpsRecord]:
        t = models.dps_records
        return [_dps(row) for row in self.session.execute(sa.select(t).order_by(t.c.start, t.c.dps_id))]

    def sla_accepted(self, dps_id: UUID, provider_ids: Iterable[UUID]) -> dict[UUID, set[str]]:
        """The SLA versions of the DPS each provider accepted."""
        t, accepted = models.sla_acceptances, {}
        rows = self.session.execute(sa.select(t.c.provider_id, t.c.sla_version).where(
            (t.c.dps_id == dps_id) & t.c.provider_id.in_(list(provider_ids))))
        for row in rows:
            accepted.setdefault(row.provider_id, set()).add(row.sla_version)
        return accepted

    def membership(self, provider_id: UUID, lot: int, today: date, dps_id: UUID = FIRST_DPS_ID
                   ) -> Membership | None:
        """The membership of the DPS's lot with the schedule in force today, in one round trip."""
        t = models.memberships
        lines = self._lines_in_force(t.c.provider_id, t.c.lot, today).scalar_subquery()
        row = self.session.execute(sa.select(t, lines.label("lines_in_force")).where(
            (t.c.dps_id == dps_id) & (t.c.provider_id == provider_id) & (t.c.lot == lot))).first()
        return None if row is None else _membership(row, today, _pricing_lines(row.lines_in_force))

    def memberships_on(self, lot: int, today: date, dps_id: UUID = FIRST_DPS_ID) -> list[Membership]:
        """Every membership of the DPS's lot, standing as of today (lines are not needed to invite)."""
        t = models.memberships
        rows = self.session.execute(sa.select(t).where((t.c.dps_id == dps_id) & (t.c.lot == lot))).all()
        return [_membership(r, today) for r in rows]

    def memberships_of(self, provider_id: UUID, today: date) -> list[Membership]:
        """Every membership of one provider, of every DPS, standing as of today (without lines)."""
        t = models.memberships
        rows = self.session.execute(sa.select(t).where(t.c.provider_id == provider_id)).all()
        return [_membership(r, today) for r in rows]

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
                             unit=line.get("unit", ""), maximum_price_pence=int(line["maximum_price_pence"]),
                             staffing_ratio=line.get("staffing_ratio"))
                 for line in lines or ())


def _dps(row) -> DpsRecord:
    return DpsRecord(id=row.dps_id, name=row.name, regime=row.regime, start=row.start,
                     term_ends_on=row.term_ends_on, statutory_end=row.statutory_end, ends_on=row.ends_on,
                     status=row.status, lots=tuple(row.lots), agreed_minimum_window_days=row.agreed_minimum_window_days,
                     agreed_in_sla_version=row.agreed_in_sla_version, sla_version=row.sla_version)


def _status(row, today: date) -> MembershipStatus:
    return status_on(row.status, row.ends_on, today)  # past its end: removed (the domain's rule)


# --- referrals ---------------------------------------------------------------------

class ReferralRepository(Repository):
    """Referrals, whole (the mapping in orm.py loads every part with it), for the unit of work."""

    def add(self, referral: Referral) -> None:
        self.session.add(referral)
        self._seen(referral)

    def get(self, referral_id: UUID, *, for_update: bool = False, answering: UUID | None = None,
            assessments: bool = True) -> Referral:
        """`for_update`: the referral's state is to change: its row locked (PostgreSQL; SQLite's unit of work
        holds the database's write lock anyway).  `answering`: a provider's offer or decline: the row is
        shared with other providers' answers (a closing waits for them all), and the provider's own
        invitation is locked, so only that provider's own answers wait for each other.  `assessments=False`:
        to show to the council, whose view has none (reading them raises)."""
        if answering is not None:  # first: what is read next is what the provider's last answer left
            self._lock_invitation(referral_id, answering)
        query = sa.select(Referral).where(Referral.id == referral_id)
        if not assessments:
            query = query.options(raiseload(Referral.assessments))
        referral = self._one(query, for_update=for_update, answering=answering is not None)
        if referral is None:
            raise NotFound("no such referral")
        return referral

    def get_by_offer(self, offer_id: UUID, provider_id: UUID, *, answering: bool = False) -> Referral:
        """The referral one of the provider's offers was made on."""
        o, i = models.offers, models.invitations
        ours = sa.select(o.c.referral_id).where((o.c.id == offer_id) & (o.c.provider_id == provider_id))
        if answering:  # the provider's invitation locked first, as `get` does
            ours = (sa.select(i.c.referral_id).where((i.c.referral_id == ours.scalar_subquery())
                                                     & (i.c.provider_id == provider_id)).with_for_update())
        referral_id = self.session.execute(ours).scalar()
        if referral_id is None:
            raise NotFound("no such offer from your organisation")
        return self._one(sa.select(Referral).where(Referral.id == referral_id), answering=answering)

    def get_many(self, ids: Iterable[UUID], *, seen_by: UUID | None = None,
                 assessments: bool = True) -> dict[UUID, Referral]:
        """Referrals to show.  `seen_by`: for that provider's views alone, each with its questions and that
        provider's own offers and decline only, its invitations and the other providers' answers not read
        (reading them raises): a page of referrals each open to a whole lot of providers reads the rows it
        shows, not every provider's.  `assessments=False`: the assessments are not read (reading raises)."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        query = sa.select(Referral).where(Referral.id.in_(ids))
        if seen_by is not None:
            # One provider's answers are a row or two a referral: joined to it, all in one statement.
            query = query.options(joinedload(Referral.questions),
                                  joinedload(Referral.offers.and_(Offer.provider_id == seen_by)),
                                  joinedload(Referral.declines.and_(Decline.provider_id == seen_by)),
                                  raiseload(Referral._invitations))
            assessments = False
        if not assessments:
            query = query.options(raiseload(Referral.assessments))
        return {r.id: self._seen(r) for r in self.session.scalars(query).unique()}

    def _one(self, query, *, for_update: bool = False, answering: bool = False) -> Referral | None:
        if for_update or answering:
            query = (query.with_for_update(of=models.referrals, read=not for_update)
                     .execution_options(populate_existing=True))
        return self._seen(self.session.scalars(query).first())

    def _lock_invitation(self, referral_id: UUID, provider_id: UUID) -> None:
        i = models.invitations
        self.session.execute(sa.select(i.c.provider_id).where((i.c.referral_id == referral_id)
                                                              & (i.c.provider_id == provider_id)).with_for_update())

    def child_ref(self, referral_id: UUID) -> UUID:
        """The child's opaque reference (kept by orm.py when the referral is saved)."""
        known = next((r for r in self.seen if r.id == referral_id), None)
        if known is not None:
            if getattr(known, "_child_ref", None) is None:
                self.session.flush()  # a new referral's child_ref is assigned as it is written (orm.py)
            return known._child_ref
        t = models.referral_children
        return self.session.execute(sa.select(t.c.child_ref).where(t.c.referral_id == referral_id)).scalar_one()

    # finding

    def due_to_close(self, now: datetime, limit: int = 500) -> list[UUID]:
        r = models.referrals
        return list(self.session.execute(
            sa.select(r.c.id).where((r.c.status == ReferralStatus.PUBLISHED.value) & (r.c.deadline <= now))
            .order_by(r.c.deadline).limit(limit)).scalars())

    def find(self, *, now: datetime, team: str | None = None, status: str | None = None, lot: int | None = None,
             upn: str | None = None, child_ref: UUID | None = None, limit: int = 100, offset: int = 0) -> list[UUID]:
        r, c = models.referrals, models.referral_children
        query = sa.select(r.c.id).select_from(r.join(c, c.c.referral_id == r.c.id))
        for column, value in ((r.c.team, team), (r.c.lot, lot), (c.c.upn, upn), (c.c.child_ref, child_ref)):
            if value is not None:
                query = query.where(column == value)
        if status is not None:
            query = query.where(_status_as_of([status], now))
        return list(self.session.execute(query.order_by(r.c.created_at.desc(), r.c.id).limit(limit).offset(offset))
                    .scalars())

    def invited_to(self, provider_id: UUID, *, now: datetime, statuses: Iterable[str] | None = None,
                   lot: int | None = None, all_on: Iterable[int] | None = None, own_live_offers_on: Iterable[int] = (),
                   access_open: bool = False, limit: int = 100, offset: int = 0) -> list[UUID]:
        """Referrals the provider was invited to; with `all_on`, only those its memberships still open to
        it (the domain's `lots_by_access`): every one on `all_on` lots, those it has a live offer on on
        `own_live_offers_on` lots, and any awarded to one of its offers.  With `access_open`, only those
        whose profile is still open to it (the domain's `closed_to` is None): the window open, or its offer
        live on a referral not yet decided (published past its deadline, or closed), or awarded to it."""
        r, i, o = models.referrals, models.invitations, models.offers
        query = (sa.select(r.c.id).select_from(r.join(i, i.c.referral_id == r.c.id))
                 .where(i.c.provider_id == provider_id))
        its_offers = sa.select(o.c.id).where(o.c.provider_id == provider_id)
        live_offer = sa.exists(its_offers.where((o.c.referral_id == r.c.id) & o.c.withdrawn_at.is_(None)))
        if all_on is not None:
            query = query.where(r.c.lot.in_(list(all_on))
                                | (r.c.lot.in_(list(own_live_offers_on)) & live_offer)
                                | r.c.awarded_offer_id.in_(its_offers))
        if access_open:
            undecided = r.c.status.in_([ReferralStatus.PUBLISHED.value, ReferralStatus.CLOSED.value])
            query = query.where(((r.c.status == ReferralStatus.PUBLISHED.value) & (r.c.deadline > now))
                                | (undecided & live_offer) | r.c.awarded_offer_id.in_(its_offers))
        if statuses is not None:
            query = query.where(_status_as_of(statuses, now))
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

    def offer_by_idempotency_key(self, provider_id: UUID, key: str):
        t = models.offers
        return self.session.execute(sa.select(t.c.id, t.c.referral_id, t.c.request_fingerprint).where(
            (t.c.provider_id == provider_id) & (t.c.idempotency_key == key))).first()

    @staticmethod
    def remember_idempotency_key(offer: Offer, key: str, fingerprint: str) -> None:
        offer._idempotency_key, offer._request_fingerprint = key, fingerprint

    def off_dps_exceptions(self, *, team: str | None = None, lot: int | None = None, since: datetime | None = None,
                           limit: int = 100, offset: int = 0) -> list[dict]:
        r = models.referrals
        query = (sa.select(r.c.id.label("referral_id"), r.c.team, r.c.lot,
                           sa.type_coerce(r.c.status, sa.String).label("status"),
                           r.c.off_dps_reason.label("reason"), r.c.off_dps_by.label("recorded_by"),
                           r.c.off_dps_at.label("recorded_at"), r.c.off_dps_details)
                 .where(r.c.off_dps_at.is_not(None)))
        for column, value in ((r.c.team, team), (r.c.lot, lot)):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(r.c.off_dps_at >= since)
        rows = self.session.execute(query.order_by(r.c.off_dps_at.desc(), r.c.id).limit(limit).offset(offset))
        return [{**{k: v for k, v in row._mapping.items() if k != "off_dps_details"},
                 **(details_fields(row.off_dps_details) or {})} for row in rows]


def _status_as_of(statuses: Iterable[str], now: datetime) -> sa.ColumnElement[bool]:
    """The referral's status as the domain sees it now (`Referral.close_if_due`): a published referral
    whose deadline has passed is closed, whether or not the scheduled job has recorded it yet."""
    r = models.referrals
    published, closed = ReferralStatus.PUBLISHED.value, ReferralStatus.CLOSED.value
    due = (r.c.status == published) & (r.c.deadline <= now)
    wanted = set(statuses)
    condition = r.c.status.in_(sorted(wanted - {published}))
    if published in wanted:
        condition |= (r.c.status == published) & (r.c.deadline > now)
    if closed in wanted:
        condition |= due
    return condition
