"""The service layer: one function per use case.

Each takes a unit of work and plain arguments, loads the placement, lets the
domain decide, saves, writes the events to the outbox and an audit row, and
commits.  Those the consumer calls (`place_*`, `apply_membership`) do not
commit: the consumer commits their effect with its inbox row.

Who may touch a placement: a provider only its own (403 otherwise), an
officer only their team's (403 otherwise), the manager any.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from uuid import UUID

import sqlalchemy as sa

from services.tracking import domain, events, models
from services.tracking.domain import Placement, Provision, Safeguarding
from services.tracking.repository import PlacementRepository
from shared import audit
from shared.errors import Conflict, Forbidden, NotFound
from shared.unit_of_work import UnitOfWork

COUNCIL_ROLES = frozenset({"officer", "manager", "reporting"})
SEES_EVERY_TEAM = frozenset({"manager", "reporting"})
REGISTRY = "system:provider_registry"
AWARDS = "system:awards"


# -- who is asking ---------------------------------------------------------------

@dataclass(frozen=True)
class Caller:
    """The person behind a request, as the use cases need them."""

    user: str
    roles: frozenset[str]
    team: str | None = None
    provider_id: UUID | None = None

    @classmethod
    def of(cls, principal) -> Caller:
        return cls(principal.sub, frozenset(principal.roles), principal.team, principal.provider_id)

    @property
    def is_provider(self) -> bool:
        """Acting for a provider organisation (no council role)."""
        return not (self.roles & COUNCIL_ROLES) and self.provider_id is not None

    @property
    def team_scope(self) -> str | None:
        """The team an officer is limited to; None for the manager, reporting
        and providers (providers are limited by provider_id instead)."""
        if "officer" in self.roles and not (self.roles & SEES_EVERY_TEAM):
            return self.team
        return None

    @property
    def actor(self) -> domain.Actor:
        return domain.Actor(self.user, self.provider_id if self.is_provider else None)

    def ensure_may_see(self, provider_id: UUID, team: str) -> None:
        if self.is_provider and provider_id != self.provider_id:
            raise Forbidden("this placement is with another provider")
        if self.team_scope is not None and team != self.team_scope:
            raise Forbidden(f"this placement belongs to the {team} team")


def concern_policy(extra: dict | None = None) -> domain.ConcernPolicy:
    """The council's thresholds: DPS_ATTENDANCE_THRESHOLD (a fraction, default
    0.80) and DPS_ATTENDANCE_WINDOW_WEEKS (default 4); a runtime's
    `settings.extra` may override them (tests do)."""
    extra = extra or {}
    raw_threshold = extra.get("attendance_threshold") or os.environ.get("DPS_ATTENDANCE_THRESHOLD") or "0.80"
    raw_window = extra.get("attendance_window_weeks") or os.environ.get("DPS_ATTENDANCE_WINDOW_WEEKS") or "4"
    try:
        return domain.ConcernPolicy(Decimal(str(raw_threshold)), int(raw_window))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"bad attendance concern settings ({raw_threshold!r}, {raw_window!r}): {exc}") from None


# -- helpers ------------------------------------------------------------------------

def _audit(uow: UnitOfWork, *, actor: str, roles, action: str, subject_id, reason: str | None = None,
           details: dict | None = None, subject_type: str = "placement") -> None:
    audit.record(uow.session, models.metadata.tables["audit_log"], actor=actor, roles=roles,
                 action=action, subject_type=subject_type, subject_id=subject_id, reason=reason,
                 details=details, at=uow.now())


def _publish(uow: UnitOfWork, placement: Placement) -> list[str]:
    published = []
    for type_, data in events.messages(placement):
        uow.publish(type_, data)
        published.append(type_)
    return published


@contextmanager
def _about_placement() -> Iterator[None]:
    """A wrong transition names the placement itself as what is in the way."""
    try:
        yield
    except Conflict as exc:
        if exc.field_errors:
            raise
        raise Conflict(exc.message, field="placement_id", location="path") from None


def _load(uow: UnitOfWork, caller: Caller, placement_id: UUID) -> tuple[PlacementRepository, Placement]:
    repo = PlacementRepository(uow.session)
    placement = repo.get(placement_id, for_update=True)
    caller.ensure_may_see(placement.provider_id, placement.commissioning_team)
    return repo, placement


def _council_only(caller: Caller, what: str) -> None:
    if caller.is_provider:
        raise Forbidden(f"only an officer may {what}")


# -- placements from awards (the consumer commits) -----------------------------------

def expected_end(start_date: date, weeks: Decimal) -> date:
    """The last day of `weeks` weeks from the start (12 weeks from a Monday
    end on the Sunday of the twelfth week)."""
    return start_date + timedelta(days=math.ceil(weeks * 7) - 1)


def place_award(uow: UnitOfWork, award: dict, source: domain.PlacementSource) -> bool:
    """A placement from `placement.awarded` (call-off) or `block_place.allocated`
    (a block place).  The placement id is the award's, so a second copy of the
    event finds it there and changes nothing.  Returns whether it was new.

    Safeguarding starts with the commissioning team and the placement as the
    child's main provision; officers adjust both (`set_arrangements`)."""
    repo = PlacementRepository(uow.session)
    if repo.exists(award["placement_id"]):
        return False
    now = uow.now()
    terms = dict(
        placement_id=award["placement_id"], referral_id=award["referral_id"],
        child_ref=award["child_ref"], provider_id=award["provider_id"], lot=award["lot"],
        commissioning_team=award["team"], reason_for_ap=award["reason_for_ap"],
        hours_per_week=award["hours_per_week"], agreed_cost_pence=award["agreed_cost_pence"],
        start_date=award["start_date"], expected_end_date=expected_end(award["start_date"], award["weeks"]),
        safeguarding=Safeguarding.COMMISSIONING_TEAM, provision=Provision.MAIN)
    placement = (Placement.from_call_off(**terms) if source is domain.PlacementSource.CALL_OFF
                 else Placement.from_block_place(**terms))
    repo.add(placement, {name: award.get(name) for name in
                         ("award_id", "offer_id", "contract_id", "allocation_id", "unit_price_pence",
                          "units_per_week", "weeks", "awarded_by")} | {"awarded_at": award["at"]}, now)
    _audit(uow, actor=AWARDS, roles=(), action="placement.created", subject_id=placement.placement_id,
           details={"source": source.value, "provider_id": str(placement.provider_id), "lot": placement.lot,
                    "team": placement.commissioning_team, "agreed_cost_pence": placement.agreed_cost_pence})
    membership = _membership(uow, placement.provider_id, placement.lot)
    if membership and membership["status"] in ("suspended", "removed"):
        # the suspension arrived first (events from two exchanges may cross)
        _flag(uow, repo, placement, _flag_reason(placement.provider_id, membership["status"], placement.lot,
                                                 membership["reason"], membership["as_of"], uow))
    return True


