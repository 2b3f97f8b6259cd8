"""The service layer: one function per use case.

Each takes the unit of work (`uow.referrals`, `uow.registry`), who is acting
and plain arguments; it loads what it needs, lets the domain decide, and
commits.  What is published and audited comes from the referral's own events
when the unit of work commits (`messages.translate`): no handler publishes or
audits by hand.  The ones driven by other services' events (the registry copy,
the awards) do not commit: the consumer commits their effect with the inbox
row.

Reads never write.  A referral whose deadline has passed is shown closed (the
domain's `close_if_due`, in memory only); the scheduled job records it
(`close_due_referrals`), and an action on the referral records it first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol
from uuid import UUID

from services.referrals import messages, webhooks
from services.referrals.domain import (
    ChildDetails,
    DpsRecord,
    Membership,
    MembershipStatus,
    Offer,
    OfferTerms,
    Profile,
    Referral,
    ReferralPublished,
    ReferralStatus,
    choose_dps,
    council_date,
)
from services.referrals.domain.events import WindowExtended
from services.referrals.domain.rectification import IDENTITY
from services.referrals.domain.registry import require_member
from services.referrals.domain.visibility import (
    ProviderAccess,
    check_provider_access,
    check_provider_reads,
    closed_to,
    council_listing_team,
    lots_by_access,
    require_council_side,
    require_provider,
    require_team_officer,
    unable_to_answer,
    visible_offers,
)
from services.referrals.unit_of_work import ReferralsUnitOfWork
from shared.actor import Actor
from shared.calendar import WORKING_DAYS, Calendar
from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.unit_of_work import AuditEntry

UnitOfWork = ReferralsUnitOfWork


# --- helpers -----------------------------------------------------------------------

def _for_change(uow: UnitOfWork, referral_id: UUID) -> Referral:
    """The referral locked for a change, closed first if its deadline has passed."""
    referral = uow.referrals.get(referral_id, for_update=True)
    referral.close_if_due(uow.now())
    return referral


def _for_team_officer(uow: UnitOfWork, actor: Actor, referral_id: UUID) -> Referral:
    """The referral locked for a change only an officer of its team may make."""
    referral = _for_change(uow, referral_id)
    require_team_officer(referral, actor)
    return referral


def _team_officer_changes(uow: UnitOfWork, actor: Actor, referral_id: UUID,
                          change: Callable[[Referral], object]) -> CouncilView:
    """An officer of the referral's team changes it; the council's view after the commit."""
    referral = _for_team_officer(uow, actor, referral_id)
    change(referral)
    uow.commit()
    return _council_view(uow, referral)


def _for_answer(uow: UnitOfWork, referral_id: UUID, provider_id: UUID) -> Referral:
    """The referral a provider answers (offers on, declines): shared with other providers' answers, locked
    against a change of its state; past its deadline it is refused (`Referral._check_window`)."""
    referral = uow.referrals.get(referral_id, answering=provider_id)
    referral.close_if_due(uow.now())  # then refused: past the deadline no answer is taken
    return referral


def _require_live(referral: Referral, provider_id: UUID, offer_id: UUID) -> None:
    """While offers are open, the offer acted on must be the provider's live one (not an earlier, withdrawn one)."""
    if referral.status is ReferralStatus.PUBLISHED:
        live = referral.live_offer_of(provider_id)
        if live is None or live.id != offer_id:
            raise Conflict("this offer has been withdrawn")


def _as_of_now(uow: UnitOfWork, referral: Referral) -> Referral:
    """A referral as the domain sees it now: past its deadline it is closed (in memory: reads never write)."""
    referral.close_if_due(uow.now())
    return referral


@dataclass(frozen=True)
class CouncilView:
    """A referral as the council sees it: with the child's opaque reference."""

    referral: Referral
    child_ref: UUID

    @property
    def referral_id(self) -> UUID:
        return self.referral.id


