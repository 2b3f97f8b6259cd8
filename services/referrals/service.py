"""The referrals service, as the shared runner sees it."""

from datetime import datetime
from pathlib import Path

from services.referrals import api, consumers, handlers, messages, models, orm, retention, subject_access
from services.referrals.unit_of_work import ReferralsUnitOfWork
from shared.service import ScheduledJob, ServiceDefinition


def close_referrals_past_deadline(uow: ReferralsUnitOfWork, now: datetime) -> None:
    # Reads show a referral past its deadline closed already; this records it (and an action on it does).
    handlers.close_due_referrals(uow, now)


def deliver_webhooks(uow: ReferralsUnitOfWork, now: datetime) -> None:
    handlers.deliver_webhooks(uow, now)


def definition() -> ServiceDefinition:
    orm.start_mappers()
    return ServiceDefinition(
        name="referrals",
        title="DPS for Alternative Provision: Referrals and offers",
        description="Referral forms, publication to every eligible provider on a lot, sealed offers, assessment, "
                    "off-DPS exceptions and signed webhooks to providers' systems.",
        metadata=models.metadata,
        published=messages.DATA_SCHEMAS,
        retention=retention.retention,
        subject_access=subject_access.gather,
        unit_of_work=ReferralsUnitOfWork,
        versions=Path(__file__).parent / "migrations" / "versions",
        blueprints=api.blueprints,
        event_handlers=consumers.event_handlers,
        jobs=[ScheduledJob("close_referrals_past_deadline", close_referrals_past_deadline, period="minute"),
              ScheduledJob("deliver_webhooks", deliver_webhooks, period="minute")],
    )
