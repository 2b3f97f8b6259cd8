"""Notifications end to end without the broker: events through the real
consumer (its inbox), deliveries through a real SMTP server started here and
read back, and GOV.UK Notify's documented API answered by a local server
(the real Notify cannot be reached from here), including its 429 and 400."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import sqlalchemy as sa

from services.notifications.mail import MailRelay
from services.notifications.mailbox import LocalMailServer
from services.notifications.senders import NotifySender
from shared.config import SmtpSettings
from shared.events import new_event
from shared.messaging.consumer import EventConsumer, Outcome
from tests.support.runtime import build_runtime

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
NOTIFY_KEY = f"dps_test-{uuid.UUID(int=1)}-{uuid.UUID(int=2)}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mail(tmp_path):
    server = LocalMailServer(tmp_path / "mail", port=_free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def notifications(tmp_path, mail, monkeypatch):
    monkeypatch.setenv("DPS_TEAM_MAILBOXES", "exclusions=ap-exclusions@council.example")
    monkeypatch.setenv("DPS_PORTAL_URL", "https://dps.council.example")
    runtime = build_runtime("notifications", f"sqlite:///{tmp_path}/notifications.sqlite3", "amqp://unused//",
                            smtp=SmtpSettings(port=mail.port))
    runtime.clock = lambda: NOW
    yield runtime
    runtime.engine.dispose()


def _consumer(runtime) -> EventConsumer:
    return EventConsumer("notifications", runtime.session_factory, runtime.inbox_table, runtime.outbox,
                         runtime.definition.event_handlers(), "amqp://unused//",
                         unit_of_work=runtime.unit_of_work_around, clock=lambda: NOW)


def _contacts(provider_id, name, *addresses):
    return new_event("provider.contacts_changed", {
        "provider_id": str(provider_id), "provider_name": name, "notification_addresses": list(addresses),
        "at": NOW.isoformat()}, "provider_registry").to_json()


def _published(referral_id, invited, deadline=NOW + timedelta(days=3)):
    return new_event("referral.published", {
        "referral_id": str(referral_id), "lot": 1, "team": "exclusions", "deadline": deadline.isoformat(),
        "hours_per_week": 25, "invited_provider_ids": [str(i) for i in invited],
        "profile": {"start_date": "2027-01-04", "age": 14, "postcode_district": "EX1", "primary_need": "SEMH"},
        "at": NOW.isoformat()}, "referrals").to_json()


def _deliveries(runtime, **where) -> list:
    with runtime.engine.connect() as c:
        table = runtime.definition.metadata.tables["deliveries"]
        query = sa.select(table).where(*(table.c[k] == v for k, v in where.items()))
        return list(c.execute(query))


def test_a_published_referral_reaches_each_invited_providers_mailbox_once(notifications, mail):
    consumer = _consumer(notifications)
    acme, bridge, unknown = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert consumer.handle(_contacts(acme, "Acme Tutors", "office@acme.example")) == Outcome("done")
    assert consumer.handle(_contacts(bridge, "Bridge College", "ap@bridge.example", "admin@bridge.example")) \
        == Outcome("done")
    published = _published(uuid.uuid4(), [acme, bridge, unknown])
    assert consumer.handle(published) == Outcome("done")
    assert consumer.handle(published) == Outcome("duplicate")  # redelivered: nothing twice

    relay = MailRelay(notifications)
    assert relay.drain() == 3
    assert relay.drain() == 0  # nothing left: each sent once
    received = mail.messages()
    assert sorted(m["To"] for m in received) == ["admin@bridge.example", "ap@bridge.example", "office@acme.example"]
    for message in received:
        body = message.get_content()
        assert message["Subject"].startswith("New referral on lot 1: offers by")
        assert "https://dps.council.example/provider/referrals/" in body
        assert "EX1" not in body and "SEMH" not in body  # the profile stays behind the link
    # the provider the service has no address for is in the log, failed, so the manager sees who was not told
    [untold] = _deliveries(notifications, recipient_key=str(unknown))
    assert (untold.status, untold.last_error) == ("failed", "no notification address on record")


def test_a_provider_whose_address_arrives_after_the_referral_is_told_then_once(notifications, mail):
    """Its contacts_changed handled after the referral.published (retried, say): the message that failed for
    want of an address is sent when the address arrives, by the provider's name, and not again later."""
    consumer = _consumer(notifications)
    late = uuid.uuid4()
    consumer.handle(_published(uuid.uuid4(), [late]))
    assert MailRelay(notifications).drain() == 0
    assert consumer.handle(_contacts(late, "Late Tutors", "office@late.example")) == Outcome("done")
    assert consumer.handle(_contacts(late, "Late Tutors", "new@late.example")) == Outcome("done")
    assert MailRelay(notifications).drain() == 1
    [message] = mail.messages()
    assert message["To"] == "office@late.example" and message.get_content().startswith("Late Tutors,")
    first, sent = sorted(_deliveries(notifications, recipient_key=str(late)), key=lambda d: d.status)
    assert (first.status, sent.status) == ("failed", "sent")
    assert first.last_error == "no notification address on record at first; sent when one arrived"