class ShowsAChild(Protocol):
    """Anything that shows a child's identity: the child and the referral it was read through."""

    child_ref: UUID

    @property
    def referral_id(self) -> UUID: ...


def _council_view(uow: UnitOfWork, referral: Referral) -> CouncilView:
    return CouncilView(referral, uow.referrals.child_ref(referral.id))


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def _nested(part: str, build):
    """Build a value object; a refusal names the field inside its part (profile.aims)."""
    try:
        return build()
    except InvalidInput as exc:
        raise InvalidInput(exc.message, errors={part: exc.field_errors}) from None


PROFILE_FIELDS = frozenset(f.name for f in dataclasses.fields(Profile))


@contextmanager
def _profile_errors_nested():
    """A rule of the whole form that faults a profile field names it inside the profile."""
    try:
        yield
    except InvalidInput as exc:
        field = exc.field or ""
        if field.split(".")[0] in PROFILE_FIELDS:
            raise InvalidInput(exc.message, errors={"profile": exc.field_errors}) from None
        raise


def build_child(data: Mapping[str, Any]) -> ChildDetails:
    return _nested("child", lambda: ChildDetails(**{name: data.get(name) for name in IDENTITY}))


def build_profile(data: Mapping[str, Any]) -> Profile:
    return _nested("profile", lambda: Profile(**data))


def build_terms(data: Mapping[str, Any]) -> OfferTerms:
    return OfferTerms(**data)


# --- the referral form (officers) ----------------------------------------------------

def _dps_for(uow: UnitOfWork, dps_id: UUID | None, lot: int) -> UUID:
    """The DPS named (one the registry has described, or the first), else the only open one with the lot."""
    if dps_id is None:
        return choose_dps(uow.registry.dps_records(), lot)
    record = uow.registry.dps(dps_id)
    if record is None and dps_id != FIRST_DPS_ID:
        raise InvalidInput("no DPS with this id is known to referrals", field="dps_id")
    if record is not None and record.lots and lot not in record.lots:
        raise InvalidInput(f"lot {lot} is not a lot of the DPS {record.name or record.id}", field="lot")
    return dps_id


def create_referral(uow: UnitOfWork, actor: Actor, *, lot: int, child: Mapping, profile: Mapping,
                    deadline: datetime, exclusion_start: date | None = None, questions: Iterable[str] = (),
                    calendar: Calendar = WORKING_DAYS, dps_id: UUID | None = None,
                    urgency: str | None = None) -> CouncilView:
    if "officer" not in actor.roles or not actor.team:
        raise Forbidden("only an officer of a commissioning team may make a referral")
    with _profile_errors_nested():
        referral = Referral.create(team=actor.team, lot=lot, child=build_child(child),
                                   profile=build_profile(profile), deadline=_utc(deadline), by=actor.sub,
                                   now=uow.now(), exclusion_start=exclusion_start, questions=list(questions),
                                   calendar=calendar, dps_id=_dps_for(uow, dps_id, lot), urgency=urgency)
    uow.referrals.add(referral)
    uow.commit()
    return _council_view(uow, referral)


def revise_referral(uow: UnitOfWork, actor: Actor, referral_id: UUID, *, lot: int | None = None,
                    child: Mapping | None = None, profile: Mapping | None = None, deadline: datetime | None = None,
                    exclusion_start: date | None = None, calendar: Calendar = WORKING_DAYS,
                    urgency: str | None = None) -> CouncilView:
    referral = _for_team_officer(uow, actor, referral_id)
    with _profile_errors_nested():
        # a revised child keeps the census details the revision does not give
        revised = build_child({**dataclasses.asdict(referral.child), **child}) if child else None
        referral.revise(now=uow.now(), calendar=calendar, lot=lot, child=revised,
                        profile=build_profile(profile) if profile else None, deadline=_utc(deadline),
                        exclusion_start=exclusion_start, by=actor.sub, urgency=urgency)
    uow.commit()
    return _council_view(uow, referral)


