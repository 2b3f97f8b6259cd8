"""The service layer: one function per use case.

Each takes a unit of work, who is acting (shared.actor.Actor) and plain
arguments; it loads the placement through `uow.placements`, lets the domain
decide, and commits.  The unit of work turns the placement's events into the
outbox messages and audit lines (messages.translate): no handler publishes.
Those the consumer calls (`place_award`, `note_block_contract`,
`apply_membership`, `note_provider_name`) do not commit: the consumer commits their effect with
its inbox row.

Who may touch a placement is the domain's rule (`domain.ensure_may_see`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import sqlalchemy as sa

from services.tracking import domain
from services.tracking.domain import Placement, Provision, Safeguarding
from shared.actor import Actor
from shared.calendar import WORKING_DAYS, Calendar, council_date
from shared.errors import Conflict, Forbidden
from shared.reminders import publish_once
from shared.schemas import cached
from shared.unit_of_work import AuditEntry, UnitOfWork

REGISTRY = Actor.system("provider_registry")
AWARDS = Actor.system("awards")


@contextmanager
def _about_placement() -> Iterator[None]:
    """A wrong transition names the placement itself as what is in the way."""
    try:
        yield
    except Conflict as exc:
        if exc.field_errors:
            raise
        raise Conflict(exc.message, field="placement_id", location="path") from None


def _load(uow: UnitOfWork, actor: Actor, placement_id: UUID) -> Placement:
    placement = uow.placements.get(placement_id, for_update=True)
    domain.ensure_may_see(actor, placement.provider_id, placement.commissioning_team)
    return placement


def _council_only(actor: Actor, what: str) -> None:
    if actor.is_provider:
        raise Forbidden(f"only an officer may {what}")


# -- placements from awards (the consumer commits) -----------------------------------

def place_award(uow: UnitOfWork, award: dict, source: domain.PlacementSource) -> bool:
    """A placement from `placement.awarded` (call-off), `block_place.allocated`
    (a block place) or `off_dps_placement.approved` (an approved off-DPS
    exception).  The placement id is the award's, so a second copy of the
    event finds it there and changes nothing.  Returns whether it was new.

    Safeguarding starts with the commissioning team and the placement as the
    child's main provision; officers adjust both (`set_arrangements`)."""
    if uow.placements.exists(award["placement_id"]):
        return False
    terms = dict(
        placement_id=award["placement_id"], referral_id=award["referral_id"],
        child_ref=award["child_ref"], provider_id=award["provider_id"], lot=award["lot"],
        commissioning_team=award["team"], reason_for_ap=award["reason_for_ap"],
        hours_per_week=award["hours_per_week"], full_time=award["full_time"],
        agreed_cost_pence=award["agreed_cost_pence"], start_date=award["start_date"],
        expected_end_date=domain.expected_end(award["start_date"], award["weeks"]),
        safeguarding=Safeguarding.COMMISSIONING_TEAM, provision=Provision.MAIN,
        standstill_ends_on=award.get("standstill_ends_on"), awarded_at=award["at"])
    placement = {domain.PlacementSource.CALL_OFF: Placement.from_call_off,
                 domain.PlacementSource.BLOCK_PLACE: Placement.from_block_place,
                 domain.PlacementSource.OFF_DPS: Placement.from_off_dps}[source](**terms)
    uow.placements.add(placement, **{name: award.get(name) for name in (
        "award_id", "offer_id", "contract_id", "allocation_id", "unit_price_pence", "units_per_week", "weeks",
        "awarded_by")})
    uow.record(AuditEntry("placement.created", "placement", placement.placement_id, details={
        "source": source.value, "provider_id": str(placement.provider_id), "lot": placement.lot,
        "team": placement.commissioning_team, "agreed_cost_pence": placement.agreed_cost_pence}, actor=AWARDS))
    membership = uow.registry.membership(placement.provider_id, placement.lot)
    if membership and membership["status"] in ("suspended", "removed"):
        # the suspension arrived first (events from two exchanges may cross)
        _flag(uow, placement, domain.flag_reason(uow.registry.name_of(placement.provider_id), membership["status"],
                                                 placement.lot, membership["reason"], membership["as_of"]))
    return True


