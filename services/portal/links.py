"""Providers' single-use sign-in links: a link is emailed, works once, for DPS_PORTAL_LINK_MINUTES (15), and
an address may ask for at most DPS_PORTAL_LINKS_PER_HOUR (5) an hour.

What is kept: the SHA-256 of each link's secret (never the secret), of the address it was sent to (never the
address), whom it signs in, when it was sent and whether it was used: a small SQLite file in DPS_DATA_DIR
(`portal-links.sqlite3`) that every portal process on the host shares.  Rows older than a day are deleted
as new links are sent.  This is sign-in state, not business data: the portal keeps none of that.

The email goes straight to the council's SMTP relay (DPS_SMTP_HOST and the other DPS_SMTP_* settings that
notifications uses), not through the notifications service: a sign-in link is a credential, and that service
keeps every message it sends (its outbox, delivery log and audit trail, for years) and publishes events about
it; a credential must be kept nowhere, and signing in must not wait on the broker."""

from __future__ import annotations

import hashlib
import secrets
import smtplib
import sqlite3
import time
from email.message import EmailMessage
from pathlib import Path

from shared.config import PortalSettings

DAY = 24 * 3600


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalised(address: str) -> str:
    return address.strip().lower()


class TooManyLinks(Exception):
    """The address asked for more links this hour than DPS_PORTAL_LINKS_PER_HOUR allows."""


class SignInLinks:
    def __init__(self, path: Path, *, minutes: int = 15, per_hour: int = 5, clock=time.time) -> None:
        self.path, self.minutes, self.per_hour, self.clock = path, minutes, per_hour, clock
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS links (secret TEXT PRIMARY KEY, address TEXT NOT NULL, "
                       "person TEXT NOT NULL, sent REAL NOT NULL, used REAL)")

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5, isolation_level="IMMEDIATE")

    def issue(self, address: str, person: str) -> str:
        """A new link's secret for `person` (their session, as JSON), sent to `address`."""
        now, address_digest = self.clock(), _digest(normalised(address))
        secret = secrets.token_urlsafe(32)
        with self._db() as db:
            db.execute("DELETE FROM links WHERE sent < ?", (now - DAY,))
            (recent,) = db.execute("SELECT count(*) FROM links WHERE address = ? AND sent > ?",
                                   (address_digest, now - 3600)).fetchone()
            if recent >= self.per_hour:
                raise TooManyLinks(address)
            db.execute("INSERT INTO links (secret, address, person, sent) VALUES (?, ?, ?, ?)",
                       (_digest(secret), address_digest, person, now))
        return secret

    def use(self, secret: str) -> str | None:
        """Whom the link signs in, once; None if it is unknown, used already or older than its minutes (or was
        recorded for an address that is no provider user's: asked for, counted, never sent)."""
        now = self.clock()
        with self._db() as db:
            row = db.execute("UPDATE links SET used = ? WHERE secret = ? AND used IS NULL AND sent >= ? "
                             "RETURNING person", (now, _digest(secret), now - self.minutes * 60)).fetchone()
        return row[0] if row and row[0] else None


def send_link(settings: PortalSettings, address: str, url: str) -> None:
    smtp_settings = settings.smtp
    message = EmailMessage()
    message["From"], message["To"] = smtp_settings.mail_from, address
    message["Subject"] = "Your sign-in link"
    message.set_content(f"Use this link to sign in to the council's alternative provision service:\n\n{url}\n\n"
                        f"It works once, within {settings.link_minutes} minutes. If you did not ask for it, you "
                        "can ignore this email.\n")
    with smtplib.SMTP(smtp_settings.host, smtp_settings.port, timeout=10) as smtp:
        if smtp_settings.starttls:
            smtp.starttls()
        if smtp_settings.username:
            smtp.login(smtp_settings.username, smtp_settings.password or "")
        smtp.send_message(message)
