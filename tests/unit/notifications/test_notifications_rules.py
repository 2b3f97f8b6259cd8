"""Who hears what, the templates and a delivery's life: the domain, directly."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from services.notifications import domain
from services.notifications.domain import Audience, Delivery, DeliveryStatus, Links, Recipient

LINKS = Links("https://dps.example.gov.uk/")
DEADLINE = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)


def provider(name="Acme Tutors", *addresses):
    return Recipient(Audience.PROVIDER, str(uuid4()), name, addresses or ("office@acme.example",))


def referral(**changes):
    values = dict(referral_id=uuid4(), lot=1, lot_name="Full-time education", deadline=DEADLINE,
                  hours_per_week=Decimal("25.00"), start_date=date(2027, 1, 4))
    return domain.PublishedReferral(**{**values, **changes})


def render(notice):
    return domain.template(notice.template).render({**notice.values, "council_name": "Exampleshire"})


def test_every_invited_provider_hears_of_a_new_referral_with_what_is_asked_and_the_deadline():
    invited = [provider("Acme Tutors"), provider("Bridge College")]
    notices = domain.new_referral(referral(), invited, LINKS)
    assert [n.recipient for n in notices] == invited
    message = render(notices[0])
    assert message.subject == "New referral on lot 1: offers by 5pm on 10 December 2026"
    assert "What is asked: full-time education, 25 hours a week, from 4 January 2027." in message.body
    assert f"https://dps.example.gov.uk/provider/referrals/{notices[0].values['link'].rsplit('/', 1)[1]}" \
        in message.body


def test_a_deadline_is_written_in_the_councils_time_with_minutes_only_when_there_are_some():
    assert domain.when(datetime(2026, 6, 10, 11, 30, tzinfo=UTC)) == "12:30pm on 10 June 2026"  # BST
    assert domain.when(datetime(2026, 12, 10, 9, 0, tzinfo=UTC)) == "9am on 10 December 2026"


def test_a_message_never_has_a_place_for_a_childs_identity():
    identity = {"name", "first_name", "surname", "date_of_birth", "dob", "upn", "address", "postcode"}
    for template in domain.TEMPLATES.values():
        assert not template.fields() & identity, template.name


def test_a_template_value_missing_fails_the_render_and_names_it():
    with pytest.raises(domain.MissingValue, match="'deadline'"):
        domain.template("referral.new").render({"provider_name": "A", "lot": 1, "lot_name": "x", "asked": "y",
                                                "link": "z", "council_name": "c"})


def test_only_optional_messages_can_be_turned_off():
    reminder = domain.reminders(referral(), [provider()], LINKS)[0]
    new = domain.new_referral(referral(), [provider()], LINKS)[0]
    assert not domain.wanted(reminder, {"referral.reminder"})
    assert domain.wanted(new, {"referral.new"})  # the law needs it: turning it off changes nothing
    assert all(t.why_required for t in domain.TEMPLATES.values() if not t.optional)


@pytest.mark.parametrize("hours_before, due", [(25, False), (24, True), (1, True), (0, False)])
def test_a_reminder_goes_in_the_last_24_hours_before_the_deadline(hours_before, due):
    assert domain.reminder_due(DEADLINE, DEADLINE - timedelta(hours=hours_before)) is due


def test_an_unsuccessful_offer_says_its_rank_and_the_reason_and_an_ineligible_one_says_so():
    ranked = render(domain.offer_unsuccessful(provider(), rank=2, reason="A better-value offer.",
                                              standstill_ends_on=None, link_path="/p", links=LINKS))
    assert "Your rank: 2." in ranked.body and "The reason: A better-value offer." in ranked.body
    ineligible = domain.offer_unsuccessful(provider(), rank=None, reason="over the maximum price",
                                           standstill_ends_on=date(2027, 1, 8), link_path="/p", links=LINKS)
    body = render(ineligible).body
    assert "not ranked (not eligible)" in body and "standstill period runs to 8 January 2027" in body


def test_a_suspension_carries_its_reason_and_a_reinstatement_needs_none():
    suspended = domain.membership_changed(provider(), "suspended", lot=2, lot_name="Part-time education",
                                          on=date(2026, 12, 7), reason="Insurance expired.", links=LINKS)
    assert "The reason: Insurance expired." in render(suspended).body
    reinstated = domain.membership_changed(provider(), "reinstated", lot=2, lot_name="Part-time education",
                                           on=date(2026, 12, 7), reason=None, links=LINKS)
    assert "reinstated on 7 December 2026" in render(reinstated).body


def _delivery():
    return Delivery(uuid4(), "referral.published", "referral.new", "provider", "p", "a@b.example", {},
                    created_at=DEADLINE)


def test_a_temporary_failure_is_tried_again_later_and_fails_once_the_delays_run_out():
    delivery, now = _delivery(), DEADLINE
    for delay in domain.RETRY_DELAYS:
        delivery.failed_for_now("Notify answered 429", now)
        assert delivery.status is DeliveryStatus.PENDING and delivery.next_attempt_at == now + delay
        assert not delivery.due(now) and delivery.due(now + delay)
        now += delay
    delivery.failed_for_now("Notify answered 503", now)
    assert delivery.status is DeliveryStatus.FAILED and "gave up after 6 attempts" in delivery.last_error


def test_a_permanent_failure_fails_at_once_with_its_reason():
    delivery = _delivery()
    delivery.failed("the mail server refused the address: 550", DEADLINE)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.FAILED, 1, None)
    assert not delivery.due(DEADLINE + timedelta(days=1))
