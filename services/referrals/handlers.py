"""The service layer: one function per use case.

Each takes a unit of work and plain arguments, loads what it needs, calls the
domain, saves, writes its events to the outbox and its audit rows, then
commits; it returns the referral it saved where the answer shows it, so the
API does not read it again.  The ones driven by other services' events (the
registry copy, the awards) do not commit: the consumer commits their effect
with the inbox row.

A referral whose deadline has passed is closed whenever it is loaded, here,
as well as by the scheduled job: nobody has to wait for the job to see it
closed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from services.referrals import events as messages
from services.referrals import models, webhooks
from services.referrals.domain import (
    ChildDetails,
    Membership,
    MembershipStatus,
    Offer,
    OfferTerms,
    Profile,
    Referral,
    ReferralClosed,
    ReferralStatus,
    council_date,
    is_council_side,
)
from services.referrals.domain.registry import require_member
from services.referrals.domain.visibility import (
    ProviderAccess,
    check_provider_access,
    lots_by_access,
    unable_to_answer,
)
from services.referrals.repository import ReferralRepository, RegistryCopy
from shared import audit
from shared.calendar import WORKING_DAYS, Calendar
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.unit_of_work import UnitOfWork

AUDIT_LOG = models.metadata.tables["audit_log"]


@dataclass(frozen=True)
class Actor:
    """Who is acting (shared.auth.Principal fits)."""

    sub: str
    roles: frozenset[str]
    team: str | None = None
    provider_id: UUID | None = None


DEADLINE = Actor("system:deadline", frozenset())  # the window closing by itself
AWARDS = Actor("system:awards", frozenset())  # what the awards service told us


# --- helpers -----------------------------------------------------------------------

def _audit(uow: UnitOfWork, actor: Actor, action: str, subject_id: Any, *, subject_type: str = "referral",
           reason: str | None = None, details: dict | None = None) -> None:
    audit.record(uow.session, AUDIT_LOG, actor=actor.sub, roles=actor.roles, action=action,
                 subject_type=subject_type, subject_id=subject_id, reason=reason, details=details, at=uow.now())


def _publish_events(uow: UnitOfWork, repo: ReferralRepository, referral: Referral) -> list[tuple[str, dict]]:
    sent = []
    for event in referral.events:
        child_ref = repo.child_ref(referral.id) if isinstance(event, ReferralClosed) else None
        type_, data = messages.message_for(event, child_ref=child_ref)
        uow.publish(type_, data)
        sent.append((type_, data))
    referral.events.clear()
    return sent


def _close_if_due(uow: UnitOfWork, repo: ReferralRepository, referral: Referral) -> None:
    if referral.close_if_due(uow.now()):
        repo.save(referral)
        _audit(uow, DEADLINE, "referral.window_closed", referral.id, reason="the deadline for offers passed",
               details={"deadline": referral.deadline.isoformat()})


def _for_change(uow: UnitOfWork, referral_id: UUID) -> tuple[ReferralRepository, Referral]:
    """The referral locked for a change, closed first if its deadline has passed."""
    repo = ReferralRepository(uow.session)
    referral = repo.get(referral_id, for_update=True)
    _close_if_due(uow, repo, referral)
    return repo, referral


def _for_reading(uow: UnitOfWork, referral_id: UUID) -> tuple[ReferralRepository, Referral]:
    repo = ReferralRepository(uow.session)
    return _closed_if_due(uow, repo, repo.get(referral_id))


def _closed_if_due(uow: UnitOfWork, repo: ReferralRepository, referral: Referral
                   ) -> tuple[ReferralRepository, Referral]:
    """A referral read without a lock: if its deadline has passed, closed (locked, committed) and read again."""
    if referral.status is ReferralStatus.PUBLISHED and uow.now() >= referral.deadline:
        close_due_referrals(uow, uow.now(), ids=[referral.id])
        uow.commit()
        repo = ReferralRepository(uow.session)
        referral = repo.get(referral.id)
    return repo, referral


@dataclass(frozen=True)
class CouncilView:
    """A referral as the council sees it: with the child's opaque reference."""

    referral: Referral
    child_ref: UUID


