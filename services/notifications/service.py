"""The notifications service, as the shared runner sees it."""

from pathlib import Path

from services.notifications import api, consumers, handlers, mail, models, orm, retention
from services.notifications.senders import check_notify_key
from services.notifications.unit_of_work import NotificationsUnitOfWork
from shared.catalogue import SERVICES
from shared.config import Settings, load_settings
from shared.messaging.metrics import queue_depth
from shared.messaging.topology import dead_letter_queue_name
from shared.service import ScheduledJob, ServiceDefinition


def check_settings(settings: Settings) -> None:
    """A malformed Notify key, or a key with no template, stops the service at start."""
    if settings.notify_api_key:
        check_notify_key(settings.notify_api_key)
        if not settings.notify_template_id:
            raise ValueError("DPS_NOTIFY_TEMPLATE_ID must be set with DPS_NOTIFY_API_KEY")


def _remind(uow, now) -> None:
    handlers.remind(uow, consumers.directory())


def _windows_closed(uow, now) -> None:
    handlers.announce_closed_windows(uow, consumers.directory())


def _dead_letters(uow, now) -> None:
    """Each service's dead-letter queue, counted on the broker (a passive declare: no call into any service)."""
    amqp_url = load_settings("notifications").amqp_url
    depths = {service: (dead_letter_queue_name(service), queue_depth(amqp_url, dead_letter_queue_name(service)))
              for service in SERVICES}
    handlers.watch_dead_letters(uow, consumers.directory(), depths)


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
        jobs=[ScheduledJob("referral_reminders", _remind, period="minute"),
              ScheduledJob("windows_closed", _windows_closed, period="minute"),
              ScheduledJob("dead_letters", _dead_letters, period="minute")],
        relay=mail.MailRelay,
        relay_backlog=mail.DeliveryBacklog,
        description=(
            "Tells each person what they must act on, by email through GOV.UK Notify or SMTP: providers of new "
            "referrals on their lots and of decisions about them; officers (the one who acts, else the team's "
            "mailbox) of concerns, of offers ready to assess or none at the deadline, of reviews and the sixth day; "
            "the manager of applications due for decision, off-DPS exceptions and dead-lettered events. It reads "
            "events only, keeps the copies it needs (providers' notification addresses), sends "
            "each message once, retries with backoff, and keeps a delivery log."),
    )