def add_question(uow: UnitOfWork, actor: Actor, referral_id: UUID, text: str) -> UUID:
    referral = _for_team_officer(uow, actor, referral_id)
    question = referral.add_question(text)
    uow.commit()
    return question.id


def remove_question(uow: UnitOfWork, actor: Actor, referral_id: UUID, question_id: UUID) -> None:
    referral = _for_team_officer(uow, actor, referral_id)
    referral.remove_question(question_id)
    uow.commit()


# --- publish, cancel, close ----------------------------------------------------------

@dataclass(frozen=True)
class Publishing:
    """What publishing on a DPS's lot reads: the DPS record, who is on the lot, the SLA versions they
    accepted (for an agreed minimum window)."""

    dps: DpsRecord | None
    memberships: list[Membership]
    accepted: dict[UUID, set[str]]

    @property
    def rules(self) -> dict:
        return {"dps": self.dps, "accepted": self.accepted}


def _publishing(uow: UnitOfWork, dps_id: UUID, lot: int) -> Publishing:
    memberships = uow.registry.memberships_on(lot, council_date(uow.now()), dps_id)
    return Publishing(uow.registry.dps(dps_id), memberships,
                      uow.registry.sla_accepted(dps_id, [m.provider_id for m in memberships]))


def _tell_invited(uow: UnitOfWork, referral: Referral) -> None:
    """Every provider invited hears of the new referral by webhook (and by the event the commit publishes)."""
    published = next(e for e in referral.events if isinstance(e, ReferralPublished))
    type_, data = messages.message_for(published)
    webhooks.enqueue(uow.session, event_type=type_, referral_id=referral.id, provider_ids=published.invited,
                     payload=provider_payload(data), now=published.at)


def publish_referral(uow: UnitOfWork, actor: Actor, referral_id: UUID) -> tuple[UUID, ...]:
    """Invite every provider admitted and not suspended on the DPS's lot now, by event and webhook."""
    referral = _for_team_officer(uow, actor, referral_id)
    publishing = _publishing(uow, referral.dps_id, referral.lot)
    invited = referral.publish(publishing.memberships, by=actor.sub, now=uow.now(), **publishing.rules)
    _tell_invited(uow, referral)
    uow.commit()
    return invited


def extend_window(uow: UnitOfWork, actor: Actor, referral_id: UUID, *, deadline: datetime,
                  urgency: str | None = None) -> CouncilView:
    """A later deadline before the window closes; every invited provider is told by webhook."""
    referral = _for_team_officer(uow, actor, referral_id)
    publishing = _publishing(uow, referral.dps_id, referral.lot)
    referral.extend_window(_utc(deadline), by=actor.sub, now=uow.now(), urgency=urgency, **publishing.rules)
    extended = next(e for e in referral.events if isinstance(e, WindowExtended))
    webhooks.enqueue(uow.session, event_type="referral.window_extended", referral_id=referral.id,
                     provider_ids=extended.invited, payload=messages.window_extended_data(extended), now=uow.now())
    uow.commit()
    return _council_view(uow, referral)


def republish_referral(uow: UnitOfWork, actor: Actor, referral_id: UUID, *, deadline: datetime,
                       urgency: str | None = None, dps_id: UUID | None = None) -> CouncilView:
    """Send a closed or unsuccessful referral to the lot again with a new window (a new referral; providers
    admitted since are invited); this one is cancelled, naming it.  Returns the new referral."""
    referral = _for_team_officer(uow, actor, referral_id)
    dps_id = referral.dps_id if dps_id is None else _dps_for(uow, dps_id, referral.lot)
    publishing = _publishing(uow, dps_id, referral.lot)
    again = referral.republish(publishing.memberships, deadline=_utc(deadline), by=actor.sub, now=uow.now(),
                               urgency=urgency, dps_id=dps_id, **publishing.rules)
    uow.referrals.add(again)
    _tell_invited(uow, again)
    uow.commit()
    return _council_view(uow, again)


