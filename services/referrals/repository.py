"""Rows <-> referrals' domain objects.

- `RegistryCopy`: the service's own copy of lot memberships, pricing
  schedules, capacity and registration, written from the registry's events
  (each fact keeps the time of the event that set it, so an older event
  arriving late never overwrites a newer one) and read as domain
  `Membership`s.
- `ReferralRepository`: a referral is loaded whole (its child, questions,
  invitations, offers, declines and assessments); saving writes only what
  changed since it was loaded (a changed offer is one UPDATE, a new decline
  one INSERT), so an answer costs the same however many providers were
  invited.  Loading for a change locks the referral's row (FOR UPDATE on
  PostgreSQL), and the row's `version`, bumped on every save, guards against
  a lost update where there is no lock (SQLite).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
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
from services.referrals.domain.registry import status_on
from services.referrals.messages import profile_data
from shared.db import insert_for, read_children
from shared.errors import Conflict, NotFound
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


# Each registry-copy upsert is built once per dialect and shape (which facts
# the event carries) and run with bound values: consumers run one for every
# event, and building an ON CONFLICT statement costs more than executing it.
_UPSERTS: dict[tuple, sa.Executable] = {}


def _upsert(session: Session, table: sa.Table, names: tuple[str, ...], changes) -> sa.Executable:
    """INSERT the row, ON CONFLICT apply `changes(table, names, excluded)` -> (set_, where, returning)."""
    key = (session.get_bind().dialect.name, table.name, names, changes)
    statement = _UPSERTS.get(key)
    if statement is None:
        insert = insert_for(session, table).values({n: sa.bindparam(n, type_=table.c[n].type) for n in names})
        set_, where, returning = changes(table, names, insert.excluded)
        keys = [column.name for column in table.primary_key.columns]
        statement = (insert.on_conflict_do_update(index_elements=keys, set_=set_, where=where) if set_
                     else insert.on_conflict_do_nothing(index_elements=keys))
        if returning is not None:
            statement = statement.returning(returning)
        _UPSERTS[key] = statement
    return statement


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
        facts.append(("registration_at", ["registration_status", "urn", "registration_at", "ofsted_grade"]))
    return (*_facts(table, names, excluded, facts), None)


def _status_changes(table, names, excluded):
    facts = [("status_at", ["status", "status_at", "reason", "ends_on"])]
    if "capacity_at" in names:
        facts.append(("capacity_at", ["capacity", "capacity_at"]))
    return (*_facts(table, names, excluded, facts), table.c.status_at)


def _capacity_changes(table, names, excluded):
    return (*_facts(table, names, excluded, [("capacity_at", ["capacity", "capacity_at"])]), None)


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
        values: dict = {"provider_id": provider_id}
        if name:
            values.update(name=name, name_at=at)
        if registration is not None:
            values.update(registration_status=registration.get("registration_status"), urn=registration.get("urn"),
                          registration_at=at)
            if "ofsted_grade" in registration:
                values["ofsted_grade"] = registration["ofsted_grade"]
        self.session.execute(_upsert(self.session, models.providers, tuple(values), _provider_changes), values)

    def set_status(self, provider_id: UUID, lot: int, status: MembershipStatus, at: datetime, *,
                   reason: str | None = None, capacity: int | None = None, ends_on: date | None = None) -> bool:
        """The membership's status as of `at`; False when a later event already set it."""
        values: dict = {"provider_id": provider_id, "lot": lot, "status": status.value, "status_at": at,
                        "reason": reason}
        if ends_on is not None:
            values["ends_on"] = ends_on
        if capacity is not None:
            values.update(capacity=capacity, capacity_at=at)
        statement = _upsert(self.session, models.memberships, tuple(values), _status_changes)
        row = self.session.execute(statement, values).first()
        # Applied when the row (new or updated) now holds this event's status time.
        return row is not None and row.status_at == at

    def set_capacity(self, provider_id: UUID, lot: int, capacity: int, at: datetime) -> None:
        # Capacity before admission (out of order): keep it; the membership
        # stays "removed" (not eligible) until the admission arrives.
        values = {"provider_id": provider_id, "lot": lot, "status": "removed", "status_at": NEVER,
                  "capacity": capacity, "capacity_at": at}
        self.session.execute(_upsert(self.session, models.memberships, tuple(values), _capacity_changes), values)

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

    def memberships_of(self, provider_id: UUID, today: date) -> list[Membership]:
        """Every membership of one provider, standing as of today (without lines)."""
        t = models.memberships
        rows = self.session.execute(sa.select(t).where(t.c.provider_id == provider_id)).all()
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
                             unit=line.get("unit", ""), maximum_price_pence=int(line["maximum_price_pence"]),
                             staffing_ratio=line.get("staffing_ratio"))
                 for line in lines or ())