def test_a_concern_goes_to_the_teams_mailbox(notifications, mail):
    consumer = _consumer(notifications)
    concern = new_event("concern.raised", {
        "concern_id": str(uuid.uuid4()), "placement_id": str(uuid.uuid4()), "provider_id": str(uuid.uuid4()),
        "lot": 1, "team": "exclusions", "kind": "unexplained_absence", "week_commencing": "2026-11-30",
        "rate": 0.5, "at": NOW.isoformat()}, "tracking").to_json()
    assert consumer.handle(concern) == Outcome("done")
    MailRelay(notifications).drain()
    [message] = mail.messages()
    assert message["To"] == "ap-exclusions@council.example"
    assert "unexplained absence" in message.get_content()


def test_a_provider_that_has_not_answered_is_reminded_once_in_the_last_24_hours(notifications, mail):
    consumer = _consumer(notifications)
    quiet, answered = uuid.uuid4(), uuid.uuid4()
    consumer.handle(_contacts(quiet, "Quiet Tutors", "quiet@tutors.example"))
    consumer.handle(_contacts(answered, "Busy Tutors", "busy@tutors.example"))
    referral_id = uuid.uuid4()
    consumer.handle(_published(referral_id, [quiet, answered], deadline=NOW + timedelta(hours=20)))
    consumer.handle(new_event("offer.declined", {"referral_id": str(referral_id), "provider_id": str(answered),
                                                 "lot": 1, "reason": "no capacity", "at": NOW.isoformat()},
                              "referrals").to_json())
    assert notifications.run_jobs(force=True) == ["referral_reminders", "windows_closed", "dead_letters",
                                                  "retention"]
    notifications.run_jobs(force=True)  # a second run reminds no one again
    reminders = _deliveries(notifications, template="referral.reminder")
    assert [d.address for d in reminders] == ["quiet@tutors.example"]


def test_a_missing_template_value_fails_the_delivery_with_the_reason_and_sends_nothing(notifications, mail):
    with notifications.unit_of_work() as uow:
        from services.notifications.domain import Delivery

        uow.deliveries.add_once(Delivery(uuid.uuid4(), "test", "referral.new", "provider", "p",
                                         "a@b.example", {"provider_name": "A"}, created_at=NOW))
        uow.commit()
    MailRelay(notifications).drain()
    [row] = _deliveries(notifications)
    assert row.status == "failed" and "needs" in row.last_error
    assert mail.messages() == []


