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
    published_by = fields.String(load_default=None, allow_none=True)  # the officer's token sub (issue #18)
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
                             start_date=referral.start_date, invited=data["invited_provider_ids"], at=data["at"],
                             published_by=data["published_by"])
    invited = uow.copies.providers(data["invited_provider_ids"])
    handlers.record(uow, envelope.id, envelope.type, domain.new_referral(referral, invited, where.links), where)


def answered(uow, envelope, data, where) -> None:
    kind = "declined" if envelope.type == "offer.declined" else "offer"
    uow.copies.note_response(data["referral_id"], data["provider_id"], data["at"], kind)


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
    officer = domain.officer(where.team(referral.team), referral.published_by)  # the officer who acts
    notice = domain.no_offers(officer, referral_id=data["referral_id"], lot=referral.lot, links=where.links)
    handlers.record(uow, envelope.id, envelope.type, [notice], where)


# -- providers: applications, mini-competitions, compliance documents, declarations (#18) ----------------


class _Application(ProviderNamed):
    application_id = fields.UUID(required=True)
    lots = fields.List(fields.Integer(strict=True), required=True)
    # the applicant's (it is not yet a provider with addresses here), as the registry checked it: a message is
    # never dead-lettered over a stricter check here; a mail server refusing it fails the delivery with the reason
    contact_address = fields.String(required=True)


class ApplicationSubmitted(_Application):
    due_on = fields.Date(required=True)


class DecisionReason(_Data):
    lot = fields.Integer(required=True, strict=True)
    question_id = fields.String(load_default=None, allow_none=True)
    text = fields.String(required=True)


class ApplicationDecided(_Application):
    admitted_lots = fields.List(fields.Integer(strict=True), required=True)
    reasons = fields.List(fields.Nested(DecisionReason), required=True)


class _BlockContract(_Data):
    opportunity_id = fields.UUID(required=True)
    lot = fields.Integer(required=True, strict=True)
    places = fields.Integer(required=True, strict=True)
    contract_start = fields.Date(required=True)
    contract_end = fields.Date(required=True)


class MiniCompetitionPublished(_BlockContract):
    deadline = fields.AwareDateTime(required=True)
    invited_provider_ids = fields.List(fields.UUID(), required=True)


class BlockContractAwarded(_BlockContract):
    provider_id = fields.UUID(required=True)
    standstill_ends_on = fields.Date(load_default=None, allow_none=True)


class DocumentExpired(ProviderNamed):
    kind = fields.String(required=True)
    expires_on = fields.Date(required=True)


class DocumentExpiring(DocumentExpired):
    days_left = fields.Integer(required=True, strict=True)


class DeclarationRequested(ProviderNamed):
    due_on = fields.Date(required=True)
    regulation = fields.String(required=True)


def _applicant(data):
    return domain.provider_rules.applicant(data["provider_id"], data["provider_name"], data["contact_address"])


def application_submitted(uow, envelope, data, where) -> None:
    notice = domain.provider_rules.application_received(
        _applicant(data), application_id=data["application_id"], lots=data["lots"],
        submitted_on=council_date(data["at"]), due_on=data["due_on"], links=where.links)
    handlers.record(uow, envelope.id, envelope.type, [notice], where)


def application_decided(uow, envelope, data, where) -> None:
    notice = domain.provider_rules.application_decided(
        _applicant(data), application_id=data["application_id"], lots=data["lots"],
        admitted_lots=data["admitted_lots"], reasons=data["reasons"], links=where.links)
    handlers.record(uow, envelope.id, envelope.type, [notice], where)


def mini_competition_published(uow, envelope, data, where) -> None:
    notices = domain.provider_rules.mini_competition_invited(
        uow.copies.providers(data["invited_provider_ids"]), opportunity_id=data["opportunity_id"], lot=data["lot"],
        lot_name=lot_name(data["lot"]), places=data["places"], contract_start=data["contract_start"],
        contract_end=data["contract_end"], deadline=data["deadline"], links=where.links)
    handlers.record(uow, envelope.id, envelope.type, notices, where)


def block_contract_awarded(uow, envelope, data, where) -> None:
    [provider] = uow.copies.providers([data["provider_id"]])
    notice = domain.provider_rules.block_contract_awarded(
        provider, opportunity_id=data["opportunity_id"], lot=data["lot"], lot_name=lot_name(data["lot"]),
        places=data["places"], contract_start=data["contract_start"], contract_end=data["contract_end"],
        standstill_ends_on=data["standstill_ends_on"], links=where.links)
    handlers.record(uow, envelope.id, envelope.type, [notice], where)


def _named_provider(uow, data):
    uow.copies.note_provider(data["provider_id"], data["provider_name"], data["at"])
    [provider] = uow.copies.providers([data["provider_id"]])
    return provider


def document_expiring(uow, envelope, data, where) -> None:
    notice = domain.provider_rules.document_expiring(_named_provider(uow, data), kind=data["kind"],
                                                     expires_on=data["expires_on"], days_left=data["days_left"],
                                                     links=where.links)
    handlers.record(uow, envelope.id, envelope.type, [notice], where)


