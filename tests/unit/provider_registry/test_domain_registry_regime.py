"""The DPS record's regime and the rules that hang off it: the statutory end
of a 2015-rules DPS (SI 2024/716 regulation 5(4)) and its warnings, admission
rolling or in rounds, the published call-off award criteria, an agreed
minimum offer window (only with a new SLA version), and a successor record
beside the first that providers join separately."""

from dataclasses import replace
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from services.provider_registry.domain import (
    DEFAULT_AWARD_CRITERIA,
    DPS,
    STATUTORY_END_REGULATION,
    ApplicationForm,
    AwardCriterion,
    ComplianceDocument,
    DocumentKind,
    DpsConfigured,
    DpsStatutoryEndApproaching,
    LotApplication,
    MembershipAdmitted,
    MembershipSuspended,
    Organisation,
    PricingLine,
    Provider,
    Regime,
    Registration,
    SafeguardingLead,
    SettingKind,
    SlaAccepted,
    Unit,
    submit_application,
)
from services.provider_registry.domain.dps import months_before
from shared.catalogue import FIRST_DPS_ID
from shared.errors import Conflict, InvalidInput

STATUTORY_END = date(2029, 2, 23)
LINE = PricingLine("Group place per week", Unit.WEEK, "1:4", 45_000)
SUCCESSOR = uuid4()


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def form(lots=(1,), dps_id=FIRST_DPS_ID, sla="1") -> ApplicationForm:
    documents = tuple(ComplianceDocument(kind, f"{kind.value}.pdf", date(2030, 1, 31)) for kind in DocumentKind)
    return ApplicationForm(Organisation("Bridges Learning Ltd", "1 High Street", "NT1 2AB"),
                           Registration(SettingKind.UNREGISTERED),
                           SafeguardingLead("Sam Okafor", "sam@bridges.example"), True, documents,
                           tuple(LotApplication(n, {}, (LINE,), 4) for n in lots), sla, dps_id)


def successor(regime=Regime.PA2023_DYNAMIC_MARKET, lots=(1, 2), start=date(2025, 2, 24), term_years=4) -> DPS:
    return DPS.set_up(id=SUCCESSOR, name="AP dynamic market", regime=regime, lots=lots, start=start,
                      term_years=term_years, statutory_end=STATUTORY_END)


def apply_and_admit(dps: DPS, day: date, provider: Provider | None = None, lots=(1,)) -> Provider:
    application = submit_application(dps, form(lots, dps.id, dps.sla_version), application_id=uuid4(),
                                     provider_id=provider.id if provider else uuid4(), now=at(day),
                                     member_lots=provider.member_lots(day, dps.id) if provider else ())
    application.admit(lots, at(day))
    provider = provider or Provider.from_application(application)
    provider.admit(application, dps, at(day))
    return provider


# ------------------------------------------------------------------ the regime


def test_each_regime_carries_its_own_rules():
    pcr, market, framework = Regime.PCR2015_DPS, Regime.PA2023_DYNAMIC_MARKET, Regime.PA2023_OPEN_FRAMEWORK
    assert (pcr.rolling_admission, market.rolling_admission, framework.rolling_admission) == (True, True, False)
    assert (pcr.has_statutory_end, market.has_statutory_end, framework.has_statutory_end) == (True, False, False)
    assert (pcr.call_off_standstill.required, pcr.call_off_standstill.days,
            pcr.call_off_standstill.working_days) == (False, 10, False)  # voluntary; 10 calendar days where used
    assert (market.call_off_standstill.required, market.call_off_standstill.days,
            market.call_off_standstill.working_days) == (True, 8, True)  # the Act: 8 working days
    assert "regulation 34" in pcr.law and "Procurement Act 2023" in framework.law
    assert "winner" in pcr.unsuccessful_bidder_told and "assessment summary" in market.unsuccessful_bidder_told
    assert any("regulation 50" in notice for notice in pcr.notices)


# ------------------------------------------------------------ the statutory end


