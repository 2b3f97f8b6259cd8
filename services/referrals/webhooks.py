"""Signed webhooks: how a provider's own system hears of a new referral at once.

- A provider registers an https URL and is given a secret of its own (shown
  when issued; rotated on request).  The URL must lead to the public internet
  (`domain.webhook_addresses`): checked when registered, and again at every
  delivery after the host name is resolved.
- Publishing a referral writes one row per invited provider with a webhook to
  `webhook_deliveries`, in the officer's transaction: an outbox of HTTP calls.
  Nothing is sent inside a request.
- The scheduled job claims the due rows (a lease, committed), then posts them
  with no database transaction open, then records each outcome.  The
  connection goes to the address that was checked, with the host name as Host
  and TLS server name, so a name that rebinds to an internal address gets
  nothing.  The body is JSON, signed by the Standard Webhooks specification
  (https://www.standardwebhooks.com/; docs/webhooks.md has a verifier):
  `webhook-id` (the row's id: the same on every retry, also in the body and in
  `X-DPS-Delivery`, so the provider can ignore a repeat), `webhook-timestamp`
  (the attempt's time, whole seconds) and `webhook-signature: v1,<base64
  HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the secret's bytes
  (`whsec_<base64>`).  The receiver refuses a timestamp more than 5 minutes
  from its clock: that is the replay protection.  A secret issued before
  (plain text, no `whsec_`) keeps working: its key is its text's bytes, and
  its deliveries also carry the old `X-DPS-Signature: sha256=<hex HMAC-SHA256
  of the body>` until the provider rotates the secret (`standard_secret`
  gives the `whsec_` form of such a secret).  A 2xx answer is delivered; anything else is
  retried after 1 minute, 5 minutes, 30 minutes, 2 hours and 12 hours, then
  given up.  Every attempt's outcome is kept on the row, in words a provider
  may read (`HTTP 5xx`, `no answer`, `refused address`): the text of an
  internal error goes to the log only.
- A provider whose membership of the referral's lot has ended is sent nothing
  more about that lot's referrals, nor is one the referral has closed to
  (`domain.visibility.closed_to`: its offer decided, or the window closed
  without it, or the referral cancelled); the delivery log then says why.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import secrets
import socket
import ssl
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.referrals import models
from services.referrals.domain import council_date
from services.referrals.domain.registry import Membership, MembershipStatus
from services.referrals.domain.visibility import closed_to
from services.referrals.domain.webhook_addresses import WebhookRule, WebhookTarget
from services.referrals.repository import ReferralRepository, RegistryCopy
from shared.config import webhook_settings
from shared.errors import InvalidInput

log = logging.getLogger(__name__)

# Standard Webhooks (https://www.standardwebhooks.com/)
ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER = "webhook-id", "webhook-timestamp", "webhook-signature"
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for 24 to 64
TOLERANCE = timedelta(minutes=5)  # how far from the receiver's clock a webhook-timestamp may be
# Before Standard Webhooks; still sent to a provider whose secret was issued then, until it rotates it.
LEGACY_SIGNATURE_HEADER = "X-DPS-Signature"
DELIVERY_HEADER = "X-DPS-Delivery"
EVENT_HEADER = "X-DPS-Event"
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                timedelta(hours=12))
TIMEOUT_SECONDS = 5  # to connect, and for each read
RESOLVE_TIMEOUT_SECONDS = 3
BATCH = 50
# A claimed delivery is not picked again for this long: longer than a batch of calls can take.
CLAIM_LEASE = timedelta(seconds=BATCH * (RESOLVE_TIMEOUT_SECONDS + 2 * TIMEOUT_SECONDS) * 2)

# What the delivery log says of a failed attempt (a provider reads it): never an internal error's text.
REFUSED_ADDRESS = "refused address: the host does not resolve only to public internet addresses"
NO_ANSWER = "no answer"
WEBHOOK_REMOVED = "the provider removed its webhook"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def is_legacy(secret: str) -> bool:
    """Issued before Standard Webhooks (plain text): its deliveries also carry X-DPS-Signature."""
    return not secret.startswith(SECRET_PREFIX)


def signing_key(secret: str) -> bytes:
    """The HMAC key: a `whsec_` secret's decoded bytes; a legacy secret's text, as it always signed."""
    return base64.b64decode(secret[len(SECRET_PREFIX):]) if not is_legacy(secret) else secret.encode("utf-8")


def standard_secret(secret: str) -> str:
    """The `whsec_` form of any secret (for a legacy one: the base64 of its text), which a Standard Webhooks
    library takes to verify the same signatures."""
    return secret if not is_legacy(secret) else SECRET_PREFIX + base64.b64encode(secret.encode("utf-8")).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature`: v1 and the base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(signing_key(secret), signed, hashlib.sha256).digest()).decode("ascii")


def legacy_signature(secret: str, body: bytes) -> str:
    """X-DPS-Signature, as before Standard Webhooks: sha256= and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(signing_key(secret), body, hashlib.sha256).hexdigest()


