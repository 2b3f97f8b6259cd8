"""How a message leaves: GOV.UK Notify or the council's SMTP relay, chosen by
configuration.  Each sender turns its transport's answers into the domain's
two kinds of failure: temporary (try again later) and permanent (give up now).

- Notify (`notifications-python-client`): one Notify email template whose
  subject is `((subject))` and body `((body))` (DPS_NOTIFY_TEMPLATE_ID): the
  words are the service's own templates, so a council changes nothing in Notify
  when a message changes.  429 and 5xx are temporary; 400 and 403 permanent.
- SMTP: STARTTLS and a login when configured; a 4xx reply or no connection is
  temporary, a 5xx permanent.  The Message-ID is the delivery's id, so a
  message sent again after a crash is recognisably the same message.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from services.notifications.domain import Delivery, PermanentFailure, Rendered, TemporaryFailure

# key_name-service_id-secret: two UUIDs at the end (GOV.UK Notify's API keys)
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
NOTIFY_KEY = re.compile(rf"[A-Za-z0-9_\-]+-({_UUID})-({_UUID})")


def check_notify_key(key: str) -> None:
    """A malformed key stops the service at start (ValueError), not at the first message."""
    if not NOTIFY_KEY.fullmatch(key.strip()):
        raise ValueError("DPS_NOTIFY_API_KEY is not a GOV.UK Notify API key (its name, then the service id "
                         "and the secret, two UUIDs, joined by hyphens)")


class Sender(Protocol):
    def send(self, delivery: Delivery, message: Rendered) -> str | None:
        """Send it; return the transport's reference, or raise TemporaryFailure / PermanentFailure."""


@dataclass
class SmtpSender:
    host: str
    port: int
    mail_from: str
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0

    def send(self, delivery: Delivery, message: Rendered) -> str | None:
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = self.mail_from, delivery.address, message.subject
        domain = self.mail_from.rpartition("@")[2] or "dps.invalid"
        # the delivery's id alone (make_msgid would add the time and a random part): a message sent again
        # after a crash has the Message-ID of the first
        email["Message-ID"] = f"<{delivery.delivery_id}@{domain}>"
        email["X-DPS-Delivery"] = str(delivery.delivery_id)
        email.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _by_code(code, f"the mail server refused the address: {code} {_text(reply)}") from None
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, f"the mail server answered {exc.smtp_code} {_text(exc.smtp_error)}") \
                from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"could not reach the mail server: {type(exc).__name__}") from None
        return email["Message-ID"]


def _text(reply) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _by_code(code: int, reason: str) -> Exception:
    return TemporaryFailure(reason) if 400 <= code < 500 else PermanentFailure(reason)


@dataclass
class NotifySender:
    api_key: str
    template_id: str
    base_url: str = "https://api.notifications.service.gov.uk"

    def __post_init__(self) -> None:
        from notifications_python_client.notifications import NotificationsAPIClient

        check_notify_key(self.api_key)
        self._client = NotificationsAPIClient(self.api_key, base_url=self.base_url)

    def send(self, delivery: Delivery, message: Rendered) -> str | None:
        from notifications_python_client.errors import HTTPError
        from requests import RequestException

        try:
            answer = self._client.send_email_notification(
                email_address=delivery.address, template_id=self.template_id,
                personalisation={"subject": message.subject, "body": message.body},
                reference=str(delivery.delivery_id))
        except HTTPError as exc:
            status = exc.status_code
            reason = f"Notify answered {status}: {_notify_message(exc)}"
            if status == 429 or (isinstance(status, int) and status >= 500):
                raise TemporaryFailure(reason) from None
            raise PermanentFailure(reason) from None
        except RequestException as exc:
            raise TemporaryFailure(f"could not reach Notify: {type(exc).__name__}") from None
        return answer.get("id")


def _notify_message(exc) -> str:
    messages = exc.message if isinstance(exc.message, list) else [exc.message]
    return "; ".join(str(m.get("message", m)) if isinstance(m, dict) else str(m) for m in messages)
