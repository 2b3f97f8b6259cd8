"""Marshmallow schemas, built once, and the input rules every service shares.

The rules that keep a request's values storable, named in one place:

- `screen_json`: what `shared.web` runs on every JSON body before any schema
  sees it: nested no deeper than `MAX_JSON_DEPTH`, no NUL or unpaired
  surrogate in any text (key or value), no NaN or Infinity, no integer beyond
  a 64-bit column.  Each refusal names the field by its path.
- `screen_text`: the same text rule for query strings.
- `Integer`, `Date`, `AwareDateTime`, `BirthDate`: the fields the services'
  request schemas use instead of marshmallow's own, bounded to what a
  database column holds and to plausible dates (`EARLIEST_DATE` to
  `LATEST_DATE`; a child's birth from `EARLIEST_BIRTH` to today).

Schema instances are safe to share between threads (nothing here sets `context`).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

MAX_JSON_DEPTH = 32
INT32 = 2**31 - 1  # an INTEGER column on PostgreSQL
INT64 = 2**63 - 1  # a BIGINT column; SQLite's INTEGER
EARLIEST_DATE = date(1990, 1, 1)  # no placement, contract, exclusion or review before
LATEST_DATE = date(2100, 12, 31)  # nor after
EARLIEST_BIRTH = date(1990, 1, 1)  # a young person with an EHCP is supported to 25

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@functools.cache
def cached(schema: type[Schema], many: bool = False) -> Schema:
    """The one instance of `schema` (with `many`) this process uses."""
    return schema(many=many)


# --- the screen every request passes -------------------------------------------------------------

class RefusedInput(Exception):
    """A body or query no schema should see: `status` 400 (not JSON we read) or
    422 (`errors`: field path -> reasons, nested like marshmallow's)."""

    def __init__(self, status: int, message: str, errors: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors or {}


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects deeper than `limit`
    (counted without parsing, so a 100,000-deep body costs a scan, not a stack)."""
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", body))
    depth = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def screen_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise RefusedInput unless every value of the JSON body can be validated and stored."""
    if json_depth_exceeds(body, max_depth):
        raise RefusedInput(400, f"the JSON body is nested deeper than {max_depth} levels")
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, too many digits
        raise RefusedInput(400, f"the body is not valid JSON: {type(exc).__name__}") from None
    errors: dict = {}
    for path, reason in _problems(data, ()):
        _put(errors, path, reason)
    if errors:
        raise RefusedInput(422, "invalid input", errors)


def screen_text(values: Iterator[tuple[str, str]]) -> dict:
    """Field -> reasons for query string values that break the text rule."""
    errors: dict = {}
    for name, value in values:
        reason = text_problem(name) or text_problem(value)
        if reason:
            errors.setdefault(_printable(name), []).append(reason)
    return errors


def text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain a NUL character"
    if _SURROGATE.search(text):
        return "must not contain an unpaired surrogate (text must be valid Unicode)"
    return None


def _problems(value, path: tuple) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, str):
        reason = text_problem(value)
        if reason:
            yield path, reason
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not -INT64 <= value <= INT64:
            yield path, f"must be a whole number between {-INT64} and {INT64}"
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield path, "must be a finite number"
    elif isinstance(value, dict):
        for key, item in value.items():
            reason = text_problem(key)
            if reason:
                yield (*path, _printable(key)), f"the field name {reason}"
            else:
                yield from _problems(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _problems(item, (*path, index))


def _printable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace").replace("\x00", "\\x00")


def _put(errors: dict, path: tuple, reason: str) -> None:
    """Nest `reason` at `path` the way marshmallow nests errors ({"profile": {"aims": [...]}})."""
    if not path:
        errors.setdefault("_schema", []).append(reason)
        return
    node = errors
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return
    reasons = node.setdefault(path[-1], [])
    if isinstance(reasons, list):
        reasons.append(reason)


# --- bounded fields ------------------------------------------------------------------------------

def enum_of(values, **metadata) -> dict:
    """Field metadata documenting an enum (`fields.String(metadata=enum_of(DocumentKind))`): the
    values of an Enum class, or the values given."""
    listed = [getattr(v, "value", v) for v in values]
    return {**metadata, "enum": listed}


class Number(fields.Field):
    """A Decimal written as a JSON number (12.5, 25): hours and units per week,
    scores and weights.  Read from a JSON number only (not a string, not a
    boolean); documented as `type: number` (`shared.web` maps it)."""

    default_error_messages = {"invalid": "Not a valid number."}
    json_schema = {"type": "number"}  # for the AsyncAPI documents (shared.asyncapi)

    def _serialize(self, value, attr, obj, **kwargs) -> int | float | None:
        if value is None:
            return None
        value = Decimal(value)
        return int(value) if value == value.to_integral_value() else float(value)

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise self.make_error("invalid")
        number = Decimal(str(value))
        if not number.is_finite():
            raise self.make_error("invalid")
        return number


class Integer(fields.Integer):
    """A whole number that fits the INTEGER column it is stored in (narrow it
    further with `validate`)."""

    def __init__(self, *args, minimum: int = -INT32, maximum: int = INT32, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.validators.insert(0, validate.Range(min=minimum, max=maximum))


def _within(earliest: date, latest: date | None):
    def check(value) -> None:
        day = value.date() if isinstance(value, datetime) else value  # its own day: converting may overflow
        last = latest or datetime.now(UTC).date()
        if not earliest <= day <= last:
            raise ValidationError(f"must be between {earliest.isoformat()} and {last.isoformat()}")

    return check


class Date(fields.Date):
    """A date between EARLIEST_DATE and LATEST_DATE."""

    earliest, latest = EARLIEST_DATE, LATEST_DATE

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.validators.insert(0, _within(self.earliest, self.latest))


class BirthDate(Date):
    """A child's date of birth: from EARLIEST_BIRTH to today."""

    earliest, latest = EARLIEST_BIRTH, None


class AwareDateTime(fields.AwareDateTime):
    """A moment with its offset, on a day between EARLIEST_DATE and LATEST_DATE."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.validators.insert(0, _within(EARLIEST_DATE, LATEST_DATE))