def signed_headers(secret: str, message_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """The headers that sign one attempt at `at` (webhook-id stays the message's on every retry)."""
    timestamp = int(at.timestamp())
    headers = {ID_HEADER: message_id, TIMESTAMP_HEADER: str(timestamp),
               SIGNATURE_HEADER: signature(secret, message_id, timestamp, body)}
    if is_legacy(secret):
        headers[LEGACY_SIGNATURE_HEADER] = legacy_signature(secret, body)
    return headers


def signature_description(secret: str) -> str:
    """What a provider's webhook is signed with (`signature_header` in the API), for its secret."""
    standard = (f"{SIGNATURE_HEADER}: v1,<base64 HMAC-SHA256 of '{{{ID_HEADER}}}.{{{TIMESTAMP_HEADER}}}.{{body}}' "
                f"keyed with the secret's bytes> (Standard Webhooks; refuse a {TIMESTAMP_HEADER} more than "
                f"{TOLERANCE.seconds // 60} minutes from your clock)")
    if is_legacy(secret):
        return (f"{standard}; this secret predates Standard Webhooks: its key is its text's UTF-8 bytes "
                f"({SECRET_PREFIX} and their base64 for a Standard Webhooks library), and {LEGACY_SIGNATURE_HEADER}: "
                "sha256=<hex HMAC-SHA256 of the body> is sent as well until the secret is rotated")
    return standard


def rule() -> WebhookRule:
    """Where webhooks may go, from the operator's settings."""
    settings = webhook_settings()
    return WebhookRule.of(settings.allowed_hosts, settings.allow_loopback)


_resolver: ThreadPoolExecutor | None = None
_resolver_made = threading.Lock()


def resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (an address stands for itself); [] when it does not resolve
    within RESOLVE_TIMEOUT_SECONDS (a provider's slow name server holds no web thread for long)."""
    global _resolver
    with _resolver_made:
        if _resolver is None:
            _resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-resolver")
    try:
        infos = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM).result(
            timeout=RESOLVE_TIMEOUT_SECONDS)
    except (TimeoutError, OSError, UnicodeError):
        return []
    return list(dict.fromkeys(info[4][0] for info in infos))


def checked_target(url: str, webhook_rule: WebhookRule | None = None) -> tuple[WebhookTarget, str]:
    """The URL taken apart and the address to connect to; InvalidInput on `url` when it may not be used."""
    webhook_rule = webhook_rule or rule()
    target = webhook_rule.target(url)
    return target, webhook_rule.address_to_connect(target, resolve(target.host, target.port))


def check_url(url: str, webhook_rule: WebhookRule | None = None) -> str:
    """The URL, once it is https and leads to the public internet (see `domain.webhook_addresses`)."""
    return checked_target(url, webhook_rule)[0].url


# --- registration --------------------------------------------------------------------

def register(session: Session, provider_id: UUID, url: str, *, by: str, now: datetime,
             rotate_secret: bool = False) -> tuple[dict, str | None]:
    """Set the provider's URL (checked by `check_url` first, outside the transaction); returns the row
    and the secret when one was issued now."""
    t = models.webhooks
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
    status: int | None  # None when no HTTP answer came (refused address, no connection, timed out)
    error: str | None = None  # what the delivery log says: words a provider may read, never an exception's text

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Claimed:
    """A delivery claimed for one attempt: what to send, and where."""

    id: UUID
    attempts: int
    event_type: str
    body: bytes
    url: str
    secret: str


def _pinned(target: WebhookTarget, address: str) -> http.client.HTTPConnection:
    """A connection to `address` (the one checked), with the host name as Host and as the TLS server name."""
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=TIMEOUT_SECONDS,
                                                 context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=TIMEOUT_SECONDS)

    def connect_to_checked_address(_address, timeout, source_address=None):
        return socket.create_connection((address, target.port), timeout, source_address)

    connection._create_connection = connect_to_checked_address  # http.client's own hook for making the socket
    return connection


