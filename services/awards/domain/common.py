"""Small things every awards rule needs: lots, roles, the council's date,
and a refusal that lists several reasons against one field."""

from __future__ import annotations

from shared.calendar import COUNCIL_TIMEZONE, council_date
from shared.catalogue import LOTS, is_lot
from shared.errors import InvalidInput

__all__ = ["COUNCIL_TIMEZONE", "EVALUATOR", "LOTS", "check_lot", "council_date", "refuse"]

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
