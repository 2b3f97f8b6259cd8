"""Rows <-> the Placement aggregate.

`get` loads a placement with everything that happened to it (a placement has
at most a year or so of weekly returns, a handful of reviews); `save` writes
back only what changed: the placement's row, new or corrected weeks, new
concerns, reviews and outcomes, and its committed spend when its period moved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.tracking import domain, models
from services.tracking.domain.values import PlacementStatus, Qualification, Subject
from shared.errors import NotFound

# placement columns the aggregate owns (the rest are the award's terms, written once)
_STATE_COLUMNS = ("status", "safeguarding", "provision", "started_on", "start_confirmed_by",
                  "overlap_reason", "end_date", "end_reason", "next_step", "cancel_reason")
_TERM_COLUMNS = ("placement_id", "referral_id", "child_ref", "provider_id", "lot",
                 "reason_for_ap", "hours_per_week", "agreed_cost_pence", "start_date",
                 "expected_end_date", "source")


def _value(value):
    return getattr(value, "value", value)


@dataclass
class _Loaded:
    """What was in the database when the placement was read."""

    weeks: dict[date, domain.AttendanceReturn] = field(default_factory=dict)
    concerns: set[UUID] = field(default_factory=set)
    reviews: set[UUID] = field(default_factory=set)
    outcomes: set[UUID] = field(default_factory=set)
    spend_key: tuple | None = None


def _spend_key(placement: domain.Placement) -> tuple:
    return (placement.status is PlacementStatus.CANCELLED, placement.started_on or placement.start_date,
            placement.expected_end_date, placement.agreed_cost_pence)


# The first of the two keys of tracking's advisory locks on a child (the
# second is from the child_ref): a key space of their own.
_CHILD_LOCKS = 0x6368  # "ch"


def _lock_key(child_ref: UUID) -> int:
    """A signed 32-bit key from the child's reference (two children sharing
    one only wait for each other)."""
    return int.from_bytes(child_ref.bytes[:4], "big", signed=True)


class PlacementRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._loaded: dict[UUID, _Loaded] = {}

    # -- reading ---------------------------------------------------------------

    def exists(self, placement_id: UUID) -> bool:
        query = sa.select(models.placements.c.placement_id).where(
            models.placements.c.placement_id == placement_id)
        return self.session.execute(query).first() is not None

    def get(self, placement_id: UUID, *, for_update: bool = False) -> domain.Placement:
        """The whole aggregate; `for_update` locks its row (PostgreSQL; on
        SQLite the unit of work holds the write lock already) so two returns
        for one placement are taken one after the other."""
        query = sa.select(models.placements).where(models.placements.c.placement_id == placement_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"no placement {placement_id}", field="placement_id", location="path")
        placement = _placement(row)
        loaded = _Loaded(spend_key=_spend_key(placement))
        for week in self._children(models.attendance_returns, placement_id, "week_commencing"):
            placement.attendance[week["week_commencing"]] = loaded.weeks[week["week_commencing"]] = \
                _attendance(week)
        for concern in self._children(models.concerns, placement_id, "raised_at"):
            placement.concerns.append(_concern(concern))
            loaded.concerns.add(concern["concern_id"])
        for review in self._children(models.reviews, placement_id, "review_date"):
            placement.reviews.append(_review(review))
            loaded.reviews.add(review["review_id"])
        for outcome in self._children(models.outcomes, placement_id, "recorded_at"):
            placement.outcomes.append(_outcome(outcome))
            loaded.outcomes.add(outcome["outcome_id"])
        self._loaded[placement_id] = loaded
        return placement

    def _children(self, table: sa.Table, placement_id: UUID, order: str) -> list:
        query = sa.select(table).where(table.c.placement_id == placement_id).order_by(table.c[order])
        return list(self.session.execute(query).mappings())

    def lock_child(self, child_ref: UUID) -> None:
        """Hold the child until the end of the transaction, so two of its
        placements are started (or rearranged) one after the other and the
        second sees the first among the child's placements.  On PostgreSQL a
        transaction-level advisory lock keyed on the child (row locks on the
        placement being started would let two placements of one child start
        at once); on SQLite the unit of work already holds the write lock."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(sa.select(sa.func.pg_advisory_xact_lock(_CHILD_LOCKS, _lock_key(child_ref))))

    def of_child(self, child_ref: UUID) -> list[domain.Placement]:
        """The child's placements (their terms and state: enough for the
        one-provider-at-a-time rule)."""
        query = sa.select(models.placements).where(models.placements.c.child_ref == child_ref)
        return [_placement(row) for row in self.session.execute(query).mappings()]

    def open_for_provider_lot(self, provider_id: UUID, lot: int) -> list[UUID]:
        """Placements of a provider on a lot that are awarded or running."""
        table = models.placements
        query = sa.select(table.c.placement_id).where(
            table.c.provider_id == provider_id, table.c.lot == lot,
            table.c.status.in_([PlacementStatus.AWARDED.value, PlacementStatus.STARTED.value]))
        return list(self.session.execute(query).scalars())

    # -- writing ---------------------------------------------------------------

    def add(self, placement: domain.Placement, terms: dict, now: datetime) -> None:
        """A new placement from an award: its terms (`terms` has the award's
        own ids and prices) and its committed spend."""
        values = {name: _value(getattr(placement, name)) for name in _TERM_COLUMNS + _STATE_COLUMNS}
        values.update(terms, team=placement.commissioning_team, full_time=placement.full_time,
                      last_review_on=None, review_due_on=None, flagged_for_review=False,
                      review_flags=[], created_at=now, updated_at=now)
        self.session.execute(models.placements.insert().values(**values))
        self._loaded[placement.placement_id] = _Loaded()
        self.save(placement, now)

    def save(self, placement: domain.Placement, now: datetime, by: str = "system") -> None:
        loaded = self._loaded[placement.placement_id]
        self._save_row(placement, now)
        self._save_weeks(placement, loaded, now, by)
        self._save_concerns(placement, loaded)
        self._save_reviews(placement, loaded)
        self._save_outcomes(placement, loaded)
        if loaded.spend_key != _spend_key(placement):
            self._save_spend(placement)
            loaded.spend_key = _spend_key(placement)

    def _save_row(self, placement: domain.Placement, now: datetime) -> None:
        values = {name: _value(getattr(placement, name)) for name in _STATE_COLUMNS}
        values.update(
            last_review_on=placement.last_review_on, review_due_on=placement.review_due_date,
            flagged_for_review=placement.flagged_for_review,
            review_flags=[{"reason": f.reason, "at": f.at.isoformat()} for f in placement.review_flags],
            updated_at=now)
        self.session.execute(models.placements.update()
                             .where(models.placements.c.placement_id == placement.placement_id)
                             .values(**values))

    def _save_weeks(self, placement: domain.Placement, loaded: _Loaded, now: datetime, by: str) -> None:
        table = models.attendance_returns
        for week, ret in placement.attendance.items():
            before = loaded.weeks.get(week)
            if before == ret:
                continue
            counts = {name: getattr(ret, name) for name in domain.attendance.COUNTS}
            recorded_by = by
            if before is None:
                self.session.execute(table.insert().values(
                    placement_id=placement.placement_id, week_commencing=week,
                    provider_id=placement.provider_id, lot=placement.lot,
                    team=placement.commissioning_team, corrections=0, recorded_by=recorded_by,
                    recorded_at=now, **counts))
            else:  # a correction replaces the week's return
                self.session.execute(table.update().where(
                    table.c.placement_id == placement.placement_id, table.c.week_commencing == week,
                ).values(corrections=table.c.corrections + 1, recorded_by=recorded_by, recorded_at=now,
                         **counts))
            loaded.weeks[week] = ret

    def _save_concerns(self, placement: domain.Placement, loaded: _Loaded) -> None:
        for concern in placement.concerns:
            if concern.concern_id in loaded.concerns:
                continue
            self.session.execute(models.concerns.insert().values(
                concern_id=concern.concern_id, placement_id=placement.placement_id,
                provider_id=placement.provider_id, lot=placement.lot, team=placement.commissioning_team,
                kind=concern.kind.value, week_commencing=concern.week_commencing, rate=concern.rate,
                raised_at=concern.raised_at))
            loaded.concerns.add(concern.concern_id)

    def _save_reviews(self, placement: domain.Placement, loaded: _Loaded) -> None:
        for review in placement.reviews:
            if review.review_id in loaded.reviews:
                continue
            self.session.execute(models.reviews.insert().values(
                review_id=review.review_id, placement_id=placement.placement_id,
                review_date=review.review_date, attendance=review.attendance.value,
                attitude=review.attitude.value, attainment=review.attainment.value,
                behaviour=review.behaviour.value, notes=review.notes, recorded_by=review.by,
                recorded_at=review.recorded_at))
            loaded.reviews.add(review.review_id)

    def _save_outcomes(self, placement: domain.Placement, loaded: _Loaded) -> None:
        for outcome in placement.outcomes:
            if outcome.outcome_id in loaded.outcomes:
                continue
            self.session.execute(models.outcomes.insert().values(
                outcome_id=outcome.outcome_id, placement_id=placement.placement_id,
                stage=outcome.stage.value, recorded_on=outcome.recorded_on,
                attainment={subject.value: level for subject, level in outcome.attainment},
                qualifications=[vars(q) for q in outcome.qualifications],
                engagement=outcome.engagement, recorded_by=outcome.by, recorded_at=outcome.recorded_at))
            loaded.outcomes.add(outcome.outcome_id)

    def _save_spend(self, placement: domain.Placement) -> None:
        """The agreed cost spread over its months; a cancelled award commits nothing."""
        table = models.committed_spend
        self.session.execute(table.delete().where(table.c.placement_id == placement.placement_id))
        if placement.status is PlacementStatus.CANCELLED:
            return
        first_day = placement.started_on or placement.start_date
        months = domain.allocate_by_month(placement.agreed_cost_pence, first_day,
                                          placement.expected_end_date)
        rows = [dict(placement_id=placement.placement_id, month=month, provider_id=placement.provider_id,
                     lot=placement.lot, team=placement.commissioning_team, pence=pence)
                for month, pence in months.items()]
        if rows:
            self.session.execute(table.insert(), rows)


