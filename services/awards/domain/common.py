"""Small things every awards rule needs: lots, roles, the council's date,
a refusal that lists several reasons against one field, and where a rule
comes from (the law or the council's own policy), named in every refusal."""

from __future__ import annotations

from dataclasses import dataclass

from shared.calendar import COUNCIL_TIMEZONE, council_date
from shared.catalogue import LOTS, is_lot
from shared.errors import Conflict, InvalidInput

__all__ = ["COUNCIL_TIMEZONE", "EVALUATOR", "LOTS", "Authority", "breach", "check_lot", "council_date", "refuse"]

EVALUATOR = "evaluator"
"""The role that may score and moderate mini-competition bids."""


def check_lot(lot: int) -> int:
    if not is_lot(lot):  # True is no lot, though True == 1
        raise InvalidInput(f"lot {lot!r} is not a lot of the DPS (1 to 4)", field="lot")
    return lot


def refuse(field: str, summary: str, reasons: list[str]) -> InvalidInput:
    """An InvalidInput naming `field` with each reason listed separately."""
    error = InvalidInput(f"{summary}: {'; '.join(reasons)}", errors={field: list(reasons)})
    error.field = field
    return error


POLICY = "the council's policy, not law"


@dataclass(frozen=True)
class Authority:
    """Where a rule comes from: a regulation or section of the law, or the
    council's own policy.  Every refusal under a rule names it."""

    source: str
    law: bool

    def __str__(self) -> str:
        return f"{self.source}: {'law' if self.law else POLICY}"


def breach(message: str, *authorities: Authority, field: str | None = None) -> Conflict:
    """A 409 for a rule broken, naming each rule it breaks and whether it is law or policy."""
    return Conflict(f"{message} ({'; '.join(str(a) for a in authorities)})", field=field)