def _council_view(repo: ReferralRepository, referral: Referral) -> CouncilView:
    return CouncilView(referral, repo.child_ref(referral.id))


def _require_team_officer(actor: Actor, referral: Referral) -> None:
    if "officer" not in actor.roles or actor.team != referral.team:
        raise Forbidden("only officers of the referral's commissioning team may do this")


def _require_council_side(actor: Actor, referral: Referral) -> None:
    if not is_council_side(referral, actor):
        raise Forbidden("only officers of the referral's commissioning team and the manager see this referral")


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
    return _nested("child", lambda: ChildDetails(name=data.get("name"), date_of_birth=data.get("date_of_birth"),
                                                 upn=data.get("upn"), address=data.get("address")))


def build_profile(data: Mapping[str, Any]) -> Profile:
    return _nested("profile", lambda: Profile(**data))


def build_terms(data: Mapping[str, Any]) -> OfferTerms:
    return OfferTerms(**data)


# --- the referral form (officers) ----------------------------------------------------

def create_referral(uow: UnitOfWork, actor: Actor, *, lot: int, child: Mapping, profile: Mapping,
                    deadline: datetime, exclusion_start: date | None = None, questions: Iterable[str] = (),
                    calendar: Calendar = WORKING_DAYS) -> CouncilView:
    if "officer" not in actor.roles or not actor.team:
        raise Forbidden("only an officer of a commissioning team may make a referral")
    with _profile_errors_nested():
        referral = Referral.create(team=actor.team, lot=lot, child=build_child(child),
                                   profile=build_profile(profile), deadline=_utc(deadline), by=actor.sub,
                                   now=uow.now(), exclusion_start=exclusion_start, questions=list(questions),
                                   calendar=calendar)
    repo = ReferralRepository(uow.session)
    repo.add(referral)
    _audit(uow, actor, "referral.created", referral.id, details={"lot": lot, "team": actor.team})
    uow.commit()
    return _council_view(repo, referral)


def revise_referral(uow: UnitOfWork, actor: Actor, referral_id: UUID, *, lot: int | None = None,
                    child: Mapping | None = None, profile: Mapping | None = None, deadline: datetime | None = None,
                    exclusion_start: date | None = None, calendar: Calendar = WORKING_DAYS) -> CouncilView:
    repo, referral = _for_change(uow, referral_id)
    _require_team_officer(actor, referral)
    with _profile_errors_nested():
        referral.revise(now=uow.now(), calendar=calendar, lot=lot, child=build_child(child) if child else None,
                        profile=build_profile(profile) if profile else None, deadline=_utc(deadline),
                        exclusion_start=exclusion_start)
    repo.save(referral)
    changed = sorted(k for k, v in {"lot": lot, "child": child, "profile": profile, "deadline": deadline,
                                     "exclusion_start": exclusion_start}.items() if v is not None)
    _audit(uow, actor, "referral.revised", referral.id, details={"changed": changed})
    uow.commit()
    return _council_view(repo, referral)


def add_question(uow: UnitOfWork, actor: Actor, referral_id: UUID, text: str) -> UUID:
    repo, referral = _for_change(uow, referral_id)
    _require_team_officer(actor, referral)
    question = referral.add_question(text)
    repo.save(referral)
    _audit(uow, actor, "referral.question_added", referral.id, details={"question_id": str(question.id)})
    uow.commit()
    return question.id


def remove_question(uow: UnitOfWork, actor: Actor, referral_id: UUID, question_id: UUID) -> None:
    repo, referral = _for_change(uow, referral_id)
    _require_team_officer(actor, referral)
    referral.remove_question(question_id)
    repo.save(referral)
    _audit(uow, actor, "referral.question_removed", referral.id, details={"question_id": str(question_id)})
    uow.commit()


