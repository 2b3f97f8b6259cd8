"""The one CSV writer (issue #21): UTF-8 with a byte-order mark, CRLF line
ends, pounds with two decimals beside the pence, dates a spreadsheet reads,
snake_case columns; read back with Python's csv module in Excel's dialect."""

import csv
import io
from datetime import date
from decimal import Decimal
from enum import StrEnum

import pytest

from shared.csv_files import columns_with_pounds, csv_response, csv_text, pounds


class Colour(StrEnum):
    RED = "red"


def read(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), dialect="excel"))


@pytest.mark.parametrize("pence, text", [(123_450, "1234.50"), (5, "0.05"), (0, "0.00"), (-199, "-1.99"),
                                         (None, "")])
def test_pence_are_written_as_pounds_with_two_decimals(pence, text):
    assert pounds(pence) == text


def test_each_pence_column_has_its_pounds_beside_it():
    assert columns_with_pounds(["month_start", "committed_pence", "lot"]) == [
        "month_start", "committed_pence", "committed_pounds", "lot"]


@pytest.mark.parametrize("name", ["Month", "committed pence", "totalGBP", "_x", "a__b"])
def test_a_column_is_named_in_snake_case(name):
    with pytest.raises(ValueError, match="snake_case"):
        columns_with_pounds([name])


def test_a_csv_opens_cleanly_in_a_spreadsheet():
    rows = [{"month_start": date(2026, 12, 1), "provider_name": 'Acorn "Learning", Ltd\nNorth',
             "committed_pence": 123_450, "full_time": True, "rate": Decimal("0.8500"), "kind": Colour.RED,
             "reasons": ["one", "two"], "end_date": None}]
    columns = ["month_start", "provider_name", "committed_pence", "full_time", "rate", "kind", "reasons",
               "end_date"]
    body = csv_text(columns, rows).encode("utf-8")
    assert body.startswith(b"\xef\xbb\xbfmonth_start,provider_name,committed_pence,committed_pounds,")
    assert body.endswith(b"\r\n") and body.count(b"\r\n") == 2  # a line end in a quoted field stays as it is
    header, line = read(body)
    assert dict(zip(header, line, strict=True)) == {
        "month_start": "2026-12-01", "provider_name": 'Acorn "Learning", Ltd\nNorth', "committed_pence": "123450",
        "committed_pounds": "1234.50", "full_time": "true", "rate": "0.8500", "kind": "red",
        "reasons": "one; two", "end_date": ""}


def test_the_download_is_text_csv_in_utf_8_as_an_attachment():
    response = csv_response(["lot"], [{"lot": 1}], "active-placements")
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="active-placements.csv"'
    assert read(response.get_data()) == [["lot"], ["1"]]