def _status(row, today: date) -> MembershipStatus:
    return status_on(row.status, row.ends_on, today)  # past its end: removed (the domain's rule)


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


@dataclass
class _Stored:
    """What the database holds of one referral, as last loaded or saved: `save`
    writes the difference between this and the aggregate, nothing else."""

    version: int
    columns: dict
    child: ChildDetails | None  # None: no row yet
    child_ref: UUID | None
    questions: dict[UUID, tuple[int, str]]  # id -> (position, text)
    invited: frozenset[UUID]
    offers: dict[UUID, dict]
    declines: dict[UUID, Decline]
    assessments: dict[UUID, dict]

    @classmethod
    def of(cls, referral: Referral, *, version: int, child_ref: UUID | None,
           questions: dict[UUID, tuple[int, str]]) -> _Stored:
        return cls(version=version, columns=_columns(referral), child=referral.child, child_ref=child_ref,
                   questions=questions, invited=frozenset(referral.invited),
                   offers={o.id: _offer_columns(o) for o in referral.offers}, declines=dict(referral.declines),
                   assessments={a.offer_id: _assessment_columns(a) for a in referral.assessments.values()})

    @classmethod
    def nothing(cls) -> _Stored:
        return cls(version=0, columns={}, child=None, child_ref=None, questions={}, invited=frozenset(), offers={},
                   declines={}, assessments={})


# How each part of a referral is ordered when read.
_PART_ORDER = {models.referral_questions: ["position"], models.invitations: ["provider_id"],
               models.offers: ["submitted_at"], models.declines: ["at"], models.assessments: ["at"]}


def _by_referral(rows: list) -> dict[UUID, list]:
    grouped: dict[UUID, list] = {}
    for row in rows:
        grouped.setdefault(row.referral_id, []).append(row)
    return grouped


