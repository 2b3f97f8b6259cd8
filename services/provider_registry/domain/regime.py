"""The procurement regime a DPS record is set up under, and every rule that
differs by it: admission (rolling or in rounds), the statutory end, the
call-off standstill, what an unsuccessful bidder is told, the notices.

The other services mirror these names (`Regime` and its properties) so a rule
that depends on the regime reads the same everywhere; the values travel on
`dps.configured`.

- `pcr2015_dps`: a dynamic purchasing system under the Public Contracts
  Regulations 2015, regulation 34 (Hillingdon's, set up before the Procurement
  Act 2023 came into force on 24 February 2025; SI 2024/716 regulation 5 keeps
  the 2015 rules for it, and regulation 5(4) ends it by law: the statutory end).
- `pa2023_dynamic_market`: a dynamic market under the Procurement Act 2023,
  sections 34 to 39.
- `pa2023_open_framework`: an open framework under the Act's light-touch
  rules, reopened to new members in rounds (at least every three years).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

# SI 2024/716 regulation 5(4): a DPS set up under the 2015 rules ends by law.
# As made it ended such a DPS at the end of 27 October 2028; the move of the
# Act's go-live to 24 February 2025 is reported to have moved that to the end
# of 23 February 2029.  Configuration: DPS_PCR2015_STATUTORY_END.
STATUTORY_END_REGULATION = "SI 2024/716 regulation 5(4)"
DEFAULT_PCR2015_STATUTORY_END = date(2029, 2, 23)
# The manager is warned this many months before the statutory end (council policy).
STATUTORY_END_WARNING_MONTHS = (12, 6, 3)


@dataclass(frozen=True)
class Standstill:
    """The call-off standstill: whether the law requires one, and how long
    it is where it is used (calendar or working days)."""

    required: bool
    days: int
    working_days: bool
    rule: str


class Regime(StrEnum):
    PCR2015_DPS = "pcr2015_dps"
    PA2023_DYNAMIC_MARKET = "pa2023_dynamic_market"
    PA2023_OPEN_FRAMEWORK = "pa2023_open_framework"

    @property
    def law(self) -> str:
        return {
            Regime.PCR2015_DPS: "Public Contracts Regulations 2015 regulation 34",
            Regime.PA2023_DYNAMIC_MARKET: "Procurement Act 2023 sections 34 to 39",
            Regime.PA2023_OPEN_FRAMEWORK: "Procurement Act 2023 sections 45 to 49 (light-touch open framework)",
        }[self]

    @property
    def rolling_admission(self) -> bool:
        """Providers may apply at any time (a DPS, a dynamic market); an open
        framework admits only in the rounds the manager opens."""
        return self is not Regime.PA2023_OPEN_FRAMEWORK

    @property
    def admission_rule(self) -> str:
        if self is Regime.PCR2015_DPS:
            return "PCR 2015 regulation 34: a DPS stays open to any provider meeting the criteria throughout its term"
        if self is Regime.PA2023_DYNAMIC_MARKET:
            return "Procurement Act 2023 sections 34 to 39: a dynamic market admits suppliers throughout its term"
        return ("Procurement Act 2023 section 49: an open framework admits new suppliers only in the rounds "
                "it is reopened")

    @property
    def has_statutory_end(self) -> bool:
        """Only a 2015-rules DPS expires by law (SI 2024/716 regulation 5(4))."""
        return self is Regime.PCR2015_DPS

    @property
    def call_off_standstill(self) -> Standstill:
        if self is Regime.PCR2015_DPS:
            return Standstill(False, 10, False, "PCR 2015 regulations 86-87: voluntary for a DPS call-off; "
                                                "10 calendar days after an electronic notice where used")
        return Standstill(True, 8, True, "Procurement Act 2023 section 51: 8 working days after the contract "
                                         "award notice")

    @property
    def unsuccessful_bidder_told(self) -> str:
        if self is Regime.PCR2015_DPS:
            return ("PCR 2015 regulations 55 and 86: promptly, with the winner's name, the scores and the "
                    "reasons for the decision")
        return "Procurement Act 2023 section 50: an assessment summary naming the winner, before the award notice"

    @property
    def notices(self) -> tuple[str, ...]:
        if self is Regime.PCR2015_DPS:
            return ("contract award notice for each call-off within 30 days, or grouped quarterly within "
                    "30 days of the quarter's end (PCR 2015 regulation 50)",)
        return ("assessment summaries to every supplier (Procurement Act 2023 section 50)",
                "contract award notice before the contract is entered into (section 50)",
                "contract details notice within 30 days of entering into it (section 53)")
