"""Renewed self-declarations (domain/declarations.py and Provider): due 5
working days after the request on the council calendar, bank holidays not
counted; unanswered by the end of that day, the memberships are suspended the
day after (the existing suspension, so membership.suspended is published);
a late answer is kept but reinstates nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from services.provider_registry.domain import (
    DeclarationAnswered,
    DeclarationLapsed,
    DeclarationRequested,
    MembershipStatus,
    MembershipSuspended,
    declaration_due_on,
)
from shared.errors import Conflict, InvalidInput
from tests.unit.provider_registry.test_domain_registry_providers import admitted_provider, at, documents, events_of

ASKED = at(2025, 4, 16)  # Wednesday before Easter: Good Friday and Easter Monday are bank holidays
DUE = date(2025, 4, 25)


def london(year, month, day, hour, minute=0):
    """A moment in London's summer time (UTC+1)."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)


def insured_provider(lots=(1, 2)):
    return admitted_provider(lots=lots, docs=documents(insurance=date(2026, 3, 31)))


def asked_provider(lots=(1, 2)):
    provider = insured_provider(lots=lots)
    provider.request_declaration(ASKED)
    return provider


def statuses(provider):
    return {lot: (m.status, m.automatic) for (_dps, lot), m in provider.memberships.items()}


# ------------------------------------------------------------ the deadline


def test_due_five_working_days_after_the_request_not_counting_bank_holidays():
    assert declaration_due_on(date(2025, 4, 16)) == DUE  # not Wednesday 23 April
    assert declaration_due_on(date(2025, 1, 15)) == date(2025, 1, 22)  # a week with no holiday


def test_a_request_made_at_the_weekend_counts_from_monday():
    assert declaration_due_on(date(2025, 1, 18)) == date(2025, 1, 24)


def test_the_request_is_recorded_with_its_last_day():
    provider = asked_provider()
    request, = provider.declaration_requests
    assert (request.requested_on, request.due_on, request.answered_at) == (date(2025, 4, 16), DUE, None)
    assert events_of(provider, DeclarationRequested)[-1] == DeclarationRequested(provider.id, date(2025, 4, 16), DUE,
                                                                                  provider.name, ASKED)


def test_a_provider_already_asked_is_not_asked_twice_before_its_day():
    provider = asked_provider()
    with pytest.raises(Conflict, match="already asked for, due on 2025-04-25"):
        provider.request_declaration(at(2025, 4, 25))


def test_a_provider_removed_from_every_lot_is_not_asked():
    provider = insured_provider(lots=(1,))
    provider.remove(1, "left the area", at(2025, 3, 1))
    with pytest.raises(Conflict):
        provider.request_declaration(ASKED)
    assert provider.declaration_requests == []


# ------------------------------------------------------------ the answer


def test_answered_on_the_last_day_is_on_time_and_nothing_is_suspended():
    provider = asked_provider()
    provider.answer_declaration(False, True, None, london(2025, 4, 25, 23, 59))
    assert provider.declaration_requests[0].answered_on_time
    provider.events.clear()

    assert provider.lapse_declarations(london(2025, 4, 26, 0, 1)) is False
    assert statuses(provider) == {1: (MembershipStatus.ADMITTED, False), 2: (MembershipStatus.ADMITTED, False)}
    assert provider.events == []


def test_a_declared_change_must_be_described():
    provider = asked_provider()
    with pytest.raises(InvalidInput) as refused:
        provider.answer_declaration(True, True, "  ", at(2025, 4, 17))
    assert refused.value.field == "changes"
    assert provider.declaration_requests[0].answered_at is None

    provider.answer_declaration(False, False, "our insurer has withdrawn cover for lot 2", at(2025, 4, 17))
    answered, = events_of(provider, DeclarationAnswered)
    assert (answered.on_time, answered.selection_criteria_met, answered.changes) == (
        True, False, "our insurer has withdrawn cover for lot 2")


def test_an_answer_nobody_asked_for_is_refused():
    provider = insured_provider()
    with pytest.raises(Conflict, match="no renewed self-declaration is asked for"):
        provider.answer_declaration(False, True, None, ASKED)


# ------------------------------------------------------------ the lapse


def test_unanswered_the_memberships_are_suspended_exactly_after_the_last_day():
    provider = asked_provider()
    assert provider.lapse_declarations(london(2025, 4, 25, 23, 59)) is False  # still the last day in London

    assert provider.lapse_declarations(london(2025, 4, 26, 0, 0)) is True

    assert statuses(provider) == {1: (MembershipStatus.SUSPENDED, False), 2: (MembershipStatus.SUSPENDED, False)}
    suspended = events_of(provider, MembershipSuspended)
    assert [(e.lot, e.automatic) for e in suspended] == [(1, False), (2, False)]
    assert suspended[0].reason.startswith("no renewed self-declaration by 2025-04-25, as asked on 2025-04-16 "
                                          "(5 working days: PCR 2015 regulation 34(25))")
    assert "council's policy" in suspended[0].reason
    lapsed, = events_of(provider, DeclarationLapsed)
    assert (lapsed.due_on, lapsed.reason) == (DUE, suspended[0].reason)
    assert provider.declaration_requests[0].lapsed_on == date(2025, 4, 26)


def test_the_lapse_acts_once():
    provider = asked_provider()
    provider.lapse_declarations(at(2025, 4, 28))
    provider.events.clear()
    assert provider.lapse_declarations(at(2025, 4, 29)) is False
    assert provider.events == []


def test_a_late_answer_is_kept_but_does_not_reinstate():
    provider = asked_provider()
    provider.lapse_declarations(at(2025, 4, 28))
    provider.events.clear()

    provider.answer_declaration(False, True, None, at(2025, 4, 29))

    request = provider.declaration_requests[0]
    assert (request.answered_on, request.answered_on_time) == (date(2025, 4, 29), False)
    assert statuses(provider) == {1: (MembershipStatus.SUSPENDED, False), 2: (MembershipStatus.SUSPENDED, False)}
    assert [type(e) for e in provider.events] == [DeclarationAnswered]
    provider.reinstate(1, "renewed declaration received and checked", at(2025, 4, 30))  # the manager's
    assert provider.membership(1).status is MembershipStatus.ADMITTED


def test_an_answer_after_the_last_day_but_before_the_job_still_lapses():
    provider = asked_provider()
    provider.answer_declaration(False, True, None, at(2025, 4, 26))
    assert provider.lapse_declarations(at(2025, 4, 28)) is True
    assert provider.membership(1).status is MembershipStatus.SUSPENDED


def test_a_compliance_suspension_becomes_the_councils_and_a_managers_stays_as_it_was():
    provider = asked_provider(lots=(1, 2))
    provider.membership(1).suspend("compliance document insurance expired on 2025-03-31", date(2025, 4, 1),
                                    automatic=True)
    provider.suspend(2, "safeguarding concern", at(2025, 4, 17))
    provider.events.clear()

    provider.lapse_declarations(at(2025, 4, 28))

    assert statuses(provider) == {1: (MembershipStatus.SUSPENDED, False), 2: (MembershipStatus.SUSPENDED, False)}
    assert provider.membership(2).reason == "safeguarding concern"
    assert [e.lot for e in events_of(provider, MembershipSuspended)] == [1]


def test_after_a_lapse_the_manager_may_ask_again():
    provider = asked_provider()
    provider.lapse_declarations(at(2025, 4, 28))
    again = provider.request_declaration(at(2025, 5, 1))
    assert again.due_on == date(2025, 5, 9)  # the early May bank holiday (5 May) does not count