def note_block_contract(uow: UnitOfWork, contract: dict) -> bool:
    """A block contract awards confirmed (`block_contract.confirmed`): its
    whole value is committed spend over its period, places filled or not
    (domain.block_contract_commitment).  Returns whether it was new."""
    terms = {name: contract[name] for name in (
        "opportunity_id", "provider_id", "lot", "team", "places", "price_pence", "contract_start", "contract_end")}
    if not uow.block_contracts.note(contract["contract_id"], **terms, confirmed_at=contract["at"]):
        return False
    uow.record(AuditEntry("block_contract.noted", "block_contract", contract["contract_id"], details={
        "provider_id": str(contract["provider_id"]), "lot": contract["lot"], "team": contract["team"],
        "price_pence": contract["price_pence"]}, actor=AWARDS))
    return True


# -- the sixth day (the consumer commits) ---------------------------------------------

def note_sixth_day(uow: UnitOfWork, referral: dict) -> bool:
    """The sixth-day deadline of a closed referral (`referral.closed`), kept per child and deadline; a
    referral with none (medical, post-16) is not kept.  Returns whether there was one."""
    if referral["full_time_provision_by"] is None:
        return False
    uow.sixth_day.note(domain.SixthDayDuty(
        child_ref=referral["child_ref"], full_time_provision_by=referral["full_time_provision_by"],
        referral_id=referral["referral_id"], team=referral["team"], lot=referral["lot"],
        reason_for_ap=referral["reason_for_ap"], looked_after=referral["looked_after"],
        first_school_day=referral["first_school_day"], noted_at=referral["at"]))
    return True


# -- the registry's memberships (the consumer commits) ---------------------------------

def note_provider_name(uow: UnitOfWork, provider_id: UUID, name: str, at: datetime) -> None:
    """Keep the newest name we were told (for the reports)."""
    uow.registry.note_name(provider_id, name, at)


def _flag(uow: UnitOfWork, placement: Placement, reason: str) -> bool:
    if not placement.flag_for_review(reason, now=uow.now()):
        return False  # told twice
    uow.record(AuditEntry("placement.flagged_for_review", "placement", placement.placement_id, reason,
                          actor=REGISTRY))
    return True


def apply_membership(uow: UnitOfWork, *, provider_id: UUID, provider_name: str, lot: int, status: str,
                     reason: str | None, at: datetime) -> int:
    """A lot membership was suspended, reinstated or removed.  The newest
    news wins (a late copy of an older event changes nothing).  A suspension
    or removal flags the provider's open placements on that lot for review:
    they continue, but an officer must look at each; the next review (or the
    end) clears the flag.  A reinstatement leaves flags in place: the reason
    for the suspension still deserves that look.  Returns how many were flagged."""
    uow.registry.note_name(provider_id, provider_name, at)
    if not uow.registry.note_membership(provider_id, lot, status, reason, at):
        return 0
    uow.record(AuditEntry(f"membership.{status}", "membership", f"{provider_id}:{lot}", reason, actor=REGISTRY))
    if status not in ("suspended", "removed"):
        return 0
    why = domain.flag_reason(uow.registry.name_of(provider_id), status, lot, reason, at)
    return sum(_flag(uow, placement, why) for placement in uow.placements.open_for_provider_lot(provider_id, lot))


# -- starting, ending, cancelling, arrangements ----------------------------------------