def provider_payload(published: dict) -> dict:
    """What a provider's system is sent: the published profile, not who else was invited."""
    hidden = {"invited_provider_ids", "no_eligible_providers", "at"}
    return {**{k: v for k, v in published.items() if k not in hidden}, "status": "open"}


def cancel_referral(uow: UnitOfWork, actor: Actor, referral_id: UUID, reason: str) -> CouncilView:
    return _team_officer_changes(uow, actor, referral_id,
                                 lambda it: it.cancel(reason, by=actor.sub, now=uow.now()))


def close_referral_early(uow: UnitOfWork, actor: Actor, referral_id: UUID) -> CouncilView:
    referral = _for_team_officer(uow, actor, referral_id)
    registry = uow.registry.memberships_on(referral.lot, council_date(uow.now()), referral.dps_id)
    referral.close_early(by=actor.sub, now=uow.now(), unable_to_answer=unable_to_answer(referral, registry))
    uow.commit()
    return _council_view(uow, referral)


def close_due_referrals(uow: UnitOfWork, now: datetime) -> int:
    """The scheduled job: record the closing of every published referral whose deadline has passed.
    Does not commit (the job runner does)."""
    closed = 0
    for referral_id in uow.referrals.due_to_close(now):
        closed += uow.referrals.get(referral_id, for_update=True).close_if_due(now)
    return closed


# --- offers (providers) ------------------------------------------------------------------

def _membership(uow: UnitOfWork, provider_id: UUID, referral: Referral) -> Membership:
    """The provider's membership of the referral's DPS and lot (removed if it has none)."""
    found = uow.registry.membership(provider_id, referral.lot, council_date(uow.now()), referral.dps_id)
    return found or Membership(provider_id, referral.lot, MembershipStatus.REMOVED, dps_id=referral.dps_id)


def submit_offer(uow: UnitOfWork, actor: Actor, referral_id: UUID, terms: Mapping[str, Any], *,
                 idempotency_key: str | None = None, fingerprint: str | None = None
                 ) -> tuple[Referral, Offer, bool]:
    """Make an offer; returns the referral, the offer and whether it is new.  A retried request with the
    same Idempotency-Key and the same body gets the same offer back."""
    provider_id = require_provider(actor)
    referral = _for_answer(uow, referral_id, provider_id)  # a concurrent retry waits here
    if idempotency_key:
        prior = uow.referrals.offer_by_idempotency_key(provider_id, idempotency_key)
        if prior is not None:
            if prior.referral_id != referral_id or prior.request_fingerprint != fingerprint:
                raise InvalidInput("this Idempotency-Key was already used for a different request",
                                   field="Idempotency-Key", location="headers")
            return referral, next(o for o in referral.offers if o.id == prior.id), False
    offer = referral.submit_offer(_membership(uow, provider_id, referral), build_terms(terms), now=uow.now())
    if idempotency_key:
        uow.referrals.remember_idempotency_key(offer, idempotency_key, fingerprint or "")
    uow.commit()
    return referral, offer, True


def _own_offer(uow: UnitOfWork, actor: Actor, offer_id: UUID) -> tuple[Referral, UUID]:
    """The referral the provider's offer was made on, as an answer of the provider's (`_for_answer`)."""
    provider_id = require_provider(actor)
    referral = uow.referrals.get_by_offer(offer_id, provider_id, answering=True)
    referral.close_if_due(uow.now())  # then refused: past the deadline no answer is taken
    return referral, provider_id


def change_offer(uow: UnitOfWork, actor: Actor, offer_id: UUID, terms: Mapping[str, Any]
                 ) -> tuple[Referral, Offer]:
    referral, provider_id = _own_offer(uow, actor, offer_id)
    built = build_terms(terms)
    _require_live(referral, provider_id, offer_id)
    offer = referral.change_offer(_membership(uow, provider_id, referral), built, now=uow.now())
    uow.commit()
    return referral, offer


