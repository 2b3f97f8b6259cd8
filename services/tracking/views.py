"""The read side (SQLAlchemy Core): the rows the API shows, and the reports.

Each report is one or a few SQL GROUP BY queries over indexed columns, so it
answers in well under a second over 10,000 placements and half a million
weekly returns (bench/tracking_reports.py).  The database adds up; the
domain's definitions (`domain.reports`) divide.

Every list and report takes `seen`: the filters `domain.visible_filters`
made of who is asking (an officer's team, a provider's own), the same rule
the single reads apply with `domain.ensure_may_see`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.tracking import domain, models
from services.tracking.domain import PlacementStatus
from shared.calendar import Calendar
from shared.errors import NotFound

P = models.placements
A = models.attendance_returns
C = models.concerns
S = models.committed_spend
B = models.block_contracts
NAMES = models.providers

DIMENSIONS = {"lot": P.c.lot, "team": P.c.team, "provider": P.c.provider_id, "reason": P.c.reason_for_ap}


def _within(seen: dict, query: sa.Select, table: sa.Table = P) -> sa.Select:
    """The query narrowed to the team and provider in `seen` (None: any)."""
    for column in ("team", "provider_id"):
        if seen.get(column) is not None:
            query = query.where(table.c[column] == seen[column])
    return query


def _provider_name():
    return NAMES.c.name.label("provider_name")


def _active_on(day: date):
    """Started on or before the day and not ended by it (as domain.active_on: ended
    that day is not active; a cancelled award never started, so never counts)."""
    return sa.and_(P.c.started_on.is_not(None), P.c.started_on <= day,
                   sa.or_(P.c.end_date.is_(None), P.c.end_date > day))


# -- placements, attendance, concerns, reviews, outcomes ---------------------------

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


def placement_row(session: Session, placement_id: UUID, *, with_open_concerns: bool = False) -> dict:
    """The placement's row with its provider's name (and, if asked, the count
    of its concerns not yet acknowledged), in one statement."""
    table, names, concerns = models.placements, models.providers, models.concerns
    columns = [table, names.c.name.label("provider_name")]
    if with_open_concerns:
        columns.append(sa.select(sa.func.count()).where(
            concerns.c.placement_id == table.c.placement_id, concerns.c.acknowledged_at.is_(None),
        ).scalar_subquery().label("open_concerns"))
    query = sa.select(*columns).select_from(table.outerjoin(names, names.c.provider_id == table.c.provider_id))
    row = session.execute(query.where(table.c.placement_id == placement_id)).mappings().first()
    if row is None:
        raise NotFound(f"no placement {placement_id}", field="placement_id", location="path")
    return dict(row)


def attendance_weeks(session: Session, placement_id: UUID) -> list[dict]:
    """The weeks returned, oldest first, each with its rate."""
    table = models.attendance_returns
    query = sa.select(table).where(table.c.placement_id == placement_id).order_by(table.c.week_commencing)
    weeks = [dict(row) for row in session.execute(query).mappings()]
    for week in weeks:
        week["rate"] = domain.rate(week["attended"], week["sessions_offered"])
    return weeks


def attendance_returns(weeks: list[dict]) -> list[domain.AttendanceReturn]:
    """The domain's returns from `attendance_weeks` rows (for the rates)."""
    return [domain.AttendanceReturn(week["week_commencing"], *(week[name] for name in domain.attendance.COUNTS))
            for week in weeks]


def concern_row(concern: domain.Concern) -> dict:
    return {**{name: getattr(concern, name) for name in (
        "concern_id", "kind", "week_commencing", "rate", "weeks_low", "raised_at", "acknowledged_at", "acknowledged_by",
        "acknowledgement", "provider_id", "lot", "team")}, "placement_id": concern.placement_id}


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
    return [outcome_row(dict(row)) for row in session.execute(query).mappings()]


def outcome_row(row: dict) -> dict:
    """An outcome as the API shows it: levels by subject, qualifications as records."""
    return {**row, "attainment": {subject.value: level for subject, level in row["attainment"]},
            "qualifications": [vars(q) for q in row["qualifications"]]}


