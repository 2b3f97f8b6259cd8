"""The notifications service, as the shared runner sees it."""

from pathlib import Path

from services.notifications import api, consumers, handlers, mail, models, orm, retention
from services.notifications.senders import check_notify_key
from services.notifications.unit_of_work import NotificationsUnitOfWork
from shared.config import Settings
from shared.service import ScheduledJob, ServiceDefinition


def check_settings(settings: Settings) -> None:
    """A malformed Notify key, or a key with no template, stops the service at start."""
    if settings.notify_api_key:
        check_notify_key(settings.notify_api_key)
        if not settings.notify_template_id:
            raise ValueError("DPS_NOTIFY_TEMPLATE_ID must be set with DPS_NOTIFY_API_KEY")


def _remind(uow, now) -> None:
    handlers.remind(uow, consumers.directory())


def definition() -> ServiceDefinition:
    orm.start_mappers()
    return ServiceDefinition(
        name="notifications",
        title="DPS for Alternative Provision: Notifications",
        metadata=models.metadata,
        retention=retention.retention,
        versions=Path(__file__).parent / "migrations" / "versions",
        blueprints=api.blueprints,
        event_handlers=consumers.event_handlers,
        unit_of_work=NotificationsUnitOfWork,
        check_settings=check_settings,
        jobs=[ScheduledJob("referral_reminders", _remind, period="minute")],
        relay=mail.MailRelay,
        relay_backlog=mail.DeliveryBacklog,
        description=(
            "Tells each person what they must act on, by email through GOV.UK Notify or SMTP: providers of new "
            "referrals on their lots and of decisions about them; officers of concerns and of referrals with no "
            "offers. It reads events only, keeps the copies it needs (providers' notification addresses), sends "
            "each message once, retries with backoff, and keeps a delivery log."),
    )
