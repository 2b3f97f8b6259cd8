"""The registration rule at its boundaries (services/awards/domain/registration.py):
the one function a call-off, a block place and an off-DPS placement ask."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from services.awards.domain import DeclaredRoll, Pupil, RegistrationRules, Setting, SettingKind, registration_breaches

DECLARED_AT = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
BEFORE, AFTER = DECLARED_AT - timedelta(days=30), DECLARED_AT + timedelta(days=1)
UNREGISTERED = Setting(SettingKind.UNREGISTERED)
FULL_TIME, PART_TIME = Decimal(25), Decimal(12)


def pupil(hours=FULL_TIME, school_age=True, placed_at=None, **facts) -> Pupil:
    return Pupil(Decimal(hours), school_age, placed_at=placed_at, **facts)


def declared(full_time_pupils=0, *, ehcp=False, looked_after=False, sen=False) -> Setting:
    return Setting(SettingKind.UNREGISTERED, DeclaredRoll(full_time_pupils, ehcp, looked_after, sen, DECLARED_AT))


def reasons(child: Pupil, setting: Setting = UNREGISTERED, placed=(), rules=RegistrationRules(), on=None):
    return [str(b) for b in registration_breaches(child, setting, placed, rules, on)]


# --- who counts: full-time pupils of compulsory school age


def test_exactly_18_hours_is_not_full_time_and_more_is():
    four = [pupil()] * 4
    assert reasons(pupil(hours="18"), placed=four) == []
    [reason] = reasons(pupil(hours="18.5"), placed=four)
    assert "would educate 5 pupils of compulsory school age full-time" in reason


def test_the_full_time_hours_are_the_councils_setting():
    assert reasons(pupil(hours="17", looked_after=True), rules=RegistrationRules(full_time_hours=Decimal(16)))


def test_a_looked_after_child_at_12_hours_is_not_full_time_so_the_law_allows_it():
    assert reasons(pupil(PART_TIME, looked_after=True, has_ehcp=True), setting=declared(4)) == []


def test_a_looked_after_child_full_time_is_refused_naming_the_law():
    [reason] = reasons(pupil(looked_after=True))
    assert reason.startswith("this child is looked after")
    assert reason.endswith("(the registration rule (Education Act 1996 s.463; Education and Skills Act 2008 "
                           "s.92): law)")


def test_a_young_person_past_compulsory_school_age_is_not_caught():
    # post-16 (referrals decided it from the date of birth): neither the law nor the count applies
    assert reasons(pupil(school_age=False, has_ehcp=True), setting=declared(10, ehcp=True)) == []
    # nor do post-16 placements count towards the five
    assert reasons(pupil(), placed=[pupil(school_age=False)] * 6) == []


# --- the whole roll: declared by the setting (every commissioner) plus this council's since


def test_the_fifth_full_time_pupil_across_two_commissioners_is_refused():
    # the setting declared 4 (another council's); ours would be the fifth
    [reason] = reasons(pupil(), setting=declared(4))
    assert "with this child the setting would educate 5 pupils of compulsory school age full-time" in reason
    assert "4 declared by the setting on 2026-09-01, 0 placed by the council since, and this child" in reason
    assert ": law)" in reason
    assert reasons(pupil(), setting=declared(3)) == []


def test_our_placements_after_the_declaration_count_and_those_before_are_in_it_already():
    before, after = pupil(placed_at=BEFORE), pupil(placed_at=AFTER)
    assert reasons(pupil(), setting=declared(3), placed=[before]) == []  # the 3 include it
    [reason] = reasons(pupil(), setting=declared(3), placed=[after])
    assert "3 declared by the setting on 2026-09-01, 1 placed by the council since" in reason


def test_part_time_placements_do_not_count_towards_the_five():
    assert reasons(pupil(), setting=declared(2), placed=[pupil(PART_TIME, placed_at=AFTER)] * 5) == []


def test_a_setting_that_declared_a_pupil_with_an_ehcp_or_looked_after_must_register_already():
    [ehcp] = reasons(pupil(), setting=declared(1, ehcp=True))
    assert "already educates full-time a pupil of compulsory school age who has an EHCP" in ehcp
    [looked_after] = reasons(pupil(), setting=declared(1, looked_after=True))
    assert "who is looked after" in looked_after
    # one of ours, placed after the declaration, counts the same
    [ours] = reasons(pupil(), setting=declared(0), placed=[pupil(has_ehcp=True, placed_at=AFTER)])
    assert "already educates" in ours


def test_without_a_declaration_every_running_placement_of_ours_counts():
    [reason] = reasons(pupil(), placed=[pupil(placed_at=BEFORE)] * 4)
    assert "it declared none, 4 placed by the council since" in reason


# --- special educational needs, from the commencement of CWSA 2026 s.43


def test_sen_counts_only_from_the_commencement_date():
    commenced = RegistrationRules(sen_from=date(2027, 1, 1))
    child = pupil(has_sen=True)
    assert reasons(child) == []  # not commenced (no date set)
    assert reasons(child, rules=commenced, on=date(2026, 12, 31)) == []
    [reason] = reasons(child, rules=commenced, on=date(2027, 1, 1))
    assert "this child has special educational needs" in reason
    assert "Children's Wellbeing and Schools Act 2026 s.43" in reason and reason.endswith(": law)")
    [declared_sen] = reasons(pupil(), setting=declared(1, sen=True), rules=commenced, on=date(2027, 1, 4))
    assert "already educates" in declared_sen


# --- the council's stricter policy, named as policy


def test_a_stricter_council_policy_is_named_as_policy_not_law():
    strict = RegistrationRules(unregistered_max_hours=Decimal(18))
    assert reasons(pupil(hours="18"), rules=strict) == []
    [policy] = reasons(pupil(hours="18.5"), rules=strict)
    assert policy.endswith("(the council's limit on hours with an unregistered setting "
                           "(DPS_UNREGISTERED_MAX_HOURS): the council's policy, not law)")
    policy_and_law = reasons(pupil(looked_after=True), rules=strict)
    assert len(policy_and_law) == 2
    assert "the council's policy, not law" in policy_and_law[0] and policy_and_law[1].endswith(": law)")
    assert [b.law for b in registration_breaches(pupil(looked_after=True), UNREGISTERED, (), strict)] == [False,
                                                                                                        True]


# --- who is caught: only an unregistered setting


def test_a_registered_school_or_an_fe_college_is_not_caught():
    child = pupil(looked_after=True, has_ehcp=True, has_sen=True)
    strict = RegistrationRules(sen_from=date(2020, 1, 1), unregistered_max_hours=Decimal(5))
    for kind in (SettingKind.REGISTERED_SCHOOL, SettingKind.FE_OR_TRAINING_PROVIDER):
        assert reasons(child, setting=Setting(kind), placed=[pupil()] * 30, rules=strict) == []