class ReferralRepository(Repository):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        # As loaded or last saved, by referral: the version for the optimistic
        # check and the rows to diff against.  Built from the loaded rows only
        # when the referral is saved (most loads are reads).
        self._stored: dict[UUID, _Stored | Callable[[], _Stored]] = {}
        self._child_refs: dict[UUID, UUID] = {}

    # loading

    def get(self, referral_id: UUID, *, for_update: bool = False) -> Referral:
        found = self._load(models.referrals.c.id == referral_id, for_update=for_update)
        if referral_id not in found:
            raise NotFound("no such referral")
        return self._seen(found[referral_id])

    def get_many(self, ids: Iterable[UUID], *, for_update: bool = False) -> dict[UUID, Referral]:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        found = self._load(models.referrals.c.id.in_(ids), for_update=for_update)
        for referral in found.values():
            self._seen(referral)
        return found

    def get_by_offer(self, offer_id: UUID, provider_id: UUID, *, for_update: bool = False) -> Referral:
        """The referral one of the provider's offers was made on, found and read in one go."""
        o = models.offers
        ours = sa.select(o.c.referral_id).where((o.c.id == offer_id) & (o.c.provider_id == provider_id))
        found = self._load(models.referrals.c.id.in_(ours), for_update=for_update)
        if not found:
            raise NotFound("no such offer from your organisation")
        return self._seen(next(iter(found.values())))

    def _load(self, where, *, for_update: bool) -> dict[UUID, Referral]:
        r, c = models.referrals, models.referral_children
        # The child's row is one to one with the referral's: read with it.
        query = (sa.select(r, c.c.child_ref, c.c.name, c.c.date_of_birth, c.c.upn, c.c.address)
                 .select_from(r.join(c, c.c.referral_id == r.c.id)).where(where).order_by(r.c.id))
        if for_update:
            query = query.with_for_update(of=r)
        rows = self.session.execute(query).all()
        if not rows:
            return {}
        everyone = [row.id for row in rows]
        # A draft has no invitations, offers or declines; nothing is assessed
        # before the window closes: no need to ask for them.
        published = [row.id for row in rows if row.published_at is not None]
        closed = [row.id for row in rows if row.window_closed_at is not None]
        # The parts of every referral, in one round trip.
        children = read_children(self.session, "referral_id", {
            models.referral_questions: everyone, models.invitations: published, models.offers: published,
            models.declines: published, models.assessments: closed}, order_by=_PART_ORDER)
        questions, invited, offers, declines, assessments = (_by_referral(children[t]) for t in _PART_ORDER)
        result = {}
        for row in rows:
            parts = (row, questions.get(row.id, []), invited.get(row.id, []), offers.get(row.id, []),
                     declines.get(row.id, []), assessments.get(row.id, []))
            result[row.id] = self._referral(*parts)
            self._stored[row.id] = functools.partial(self._stored_from_rows, *parts)
            self._child_refs[row.id] = row.child_ref
        return result

    @classmethod
    def _stored_from_rows(cls, row, questions, *parts) -> _Stored:
        return _Stored.of(cls._referral(row, questions, *parts), version=row.version, child_ref=row.child_ref,
                          questions={q.id: (q.position, q.text) for q in questions})

    @staticmethod
    def _referral(row, questions, invited, offers, declines, assessments) -> Referral:
        referral = Referral(
            id=row.id, team=row.team, lot=row.lot,
            child=ChildDetails(row.name, row.date_of_birth, row.upn, row.address),
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

    def _as_stored(self, referral_id: UUID) -> _Stored:
        stored = self._stored[referral_id]
        if not isinstance(stored, _Stored):
            stored = self._stored[referral_id] = stored()
        return stored

    # saving: only what changed since the referral was loaded (or last saved)

    def add(self, referral: Referral) -> None:
        self._seen(referral)
        self.session.execute(models.referrals.insert().values(id=referral.id, version=1, **_columns(referral)))
        self._stored[referral.id] = self._save_parts(referral, _Stored.nothing(), version=1)

    def save(self, referral: Referral) -> None:
        """The referral's row is updated whatever changed: its version guards against a lost
        update where the row is not locked (SQLite); then only the parts that changed."""
        r = models.referrals
        before = self._as_stored(referral.id)
        changed = {k: v for k, v in _columns(referral).items() if before.columns.get(k) != v}
        updated = self.session.execute(r.update().where((r.c.id == referral.id) & (r.c.version == before.version))
                                       .values(version=before.version + 1, **changed))
        if updated.rowcount != 1:
            raise Conflict("the referral was changed by someone else at the same time: try again")
        self._stored[referral.id] = self._save_parts(referral, before, version=before.version + 1)

    def _save_parts(self, referral: Referral, before: _Stored, *, version: int) -> _Stored:
        child_ref = self._child_refs[referral.id] = self._save_child(referral, before)
        questions = self._save_questions(referral, before.questions)
        after = _Stored.of(referral, version=version, child_ref=child_ref, questions=questions)
        rid = referral.id
        new_invitations = [p for p in referral.invited if p not in before.invited]
        if new_invitations:
            self.session.execute(models.invitations.insert(), [
                {"referral_id": rid, "provider_id": p, "invited_at": referral.published_at}
                for p in new_invitations])
        # Changed offers first: a withdrawn offer gives up its "one live offer" place before a new one takes it.
        self._update_changed(models.offers, models.offers.c.id, before.offers, after.offers)
        self._insert_new(models.offers, before.offers, after.offers, {"referral_id": rid}, key="id")
        self._save_declines(rid, before.declines, after.declines)
        a = models.assessments
        gone = [offer_id for offer_id in before.assessments if offer_id not in after.assessments]
        if gone:
            self.session.execute(a.delete().where(a.c.offer_id.in_(gone)))
        self._update_changed(a, a.c.offer_id, before.assessments, after.assessments)
        self._insert_new(a, before.assessments, after.assessments, {"referral_id": rid}, key="offer_id")
        return after

    def _update_changed(self, table: sa.Table, key: sa.Column, before: dict, after: dict) -> None:
        for id_, values in after.items():
            stored = before.get(id_)
            if stored is not None and stored != values:
                self.session.execute(table.update().where(key == id_).values(
                    **{k: v for k, v in values.items() if stored.get(k) != v}))

    def _insert_new(self, table: sa.Table, before: dict, after: dict, extra: dict, *, key: str) -> None:
        new = [{key: id_, **extra, **values} for id_, values in after.items() if id_ not in before]
        if new:
            self.session.execute(table.insert(), new)

    def _save_declines(self, rid: UUID, before: dict[UUID, Decline], after: dict[UUID, Decline]) -> None:
        t = models.declines
        gone = [p for p in before if p not in after]
        if gone:  # an offer supersedes an earlier "no"
            self.session.execute(t.delete().where((t.c.referral_id == rid) & t.c.provider_id.in_(gone)))
        for p, decline in after.items():
            if p in before and before[p] != decline:
                self.session.execute(t.update().where((t.c.referral_id == rid) & (t.c.provider_id == p))
                                     .values(reason=decline.reason, at=decline.at))
        new = [{"referral_id": rid, "provider_id": d.provider_id, "reason": d.reason, "at": d.at}
               for p, d in after.items() if p not in before]
        if new:
            self.session.execute(t.insert(), new)

    def _save_child(self, referral: Referral, before: _Stored) -> UUID:
        child, t = referral.child, models.referral_children
        if child == before.child:
            return before.child_ref
        same_child = before.child is not None and before.child.upn == child.upn
        child_ref = before.child_ref if same_child else self.child_ref_for_upn(child.upn, referral.created_at)
        values = {"child_ref": child_ref, "name": child.name, "date_of_birth": child.date_of_birth,
                  "upn": child.upn, "address": child.address}
        if before.child is None:
            self.session.execute(t.insert().values(referral_id=referral.id, **values))
        else:
            self.session.execute(t.update().where(t.c.referral_id == referral.id).values(**values))
        return child_ref

    def _save_questions(self, referral: Referral, before: dict[UUID, tuple[int, str]]) -> dict[UUID, tuple[int, str]]:
        """Positions only ever grow along the list, so a question keeps its row (and its
        position, when still in order) and a new one is added after the one before it."""
        t = models.referral_questions
        asked = {q.id for q in referral.questions}
        gone = [qid for qid in before if qid not in asked]
        if gone:
            self.session.execute(t.delete().where(t.c.id.in_(gone)))
        after: dict[UUID, tuple[int, str]] = {}
        new, last = [], -1
        for question in referral.questions:
            stored = before.get(question.id)
            position = stored[0] if stored is not None and stored[0] > last else last + 1
            if stored is None:
                new.append({"id": question.id, "referral_id": referral.id, "position": position,
                            "text": question.text})
            elif stored != (position, question.text):
                self.session.execute(t.update().where(t.c.id == question.id)
                                     .values(position=position, text=question.text))
            after[question.id], last = (position, question.text), position
        if new:
            self.session.execute(t.insert(), new)
        return after

    def child_ref_for_upn(self, upn: str, now: datetime) -> UUID:
        """The same child (same UPN) keeps one opaque child_ref across referrals."""
        t = models.children
        _insert_ignoring_duplicates(self.session, t, {"child_ref": uuid.uuid4(), "upn": upn, "created_at": now},
                                    ["upn"])
        return self.session.execute(sa.select(t.c.child_ref).where(t.c.upn == upn)).scalar_one()

    def child_ref(self, referral_id: UUID) -> UUID:
        if referral_id in self._child_refs:  # loaded or saved here: the child's row came with it
            return self._child_refs[referral_id]
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
                   limit: int = 100, offset: int = 0) -> list[UUID]:
        """Referrals the provider was invited to; with `all_on`, only those its memberships still open to
        it (the domain's `lots_by_access`): every one on `all_on` lots, those it has a live offer on on
        `own_live_offers_on` lots, and any awarded to one of its offers."""
        r, i, o = models.referrals, models.invitations, models.offers
        query = (sa.select(r.c.id).select_from(r.join(i, i.c.referral_id == r.c.id))
                 .where(i.c.provider_id == provider_id))
        if all_on is not None:
            its_offers = sa.select(o.c.id).where(o.c.provider_id == provider_id)
            live_offer = sa.exists(its_offers.where((o.c.referral_id == r.c.id) & o.c.withdrawn_at.is_(None)))
            query = query.where(r.c.lot.in_(list(all_on))
                                | (r.c.lot.in_(list(own_live_offers_on)) & live_offer)
                                | r.c.awarded_offer_id.in_(its_offers))
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


def _assessment_columns(assessment: Assessment) -> dict:
    return {"meets_needs": assessment.meets_needs, "reason": assessment.reason,
            "criteria_met": {str(k): v for k, v in assessment.criteria_met.items()}, "by": str(assessment.by),
            "at": assessment.at}


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
