"""Notifications for officers and the manager (issue #18), through the real consumer (its inbox), the
scheduled jobs and a real SMTP server started here: the officer who acts hears at the deadline that the
offers are ready to assess (or that none came), the team hears of reviews and the sixth day, the manager of
applications due for decision, off-DPS exceptions and dead letters (counted on a real RabbitMQ)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from kombu import Connection, Producer

from services.notifications.mail import MailRelay
from shared.catalogue import event_type as event_type_of
from shared.events import new_event
from shared.messaging.consumer import Outcome
from shared.messaging.topology import dead_letter_queue, dead_letter_queue_name
from tests.integration.notifications.test_notifications_delivery import (  # noqa: F401 - the fixtures
    NOW,
    _consumer,
    _contacts,
    _deliveries,
    _published,
    mail,
    notifications,
)

pytestmark = pytest.mark.integration

TEAM_BOX, MANAGER_BOX = "ap-exclusions@council.example", "dps-manager@council.example"


@pytest.fixture(autouse=True)
def manager_mailbox(monkeypatch):
    monkeypatch.setenv("DPS_MANAGER_MAILBOX", MANAGER_BOX)


def _published_by(referral_id, invited, by, deadline):
    body = _published(referral_id, invited, deadline=deadline)
    return body.replace('"invited_provider_ids"', f'"published_by": "{by}", "invited_provider_ids"', 1)


def _answer(kind, referral_id, provider_id):
    return new_event(kind, {"referral_id": str(referral_id), "provider_id": str(provider_id), "lot": 1,
                            "offer_id": str(uuid.uuid4()), "reason": "no capacity", "at": NOW.isoformat()},
                     "referrals").to_json()


def _run_window_job(runtime, at):
    runtime.clock = lambda: at
    return runtime.run_jobs(force=True)


def test_at_the_deadline_the_officer_who_published_hears_the_offers_are_ready_or_the_team_that_none_came(
        notifications, mail):  # noqa: F811 - the imported fixtures
    consumer = _consumer(notifications)
    acme, bridge = uuid.uuid4(), uuid.uuid4()
    deadline = NOW + timedelta(days=2)
    with_offers, without = uuid.uuid4(), uuid.uuid4()
    consumer.handle(_published_by(with_offers, [acme, bridge], "jo.bloggs@council.example", deadline))
    consumer.handle(_published_by(without, [acme, bridge], "dev-user", deadline))  # not an address
    for body in (_answer("offer.submitted", with_offers, acme), _answer("offer.submitted", with_offers, bridge),
                 _answer("offer.withdrawn", with_offers, bridge),  # withdrawn: one live offer left
                 _answer("offer.submitted", without, acme), _answer("offer.withdrawn", without, acme),
                 _answer("offer.declined", without, bridge)):
        assert consumer.handle(body) == Outcome("done")

    _run_window_job(notifications, deadline - timedelta(minutes=1))
    assert _deliveries(notifications, event_type="referral.window_closed") == []  # not before the deadline
    _run_window_job(notifications, deadline + timedelta(minutes=1))
    _run_window_job(notifications, deadline + timedelta(minutes=2))  # a second run tells no one again
    MailRelay(notifications).drain()
    received = {m["To"]: m for m in mail.messages() if "deadline" in m["Subject"] or "assess" in m["Subject"]}
    assert set(received) == {"jo.bloggs@council.example", TEAM_BOX}
    ready = received["jo.bloggs@council.example"]
    assert ready["Subject"] == f"Offers closed and ready to assess (referral {str(with_offers)[:8]}, " \
                               "Exclusions and Reintegration)"
    assert "with 1 live offer." in ready.get_content()
    assert f"https://dps.council.example/council/referrals/{with_offers}" in ready.get_content()
    assert "no offer from the 2 provider(s) invited" in received[TEAM_BOX].get_content()


def test_an_extended_window_is_announced_at_its_new_deadline(notifications, mail):  # noqa: F811 - the imported fixtures
    consumer = _consumer(notifications)
    referral_id, deadline = uuid.uuid4(), NOW + timedelta(days=2)
    consumer.handle(_published_by(referral_id, [uuid.uuid4()], "dev-user", deadline))
    consumer.handle(new_event("referral.window_extended", {
        "referral_id": str(referral_id), "lot": 1, "previous_deadline": deadline.isoformat(),
        "deadline": (deadline + timedelta(days=3)).isoformat(), "at": NOW.isoformat()}, "referrals").to_json())
    _run_window_job(notifications, deadline + timedelta(hours=1))
    assert _deliveries(notifications, event_type="referral.window_closed") == []
    _run_window_job(notifications, deadline + timedelta(days=3, hours=1))
    assert len(_deliveries(notifications, event_type="referral.window_closed")) == 1


@pytest.mark.parametrize("event_type, data, to, words", [
    ("review.due_soon", {"due_on": "2027-01-14"}, TEAM_BOX, "is due on 14 January 2027, in 5 school days"),
    ("review.overdue", {"due_on": "2027-01-14"}, TEAM_BOX, "was due on 14 January 2027"),
    ("sixth_day.at_risk", {"due_on": "2026-12-09"}, TEAM_BOX, "full-time education from 9 December 2026, in 2"),
    ("sixth_day.missed", {"due_on": "2026-12-09"}, TEAM_BOX, "was due full-time education from 9 December 2026"),
    ("application.decision_due", {"due_on": "2026-12-09", "received_on": "2026-11-25",
                                  "provider_name": "Acme Tutors Ltd"}, MANAGER_BOX, "in 2 working days"),
    ("application.decision_overdue", {"due_on": "2026-12-04", "received_on": "2026-11-20",
                                      "provider_name": "Acme Tutors Ltd"}, MANAGER_BOX, "is not decided"),
    ("off_dps_exception.recorded", {"reason": "No DPS provider offers hydrotherapy", "lot": 3},
     MANAGER_BOX, "off-DPS exception on referral"),
])
def test_what_tracking_the_registry_and_referrals_publish_reaches_the_team_or_the_manager(
        notifications, mail, event_type, data, to, words):  # noqa: F811 - the imported fixtures
    consumer = _consumer(notifications)
    provider = uuid.uuid4()
    consumer.handle(_contacts(provider, "Acme Tutors", "office@acme.example"))
    event = new_event(event_type, {
        "placement_id": str(uuid.uuid4()), "provider_id": str(provider), "referral_id": str(uuid.uuid4()),
        "application_id": str(uuid.uuid4()), "team": "exclusions", "child_ref": str(uuid.uuid4()),
        "at": NOW.isoformat(), **data}, event_type_of(event_type).producer).to_json()
    assert consumer.handle(event) == Outcome("done")
    assert consumer.handle(event) == Outcome("duplicate")
    MailRelay(notifications).drain()
    [message] = mail.messages()
    assert message["To"] == to and words in message.get_content()


def test_the_manager_hears_when_a_dead_letter_queue_grows(notifications, mail, broker, monkeypatch):  # noqa: F811 - the imported fixtures
    monkeypatch.setenv("DPS_AMQP_URL", broker)
    queue = dead_letter_queue_name("awards")

    def dead_letter(count):
        with Connection(broker) as connection:
            dead_letter_queue("awards", quorum=False)(connection.channel()).declare()
            producer = Producer(connection.channel())
            for _ in range(count):
                producer.publish(b"{}", exchange="", routing_key=queue, delivery_mode=2)

    dead_letter(2)
    notifications.run_jobs(force=True)
    notifications.clock = lambda: NOW + timedelta(minutes=1)
    notifications.run_jobs(force=True)  # no new dead letter: nothing more
    dead_letter(1)
    notifications.clock = lambda: NOW + timedelta(minutes=2)
    notifications.run_jobs(force=True)
    MailRelay(notifications).drain()
    subjects = [(m["To"], m["Subject"]) for m in mail.messages()]
    assert sorted(subjects) == [(MANAGER_BOX, "Events could not be handled: awards has 2 dead letter(s)"),
                                (MANAGER_BOX, "Events could not be handled: awards has 3 dead letter(s)")]
    assert any("1 more event(s)" in m.get_content() for m in mail.messages())


def test_no_eligible_offers_goes_to_the_officer_who_published_the_referral(notifications, mail):  # noqa: F811 - the imported fixtures
    consumer = _consumer(notifications)
    referral_id = uuid.uuid4()
    consumer.handle(_published_by(referral_id, [uuid.uuid4()], "jo.bloggs@council.example", NOW + timedelta(days=2)))
    assert consumer.handle(new_event("calloff.no_eligible_offers", {
        "referral_id": str(referral_id), "offers": [], "at": NOW.isoformat()}, "awards").to_json()) == Outcome("done")
    MailRelay(notifications).drain()
    [message] = mail.messages()
    assert message["To"] == "jo.bloggs@council.example" and "closed with no eligible offer" in message.get_content()