def test_a_2015_rules_dps_ends_on_its_statutory_end_before_its_term():
    dps = DPS("AP DPS")  # 1 April 2024 for seven years
    assert (dps.regime, dps.statutory_end, dps.term_ends_on) == (Regime.PCR2015_DPS, STATUTORY_END, date(2031, 3, 31))
    assert dps.ends_on == STATUTORY_END and dps.ends_by_law


def test_admission_on_the_day_of_the_statutory_end_is_allowed_and_the_day_after_refused_naming_the_law():
    dps = DPS("AP DPS")
    provider = apply_and_admit(dps, STATUTORY_END)
    assert provider.membership(1).ends_on == STATUTORY_END  # memberships end with it
    assert provider.membership(1).is_active(STATUTORY_END)
    assert not provider.membership(1).is_active(date(2029, 2, 24))
    with pytest.raises(Conflict) as refused:
        apply_and_admit(dps, date(2029, 2, 24))
    assert "2029-02-23" in str(refused.value) and STATUTORY_END_REGULATION in str(refused.value)
    assert "the law, not council policy" in str(refused.value)


def test_a_decision_the_day_after_the_statutory_end_admits_no_one():
    dps = DPS("AP DPS")
    application = submit_application(dps, form(), application_id=uuid4(), provider_id=uuid4(), now=at(STATUTORY_END))
    application.admit([1], at(date(2029, 2, 24)))
    provider = Provider.from_application(application)
    with pytest.raises(Conflict, match=r"no admission after 2029-02-23: .*SI 2024/716 regulation 5\(4\)"):
        provider.admit(application, dps, at(date(2029, 2, 24)))
    assert provider.memberships == {} and provider.events == []


def test_a_term_ending_before_the_statutory_end_wins_and_the_refusal_names_the_term():
    dps = DPS("AP DPS", start=date(2022, 1, 1), term_years=5)  # the term ends on 31 December 2026
    assert (dps.term_ends_on, dps.ends_on, dps.ends_by_law) == (date(2026, 12, 31), date(2026, 12, 31), False)
    with pytest.raises(Conflict) as refused:
        dps.require_open_to_applications(date(2027, 1, 1))
    assert "term ended on 2026-12-31" in str(refused.value) and "SI 2024/716" not in str(refused.value)


def test_only_a_2015_rules_dps_has_a_statutory_end():
    market = successor(term_years=8)
    assert market.statutory_end is None and market.ends_on == market.term_ends_on == date(2033, 2, 23)


def test_the_configured_statutory_end_applies_to_the_record_and_is_published():
    dps = DPS("AP DPS")
    assert dps.apply_statutory_end(date(2028, 10, 27))  # regulation 5(4) as made
    assert dps.ends_on == date(2028, 10, 27)
    (event,) = dps.events
    assert isinstance(event, DpsConfigured) and event.record["statutory_end"] == date(2028, 10, 27)
    assert not dps.apply_statutory_end(date(2028, 10, 27)) and not successor().apply_statutory_end(STATUTORY_END)


@pytest.mark.parametrize("day, months, expected", [
    (STATUTORY_END, 12, date(2028, 2, 23)),
    (STATUTORY_END, 3, date(2028, 11, 23)),
    (date(2029, 5, 31), 3, date(2029, 2, 28)),  # no 31 February: the month's last day
    (date(2028, 8, 31), 6, date(2028, 2, 29)),
])
def test_months_before(day, months, expected):
    assert months_before(day, months) == expected


