"""Who hears what, for officers and the manager (issue #18): the officer who acts, offers closed at the
deadline, reviews and the sixth day, applications, off-DPS exceptions and dead letters."""

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from services.notifications import domain
from services.notifications.domain import Audience, Links, Recipient

LINKS = Links("https://dps.example.gov.uk")
TEAM = Recipient(Audience.OFFICER, "team:exclusions", "Exclusions and Reintegration", ("ap@council.example",))
MANAGER = Recipient(Audience.MANAGER, "manager", "DPS manager", ("dps-manager@council.example",))
DEADLINE = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)


def render(notice):
    return domain.template(notice.template).render({**notice.values, "council_name": "Exampleshire"})


@pytest.mark.parametrize("who, addresses", [
    ("jo.bloggs@council.example", ("jo.bloggs@council.example",)),
    ("dev-user", ("ap@council.example",)),  # not an address: the team's mailbox
    ("jo@localhost", ("ap@council.example",)),
    (None, ("ap@council.example",)),
    ("a" * 250 + "@x.example", ("ap@council.example",)),
])
def test_the_officer_who_acts_is_told_at_their_own_address_when_their_sub_is_one(who, addresses):
    reached = domain.officer(TEAM, who)
    assert reached.addresses == addresses
    assert reached.key == TEAM.key  # preferences stay the team's


def test_offers_closed_at_the_deadline_are_ready_to_assess():
    referral_id = uuid4()
    notice = domain.window_closed(TEAM, referral_id=referral_id, lot=1, deadline=DEADLINE, offers=2, invited=3,
                                  links=LINKS)
    message = render(notice)
    assert notice.template == "referral.ready_to_assess"
    assert "closed at 5pm on 10 December 2026 with 2 live offers" in message.body
    assert f"https://dps.example.gov.uk/council/referrals/{referral_id}" in message.body


def test_no_offers_at_the_deadline_says_how_many_were_invited():
    notice = domain.window_closed(TEAM, referral_id=uuid4(), lot=2, deadline=DEADLINE, offers=0, invited=4,
                                  links=LINKS)
    assert notice.template == "referral.no_offers_at_deadline"
    assert "no offer from the 4 provider(s) invited" in render(notice).body


@pytest.mark.parametrize("kind, words", [("due_soon", "is due on 14 January 2027, in 5 school days"),
                                         ("overdue", "was due on 14 January 2027 and has not been recorded")])
def test_a_review_due_soon_or_overdue_goes_to_the_team(kind, words):
    notice = domain.review(TEAM, kind, placement_id=uuid4(), provider_name="Acme Tutors",
                           due_on=date(2027, 1, 14), links=LINKS)
    assert notice.recipient == TEAM and words in render(notice).body


@pytest.mark.parametrize("kind, words", [("at_risk", "from 9 December 2026, in 2 school days"),
                                         ("missed", "was due full-time education from 9 December 2026")])
def test_the_sixth_day_at_risk_or_missed_goes_to_the_team(kind, words):
    notice = domain.sixth_day(TEAM, kind, referral_id=uuid4(), due_on=date(2026, 12, 9), links=LINKS)
    assert words in render(notice).body
    assert not domain.TEMPLATES[notice.template].optional  # the law: it cannot be turned off


@pytest.mark.parametrize("kind, words", [("due", "due for decision by 9 December 2026, in 2 working days"),
                                         ("overdue", "was due for decision by 9 December 2026")])
def test_an_application_due_for_decision_goes_to_the_manager(kind, words):
    notice = domain.application_decision(MANAGER, kind, application_id=uuid4(), applicant="Acme Tutors Ltd",
                                         received_on=date(2026, 11, 25), due_on=date(2026, 12, 9), links=LINKS)
    body = render(notice).body
    assert words in body and "received 25 November 2026" in body


def test_an_off_dps_exception_awaits_the_managers_approval():
    notice = domain.off_dps_exception(MANAGER, team_name="SEND", referral_id=uuid4(), lot=3,
                                      reason="No DPS provider offers hydrotherapy.", links=LINKS)
    assert "off-DPS exception on referral" in render(notice).body
    assert "No DPS provider offers hydrotherapy: " not in render(notice).body


def test_the_manager_hears_when_a_dead_letter_queue_grows_and_not_otherwise():
    notice = domain.dead_letters(MANAGER, service="awards", queue="awards.dead", depth=3, before=1)
    message = render(notice)
    assert message.subject == "Events could not be handled: awards has 3 dead letter(s)"
    assert "2 more event(s)" in message.body
    assert domain.dead_letters(MANAGER, service="awards", queue="awards.dead", depth=1, before=3) is None
    assert domain.dead_letters(MANAGER, service="awards", queue="awards.dead", depth=0, before=0) is None
