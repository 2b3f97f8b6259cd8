"""The DPS, its qualification questions, applications to join it and the
manager's decision on them."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.provider_registry.domain import (
    DPS,
    Application,
    ApplicationForm,
    ApplicationStatus,
    ComplianceDocument,
    DocumentKind,
    DPSStatus,
    Inspectorate,
    LotApplication,
    Organisation,
    PassFailQuestion,
    PricingLine,
    Reason,
    Registration,
    SafeguardingLead,
    ScoredQuestion,
    SettingKind,
    Unit,
    assess_answers,
    check_lot,
    overdue_applications,
    submit_application,
)
from shared.calendar import council_date
from shared.errors import Conflict, InvalidInput

UTC = UTC


def at(year, month, day, hour=12, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


NOW = at(2025, 1, 15)  # a Wednesday in term

INSURED = PassFailQuestion("insured", "Do you hold public liability insurance of at least 5m pounds?")
CONVICTED = PassFailQuestion("convicted", "Has the organisation been convicted of a relevant offence?",
                             pass_answer=False)
CURRICULUM = ScoredQuestion("curriculum", "Describe your curriculum and how it meets needs.", pass_mark=3)
PASSING = {"insured": True, "convicted": False, "curriculum": 4}


def make_dps(**kwargs):
    dps = DPS("Alternative Provision DPS", **kwargs)
    dps.set_questions(1, [INSURED, CONVICTED, CURRICULUM])
    dps.set_questions(2, [INSURED])
    return dps


def line(description="Group place per week", unit=Unit.WEEK, ratio="1:4", price=45_000):
    return PricingLine(description, unit, ratio, price)


def lot(number=1, answers=None, lines=None, capacity=6):
    if answers is None:
        answers = PASSING if number == 1 else {"insured": True}
    return LotApplication(number, dict(answers), tuple(lines or [line()]), capacity)


def documents(expires_on=date(2026, 1, 31)):
    return tuple(ComplianceDocument(kind, f"{kind.value}.pdf", expires_on) for kind in DocumentKind)


def form(lots=None, **changes):
    fields = dict(
        organisation=Organisation("Bridges Learning Ltd", "1 High Street, Newtown", "NT1 2AB", "01234567"),
        registration=Registration(SettingKind.REGISTERED_SCHOOL, "123456", inspectorate=Inspectorate.OFSTED,
                     last_inspection_outcome="Good"),
        safeguarding_lead=SafeguardingLead("Sam Okafor", "sam@bridges.example"),
        enhanced_dbs_confirmed=True,
        documents=documents(),
        lots=(lot(1),) if lots is None else tuple(lots),
        sla_version="1",
    )
    fields.update(changes)
    return ApplicationForm(**fields)


def submit(the_form=None, dps=None, now=NOW, **kwargs):
    return submit_application(dps or make_dps(), the_form or form(), application_id=uuid4(),
                              provider_id=uuid4(), now=now, **kwargs)


def refusal(the_form, dps=None, now=NOW) -> dict:
    with pytest.raises(InvalidInput) as refused:
        submit(the_form, dps, now)
    return refused.value.field_errors


# ------------------------------------------------------------------ the DPS


def test_term_runs_seven_years_from_1_april_2024_to_31_march_2031_but_the_statutory_end_comes_first():
    dps = DPS("AP DPS")
    assert dps.start == date(2024, 4, 1)
    assert dps.term_ends_on == date(2031, 3, 31)
    assert dps.statutory_end == date(2029, 2, 23)  # SI 2024/716 regulation 5(4)
    assert dps.ends_on == date(2029, 2, 23)
    assert not dps.is_open(date(2024, 3, 31))
    assert dps.is_open(date(2024, 4, 1))
    assert dps.is_open(date(2029, 2, 23))
    assert not dps.is_open(date(2029, 2, 24))


def test_term_starting_on_29_february_ends_on_28_february():
    assert DPS("AP DPS", start=date(2024, 2, 29), term_years=1).ends_on == date(2025, 2, 28)


def test_closed_dps_is_not_open_and_cannot_close_twice():
    dps = DPS("AP DPS")
    dps.close(NOW)
    assert dps.status is DPSStatus.CLOSED
    assert not dps.is_open(date(2025, 1, 15))
    with pytest.raises(Conflict):
        dps.close(NOW)


def test_dps_needs_a_name_and_a_term_of_whole_years():
    with pytest.raises(InvalidInput) as refused:
        DPS(" ", term_years=0)
    assert set(refused.value.field_errors) == {"name", "term_years"}


@pytest.mark.parametrize("value", [0, 5, -1, True, "1", 1.0, None])
def test_unknown_lot_is_refused(value):
    with pytest.raises(InvalidInput) as refused:
        check_lot(value)
    assert refused.value.field == "lot"


def test_lots_are_one_to_four_with_their_council_names():
    dps = DPS("AP DPS")
    assert sorted(dps.lots) == [1, 2, 3, 4]
    assert dps.lots[4].name == "Post-16 support and preparation for adulthood"


def test_pass_mark_outside_the_score_range_is_refused():
    with pytest.raises(InvalidInput) as refused:
        DPS("AP DPS").set_questions(1, [ScoredQuestion("q", "text", pass_mark=6)])
    assert "questions.0.pass_mark" in refused.value.field_errors


def test_question_asked_twice_in_a_lot_is_refused():
    with pytest.raises(InvalidInput) as refused:
        DPS("AP DPS").set_questions(1, [INSURED, INSURED])
    assert "questions.1.id" in refused.value.field_errors


def test_refused_questions_leave_the_lot_unchanged():
    dps = make_dps()
    with pytest.raises(InvalidInput):
        dps.set_questions(1, [ScoredQuestion("q", "", pass_mark=1, min_score=3, max_score=2)])
    assert dps.questions_for(1) == (INSURED, CONVICTED, CURRICULUM)


def test_issuing_the_current_sla_version_again_is_a_conflict():
    dps = DPS("AP DPS")
    dps.issue_sla("2")
    assert dps.sla_version == "2"
    with pytest.raises(Conflict):
        dps.issue_sla("2")
    with pytest.raises(InvalidInput):
        dps.issue_sla("")


# ------------------------------------------------------ the council's dates


def test_late_evening_in_summer_is_the_next_day_in_england():
    assert council_date(at(2025, 6, 5, 23, 30)) == date(2025, 6, 6)
    assert council_date(at(2025, 12, 5, 23, 30)) == date(2025, 12, 5)


def test_an_application_late_on_a_summer_evening_is_submitted_on_the_councils_next_day():
    application = submit_application(make_dps(), form(), application_id=uuid4(), provider_id=uuid4(),
                                      now=at(2025, 6, 5, 23, 30))
    assert application.deadline.submitted_on == date(2025, 6, 6)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        council_date(datetime(2025, 1, 1, 12))


# ---------------------------------------------------------- the questions


def test_pass_fail_question_passes_on_the_passing_answer():
    results = assess_answers([INSURED, CONVICTED], {"insured": True, "convicted": False}).results
    assert [r.passed for r in results] == [True, True]


def test_pass_fail_question_fails_on_the_other_answer_with_a_reason():
    result, = assess_answers([CONVICTED], {"convicted": True}).results
    assert not result.passed
    assert result.reason == "answered yes; no is required to pass"


def test_scored_question_passes_at_the_pass_mark_and_fails_below_it():
    assert assess_answers([CURRICULUM], {"curriculum": 3}).passed
    result, = assess_answers([CURRICULUM], {"curriculum": 2}).results
    assert (result.passed, result.score) == (False, 2)
    assert result.reason == "score 2 is below the pass mark of 3"


@pytest.mark.parametrize("answer, reason", [
    (6, "invalid answer: the score 6 is outside the range 0 to 5"),
    (3.0, "invalid answer: the score must be a whole number"),
    (True, "invalid answer: the score must be a whole number"),
    ("4", "invalid answer: the score must be a whole number"),
])
def test_invalid_score_fails_its_question(answer, reason):
    result, = assess_answers([CURRICULUM], {"curriculum": answer}).results
    assert (result.passed, result.reason) == (False, reason)


def test_missing_answer_fails_its_question():
    assessment = assess_answers([INSURED, CURRICULUM], {"insured": True})
    assert not assessment.passed
    assert [(f.question_id, f.reason) for f in assessment.failures] == [("curriculum", "no answer given")]


def test_lot_passes_only_when_every_question_passes():
    assert assess_answers([INSURED, CONVICTED, CURRICULUM], PASSING).passed
    assert not assess_answers([INSURED, CONVICTED, CURRICULUM], {**PASSING, "insured": False}).passed
    assert assess_answers([], {}).passed  # a lot without questions has nothing to fail


@given(low=st.integers(-5, 5), span=st.integers(1, 10), data=st.data())
def test_score_passes_exactly_when_in_range_and_at_or_above_the_pass_mark(low, span, data):
    pass_mark = data.draw(st.integers(low, low + span))
    score = data.draw(st.integers(low - 3, low + span + 3))
    question = ScoredQuestion("q", "text", pass_mark=pass_mark, min_score=low, max_score=low + span)
    assert assess_answers([question], {"q": score}).passed == (low <= score <= low + span and score >= pass_mark)


# ------------------------------------------------------ submitting the form


def test_complete_application_is_pending_with_its_questions_kept():
    dps = make_dps()
    application = submit(form(lots=[lot(1), lot(2)]), dps)
    dps.set_questions(1, [INSURED])  # later changes do not reach it
    assert application.status is ApplicationStatus.PENDING
    assert application.lots_applied_for == (1, 2)
    assert application.questions[1] == (INSURED, CONVICTED, CURRICULUM)
    assert application.deadline.submitted_on == date(2025, 1, 15)


@pytest.mark.parametrize("urn", ["12345", "1234567", "12345a", " 123456", "\u0661\u0662\u0663\u0664\u0665\u0666"])
def test_urn_that_is_not_six_digits_is_refused(urn):
    registration = Registration(SettingKind.REGISTERED_SCHOOL, urn, inspectorate=Inspectorate.OFSTED)
    assert refusal(form(registration=registration)) == {"registration.urn": ["the URN must be exactly six digits"]}


def test_registered_school_without_urn_or_inspectorate_is_refused():
    errors = refusal(form(registration=Registration(SettingKind.REGISTERED_SCHOOL)))
    assert errors == {"registration.urn": ["a registered school must give its DfE URN"],
                      "registration.inspectorate": ["a registered school must name its inspectorate: ofsted or isi"]}


def test_unregistered_setting_has_no_urn():
    assert submit(form(registration=Registration(SettingKind.UNREGISTERED)))
    errors = refusal(form(registration=Registration(SettingKind.UNREGISTERED, "123456")))
    assert errors == {"registration.urn": ["an unregistered setting is not a school and has no URN"]}


def test_registration_given_as_plain_strings_is_accepted():
    assert submit(form(registration=Registration("registered_school", "100234", inspectorate="isi",
                                                 last_inspection_outcome="Excellent")))


def test_document_already_expired_at_submission_is_refused_naming_it():
    expired = ComplianceDocument(DocumentKind.INSURANCE, "insurance.pdf", date(2025, 1, 14))
    others = tuple(d for d in documents() if d.kind is not DocumentKind.INSURANCE)
    errors = refusal(form(documents=(expired, *others)))
    assert errors == {"documents.insurance.expires_on": ["already expired on 2025-01-14"]}


def test_document_expiring_on_the_day_of_submission_is_still_valid():
    assert submit(form(documents=documents(expires_on=date(2025, 1, 15))))


def test_every_compliance_document_is_required():
    errors = refusal(form(documents=documents()[:1]))
    assert set(errors) == {"documents.dbs_confirmation", "documents.safeguarding_policy"}


def test_enhanced_dbs_checks_must_be_confirmed():
    assert set(refusal(form(enhanced_dbs_confirmed=False))) == {"enhanced_dbs_confirmed"}


@pytest.mark.parametrize("lots, reason", [
    ((), "apply for at least one lot"),
    ((lot(5),), "unknown lot 5; the lots are 1 to 4"),
    ((lot(1), lot(1)), "lot 1 is applied for twice"),
])
def test_lots_applied_for_must_be_known_and_distinct(lots, reason):
    assert refusal(form(lots=lots)) == {"lots": [reason]}


@pytest.mark.parametrize("price, reason", [
    (0, "the maximum price must be more than zero"),
    (-100, "the maximum price must be more than zero"),
    (4500.5, "the maximum price must be in whole pence"),
    (4500.0, "the maximum price must be in whole pence"),
    (Decimal("4500"), "the maximum price must be in whole pence"),
    (True, "the maximum price must be in whole pence"),
    (None, "the maximum price must be in whole pence"),
])
def test_price_that_is_not_positive_whole_pence_is_refused(price, reason):
    errors = refusal(form(lots=[lot(1, lines=[line(price=price)])]))
    assert errors == {"lots.1.pricing_lines.0.maximum_price_pence": [reason]}


@pytest.mark.parametrize("ratio", ["1:1", "1:4", "2:1", "1:12", "group"])
def test_staffing_ratios_staff_to_children_or_group_are_accepted(ratio):
    assert submit(form(lots=[lot(1, lines=[line(ratio=ratio)])]))


@pytest.mark.parametrize("ratio", ["one to one", "1:0", "0:1", "1-1", "", "Group ", None])
def test_other_staffing_ratios_are_refused(ratio):
    assert set(refusal(form(lots=[lot(1, lines=[line(ratio=ratio)])]))) == {"lots.1.pricing_lines.0.staffing_ratio"}


@pytest.mark.parametrize("unit", ["hour", "session", "day", "week", "term", Unit.HOUR])
def test_units_of_hour_session_day_week_and_term_are_accepted(unit):
    assert submit(form(lots=[lot(1, lines=[line(unit=unit)])]))


def test_other_units_are_refused():
    assert set(refusal(form(lots=[lot(1, lines=[line(unit="fortnight")])]))) == {"lots.1.pricing_lines.0.unit"}


def test_lot_needs_at_least_one_pricing_line_with_distinct_descriptions():
    empty = LotApplication(1, dict(PASSING), (), 6)
    assert set(refusal(form(lots=[empty]))) == {"lots.1.pricing_lines"}
    twice = [line("1:1 tuition per hour", Unit.HOUR, "1:1", 5_000),
             line("1:1 Tuition per hour ", Unit.HOUR, "1:1", 6_000)]
    assert set(refusal(form(lots=[lot(1, lines=twice)]))) == {"lots.1.pricing_lines.1.description"}


@pytest.mark.parametrize("capacity", [-1, 1.5, None, True])
def test_capacity_below_zero_or_not_whole_places_is_refused(capacity):
    assert set(refusal(form(lots=[lot(1, capacity=capacity)]))) == {"lots.1.capacity"}


def test_capacity_of_zero_places_is_accepted():
    assert submit(form(lots=[lot(1, capacity=0)])).lot(1).capacity == 0


def test_every_question_of_the_lot_must_be_answered_at_submission():
    errors = refusal(form(lots=[lot(1, answers={"insured": True, "convicted": False})]))
    assert errors == {"lots.1.answers.curriculum": ["an answer is required"]}


def test_answer_to_a_question_the_lot_does_not_ask_is_refused():
    errors = refusal(form(lots=[lot(2, answers={"insured": True, "curriculum": 4})]))
    assert errors == {"lots.2.answers.curriculum": ["not a question of lot 2"]}


def test_invalid_answers_are_refused_but_failing_answers_are_accepted():
    assert set(refusal(form(lots=[lot(1, answers={**PASSING, "curriculum": 9})]))) == {"lots.1.answers.curriculum"}
    assert set(refusal(form(lots=[lot(1, answers={**PASSING, "insured": "yes"})]))) == {"lots.1.answers.insured"}
    assert submit(form(lots=[lot(1, answers={**PASSING, "curriculum": 1})]))


def test_organisation_and_safeguarding_lead_details_are_checked():
    errors = refusal(form(
        organisation=Organisation("", "", "not a postcode", companies_house_number="123", charity_number="12"),
        safeguarding_lead=SafeguardingLead("", "sam at bridges")))
    assert set(errors) == {"organisation.name", "organisation.address", "organisation.postcode",
                           "organisation.companies_house_number", "organisation.charity_number",
                           "safeguarding_lead.name", "safeguarding_lead.email"}


def test_charity_without_companies_house_number_is_accepted():
    org = Organisation("Newtown Youth Trust", "2 Mill Lane", "nt3 9zz", charity_number="1123456")
    assert submit(form(organisation=org))


def test_every_refused_field_is_named_in_one_refusal():
    errors = refusal(form(enhanced_dbs_confirmed=False, lots=[lot(1, capacity=-1, lines=[line(price=0)]), lot(7)]))
    assert set(errors) == {"enhanced_dbs_confirmed", "lots.1.capacity",
                           "lots.1.pricing_lines.0.maximum_price_pence", "lots"}


def test_application_must_accept_the_current_sla_version():
    assert refusal(form(sla_version="0")) == {"sla_version": ["the current service level agreement is version 1"]}


def test_second_application_while_one_is_pending_is_a_conflict():
    with pytest.raises(Conflict):
        submit(pending_application_exists=True)


def test_application_for_a_lot_the_provider_is_already_member_of_is_a_conflict():
    with pytest.raises(Conflict, match="already a member of lot 1"):
        submit(form(lots=[lot(1), lot(2)]), member_lots={1, 3})


def test_no_applications_while_the_dps_is_closed_or_outside_its_term():
    closed = make_dps()
    closed.close(NOW)
    with pytest.raises(Conflict):
        submit(dps=closed)
    with pytest.raises(Conflict):
        submit(now=at(2024, 3, 31))


def test_rejected_provider_may_apply_again():
    first = submit(form(lots=[lot(1, answers={**PASSING, "curriculum": 1})]))
    first.reject([], NOW)
    again = submit_application(make_dps(), form(), application_id=uuid4(), provider_id=first.provider_id,
                               now=NOW + timedelta(days=1), pending_application_exists=False)
    assert again.status is ApplicationStatus.PENDING


# ---------------------------------------------------- the decision deadline


def early_dps():
    return make_dps(start=date(2023, 4, 1))


def test_deadline_is_ten_working_days_skipping_christmas_and_new_year():
    # Submitted Thu 21 Dec 2023. Working days: Fri 22 (1); 25, 26 Dec bank holidays;
    # Wed 27 (2), Thu 28 (3), Fri 29 (4); Mon 1 Jan bank holiday; Tue 2 (5), Wed 3 (6),
    # Thu 4 (7), Fri 5 (8), Mon 8 (9), Tue 9 Jan (10).
    application = submit(dps=early_dps(), now=at(2023, 12, 21))
    assert application.deadline.due_on == date(2024, 1, 9)


def test_extension_gives_fifteen_working_days_with_the_reason_recorded():
    application = submit(dps=early_dps(), now=at(2023, 12, 21))
    application.extend_deadline("references still to come from two local authorities", at(2024, 1, 5))
    # Five more working days after Tue 9 Jan: Wed 10 ... Tue 16 Jan.
    assert application.deadline.due_on == date(2024, 1, 16)
    assert application.deadline.extension_reason == "references still to come from two local authorities"
    assert application.deadline.extended_at == at(2024, 1, 5)


def test_deadline_over_easter_and_early_may_skips_three_bank_holidays():
    # Submitted Thu 17 Apr 2025. Good Friday 18 and Easter Monday 21 Apr are not working days:
    # Tue 22 (1) ... Fri 25 (4), Mon 28 (5) ... Fri 2 May (9); Mon 5 May bank holiday; Tue 6 May (10).
    application = submit(now=at(2025, 4, 17))
    assert application.deadline.due_on == date(2025, 5, 6)
    application.extend_deadline("site visit needed", at(2025, 4, 30))
    assert application.deadline.due_on == date(2025, 5, 13)


def test_submission_at_the_weekend_counts_from_the_monday():
    # Sat 11 Jan 2025: Mon 13 (1) ... Fri 17 (5), Mon 20 (6) ... Fri 24 Jan (10).
    assert submit(now=at(2025, 1, 11)).deadline.due_on == date(2025, 1, 24)


def test_submission_after_midnight_in_summer_time_counts_from_the_english_date():
    application = submit(now=at(2025, 6, 5, 23, 30))  # 00:30 on Fri 6 June in England
    assert application.deadline.submitted_on == date(2025, 6, 6)


def test_decision_periods_are_configurable():
    application = submit(dps=make_dps(decision_working_days=5, extended_decision_working_days=8))
    assert application.deadline.due_on == date(2025, 1, 22)  # Wed 15 + 5 working days


def test_application_is_overdue_the_day_after_its_due_date():
    application = submit(now=at(2025, 4, 17))
    assert not application.is_overdue(date(2025, 5, 6))
    assert application.is_overdue(date(2025, 5, 7))


def test_decided_application_is_never_overdue():
    application = submit(now=at(2025, 4, 17))
    application.admit([1], at(2025, 5, 9))
    assert not application.is_overdue(date(2025, 6, 1))


def test_overdue_applications_are_listed_longest_overdue_first():
    older, newer, on_time = submit(now=at(2025, 1, 6)), submit(now=at(2025, 1, 8)), submit(now=at(2025, 1, 30))
    assert overdue_applications([on_time, newer, older], date(2025, 1, 31)) == [older, newer]


def test_deadline_extends_only_once():
    application = submit()
    application.extend_deadline("awaiting references", NOW)
    with pytest.raises(Conflict):
        application.extend_deadline("still awaiting references", NOW)
    assert application.deadline.extension_reason == "awaiting references"


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_extension_without_a_reason_is_refused(reason):
    application = submit()
    with pytest.raises(InvalidInput) as refused:
        application.extend_deadline(reason, NOW)
    assert refused.value.field == "reason"
    assert not application.deadline.is_extended


def test_extension_after_the_decision_fell_due_is_a_conflict():
    application = submit(now=at(2025, 4, 17))
    with pytest.raises(Conflict):
        application.extend_deadline("too late", at(2025, 5, 7))


def test_decided_application_cannot_be_extended():
    application = submit()
    application.admit([1], NOW)
    with pytest.raises(Conflict):
        application.extend_deadline("why", NOW)


# ------------------------------------------------------------ the decision


def two_lot_application(lot1_answers=None, lot2_answers=None) -> Application:
    return submit(form(lots=[lot(1, answers=lot1_answers), lot(2, answers=lot2_answers)]))


def test_admitting_to_every_lot_applied_for():
    application = two_lot_application()
    decision = application.admit([2, 1], NOW)
    assert application.status is ApplicationStatus.ADMITTED
    assert decision.admitted_lots == application.admitted_lots == (1, 2)
    assert decision.reasons == ()
    assert decision.on_time and decision.decided_on == date(2025, 1, 15)


def test_admitting_to_a_lot_not_applied_for_is_refused():
    application = two_lot_application()
    with pytest.raises(InvalidInput) as refused:
        application.admit([1, 2, 3], NOW)
    assert refused.value.field_errors == {"lots": ["lot 3 was not applied for"]}
    assert application.status is ApplicationStatus.PENDING


def test_admitting_to_no_lot_is_refused():
    with pytest.raises(InvalidInput):
        two_lot_application().admit([], NOW)


def test_admitting_to_a_lot_whose_question_failed_is_refused_naming_the_question():
    application = submit(form(lots=[lot(1, answers={**PASSING, "curriculum": 2})]))
    with pytest.raises(InvalidInput) as refused:
        application.admit([1], NOW)
    assert refused.value.field_errors == {
        "lots": ["lot 1 cannot be admitted: question curriculum: score 2 is below the pass mark of 3"]}
    assert application.status is ApplicationStatus.PENDING


def test_partial_admission_records_why_the_failed_lot_was_not_admitted():
    application = two_lot_application(lot2_answers={"insured": False})
    decision = application.admit([1], NOW)
    assert decision.admitted_lots == (1,)
    assert decision.reasons == (Reason(2, "insured", "answered no; yes is required to pass"),)


def test_lot_left_out_that_passed_needs_the_managers_reason():
    application = two_lot_application()
    with pytest.raises(InvalidInput) as refused:
        application.admit([1], NOW)
    assert refused.value.field_errors == {"reasons": ["give a reason for not admitting to lot 2"]}
    decision = application.admit([1], NOW, reasons=[Reason(2, None, "references not satisfactory")])
    assert decision.reasons == (Reason(2, None, "references not satisfactory"),)


def test_rejection_gives_the_failed_questions_reasons_and_the_managers_own():
    application = two_lot_application(lot1_answers={"insured": False, "convicted": True, "curriculum": 1},
                                      lot2_answers={"insured": False})
    decision = application.reject([Reason(1, "curriculum", "no plan for reintegration")], NOW)
    assert application.status is ApplicationStatus.REJECTED
    assert decision.admitted_lots == ()
    assert set(decision.reasons) == {
        Reason(1, "insured", "answered no; yes is required to pass"),
        Reason(1, "convicted", "answered yes; no is required to pass"),
        Reason(1, "curriculum", "no plan for reintegration"),  # the manager's words replace the score's
        Reason(2, "insured", "answered no; yes is required to pass"),
    }


def test_rejecting_an_application_that_passed_needs_a_reason_for_each_lot():
    application = two_lot_application()
    with pytest.raises(InvalidInput) as refused:
        application.reject([Reason(1, "curriculum", "evidence did not match the answer")], NOW)
    assert refused.value.field_errors == {"reasons": ["give a reason for not admitting to lot 2"]}
    assert application.status is ApplicationStatus.PENDING


@pytest.mark.parametrize("reason, field", [
    (Reason(3, None, "x"), "reasons.0.lot"),
    (Reason(2, "curriculum", "x"), "reasons.0.question_id"),
    (Reason(1, "insured", " "), "reasons.0.text"),
])
def test_reasons_must_name_a_lot_and_question_applied_for(reason, field):
    application = two_lot_application(lot1_answers={**PASSING, "insured": False}, lot2_answers={"insured": False})
    with pytest.raises(InvalidInput) as refused:
        application.reject([reason], NOW)
    assert field in refused.value.field_errors


def test_reason_for_a_lot_being_admitted_is_refused():
    application = two_lot_application(lot2_answers={"insured": False})
    with pytest.raises(InvalidInput) as refused:
        application.admit([1], NOW, reasons=[Reason(1, None, "fine")])
    assert "reasons.0.lot" in refused.value.field_errors


@pytest.mark.parametrize("first, second", [("admit", "admit"), ("admit", "reject"), ("reject", "admit"),
                                           ("reject", "reject")])
def test_decision_on_an_application_that_is_not_pending_is_a_conflict(first, second):
    application = two_lot_application(lot2_answers={"insured": False})
    decide = {"admit": lambda: application.admit([1], NOW),
              "reject": lambda: application.reject([Reason(1, None, "capacity evidence missing")], NOW)}
    decide[first]()
    decision = application.decision
    with pytest.raises(Conflict):
        decide[second]()
    assert application.decision is decision


def test_late_decision_is_recorded_as_not_on_time():
    application = submit(now=at(2025, 4, 17))
    assert not application.admit([1], at(2025, 5, 7)).on_time


def test_councils_mark_replaces_the_score_given_with_the_answer():
    application = submit(form(lots=[lot(1, answers={**PASSING, "curriculum": 2})]))
    application.mark(1, "curriculum", 3)
    assert application.assessment(1).passed
    application.mark(1, "curriculum", 1)
    assert application.assessment(1).failures[0].reason == "score 1 is below the pass mark of 3"


@pytest.mark.parametrize("lot_number, question, score, field", [
    (1, "insured", 1, "question_id"),  # pass/fail questions are not marked
    (1, "curriculum", 6, "score"),
    (2, "curriculum", 3, "lot"),
    (1, "unknown", 3, "question_id"),
])
def test_invalid_marks_are_refused(lot_number, question, score, field):
    application = submit()
    with pytest.raises(InvalidInput) as refused:
        application.mark(lot_number, question, score)
    assert refused.value.field == field
    assert application.marks == {}