# -- the registry's memberships (the consumer commits) ---------------------------------

def _membership(uow: UnitOfWork, provider_id: UUID, lot: int):
    table = models.memberships
    return uow.session.execute(sa.select(table).where(
        table.c.provider_id == provider_id, table.c.lot == lot)).mappings().first()


def note_provider_name(uow: UnitOfWork, provider_id: UUID, name: str, at: datetime) -> None:
    """Keep the newest name we were told (for the reports)."""
    table = models.providers
    current = uow.session.execute(sa.select(table).where(table.c.provider_id == provider_id)).mappings().first()
    if current is None:
        uow.session.execute(table.insert().values(provider_id=provider_id, name=name, as_of=at))
    elif current["as_of"] <= at:
        uow.session.execute(table.update().where(table.c.provider_id == provider_id).values(name=name, as_of=at))


def name_of_provider(uow: UnitOfWork, provider_id: UUID) -> str:
    table = models.providers
    name = uow.session.execute(sa.select(table.c.name).where(table.c.provider_id == provider_id)).scalar()
    return name or f"provider {provider_id}"


def _flag_reason(provider_id: UUID, status: str, lot: int, reason: str | None, at: datetime,
                 uow: UnitOfWork) -> str:
    what = "suspended from" if status == "suspended" else "removed from"
    return (f"{name_of_provider(uow, provider_id)} was {what} lot {lot} on "
            f"{domain.council_date(at).isoformat()}: {reason or 'no reason given'}")


def _flag(uow: UnitOfWork, repo: PlacementRepository, placement: Placement, reason: str) -> bool:
    if any(flag.reason == reason for flag in placement.review_flags):
        return False  # told twice
    placement.flag_for_review(reason, now=uow.now())
    repo.save(placement, uow.now(), by=REGISTRY)
    _audit(uow, actor=REGISTRY, roles=(), action="placement.flagged_for_review",
           subject_id=placement.placement_id, reason=reason)
    return True


