"""Small things every referral rule needs: lots, the council's date, and
required text.  The lots and the council's time zone are the contract's, in
one shared place (shared.catalogue, shared.calendar)."""

from __future__ import annotations

from datetime import datetime

from shared.calendar import council_date
from shared.catalogue import LOTS, is_lot
from shared.errors import InvalidInput

__all__ = ["LOTS", "check_aware", "check_lot", "council_date", "required_text"]


def check_lot(lot: int) -> int:
    if not is_lot(lot):
        raise InvalidInput(f"lot {lot!r} is not a lot of the DPS (1 to 4)", field="lot")
    return lot


def check_aware(moment: datetime, field: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidInput("must be a date and time with a time zone", field=field)
    return moment


def required_text(value: object, field: str, what: str) -> str:
    """Stripped text, or a refusal naming the field."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} is required", field=field)
    return value.strip()
