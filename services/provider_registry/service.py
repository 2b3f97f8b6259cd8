"""The provider registry service, as the shared runner sees it."""

from pathlib import Path

from services.provider_registry import api, consumers, handlers, messages, models, orm, retention
from services.provider_registry.unit_of_work import RegistryUnitOfWork
from shared.service import ScheduledJob, ServiceDefinition


def definition() -> ServiceDefinition:
    orm.start_mappers()
    return ServiceDefinition(
        name="provider_registry",
        title="DPS for Alternative Provision: Provider registry and lots",
        description="The DPS's list of approved providers: who may be invited, on which lots, at what maximum "
                    "prices, with how many places.",
        metadata=models.metadata,
        published=messages.DATA_SCHEMAS,
        retention=retention.retention,
        versions=Path(__file__).parent / "migrations" / "versions",
        blueprints=api.blueprints,
        event_handlers=consumers.event_handlers,
        unit_of_work=RegistryUnitOfWork,
        # Daily: warn of compliance documents expiring in 30, 14 and 7 days or expired (once each),
        # suspend on an expired compliance document, reinstate when valid
        # again, suspend on a renewed self-declaration unanswered past its last
        # day, and bring approved pricing schedules into effect on their date.
        jobs=[ScheduledJob("compliance_and_pricing", handlers.run_daily_checks, period="daily"),
              # Daily: each DPS record's statutory end (the setting) and its warnings at 12, 6 and 3 months.
              ScheduledJob("dps_statutory_end", handlers.run_dps_checks, period="daily"),
              ScheduledJob("decision_reminders", handlers.publish_decision_reminders, period="daily")],
    )