# -- active placements ------------------------------------------------------------

def active_placements(session: Session, seen: dict, on: date,
                      by: tuple[str, ...] = ("lot", "team", "provider", "reason")) -> list[dict]:
    """How many placements are active on a day, grouped by any of lot, team,
    provider and reason for AP."""
    columns = [DIMENSIONS[name] for name in by]
    query = sa.select(*columns, sa.func.count().label("placements")).where(_active_on(on))
    query = _within(seen, query).group_by(*columns).order_by(*columns)
    rows = [dict(row) for row in session.execute(query).mappings()]
    if "provider" in by:
        _add_names(session, rows)
    for row in rows:
        if "lot" in row:
            row["lot_name"] = domain.LOTS.get(row["lot"])
    return rows


def _add_names(session: Session, rows: list[dict]) -> None:
    ids = {row["provider_id"] for row in rows}
    if not ids:
        return
    names = dict(session.execute(sa.select(NAMES.c.provider_id, NAMES.c.name)
                                 .where(NAMES.c.provider_id.in_(ids))).all())
    for row in rows:
        row["provider_name"] = names.get(row["provider_id"])


# -- committed spend --------------------------------------------------------------

def _block_contracts(session: Session, seen: dict) -> list[domain.BlockContractRow]:
    query = _within(seen, sa.select(
        B.c.contract_id, B.c.provider_id, B.c.lot, B.c.team.label("commissioning_team"), B.c.places,
        B.c.price_pence, B.c.contract_start, B.c.contract_end), B)
    return [domain.BlockContractRow(**row) for row in session.execute(query).mappings()]


def committed_spend(session: Session, seen: dict, from_month: date | None = None,
                    to_month: date | None = None) -> list[dict]:
    """Committed pence by provider, lot and month: each call-off's agreed
    cost spread over its days (to its end if it ended early: see
    domain.commitment_by_month) and each block contract's whole value over
    its period (a block place adds nothing: domain.committed_spend_by_month)."""
    query = _within(seen, sa.select(S.c.provider_id, S.c.lot, S.c.month, sa.func.sum(S.c.pence)), S)
    totals: dict[tuple, int] = defaultdict(int)
    for provider_id, lot, month, pence in session.execute(query.group_by(S.c.provider_id, S.c.lot, S.c.month)):
        totals[(provider_id, lot, month)] += int(pence)
    for key, pence in domain.committed_spend_by_month((), contracts=_block_contracts(session, seen)).items():
        totals[key] += pence
    first = from_month.replace(day=1) if from_month else date.min
    last = to_month.replace(day=1) if to_month else date.max
    rows = [{"month_start": month, "provider_id": provider_id, "lot": lot, "committed_pence": pence}
            for (provider_id, lot, month), pence in sorted(totals.items(), key=lambda kv: (
                kv[0][2], str(kv[0][0]), kv[0][1])) if first <= month <= last]
    _add_names(session, rows)
    return rows


def spend_by_month(session: Session, seen: dict, today: date) -> list[domain.MonthOfSpend]:
    """Committed and spent (to today) pence per month over what `seen` covers,
    every month from the first with either to the last."""
    committed = _within(seen, sa.select(S.c.month, sa.func.sum(S.c.pence)), S).group_by(S.c.month)
    by_month: dict[date, int] = {month: int(pence) for month, pence in session.execute(committed)}
    spent: dict[date, int] = defaultdict(int)
    placements = _within(seen, sa.select(
        P.c.agreed_cost_pence, P.c.started_on, P.c.expected_end_date, P.c.status, P.c.end_date, P.c.source).where(
        P.c.started_on.is_not(None), P.c.source == domain.PlacementSource.CALL_OFF.value))
    for row in session.execute(placements).mappings():
        for month, pence in domain.spent_by_month(row["agreed_cost_pence"], row["started_on"],
                                                  row["expected_end_date"], status=row["status"], today=today,
                                                  end_date=row["end_date"], source=row["source"]).items():
            spent[month] += pence
    for contract in _block_contracts(session, seen):
        for month, pence in domain.block_contract_commitment(contract).items():
            by_month[month] = by_month.get(month, 0) + pence
        for month, pence in domain.block_contract_spent(contract, today).items():
            spent[month] += pence
    return domain.spend_months(by_month, spent)


