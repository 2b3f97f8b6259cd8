"""The Delivery aggregate mapped onto its table (SQLAlchemy's imperative
mapping, as the other services do): the domain stays plain Python."""

from __future__ import annotations

from sqlalchemy.orm import registry

from services.notifications import models
from services.notifications.domain import Delivery

mapper_registry = registry()


def start_mappers() -> None:
    if mapper_registry.mappers:
        return
    mapper_registry.map_imperatively(Delivery, models.deliveries)
