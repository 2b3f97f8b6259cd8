"""Signed webhooks: how a provider's own system hears of a new referral at once.

- A provider registers an http(s) URL and is given a secret of its own (shown
  when issued; rotated on request).
- Publishing a referral writes one row per invited provider with a webhook to
  `webhook_deliveries`, in the officer's transaction: an outbox of HTTP calls.
  Nothing is sent inside a request.
- The scheduled job posts the due rows.  The body is JSON; the header
  `X-DPS-Signature: sha256=<hex HMAC-SHA256(secret, body)>` lets the provider
  check it came from the council; `X-DPS-Delivery` (the row's id, also in the
  body) lets it ignore a repeat.  A 2xx answer is delivered; anything else is
  retried after 1 minute, 5 minutes, 30 minutes, 2 hours and 12 hours, then
  given up.  Every attempt's outcome is kept on the row.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.referrals import models
from shared.errors import InvalidInput

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-DPS-Signature"
DELIVERY_HEADER = "X-DPS-Delivery"
EVENT_HEADER = "X-DPS-Event"
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                timedelta(hours=12))
TIMEOUT_SECONDS = 5
BATCH = 50


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("the webhook URL must be an http or https URL", field="url")
    if parts.username or parts.password:
        raise InvalidInput("the webhook URL must not carry a user name or password", field="url")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise InvalidInput("the webhook URL has an invalid port", field="url") from None
    return url


# --- registration --------------------------------------------------------------------

def register(session: Session, provider_id: UUID, url: str, *, by: str, now: datetime,
             rotate_secret: bool = False) -> tuple[dict, str | None]:
    """Set the provider's URL; returns the row and the secret when one was issued now."""
    url, t = check_url(url), models.webhooks
    row = session.execute(sa.select(t).where(t.c.provider_id == provider_id).with_for_update()).first()
    issued = new_secret() if row is None or rotate_secret else None
    if row is None:
        session.execute(t.insert().values(provider_id=provider_id, url=url, secret=issued, registered_by=by,
                                          registered_at=now, secret_issued_at=now))
    else:
        values = {"url": url, "registered_by": by, "registered_at": now}
        if issued:
            values.update(secret=issued, secret_issued_at=now)
        session.execute(t.update().where(t.c.provider_id == provider_id).values(**values))
    return webhook_of(session, provider_id), issued


def webhook_of(session: Session, provider_id: UUID) -> dict | None:
    t = models.webhooks
    row = session.execute(sa.select(t).where(t.c.provider_id == provider_id)).first()
    return None if row is None else dict(row._mapping)


def unregister(session: Session, provider_id: UUID) -> bool:
    t = models.webhooks
    return session.execute(t.delete().where(t.c.provider_id == provider_id)).rowcount > 0


# --- the outbox of calls ---------------------------------------------------------------

def enqueue(session: Session, *, event_type: str, referral_id: UUID, provider_ids: Iterable[UUID], payload: dict,
            now: datetime) -> int:
    """One delivery per provider that has a webhook; the body is fixed now, signed when sent."""
    provider_ids = list(provider_ids)
    if not provider_ids:
        return 0
    t = models.webhooks
    registered = set(session.execute(sa.select(t.c.provider_id).where(t.c.provider_id.in_(provider_ids))).scalars())
    rows = []
    for provider_id in provider_ids:
        if provider_id not in registered:
            continue
        delivery_id = uuid.uuid4()
        body = json.dumps({"delivery_id": str(delivery_id), "event": event_type, "created_at": now.isoformat(),
                           "data": payload}, separators=(",", ":"), sort_keys=True)
        rows.append({"id": delivery_id, "provider_id": provider_id, "referral_id": referral_id,
                     "event_type": event_type, "body": body, "created_at": now, "attempts": 0,
                     "next_attempt_at": now})
    if rows:
        session.execute(models.webhook_deliveries.insert(), rows)
    return len(rows)


@dataclass(frozen=True)
class Answer:
    status: int | None  # None when no HTTP answer came (refused, timed out)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """One POST; a redirect is an answer (3xx), not an invitation to send the referral elsewhere."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = None
    try:
        connection = connection_class(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS)
        connection.request("POST", target, body=body, headers={"Content-Type": "application/json",
                                                               "User-Agent": "dps-referrals-webhook/1", **headers})
        response = connection.getresponse()
        response.read(65536)
        ok = 200 <= response.status < 300
        return Answer(response.status, None if ok else f"HTTP {response.status} {response.reason}"[:500])
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:500])
    finally:
        if connection is not None:
            connection.close()


def deliver_due(session: Session, now: datetime, *, send: Callable[[str, bytes, dict], Answer] = post,
                limit: int = BATCH) -> int:
    """Post every delivery due by `now`; returns how many were attempted."""
    d, w = models.webhook_deliveries, models.webhooks
    due = session.execute(
        sa.select(d).where(d.c.next_attempt_at <= now).order_by(d.c.next_attempt_at, d.c.id).limit(limit)
        .with_for_update(skip_locked=True)).all()
    for row in due:
        hook = session.execute(sa.select(w.c.url, w.c.secret).where(w.c.provider_id == row.provider_id)).first()
        if hook is None:
            session.execute(d.update().where(d.c.id == row.id).values(
                next_attempt_at=None, gave_up_at=now, last_error="the provider removed its webhook"))
            continue
        body = row.body.encode("utf-8")
        answer = send(hook.url, body, {SIGNATURE_HEADER: sign(hook.secret, body), DELIVERY_HEADER: str(row.id),
                                       EVENT_HEADER: row.event_type})
        session.execute(d.update().where(d.c.id == row.id).values(**_outcome(row.attempts + 1, answer, hook.url,
                                                                               now)))
        log.info("webhook delivery attempted", extra={"delivery_id": str(row.id), "status": answer.status,
                                                      "attempt": row.attempts + 1})
    return len(due)


def _outcome(attempt: int, answer: Answer, url: str, now: datetime) -> dict:
    values = {"attempts": attempt, "last_attempt_at": now, "last_url": url, "last_status": answer.status,
              "last_error": answer.error}
    if answer.ok:
        return {**values, "delivered_at": now, "next_attempt_at": None}
    if attempt > len(RETRY_DELAYS):
        return {**values, "gave_up_at": now, "next_attempt_at": None}
    return {**values, "next_attempt_at": now + RETRY_DELAYS[attempt - 1]}


def deliveries(session: Session, *, provider_id: UUID | None = None, referral_id: UUID | None = None,
               state: str | None = None, limit: int = 100, offset: int = 0) -> list[dict]:
    d = models.webhook_deliveries
    query = sa.select(d)
    if provider_id is not None:
        query = query.where(d.c.provider_id == provider_id)
    if referral_id is not None:
        query = query.where(d.c.referral_id == referral_id)
    if state == "delivered":
        query = query.where(d.c.delivered_at.is_not(None))
    elif state == "pending":
        query = query.where(d.c.next_attempt_at.is_not(None))
    elif state == "failed":
        query = query.where(d.c.gave_up_at.is_not(None))
    rows = session.execute(query.order_by(d.c.created_at.desc(), d.c.id).limit(limit).offset(offset)).all()
    return [{**dict(r._mapping), "state": delivery_state(r)} for r in rows]


def delivery_state(row) -> str:
    if row.delivered_at is not None:
        return "delivered"
    if row.gave_up_at is not None:
        return "failed"
    return "pending"