# --- publish, cancel, close ----------------------------------------------------------

def publish_referral(uow: UnitOfWork, actor: Actor, referral_id: UUID) -> tuple[UUID, ...]:
    """Invite every provider admitted and not suspended on the lot now, by event and webhook."""
    repo, referral = _for_change(uow, referral_id)
    _require_team_officer(actor, referral)
    now = uow.now()
    registry = RegistryCopy(uow.session).memberships_on(referral.lot, council_date(now))
    invited = referral.publish(registry, by=actor.sub, now=now)
    repo.save(referral)
    for type_, data in _publish_events(uow, repo, referral):
        if type_ == "referral.published":
            webhooks.enqueue(uow.session, event_type=type_, referral_id=referral.id, provider_ids=invited,
                             payload=provider_payload(data), now=now)
    _audit(uow, actor, "referral.published", referral.id,
           details={"invited_provider_ids": [str(p) for p in invited], "lot": referral.lot})
    uow.commit()
    return invited


def provider_payload(published: dict) -> dict:
    """What a provider's system is sent: the published profile, not who else was invited."""
    hidden = {"invited_provider_ids", "no_eligible_providers", "at"}
    return {**{k: v for k, v in published.items() if k not in hidden}, "status": "open"}


def cancel_referral(uow: UnitOfWork, actor: Actor, referral_id: UUID, reason: str) -> CouncilView:
    repo, referral = _for_change(uow, referral_id)
    _require_team_officer(actor, referral)
    referral.cancel(reason, by=actor.sub, now=uow.now())
    repo.save(referral)
    _publish_events(uow, repo, referral)
    _audit(uow, actor, "referral.cancelled", referral.id, reason=referral.cancel_reason)
    uow.commit()
    return _council_view(repo, referral)


def close_referral_early(uow: UnitOfWork, actor: Actor, referral_id: UUID) -> CouncilView:
    repo, referral = _for_change(uow, referral_id)
    _require_team_officer(actor, referral)
    registry = RegistryCopy(uow.session).memberships_on(referral.lot, council_date(uow.now()))
    referral.close_early(by=actor.sub, now=uow.now(), unable_to_answer=unable_to_answer(referral, registry))
    repo.save(referral)
    _audit(uow, actor, "referral.closed_early", referral.id, reason="every invited provider has answered")
    uow.commit()
    return _council_view(repo, referral)


def close_due_referrals(uow: UnitOfWork, now: datetime, ids: Iterable[UUID] | None = None) -> int:
    """Close every published referral whose deadline has passed (the job; and lazily on reads).
    Does not commit."""
    repo = ReferralRepository(uow.session)
    closed = 0
    for referral_id in (repo.due_to_close(now) if ids is None else ids):
        referral = repo.get(referral_id, for_update=True)
        if referral.close_if_due(now):
            repo.save(referral)
            _audit(uow, DEADLINE, "referral.window_closed", referral.id, reason="the deadline for offers passed",
                   details={"deadline": referral.deadline.isoformat()})
            closed += 1
    return closed


# --- offers (providers) ------------------------------------------------------------------

def _membership(uow: UnitOfWork, provider_id: UUID, lot: int) -> Membership:
    found = RegistryCopy(uow.session).membership(provider_id, lot, council_date(uow.now()))
    return found or Membership(provider_id, lot, MembershipStatus.REMOVED)


def _require_provider(actor: Actor) -> UUID:
    if "provider" not in actor.roles or actor.provider_id is None:
        raise Forbidden("only a provider makes offers")
    return actor.provider_id


