"""The provider registry service, as the shared runner sees it."""

from pathlib import Path

from services.provider_registry import api, consumers, models
from shared.service import ServiceDefinition


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="provider_registry",
        title="DPS for Alternative Provision: Provider registry and lots",
        metadata=models.metadata,
        versions=Path(__file__).parent / "migrations" / "versions",
        blueprints=api.blueprints,
        event_handlers=consumers.event_handlers,
    )
