"""Events this service reads, turned into deliveries (and the copies it keeps).

Each handler loads only the fields it reads; the consumer commits the
deliveries with its inbox row, so an event handled twice, or a consumer killed
mid-batch and restarted, records each delivery once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from marshmallow import EXCLUDE, Schema, fields

from services.notifications import domain, handlers
from services.notifications.handlers import Directory, lot_name
from shared.calendar import council_date
from shared.config import load_settings
from shared.events import Envelope
from shared.messaging.consumer import Handler
from shared.schemas import cached
from shared.unit_of_work import UnitOfWork


class _Data(Schema):
    class Meta:
        unknown = EXCLUDE


class ReferralPublished(_Data):
    referral_id = fields.UUID(required=True)
    lot = fields.Integer(required=True, strict=True)
    team = fields.String(required=True)
    deadline = fields.AwareDateTime(required=True)
    hours_per_week = fields.Decimal(required=True)
    invited_provider_ids = fields.List(fields.UUID(), required=True)
    profile = fields.Dict(load_default=dict)
    at = fields.AwareDateTime(required=True)


class Answered(_Data):
    referral_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    at = fields.AwareDateTime(required=True)


class ReferralEnded(_Data):
    referral_id = fields.UUID(required=True)


class PlacementAwarded(_Data):
    placement_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    lot = fields.Integer(required=True, strict=True)
    start_date = fields.Date(required=True)
    standstill_ends_on = fields.Date(load_default=None, allow_none=True)


class OfferUnsuccessful(_Data):
    provider_id = fields.UUID(required=True)
    referral_id = fields.UUID(load_default=None)
    opportunity_id = fields.UUID(load_default=None)
    rank = fields.Integer(load_default=None, allow_none=True)
    reason = fields.String(required=True)
    standstill_ends_on = fields.Date(load_default=None, allow_none=True)


class MembershipChanged(_Data):
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)
    lot = fields.Integer(required=True, strict=True)
    reason = fields.String(load_default=None, allow_none=True)
    at = fields.AwareDateTime(required=True)


class ProviderNamed(_Data):
    provider_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)
    at = fields.AwareDateTime(required=True)


class ContactsChanged(ProviderNamed):
    notification_addresses = fields.List(fields.Email(), required=True)


class ConcernRaised(_Data):
    placement_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    team = fields.String(required=True)
    kind = fields.String(required=True)


class NoEligibleOffers(_Data):
    referral_id = fields.UUID(required=True)


CONCERN_WORDS = {"unexplained_absence": "unexplained absence in the weekly attendance return",
                 "low_attendance": "attendance below the council's threshold"}


def directory() -> Directory:
    return Directory.from_settings(load_settings("notifications"))


def _on(schema: type[Schema], command: Callable[[UnitOfWork, Envelope, dict, Directory], None]) -> Handler:
    """Like shared.messaging.consumer.reading, with the envelope (its id keys the deliveries) and
    the directory of recipients."""
    loader = cached(schema)

    def handle(uow: UnitOfWork, envelope: Envelope) -> None:
        command(uow, envelope, loader.load(envelope.data), directory())

    handle.__name__ = command.__name__
    return handle


def referral_published(uow, envelope, data, where: Directory) -> None:
    start = data["profile"].get("start_date")
    referral = domain.PublishedReferral(data["referral_id"], data["lot"], lot_name(data["lot"]), data["deadline"],
                                        data["hours_per_week"], date.fromisoformat(start) if start else None)
    uow.copies.note_referral(referral_id=data["referral_id"], lot=data["lot"], team=data["team"],
                             deadline=data["deadline"], hours_per_week=data["hours_per_week"],
                             start_date=referral.start_date, invited=data["invited_provider_ids"], at=data["at"])
    invited = uow.copies.providers(data["invited_provider_ids"])
    handlers.record(uow, envelope.id, envelope.type, domain.new_referral(referral, invited, where.links), where)


def answered(uow, envelope, data, where) -> None:
    uow.copies.note_response(data["referral_id"], data["provider_id"], data["at"])


def referral_ended(uow, envelope, data, where) -> None:
    uow.copies.forget_referral(data["referral_id"])


def placement_awarded(uow, envelope, data, where) -> None:
    [provider] = uow.copies.providers([data["provider_id"]])
    notice = domain.offer_awarded(provider, lot=data["lot"], start_date=data["start_date"],
                                  standstill_ends_on=data["standstill_ends_on"], placement_id=data["placement_id"],
                                  links=where.links)
    handlers.record(uow, envelope.id, envelope.type, [notice], where)


def offer_unsuccessful(uow, envelope, data, where) -> None:
    [provider] = uow.copies.providers([data["provider_id"]])
    path = f"/provider/referrals/{data['referral_id']}" if data["referral_id"] else \
        f"/provider/mini-competitions/{data['opportunity_id']}"
    notice = domain.offer_unsuccessful(provider, rank=data["rank"], reason=data["reason"],
                                       standstill_ends_on=data["standstill_ends_on"], link_path=path,
                                       links=where.links)
    handlers.record(uow, envelope.id, envelope.type, [notice], where)


def _membership(change: str):
    def membership_changed(uow, envelope, data, where) -> None:
        uow.copies.note_provider(data["provider_id"], data["provider_name"], data["at"])
        [provider] = uow.copies.providers([data["provider_id"]])
        notice = domain.membership_changed(provider, change, lot=data["lot"], lot_name=lot_name(data["lot"]),
                                           on=council_date(data["at"]),
                                           reason=data["reason"], links=where.links)
        handlers.record(uow, envelope.id, envelope.type, [notice], where)

    membership_changed.__name__ = f"membership_{change}"
    return membership_changed


def provider_named(uow, envelope, data, where) -> None:
    uow.copies.note_provider(data["provider_id"], data["provider_name"], data["at"])


def contacts_changed(uow, envelope, data, where) -> None:
    uow.copies.note_provider(data["provider_id"], data["provider_name"], data["at"],
                             addresses=data["notification_addresses"])
    handlers.told_late(uow, *uow.copies.providers([data["provider_id"]]))


def concern_raised(uow, envelope, data, where) -> None:
    [provider] = uow.copies.providers([data["provider_id"]])
    notice = domain.concern_raised(where.team(data["team"]), placement_id=data["placement_id"],
                                   provider_name=provider.name,
                                   concern=CONCERN_WORDS.get(data["kind"], data["kind"].replace("_", " ")),
                                   links=where.links)
    handlers.record(uow, envelope.id, envelope.type, [notice], where)


def no_eligible_offers(uow, envelope, data, where) -> None:
    referral = uow.copies.referral(data["referral_id"])
    if referral is None:
        return  # published before this service kept referrals: nothing to address it to
    notice = domain.no_offers(where.team(referral.team), referral_id=data["referral_id"], lot=referral.lot,
                              links=where.links)
    handlers.record(uow, envelope.id, envelope.type, [notice], where)


def event_handlers() -> dict[str, Handler]:
    return {
        "referral.published": _on(ReferralPublished, referral_published),
        "offer.submitted": _on(Answered, answered),
        "offer.declined": _on(Answered, answered),
        "referral.cancelled": _on(ReferralEnded, referral_ended),
        "placement.awarded": _on(PlacementAwarded, placement_awarded),
        "offer.unsuccessful": _on(OfferUnsuccessful, offer_unsuccessful),
        "membership.admitted": _on(ProviderNamed, provider_named),
        "membership.suspended": _on(MembershipChanged, _membership("suspended")),
        "membership.reinstated": _on(MembershipChanged, _membership("reinstated")),
        "membership.removed": _on(MembershipChanged, _membership("removed")),
        "provider.registration_changed": _on(ProviderNamed, provider_named),
        "provider.contacts_changed": _on(ContactsChanged, contacts_changed),
        "concern.raised": _on(ConcernRaised, concern_raised),
        "calloff.no_eligible_offers": _on(NoEligibleOffers, no_eligible_offers),
    }
