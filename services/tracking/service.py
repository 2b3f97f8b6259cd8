"""The tracking service, as the shared runner sees it."""

from pathlib import Path

from services.tracking import api, consumers, models, orm
from services.tracking.unit_of_work import TrackingUnitOfWork
from shared.service import ServiceDefinition


def definition() -> ServiceDefinition:
    orm.start_mappers()
    return ServiceDefinition(
        name="tracking",
        title="DPS for Alternative Provision: Placement tracking and reporting",
        metadata=models.metadata,
        versions=Path(__file__).parent / "migrations" / "versions",
        blueprints=api.blueprints,
        event_handlers=consumers.event_handlers,
        unit_of_work=TrackingUnitOfWork,
        description=(
            "What happened to each child after the award: placements made from awards, started, ended "
            "with the next step (or cancelled when the child never started); weekly attendance returns "
            "and the concerns they raise; reviews every six weeks; outcomes; and the reports that hold "
            "providers to account. Events on the `dps.tracking` exchange: see docs/reporting-events.md."),
    )