def submit_offer(uow: UnitOfWork, actor: Actor, referral_id: UUID, terms: Mapping[str, Any], *,
                 idempotency_key: str | None = None, fingerprint: str | None = None
                 ) -> tuple[Referral, Offer, bool]:
    """Make an offer; returns the referral, the offer and whether it is new.  A retried request with the
    same Idempotency-Key and the same body gets the same offer back."""
    provider_id = _require_provider(actor)
    repo, referral = _for_change(uow, referral_id)  # locked: a concurrent retry waits here
    if idempotency_key:
        prior = repo.offer_by_idempotency_key(provider_id, idempotency_key)
        if prior is not None:
            if prior.referral_id != referral_id or prior.request_fingerprint != fingerprint:
                raise InvalidInput("this Idempotency-Key was already used for a different request",
                                   field="Idempotency-Key", location="headers")
            uow.commit()  # keep a lazy close, if any
            return referral, next(o for o in referral.offers if o.id == prior.id), False
    offer = referral.submit_offer(_membership(uow, provider_id, referral.lot), build_terms(terms), now=uow.now())
    repo.save(referral)
    if idempotency_key:
        repo.remember_idempotency_key(offer.id, idempotency_key, fingerprint or "")
    _publish_events(uow, repo, referral)
    _audit(uow, actor, "offer.submitted", offer.id, subject_type="offer",
           details={"referral_id": str(referral_id), "provider_id": str(provider_id),
                    "unit_price_pence": offer.terms.unit_price_pence, "total_pence": offer.total_pence})
    uow.commit()
    return referral, offer, True


def _own_offer(uow: UnitOfWork, actor: Actor, offer_id: UUID) -> tuple[ReferralRepository, Referral, UUID]:
    """The referral the provider's offer was made on, locked for a change (closed first if due)."""
    provider_id = _require_provider(actor)
    repo = ReferralRepository(uow.session)
    referral = repo.get_by_offer(offer_id, provider_id, for_update=True)
    _close_if_due(uow, repo, referral)
    return repo, referral, provider_id


def _require_live(referral: Referral, provider_id: UUID, offer_id: UUID) -> None:
    live = referral.live_offer_of(provider_id)
    if live is None or live.id != offer_id:
        raise Conflict("this offer has been withdrawn")


def change_offer(uow: UnitOfWork, actor: Actor, offer_id: UUID, terms: Mapping[str, Any]
                 ) -> tuple[Referral, Offer]:
    repo, referral, provider_id = _own_offer(uow, actor, offer_id)
    built = build_terms(terms)
    if referral.status is ReferralStatus.PUBLISHED:
        _require_live(referral, provider_id, offer_id)
    offer = referral.change_offer(_membership(uow, provider_id, referral.lot), built, now=uow.now())
    repo.save(referral)
    _publish_events(uow, repo, referral)
    _audit(uow, actor, "offer.changed", offer.id, subject_type="offer",
           details={"referral_id": str(referral.id), "unit_price_pence": offer.terms.unit_price_pence,
                    "total_pence": offer.total_pence})
    uow.commit()
    return referral, offer


def withdraw_offer(uow: UnitOfWork, actor: Actor, offer_id: UUID) -> tuple[Referral, Offer]:
    repo, referral, provider_id = _own_offer(uow, actor, offer_id)
    if referral.status is ReferralStatus.PUBLISHED:
        _require_live(referral, provider_id, offer_id)
    offer = referral.withdraw_offer(provider_id, now=uow.now())
    repo.save(referral)
    _publish_events(uow, repo, referral)
    _audit(uow, actor, "offer.withdrawn", offer.id, subject_type="offer",
           details={"referral_id": str(referral.id)})
    uow.commit()
    return referral, offer


def decline_referral(uow: UnitOfWork, actor: Actor, referral_id: UUID, reason: str) -> Referral:
    provider_id = _require_provider(actor)
    repo, referral = _for_change(uow, referral_id)
    if provider_id in referral.invited:  # not invited: the referral's own refusal says so (403)
        _check_provider_access(uow, referral, provider_id)
    decline = referral.decline(provider_id, reason, now=uow.now())
    repo.save(referral)
    _publish_events(uow, repo, referral)
    _audit(uow, actor, "referral.declined", referral.id, reason=decline.reason,
           details={"provider_id": str(provider_id)})
    uow.commit()
    return referral