# -- accountability ---------------------------------------------------------------

def _count(condition) -> sa.ColumnElement:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def accountability(session: Session, seen: dict) -> list[dict]:
    """Per provider: placements, active and ended, average attendance,
    completion, reintegration and progression rates, and concerns."""
    ended = P.c.status == PlacementStatus.ENDED.value
    planned = [reason.value for reason in domain.PLANNED_END_REASONS]
    positive = [step.value for step in domain.POSITIVE_NEXT_STEPS]
    placements = _within(seen, sa.select(
        P.c.provider_id,
        _count(P.c.status != PlacementStatus.CANCELLED.value).label("placements"),
        _count(P.c.status == PlacementStatus.STARTED.value).label("active"),
        _count(ended).label("ended"),
        _count(sa.and_(ended, P.c.end_reason.in_(planned))).label("completed"),
        _count(sa.and_(ended, P.c.next_step == domain.NextStep.REINTEGRATED_MAINSTREAM.value))
        .label("reintegrated"),
        _count(sa.and_(ended, P.c.next_step.in_(positive))).label("progressed"),
    )).group_by(P.c.provider_id)
    attendance = _within(seen, sa.select(
        A.c.provider_id, sa.func.sum(A.c.sessions_offered).label("sessions_offered"),
        sa.func.sum(A.c.attended).label("attended"),
    ), A).group_by(A.c.provider_id)
    concerns = _within(seen, sa.select(C.c.provider_id, sa.func.count().label("concerns")), C) \
        .group_by(C.c.provider_id)
    totals: dict[UUID, dict] = {}
    for query in (placements, attendance, concerns):
        for row in session.execute(query).mappings():
            totals.setdefault(row["provider_id"], {}).update(
                {name: int(value or 0) for name, value in row.items() if name != "provider_id"})
    rows = []
    for provider_id, counts in totals.items():
        result = domain.accountability_of(domain.AccountabilityTotals(**counts))
        if result.placements == 0:
            continue  # only cancelled awards: nothing to account for
        rows.append({"provider_id": provider_id, **vars(result),
                     "sessions_offered": counts.get("sessions_offered", 0), "attended": counts.get("attended", 0)})
    _add_names(session, rows)
    return sorted(rows, key=lambda row: ((row["provider_name"] or "").casefold(), str(row["provider_id"])))


# -- overdue reviews ------------------------------------------------------------------

def overdue_reviews(session: Session, seen: dict, today: date) -> list[dict]:
    """Running placements past their review date or flagged for review (and
    flagged awards not yet started), longest overdue first."""
    started = P.c.status == PlacementStatus.STARTED.value
    query = sa.select(
        P.c.placement_id, P.c.provider_id, _provider_name(), P.c.lot, P.c.team, P.c.reason_for_ap, P.c.status,
        P.c.started_on, P.c.last_review_on, P.c.review_due_on, P.c.flagged_for_review, P.c.review_flags,
    ).select_from(P.outerjoin(NAMES, NAMES.c.provider_id == P.c.provider_id)).where(sa.or_(
        sa.and_(started, sa.or_(P.c.review_due_on < today, P.c.flagged_for_review)),
        sa.and_(P.c.status == PlacementStatus.AWARDED.value, P.c.flagged_for_review),
    ))
    query = _within(seen, query).order_by(sa.case((P.c.review_due_on.is_(None), 0), else_=1),
                                             P.c.review_due_on, P.c.placement_id)
    rows = []
    for row in session.execute(query).mappings():
        row = dict(row)
        due = row["review_due_on"]
        row["days_overdue"] = max((today - due).days, 0) if due else None
        row["flag_reasons"] = [flag.reason for flag in row.pop("review_flags") or []]
        rows.append(row)
    return rows