def apply_membership(uow: UnitOfWork, *, provider_id: UUID, provider_name: str, lot: int, status: str,
                     reason: str | None, at: datetime) -> int:
    """A lot membership was suspended, reinstated or removed.  The newest
    news wins (a late copy of an older event changes nothing).  A suspension
    or removal flags the provider's open placements on that lot for review:
    they continue, but an officer must look at each; the next review (or the
    end) clears the flag.  A reinstatement leaves flags in place: the reason
    for the suspension still deserves that look.  Returns how many were flagged."""
    note_provider_name(uow, provider_id, provider_name, at)
    table = models.memberships
    current = _membership(uow, provider_id, lot)
    if current is not None and current["as_of"] > at:
        return 0
    values = dict(status=status, reason=reason, as_of=at)
    if current is None:
        uow.session.execute(table.insert().values(provider_id=provider_id, lot=lot, **values))
    else:
        uow.session.execute(table.update().where(table.c.provider_id == provider_id, table.c.lot == lot)
                            .values(**values))
    _audit(uow, actor=REGISTRY, roles=(), action=f"membership.{status}", subject_type="membership",
           subject_id=f"{provider_id}:{lot}", reason=reason)
    if status not in ("suspended", "removed"):
        return 0
    repo = PlacementRepository(uow.session)
    flag_reason = _flag_reason(provider_id, status, lot, reason, at, uow)
    flagged = 0
    for placement_id in repo.open_for_provider_lot(provider_id, lot):
        flagged += _flag(uow, repo, repo.get(placement_id, for_update=True), flag_reason)
    return flagged


# -- starting, ending, cancelling, arrangements ----------------------------------------

def start_placement(uow: UnitOfWork, caller: Caller, placement_id: UUID, started_on: date,
                    overlap_reason: str | None = None) -> Placement:
    repo, placement = _load(uow, caller, placement_id)
    repo.lock_child(placement.child_ref)  # the child's other placements cannot start meanwhile
    with _about_placement():
        placement.start(started_on, by=caller.actor, now=uow.now(), others=repo.of_child(placement.child_ref),
                        overlap_reason=overlap_reason)
    repo.save(placement, uow.now(), by=caller.user)
    _publish(uow, placement)
    _audit(uow, actor=caller.user, roles=caller.roles, action="placement.started", subject_id=placement_id,
           reason=placement.overlap_reason,
           details={"started_on": started_on.isoformat(), "confirmed_by": placement.start_confirmed_by.value})
    uow.commit()
    return placement


def end_placement(uow: UnitOfWork, caller: Caller, placement_id: UUID, *, end_date: date, end_reason: str,
                  next_step: str, note: str | None = None) -> Placement:
    repo, placement = _load(uow, caller, placement_id)
    with _about_placement():
        placement.end(end_date, end_reason=end_reason, next_step=next_step, by=caller.actor, now=uow.now())
    repo.save(placement, uow.now(), by=caller.user)
    _publish(uow, placement)
    _audit(uow, actor=caller.user, roles=caller.roles, action="placement.ended", subject_id=placement_id,
           reason=note, details={"end_date": end_date.isoformat(), "end_reason": placement.end_reason.value,
                                 "next_step": placement.next_step.value})
    uow.commit()
    return placement


def cancel_placement(uow: UnitOfWork, caller: Caller, placement_id: UUID, *, reason: str,
                     next_step: str) -> Placement:
    """An award the child never took up (see Placement.cancel)."""
    _council_only(caller, "cancel an award that never started")
    repo, placement = _load(uow, caller, placement_id)
    with _about_placement():
        placement.cancel(reason=reason, next_step=next_step, by=caller.actor, now=uow.now())
    repo.save(placement, uow.now(), by=caller.user)
    _publish(uow, placement)
    _audit(uow, actor=caller.user, roles=caller.roles, action="placement.cancelled", subject_id=placement_id,
           reason=placement.cancel_reason, details={"next_step": placement.next_step.value})
    uow.commit()
    return placement


def set_arrangements(uow: UnitOfWork, caller: Caller, placement_id: UUID, *,
                     safeguarding: str | None = None, provision: str | None = None,
                     overlap_reason: str | None = None, reason: str | None = None) -> Placement:
    """Who holds safeguarding responsibility; main or supplementary provision."""
    _council_only(caller, "record safeguarding and provision")
    repo, placement = _load(uow, caller, placement_id)
    repo.lock_child(placement.child_ref)
    before = {"safeguarding": placement.safeguarding.value, "provision": placement.provision.value}
    with _about_placement():
        placement.set_arrangements(by=caller.actor, others=repo.of_child(placement.child_ref),
                                   safeguarding=safeguarding, provision=provision,
                                   overlap_reason=overlap_reason)
    after = {"safeguarding": placement.safeguarding.value, "provision": placement.provision.value}
    repo.save(placement, uow.now(), by=caller.user)
    _audit(uow, actor=caller.user, roles=caller.roles, action="placement.arrangements_set",
           subject_id=placement_id, reason=reason or overlap_reason, details={"before": before, "after": after})
    uow.commit()
    return placement


# -- attendance and concerns -----------------------------------------------------------