def test_the_manager_is_warned_12_6_and_3_months_before_once_each():
    dps = DPS("AP DPS")
    assert dps.warn_of_statutory_end(date(2028, 2, 22)) == ()
    assert dps.warn_of_statutory_end(date(2028, 2, 23)) == (12,)
    assert dps.warn_of_statutory_end(date(2028, 2, 24)) == ()  # never twice
    assert dps.warn_of_statutory_end(date(2028, 8, 23)) == (6,)
    assert dps.warn_of_statutory_end(date(2028, 11, 23)) == (3,)
    assert dps.warn_of_statutory_end(date(2029, 1, 1)) == ()
    warnings = [e for e in dps.events if isinstance(e, DpsStatutoryEndApproaching)]
    assert [(w.months_before, w.statutory_end, w.regulation) for w in warnings] == [
        (12, STATUTORY_END, STATUTORY_END_REGULATION), (6, STATUTORY_END, STATUTORY_END_REGULATION),
        (3, STATUTORY_END, STATUTORY_END_REGULATION)]
    assert [(w.months_before, w.given_on) for w in dps.warnings_given] == [
        (12, date(2028, 2, 23)), (6, date(2028, 8, 23)), (3, date(2028, 11, 23))]


def test_a_job_first_run_late_gives_every_warning_due_and_none_after_the_end():
    late = DPS("AP DPS")
    assert late.warn_of_statutory_end(date(2028, 9, 1)) == (12, 6)
    assert DPS("AP DPS").warn_of_statutory_end(date(2029, 2, 24)) == ()
    assert successor().warn_of_statutory_end(date(2028, 12, 1)) == ()


# ------------------------------------------------------------ admission rounds


def test_an_open_framework_admits_only_in_a_round_the_manager_opens():
    framework = successor(Regime.PA2023_OPEN_FRAMEWORK)
    with pytest.raises(Conflict, match="only in an admission round .*section 49.*no round is open or announced"):
        apply_and_admit(framework, date(2025, 3, 3))
    framework.open_round(date(2025, 3, 10), date(2025, 3, 21), today=date(2025, 3, 3))
    with pytest.raises(Conflict, match="the next round opens on 2025-03-10"):
        apply_and_admit(framework, date(2025, 3, 3))
    provider = apply_and_admit(framework, date(2025, 3, 10))  # the first day of the round
    assert provider.membership(1, SUCCESSOR).dps_id == SUCCESSOR
    apply_and_admit(framework, date(2025, 3, 21))  # and its last
    with pytest.raises(Conflict):
        apply_and_admit(framework, date(2025, 3, 22))


def test_a_dps_or_dynamic_market_admits_at_any_time_and_takes_no_rounds():
    for dps in (DPS("AP DPS"), successor()):
        with pytest.raises(Conflict, match="admits providers at any time"):
            dps.open_round(date(2025, 3, 10), date(2025, 3, 21), today=date(2025, 3, 3))
    apply_and_admit(successor(), date(2025, 3, 3))


@pytest.mark.parametrize("opens_on, closes_on, field", [
    (date(2025, 3, 2), date(2025, 3, 21), "opens_on"),  # in the past
    (date(2025, 3, 10), date(2025, 3, 9), "closes_on"),
    (date(2025, 3, 10), date(2029, 3, 1), "closes_on"),  # after the record ends
])
def test_a_round_must_be_in_the_future_and_within_the_term(opens_on, closes_on, field):
    framework = successor(Regime.PA2023_OPEN_FRAMEWORK)
    with pytest.raises(InvalidInput) as refused:
        framework.open_round(opens_on, closes_on, today=date(2025, 3, 3))
    assert field in refused.value.field_errors and framework.rounds == ()


def test_rounds_may_not_overlap():
    framework = successor(Regime.PA2023_OPEN_FRAMEWORK)
    framework.open_round(date(2025, 3, 10), date(2025, 3, 21), today=date(2025, 3, 3))
    with pytest.raises(Conflict, match="overlaps"):
        framework.open_round(date(2025, 3, 21), date(2025, 4, 4), today=date(2025, 3, 3))
    framework.open_round(date(2026, 3, 9), date(2026, 3, 20), today=date(2025, 3, 3))
    assert [r.opens_on for r in framework.rounds] == [date(2025, 3, 10), date(2026, 3, 9)]


# ------------------------------------------------------------ award criteria