# -- rows -> domain objects -------------------------------------------------------

_ENUMS = {"start_confirmed_by": domain.StartConfirmedBy, "end_reason": domain.EndReason,
          "next_step": domain.NextStep}


def _placement(row) -> domain.Placement:
    values = {name: row[name] for name in _TERM_COLUMNS + _STATE_COLUMNS}
    for name, kind in _ENUMS.items():
        if values[name] is not None:
            values[name] = kind(values[name])
    return domain.Placement(
        **values, commissioning_team=row["team"],
        review_flags=[domain.ReviewFlag(flag["reason"], datetime.fromisoformat(flag["at"]))
                      for flag in row["review_flags"] or []])


def _attendance(row) -> domain.AttendanceReturn:
    return domain.AttendanceReturn(row["week_commencing"], *(row[name] for name in domain.attendance.COUNTS))


def _concern(row) -> domain.Concern:
    return domain.Concern(domain.ConcernKind(row["kind"]), row["week_commencing"], row["rate"],
                          row["raised_at"], concern_id=row["concern_id"])


def _review(row) -> domain.Review:
    return domain.Review(
        review_date=row["review_date"], attendance=domain.Progress(row["attendance"]),
        attitude=domain.Progress(row["attitude"]), attainment=domain.Progress(row["attainment"]),
        behaviour=domain.Progress(row["behaviour"]), notes=row["notes"], by=row["recorded_by"],
        recorded_at=row["recorded_at"], review_id=row["review_id"])