def record_attendance(uow: UnitOfWork, caller: Caller, placement_id: UUID, *, week_commencing: date,
                      sessions_offered: int, attended: int, authorised_absence: int, unauthorised_absence: int,
                      policy: domain.ConcernPolicy) -> tuple[Placement, domain.AttendanceReturn, list]:
    """A provider's return for a week of its own placement; a second return
    for the same week corrects the first.  Returns the placement, the week
    and the concerns it raised (already published)."""
    if not caller.is_provider:
        raise Forbidden("attendance is returned by the provider of the placement")
    repo, placement = _load(uow, caller, placement_id)
    week = placement.new_return(week_commencing, today=domain.council_date(uow.now()),
                                sessions_offered=sessions_offered, attended=attended,
                                authorised_absence=authorised_absence, unauthorised_absence=unauthorised_absence)
    with _about_placement():
        concerns = placement.record_attendance(week, by=caller.actor, now=uow.now(), policy=policy)
    repo.save(placement, uow.now(), by=caller.user)
    _publish(uow, placement)
    _audit(uow, actor=caller.user, roles=caller.roles, action="attendance.recorded", subject_id=placement_id,
           details={"week_commencing": week_commencing.isoformat(), "sessions_offered": sessions_offered,
                    "attended": attended, "authorised_absence": authorised_absence,
                    "unauthorised_absence": unauthorised_absence})
    for concern in concerns:
        _audit(uow, actor=caller.user, roles=caller.roles, action="concern.raised", subject_type="concern",
               subject_id=concern.concern_id,
               details={"placement_id": str(placement_id), "kind": concern.kind.value,
                        "week_commencing": concern.week_commencing.isoformat(),
                        "rate": None if concern.rate is None else str(concern.rate)})
    uow.commit()
    return placement, week, concerns


def acknowledge_concern(uow: UnitOfWork, caller: Caller, concern_id: UUID, note: str) -> dict:
    """An officer has seen the concern and says what is being done."""
    _council_only(caller, "acknowledge a concern")
    table = models.concerns
    concern = uow.session.execute(sa.select(table).where(table.c.concern_id == concern_id)
                                  .with_for_update()).mappings().first()
    if concern is None:
        raise NotFound(f"no concern {concern_id}", field="concern_id", location="path")
    caller.ensure_may_see(concern["provider_id"], concern["team"])
    if concern["acknowledged_at"] is not None:
        raise Conflict(f"already acknowledged by {concern['acknowledged_by']}", field="concern_id",
                       location="path")
    uow.session.execute(table.update().where(table.c.concern_id == concern_id).values(
        acknowledged_at=uow.now(), acknowledged_by=caller.user, acknowledgement=note))
    _audit(uow, actor=caller.user, roles=caller.roles, action="concern.acknowledged", subject_type="concern",
           subject_id=concern_id, reason=note)
    uow.commit()
    return dict(uow.session.execute(sa.select(table).where(table.c.concern_id == concern_id)).mappings().one())


# -- reviews and outcomes -----------------------------------------------------------

def record_review(uow: UnitOfWork, caller: Caller, placement_id: UUID, *, review_date: date, attendance: str,
                  attitude: str, attainment: str, behaviour: str, notes: str) -> domain.Review:
    _council_only(caller, "record a review")
    repo, placement = _load(uow, caller, placement_id)
    with _about_placement():
        review = placement.record_review(review_date, attendance=attendance, attitude=attitude,
                                         attainment=attainment, behaviour=behaviour, notes=notes,
                                         by=caller.actor, now=uow.now())
    repo.save(placement, uow.now(), by=caller.user)
    _publish(uow, placement)
    _audit(uow, actor=caller.user, roles=caller.roles, action="review.recorded", subject_id=placement_id,
           details={"review_id": str(review.review_id), "review_date": review_date.isoformat()})
    uow.commit()
    return review


def record_outcome(uow: UnitOfWork, caller: Caller, placement_id: UUID, *, stage: str, recorded_on: date,
                   attainment: dict | None = None, qualifications: list | None = None,
                   engagement: int | None = None) -> domain.Outcome:
    """The provider of the placement or an officer records attainment,
    qualifications and engagement (also after the end: results come later)."""
    repo, placement = _load(uow, caller, placement_id)
    with _about_placement():
        outcome = placement.record_outcome(stage, recorded_on, by=caller.actor, now=uow.now(),
                                           attainment=attainment or {}, qualifications=qualifications or (),
                                           engagement=engagement)
    repo.save(placement, uow.now(), by=caller.user)
    _publish(uow, placement)
    _audit(uow, actor=caller.user, roles=caller.roles, action="outcome.recorded", subject_id=placement_id,
           details={"outcome_id": str(outcome.outcome_id), "stage": outcome.stage.value})
    uow.commit()
    return outcome

