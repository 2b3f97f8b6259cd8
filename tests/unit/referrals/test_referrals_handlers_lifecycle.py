"""Referrals' rules for the council's side through the handlers on the fake
unit of work, moved down from the API tests (issue #14, item 3): the
sixth-day deadline, publishing and who is invited, cancelling and closing,
the assessment and off-DPS exceptions.  The API tests keep
the status codes, the error bodies, the roles, the configured term calendar
and what is stored."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from services.referrals import handlers
from services.referrals.domain import Membership, MembershipStatus, ReferralStatus
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.support.off_dps import off_dps_form
from tests.unit.referrals import test_referrals_handlers as handler_tests
from tests.unit.referrals.test_referrals_handlers import (
    ACORN,
    AFTER,
    BIRCH,
    CHILD,
    DEADLINE,
    LINE,
    NOW,
    OFFICER,
    OTHER_OFFICER,
    PROFILE,
    draft,
    provider,
    published,
    terms,
)
from tests.unit.referrals.test_referrals_handlers_offers import offer, refused

uow, no_webhooks = handler_tests.uow, handler_tests.no_webhooks  # the same fixtures (no_webhooks: autouse)


def _create(uow, *, exclusion_start=date(2025, 1, 13), **profile):
    return handlers.create_referral(uow, OFFICER, lot=1, child=CHILD, profile={**PROFILE, **profile},
                                    deadline=DEADLINE, exclusion_start=exclusion_start).referral


# --- the sixth-day deadline (was tests/api/referrals/test_referrals_api_form.py) ------------------------

def test_referral_for_a_permanent_exclusion_shows_the_sixth_school_day(uow):
    # Monday 13 January 2025 is school day 1; Monday 20 is day 6.
    assert _create(uow).full_time_provision_by == date(2025, 1, 20)


def test_looked_after_child_aims_for_the_first_school_day(uow):
    made = _create(uow, exclusion_start=date(2025, 1, 11), looked_after=True)  # excluded from a Saturday
    assert (made.first_day_aim, made.full_time_provision_by) == (date(2025, 1, 13), date(2025, 1, 20))


def test_other_reasons_have_no_sixth_day_deadline(uow):
    assert _create(uow, exclusion_start=None, reason="medical").full_time_provision_by is None


def test_permanent_exclusion_needs_its_start_date(uow):
    error = refused(InvalidInput, handlers.create_referral, uow, OFFICER, lot=1, child=CHILD, profile=PROFILE,
                    deadline=DEADLINE, exclusion_start=None)
    assert error.field == "exclusion_start" and uow.referrals.referrals == {}


def test_officer_of_another_team_cannot_revise(uow):
    referral = draft(uow)
    refused(Forbidden, handlers.revise_referral, uow, OTHER_OFFICER, referral.id, lot=2)
    assert referral.lot == 1


# --- publishing (was tests/api/referrals/test_referrals_api_publish.py) ----------------------------------

def test_invited_list_is_kept_when_the_registry_changes_later(uow):
    referral = published(uow)
    handlers.membership_changed(uow, provider_id=ACORN, provider_name=None, lot=1,
                                status=MembershipStatus.SUSPENDED, reason="Insurance", at=NOW)
    latecomer = uuid.uuid4()
    uow.registry.admit(Membership(latecomer, 1, MembershipStatus.ADMITTED, (LINE,)))
    assert set(referral.invited) == {ACORN, BIRCH}
    with pytest.raises(NotFound):
        handlers.referral_for_provider(uow, provider(latecomer), referral.id)


def test_reinstated_provider_is_invited_again(uow):
    for status in (MembershipStatus.SUSPENDED, MembershipStatus.ADMITTED):
        handlers.membership_changed(uow, provider_id=ACORN, provider_name=None, lot=1, status=status,
                                    reason="Insurance", at=NOW)
    assert set(handlers.publish_referral(uow, OFFICER, draft(uow).id)) == {ACORN, BIRCH}


def test_publishing_to_a_lot_with_no_eligible_provider_is_flagged(uow):
    uow.registry.memberships.clear()
    assert handlers.publish_referral(uow, OFFICER, draft(uow).id) == ()
    [data] = uow.published("referral.published")
    assert data["invited_provider_ids"] == [] and data["no_eligible_providers"] is True


def test_publishing_twice_is_a_conflict(uow):
    referral = published(uow)
    refused(Conflict, handlers.publish_referral, uow, OFFICER, referral.id)


def test_publishing_after_the_deadline_is_refused_naming_it(uow):
    referral = draft(uow)
    uow.clock = AFTER
    assert refused(InvalidInput, handlers.publish_referral, uow, OFFICER, referral.id).field == "deadline"
    assert referral.status is ReferralStatus.DRAFT


def test_a_published_referral_cannot_be_revised_or_given_questions(uow):
    referral = published(uow)
    refused(Conflict, handlers.revise_referral, uow, OFFICER, referral.id, lot=2)
    refused(Conflict, handlers.add_question, uow, OFFICER, referral.id, "SENCO?")
    assert referral.lot == 1 and len(referral.questions) == 1


def test_a_draft_is_seen_by_no_provider(uow):
    referral = draft(uow)
    assert handlers.referrals_for_provider(uow, provider(ACORN)) == []
    with pytest.raises(NotFound):
        handlers.referral_for_provider(uow, provider(ACORN), referral.id)


def test_a_closed_referral_not_awarded_is_cancelled_with_a_reason(uow):
    """No dead ends (issue #15): a closed referral can still be cancelled, with a reason."""
    referral = published(uow)
    uow.clock = AFTER
    view = handlers.cancel_referral(uow, OFFICER, referral.id, "The child's school took the child back")
    assert view.referral.status is ReferralStatus.CANCELLED


# --- closing and the assessment (was tests/api/referrals/test_referrals_api_assessment.py) ----------------

def test_officer_closes_early_once_every_invited_provider_has_answered(uow):
    referral = published(uow)
    offer(uow, referral)
    refused(Conflict, handlers.close_referral_early, uow, OFFICER, referral.id)  # birch has not answered
    handlers.decline_referral(uow, provider(BIRCH), referral.id, "No capacity for SEMH this term")
    view = handlers.close_referral_early(uow, OFFICER, referral.id)
    assert view.referral.status is ReferralStatus.CLOSED and view.referral.closed_by == "officer-1"
    refused(Conflict, handlers.submit_offer, uow, provider(BIRCH), referral.id, terms(referral))


def test_closing_a_draft_is_a_conflict(uow):
    refused(Conflict, handlers.close_referral_early, uow, OFFICER, draft(uow).id)


def _assess(uow, referral, offer_id, meets_needs=True, reason="Meets every need in the profile", marks=None):
    marks = marks if marks is not None else {q.id: meets_needs for q in referral.questions}
    return handlers.assess_offer(uow, OFFICER, referral.id, offer_id, meets_needs=meets_needs, reason=reason,
                                 criteria_met=marks)


def test_officers_assess_each_offer_and_complete_the_assessment(uow):
    referral = published(uow)
    first = offer(uow, referral)
    second = offer(uow, referral, BIRCH, unit_price_pence=40_000)
    uow.clock = AFTER
    _assess(uow, referral, first.id)
    refused(Conflict, handlers.complete_assessment, uow, OFFICER, referral.id)  # the second is not yet assessed
    _assess(uow, referral, second.id, meets_needs=False, reason="No SEMH experience")
    assert {o: a.meets_needs for o, a in referral.assessments.items()} == {first.id: True, second.id: False}
    view = handlers.complete_assessment(uow, OFFICER, referral.id)
    assert view.referral.status is ReferralStatus.CLOSED and view.referral.assessment_completed_at == AFTER


def test_part_time_on_lot_2_is_not_full_time(uow):
    uow.registry.admit(Membership(ACORN, 2, MembershipStatus.ADMITTED, (LINE,), capacity=3))
    part_time = _create(uow, hours_per_week=12)
    handlers.revise_referral(uow, OFFICER, part_time.id, lot=2)
    handlers.publish_referral(uow, OFFICER, part_time.id)
    made = offer(uow, part_time)
    uow.clock = AFTER
    _assess(uow, part_time, made.id)
    handlers.complete_assessment(uow, OFFICER, part_time.id)
    [data] = uow.published("referral.closed")
    assert data["full_time"] is False


def test_assessment_is_refused_before_the_window_closes_and_without_a_reason(uow):
    referral = published(uow)
    made = offer(uow, referral)
    refused(Conflict, _assess, uow, referral, made.id)
    uow.clock = AFTER
    assert refused(InvalidInput, _assess, uow, referral, made.id, reason=" ").field == "reason"
    assert "criteria_met" in refused(InvalidInput, _assess, uow, referral, made.id, marks={}).field_errors
    question = referral.questions[0].id
    error = refused(InvalidInput, _assess, uow, referral, made.id, meets_needs=True, marks={question: False})
    assert "meets_needs" in error.field_errors
    refused(NotFound, _assess, uow, referral, uuid.uuid4())
    assert referral.assessments == {}


def test_off_dps_exception_after_no_offers_at_all_also_tells_awards_the_referral_closed(uow):
    uow.registry.memberships.clear()
    referral = published(uow)
    handlers.close_referral_early(uow, OFFICER, referral.id)  # nobody to wait for
    handlers.record_off_dps_exception(uow, OFFICER, referral.id, "No provider on lot 1", off_dps_form())
    assert [m.type for m in uow.messages if m.type != "referral.published"] == [
        "referral.closed", "off_dps_exception.recorded"]


def test_off_dps_exception_is_refused_while_an_offer_meets_the_needs_or_without_a_reason(uow):
    referral = published(uow)
    made = offer(uow, referral)
    refused(Conflict, handlers.record_off_dps_exception, uow, OFFICER, referral.id, "Too early", off_dps_form())
    uow.clock = AFTER
    refused(Conflict, handlers.record_off_dps_exception, uow, OFFICER, referral.id, "Not assessed", off_dps_form())
    _assess(uow, referral, made.id)
    handlers.complete_assessment(uow, OFFICER, referral.id)
    refused(Conflict, handlers.record_off_dps_exception, uow, OFFICER, referral.id, "Prefer another", off_dps_form())
    refused((Conflict, InvalidInput), handlers.record_off_dps_exception, uow, OFFICER, referral.id, "", off_dps_form())
    assert referral.off_dps_exception is None