def _outcome(row) -> domain.Outcome:
    return domain.Outcome(
        stage=domain.OutcomeStage(row["stage"]), recorded_on=row["recorded_on"],
        attainment=tuple((Subject(subject), level) for subject, level in (row["attainment"] or {}).items()),
        qualifications=tuple(Qualification(**q) for q in row["qualifications"] or []),
        engagement=row["engagement"], by=row["recorded_by"], recorded_at=row["recorded_at"],
        outcome_id=row["outcome_id"])


# -- reads for the API's lists -------------------------------------------------------

def find_placements(session: Session, *, team: str | None = None, provider_id: UUID | None = None,
                    status: str | None = None, lot: int | None = None, child_ref: UUID | None = None,
                    needs_review_on: date | None = None, limit: int = 100, offset: int = 0) -> list[dict]:
    table, names = models.placements, models.providers
    query = sa.select(table, names.c.name.label("provider_name")).select_from(
        table.outerjoin(names, names.c.provider_id == table.c.provider_id))
    for column, value in (("team", team), ("provider_id", provider_id), ("status", status), ("lot", lot),
                          ("child_ref", child_ref)):
        if value is not None:
            query = query.where(table.c[column] == value)
    if needs_review_on is not None:
        query = query.where(table.c.status.in_([PlacementStatus.AWARDED.value, PlacementStatus.STARTED.value]),
                            sa.or_(table.c.flagged_for_review, table.c.review_due_on < needs_review_on))
    query = query.order_by(table.c.awarded_at.desc(), table.c.placement_id).limit(limit).offset(offset)
    return [dict(row) for row in session.execute(query).mappings()]