def post(target: WebhookTarget, address: str, body: bytes, headers: dict[str, str]) -> Answer:
    """One POST to the checked address; a redirect is an answer (3xx), not an invitation to send the
    referral elsewhere."""
    connection = _pinned(target, address)
    try:
        connection.request("POST", target.path, body=body, headers={
            "Content-Type": "application/json", "User-Agent": "dps-referrals-webhook/1", **headers})
        response = connection.getresponse()
        response.read(65536)
        return Answer(response.status, None if 200 <= response.status < 300 else f"HTTP {response.status // 100}xx")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        log.warning("webhook delivery got no answer", extra={"host": target.host, "error": type(exc).__name__})
        return Answer(None, NO_ANSWER)
    finally:
        connection.close()


def attempt(claimed: Claimed, *, webhook_rule: WebhookRule | None = None,
            send: Callable[[WebhookTarget, str, bytes, dict], Answer] = post, at: datetime | None = None) -> Answer:
    """Resolve, check, then post to the address checked, signed at `at` (the real time unless given: the
    receiver holds webhook-timestamp against its own clock).  Makes no database call."""
    try:
        target, address = checked_target(claimed.url, webhook_rule)
    except InvalidInput:
        log.warning("webhook delivery refused: the address is not allowed", extra={"delivery_id": str(claimed.id)})
        return Answer(None, REFUSED_ADDRESS)
    headers = signed_headers(claimed.secret, str(claimed.id), claimed.body, at or datetime.now(UTC))
    return send(target, address, claimed.body, {**headers, DELIVERY_HEADER: str(claimed.id),
                                                EVENT_HEADER: claimed.event_type})


def claim_due(session: Session, now: datetime, *, limit: int = BATCH) -> list[Claimed]:
    """Claim the deliveries due by `now` for one attempt: each is leased (next attempt pushed back by
    CLAIM_LEASE) so another runner leaves it alone, whichever database.  One whose webhook was removed,
    whose provider's membership of the lot has ended, or whose referral has closed to the provider, is
    given up instead.  The caller commits the claim before making any call."""
    d, w, r = models.webhook_deliveries, models.webhooks, models.referrals
    due = session.execute(
        sa.select(d.c.id, d.c.provider_id, d.c.referral_id, d.c.attempts, d.c.event_type, d.c.body,
                  d.c.next_attempt_at, r.c.lot, r.c.dps_id, w.c.url, w.c.secret)
        .select_from(d.join(r, r.c.id == d.c.referral_id).outerjoin(w, w.c.provider_id == d.c.provider_id))
        .where(d.c.next_attempt_at <= now).order_by(d.c.next_attempt_at, d.c.id).limit(limit)
        .with_for_update(of=d, skip_locked=True)).all()
    registry, today = RegistryCopy(session), council_date(now)
    referrals = ReferralRepository(session).get_many(row.referral_id for row in due)  # as stored: nothing changes
    claimed = []
    for row in due:
        mine = (d.c.id == row.id) & (d.c.next_attempt_at == row.next_attempt_at)  # nobody claimed it since
        ended = closed_to(referrals[row.referral_id], row.provider_id)
        refusal = WEBHOOK_REMOVED if row.url is None else ended.notice if ended else _standing_refusal(
            registry.membership(row.provider_id, row.lot, today, row.dps_id), row.lot)
        if refusal is not None:
            session.execute(d.update().where(mine).values(next_attempt_at=None, gave_up_at=now, last_error=refusal))
            continue
        if session.execute(d.update().where(mine).values(next_attempt_at=now + CLAIM_LEASE)).rowcount != 1:
            continue
        claimed.append(Claimed(row.id, row.attempts, row.event_type, row.body.encode("utf-8"), row.url, row.secret))
    return claimed


def _standing_refusal(membership: Membership | None, lot: int) -> str | None:
    """A new referral's profile goes only to a provider in good standing on its lot (as it is invited)."""
    if membership is not None and membership.in_good_standing:
        return None
    status = membership.status.value if membership is not None else MembershipStatus.REMOVED.value
    return f"the provider's membership of lot {lot} is {status}"


def record(session: Session, outcomes: Iterable[tuple[Claimed, Answer]], now: datetime) -> None:
    d = models.webhook_deliveries
    for claimed, answer in outcomes:
        session.execute(d.update().where(d.c.id == claimed.id).values(
            **_outcome(claimed.attempts + 1, answer, claimed.url, now)))
        log.info("webhook delivery attempted", extra={"delivery_id": str(claimed.id), "status": answer.status,
                                                      "attempt": claimed.attempts + 1, "outcome": answer.error
                                                      or "delivered"})


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
