"""The DPS a referral is published on, and the offer window's rules.

Referrals keeps its own copy of each DPS record (from the registry's
`dps.configured`) and of which SLA versions each provider accepted
(`provider.sla_accepted`); the rules here only read them.

- `check_may_invite`: nothing is invited after the DPS's `ends_on` (the
  earlier of its advertised term and, for a PCR 2015 DPS, its statutory end:
  SI 2024/716 regulation 5(4), the law), nor while the DPS is closed.
- `offer_window`: a call-off window of at least 10 days, unless a recorded
  basis allows a shorter one (`WindowBasis`).
- `choose_dps`: the DPS a referral goes to when the officer names none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict, InvalidInput

from .common import council_date

STATUTORY_END_REGULATION = "SI 2024/716 regulation 5(4)"
MINIMUM_WINDOW_DAYS = 10
MINIMUM_WINDOW_RULE = ("a call-off offer window of at least 10 days unless a shorter one has a recorded basis "
                       "(PCR 2015 regulation 34, with regulation 28(5)-(6): a sub-central authority may agree a "
                       "shorter one with every provider; the law)")

STANDARD, AGREED_MINIMUM, URGENCY = "standard", "agreed_minimum", "urgency"


@dataclass(frozen=True)
class DpsRecord:
    """One DPS record as the registry last told us (`dps.configured`)."""

    id: UUID
    name: str = ""
    regime: str = "pcr2015_dps"
    start: date | None = None
    term_ends_on: date | None = None
    statutory_end: date | None = None
    ends_on: date | None = None
    status: str = "open"
    lots: tuple[int, ...] = ()
    agreed_minimum_window_days: int | None = None
    agreed_in_sla_version: str | None = None
    sla_version: str | None = None

    @property
    def open(self) -> bool:
        return self.status == "open"


def check_may_invite(dps: DpsRecord | None, today: date) -> None:
    """No invitation after the DPS's last day, nor while it is closed (409 naming the date and the rule).

    Its last day (`ends_on`) is itself allowed.  A DPS the registry has not
    yet described (`None`: only the first, from before DPS records) has no
    known end.
    """
    if dps is None:
        return
    if not dps.open:
        raise Conflict(f"the DPS {dps.name or dps.id} is closed: nothing may be published on it "
                       "(the DPS's own terms)", field="dps_id")
    if dps.ends_on is None or today <= dps.ends_on:
        return
    if dps.statutory_end is not None and dps.ends_on == dps.statutory_end:
        raise Conflict(f"the DPS ended by law at the end of {dps.ends_on.isoformat()} "
                       f"({STATUTORY_END_REGULATION}, the law): no provider may be invited after it",
                       field="dps_id")
    raise Conflict(f"the DPS's advertised term ended on {dps.ends_on.isoformat()} "
                   "(the DPS's own terms): no provider may be invited after it", field="dps_id")


def choose_dps(records: Iterable[DpsRecord], lot: int) -> UUID:
    """The DPS a referral goes to when none is named: the only open one with the lot, else the first."""
    open_with_lot = [r.id for r in records if r.open and lot in r.lots]
    return open_with_lot[0] if len(open_with_lot) == 1 else FIRST_DPS_ID


@dataclass(frozen=True)
class WindowBasis:
    """The offer window and its recorded basis (kept on the referral; carried on its events)."""

    kind: str  # standard | agreed_minimum | urgency
    days: int
    reason: str = field(default="")


def window_days(published_at: datetime, deadline: datetime) -> int:
    """The window's length in calendar days: the council's date of the deadline less that of publication
    (the day of publication does not count, the deadline's day does; weekends and bank holidays count)."""
    return (council_date(deadline) - council_date(published_at)).days


def offer_window(*, published_at: datetime, deadline: datetime, dps: DpsRecord | None,
                 invited: Iterable[UUID], accepted: Mapping[UUID, Iterable[str]],
                 urgency: str | None = None) -> WindowBasis:
    """The window's basis, or a refusal (422 naming `deadline` and the rule).

    At least 10 calendar days from publication to the deadline (`window_days`).
    A shorter window needs a recorded basis, either:
    - the urgency of a child without education, in words (`urgency`), or
    - the DPS's agreed minimum (`agreed_minimum_window_days`), agreed with
      every admitted provider in its terms: allowed only if EVERY invited
      provider has accepted the SLA version carrying it
      (`agreed_in_sla_version`; `accepted`: provider -> SLA versions it accepted).
    """
    days = window_days(published_at, deadline)
    if days >= MINIMUM_WINDOW_DAYS:
        return WindowBasis(STANDARD, days, f"at least {MINIMUM_WINDOW_DAYS} days")
    if urgency is not None and urgency.strip():
        return WindowBasis(URGENCY, days, urgency.strip())
    shorter = f"the window is {days} days: {MINIMUM_WINDOW_RULE}"
    agreed = dps.agreed_minimum_window_days if dps is not None else None
    if agreed is None:
        raise InvalidInput(f"{shorter}; this DPS has no agreed minimum window, so give the urgency of a child "
                           "without education, in words, or a later deadline", field="deadline")
    if days < agreed:
        raise InvalidInput(f"{shorter}; the minimum agreed in this DPS's terms is {agreed} days", field="deadline")
    version = dps.agreed_in_sla_version
    not_accepted = sorted(str(p) for p in invited if version is None or version not in set(accepted.get(p, ())))
    if not_accepted:
        raise InvalidInput(f"{shorter}; the agreed minimum of {agreed} days applies only when every invited "
                           f"provider has accepted the DPS terms (SLA version {version}) that carry it, and "
                           f"{len(not_accepted)} have not: {', '.join(not_accepted)}", field="deadline")
    return WindowBasis(AGREED_MINIMUM, days,
                       f"the minimum of {agreed} days agreed with every admitted provider in SLA version {version}")
