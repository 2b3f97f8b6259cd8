"""The tracking service, as the shared runner sees it."""

from pathlib import Path

from services.tracking import api, consumers, handlers, messages, models, orm, retention, subject_access
from services.tracking.domain import ConcernPolicy
from services.tracking.unit_of_work import TrackingUnitOfWork
from shared.calendar import school_calendar
from shared.config import Settings, load_settings
from shared.service import ScheduledJob, ServiceDefinition


def check_settings(settings: Settings) -> None:
    try:
        ConcernPolicy.from_settings(settings.attendance_threshold, settings.attendance_window_weeks)
    except ValueError as exc:
        raise ValueError(f"DPS_ATTENDANCE_THRESHOLD / DPS_ATTENDANCE_WINDOW_WEEKS: {exc}") from None


def _reminders(uow, now) -> None:
    settings = load_settings("tracking")
    handlers.publish_reminders(uow, now, school_calendar(settings.school_calendar_file), settings.full_time_hours)


def definition() -> ServiceDefinition:
    orm.start_mappers()
    return ServiceDefinition(
        name="tracking",
        title="DPS for Alternative Provision: Placement tracking and reporting",
        metadata=models.metadata,
        published=messages.DATA_SCHEMAS,
        retention=retention.retention,
        subject_access=subject_access.gather,
        versions=Path(__file__).parent / "migrations" / "versions",
        blueprints=api.blueprints,
        event_handlers=consumers.event_handlers,
        unit_of_work=TrackingUnitOfWork,
        check_settings=check_settings,
        jobs=[ScheduledJob("reminders", _reminders, period="daily")],
        description=(
            "What happened to each child after the award: placements made from awards, started, ended "
            "with the next step (or cancelled when the child never started); weekly attendance returns "
            "and the concerns they raise; reviews every six school weeks with the child's and the family's "
            "views; each child's sixth day; outcomes; and the reports that hold "
            "providers to account. Events on the `dps.tracking` exchange: see docs/reporting-events.md."),
    )
