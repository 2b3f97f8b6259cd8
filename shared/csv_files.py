"""CSV that opens cleanly in a spreadsheet: the one writer every service's
downloads use (issue #21), so a council's officer double-clicking any of them
sees the same thing.

- UTF-8 with a byte-order mark (how Excel knows the encoding) and CRLF line
  ends (RFC 4180), quoted only where a field needs it (Excel's dialect);
- a money column in pence (`<name>_pence`) is followed by the same sum in
  pounds with two decimals (`<name>_pounds`, `1234.50`), so a spreadsheet
  adds up pounds and nothing is lost to floating point;
- dates as ISO 8601 (`2026-12-01`; a month is its first day, in a column
  named `month_start`, which spreadsheets read as a date, not as text they
  guess at); times as ISO 8601 UTC;
- column names in snake_case with the unit in the name (`_pence`,
  `_pounds`, `_on`, `_rate`), checked here;
- empty for None, `true` / `false` for booleans, a list's items joined by "; ".
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from flask import Response

BOM = "\ufeff"
MEDIA_TYPE = "text/csv"
PENCE, POUNDS = "_pence", "_pounds"
_COLUMN = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


CSV_DOC = {"responses": {200: {"content": {MEDIA_TYPE: {
    "schema": {"type": "string"},
    "example": "\ufeffmonth_start,committed_pence,committed_pounds\r\n2026-12-01,123450,1234.50\r\n"}}}}}
"""For `@blueprint.doc(**CSV_DOC)`: the operation also answers 200 as text/csv (format=csv or Accept: text/csv)."""


def pounds(pence: int | None) -> str:
    """1234.50 from 123450 (exact: whole pence, no floating point)."""
    if pence is None:
        return ""
    sign, whole = ("-" if pence < 0 else ""), abs(int(pence))
    return f"{sign}{whole // 100}.{whole % 100:02d}"


def columns_with_pounds(columns: Sequence[str], *, names_given: bool = False) -> list[str]:
    """The columns as written: each `_pence` column followed by its `_pounds` twin.  `names_given`: a
    statutory return's columns, named as its specification names them (DfE's items), not ours."""
    out = []
    for column in columns:
        if not names_given and not _COLUMN.match(column):
            raise ValueError(f"a CSV column is named in snake_case: {column!r}")
        out.append(column)
        if column.endswith(PENCE):
            out.append(column[: -len(PENCE)] + POUNDS)
    return out


def _field(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple):
        return "; ".join(_field(item) for item in value)
    return str(value)


def csv_text(columns: Sequence[str], rows: Iterable[Mapping], *, names_given: bool = False) -> str:
    """The CSV's text (with its byte-order mark): a header of the columns,
    then a line for each row (missing keys empty)."""
    written = columns_with_pounds(columns, names_given=names_given)
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, dialect="excel")  # CRLF, minimal quoting (RFC 4180)
    writer.writerow(written)
    for row in rows:
        line = []
        for column in written:
            if column.endswith(POUNDS) and column not in row:
                line.append(pounds(row.get(column[: -len(POUNDS)] + PENCE)))
            else:
                line.append(_field(row.get(column)))
        writer.writerow(line)
    return out.getvalue()


def csv_response(columns: Sequence[str], rows: Iterable[Mapping], filename: str, *,
                 names_given: bool = False) -> Response:
    """A download of the rows as CSV (`filename` without `.csv`)."""
    body = csv_text(columns, rows, names_given=names_given).encode("utf-8")
    return Response(body, content_type=f"{MEDIA_TYPE}; charset=utf-8; header=present",
                    headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})
