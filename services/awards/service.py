"""The awards service, as the shared runner sees it."""

from pathlib import Path

from services.awards import api, consumers, models
from shared.service import ServiceDefinition


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="awards",
        title="DPS for Alternative Provision: Awards and mini-competitions",
        metadata=models.metadata,
        versions=Path(__file__).parent / "migrations" / "versions",
        blueprints=api.blueprints,
        event_handlers=consumers.event_handlers,
    )
