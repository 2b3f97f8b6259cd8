"""A delivery: one message to one address because of one event.

It is created once (the event, the template and the address are its key, so
an event handled twice, or a consumer restarted mid-batch, adds no second
delivery) and sent by the sender, which records what happened:
- sent, with the reference the mail server or Notify gave;
- a temporary failure (Notify's 429 or 5xx, an SMTP 4xx, no connection):
  tried again after a growing delay, and failed once the delays run out;
- a permanent failure (an address refused, a template value missing, Notify's
  400 or 403): failed at once with the reason, nothing sent;
- no address on record for its recipient: failed at once, and sent when the
  recipient's address arrives within a week (a provider's contacts_changed
  handled after the event), once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid4

RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1),
                timedelta(hours=4))
"""After each temporary failure the next try waits this long; after the last, the delivery has failed."""

NO_ADDRESS = "no notification address on record"
ADDRESS_LATE_BY = timedelta(days=7)
"""A message that failed for want of an address is sent when the recipient's address arrives within this
long (its address was published after the event reached this service, e.g. retried)."""


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class TemporaryFailure(Exception):
    """Try again later (the service is busy or away)."""


class PermanentFailure(Exception):
    """Trying again would fail the same way."""


@dataclass(eq=False)
class Delivery:
    event_id: UUID
    event_type: str
    template: str
    audience: str
    recipient_key: str
    address: str
    values: dict
    created_at: datetime
    delivery_id: UUID = field(default_factory=uuid4)
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    last_error: str | None = None
    reference: str | None = None

    def __post_init__(self) -> None:
        if self.next_attempt_at is None and self.status is DeliveryStatus.PENDING:
            self.next_attempt_at = self.created_at

    def due(self, now: datetime) -> bool:
        return self.status is DeliveryStatus.PENDING and self.next_attempt_at is not None \
            and self.next_attempt_at <= now

    def waiting_for_address(self, now: datetime) -> bool:
        return self.status is DeliveryStatus.FAILED and self.last_error == NO_ADDRESS \
            and now - self.created_at <= ADDRESS_LATE_BY

    def to_addresses(self, addresses: tuple[str, ...], name: str, now: datetime) -> list[Delivery]:
        """The message this failed to send, to each address the recipient now has (by its name, where the
        message names it); this one then says so, and is not sent again when another address arrives."""
        values = {**self.values, "provider_name": name} if "provider_name" in self.values else dict(self.values)
        copies = [Delivery(self.event_id, self.event_type, self.template, self.audience, self.recipient_key, address,
                           values, created_at=now) for address in addresses]
        if copies:
            self.last_error = f"{NO_ADDRESS} at first; sent when one arrived"
        return copies

    def sent(self, reference: str | None, now: datetime) -> None:
        self.attempts += 1
        self.status, self.sent_at, self.reference, self.next_attempt_at = DeliveryStatus.SENT, now, reference, None
        self.last_error = None

    def failed_for_now(self, reason: str, now: datetime, delays: tuple[timedelta, ...] = RETRY_DELAYS) -> None:
        self.attempts += 1
        self.last_error = reason
        if self.attempts > len(delays):
            self._fail(f"gave up after {self.attempts} attempts: {reason}", now)
        else:
            self.next_attempt_at = now + delays[self.attempts - 1]

    def failed(self, reason: str, now: datetime) -> None:
        self.attempts += 1
        self._fail(reason, now)

    def _fail(self, reason: str, now: datetime) -> None:
        self.status, self.failed_at, self.last_error, self.next_attempt_at = DeliveryStatus.FAILED, now, reason, None
