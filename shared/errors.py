"""The one error vocabulary of every service.

Domain code raises these (they carry no Flask); `shared.web` turns them into
the one wire format, the same shape flask-smorest gives validation errors:

    {"code": 422, "status": "Unprocessable Entity",
     "message": "offer refused",
     "errors": {"json": {"unit_price_pence": ["above the maximum price of 5000 pence"]}}}

`errors` nests like the request does (`{"json": {"profile": {"aims": [...]}}}`),
always as JSON, never as the text of a Python structure.  A 409 also says
what conflicted, in `conflict`: the field whose value clashes with what is
stored (`"lot"`, `"offer_id"`), or `"state"` when the thing's current state
does not allow the action (the message says which state):

    {"code": 409, "status": "Conflict", "conflict": "state",
     "message": "the placement is ended; its arrangements are closed"}
"""

from __future__ import annotations


class DPSError(Exception):
    """Base of every refusal the API reports as a 4xx."""

    status = 400

    def __init__(self, message: str, field: str | None = None, *, errors: dict | None = None,
                 location: str = "json") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.location = location
        # field -> list of reasons; one named field is the common case
        self.field_errors: dict[str, list[str]] = dict(errors or {})
        if field is not None:
            self.field_errors.setdefault(field, []).append(message)

    def to_dict(self) -> dict:
        from http import HTTPStatus

        body = {"code": self.status, "status": HTTPStatus(self.status).phrase, "message": self.message}
        if self.field_errors:
            body["errors"] = {self.location: self.field_errors}
        return body


class InvalidInput(DPSError):
    """The request is well formed but a field breaks a rule (422, field named)."""

    status = 422


class Forbidden(DPSError):
    """The caller is known but may not do this (403)."""

    status = 403


class Unauthorized(DPSError):
    """No valid credentials (401)."""

    status = 401


class NotFound(DPSError):
    status = 404


class Conflict(DPSError):
    """Wrong state for this action, or a duplicate (409): `conflict` in the
    body names the field that clashed, else "state"."""

    status = 409

    def to_dict(self) -> dict:
        return {**super().to_dict(), "conflict": self.field or "state"}


class ServiceUnavailable(DPSError):
    status = 503
