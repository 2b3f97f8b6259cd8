"""DfE's AP census items and code sets, as published (`ap_census_items.json`, with its source and
licence: Open Government Licence v3.0).  The one place the census's codes are read from: the child's
census details are checked against them when recorded, and every row of the return before it is sent."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shared.errors import InvalidInput

ITEMS_FILE = Path(__file__).with_name("ap_census_items.json")


@dataclass(frozen=True)
class Item:
    column: str  # the CSV header
    name: str  # DfE's name of the item
    module: str  # child, home or placement
    required: bool
    pattern: str | None = None
    codes: str | None = None  # the code set's name
    max_length: int | None = None


@dataclass(frozen=True)
class ItemList:
    items: tuple[Item, ...]
    codes: Mapping[str, Mapping[str, str]]
    one_of: tuple[tuple[str, ...], ...]  # exactly one of these columns is given
    source: tuple[str, ...]
    licence: str

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(item.column for item in self.items)

    def item(self, column: str) -> Item:
        return next(item for item in self.items if item.column == column)

    def code_set(self, name: str) -> Mapping[str, str]:
        return self.codes[name]

    def problems(self, row: Mapping[str, str]) -> list[tuple[str, str]]:
        """What is wrong with one row of the return, as (column, reason); nothing when it is right."""
        found = [(column, "not an item of the AP census") for column in row if column not in self.columns]
        for item in self.items:
            value = row.get(item.column, "")
            if value == "":
                if item.required:
                    found.append((item.column, f"{item.name} is required"))
                continue
            if item.codes is not None and value not in self.codes[item.codes]:
                found.append((item.column, f"{value!r} is not a code of {item.name}"))
            if item.pattern is not None and not re.fullmatch(item.pattern, value):
                found.append((item.column, f"{item.name} is not in DfE's format"))
            if item.max_length is not None and len(value) > item.max_length:
                found.append((item.column, f"{item.name} is at most {item.max_length} characters"))
        for columns in self.one_of:
            if sum(1 for column in columns if row.get(column)) != 1:
                found.append((columns[0], "exactly one of " + ", ".join(columns) + " is given"))
        return found


@cache
def census_items() -> ItemList:
    data = json.loads(ITEMS_FILE.read_text(encoding="utf-8"))
    return ItemList(tuple(Item(**item) for item in data["items"]), data["codes"],
                    tuple(tuple(group) for group in data["one_of"]), tuple(data["source"]), data["licence"])


def check_name(value: object, column: str, field: str, what: str) -> str | None:
    """A census name item (spaces collapsed), None when not given, or a refusal naming the field."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} is required", field=field)
    text = " ".join(value.split())
    longest = census_items().item(column).max_length
    if longest is not None and len(text) > longest:
        raise InvalidInput(f"{what} is at most {longest} characters (DfE's AP census)", field=field)
    return text


def check_code(value: object, code_set: str, field: str, what: str) -> str | None:
    """A census code (upper-cased), None when not given, or a refusal naming the field and the codes."""
    if value is None:
        return None
    codes = census_items().code_set(code_set)
    code = value.strip().upper() if isinstance(value, str) else value
    if code not in codes:
        raise InvalidInput(f"{what} is one of DfE's AP census codes: " + ", ".join(codes), field=field)
    return code