# --- assessment and outcomes (officers) ----------------------------------------------------

def assess_offer(uow: UnitOfWork, actor: Actor, referral_id: UUID, offer_id: UUID, *, meets_needs: bool,
                 reason: str, criteria_met: Mapping[UUID, bool] | None = None) -> tuple[Referral, Offer]:
    """Returns the referral and the offer assessed."""
    repo, referral = _for_change(uow, referral_id)
    _require_team_officer(actor, referral)
    assessment = referral.assess_offer(offer_id, meets_needs=meets_needs, reason=reason,
                                       criteria_met=criteria_met, by=actor.sub, now=uow.now())
    repo.save(referral)
    _audit(uow, actor, "offer.assessed", offer_id, subject_type="offer", reason=assessment.reason,
           details={"referral_id": str(referral.id), "meets_needs": assessment.meets_needs,
                    "criteria_met": {str(k): v for k, v in assessment.criteria_met.items()}})
    uow.commit()
    return referral, next(o for o in referral.offers if o.id == offer_id)


def complete_assessment(uow: UnitOfWork, actor: Actor, referral_id: UUID) -> CouncilView:
    """Every live offer assessed: tell awards (referral.closed, with child_ref)."""
    repo, referral = _for_change(uow, referral_id)
    _require_team_officer(actor, referral)
    referral.complete_assessment(by=actor.sub, now=uow.now())
    repo.save(referral)
    _publish_events(uow, repo, referral)
    _audit(uow, actor, "referral.assessment_completed", referral.id,
           details={"no_suitable_offer": referral.status is ReferralStatus.NO_SUITABLE_OFFER})
    uow.commit()
    return _council_view(repo, referral)


def record_off_dps_exception(uow: UnitOfWork, actor: Actor, referral_id: UUID, reason: str) -> CouncilView:
    repo, referral = _for_change(uow, referral_id)
    _require_team_officer(actor, referral)
    exception = referral.record_off_dps_exception(reason, by=actor.sub, now=uow.now())
    repo.save(referral)
    _publish_events(uow, repo, referral)
    _audit(uow, actor, "referral.off_dps_exception", referral.id, reason=exception.reason)
    uow.commit()
    return _council_view(repo, referral)


# --- reading --------------------------------------------------------------------------------

def referral_for_council(uow: UnitOfWork, actor: Actor, referral_id: UUID) -> CouncilView:
    repo, referral = _for_reading(uow, referral_id)
    _require_council_side(actor, referral)
    return _council_view(repo, referral)


def referrals_for_council(uow: UnitOfWork, actor: Actor, *, team: str | None = None, status: str | None = None,
                          lot: int | None = None, upn: str | None = None, child_ref: UUID | None = None,
                          limit: int = 100, offset: int = 0) -> list[CouncilView]:
    """The manager sees every team's; an officer only their own team's."""
    if "manager" not in actor.roles:
        if team is not None and team != actor.team:
            raise Forbidden("an officer sees only their own team's referrals", field="team")
        team = actor.team
    if close_due_referrals(uow, uow.now()):
        uow.commit()
    repo = ReferralRepository(uow.session)
    ids = repo.find(team=team, status=status, lot=lot, upn=upn.replace(" ", "").upper() if upn else None,
                    child_ref=child_ref, limit=limit, offset=offset)
    found = repo.get_many(ids)
    return [CouncilView(found[i], repo.child_ref(i)) for i in ids]


def offers_for_council(uow: UnitOfWork, actor: Actor, referral_id: UUID) -> Referral:
    """Sealed until the window closes: the caller then reads `referral.live_offers`."""
    _, referral = _for_reading(uow, referral_id)
    _require_council_side(actor, referral)
    if not referral.window_closed:
        raise Forbidden("offers are sealed until the window for offers closes")
    return referral


