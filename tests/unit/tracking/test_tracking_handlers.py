"""Every use case of services/tracking/handlers.py on a FakeUnitOfWork: what
the domain decided, what would be published and audited, and that a refusal
commits nothing.  No database, no broker: the whole layer runs in a second."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from services.tracking import handlers
from services.tracking.domain import ConcernPolicy, Placement, PlacementSource, PlacementStatus
from shared.actor import Actor
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.unit.tracking.fakes import NOW, FakeUnitOfWork

PROVIDER_ID, OTHER_PROVIDER_ID = uuid4(), uuid4()
OFFICER = Actor("officer.exclusions", frozenset({"officer"}), team="exclusions")
OTHER_TEAM = Actor("officer.send", frozenset({"officer"}), team="send")
MANAGER = Actor("the.manager", frozenset({"manager"}))
PROVIDER = Actor("provider.a", frozenset({"provider"}), provider_id=PROVIDER_ID)
OTHER_PROVIDER = Actor("provider.b", frozenset({"provider"}), provider_id=OTHER_PROVIDER_ID)
POLICY = ConcernPolicy()


def award(**overrides) -> dict:
    data = dict(placement_id=uuid4(), referral_id=uuid4(), child_ref=uuid4(), provider_id=PROVIDER_ID, lot=1,
                team="exclusions", reason_for_ap="permanent exclusion", hours_per_week=Decimal(25),
                full_time=True, agreed_cost_pence=1_260_000, start_date=date(2024, 1, 8), weeks=Decimal(28),
                award_id=uuid4(), offer_id=uuid4(), unit_price_pence=45_000, units_per_week=Decimal(1),
                awarded_by="officer.exclusions", at=datetime(2024, 1, 2, 10, tzinfo=UTC))
    data.update(overrides)
    return data


def placement(**overrides) -> Placement:
    uow = FakeUnitOfWork()
    handlers.place_award(uow, award(**overrides), PlacementSource.CALL_OFF)
    [made] = uow.placements.stored.values()
    made.events.clear()
    return made


def running(**overrides) -> Placement:
    made = placement(**overrides)
    made.start(date(2024, 1, 8), by=OFFICER, now=NOW)
    made.events.clear()
    return made


# -- from awards ----------------------------------------------------------------------

def test_an_award_becomes_an_awarded_placement_once():
    uow, data = FakeUnitOfWork(), award()
    assert handlers.place_award(uow, data, PlacementSource.CALL_OFF) is True
    made = uow.placements.stored[data["placement_id"]]
    assert made.status is PlacementStatus.AWARDED and made.full_time is True
    assert made.expected_end_date == date(2024, 7, 21)  # 28 weeks from a Monday end on a Sunday
    assert uow.placements.award_terms[made.placement_id]["award_id"] == data["award_id"]
    assert handlers.place_award(uow, data, PlacementSource.CALL_OFF) is False  # a second copy
    uow.collect()
    assert uow.actions() == ["placement.created"] and uow.messages == []
    assert uow.audit[0].actor == handlers.AWARDS
    assert not uow.committed  # the consumer commits


def test_an_award_after_its_providers_suspension_is_flagged_at_once():
    uow = FakeUnitOfWork()
    handlers.apply_membership(uow, provider_id=PROVIDER_ID, provider_name="Bright Futures", lot=1,
                              status="suspended", reason="inspection", at=NOW)
    data = award()
    handlers.place_award(uow, data, PlacementSource.CALL_OFF)
    made = uow.placements.stored[data["placement_id"]]
    assert made.flagged_for_review
    assert made.review_flags[0].reason == "Bright Futures was suspended from lot 1 on 2024-03-15: inspection"


# -- the registry's news ------------------------------------------------------------------

def test_a_suspension_flags_the_providers_open_placements_on_that_lot_once():
    awarded, started, other_lot = placement(), running(), placement(lot=2, hours_per_week=Decimal(10))
    ended = running()
    ended.end(date(2024, 3, 1), end_reason="completed", next_step="employment", by=OFFICER, now=NOW)
    uow = FakeUnitOfWork([awarded, started, other_lot, ended])
    news = dict(provider_id=PROVIDER_ID, provider_name="Bright Futures", lot=1, status="suspended",
                reason="inspection", at=NOW)
    assert handlers.apply_membership(uow, **news) == 2
    assert awarded.flagged_for_review and started.flagged_for_review and not other_lot.flagged_for_review
    assert handlers.apply_membership(uow, **news) == 0  # told twice
    uow.collect()
    assert uow.actions().count("placement.flagged_for_review") == 2


def test_older_news_of_a_membership_changes_nothing_and_a_reinstatement_flags_nothing():
    open_one = placement()
    uow = FakeUnitOfWork([open_one])
    handlers.apply_membership(uow, provider_id=PROVIDER_ID, provider_name="B", lot=1, status="admitted",
                              reason=None, at=NOW)
    assert handlers.apply_membership(uow, provider_id=PROVIDER_ID, provider_name="B", lot=1, status="suspended",
                                     reason="late", at=datetime(2024, 1, 1, tzinfo=UTC)) == 0
    assert not open_one.flagged_for_review
    assert uow.registry.membership(PROVIDER_ID, 1)["status"] == "admitted"


def test_the_newest_provider_name_is_kept():
    uow = FakeUnitOfWork()
    handlers.note_provider_name(uow, PROVIDER_ID, "New name", NOW)
    handlers.note_provider_name(uow, PROVIDER_ID, "Old name", datetime(2024, 1, 1, tzinfo=UTC))
    assert uow.registry.name_of(PROVIDER_ID) == "New name"


# -- start, end, cancel, arrangements ----------------------------------------------------------

def test_a_start_is_published_and_audited_and_holds_the_child():
    made = placement()
    uow = FakeUnitOfWork([made], actor=PROVIDER)
    handlers.start_placement(uow, PROVIDER, made.placement_id, date(2024, 1, 8))
    assert uow.committed and made.status is PlacementStatus.STARTED
    assert uow.types() == ["placement.started"] and uow.actions() == ["placement.started"]
    assert uow.messages[0].data["confirmed_by"] == "provider" and uow.messages[0].data["full_time"] is True
    assert uow.placements.children_locked == [made.child_ref]


@pytest.mark.parametrize("actor, message", [
    (OTHER_PROVIDER, "another provider"), (OTHER_TEAM, "exclusions team")])
def test_only_the_placements_provider_and_team_touch_it(actor, message):
    made = placement()
    uow = FakeUnitOfWork([made], actor=actor)
    with pytest.raises(Forbidden) as refused:
        handlers.start_placement(uow, actor, made.placement_id, date(2024, 1, 8))
    assert message in refused.value.message
    assert not uow.committed and made.status is PlacementStatus.AWARDED


def test_a_start_before_the_award_is_refused_and_nothing_is_stored():
    made = placement(start_date=date(2024, 1, 1), at=datetime(2024, 1, 2, 10, tzinfo=UTC))
    uow = FakeUnitOfWork([made], actor=PROVIDER)
    with pytest.raises(InvalidInput) as refused:
        handlers.start_placement(uow, PROVIDER, made.placement_id, date(2024, 1, 1))
    assert refused.value.field == "started_on" and "2024-01-02" in refused.value.message
    assert not uow.committed and made.status is PlacementStatus.AWARDED and uow.messages == []
    handlers.start_placement(uow, PROVIDER, made.placement_id, date(2024, 1, 2))
    assert uow.committed and made.started_on == date(2024, 1, 2)


def test_a_placement_not_there_is_not_found():
    with pytest.raises(NotFound):
        handlers.start_placement(FakeUnitOfWork(), MANAGER, uuid4(), date(2024, 1, 8))


def test_a_second_full_time_main_placement_of_the_child_is_refused_naming_the_first():
    first = running()
    second = placement(child_ref=first.child_ref)
    uow = FakeUnitOfWork([first, second], actor=MANAGER)
    with pytest.raises(Conflict) as refused:
        handlers.start_placement(uow, MANAGER, second.placement_id, date(2024, 2, 5))
    assert str(first.placement_id) in refused.value.message and not uow.committed
    handlers.start_placement(uow, MANAGER, second.placement_id, date(2024, 2, 5), overlap_reason="handover")
    assert uow.committed and uow.audit[-1].reason == "handover"


def test_a_wrong_transition_names_the_placement():
    made = placement()
    with pytest.raises(Conflict) as refused:
        handlers.end_placement(FakeUnitOfWork([made]), OFFICER, made.placement_id, end_date=date(2024, 3, 1),
                               end_reason="completed", next_step="employment")
    assert refused.value.field == "placement_id"


def test_an_end_is_published_and_its_note_audited():
    made = running()
    uow = FakeUnitOfWork([made], actor=OFFICER)
    handlers.end_placement(uow, OFFICER, made.placement_id, end_date=date(2024, 3, 1), end_reason="completed",
                           next_step="further_education", note="went well")
    assert uow.types() == ["placement.ended"] and uow.messages[0].data["next_step"] == "further_education"
    assert "note" not in uow.messages[0].data
    [entry] = uow.audit
    assert (entry.action, entry.reason, entry.details["end_reason"]) == ("placement.ended", "went well", "completed")


def test_only_an_officer_cancels_an_award_and_it_is_published_as_ended_cancelled():
    made = placement()
    with pytest.raises(Forbidden):
        handlers.cancel_placement(FakeUnitOfWork([made]), PROVIDER, made.placement_id, reason="moved",
                                  next_step="moved_away")
    uow = FakeUnitOfWork([made], actor=OFFICER)
    handlers.cancel_placement(uow, OFFICER, made.placement_id, reason="the family moved", next_step="moved_away")
    assert uow.messages[0].data["end_reason"] == "cancelled" and uow.messages[0].data["started_on"] is None
    assert [(e.action, e.reason) for e in uow.audit] == [("placement.cancelled", "the family moved")]


def test_arrangements_are_audited_before_and_after_and_published_nowhere():
    made = running()
    uow = FakeUnitOfWork([made], actor=OFFICER)
    handlers.set_arrangements(uow, OFFICER, made.placement_id, safeguarding="home_school", reason="stays on roll")
    assert uow.messages == [] and uow.committed
    [entry] = uow.audit
    assert entry.details == {"before": {"safeguarding": "commissioning_team", "provision": "main"},
                             "after": {"safeguarding": "home_school", "provision": "main"}}
    with pytest.raises(Forbidden):
        handlers.set_arrangements(FakeUnitOfWork([made]), PROVIDER, made.placement_id, provision="main")


# -- attendance and concerns ---------------------------------------------------------------------

def _return(uow, placement_id, attended=10, unauthorised=0, monday=date(2024, 1, 8)):
    return handlers.record_attendance(uow, PROVIDER, placement_id, week_commencing=monday, sessions_offered=10,
                                      attended=attended, authorised_absence=0, unauthorised_absence=unauthorised,
                                      policy=POLICY)


def test_a_return_is_published_with_the_concerns_it_raises_and_a_correction_counts():
    made = running()
    uow = FakeUnitOfWork([made], actor=PROVIDER)
    _, week, concerns = _return(uow, made.placement_id, attended=6, unauthorised=4)
    assert sorted(c.kind.value for c in concerns) == ["low_attendance", "unexplained_absence"]
    assert uow.types() == ["attendance.recorded", "concern.raised", "concern.raised"]
    assert uow.actions() == ["attendance.recorded", "concern.raised", "concern.raised"]
    assert week.corrections == 0 and week.recorded_by == "provider.a"
    _, again, raised = _return(uow, made.placement_id, attended=7, unauthorised=3)
    assert again.corrections == 1 and raised == []  # a concern of one kind once a week
    assert uow.messages[-1].data["correction"] is True


def test_a_low_week_while_the_concern_is_open_escalates_it_in_the_audit_trail_not_a_new_concern():
    made = running()
    uow = FakeUnitOfWork([made], actor=PROVIDER)
    _, _, [concern] = _return(uow, made.placement_id, attended=5)
    _, _, raised = _return(uow, made.placement_id, attended=5, monday=date(2024, 1, 15))
    assert raised == [] and concern.weeks_low == 2 and concern.week_commencing == date(2024, 1, 15)
    assert uow.types() == ["attendance.recorded", "concern.raised", "attendance.recorded"]
    [escalated] = [entry for entry in uow.audit if entry.action == "concern.escalated"]
    assert escalated.subject_id == concern.concern_id
    assert escalated.details["weeks_low"] == 2 and escalated.details["rate"] == "0.5000"
    _return(uow, made.placement_id, attended=4, monday=date(2024, 1, 15))  # a correction: not escalated
    assert [e.action for e in uow.audit].count("concern.escalated") == 1


def test_only_the_provider_returns_attendance():
    made = running()
    with pytest.raises(Forbidden):
        handlers.record_attendance(FakeUnitOfWork([made]), OFFICER, made.placement_id,
                                   week_commencing=date(2024, 1, 8), sessions_offered=10, attended=10,
                                   authorised_absence=0, unauthorised_absence=0, policy=POLICY)


def test_the_threshold_is_the_policys():
    made = running()
    uow = FakeUnitOfWork([made], actor=PROVIDER)
    _, _, concerns = handlers.record_attendance(
        uow, PROVIDER, made.placement_id, week_commencing=date(2024, 1, 8), sessions_offered=10, attended=9,
        authorised_absence=1, unauthorised_absence=0, policy=ConcernPolicy(Decimal("0.95"), 4))
    assert [c.kind.value for c in concerns] == ["low_attendance"]


def test_a_concern_is_acknowledged_once_by_its_teams_officer():
    made = running()
    uow = FakeUnitOfWork([made], actor=PROVIDER)
    _, _, [concern] = _return(uow, made.placement_id, attended=9, unauthorised=1)
    with pytest.raises(Forbidden):
        handlers.acknowledge_concern(FakeUnitOfWork([made]), OTHER_TEAM, concern.concern_id, "seen")
    with pytest.raises(Forbidden):
        handlers.acknowledge_concern(FakeUnitOfWork([made]), PROVIDER, concern.concern_id, "seen")
    uow = FakeUnitOfWork([made], actor=OFFICER)
    handlers.acknowledge_concern(uow, OFFICER, concern.concern_id, "calling the family")
    assert concern.acknowledged_by == "officer.exclusions" and concern.acknowledged_at == NOW
    assert [(e.action, e.reason) for e in uow.audit] == [("concern.acknowledged", "calling the family")]
    with pytest.raises(Conflict) as refused:
        handlers.acknowledge_concern(FakeUnitOfWork([made]), OFFICER, concern.concern_id, "again")
    assert "officer.exclusions" in refused.value.message
    with pytest.raises(NotFound):
        handlers.acknowledge_concern(FakeUnitOfWork([made]), OFFICER, uuid4(), "what")


# -- reviews and outcomes ---------------------------------------------------------------------

def test_a_review_clears_the_flag_and_is_published_with_the_next_date():
    made = running()
    made.flag_for_review("provider suspended", now=NOW)
    uow = FakeUnitOfWork([made], actor=OFFICER)
    _, review = handlers.record_review(uow, OFFICER, made.placement_id, review_date=date(2024, 2, 16),
                                       attendance="improving", attitude="steady", attainment="steady",
                                       behaviour="steady", notes="settling in",
                                       child_views="likes the small group", family_views="pleased with progress")
    assert not made.flagged_for_review and review.by == "officer.exclusions"
    assert uow.types() == ["review.recorded"] and uow.messages[0].data["next_review_due"] == "2024-03-29"
    assert "notes" not in uow.messages[0].data
    with pytest.raises(Forbidden):
        handlers.record_review(FakeUnitOfWork([made]), PROVIDER, made.placement_id, review_date=date(2024, 2, 16),
                               attendance="steady", attitude="steady", attainment="steady", behaviour="steady",
                               notes="x", child_views="likes the small group", family_views="pleased with progress")


def test_an_outcome_is_published():
    made = running()
    uow = FakeUnitOfWork([made], actor=PROVIDER)
    _, outcome = handlers.record_outcome(uow, PROVIDER, made.placement_id, stage="start",
                                         recorded_on=date(2024, 1, 12), attainment={"english": "grade 3"},
                                         engagement=3)
    assert uow.types() == ["outcome.recorded"] and uow.messages[0].data["attainment"] == {"english": "grade 3"}
    assert uow.actions() == ["outcome.recorded"] and outcome.engagement == 3