def withdraw_offer(uow: UnitOfWork, actor: Actor, offer_id: UUID) -> tuple[Referral, Offer]:
    referral, provider_id = _own_offer(uow, actor, offer_id)
    _require_live(referral, provider_id, offer_id)
    offer = referral.withdraw_offer(provider_id, now=uow.now())
    uow.commit()
    return referral, offer


def decline_referral(uow: UnitOfWork, actor: Actor, referral_id: UUID, reason: str) -> Referral:
    provider_id = require_provider(actor)
    referral = _for_answer(uow, referral_id, provider_id)
    if provider_id in referral.invited:  # not invited: the referral's own refusal says so (403)
        _check_provider_access(uow, referral, provider_id)
    referral.decline(provider_id, reason, now=uow.now())
    uow.commit()
    return referral


# --- assessment and outcomes (officers) ----------------------------------------------------

def assess_offer(uow: UnitOfWork, actor: Actor, referral_id: UUID, offer_id: UUID, *, meets_needs: bool,
                 reason: str, criteria_met: Mapping[UUID, bool] | None = None) -> tuple[Referral, Offer]:
    """Returns the referral and the offer assessed."""
    referral = _for_team_officer(uow, actor, referral_id)
    referral.assess_offer(offer_id, meets_needs=meets_needs, reason=reason, criteria_met=criteria_met,
                          by=actor.sub, now=uow.now())
    uow.commit()
    return referral, next(o for o in referral.offers if o.id == offer_id)


def complete_assessment(uow: UnitOfWork, actor: Actor, referral_id: UUID) -> CouncilView:
    """Every live offer assessed: tell awards (referral.closed, with child_ref)."""
    return _team_officer_changes(uow, actor, referral_id,
                                 lambda it: it.complete_assessment(by=actor.sub, now=uow.now()))


def record_off_dps_exception(uow: UnitOfWork, actor: Actor, referral_id: UUID, reason: str,
                             details: Mapping) -> CouncilView:
    """The provider, the placement's terms and the minimum checks (`details`): awards keeps a copy for the
    manager's approval (off_dps_exception.recorded)."""
    return _team_officer_changes(uow, actor, referral_id, lambda it: it.record_off_dps_exception(
        reason, details, by=actor.sub, now=uow.now()))


# --- reading (a read-only unit of work: nothing here commits) ---------------------------------

def record_identity_reads(uow: UnitOfWork, actor: Actor, shown: Iterable[ShowsAChild], through: str) -> None:
    """Every read of a child's identity (name, date of birth, UPN, address) is
    written to the audit trail: who, when, which child, through which endpoint
    (UK GDPR accountability).  The read itself stays read-only; this is the
    one write that follows it, in its own unit of work."""
    for view in shown:
        uow.record(AuditEntry("child.identity_read", "child", view.child_ref, actor=actor,
                              details={"referral_id": str(view.referral_id), "through": through}))
    uow.commit()


def referral_for_council(uow: UnitOfWork, actor: Actor, referral_id: UUID) -> CouncilView:
    referral = _as_of_now(uow, uow.referrals.get(referral_id, assessments=False))  # the view shows none
    require_council_side(referral, actor)
    return _council_view(uow, referral)


def referrals_for_council(uow: UnitOfWork, actor: Actor, *, team: str | None = None, status: str | None = None,
                          lot: int | None = None, upn: str | None = None, child_ref: UUID | None = None,
                          limit: int = 100, offset: int = 0) -> list[CouncilView]:
    """The manager sees every team's; an officer only their own team's."""
    ids = uow.referrals.find(now=uow.now(), team=council_listing_team(actor, team), status=status, lot=lot,
                             upn=upn.replace(" ", "").upper() if upn else None, child_ref=child_ref,
                             limit=limit, offset=offset)
    found = uow.referrals.get_many(ids, assessments=False)  # the council's view shows none
    return [CouncilView(_as_of_now(uow, found[i]), uow.referrals.child_ref(i)) for i in ids]


