"""Who hears what beyond a referral's life (#18): an applicant of its
application's receipt and decision (with the reasons), providers of a
mini-competition on their lot and of winning it, of a compliance document
expiring or expired, and of a renewed self-declaration asked for."""

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from services.notifications import domain
from services.notifications.domain import Audience, Links, Recipient
from services.notifications.domain import provider_rules as rules

LINKS = Links("https://dps.example.gov.uk")


def provider(name="Acme Tutors"):
    return Recipient(Audience.PROVIDER, str(uuid4()), name, ("office@acme.example",))


def render(notice):
    return domain.template(notice.template).render({**notice.values, "council_name": "Exampleshire"})


def test_an_applicant_is_told_at_the_address_its_application_gave_that_it_was_received_and_by_when():
    who = rules.applicant(uuid4(), "Bridges Learning", "lead@bridges.example")
    application_id = uuid4()
    notice = rules.application_received(who, application_id=application_id, lots=[2, 1], submitted_on=date(2025, 1, 15),
                                        due_on=date(2025, 1, 29), links=LINKS)
    assert notice.recipient.addresses == ("lead@bridges.example",)
    body = render(notice).body
    assert "for lots 1 and 2, on 15 January 2025. It will decide by 29 January 2025." in body
    assert f"https://dps.example.gov.uk/provider/applications/{application_id}" in body


def test_an_admission_names_the_lots_and_the_reasons_for_any_left_out():
    who = rules.applicant(uuid4(), "Bridges Learning", "lead@bridges.example")
    whole = render(rules.application_decided(who, application_id=uuid4(), lots=[1], admitted_lots=[1], reasons=[],
                                             links=LINKS))
    assert whole.subject == "Your application is decided: admitted to lot 1"
    assert "not admitted" not in whole.body
    partly = render(rules.application_decided(
        who, application_id=uuid4(), lots=[1, 2, 3], admitted_lots=[3, 1],
        reasons=[{"lot": 2, "question_id": "insured", "text": "No insurance for lot 2."}], links=LINKS))
    assert "you are admitted to lots 1 and 3" in partly.body
    assert "not admitted to the other lots you applied for, for these reasons:\n\n- lot 2, question insured: " \
           "No insurance for lot 2." in partly.body


def test_a_rejection_gives_every_reason_and_cannot_be_turned_off():
    who = rules.applicant(uuid4(), "Bridges Learning", "lead@bridges.example")
    notice = rules.application_decided(who, application_id=uuid4(), lots=[1, 2], admitted_lots=[], links=LINKS,
                                       reasons=[{"lot": 2, "question_id": None, "text": "outside the area"},
                                                {"lot": 1, "question_id": "dbs", "text": "no DBS checks"}])
    message = render(notice)
    assert notice.template == "application.rejected" and "not successful" in message.subject
    assert "- lot 1, question dbs: no DBS checks.\n- lot 2: outside the area." in message.body
    assert domain.wanted(notice, {"application.rejected"})  # the law needs it: turning it off changes nothing


def test_every_invited_provider_hears_of_a_mini_competition_with_its_places_period_and_deadline():
    invited = [provider("Acme Tutors"), provider("Bridge College")]
    opportunity_id = uuid4()
    notices = rules.mini_competition_invited(
        invited, opportunity_id=opportunity_id, lot=2, lot_name="Part-time education", places=1,
        contract_start=date(2027, 9, 1), contract_end=date(2028, 8, 31),
        deadline=datetime(2027, 5, 14, 16, 0, tzinfo=UTC), links=LINKS)
    assert [n.recipient for n in notices] == invited
    message = render(notices[0])
    assert message.subject == "New mini-competition on lot 2: bids by 5pm on 14 May 2027"
    assert "1 place, from 1 September 2027 to 31 August 2028" in message.body
    assert f"/provider/mini-competitions/{opportunity_id}" in message.body


def test_the_winner_of_a_mini_competition_is_told_with_the_standstill():
    message = render(rules.block_contract_awarded(
        provider(), opportunity_id=uuid4(), lot=1, lot_name="Full-time education", places=4,
        contract_start=date(2027, 9, 1), contract_end=date(2028, 8, 31), standstill_ends_on=date(2027, 6, 10),
        links=LINKS))
    assert message.subject == "Your bid was successful (lot 1)"
    assert "4 places, from 1 September 2027" in message.body
    assert "standstill period runs to 10 June 2027" in message.body


@pytest.mark.parametrize("days_left, words", [(30, "in 30 days"), (1, "in 1 day"), (0, "in less than a day")])
def test_a_document_expiring_says_which_when_and_in_how_many_days(days_left, words):
    notice = rules.document_expiring(provider(), kind="dbs_confirmation", expires_on=date(2027, 1, 31),
                                     days_left=days_left, links=LINKS)
    message = render(notice)
    assert message.subject == "Your confirmation of enhanced DBS checks expires on 31 January 2027"
    assert words in message.body
    assert not domain.wanted(notice, {"compliance_document.expiring"})  # a warning the provider may turn off


def test_a_document_expired_says_the_memberships_are_suspended_and_cannot_be_turned_off():
    notice = rules.document_expired(provider(), kind="insurance", expires_on=date(2027, 1, 31), links=LINKS)
    message = render(notice)
    assert message.subject == "Your insurance certificate has expired"
    assert "expired on 31 January 2027" in message.body and "suspended" in message.body
    assert domain.wanted(notice, {"compliance_document.expired"})


def test_a_renewed_declaration_asked_for_names_its_last_day_and_the_regulation():
    notice = rules.declaration_requested(provider(), due_on=date(2025, 4, 25),
                                         regulation="PCR 2015 regulation 34(25)", links=LINKS)
    message = render(notice)
    assert message.subject == "A renewed self-declaration is asked for, by 25 April 2025"
    assert "(PCR 2015 regulation 34(25)). Give it by 25 April 2025." in message.body
    assert domain.wanted(notice, {"declaration.requested"})
