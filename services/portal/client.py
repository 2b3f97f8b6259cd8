"""The one way the portal calls the services: as the signed-in person, with the token it signs for them.

A refusal (4xx) becomes `Refused`, carrying the services' one error format (`shared/errors.py`): its message
and its field errors, which the forms show in the Design System's error summary.  A service that does not
answer (or answers 5xx) becomes `ServiceDown`: a page saying so, never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import abort, current_app, g, session

from shared.config import PortalSettings

log = logging.getLogger("dps.portal")

# (service, method, path, headers, json body) -> (status, json body or None)
Transport = Callable[[str, str, str, dict, dict | None], tuple[int, object]]


class ServiceDown(Exception):
    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.service = service


@dataclass
class Refused(Exception):
    status: int
    message: str
    field_errors: dict = field(default_factory=dict)  # field -> [reasons], nested as the request was

    @classmethod
    def of(cls, status: int, body) -> Refused:
        body = body if isinstance(body, dict) else {}
        errors = body.get("errors") or {}
        return cls(status, str(body.get("message") or "The request was refused"), dict(errors.get("json") or {}))


def http_transport(urls: dict[str, str], timeout: float = 10) -> Transport:
    """Calls the services over HTTP (requests, one pooled session)."""
    import requests

    session = requests.Session()

    def send(service, method, path, headers, body):
        try:
            response = session.request(method, urls[service] + path, headers=headers, json=body, timeout=timeout)
        except requests.RequestException as exc:
            log.warning("a service did not answer", extra={"service": service, "error": type(exc).__name__})
            raise ServiceDown(service) from None
        try:
            data = response.json()
        except ValueError:
            data = None
        return response.status_code, data

    return send


class ServicesClient:
    """The services' public APIs, called as one person (their token)."""

    def __init__(self, transport: Transport, token: Callable[[], str]) -> None:
        self.transport, self.token = transport, token

    def call(self, service: str, method: str, path: str, body: dict | None = None):
        headers = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}
        status, data = self.transport(service, method, path, headers, body)
        if status >= 500:
            log.warning("a service failed", extra={"service": service, "status": status})
            raise ServiceDown(service)
        if status >= 400:
            raise Refused.of(status, data)
        return data

    def get(self, service: str, path: str):
        return self.call(service, "GET", path)

    def post(self, service: str, path: str, body: dict):
        return self.call(service, "POST", path, body)


def no_provider_users(address: str):
    """Whom an address signs in as: the registry's provider users, once it has them (issue #19, "provider
    organisations have users"); until then no address is one, and a link is never sent."""
    return None


class PortalState:
    """What the portal's app holds: its settings, how it reaches the services and its token signer."""

    def __init__(self, settings: PortalSettings, transport: Transport) -> None:
        from services.portal.tokens import TokenSigner

        self.settings, self.transport = settings, transport
        self.signer = TokenSigner(settings)
        self.provider_users = no_provider_users




def services() -> ServicesClient:
    """The services' APIs as the signed-in person (401, so the sign-in page, when no one is)."""
    person = g.get("person")
    if person is None:
        abort(401)
    portal: PortalState = current_app.extensions["portal"]
    return ServicesClient(portal.transport, lambda: portal.signer.cached(person, session))
