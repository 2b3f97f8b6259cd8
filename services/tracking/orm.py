"""The Placement aggregate mapped onto tracking's tables (SQLAlchemy's
imperative mapping, as cosmicpython's `adapters/orm.py`): the domain stays
plain Python, and the Session tracks what changed.

A placement owns its weekly returns (keyed by the Monday), its concerns,
reviews and outcomes; they load with it (selectinload, see repository.py)
and are written with it.  The columns the domain does not hold (the award's
ids and prices, who returned a week, the team and lot repeated on child rows
for the reports) are plain mapped attributes the repository fills.

No version column: every use case that changes a placement locks its row
first (`PlacementRepository.get(for_update=True)`; SQLite's unit of work
holds the write lock), so two changes are taken one after the other, never
lost.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import registry, relationship
from sqlalchemy.orm.collections import attribute_keyed_dict

from services.tracking import models
from services.tracking.domain import AttendanceReturn, Concern, Outcome, Placement, Review

mapper_registry = registry()


def start_mappers() -> None:
    """Map the aggregate (once per process: tests build many runtimes)."""
    if mapper_registry.mappers:
        return
    mapper_registry.map_imperatively(AttendanceReturn, models.attendance_returns)
    mapper_registry.map_imperatively(Concern, models.concerns)
    mapper_registry.map_imperatively(Review, models.reviews, properties={"by": models.reviews.c.recorded_by})
    mapper_registry.map_imperatively(Outcome, models.outcomes, properties={"by": models.outcomes.c.recorded_by})
    placements = models.placements
    mapper_registry.map_imperatively(Placement, placements, properties={
        "commissioning_team": placements.c.team,
        # stored copies of what the domain derives, for the reports' WHERE clauses
        "_last_review_on": placements.c.last_review_on,
        "_flagged_for_review": placements.c.flagged_for_review,
        "attendance": relationship(AttendanceReturn, collection_class=attribute_keyed_dict("week_commencing"),
                                   cascade="all, delete-orphan"),
        "concerns": relationship(Concern, cascade="all, delete-orphan", order_by=models.concerns.c.raised_at),
        "reviews": relationship(Review, cascade="all, delete-orphan", order_by=models.reviews.c.review_date),
        "outcomes": relationship(Outcome, cascade="all, delete-orphan", order_by=models.outcomes.c.recorded_at),
    })


@event.listens_for(Placement, "load")
def _loaded(placement: Placement, _context) -> None:
    placement.events = []  # __init__ is not called on load