def start_placement(uow: UnitOfWork, actor: Actor, placement_id: UUID, started_on: date,
                    overlap_reason: str | None = None, calendar: Calendar = WORKING_DAYS) -> Placement:
    """Confirm the start; the first review is due six school weeks on (`calendar`: the school calendar)."""
    placement = _load(uow, actor, placement_id)
    uow.placements.lock_child(placement.child_ref)  # the child's other placements cannot start meanwhile
    with _about_placement():
        placement.start(started_on, by=actor, now=uow.now(), others=uow.placements.of_child(placement.child_ref),
                        overlap_reason=overlap_reason, calendar=calendar)
    uow.commit()
    return placement


def end_placement(uow: UnitOfWork, actor: Actor, placement_id: UUID, *, end_date: date, end_reason: str,
                  next_step: str, note: str | None = None) -> Placement:
    placement = _load(uow, actor, placement_id)
    with _about_placement():
        placement.end(end_date, end_reason=end_reason, next_step=next_step, by=actor, now=uow.now(), note=note)
    uow.commit()
    return placement


def cancel_placement(uow: UnitOfWork, actor: Actor, placement_id: UUID, *, reason: str,
                     next_step: str) -> Placement:
    """An award the child never took up (see Placement.cancel)."""
    _council_only(actor, "cancel an award that never started")
    placement = _load(uow, actor, placement_id)
    with _about_placement():
        placement.cancel(reason=reason, next_step=next_step, by=actor, now=uow.now())
    uow.commit()
    return placement


def set_arrangements(uow: UnitOfWork, actor: Actor, placement_id: UUID, *,
                     safeguarding: str | None = None, provision: str | None = None,
                     overlap_reason: str | None = None, reason: str | None = None) -> Placement:
    """Who holds safeguarding responsibility; main or supplementary provision."""
    _council_only(actor, "record safeguarding and provision")
    placement = _load(uow, actor, placement_id)
    uow.placements.lock_child(placement.child_ref)
    before = {"safeguarding": placement.safeguarding.value, "provision": placement.provision.value}
    with _about_placement():
        placement.set_arrangements(by=actor, others=uow.placements.of_child(placement.child_ref),
                                   safeguarding=safeguarding, provision=provision, overlap_reason=overlap_reason)
    after = {"safeguarding": placement.safeguarding.value, "provision": placement.provision.value}
    uow.record(AuditEntry("placement.arrangements_set", "placement", placement_id, reason or overlap_reason,
                          {"before": before, "after": after}))
    uow.commit()
    return placement


# -- attendance and concerns -----------------------------------------------------------

def record_attendance(uow: UnitOfWork, actor: Actor, placement_id: UUID, *, week_commencing: date,
                      sessions_offered: int, attended: int, authorised_absence: int, unauthorised_absence: int,
                      policy: domain.ConcernPolicy) -> tuple[Placement, domain.AttendanceReturn, list]:
    """A provider's return for a week of its own placement (an officer's, for an off-DPS placement); a
    second return for the same week corrects the first.  Returns the placement, the week and the concerns
    it raised."""
    placement = _load(uow, actor, placement_id)
    placement.ensure_may_return_attendance(actor)
    week = placement.new_return(week_commencing, today=domain.council_date(uow.now()),
                                sessions_offered=sessions_offered, attended=attended,
                                authorised_absence=authorised_absence, unauthorised_absence=unauthorised_absence)
    still_open = placement.open_concern(domain.ConcernKind.LOW_ATTENDANCE)
    weeks_low = still_open and still_open.weeks_low
    with _about_placement():
        concerns = placement.record_attendance(week, by=actor, now=uow.now(), policy=policy)
    if still_open is not None and still_open.weeks_low != weeks_low:
        # not published: dps.tracking has no event type for it yet
        uow.record(AuditEntry("concern.escalated", "concern", still_open.concern_id, details={
            "placement_id": str(placement_id), "week_commencing": still_open.week_commencing.isoformat(),
            "weeks_low": still_open.weeks_low, "rate": None if still_open.rate is None else str(still_open.rate)}))
    uow.commit()
    return placement, week, concerns