def test_a_mail_server_that_is_away_is_tried_again_later(notifications, tmp_path):
    consumer = _consumer(notifications)
    provider = uuid.uuid4()
    consumer.handle(_contacts(provider, "Acme Tutors", "office@acme.example"))
    consumer.handle(_published(uuid.uuid4(), [provider]))
    from services.notifications.senders import SmtpSender

    away = SmtpSender("127.0.0.1", _free_port(), "dps@council.example", timeout=2)
    MailRelay(notifications, sender=away).drain()
    [row] = _deliveries(notifications)
    assert (row.status, row.attempts) == ("pending", 1) and "could not reach the mail server" in row.last_error
    assert row.next_attempt_at > NOW


def test_a_delivery_sent_again_after_a_crash_is_the_same_message(mail):
    """A relay killed after the mail server took a message, before it recorded so, sends it again on restart:
    with the same Message-ID (the delivery's id), so the mailbox, and a mail client, show it once."""
    from services.notifications.domain import Delivery, Rendered
    from services.notifications.senders import SmtpSender

    sender = SmtpSender("127.0.0.1", mail.port, "dps@council.example")
    delivery = Delivery(uuid.uuid4(), "referral.published", "referral.new", "provider", "p", "a@b.example", {},
                        created_at=NOW)
    first = sender.send(delivery, Rendered("New referral", "Body"))
    again = SmtpSender("127.0.0.1", mail.port, "dps@council.example").send(delivery, Rendered("New referral", "Body"))
    assert first == again == f"<{delivery.delivery_id}@council.example>"
    assert [m["Message-ID"] for m in mail.messages()] == [first]


# -- GOV.UK Notify's API, answered locally --------------------------------------------------------------------

class _Notify(BaseHTTPRequestHandler):
    answers: list[tuple[int, dict]] = []
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's hook name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append({"path": self.path, "auth": self.headers["Authorization"], "body": body})
        status, answer = type(self).answers.pop(0)
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def notify_api():
    server = HTTPServer(("127.0.0.1", 0), _Notify)
    _Notify.answers, _Notify.received = [], []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", _Notify
    server.shutdown()


def test_notify_is_sent_the_message_and_its_answers_decide_what_happens(notifications, notify_api):
    base_url, api = notify_api
    consumer = _consumer(notifications)
    providers = [uuid.uuid4() for _ in range(3)]
    for n, provider in enumerate(providers):
        consumer.handle(_contacts(provider, f"Provider {n}", f"p{n}@providers.example"))
    consumer.handle(_published(uuid.uuid4(), providers))
    api.answers = [
        (201, {"id": str(uuid.uuid4()), "reference": "r", "content": {}, "template": {}}),
        (429, {"status_code": 429, "errors": [{"error": "RateLimitError",
                                               "message": "Exceeded rate limit for key type LIVE of 3000 "
                                                          "requests per 60 seconds"}]}),
        (400, {"status_code": 400, "errors": [{"error": "BadRequestError",
                                               "message": "email_address Not a valid email address"}]}),
    ]
    relay = MailRelay(notifications, sender=NotifySender(NOTIFY_KEY, str(uuid.uuid4()), base_url))
    assert relay.drain() == 3
    first = api.received[0]
    assert first["path"] == "/v2/notifications/email" and first["auth"].startswith("Bearer ")
    assert set(first["body"]["personalisation"]) == {"subject", "body"}
    statuses = sorted((d.status, d.last_error or "") for d in _deliveries(notifications))
    assert statuses[0][0] == "failed" and "Not a valid email address" in statuses[0][1]
    assert statuses[1][0] == "pending" and "429" in statuses[1][1]
    assert statuses[2][0] == "sent"


def test_a_malformed_notify_key_stops_the_service_at_start(tmp_path):
    with pytest.raises(ValueError, match="DPS_NOTIFY_API_KEY is not a GOV.UK Notify API key"):
        build_runtime("notifications", f"sqlite:///{tmp_path}/n.sqlite3", "amqp://unused//",
                      notify_api_key="not-a-key", notify_template_id=str(uuid.uuid4()))
