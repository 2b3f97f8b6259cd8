"""Renewed self-declarations through the handlers on the fake unit of work:
the manager asks one provider or every member, the provider answers, and the
daily job suspends a provider that did not answer by its last day (published
as membership.suspended, audited as the job's); a refusal commits nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.provider_registry import handlers
from shared.errors import Conflict, Forbidden, InvalidInput
from tests.unit.provider_registry.test_registry_handlers import MANAGER, admitted, provider_user
from tests.unit.provider_registry.test_registry_handlers import uow as uow  # noqa: F401  (the fixture)

ASKED = datetime(2025, 4, 16, 9, tzinfo=UTC)  # the Wednesday before Easter


def ask(uow, provider_id=None):
    uow.time = ASKED
    return handlers.request_declarations(uow.acting_as(MANAGER), MANAGER, provider_id)


def answer(uow, provider_id, when, **answer):
    uow.time = when
    me = provider_user(provider_id)
    answer = {"exclusion_grounds_apply": False, "selection_criteria_met": True, **answer}
    return handlers.answer_declaration(uow.acting_as(me), me, provider_id, **answer)


def test_the_manager_asks_every_member_and_each_is_audited_with_its_last_day(uow):
    first, second = admitted(uow), admitted(uow, name="Acorn Tutors")
    asked = ask(uow)
    assert {p.id for p in asked} == {first, second} and uow.committed
    assert {(e.action, e.subject_id, e.details["due_on"]) for _, e in uow.audit} == {
        ("provider.declaration_requested", first, "2025-04-25"),
        ("provider.declaration_requested", second, "2025-04-25")}
    # each provider is told what is asked and by when
    assert {(d["provider_id"], d["due_on"]) for d in uow.published("provider.declaration_requested")} == {
        (str(first), "2025-04-25"), (str(second), "2025-04-25")}


def test_asking_everyone_again_skips_those_already_asked(uow):
    first = admitted(uow)
    ask(uow, first)
    second = admitted(uow, name="Acorn Tutors")
    assert [p.id for p in ask(uow)] == [second]


def test_asking_one_provider_already_asked_is_refused_and_commits_nothing(uow):
    provider_id = admitted(uow)
    ask(uow, provider_id)
    uow.audit.clear()
    with pytest.raises(Conflict):
        ask(uow, provider_id)
    assert not uow.committed and uow.audit == []


def test_the_provider_answers_and_the_trail_keeps_its_declaration(uow):
    provider_id = admitted(uow)
    ask(uow, provider_id)
    uow.audit.clear()
    provider = answer(uow, provider_id, datetime(2025, 4, 22, 10, tzinfo=UTC), selection_criteria_met=False,
                      changes="our DBS lead has left; a new one starts in May")
    assert provider.declaration_requests[0].answered_on_time
    (who, entry), = uow.audit
    assert (who, entry.action, entry.details["on_time"], entry.details["selection_criteria_met"]) == (
        f"user-of-{provider_id}", "provider.declaration_answered", True, False)


def test_only_the_provider_itself_answers(uow):
    provider_id = admitted(uow)
    ask(uow, provider_id)
    with pytest.raises(Forbidden):
        handlers.answer_declaration(uow.acting_as(MANAGER), MANAGER, provider_id, exclusion_grounds_apply=False,
                                    selection_criteria_met=True)


def test_a_refused_answer_commits_nothing(uow):
    provider_id = admitted(uow)
    ask(uow, provider_id)
    uow.audit.clear()
    with pytest.raises(InvalidInput):
        answer(uow, provider_id, datetime(2025, 4, 17, tzinfo=UTC), exclusion_grounds_apply=True)
    assert not uow.committed and uow.audit == []


def test_the_daily_job_suspends_the_day_after_the_last_day_and_publishes_it(uow):
    provider_id = admitted(uow, lots=(1,))
    ask(uow, provider_id)
    uow.messages.clear()

    handlers.run_daily_checks(uow, datetime(2025, 4, 25, 2, tzinfo=UTC))
    assert uow.published("membership.suspended") == []

    handlers.run_daily_checks(uow, datetime(2025, 4, 26, 2, tzinfo=UTC))
    uow.commit()  # the runner commits

    suspended, = uow.published("membership.suspended")
    assert (suspended["lot"], suspended["status"]) == (1, "suspended")
    assert suspended["reason"].startswith("no renewed self-declaration by 2025-04-25")
    assert {(who, entry.action) for who, entry in uow.audit} >= {
        ("system:compliance_and_pricing", "provider.declaration_lapsed"),
        ("system:compliance_and_pricing", "membership.suspend")}


def test_a_late_answer_leaves_the_suspension_to_the_manager(uow):
    provider_id = admitted(uow, lots=(1,))
    ask(uow, provider_id)
    handlers.run_daily_checks(uow, datetime(2025, 4, 28, 2, tzinfo=UTC))
    uow.commit()
    uow.messages.clear()

    answer(uow, provider_id, datetime(2025, 4, 28, 9, tzinfo=UTC))
    handlers.run_daily_checks(uow, datetime(2025, 4, 29, 2, tzinfo=UTC))
    uow.commit()

    assert uow.published("membership.reinstated") == []
    provider = handlers.provider_for(uow, MANAGER, provider_id)
    assert provider.membership(1).status == "suspended"
    assert provider.declaration_requests[0].answered_on == date(2025, 4, 28)