def offers_for_council(uow: UnitOfWork, actor: Actor, referral_id: UUID) -> Referral:
    """Sealed until the window closes: the caller then reads `referral.live_offers`."""
    referral = _as_of_now(uow, uow.referrals.get(referral_id))
    require_council_side(referral, actor)
    visible_offers(referral, actor)  # sealed until the window closes
    return referral


def _check_provider_access(uow: UnitOfWork, referral: Referral, provider_id: UUID,
                           check=check_provider_access) -> None:
    """Invited, and its membership of the lot still gives it access (see `visibility.check_provider_access`;
    a read also asks whether its access has ended: `check_provider_reads`)."""
    membership = None
    if provider_id in referral.invited:
        membership = uow.registry.membership(provider_id, referral.lot, council_date(uow.now()), referral.dps_id)
    check(referral, provider_id, membership.status if membership else None)


def referral_for_provider(uow: UnitOfWork, actor: Actor, referral_id: UUID) -> Referral:
    """The pseudonymised profile only, to an invited provider whose membership still gives it access and
    whose access has not ended (`visibility.closed_to`); anyone not invited hears of no such referral."""
    provider_id = require_provider(actor)
    referral = _as_of_now(uow, uow.referrals.get(referral_id))
    _check_provider_access(uow, referral, provider_id, check=check_provider_reads)
    return referral


def lines_to_quote(uow: UnitOfWork, actor: Actor, referral: Referral) -> tuple:
    """The lines of the provider's schedule in force for the referral's lot: what an offer may quote (the
    same copy `submit_offer` checks the price against)."""
    return uow.registry.pricing_lines(require_provider(actor), referral.lot, council_date(uow.now()))


OPEN_TO_PROVIDERS = ("published",)
SEEN_BY_PROVIDERS = ("published", "closed", "awarded", "no_suitable_offer", "cancelled")


def referrals_for_provider(uow: UnitOfWork, actor: Actor, *, open_only: bool = True, lot: int | None = None,
                           limit: int = 100, offset: int = 0) -> list[Referral]:
    provider_id = require_provider(actor)
    access = lots_by_access(uow.registry.memberships_of(provider_id, council_date(uow.now())))
    ids = uow.referrals.invited_to(provider_id, now=uow.now(),
                                   statuses=OPEN_TO_PROVIDERS if open_only else SEEN_BY_PROVIDERS, lot=lot,
                                   all_on=access[ProviderAccess.ALL],
                                   own_live_offers_on=access[ProviderAccess.OWN_LIVE_OFFERS],
                                   access_open=True, limit=limit, offset=offset)
    found = uow.referrals.get_many(ids, seen_by=provider_id)  # what the provider's view shows, no more
    return [_as_of_now(uow, found[i]) for i in ids]


def offers_of_provider(uow: UnitOfWork, actor: Actor, *, referral_id: UUID | None = None,
                       live: bool | None = None, limit: int = 100, offset: int = 0) -> list[tuple[Referral, Offer]]:
    provider_id = require_provider(actor)
    pairs = uow.referrals.offer_ids_of(provider_id, referral_id=referral_id, live=live, limit=limit, offset=offset)
    found = uow.referrals.get_many((r for r, _ in pairs), seen_by=provider_id)
    return [(_as_of_now(uow, found[r]), next(o for o in found[r].offers if o.id == o_id)) for r, o_id in pairs]


def offer_of_provider(uow: UnitOfWork, actor: Actor, offer_id: UUID) -> tuple[Referral, Offer]:
    provider_id = require_provider(actor)
    referral = _as_of_now(uow, uow.referrals.get_by_offer(offer_id, provider_id))
    return referral, next(o for o in referral.offers if o.id == offer_id)