# -- the sixth day ----------------------------------------------------------------------

STATUS_ORDER = {domain.SixthDayStatus.MISSED: 0, domain.SixthDayStatus.AT_RISK: 1, domain.SixthDayStatus.MET: 2}


def sixth_day(session: Session, seen: dict, today: date, calendar: Calendar, full_time_hours: Decimal,
              status: str | None = None) -> list[dict]:
    """Each child's sixth-day deadline with the first day of full-time provision from the child's
    placements and its standing (domain.sixth_day_row): missed first (most school days first), then at
    risk, then met, each by deadline."""
    D = models.sixth_day_duties
    query = sa.select(D).order_by(D.c.full_time_provision_by, D.c.child_ref)
    if seen.get("team") is not None:
        query = query.where(D.c.team == seen["team"])
    if seen.get("provider_id") is not None:  # never a provider's report: the duty is the council's
        return []
    duties = [domain.SixthDayDuty(**row) for row in session.execute(query).mappings()]
    placements: dict[UUID, list] = {}
    children = list({duty.child_ref for duty in duties})
    for start in range(0, len(children), 500):
        spells = sa.select(P.c.child_ref, P.c.started_on, P.c.end_date, P.c.hours_per_week, P.c.full_time).where(
            P.c.child_ref.in_(children[start:start + 500]), P.c.started_on.is_not(None))
        for spell in session.execute(spells):
            placements.setdefault(spell.child_ref, []).append(spell)
    rows = [domain.sixth_day_row(duty, placements.get(duty.child_ref, ()), today=today, calendar=calendar,
                                 full_time_hours=full_time_hours) for duty in duties]
    if status is not None:
        rows = [row for row in rows if row.status.value == status]
    rows.sort(key=lambda row: (STATUS_ORDER[row.status], -(row.missed_by_school_days or 0),
                               row.full_time_provision_by, str(row.child_ref)))
    return [{**vars(row), "sixth_day_status": row.status.value} for row in rows]


# -- the January AP census ----------------------------------------------------------

CENSUS_COLUMNS = ("placement_id", "child_ref", "provider_id", "lot", "team", "reason_for_ap", "hours_per_week",
                  "full_time", "provision", "safeguarding", "source", "started_on", "expected_end_date",
                  "end_date", "agreed_cost_pence")


def census(session: Session, seen: dict, year: int, configured_days: Iterable[date] = ()) -> tuple[date, list[dict]]:
    """Placements children were in on census day (the third Thursday of January unless the council was told
    another), pseudonymous (`child_ref`), by child then start: the council's cross-check of the AP census
    return, which referrals builds where the child's identity lives (`GET /v1/reports/ap-census` there)."""
    day = domain.census_day(year, configured_days)
    query = sa.select(*(P.c[name] for name in CENSUS_COLUMNS), _provider_name()).select_from(
        P.outerjoin(NAMES, NAMES.c.provider_id == P.c.provider_id)).where(
        P.c.started_on.is_not(None), P.c.started_on <= day,  # as domain.on_roll_on: ending that day counts
        sa.or_(P.c.end_date.is_(None), P.c.end_date >= day))
    query = _within(seen, query).order_by(P.c.child_ref, P.c.started_on, P.c.placement_id)
    return day, [dict(row) for row in session.execute(query).mappings()]


# -- attendance over time -------------------------------------------------------------

def attendance_by_week(session: Session, seen: dict) -> list[domain.WeekOfAttendance]:
    query = _within(seen, sa.select(A.c.week_commencing, sa.func.sum(A.c.sessions_offered),
                                       sa.func.sum(A.c.attended)), A)
    query = query.group_by(A.c.week_commencing).order_by(A.c.week_commencing)
    return [domain.WeekOfAttendance(week, int(offered), int(attended))
            for week, offered, attended in session.execute(query).all()]