def acknowledge_concern(uow: UnitOfWork, actor: Actor, concern_id: UUID, note: str) -> domain.Concern:
    """An officer has seen the concern and says what is being done."""
    _council_only(actor, "acknowledge a concern")
    concern = uow.concerns.get(concern_id, for_update=True)
    domain.ensure_may_see(actor, concern.provider_id, concern.team)
    concern.acknowledge(note, by=actor, now=uow.now())
    uow.record(AuditEntry("concern.acknowledged", "concern", concern_id, note))
    uow.commit()
    return concern


# -- reviews and outcomes -----------------------------------------------------------

def record_review(uow: UnitOfWork, actor: Actor, placement_id: UUID, *, review_date: date, attendance: str,
                  attitude: str, attainment: str, behaviour: str, notes: str, child_views: str, family_views: str,
                  calendar: Calendar = WORKING_DAYS) -> tuple[Placement, domain.Review]:
    """Progress against the aims beside the child's and the family's views; the next review is due six
    school weeks on (`calendar`: the school calendar)."""
    _council_only(actor, "record a review")
    placement = _load(uow, actor, placement_id)
    with _about_placement():
        review = placement.record_review(review_date, attendance=attendance, attitude=attitude,
                                         attainment=attainment, behaviour=behaviour, notes=notes,
                                         child_views=child_views, family_views=family_views,
                                         by=actor, now=uow.now(), calendar=calendar)
    uow.commit()
    return placement, review


def record_outcome(uow: UnitOfWork, actor: Actor, placement_id: UUID, *, stage: str, recorded_on: date,
                   attainment: dict | None = None, qualifications: list | None = None,
                   engagement: int | None = None) -> tuple[Placement, domain.Outcome]:
    """The provider of the placement or an officer records attainment,
    qualifications and engagement (also after the end: results come later)."""
    placement = _load(uow, actor, placement_id)
    with _about_placement():
        outcome = placement.record_outcome(stage, recorded_on, by=actor, now=uow.now(),
                                           attainment=attainment or {}, qualifications=qualifications or (),
                                           engagement=engagement)
    uow.commit()
    return placement, outcome


# -- reminders: the daily job (issue #18) ----------------------------------------------------

def publish_reminders(uow: UnitOfWork, now: datetime, calendar: Calendar = WORKING_DAYS,
                      full_time_hours: Decimal = domain.sixth_day.DEFAULT_FULL_TIME_HOURS) -> int:
    """Publish, once each, a review due in 5 school days or overdue (each running placement), and a sixth-day
    deadline 2 school days away or missed (each child's duty), for notifications to tell the team.  The
    runner commits.  Returns how many it published."""
    from services.tracking import messages, models, views  # the job reads rows as the reports do

    today, published, table = council_date(now), 0, models.reminders_published
    P = models.placements.c
    running = uow.session.execute(sa.select(P.placement_id, P.provider_id, P.lot, P.team, P.review_due_on).where(
        P.status == domain.PlacementStatus.STARTED, P.review_due_on.is_not(None)))
    for row in running:
        kind = domain.review_reminder(row.review_due_on, today, calendar)
        if kind:
            data = cached(messages.DATA_SCHEMAS[kind]).dump({
                "placement_id": row.placement_id, "provider_id": row.provider_id, "lot": row.lot,
                "team": row.team, "due_on": row.review_due_on, "at": now})
            published += publish_once(uow, table, kind, subject_id=row.placement_id, due_on=row.review_due_on,
                                      data=data)
    for duty in views.sixth_day(uow.session, {}, today, calendar, full_time_hours):
        deadline = duty["full_time_provision_by"]
        kind = domain.sixth_day_reminder(duty["status"], deadline, today, calendar)
        if kind:
            data = cached(messages.DATA_SCHEMAS[kind]).dump({
                "referral_id": duty["referral_id"], "lot": duty["lot"], "team": duty["team"], "due_on": deadline,
                "at": now})
            published += publish_once(uow, table, kind, subject_id=duty["referral_id"], due_on=deadline,
                                      data=data)
    return published