def _check_provider_access(uow: UnitOfWork, referral: Referral, provider_id: UUID) -> None:
    """Invited, and its membership of the lot still gives it access (see `visibility.check_provider_access`)."""
    membership = None
    if provider_id in referral.invited:
        membership = RegistryCopy(uow.session).membership(provider_id, referral.lot, council_date(uow.now()))
    check_provider_access(referral, provider_id, membership.status if membership else None)


def referral_for_provider(uow: UnitOfWork, actor: Actor, referral_id: UUID) -> Referral:
    """The anonymised profile only, to an invited provider whose membership still gives it access; anyone
    not invited hears of no such referral."""
    provider_id = _require_provider(actor)
    _, referral = _for_reading(uow, referral_id)
    _check_provider_access(uow, referral, provider_id)
    return referral


OPEN_TO_PROVIDERS = (ReferralStatus.PUBLISHED.value,)
SEEN_BY_PROVIDERS = tuple(s.value for s in ReferralStatus if s is not ReferralStatus.DRAFT)


def referrals_for_provider(uow: UnitOfWork, actor: Actor, *, open_only: bool = True, lot: int | None = None,
                           limit: int = 100, offset: int = 0) -> list[Referral]:
    provider_id = _require_provider(actor)
    if close_due_referrals(uow, uow.now()):
        uow.commit()
    repo = ReferralRepository(uow.session)
    access = lots_by_access(RegistryCopy(uow.session).memberships_of(provider_id, council_date(uow.now())))
    ids = repo.invited_to(provider_id, statuses=OPEN_TO_PROVIDERS if open_only else SEEN_BY_PROVIDERS, lot=lot,
                          all_on=access[ProviderAccess.ALL], own_live_offers_on=access[ProviderAccess.OWN_LIVE_OFFERS],
                          limit=limit, offset=offset)
    found = repo.get_many(ids)
    return [found[i] for i in ids]


def offers_of_provider(uow: UnitOfWork, actor: Actor, *, referral_id: UUID | None = None,
                       live: bool | None = None, limit: int = 100, offset: int = 0) -> list[tuple[Referral, Offer]]:
    provider_id = _require_provider(actor)
    repo = ReferralRepository(uow.session)
    pairs = repo.offer_ids_of(provider_id, referral_id=referral_id, live=live, limit=limit, offset=offset)
    found = repo.get_many(r for r, _ in pairs)
    return [(found[r], next(o for o in found[r].offers if o.id == o_id)) for r, o_id in pairs]


def offer_of_provider(uow: UnitOfWork, actor: Actor, offer_id: UUID) -> tuple[Referral, Offer]:
    provider_id = _require_provider(actor)
    repo = ReferralRepository(uow.session)
    _, referral = _closed_if_due(uow, repo, repo.get_by_offer(offer_id, provider_id))
    return referral, next(o for o in referral.offers if o.id == offer_id)


def off_dps_exceptions(uow: UnitOfWork, *, team: str | None = None, lot: int | None = None,
                       since: datetime | None = None, limit: int = 100, offset: int = 0) -> list[dict]:
    return ReferralRepository(uow.session).off_dps_exceptions(team=team, lot=lot, since=since, limit=limit,
                                                              offset=offset)


# --- webhooks (providers) ----------------------------------------------------------------------

def register_webhook(uow: UnitOfWork, actor: Actor, url: str, *, rotate_secret: bool = False
                     ) -> tuple[dict, str | None]:
    provider_id = _require_provider(actor)
    require_member(RegistryCopy(uow.session).memberships_of(provider_id, council_date(uow.now())))
    uow.rollback()  # nothing held while the host name is resolved
    url = webhooks.check_url(url)
    hook, secret = webhooks.register(uow.session, provider_id, url, by=actor.sub, now=uow.now(),
                                     rotate_secret=rotate_secret)
    _audit(uow, actor, "webhook.registered", provider_id, subject_type="provider",
           details={"url": hook["url"], "secret_issued": secret is not None})
    uow.commit()
    return hook, secret


