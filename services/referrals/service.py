"""The referrals service, as the shared runner sees it."""

from pathlib import Path

from services.referrals import api, consumers, models
from shared.service import ServiceDefinition


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="referrals",
        title="DPS for Alternative Provision: Referrals and offers",
        metadata=models.metadata,
        versions=Path(__file__).parent / "migrations" / "versions",
        blueprints=api.blueprints,
        event_handlers=consumers.event_handlers,
    )
