"""The notifications service's outward worker: it sends the deliveries that
are due, one per transaction, through the configured sender (its `dps relay
notifications` process: what the outbox relay is to the other services).

Each delivery is locked, sent, and marked in one transaction: a sender
stopped between sending and marking sends that one message again on restart
(at least once, with the same Message-ID / Notify reference), never loses it.
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from services.notifications import handlers
from services.notifications.senders import NotifySender, Sender, SmtpSender
from shared.config import Settings

log = logging.getLogger(__name__)

SENT = Counter("dps_notifications_sent_total", "Messages sent", ["template"])
FAILED = Counter("dps_notifications_failed_total", "Deliveries failed for good", ["template"])
RETRIED = Counter("dps_notifications_retried_total", "Deliveries that failed for now and will be tried again",
                  ["template"])


def sender_for(settings: Settings) -> Sender:
    """GOV.UK Notify when a key is set, else SMTP."""
    if settings.notify_api_key:
        if not settings.notify_template_id:
            raise ValueError("DPS_NOTIFY_TEMPLATE_ID must be set with DPS_NOTIFY_API_KEY: the Notify email template "
                             "whose subject is ((subject)) and body ((body))")
        return NotifySender(settings.notify_api_key, settings.notify_template_id, settings.notify_base_url)
    smtp = settings.smtp
    return SmtpSender(smtp.host, smtp.port, smtp.mail_from, starttls=smtp.starttls, username=smtp.username,
                      password=smtp.password)


class MailRelay:
    def __init__(self, runtime, sender: Sender | None = None, poll_interval: float = 1.0) -> None:
        self.runtime = runtime
        self.sender = sender or sender_for(runtime.settings)
        self.poll_interval = poll_interval
        self.stopping = threading.Event()

    def send_one(self) -> bool:
        """Send the next due delivery, if any; True if there was one."""
        with self.runtime.unit_of_work() as uow:
            due = uow.deliveries.due(uow.now(), 1)
            if not due:
                return False
            handlers.send_due(uow, self.sender, limit=1)
            delivery = due[0]
            uow.commit()
        counter = {"sent": SENT, "failed": FAILED}.get(delivery.status.value, RETRIED)
        counter.labels(delivery.template).inc()
        return True

    def drain(self, limit: int = 1000) -> int:
        sent = 0
        while sent < limit and self.send_one():
            sent += 1
        return sent

    def run(self) -> None:
        log.info("mail relay started", extra={"sender": type(self.sender).__name__})
        while not self.stopping.is_set():
            try:
                if not self.send_one():
                    self.stopping.wait(self.poll_interval)
            except sa.exc.SQLAlchemyError as exc:
                log.warning("database unavailable; deliveries wait", extra={"error": str(exc)})
                self.stopping.wait(min(10, self.poll_interval * 5))
        log.info("mail relay stopped")

    def stop(self) -> None:
        self.stopping.set()


class DeliveryBacklog:
    """dps_notifications_queue_age_seconds: the age of the oldest delivery not yet sent, read at scrape."""

    def __init__(self, runtime) -> None:
        self.runtime = runtime

    def collect(self):
        age = GaugeMetricFamily("dps_notifications_queue_age_seconds",
                                "Age of the oldest delivery waiting to be sent (0 when none)")
        try:
            with self.runtime.unit_of_work(read_only=True) as uow:
                oldest, now = uow.deliveries.oldest_pending(), uow.now()
            age.add_metric([], (now - oldest).total_seconds() if oldest else 0)
        except sa.exc.SQLAlchemyError:
            return
        yield age
