"""Marshmallow schemas, built once: making a schema instance copies every
declared field, which costs more than most dumps and loads it then does.
Instances are safe to share between threads (nothing here sets `context`)."""

from __future__ import annotations

import functools

from marshmallow import Schema


@functools.cache
def cached(schema: type[Schema], many: bool = False) -> Schema:
    """The one instance of `schema` (with `many`) this process uses."""
    return schema(many=many)
