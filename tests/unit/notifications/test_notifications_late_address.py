"""A message that failed for want of an address (the provider's address arrived after the event, e.g. its
contacts_changed was retried) is sent when the address arrives, once, within a week."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from services.notifications.domain import NO_ADDRESS, Delivery, DeliveryStatus

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def unaddressed(created_at=NOW) -> Delivery:
    delivery = Delivery(uuid4(), "referral.published", "referral.new", "provider", "p-1", "(none on record for p-1)",
                        {"provider_name": "Provider", "lot": 1}, created_at=created_at)
    delivery.failed(NO_ADDRESS, created_at)
    return delivery


def test_a_message_failed_for_want_of_an_address_goes_to_each_address_when_it_arrives_with_the_name():
    failed = unaddressed()
    assert failed.waiting_for_address(NOW + timedelta(hours=1))
    later = NOW + timedelta(hours=1)
    copies = failed.to_addresses(("a@acme.example", "b@acme.example"), "Acme Tutors", later)
    assert [(c.address, c.status, c.values["provider_name"], c.event_id, c.template) for c in copies] == [
        ("a@acme.example", DeliveryStatus.PENDING, "Acme Tutors", failed.event_id, "referral.new"),
        ("b@acme.example", DeliveryStatus.PENDING, "Acme Tutors", failed.event_id, "referral.new")]
    assert all(c.due(later) for c in copies)
    # the failed one now says so, and is not sent again when another address arrives
    assert failed.status is DeliveryStatus.FAILED and "sent when one arrived" in failed.last_error
    assert not failed.waiting_for_address(later)


def test_a_message_older_than_a_week_is_not_sent_when_the_address_arrives():
    assert not unaddressed().waiting_for_address(NOW + timedelta(days=8))


def test_a_message_that_failed_otherwise_is_not_waiting_for_an_address():
    delivery = Delivery(uuid4(), "referral.published", "referral.new", "provider", "p-1", "a@acme.example", {},
                        created_at=NOW)
    delivery.failed("the mail server refused the address: 550 no such user", NOW)
    assert not delivery.waiting_for_address(NOW)
