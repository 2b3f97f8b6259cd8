"""The awards service, as the shared runner sees it."""

from pathlib import Path

from services.awards import api, consumers, messages, models, orm, retention, subject_access, transparency
from services.awards.unit_of_work import AwardsUnitOfWork
from shared.service import ServiceDefinition


def definition() -> ServiceDefinition:
    orm.start_mappers()
    return ServiceDefinition(
        name="awards",
        title="DPS for Alternative Provision: Awards and mini-competitions",
        metadata=models.metadata,
        published=messages.DATA_SCHEMAS,
        retention=retention.retention,
        subject_access=subject_access.gather,
        versions=Path(__file__).parent / "migrations" / "versions",
        blueprints=api.blueprints,
        event_handlers=consumers.event_handlers,
        unit_of_work=AwardsUnitOfWork,
        check_settings=transparency.check_ocid_prefix,
        description=(
            "Who gets the placement, and why. Call-offs: the offers of a closed referral ranked by total cost "
            "among the eligible (meets the needs, admitted and not suspended, within the maximum price, a place "
            "free, the registration rule), awarded once. Block contracts by mini-competition: sealed bids, "
            "independent and moderated scores, quality/price evaluation, standstill, confirmation, block places. "
            "Open data as an OCDS 1.1 release package."),
    )