def _placement_row_query(with_open_concerns: bool) -> sa.Select:
    table, names, concerns = models.placements, models.providers, models.concerns
    columns = [table, names.c.name.label("provider_name")]
    if with_open_concerns:
        columns.append(sa.select(sa.func.count()).where(
            concerns.c.placement_id == table.c.placement_id, concerns.c.acknowledged_at.is_(None),
        ).scalar_subquery().label("open_concerns"))
    return sa.select(*columns).select_from(
        table.outerjoin(names, names.c.provider_id == table.c.provider_id)).where(
        table.c.placement_id == sa.bindparam("placement_id"))


# Built once: the most frequent reads skip building their statements on every request.
_PLACEMENT_ROW = {with_open: _placement_row_query(with_open) for with_open in (False, True)}
_ATTENDANCE_WEEKS = sa.select(models.attendance_returns).where(
    models.attendance_returns.c.placement_id == sa.bindparam("placement_id")).order_by(
    models.attendance_returns.c.week_commencing)


def placement_row(session: Session, placement_id: UUID, *, with_open_concerns: bool = False) -> dict:
    """The placement's row with its provider's name (and, if asked, the count
    of its concerns not yet acknowledged), in one statement."""
    query = _PLACEMENT_ROW[with_open_concerns]
    row = session.execute(query, {"placement_id": placement_id}).mappings().first()
    if row is None:
        raise NotFound(f"no placement {placement_id}", field="placement_id", location="path")
    return dict(row)


def attendance_weeks(session: Session, placement_id: UUID) -> list[dict]:
    return [dict(row) for row in session.execute(_ATTENDANCE_WEEKS, {"placement_id": placement_id}).mappings()]


def attendance_returns(weeks: list[dict]) -> list[domain.AttendanceReturn]:
    """The domain's returns from `attendance_weeks` rows (for the rates)."""
    return [_attendance(week) for week in weeks]


def find_concerns(session: Session, *, team: str | None = None, provider_id: UUID | None = None,
                  placement_id: UUID | None = None, kind: str | None = None, open: bool | None = None,
                  limit: int = 100, offset: int = 0) -> list[dict]:
    """Newest first: what officers must see at once."""
    table, names = models.concerns, models.providers
    query = sa.select(table, names.c.name.label("provider_name")).select_from(
        table.outerjoin(names, names.c.provider_id == table.c.provider_id))
    for column, value in (("team", team), ("provider_id", provider_id), ("placement_id", placement_id),
                          ("kind", kind)):
        if value is not None:
            query = query.where(table.c[column] == value)
    if open is not None:
        query = query.where(table.c.acknowledged_at.is_(None) if open else table.c.acknowledged_at.is_not(None))
    query = query.order_by(table.c.raised_at.desc(), table.c.concern_id).limit(limit).offset(offset)
    return [dict(row) for row in session.execute(query).mappings()]


def reviews_of(session: Session, placement_id: UUID) -> list[dict]:
    table = models.reviews
    query = sa.select(table).where(table.c.placement_id == placement_id).order_by(table.c.review_date)
    return [dict(row) for row in session.execute(query).mappings()]


def outcomes_of(session: Session, placement_id: UUID) -> list[dict]:
    table = models.outcomes
    query = sa.select(table).where(table.c.placement_id == placement_id).order_by(table.c.recorded_on,
                                                                                  table.c.recorded_at)
    return [dict(row) for row in session.execute(query).mappings()]
