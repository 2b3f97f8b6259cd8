"""The registration rule, as the law has it: the one function every way of
placing a child asks (a call-off, calloffs.py; a block place,
block_contract.py; an off-DPS placement).

A setting must register as an independent school if it educates full-time
**5 or more pupils of compulsory school age**, or **one such pupil who has an
EHCP or is looked after** (Education Act 1996 s.463; Education and Skills Act
2008 s.92).  From the commencement of the Children's Wellbeing and Schools Act
2026 s.43 (`RegistrationRules.sen_from`) a pupil with special educational
needs counts as well.

- Only pupils of compulsory school age count (referrals decides it from the
  child's date of birth, on the placement's start date): post-16 placements
  are not caught.
- The count is the setting's whole roll: the pupils it declared to the
  registry (from every commissioner, with the date declared) and this
  council's full-time placements with it awarded after that date (those
  before are in the declaration already).
- "Full-time" is more than `full_time_hours` a week (18 by default: DfE's
  working reading, not a statutory definition).
- A registered school or a further education college / training provider is
  not caught: only an unregistered setting.
- A council may hold a stricter policy of its own (`unregistered_max_hours`:
  never more hours than that for a child of compulsory school age with an
  unregistered setting), reported as council policy, never as law.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from .common import Authority

REGISTRATION_RULE = "the registration rule (Education Act 1996 s.463; Education and Skills Act 2008 s.92)"
SEN_RULE = "the registration rule (Children's Wellbeing and Schools Act 2026 s.43: special educational needs)"
UNREGISTERED_HOURS_POLICY = "the council's limit on hours with an unregistered setting (DPS_UNREGISTERED_MAX_HOURS)"

LAW = Authority(REGISTRATION_RULE, law=True)
SEN_LAW = Authority(SEN_RULE, law=True)
POLICY = Authority(UNREGISTERED_HOURS_POLICY, law=False)

FULL_TIME_HOURS = Decimal(18)
"""More hours a week than this is full-time (DPS_FULL_TIME_HOURS' default)."""

REGISTRATION_THRESHOLD = 5
"""Full-time pupils of compulsory school age at which a setting must register."""


class SettingKind(enum.Enum):
    """What kind of setting a provider is, as the registry says (`setting_kind`)."""

    REGISTERED_SCHOOL = "registered_school"
    FE_OR_TRAINING_PROVIDER = "fe_or_training_provider"
    UNREGISTERED = "unregistered"


@dataclass(frozen=True)
class DeclaredRoll:
    """What an unregistered setting declared to the registry of its whole roll,
    from every commissioner: its full-time pupils of compulsory school age and
    whether any of them has an EHCP, is looked after or has SEN."""

    full_time_pupils: int
    any_ehcp: bool
    any_looked_after: bool
    any_sen: bool
    declared_at: datetime


@dataclass(frozen=True)
class Setting:
    """The provider as the rule sees it: its kind and, for an unregistered setting, its declared roll."""

    kind: SettingKind
    roll: DeclaredRoll | None = None


@dataclass(frozen=True)
class Pupil:
    """A child placed, or to be placed, with the setting: never the child's identity."""

    hours_per_week: Decimal
    compulsory_school_age: bool
    has_ehcp: bool = False
    looked_after: bool = False
    has_sen: bool = False
    placed_at: datetime | None = None  # when this council placed the child (None: not known, so counted)


@dataclass(frozen=True)
class RegistrationRules:
    """The council's settings of the rule (shared/config.Settings)."""

    full_time_hours: Decimal = FULL_TIME_HOURS
    sen_from: date | None = None  # None: s.43 not commenced
    unregistered_max_hours: Decimal | None = None  # None: no stricter policy

    def full_time(self, pupil: Pupil) -> bool:
        return pupil.hours_per_week > self.full_time_hours

    def counts_sen(self, on: date | None) -> bool:
        """Whether special educational needs count on `on` (None: whenever the placement starts)."""
        return self.sen_from is not None and (on is None or on >= self.sen_from)


DEFAULT_RULES = RegistrationRules()
"""The rule with the defaults of shared/config.Settings: 18 hours, SEN not commenced, no stricter policy."""


@dataclass(frozen=True)
class Breach:
    """One way a placement would break the rule, and where the rule comes from."""

    reason: str
    authority: Authority

    @property
    def law(self) -> bool:
        return self.authority.law

    def __str__(self) -> str:
        return f"{self.reason} ({self.authority})"


def registration_breaches(child: Pupil, setting: Setting, placed: Iterable[Pupil],
                          rules: RegistrationRules = DEFAULT_RULES, on: date | None = None) -> list[Breach]:
    """Every way placing `child` with `setting` would break the registration
    rule (law) or the council's stricter policy; empty when it may go ahead.

    `placed`: this council's placements with the setting running now (those
    awarded before the setting's declaration are in its declared roll, so only
    the later ones count again); `on`: the day the placement starts (for the
    SEN commencement date)."""
    if setting.kind is not SettingKind.UNREGISTERED or not child.compulsory_school_age:
        return []
    breaches = []
    limit = rules.unregistered_max_hours
    if limit is not None and child.hours_per_week > limit:
        breaches.append(Breach(f"an unregistered setting may not give a child of compulsory school age more than "
                               f"{limit} hours a week ({child.hours_per_week} asked)", POLICY))
    if not rules.full_time(child):
        return breaches
    roll = setting.roll
    ours = [p for p in placed if p.compulsory_school_age and rules.full_time(p)
            and (roll is None or p.placed_at is None or p.placed_at > roll.declared_at)]
    declared = roll.full_time_pupils if roll is not None else 0
    count = declared + len(ours) + 1
    if count >= REGISTRATION_THRESHOLD:
        breaches.append(Breach(
            f"with this child the setting would educate {count} pupils of compulsory school age full-time "
            f"({_whole_roll(roll, len(ours))}): a setting educating {REGISTRATION_THRESHOLD} or more must "
            f"register as an independent school", LAW))
    breaches += _pupil_breaches(child, ours, roll, "has an EHCP", "any_ehcp", lambda p: p.has_ehcp, LAW)
    breaches += _pupil_breaches(child, ours, roll, "is looked after", "any_looked_after",
                                lambda p: p.looked_after, LAW)
    if rules.counts_sen(on):
        breaches += _pupil_breaches(child, ours, roll, "has special educational needs", "any_sen",
                                    lambda p: p.has_sen, SEN_LAW)
    return breaches


def _whole_roll(roll: DeclaredRoll | None, ours: int) -> str:
    declared = ("it declared none" if roll is None
                else f"{roll.full_time_pupils} declared by the setting on {roll.declared_at.date().isoformat()}")
    return f"{declared}, {ours} placed by the council since, and this child"


def _pupil_breaches(child: Pupil, ours: list[Pupil], roll: DeclaredRoll | None, what: str, declared_flag: str,
                    has, authority: Authority) -> list[Breach]:
    """One pupil full-time who `what` requires registration: this child, one we placed, or one declared."""
    if has(child):
        return [Breach(f"this child {what}: an unregistered setting may not educate full-time a pupil of "
                       f"compulsory school age who {what}", authority)]
    if any(has(p) for p in ours) or (roll is not None and getattr(roll, declared_flag)):
        return [Breach(f"the setting already educates full-time a pupil of compulsory school age who {what}, "
                       f"so it must register as an independent school before it takes another pupil "
                       f"full-time", authority)]
    return []
