"""How every list of every service pages: the one way, described here.

A list endpoint (a GET whose body is a JSON array) takes two query
parameters, and nothing else pages:

- `page`: which page, from 1 (at most `MAX_PAGE`);
- `page_size`: how many items, 1 to `MAX_PAGE_SIZE` (default `DEFAULT_PAGE_SIZE`).

Anything else (page 0, page_size 100000, text) is refused 422 naming the
parameter, under `errors.query`.  The body stays a JSON array of that page's
items, in the endpoint's own order; the `Link` header (RFC 8288) points to
the `next` page when there is one, and to the `prev` and `first` pages
after the first, with every other query parameter kept:

    Link: </v1/awards?team=send&page=3&page_size=50>; rel="next", </v1/awards?...page=1...>; rel="first", ...

A client reads a whole list by following `rel="next"` until there is none;
no total is counted (one more row than the page is read to know whether a
next page exists).

In a service: the endpoint's query schema extends `Paging` (or the endpoint
takes `Paging` alone), and the view does

    page = Page.take(query)                      # removes page and page_size from the filters
    rows = repo.find(**query, limit=page.fetch, offset=page.offset)
    return page.respond(rows, view)              # (the page's items, {"Link": ...})

or, for a list already held whole in memory (a referral's offers),
`page.respond(page.window(items), view)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from marshmallow import Schema, fields, validate

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_PAGE = 100_000  # with MAX_PAGE_SIZE: an offset of at most 20,000,000 rows, far inside any integer column
LINK_DOC = {"Link": {"description": 'RFC 8288 links to the next, previous and first pages (rel="next" only '
                                    'while there are more items)', "schema": {"type": "string"}}}


class Paging(Schema):
    """The two paging parameters; a list endpoint's query schema extends this."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE),
                          metadata={"description": "Which page, from 1"})
    page_size = fields.Integer(load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
                               metadata={"description": f"Items per page, 1 to {MAX_PAGE_SIZE}"})


@dataclass(frozen=True)
class Page:
    number: int = 1
    size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def take(cls, query: dict) -> Page:
        """The page asked for, removed from the query's filters."""
        return cls(query.pop("page", 1), query.pop("page_size", DEFAULT_PAGE_SIZE))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def fetch(self) -> int:
        """How many rows to read: one more than the page, to know whether another follows."""
        return self.size + 1

    def window(self, items: Sequence) -> list:
        """The rows `fetch` would have read, from a list held whole."""
        return list(items[self.offset:self.offset + self.fetch])

    def respond(self, rows: Sequence, view: Callable[[Any], Any] | None = None) -> tuple[list, dict]:
        """The page's items (each through `view`) and the Link header, from rows read with `fetch`/`offset`."""
        items = list(rows[:self.size])
        links = []
        if len(rows) > self.size:
            links.append(f'<{_url(self.number + 1, self.size)}>; rel="next"')
        if self.number > 1:
            links.append(f'<{_url(self.number - 1, self.size)}>; rel="prev"')
            links.append(f'<{_url(1, self.size)}>; rel="first"')
        return [view(item) for item in items] if view else items, ({"Link": ", ".join(links)} if links else {})


def _url(number: int, size: int) -> str:
    from flask import request

    args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page", "page_size")]
    return f"{request.path}?{urlencode([*args, ('page', number), ('page_size', size)])}"