def remove_webhook(uow: UnitOfWork, actor: Actor) -> None:
    provider_id = _require_provider(actor)
    if not webhooks.unregister(uow.session, provider_id):
        raise NotFound("your organisation has no webhook")
    _audit(uow, actor, "webhook.removed", provider_id, subject_type="provider")
    uow.commit()


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

def membership_admitted(uow: UnitOfWork, *, provider_id: UUID, provider_name: str | None, lot: int,
                        registration_status: str | None, urn: str | None, pricing_lines: list[dict],
                        capacity: int | None, ends_on: date | None, at: datetime, pricing_version: int = 0) -> None:
    registry = RegistryCopy(uow.session)
    registry.note_provider(provider_id, provider_name, at,
                           registration={"registration_status": registration_status, "urn": urn})
    registry.set_status(provider_id, lot, MembershipStatus.ADMITTED, at, capacity=capacity, ends_on=ends_on)
    # The schedule submitted with the application is in force from admission.
    registry.add_schedule(provider_id, lot, version=pricing_version, effective_from=council_date(at),
                          lines=pricing_lines, at=at)


def membership_changed(uow: UnitOfWork, *, provider_id: UUID, provider_name: str | None, lot: int,
                       status: MembershipStatus, reason: str | None, at: datetime) -> None:
    registry = RegistryCopy(uow.session)
    registry.note_provider(provider_id, provider_name, at)
    registry.set_status(provider_id, lot, status, at, reason=reason)


def pricing_schedule_effective(uow: UnitOfWork, *, provider_id: UUID, provider_name: str | None, lot: int,
                               version: int, effective_from: date, pricing_lines: list[dict], at: datetime) -> None:
    registry = RegistryCopy(uow.session)
    registry.note_provider(provider_id, provider_name, at)
    registry.add_schedule(provider_id, lot, version=version, effective_from=effective_from, lines=pricing_lines,
                          at=at)


def capacity_changed(uow: UnitOfWork, *, provider_id: UUID, provider_name: str | None, lot: int, capacity: int,
                     at: datetime) -> None:
    registry = RegistryCopy(uow.session)
    registry.note_provider(provider_id, provider_name, at)
    registry.set_capacity(provider_id, lot, capacity, at)


def registration_changed(uow: UnitOfWork, *, provider_id: UUID, provider_name: str | None,
                         registration_status: str | None, urn: str | None, ofsted_grade: str | None,
                         at: datetime) -> None:
    RegistryCopy(uow.session).note_provider(provider_id, provider_name, at, registration={
        "registration_status": registration_status, "urn": urn, "ofsted_grade": ofsted_grade})


# --- from the awards' events (no commit) ---------------------------------------------------------

def mark_awarded(uow: UnitOfWork, *, referral_id: UUID, offer_id: UUID, award_id: UUID | None,
                 at: datetime) -> bool:
    """placement.awarded for one of our referrals; False if the referral is not ours."""
    repo = ReferralRepository(uow.session)
    try:
        referral = repo.get(referral_id, for_update=True)
    except NotFound:
        return False
    _close_if_due(uow, repo, referral)
    was = referral.status
    referral.mark_awarded(offer_id, at)  # a Conflict here is a real disagreement: dead-letter it
    if was is not ReferralStatus.AWARDED:
        repo.save(referral)
        _audit(uow, AWARDS, "referral.awarded", referral.id,
               details={"offer_id": str(offer_id), "award_id": str(award_id) if award_id else None})
    return True


def mark_placed_in_block(uow: UnitOfWork, *, referral_id: UUID, allocation_id: UUID, at: datetime) -> bool:
    """block_place.allocated naming one of our referrals: its need is met by a block place."""
    repo = ReferralRepository(uow.session)
    try:
        referral = repo.get(referral_id, for_update=True)
    except NotFound:
        return False
    if referral.mark_placed_in_block(allocation_id, at):
        repo.save(referral)
        _audit(uow, AWARDS, "referral.placed_in_block", referral.id,
               details={"allocation_id": str(allocation_id)})
    return True