def off_dps_exceptions(uow: UnitOfWork, *, team: str | None = None, lot: int | None = None,
                       since: datetime | None = None, limit: int = 100, offset: int = 0) -> list[dict]:
    return uow.referrals.off_dps_exceptions(team=team, lot=lot, since=since, limit=limit, offset=offset)


# --- webhooks (providers) ----------------------------------------------------------------------

def register_webhook(uow: UnitOfWork, actor: Actor, url: str, *, rotate_secret: bool = False
                     ) -> tuple[dict, str | None]:
    provider_id = require_provider(actor)
    require_member(uow.registry.memberships_of(provider_id, council_date(uow.now())))
    uow.rollback()  # nothing held while the host name is resolved
    url = webhooks.check_url(url)
    hook, secret = webhooks.register(uow.session, provider_id, url, by=actor.sub, now=uow.now(),
                                     rotate_secret=rotate_secret)
    uow.record(AuditEntry("webhook.registered", "provider", provider_id,
                          details={"url": hook["url"], "secret_issued": secret is not None}))
    uow.commit()
    return hook, secret


def remove_webhook(uow: UnitOfWork, actor: Actor) -> None:
    provider_id = require_provider(actor)
    if not webhooks.unregister(uow.session, provider_id):
        raise NotFound("your organisation has no webhook")
    uow.record(AuditEntry("webhook.removed", "provider", provider_id))
    uow.commit()


def webhook_deliveries_of_provider(uow: UnitOfWork, actor: Actor, *, referral_id: UUID | None = None,
                                   state: str | None = None, limit: int = 100, offset: int = 0) -> list[dict]:
    """Deliveries to the provider's own webhook.  The body of one about a referral closed to it
    (`visibility.closed_to`) is withheld, and the delivery says when and why."""
    provider_id = require_provider(actor)
    rows = webhooks.deliveries(uow.session, provider_id=provider_id, referral_id=referral_id, state=state,
                               limit=limit, offset=offset)
    found = uow.referrals.get_many(row["referral_id"] for row in rows)
    shown = []
    for row in rows:
        referral = found.get(row["referral_id"])
        if referral is None:
            withheld = "the referral is no longer held"
        else:
            ended = closed_to(_as_of_now(uow, referral), provider_id)
            withheld = ended.notice if ended else None
        shown.append({**row, "body": None if withheld else row["body"], "withheld": withheld})
    return shown


def deliver_webhooks(uow: UnitOfWork, now: datetime) -> int:
    """The scheduled job: claim the due deliveries and commit the claim, post them with no transaction
    open, then record the outcomes (the job runner commits those).  Returns how many were attempted."""
    claimed = webhooks.claim_due(uow.session, now)
    uow.commit()
    webhook_rule = webhooks.rule()
    outcomes = [(delivery, webhooks.attempt(delivery, webhook_rule=webhook_rule)) for delivery in claimed]
    webhooks.record(uow.session, outcomes, now)
    return len(claimed)


# --- from the registry's events (no commit: the consumer commits) ------------------------------------

def dps_configured(uow: UnitOfWork, *, at: datetime, **record) -> None:
    """dps.configured: the DPS record as the registry now describes it (an older description loses)."""
    uow.registry.note_dps(record, at)


def sla_accepted(uow: UnitOfWork, *, provider_id: UUID, dps_id: UUID, sla_version: str,
                 accepted_at: datetime) -> None:
    uow.registry.note_sla_accepted(provider_id, dps_id, sla_version, accepted_at)


