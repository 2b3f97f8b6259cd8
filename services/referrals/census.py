"""The January AP census return: the use case and its read of the tables (`domain.census` decides).

Referrals builds it because the child's identity lives here: each placement tracking reported
(`child_placements`, from placement.started and placement.ended, whatever its source) joined with the
child's details and census details of its referral (`referral_children`), the referral's reason for AP,
and the setting as the registry's events described it (`providers`).  The manager sees every row, an
officer their own team's; every child whose identity the return shows is an identity read, recorded.
Nothing of it is ever sent to a provider or put on an event.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.referrals import handlers, models
from services.referrals.domain import ChildDetails, ReasonForAP
from services.referrals.domain.census import CensusPlacement, CensusReturn, census_day, census_return, setting_of
from services.referrals.domain.rectification import IDENTITY
from services.referrals.domain.visibility import MANAGER, OFFICER
from shared.actor import Actor
from shared.errors import Forbidden


def placements_on(session: Session, day: date) -> list[CensusPlacement]:
    """The council's placements a child was in on `day` (started by then, not ended before), with the child,
    its referral's facts and the setting."""
    p, c, r, s = models.child_placements, models.referral_children, models.referrals, models.providers
    query = (sa.select(p.c.placement_id, p.c.referral_id, p.c.started_on, p.c.ended_on, p.c.provider_id,
                       p.c.hours_per_week, p.c.full_time, c.c.child_ref, *(c.c[name] for name in IDENTITY),
                       r.c.team, r.c.lot, r.c.profile, r.c.off_dps_details, s.c.setting_kind, s.c.urn, s.c.ukprn,
                       s.c.establishment_type)
             .select_from(p.join(c, c.c.referral_id == p.c.referral_id).join(r, r.c.id == p.c.referral_id)
                          .outerjoin(s, s.c.provider_id == p.c.provider_id))
             .where(p.c.started_on.is_not(None), p.c.started_on <= day,
                    sa.or_(p.c.ended_on.is_(None), p.c.ended_on >= day))
             .order_by(c.c.child_ref, p.c.started_on, p.c.placement_id))
    return [_placement(row) for row in session.execute(query).mappings()]


def _placement(row) -> CensusPlacement:
    profile = row["profile"]
    hours = row["hours_per_week"]
    return CensusPlacement(
        placement_id=row["placement_id"], referral_id=row["referral_id"], child_ref=row["child_ref"],
        child=ChildDetails(**{name: row[name] for name in IDENTITY}),
        reason=ReasonForAP(profile.reason), lot=row["lot"], team=row["team"], ehcp=profile.ehcp,
        started_on=row["started_on"], ended_on=row["ended_on"],
        hours_per_week=Decimal(hours) if hours is not None else profile.hours_per_week, full_time=row["full_time"],
        setting=setting_of(row["provider_id"], row, row["off_dps_details"]))


def _team_of(actor: Actor) -> str | None:
    """The team whose rows the asker sees: the manager every team's (None), an officer their own."""
    if MANAGER in actor.roles:
        return None
    if OFFICER in actor.roles and actor.team:
        return actor.team
    raise Forbidden("the AP census shows children's identities: only the manager and the council's officers")


def ap_census(uow, actor: Actor, year: int, configured_days: Iterable[date] = (), *, through: str) -> CensusReturn:
    """The return of January `year` as the asker may see it; the identity reads it makes are recorded."""
    team = _team_of(actor)
    result = census_return(placements_on(uow.session, census_day(year, configured_days)), year, configured_days)
    if team is not None:
        result = CensusReturn(result.year, result.day, [row for row in result.rows if row.team == team],
                              [out for out in result.left_out if out.team == team])
    handlers.record_identity_reads(uow, actor, result.rows, through=through)
    return result