def test_the_published_award_criteria_are_the_councils_five_by_default():
    assert [(c.code, c.description) for c in DPS("AP DPS").award_criteria] == [
        ("value", "Best value for money at the volume asked for"),
        ("travel", "Travel time and transport for this child"),
        ("continuity", "Continuity with a current or recent provider"),
        ("specialism", "Specialist provision for the child's primary need"),
        ("start", "Earliest start (the sixth-day duty)")]


def test_the_manager_replaces_the_award_criteria_and_the_record_is_published():
    dps = DPS("AP DPS")
    dps.set_award_criteria([AwardCriterion("value", " Value ", "Best value at the volume asked for")])
    assert dps.award_criteria == (AwardCriterion("value", "Value", "Best value at the volume asked for"),)
    (event,) = dps.events
    assert event.record["award_criteria"] == [
        {"code": "value", "name": "Value", "description": "Best value at the volume asked for"}]
    assert (event.before, event.after) == ({"award_criteria": [c.code for c in DEFAULT_AWARD_CRITERIA]},
                                           {"award_criteria": ["value"]})


@pytest.mark.parametrize("criteria, field", [
    ([], "award_criteria"),
    ([AwardCriterion("Travel Time", "Travel", "Travel time")], "award_criteria.0.code"),
    ([AwardCriterion("travel", "", "Travel time")], "award_criteria.0.name"),
    ([AwardCriterion("travel", "Travel", " ")], "award_criteria.0.description"),
    ([AwardCriterion("travel", "Travel", "a"), AwardCriterion("travel", "Again", "b")], "award_criteria.1.code"),
])
def test_award_criteria_refused_name_the_field_and_change_nothing(criteria, field):
    dps = DPS("AP DPS")
    with pytest.raises(InvalidInput) as refused:
        dps.set_award_criteria(criteria)
    assert field in refused.value.field_errors
    assert dps.award_criteria == DEFAULT_AWARD_CRITERIA and dps.events == []


# ------------------------------------------------------------ the agreed minimum window


def test_an_agreed_minimum_window_comes_only_with_a_new_sla_version_that_carries_it():
    dps = DPS("AP DPS")
    dps.issue_sla("2", "call-off windows", agreed_minimum_window_days=5)
    assert (dps.sla_version, dps.agreed_minimum_window_days, dps.agreed_in_sla_version) == ("2", 5, "2")
    published = [e.record for e in dps.events if isinstance(e, DpsConfigured)][-1]
    assert (published["agreed_minimum_window_days"], published["agreed_in_sla_version"]) == (5, "2")
    dps.issue_sla("3", "annual review")  # keeps the window agreed in version 2
    assert (dps.agreed_minimum_window_days, dps.agreed_in_sla_version) == (5, "2")
    dps.issue_sla("4", "back to the standard window", agreed_minimum_window_days=None)
    assert (dps.agreed_minimum_window_days, dps.agreed_in_sla_version) == (None, None)
    with pytest.raises(Conflict):
        dps.issue_sla("4", agreed_minimum_window_days=3)  # the version in force cannot carry a new agreement


@pytest.mark.parametrize("days", [0, 10, 14, 2.5, True, "5"])
def test_an_agreed_minimum_window_is_1_to_9_days(days):
    dps = DPS("AP DPS")
    with pytest.raises(InvalidInput) as refused:
        dps.issue_sla("2", agreed_minimum_window_days=days)
    assert refused.value.field == "agreed_minimum_window_days"
    assert (dps.sla_version, dps.agreed_minimum_window_days, dps.events) == ("1", None, [])


# ------------------------------------------------------------ a successor beside the first


def test_a_successor_is_set_up_with_its_own_regime_lots_and_criteria_and_published():
    market = successor()
    assert (market.id, market.regime, sorted(market.lots), market.start) == (
        SUCCESSOR, Regime.PA2023_DYNAMIC_MARKET, [1, 2], date(2025, 2, 24))
    assert all(lot.dps_id == SUCCESSOR for lot in market.lots.values())
    (event,) = market.events
    assert event.record["dps_id"] == SUCCESSOR and event.record["regime"] == "pa2023_dynamic_market"
    assert event.record["statutory_end"] is None and event.record["lots"] == [1, 2]


