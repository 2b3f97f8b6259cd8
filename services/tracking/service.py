"""The tracking service, as the shared runner sees it."""

from pathlib import Path

from services.tracking import api, consumers, models
from shared.service import ServiceDefinition


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="tracking",
        title="DPS for Alternative Provision: Placement tracking and reporting",
        metadata=models.metadata,
        versions=Path(__file__).parent / "migrations" / "versions",
        blueprints=api.blueprints,
        event_handlers=consumers.event_handlers,
    )