def document_expired(uow, envelope, data, where) -> None:
    notice = domain.provider_rules.document_expired(_named_provider(uow, data), kind=data["kind"],
                                                    expires_on=data["expires_on"], links=where.links)
    handlers.record(uow, envelope.id, envelope.type, [notice], where)


def declaration_requested(uow, envelope, data, where) -> None:
    notice = domain.provider_rules.declaration_requested(_named_provider(uow, data), due_on=data["due_on"],
                                                         regulation=data["regulation"], links=where.links)
    handlers.record(uow, envelope.id, envelope.type, [notice], where)


def provider_event_handlers() -> dict[str, Handler]:
    """What providers and applicants hear beyond a referral's life (#18)."""
    return {
        "application.submitted": _on(ApplicationSubmitted, application_submitted),
        "application.decided": _on(ApplicationDecided, application_decided),
        "mini_competition.published": _on(MiniCompetitionPublished, mini_competition_published),
        "block_contract.awarded": _on(BlockContractAwarded, block_contract_awarded),
        "compliance_document.expiring": _on(DocumentExpiring, document_expiring),
        "compliance_document.expired": _on(DocumentExpired, document_expired),
        "provider.declaration_requested": _on(DeclarationRequested, declaration_requested),
    }


# -- issue #18: officers and the manager ----------------------------------------------------------------

class OfferWithdrawn(ReferralEnded):
    provider_id = fields.UUID(required=True)


class WindowExtended(ReferralEnded):
    deadline = fields.AwareDateTime(required=True)


class _TeamsReferral(ReferralEnded):
    team = fields.String(required=True)


class SixthDay(_TeamsReferral):
    """`sixth_day.*`: a referral's sixth-day deadline (`due_on`), for its team."""

    due_on = fields.Date(required=True)


class ReviewDue(ConcernRaised):
    """`review.*`: the placement's review date, for its team (what a concern names, less its kind)."""

    kind = fields.String(load_default=None)
    due_on = fields.Date(required=True)


class ApplicationDecision(_Data):
    application_id = fields.UUID(required=True)
    provider_name = fields.String(required=True)
    received_on = fields.Date(required=True)
    due_on = fields.Date(required=True)


class OffDpsException(_TeamsReferral):
    lot = fields.Integer(required=True, strict=True)
    reason = fields.String(required=True)


def offer_withdrawn(uow, envelope, data, where) -> None:
    uow.copies.forget_response(data["referral_id"], data["provider_id"])


def window_extended(uow, envelope, data, where) -> None:
    uow.copies.move_deadline(data["referral_id"], data["deadline"])


def _kind(envelope) -> str:
    """`review.due_soon` -> `due_soon`, `application.decision_due` -> `due`."""
    return envelope.type.rpartition(".")[2].removeprefix("decision_")


def review_due(uow, envelope, data, where) -> None:
    [provider] = uow.copies.providers([data["provider_id"]])
    notice = domain.review(where.team(data["team"]), _kind(envelope), placement_id=data["placement_id"],
                           provider_name=provider.name, due_on=data["due_on"], links=where.links)
    handlers.record(uow, envelope.id, envelope.type, [notice], where)


def sixth_day(uow, envelope, data, where) -> None:
    notice = domain.sixth_day(where.team(data["team"]), _kind(envelope), referral_id=data["referral_id"],
                              due_on=data["due_on"], links=where.links)
    handlers.record(uow, envelope.id, envelope.type, [notice], where)


def application_decision(uow, envelope, data, where) -> None:
    notice = domain.application_decision(where.manager(), _kind(envelope), application_id=data["application_id"],
                                         applicant=data["provider_name"], received_on=data["received_on"],
                                         due_on=data["due_on"], links=where.links)
    handlers.record(uow, envelope.id, envelope.type, [notice], where)


def off_dps_exception(uow, envelope, data, where) -> None:
    notice = domain.off_dps_exception(where.manager(), team_name=where.team(data["team"]).name,
                                      referral_id=data["referral_id"], lot=data["lot"], reason=data["reason"],
                                      links=where.links)
    handlers.record(uow, envelope.id, envelope.type, [notice], where)


def council_handlers() -> dict[str, Handler]:
    return {
        "offer.withdrawn": _on(OfferWithdrawn, offer_withdrawn),
        "referral.window_extended": _on(WindowExtended, window_extended),
        "review.due_soon": _on(ReviewDue, review_due),
        "review.overdue": _on(ReviewDue, review_due),
        "sixth_day.at_risk": _on(SixthDay, sixth_day),
        "sixth_day.missed": _on(SixthDay, sixth_day),
        "application.decision_due": _on(ApplicationDecision, application_decision),
        "application.decision_overdue": _on(ApplicationDecision, application_decision),
        "off_dps_exception.recorded": _on(OffDpsException, off_dps_exception),
    }


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
        **provider_event_handlers(),
        **council_handlers(),
    }
