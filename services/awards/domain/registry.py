"""Awards' own copy of what the provider registry and tracking told it.

The service layer keeps these up to date from events (dps.configured,
membership.*, pricing_schedule.effective, capacity.changed,
provider.registration_changed) and counts places in use as its own awards and
block allocations less those tracking says have ended (placement.ended); the
rules below only read them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from shared.calendar import add_working_days
from shared.catalogue import FIRST_DPS_ID, LOTS
from shared.errors import Conflict

from .common import Authority
from .registration import DeclaredRoll, Pupil, Setting, SettingKind

MEMBERS_ONLY = Authority("PCR 2015 regulation 34 (Procurement Act 2023 section 34 for a dynamic market): "
                         "work under the DPS goes only to a provider admitted to it", law=True)
NOT_WHILE_SUSPENDED = Authority("the DPS terms: a suspended provider is awarded no work and given no place",
                                law=False)

STATUTORY_END_RULE = "SI 2024/716 regulation 5(4)"
"""Why a DPS set up under the 2015 rules ends by law, whatever term it advertised."""


class Regime(enum.Enum):
    """The law a DPS record was set up under: the rules that differ hang off it."""

    PCR2015_DPS = "pcr2015_dps"  # Public Contracts Regulations 2015 regulation 34
    PA2023_DYNAMIC_MARKET = "pa2023_dynamic_market"  # Procurement Act 2023 ss.34-39
    PA2023_OPEN_FRAMEWORK = "pa2023_open_framework"  # the Act's light-touch open framework

    @property
    def under_the_act(self) -> bool:
        return self is not Regime.PCR2015_DPS

    @property
    def award_criteria_rule(self) -> str:
        """Why a call-off goes only on the award criteria the DPS published."""
        if self.under_the_act:
            return "Procurement Act 2023 ss.19 and 23: award on the published award criteria (law)"
        return "PCR 2015 regulation 34: award on the criteria published for the DPS (law)"

    def call_off_standstill(self, decided_on: date, *, used: bool = False) -> Standstill:
        """The standstill after a call-off award, by regime (the one place this rule lives).

        PCR 2015 DPS: voluntary for a call-off; where the council uses it, 10
        calendar days after the notice (regulations 86-87).  Procurement Act
        2023: 8 working days after the contract award notice (s.51)."""
        if self.under_the_act:
            return Standstill(True, add_working_days(decided_on, 8), "Procurement Act 2023 s.51 (law): "
                                                                     "8 working days")
        if used:
            return Standstill(True, decided_on + timedelta(days=10),
                              "PCR 2015 regulations 86-87 (used by the council's choice): 10 calendar days")
        return Standstill(False, None, "PCR 2015 regulation 87: voluntary for a call-off under a DPS; not used")


@dataclass(frozen=True)
class Standstill:
    applies: bool
    ends_on: date | None  # the last day of standstill; the contract may be entered into from the day after
    basis: str


@dataclass(frozen=True)
class AwardCriterion:
    """One of the call-off award criteria the DPS published."""

    code: str
    name: str
    description: str = ""


DEFAULT_AWARD_CRITERIA = tuple(AwardCriterion(code, code.capitalize(), words) for code, words in (
    ("value", "Best value for money at the volume asked for"),
    ("travel", "Travel time and transport for this child"),
    ("continuity", "Continuity with a current or recent provider"),
    ("specialism", "Specialist provision for the child's primary need"),
    ("start", "Earliest start (the sixth-day duty)")))
"""What the first DPS published until its record says otherwise (the registry's default set)."""


@dataclass(frozen=True)
class DpsRecord:
    """Awards' copy of one DPS record, as dps.configured last described it."""

    dps_id: UUID
    name: str
    regime: Regime
    start: date
    term_ends_on: date
    statutory_end: date | None
    ends_on: date  # the last day anything may be awarded: the earlier of the term and the statutory end
    status: str = "open"
    lots: tuple[int, ...] = tuple(LOTS)
    award_criteria: tuple[AwardCriterion, ...] = DEFAULT_AWARD_CRITERIA
    agreed_minimum_window_days: int | None = None

    @classmethod
    def first(cls, statutory_end: date) -> DpsRecord:
        """The first DPS before awards has heard its record: a DPS under PCR 2015
        (April 2024 to March 2031 advertised) with the statutory end configured."""
        term_ends_on = date(2031, 3, 31)
        return cls(FIRST_DPS_ID, "Alternative Provision DPS", Regime.PCR2015_DPS, date(2024, 4, 1), term_ends_on,
                   statutory_end, min(term_ends_on, statutory_end))

    def criterion(self, code: str) -> AwardCriterion | None:
        return next((c for c in self.award_criteria if c.code == code), None)

    def check_may_award(self, on: date) -> None:
        """No call-off outside the DPS's life (before its start, once it is closed,
        after its last day); those already awarded run on."""
        if self.status == "closed":
            raise Conflict(f"the DPS {self.name!r} is closed: no call-off may be awarded under it (the council "
                           f"closed it; its call-offs already awarded run on)", field="dps_id")
        if on < self.start:
            raise Conflict(f"the DPS {self.name!r} starts on {self.start.isoformat()}: no call-off may be awarded "
                           f"under it before then", field="dps_id")
        if on <= self.ends_on:
            return
        if self.ends_on == self.statutory_end:
            raise Conflict(f"no call-off may be awarded after {self.ends_on.isoformat()}, the statutory end of "
                           f"a DPS under the 2015 rules ({STATUTORY_END_RULE}; law): call-offs already awarded "
                           f"run on", field="dps_id")
        raise Conflict(f"no call-off may be awarded after {self.ends_on.isoformat()}, the last day of the DPS's "
                       f"advertised term (the council's DPS terms)", field="dps_id")


class MembershipStatus(enum.Enum):
    ADMITTED = "admitted"
    SUSPENDED = "suspended"
    REMOVED = "removed"


@dataclass(frozen=True)
class ProviderOnLot:
    """One provider's standing on one lot, as the registry last told us."""

    provider_id: UUID
    lot: int
    membership: MembershipStatus
    setting_kind: SettingKind
    maximum_prices: Mapping[UUID, int] = field(default_factory=dict)  # pricing line id -> pence
    capacity: int = 0  # places declared on this lot
    units: Mapping[UUID, str] = field(default_factory=dict)  # pricing line id -> its unit (hour, session, week...)
    roll: DeclaredRoll | None = None  # an unregistered setting's declared roll (the registration rule)

    @property
    def setting(self) -> Setting:
        return Setting(self.setting_kind, self.roll)

    @property
    def can_be_awarded(self) -> bool:
        """Admitted and not suspended: the only standing that may win work."""
        return self.membership is MembershipStatus.ADMITTED


def standing_refusal(standing: ProviderOnLot | None, lot: int) -> str | None:
    """Why a provider may not be awarded work or a place on `lot` now, naming
    the rule (a block contract, a block place); None when it may."""
    if standing is None:
        return f"the provider is not admitted to lot {lot} ({MEMBERS_ONLY})"
    if standing.membership is MembershipStatus.REMOVED:
        return f"the provider was removed from lot {lot} ({MEMBERS_ONLY})"
    if standing.membership is MembershipStatus.SUSPENDED:
        return f"the provider is suspended on lot {lot} ({NOT_WHILE_SUSPENDED})"
    return None


@dataclass(frozen=True)
class Registry:
    """Every provider's standing on every lot it has applied to."""

    entries: tuple[ProviderOnLot, ...] = ()

    def __post_init__(self) -> None:
        # Ranking looks up every offer's provider: a dict keeps that O(1), not O(providers).
        object.__setattr__(self, "_by_key", {(e.provider_id, e.lot): e for e in self.entries})

    @classmethod
    def of(cls, entries: Iterable[ProviderOnLot]) -> Registry:
        return cls(tuple(entries))

    def on_lot(self, provider_id: UUID, lot: int) -> ProviderOnLot | None:
        return self._by_key.get((provider_id, lot))

    def admitted_on(self, lot: int) -> frozenset[UUID]:
        """Who must be invited to anything on this lot: no one may be left out."""
        return frozenset(e.provider_id for e in self.entries if e.lot == lot and e.can_be_awarded)


@dataclass(frozen=True)
class PlacesInUse:
    """Placements running now: per provider and lot against its capacity, and
    per provider the children this council has placed with it (for the
    registration rule)."""

    active: Mapping[tuple[UUID, int], int] = field(default_factory=dict)
    pupils: Mapping[UUID, tuple[Pupil, ...]] = field(default_factory=dict)

    def active_on(self, provider_id: UUID, lot: int) -> int:
        return self.active.get((provider_id, lot), 0)

    def pupils_at(self, provider_id: UUID) -> tuple[Pupil, ...]:
        return tuple(self.pupils.get(provider_id, ()))