def membership_admitted(uow: UnitOfWork, *, provider_id: UUID, provider_name: str | None, lot: int,
                        registration_status: str | None, urn: str | None, pricing_lines: list[dict],
                        capacity: int | None, ends_on: date | None, at: datetime, pricing_version: int = 0,
                        dps_id: UUID = FIRST_DPS_ID, setting: Mapping[str, str | None] | None = None) -> None:
    """`setting`: the AP census's facts of it (setting_kind, establishment_type, ukprn), when the event says."""
    uow.registry.note_provider(provider_id, provider_name, at,
                               registration={"registration_status": registration_status, "urn": urn,
                                             **(setting or {})})
    uow.registry.set_status(provider_id, lot, MembershipStatus.ADMITTED, at, capacity=capacity, ends_on=ends_on,
                            dps_id=dps_id)
    # The schedule submitted with the application is in force from admission.
    uow.registry.add_schedule(provider_id, lot, version=pricing_version, effective_from=council_date(at),
                              lines=pricing_lines, at=at)


def membership_changed(uow: UnitOfWork, *, provider_id: UUID, provider_name: str | None, lot: int,
                       status: MembershipStatus, reason: str | None, at: datetime,
                       dps_id: UUID = FIRST_DPS_ID) -> None:
    uow.registry.note_provider(provider_id, provider_name, at)
    uow.registry.set_status(provider_id, lot, status, at, reason=reason, dps_id=dps_id)


def pricing_schedule_effective(uow: UnitOfWork, *, provider_id: UUID, provider_name: str | None, lot: int,
                               version: int, effective_from: date, pricing_lines: list[dict], at: datetime) -> None:
    uow.registry.note_provider(provider_id, provider_name, at)
    uow.registry.add_schedule(provider_id, lot, version=version, effective_from=effective_from,
                              lines=pricing_lines, at=at)


def capacity_changed(uow: UnitOfWork, *, provider_id: UUID, provider_name: str | None, lot: int, capacity: int,
                     at: datetime, dps_id: UUID = FIRST_DPS_ID) -> None:
    uow.registry.note_provider(provider_id, provider_name, at)
    uow.registry.set_capacity(provider_id, lot, capacity, at, dps_id=dps_id)


def registration_changed(uow: UnitOfWork, *, provider_id: UUID, provider_name: str | None,
                         registration_status: str | None, urn: str | None, ofsted_grade: str | None,
                         at: datetime, setting: Mapping[str, str | None] | None = None) -> None:
    uow.registry.note_provider(provider_id, provider_name, at, registration={
        "registration_status": registration_status, "urn": urn, "ofsted_grade": ofsted_grade, **(setting or {})})


# --- from the awards' events (no commit) ---------------------------------------------------------

def mark_awarded(uow: UnitOfWork, *, referral_id: UUID, offer_id: UUID, award_id: UUID | None,
                 at: datetime) -> bool:
    """placement.awarded for one of our referrals; False if the referral is not ours."""
    try:
        referral = _for_change(uow, referral_id)
    except NotFound:
        return False
    referral.mark_awarded(offer_id, at, award_id=award_id)  # a Conflict here is a real disagreement: dead-letter it
    return True


def _if_ours(uow: UnitOfWork, referral_id: UUID, change: Callable[[Referral], object]) -> bool:
    """An awards event naming a referral: the change made to it, locked; False if it is not ours."""
    try:
        referral = uow.referrals.get(referral_id, for_update=True)
    except NotFound:
        return False
    change(referral)
    return True


def no_eligible_offers(uow: UnitOfWork, *, referral_id: UUID, reasons: Iterable[str], at: datetime) -> bool:
    """calloff.no_eligible_offers for one of our referrals: the officer may now go off the DPS, re-publish or
    cancel."""
    return _if_ours(uow, referral_id, lambda it: it.note_no_eligible_offers(reasons, at))


def mark_placed_in_block(uow: UnitOfWork, *, referral_id: UUID, allocation_id: UUID, at: datetime) -> bool:
    """block_place.allocated naming one of our referrals: its need is met by a block place."""
    return _if_ours(uow, referral_id, lambda it: it.mark_placed_in_block(allocation_id, at))
