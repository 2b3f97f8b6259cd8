"""The referral aggregate: from the officer's form to an award.

    draft --publish--> published --close / close_if_due / close_early--> closed
    closed --complete_assessment--> closed (an offer meets the needs) --mark_awarded--> awarded
                                 \\-> no_suitable_offer (none does) --record_off_dps_exception
    draft | published | closed | no_suitable_offer --cancel--> cancelled (with a reason)
    closed | no_suitable_offer --republish--> cancelled, and a new published referral for the same child
    published --extend_window--> published (a later deadline, every invited provider told)
    any but cancelled or awarded --mark_placed_in_block--> awarded (a block contract's place)

- Publishing invites every provider admitted and not suspended on the lot at
  that moment, and keeps the list.  Publishing to a lot with no such provider
  is allowed and flagged (`no_eligible_providers`): the officer can then close
  at once (everyone invited has answered) and record an off-DPS exception, so
  the record shows the DPS was tried before going off it.  Refusing would
  leave the officer no route to the exception.
- Offers come only from invited providers still admitted and not suspended,
  while published and before the deadline.  After the deadline an offer is
  refused with 409 naming `deadline` (the request was fine, the window is
  not).  One live offer per provider; change or withdraw until the deadline;
  or decline with a reason.
- The window closes at the deadline (`close_if_due`, called by the
  scheduled job and whenever the referral is loaded, so nobody waits for the
  job), or earlier by an officer once every invited provider has offered or
  declined.  Only then do officers see the offers (see `visibility`).
- Officers assess every live offer, then complete the assessment: that
  records `ReferralClosed` with the offers and their assessments (awards
  ranks from it).  If no offer meets the needs the referral has no suitable
  offer and an officer may record an off-DPS exception.
- A referral goes to one DPS (`dps_id`): only providers admitted and not
  suspended on that DPS's lot are invited, and nothing is published after the
  DPS's last day (`dps.check_may_invite`).  The offer window is at least 10
  days unless a recorded basis allows a shorter one (`dps.offer_window`); the
  basis is kept (`window_basis`).
- No dead ends: whatever happens, an officer can move the child on.  Off the
  DPS when no offer meets the needs, or when awards reports that none of the
  offers is eligible (`note_no_eligible_offers`); re-publish a closed or
  unsuccessful referral with a new window (`republish`: providers admitted
  since are invited); extend a window before it closes; cancel a closed
  referral with a reason.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from uuid import UUID

from shared.calendar import WORKING_DAYS, Calendar
from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

from .common import check_aware, check_lot, council_date, required_text
from .deadlines import SIXTH_DAY_RULE, SixthDay, sixth_day, sixth_day_applies
from .dps import DpsRecord, WindowBasis, check_may_invite, offer_window
from .events import (
    AssessedOffer,
    Event,
    NoEligibleOffersReported,
    OffDpsExceptionRecorded,
    OfferAssessed,
    OfferChanged,
    OfferDeclined,
    OfferSubmitted,
    OfferWithdrawn,
    PlacedInBlock,
    QuestionAdded,
    QuestionRemoved,
    ReferralAwarded,
    ReferralCancelled,
    ReferralClosed,
    ReferralCreated,
    ReferralPublished,
    ReferralRevised,
    WindowClosed,
    WindowExtended,
)
from .off_dps import OffDpsDetails
from .offers import Assessment, Decline, OffDpsException, Offer, OfferTerms, check_offer
from .profile import ChildDetails, FurtherQuestion, Profile, ProfileForProviders, ReasonForAP, check_pseudonymised
from .registry import Membership, PricingLine, eligible_providers
from .school_age import of_compulsory_school_age


class ReferralStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    AWARDED = "awarded"
    NO_SUITABLE_OFFER = "no_suitable_offer"
    CANCELLED = "cancelled"


WINDOW_CLOSED = frozenset({ReferralStatus.CLOSED, ReferralStatus.AWARDED, ReferralStatus.NO_SUITABLE_OFFER})
OFF_DPS_RULE = ("an off-DPS exception is for a child whose needs no DPS offer can meet (the DPS's call-off rules, "
                "PCR 2015 regulation 34; the council's policy on exceptions)")


def _check_form(*, team: str, lot: int, child: ChildDetails, profile: Profile, deadline: datetime,
                exclusion_start: date | None, questions: Iterable[FurtherQuestion], now: datetime,
                calendar: Calendar, referred_on: date | None = None) -> SixthDay | None:
    """Every rule of the referral form; returns the sixth-day deadline, if the reason carries one."""
    required_text(team, "team", "the commissioning team")
    check_lot(lot)
    _check_deadline(deadline, now)
    check_pseudonymised(child, profile, questions)
    if not sixth_day_applies(profile.reason):
        return None
    if exclusion_start is not None and (not isinstance(exclusion_start, date) or isinstance(exclusion_start,
                                                                                            datetime)):
        raise InvalidInput("must be a date", field="exclusion_start")
    if exclusion_start is None:
        if profile.reason is ReasonForAP.PERMANENT_EXCLUSION:
            raise InvalidInput(f"the date the permanent exclusion starts is required: the deadline counts from it "
                               f"({SIXTH_DAY_RULE})", field="exclusion_start")
        exclusion_start = referred_on or council_date(now)  # no school place from the referral at the latest
    return sixth_day(exclusion_start, looked_after=profile.looked_after, calendar=calendar)


def _check_deadline(deadline: datetime, now: datetime) -> None:
    check_aware(deadline, "deadline")
    if deadline <= now:
        raise InvalidInput("the deadline for offers must be in the future", field="deadline")


class Referral:
    """One child's referral and the offers made on it."""

    def __init__(self, *, id: UUID, team: str, lot: int, child: ChildDetails, profile: Profile,
                 deadline: datetime, created_by: str, created_at: datetime,
                 exclusion_start: date | None = None, full_time_provision_by: date | None = None,
                 first_school_day: date | None = None, questions: Iterable[FurtherQuestion] = (),
                 status: ReferralStatus = ReferralStatus.DRAFT, dps_id: UUID = FIRST_DPS_ID,
                 urgency: str | None = None, republished_from: UUID | None = None) -> None:
        self.id = id
        self.dps_id = dps_id
        self.urgency = urgency  # the urgency of a child without education, in words: a basis for a short window
        self.window_basis: WindowBasis | None = None  # set when published
        self.republished_from = republished_from
        self.no_eligible_offers_at: datetime | None = None  # awards found none of the offers eligible
        self.team = team
        self.lot = lot
        self.child = child
        self.profile = profile
        self.deadline = deadline
        self.exclusion_start = exclusion_start
        self.full_time_provision_by = full_time_provision_by  # the sixth school day (None: no such duty)
        self.first_school_day = first_school_day  # school day 1 of the duty: a looked-after child's aim
        self.questions: list[FurtherQuestion] = list(questions)
        self.status = status
        self.created_by = created_by
        self.created_at = created_at
        self.invited: tuple[UUID, ...] = ()
        self.published_by: str | None = None
        self.published_at: datetime | None = None
        self.offers: list[Offer] = []
        self.declines: dict[UUID, Decline] = {}
        self.window_closed_at: datetime | None = None
        self.closed_by: str | None = None  # None when closed by the deadline passing
        self.assessments: dict[UUID, Assessment] = {}
        self.assessment_completed_at: datetime | None = None
        self.awarded_offer_id: UUID | None = None
        self.awarded_at: datetime | None = None
        self.awarded_allocation_id: UUID | None = None  # a place of a block contract instead of an offer
        self.off_dps_exception: OffDpsException | None = None
        self.cancel_reason: str | None = None
        self.cancelled_by: str | None = None
        self.cancelled_at: datetime | None = None
        self.events: list[Event] = []

    # --- the form

    @classmethod
    def create(cls, *, team: str, lot: int, child: ChildDetails, profile: Profile, deadline: datetime,
               by: str, now: datetime, exclusion_start: date | None = None, questions: Iterable[str] = (),
               calendar: Calendar = WORKING_DAYS, referral_id: UUID | None = None, dps_id: UUID = FIRST_DPS_ID,
               urgency: str | None = None) -> Referral:
        asked = [FurtherQuestion(uuid.uuid4(), text) for text in questions]
        due = _check_form(team=team, lot=lot, child=child, profile=profile, deadline=deadline,
                          exclusion_start=exclusion_start, questions=asked, now=now, calendar=calendar)
        referral = cls(id=referral_id or uuid.uuid4(), team=team.strip(), lot=lot, child=child, profile=profile,
                       deadline=deadline, created_by=by, created_at=now, exclusion_start=exclusion_start,
                       full_time_provision_by=due and due.deadline, first_school_day=due and due.first_school_day,
                       questions=asked, dps_id=dps_id,
                       urgency=_urgency(urgency))
        referral.events.append(ReferralCreated(referral_id=referral.id, lot=lot, team=referral.team, by=by,
                                               at=now))
        return referral

    def revise(self, *, now: datetime, calendar: Calendar = WORKING_DAYS, lot: int | None = None,
               child: ChildDetails | None = None, profile: Profile | None = None,
               deadline: datetime | None = None, exclusion_start: date | None = None, by: str = "",
               urgency: str | None = None) -> None:
        """Change the form while it is a draft (None leaves a part as it is; an empty urgency clears it)."""
        self._require("revise", ReferralStatus.DRAFT)
        if urgency is not None:
            self.urgency = _urgency(urgency)
        given_lot, given_child, given_profile, given_deadline, given_start = (
            lot, child, profile, deadline, exclusion_start)
        lot = self.lot if lot is None else lot
        child, profile = child or self.child, profile or self.profile
        deadline, exclusion_start = deadline or self.deadline, exclusion_start or self.exclusion_start
        due = _check_form(team=self.team, lot=lot, child=child, profile=profile, deadline=deadline,
                          exclusion_start=exclusion_start, questions=self.questions, now=now, calendar=calendar,
                          referred_on=council_date(self.created_at))
        changed = tuple(sorted(name for name, value in {
            "lot": given_lot, "child": given_child, "profile": given_profile, "deadline": given_deadline,
            "exclusion_start": given_start}.items() if value is not None))
        self.lot, self.child, self.profile, self.deadline = lot, child, profile, deadline
        self.exclusion_start = exclusion_start
        self.full_time_provision_by, self.first_school_day = due and due.deadline, due and due.first_school_day
        self.events.append(ReferralRevised(referral_id=self.id, changed=changed, by=by, at=now))

    @property
    def first_day_aim(self) -> date | None:
        """A looked-after child's aim: full-time provision from the first school day (day six the backstop)."""
        return self.first_school_day if self.profile.looked_after else None

    def add_question(self, text: str, *, question_id: UUID | None = None) -> FurtherQuestion:
        """A further quality criterion; only on a draft, so no offer is left without its answer."""
        self._require("add a question to", ReferralStatus.DRAFT)
        question = FurtherQuestion(question_id or uuid.uuid4(), text)
        check_pseudonymised(self.child, self.profile, [question])
        self.questions.append(question)
        self.events.append(QuestionAdded(referral_id=self.id, question_id=question.id))
        return question

    def remove_question(self, question_id: UUID) -> None:
        self._require("remove a question from", ReferralStatus.DRAFT)
        if not any(q.id == question_id for q in self.questions):
            raise NotFound("no such question on this referral")
        self.questions = [q for q in self.questions if q.id != question_id]
        self.events.append(QuestionRemoved(referral_id=self.id, question_id=question_id))

    def profile_for_providers(self) -> ProfileForProviders:
        """What providers and events see: never the child's identifying details."""
        return ProfileForProviders(referral_id=self.id, lot=self.lot, team=self.team, profile=self.profile,
                                   questions=tuple(self.questions), deadline=self.deadline,
                                   full_time_provision_by=self.full_time_provision_by,
                                   first_day_aim=self.first_day_aim,
                                   compulsory_school_age=of_compulsory_school_age(self.child.date_of_birth,
                                                                                  self.profile.start_date))

    # --- publish and cancel

    def publish(self, memberships: Iterable[Membership], *, by: str, now: datetime, dps: DpsRecord | None = None,
                accepted: Mapping[UUID, Iterable[str]] | None = None) -> tuple[UUID, ...]:
        """Invite every provider admitted and not suspended on the DPS's lot now; keep the list.

        Refused after the DPS's last day (`check_may_invite`), and for a window
        shorter than 10 days without a recorded basis (`offer_window`;
        `accepted`: the SLA versions each provider accepted).
        """
        self._require("publish", ReferralStatus.DRAFT)
        _check_deadline(self.deadline, now)
        check_may_invite(dps, council_date(now))
        invited = eligible_providers(memberships, self.lot, self.dps_id)
        basis = offer_window(published_at=now, deadline=self.deadline, dps=dps, invited=invited,
                             accepted=accepted or {}, urgency=self.urgency)
        self.status, self.published_by, self.published_at = ReferralStatus.PUBLISHED, by, now
        self.invited, self.window_basis = invited, basis  # invited when published
        self.events.append(ReferralPublished(
            referral_id=self.id, lot=self.lot, profile=self.profile_for_providers(), invited=self.invited,
            no_eligible_providers=not self.invited, by=by, at=now, dps_id=self.dps_id, window_basis=basis,
            republished_from=self.republished_from))
        return self.invited

    def extend_window(self, deadline: datetime, *, by: str, now: datetime, dps: DpsRecord | None = None,
                      accepted: Mapping[UUID, Iterable[str]] | None = None, urgency: str | None = None) -> None:
        """A later deadline, before the window closes; the basis is worked out again for the longer window
        (a new urgency, if given, replaces the old).  Every invited provider is told (`WindowExtended`)."""
        self._require("extend the window of", ReferralStatus.PUBLISHED)
        if now >= self.deadline:
            raise Conflict(f"the window closed at {self.deadline.isoformat()}: re-publish the referral instead",
                           field="deadline")
        check_aware(deadline, "deadline")
        if deadline <= self.deadline:
            raise InvalidInput(f"an extension must be later than the current deadline, "
                               f"{self.deadline.isoformat()}", field="deadline")
        check_may_invite(dps, council_date(now))
        urgency = self.urgency if urgency is None else _urgency(urgency)
        basis = offer_window(published_at=self.published_at, deadline=deadline, dps=dps, invited=self.invited,
                             accepted=accepted or {}, urgency=urgency)
        previous, self.deadline, self.window_basis, self.urgency = self.deadline, deadline, basis, urgency
        self.events.append(WindowExtended(referral_id=self.id, dps_id=self.dps_id, lot=self.lot,
                                          invited=self.invited, previous_deadline=previous, deadline=deadline,
                                          window_basis=basis, by=by, at=now))

    def republish(self, memberships: Iterable[Membership], *, deadline: datetime, by: str, now: datetime,
                  dps: DpsRecord | None = None, accepted: Mapping[UUID, Iterable[str]] | None = None,
                  urgency: str | None = None, dps_id: UUID | None = None,
                  referral_id: UUID | None = None) -> Referral:
        """Send the child's referral to the lot again with a new window: a new referral (the same child, form
        and questions; providers admitted since are invited, and the list is kept), published at once.
        This one is cancelled, naming the new one.  Only once the window has closed without an award (an
        off-DPS exception already recorded moved the child on)."""
        self._require("re-publish", ReferralStatus.CLOSED, ReferralStatus.NO_SUITABLE_OFFER)
        if self.off_dps_exception is not None:
            raise Conflict("an off-DPS exception is recorded for this referral: the child's place is bought "
                           "off the DPS")
        _check_deadline(check_aware(deadline, "deadline"), now)
        again = Referral(id=referral_id or uuid.uuid4(), team=self.team, lot=self.lot, child=self.child,
                         profile=self.profile, deadline=deadline, created_by=by, created_at=now,
                         exclusion_start=self.exclusion_start, full_time_provision_by=self.full_time_provision_by,
                         first_school_day=self.first_school_day,
                         questions=[FurtherQuestion(uuid.uuid4(), q.text) for q in self.questions],
                         dps_id=dps_id or self.dps_id, urgency=_urgency(urgency) if urgency is not None
                         else self.urgency, republished_from=self.id)
        again.events.append(ReferralCreated(referral_id=again.id, lot=again.lot, team=again.team, by=by, at=now))
        again.publish(memberships, by=by, now=now, dps=dps, accepted=accepted)
        self._cancel(f"re-published as referral {again.id}", by=by, now=now, republished_as=again.id)
        return again

    @property
    def no_eligible_providers(self) -> bool:
        return self.published_at is not None and not self.invited

    def cancel(self, reason: str, *, by: str, now: datetime) -> None:
        """Cancel with a reason: a draft, an open window, or a closed referral not awarded (the child may
        have moved on in some other way); not once an off-DPS exception is recorded."""
        self._require("cancel", ReferralStatus.DRAFT, ReferralStatus.PUBLISHED, ReferralStatus.CLOSED,
                      ReferralStatus.NO_SUITABLE_OFFER)
        if self.off_dps_exception is not None:
            raise Conflict("an off-DPS exception is recorded for this referral: the child's place is bought "
                           "off the DPS")
        self._cancel(required_text(reason, "reason", "the reason for cancelling"), by=by, now=now)

    def _cancel(self, reason: str, *, by: str, now: datetime, republished_as: UUID | None = None) -> None:
        self.cancel_reason = reason
        self.status, self.cancelled_by, self.cancelled_at = ReferralStatus.CANCELLED, by, now
        self.events.append(ReferralCancelled(referral_id=self.id, lot=self.lot, invited=self.invited,
                                             reason=reason, by=by, at=now, dps_id=self.dps_id,
                                             republished_as=republished_as))

    # --- offers, from invited providers, before the deadline

    def submit_offer(self, membership: Membership, terms: OfferTerms, *, now: datetime,
                     offer_id: UUID | None = None) -> Offer:
        provider_id = membership.provider_id
        self._check_window(provider_id, now)
        self._check_standing(membership)
        if self.live_offer_of(provider_id) is not None:
            raise Conflict("your organisation already has a live offer on this referral: change it instead")
        line, terms = self._check_terms(membership, terms, now)
        offer = Offer(id=offer_id or uuid.uuid4(), provider_id=provider_id, terms=terms,
                      maximum_price_pence=line.maximum_price_pence, submitted_at=now)
        self.offers.append(offer)
        self.declines.pop(provider_id, None)  # an offer supersedes an earlier "no"
        self.events.append(OfferSubmitted(referral_id=self.id, offer_id=offer.id, provider_id=provider_id,
                                          lot=self.lot, unit_price_pence=terms.unit_price_pence,
                                          total_pence=offer.total_pence, at=now))
        return offer

    def change_offer(self, membership: Membership, terms: OfferTerms, *, now: datetime) -> Offer:
        provider_id = membership.provider_id
        self._check_window(provider_id, now)
        self._check_standing(membership)
        offer = self._live_offer_or_conflict(provider_id, "change")
        line, terms = self._check_terms(membership, terms, now)
        offer.terms, offer.maximum_price_pence, offer.changed_at = terms, line.maximum_price_pence, now
        self.events.append(OfferChanged(referral_id=self.id, offer_id=offer.id, provider_id=provider_id,
                                        lot=self.lot, unit_price_pence=terms.unit_price_pence,
                                        total_pence=offer.total_pence, at=now))
        return offer

    def withdraw_offer(self, provider_id: UUID, *, now: datetime) -> Offer:
        # No standing check: a provider suspended since may still take its offer back.
        self._check_window(provider_id, now)
        offer = self._live_offer_or_conflict(provider_id, "withdraw")
        offer.withdrawn_at = now
        self.events.append(OfferWithdrawn(referral_id=self.id, offer_id=offer.id, provider_id=provider_id,
                                          lot=self.lot, at=now))
        return offer

    def decline(self, provider_id: UUID, reason: str, *, now: datetime) -> Decline:
        self._check_window(provider_id, now)
        if self.live_offer_of(provider_id) is not None:
            raise Conflict("your organisation has a live offer on this referral: withdraw it before declining")
        if provider_id in self.declines:
            raise Conflict("your organisation has already declined this referral")
        decline = Decline(provider_id, required_text(reason, "reason", "the reason for declining"), now)
        self.declines[provider_id] = decline
        self.events.append(OfferDeclined(referral_id=self.id, provider_id=provider_id, lot=self.lot,
                                         reason=decline.reason, at=now))
        return decline

    def live_offer_of(self, provider_id: UUID) -> Offer | None:
        return next((o for o in self.offers if o.provider_id == provider_id and o.live), None)

    @property
    def live_offers(self) -> tuple[Offer, ...]:
        return tuple(o for o in self.offers if o.live)

    def has_answered(self, provider_id: UUID) -> bool:
        """Offered or declined."""
        return provider_id in self.declines or self.live_offer_of(provider_id) is not None

    @property
    def answered(self) -> frozenset[UUID]:
        """The providers that have answered (`has_answered`), all at once: one pass over the offers however
        many providers a lot invites."""
        return frozenset(self.declines).union(o.provider_id for o in self.offers if o.live)

    @property
    def unanswered(self) -> tuple[UUID, ...]:
        answered = self.answered
        return tuple(p for p in self.invited if p not in answered)

    def _check_window(self, provider_id: UUID, now: datetime) -> None:
        # A draft was never sent to anyone: say so rather than "not invited".
        if self.status is ReferralStatus.DRAFT:
            raise Conflict("this referral is not published: it is not open for offers", field="referral_id")
        if provider_id not in self.invited:
            raise Forbidden("your organisation was not invited to this referral", field="provider_id")
        # Past the deadline the answer is the deadline, whether or not the
        # window has been closed for it yet (the job, or a read, closes it).
        if now >= self.deadline and self.status is not ReferralStatus.CANCELLED:
            raise Conflict(f"the deadline for offers passed at {self.deadline.isoformat()}", field="deadline")
        if self.status is not ReferralStatus.PUBLISHED:
            raise Conflict(f"the referral is {self.status.value}, not open for offers", field="referral_id")

    def _check_standing(self, membership: Membership) -> None:
        if membership.lot != self.lot or membership.dps_id != self.dps_id or not membership.in_good_standing:
            raise Forbidden(f"your membership of lot {self.lot} is {membership.status.value}: "
                            "you cannot make offers on it", field="provider_id")

    def _check_terms(self, membership: Membership, terms: OfferTerms, now: datetime
                     ) -> tuple[PricingLine, OfferTerms]:
        line = membership.pricing_line(terms.pricing_line_id)
        terms = check_offer(terms, line, lot=self.lot, questions=self.questions, today=council_date(now))
        return line, terms

    def _live_offer_or_conflict(self, provider_id: UUID, action: str) -> Offer:
        offer = self.live_offer_of(provider_id)
        if offer is None:
            raise Conflict(f"your organisation has no live offer on this referral to {action}")
        return offer

    # --- closing the window

    def close(self, *, now: datetime) -> None:
        """The deadline has passed: no more offers; officers may now see them."""
        self._require("close", ReferralStatus.PUBLISHED)
        if now < self.deadline:
            raise Conflict(f"offers are open until {self.deadline.isoformat()}; an officer may close early "
                           "only once every invited provider has offered or declined")
        self._close(now, by=None)

    def close_if_due(self, now: datetime) -> bool:
        """Close the window if the deadline has passed; it closed at the deadline itself.

        Called by the scheduled job and whenever a referral is read or acted on,
        so nobody waits for the job to see the right state.
        """
        if self.status is not ReferralStatus.PUBLISHED or now < self.deadline:
            return False
        self._close(self.deadline, by=None)
        return True

    def close_early(self, *, by: str, now: datetime, unable_to_answer: Iterable[UUID] = ()) -> None:
        """An officer closes before the deadline: only once everyone invited has answered, bar those whose
        membership no longer lets them offer or decline (removed, or suspended since)."""
        self._require("close", ReferralStatus.PUBLISHED)
        excused = set(unable_to_answer)
        waiting = tuple(p for p in self.unanswered if p not in excused)
        if waiting and now < self.deadline:
            raise Conflict(f"{len(waiting)} of {len(self.invited)} invited providers have not yet "
                           "offered or declined")
        self._close(now, by=by)

    def _close(self, now: datetime, by: str | None) -> None:
        self.status, self.window_closed_at, self.closed_by = ReferralStatus.CLOSED, now, by
        self.events.append(WindowClosed(referral_id=self.id, deadline=self.deadline, by=by, at=now))

    @property
    def window_closed(self) -> bool:
        return self.status in WINDOW_CLOSED

    # --- assessment

    def assess_offer(self, offer_id: UUID, *, meets_needs: bool, reason: str,
                     criteria_met: Mapping[UUID, bool] | None = None, by: str, now: datetime) -> Assessment:
        """Record whether an offer meets the needs, and why; each further question met or not.

        An offer that fails a further criterion cannot meet the needs: the
        officer asked that question because the child needs it.
        """
        self._require_assessing("assess offers on")
        offer = next((o for o in self.live_offers if o.id == offer_id), None)
        if offer is None:
            raise NotFound("no live offer with that id on this referral")
        if not isinstance(meets_needs, bool):
            raise InvalidInput("say whether the offer meets the needs", field="meets_needs")
        reason = required_text(reason, "reason", "the reason for the assessment")
        marks = self._marks(criteria_met or {})
        if meets_needs and not all(marks.values()):
            raise InvalidInput("an offer that does not meet a further criterion cannot meet the needs",
                               field="meets_needs")
        assessment = Assessment(offer_id, meets_needs, reason, marks, by, now)
        self.assessments[offer_id] = assessment
        self.events.append(OfferAssessed(referral_id=self.id, assessment=assessment))
        return assessment

    def _marks(self, criteria_met: Mapping[UUID, bool]) -> dict[UUID, bool]:
        asked = {q.id for q in self.questions}
        if set(criteria_met) - asked:
            raise InvalidInput("marks a question this referral does not ask", field="criteria_met")
        for question in self.questions:
            if not isinstance(criteria_met.get(question.id), bool):
                raise InvalidInput(f"mark whether the offer meets: {question.text}", field="criteria_met")
        return {q.id: criteria_met[q.id] for q in self.questions}

    @property
    def unassessed(self) -> tuple[Offer, ...]:
        return tuple(o for o in self.live_offers if o.id not in self.assessments)

    @property
    def offers_meeting_needs(self) -> tuple[Offer, ...]:
        return tuple(o for o in self.live_offers
                     if o.id in self.assessments and self.assessments[o.id].meets_needs)

    def complete_assessment(self, *, by: str, now: datetime) -> None:
        """Every live offer assessed: record ReferralClosed for awards."""
        self._require_assessing("complete the assessment of")
        if self.unassessed:
            raise Conflict(f"{len(self.unassessed)} offers are not yet assessed")
        self.assessment_completed_at = now
        none_meets = not self.offers_meeting_needs
        if none_meets:
            self.status = ReferralStatus.NO_SUITABLE_OFFER
        self.events.append(ReferralClosed(
            referral_id=self.id, lot=self.lot, profile=self.profile_for_providers(), invited=self.invited,
            offers=tuple(self._assessed(o) for o in self.live_offers),
            declines=tuple(self.declines.values()), no_suitable_offer=none_meets,
            window_closed_at=self.window_closed_at, by=by, at=now, dps_id=self.dps_id,
            window_basis=self.window_basis, first_school_day=self.first_school_day))

    def _assessed(self, offer: Offer) -> AssessedOffer:
        return AssessedOffer(offer_id=offer.id, provider_id=offer.provider_id, terms=offer.terms,
                             total_pence=offer.total_pence, maximum_price_pence=offer.maximum_price_pence,
                             submitted_at=offer.submitted_at, changed_at=offer.changed_at,
                             assessment=self.assessments[offer.id])

    def _require_assessing(self, action: str) -> None:
        self._require(action, ReferralStatus.CLOSED)
        if self.assessment_completed_at is not None:
            raise Conflict("the assessment of this referral is already complete")

    # --- outcomes

    def record_off_dps_exception(self, reason: str, details: OffDpsDetails | Mapping, *, by: str,
                                 now: datetime) -> OffDpsException:
        """No offer can meet the needs, or awards found none of them eligible: record why the child's place
        is bought off the DPS, naming the provider, the placement's terms and the minimum checks
        (off_dps.py); the manager approves it in awards.

        On a closed referral with no offers at all, this also completes the
        (empty) assessment, so awards hears the referral closed.
        """
        if self.status is ReferralStatus.CLOSED and self.assessment_completed_at is None and self.live_offers:
            raise Conflict(f"assess every offer before recording an off-DPS exception: {OFF_DPS_RULE}")
        if (self.status is ReferralStatus.CLOSED and self.assessment_completed_at is not None
                and self.no_eligible_offers_at is None):
            raise Conflict(f"an offer meets the needs and awards has not reported that none is eligible: award "
                           f"it rather than going off the DPS ({OFF_DPS_RULE})")
        self._require("record an off-DPS exception on", ReferralStatus.CLOSED, ReferralStatus.NO_SUITABLE_OFFER)
        if self.off_dps_exception is not None:
            raise Conflict("an off-DPS exception is already recorded for this referral")
        reason = required_text(reason, "reason", "the reason for the off-DPS exception")
        if not isinstance(details, OffDpsDetails):
            details = OffDpsDetails.from_form(details)
        if self.status is ReferralStatus.CLOSED and self.assessment_completed_at is None:
            self.complete_assessment(by=by, now=now)  # closed with no offers: nothing to assess
        self.off_dps_exception = OffDpsException(reason, by, now, details)
        self.events.append(OffDpsExceptionRecorded(referral_id=self.id, lot=self.lot, team=self.team,
                                                   reason=reason, by=by, at=now, details=details,
                                                   profile=self.profile_for_providers(), dps_id=self.dps_id))
        return self.off_dps_exception

    def note_no_eligible_offers(self, reasons: Iterable[str], at: datetime) -> bool:
        """Awards ranked the offers and none is eligible (calloff.no_eligible_offers): the officer may now go
        off the DPS, re-publish or cancel.  The same report again, or one about a referral no longer waiting
        for an award, changes nothing (returns False)."""
        if (self.status is not ReferralStatus.CLOSED or self.assessment_completed_at is None
                or self.no_eligible_offers_at is not None):
            return False
        self.no_eligible_offers_at = at
        self.events.append(NoEligibleOffersReported(referral_id=self.id, reasons=tuple(reasons), at=at))
        return True

    def mark_awarded(self, offer_id: UUID, at: datetime, *, award_id: UUID | None = None) -> None:
        """Awards made the placement (placement.awarded).  The same award again is a no-op."""
        if self.status is ReferralStatus.AWARDED:
            if offer_id == self.awarded_offer_id:
                return
            raise Conflict("this referral is already awarded to another offer")
        self._require("award", ReferralStatus.CLOSED)
        if self.assessment_completed_at is None:
            raise Conflict("the assessment of this referral is not complete")
        if offer_id not in {o.id for o in self.offers_meeting_needs}:
            raise Conflict("that offer is not a live offer assessed as meeting the needs")
        self.status, self.awarded_offer_id, self.awarded_at = ReferralStatus.AWARDED, offer_id, at
        self.events.append(ReferralAwarded(referral_id=self.id, offer_id=offer_id, award_id=award_id, at=at))

    def mark_placed_in_block(self, allocation_id: UUID, at: datetime) -> bool:
        """Awards gave the child a place of a block contract (block_place.allocated).

        The referral's need is met: whatever stage it was at, it is awarded and
        its window closes.  The same allocation again is a no-op; a referral
        already awarded, or cancelled, is left as it is (returns False).
        """
        if self.status in (ReferralStatus.AWARDED, ReferralStatus.CANCELLED):
            return False
        if self.window_closed_at is None:
            self.window_closed_at = at
        self.status, self.awarded_allocation_id, self.awarded_at = ReferralStatus.AWARDED, allocation_id, at
        self.events.append(PlacedInBlock(referral_id=self.id, allocation_id=allocation_id, at=at))
        return True

    # ---

    def _require(self, action: str, *states: ReferralStatus) -> None:
        if self.status not in states:
            raise Conflict(f"cannot {action} a referral that is {self.status.value}")


def _urgency(text: str | None) -> str | None:
    """The urgency of a child without education, in words; blank is none."""
    return text.strip() if isinstance(text, str) and text.strip() else None
