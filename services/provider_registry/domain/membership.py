"""Membership of a lot: admitted, suspended (with a reason) and reinstated,
or removed (with a reason).  A suspended member gets no new referrals and
cannot be awarded; its current placements continue.  Every membership ends
with its DPS (the earlier of its term and, for a 2015-rules DPS, its statutory end).

    admitted  --suspend-->   suspended
    suspended --reinstate--> admitted
    admitted | suspended --remove--> removed   (final)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict

from .common import require_reason


class MembershipStatus(StrEnum):
    ADMITTED = "admitted"
    SUSPENDED = "suspended"
    REMOVED = "removed"
    ENDED = "ended"  # never stored: what status_on() says after the DPS term


@dataclass
class Membership:
    lot: int
    admitted_on: date
    ends_on: date  # the last day of the DPS term
    status: MembershipStatus = MembershipStatus.ADMITTED
    since: date | None = None  # when the current status began
    reason: str | None = None  # why it is suspended or removed
    automatic: bool = False  # suspended by the compliance check, not by the manager
    capacity: int = 0  # places the provider declares on the lot (changes take effect at once)
    dps_id: UUID = FIRST_DPS_ID  # a membership is of one lot of one DPS record

    def __post_init__(self) -> None:
        self.since = self.since or self.admitted_on

    @property
    def key(self) -> tuple[UUID, int]:
        """How a provider's record holds it: (DPS, lot)."""
        return (self.dps_id, self.lot)

    def status_on(self, today: date) -> MembershipStatus:
        if self.status is not MembershipStatus.REMOVED and today > self.ends_on:
            return MembershipStatus.ENDED
        return self.status

    def is_active(self, today: date) -> bool:
        """May be invited to referrals and awarded placements."""
        return self.status_on(today) is MembershipStatus.ADMITTED

    def _require_current(self, today: date) -> None:
        if self.status_on(today) is MembershipStatus.ENDED:
            raise Conflict(f"the membership of lot {self.lot} ended with the DPS on {self.ends_on}")

    def suspend(self, reason: str, today: date, automatic: bool = False) -> None:
        """Suspend an admitted membership.  The manager may also suspend one
        that the compliance check suspended: the suspension then becomes the
        manager's, so valid documents alone will not lift it."""
        reason = require_reason(reason)
        self._require_current(today)
        converting = (self.status is MembershipStatus.SUSPENDED and self.automatic and not automatic)
        if self.status is not MembershipStatus.ADMITTED and not converting:
            raise Conflict(f"the membership of lot {self.lot} is {self.status.value}; "
                           "only an admitted membership can be suspended")
        self.status, self.reason, self.since, self.automatic = (
            MembershipStatus.SUSPENDED, reason, today, automatic)

    def reinstate(self, reason: str, today: date) -> None:
        reason = require_reason(reason)
        self._require_current(today)
        if self.status is not MembershipStatus.SUSPENDED:
            raise Conflict(f"the membership of lot {self.lot} is {self.status.value}; "
                           "only a suspended membership can be reinstated")
        self.status, self.reason, self.since, self.automatic = (
            MembershipStatus.ADMITTED, None, today, False)

    def remove(self, reason: str, today: date) -> None:
        reason = require_reason(reason)
        self._require_current(today)
        if self.status is MembershipStatus.REMOVED:
            raise Conflict(f"the membership of lot {self.lot} is already removed")
        self.status, self.reason, self.since, self.automatic = (
            MembershipStatus.REMOVED, reason, today, False)