@pytest.mark.parametrize("changes, field", [
    ({"regime": "pcr2006"}, "regime"),
    ({"lots": [1, 5]}, "lots"),
    ({"lots": []}, "lots"),
    ({"name": " "}, "name"),
    ({"award_criteria": [AwardCriterion("x y", "X", "x")]}, "award_criteria.0.code"),
])
def test_a_successor_refused_names_the_field(changes, field):
    arguments = {"id": SUCCESSOR, "name": "AP market", "regime": "pa2023_dynamic_market", "lots": [1],
                 "start": date(2025, 2, 24), "term_years": 4, "statutory_end": STATUTORY_END, **changes}
    with pytest.raises(InvalidInput) as refused:
        DPS.set_up(**arguments)
    assert field in refused.value.field_errors


def test_a_lot_the_successor_does_not_have_is_refused():
    with pytest.raises(InvalidInput, match="not a lot of AP dynamic market") as refused:
        submit_application(successor(), form(lots=(3,), dps_id=SUCCESSOR), application_id=uuid4(),
                           provider_id=uuid4(), now=at(date(2025, 3, 3)))
    assert "lots" in refused.value.field_errors


def test_a_provider_joins_the_successor_separately_and_each_membership_is_its_own():
    first, market = DPS("AP DPS"), successor()
    provider = apply_and_admit(first, date(2025, 3, 3))
    provider.events.clear()
    apply_and_admit(market, date(2025, 3, 4), provider)  # lot 1 again, of the other record
    assert set(provider.memberships) == {(FIRST_DPS_ID, 1), (SUCCESSOR, 1)}
    assert provider.membership(1, SUCCESSOR).ends_on == date(2029, 2, 23)  # the market's own term
    admitted = [e for e in provider.events if isinstance(e, MembershipAdmitted)]
    assert [(e.dps_id, e.lot) for e in admitted] == [(SUCCESSOR, 1)]
    provider.suspend(1, "a concern", at(date(2025, 3, 5)), SUCCESSOR)
    assert provider.membership(1, SUCCESSOR).status.value == "suspended"
    assert provider.membership(1).status.value == "admitted"
    suspended = [e for e in provider.events if isinstance(e, MembershipSuspended)]
    assert [(e.dps_id, e.lot) for e in suspended] == [(SUCCESSOR, 1)]
    assert provider.active_lots(date(2025, 3, 5)) == (1,) and provider.active_lots(date(2025, 3, 5), SUCCESSOR) == ()


def test_a_member_of_a_lot_may_not_apply_for_it_again_on_the_same_record():
    market = successor()
    provider = apply_and_admit(market, date(2025, 3, 3))
    with pytest.raises(Conflict, match="already a member of lot 1"):
        apply_and_admit(market, date(2025, 3, 4), provider)


def test_accepting_a_successors_sla_is_its_own_and_announced_with_the_record():
    first, market = DPS("AP DPS"), successor()
    provider = apply_and_admit(first, date(2025, 3, 3))
    apply_and_admit(market, date(2025, 3, 4), provider)
    market.issue_sla("2", agreed_minimum_window_days=5)
    provider.events.clear()
    provider.accept_sla(market, "2", at(date(2025, 3, 6)))
    assert provider.has_accepted("2", SUCCESSOR) and not provider.has_accepted("2")
    (event,) = provider.events
    assert isinstance(event, SlaAccepted)
    assert (event.dps_id, event.version, event.accepted_at) == (SUCCESSOR, "2", at(date(2025, 3, 6)))


def test_the_first_record_keeps_its_lots_and_a_form_without_a_dps_is_of_the_first():
    assert replace(form(), dps_id=FIRST_DPS_ID) == form()
    assert sorted(DPS("AP DPS").lots) == [1, 2, 3, 4]
