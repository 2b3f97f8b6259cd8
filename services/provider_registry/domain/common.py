"""Small helpers every rule of the registry uses, and a collector that
gathers every refused field of a form so one 422 names them all.  The
council's date of a moment is shared.calendar.council_date."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import TypeVar

from shared.errors import InvalidInput

E = TypeVar("E", bound=Enum)


def is_whole_number(value: object) -> bool:
    # bool is an int in Python; True is not a price or a place.
    return isinstance(value, int) and not isinstance(value, bool)


def is_blank(value: object) -> bool:
    return not isinstance(value, str) or not value.strip()


def require_reason(reason: object, field: str = "reason") -> str:
    if is_blank(reason):
        raise InvalidInput("a reason is required", field=field)
    return reason.strip()  # type: ignore[union-attr]


class Refusals:
    """Collects (field, reason) pairs; `raise_if_any` raises one InvalidInput."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, reason: str) -> None:
        self.errors.setdefault(field, []).append(reason)

    @contextmanager
    def collect(self) -> Iterator[None]:
        try:
            yield
        except InvalidInput as refused:
            for field, reasons in refused.field_errors.items():
                self.errors.setdefault(field, []).extend(reasons)

    def raise_if_any(self, message: str) -> None:
        if not self.errors:
            return
        if len(self.errors) == 1:
            (field, reasons), = self.errors.items()
            if len(reasons) == 1:
                raise InvalidInput(reasons[0], field=field)
        raise InvalidInput(message, errors=self.errors)


def as_member(enum_type: type[E], value: object) -> E | None:
    """The enum member for a member or its value ("hour" -> Unit.HOUR), None
    for anything else: the service layer may hand the domain either."""
    try:
        return enum_type(value)
    except (ValueError, TypeError):
        return None
