"""The aggregates mapped onto the awards tables (SQLAlchemy's imperative
mapping, as cosmicpython's adapters/orm.py): the domain stays plain Python and
the Session tracks what changes.

Mapped so far: a block contract with its places in use.  The call-off and the
mini-competition are still built by their repositories (repository.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import attribute_keyed_dict, foreign, registry, relationship

from services.awards import models as m
from services.awards.domain import BlockContract, PlaceAllocation

mapper_registry = registry(metadata=m.metadata)


def start_mappers() -> None:
    """Map once per process (the web app, the consumer and every test runtime
    call it; mapping a class twice raises)."""
    if getattr(BlockContract, "__mapper__", None) is not None:
        return
    a = m.block_allocations
    mapper_registry.map_imperatively(PlaceAllocation, a, properties={"at": a.c.allocated_at})
    mapper_registry.map_imperatively(BlockContract, m.block_contracts, properties={
        # places in use: the allocations whose placement tracking has not said ended
        "allocations": relationship(
            PlaceAllocation, collection_class=attribute_keyed_dict("referral_id"),
            primaryjoin=sa.and_(m.block_contracts.c.contract_id == foreign(a.c.contract_id),
                                a.c.placement_id.not_in(sa.select(m.ended_placements.c.placement_id))),
            lazy="selectin"),
    })
    event.listen(BlockContract, "load", _loaded)


def _loaded(contract, _context) -> None:
    contract.events = []
    contract.version = 0
