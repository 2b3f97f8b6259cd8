"""Bearer JWT authentication and role checks.

HS256 with DPS_JWT_SECRET, or RS256 with DPS_JWT_PUBLIC_KEY.  Only the one
configured algorithm is accepted, so `alg: none` and algorithm confusion fail.
Claims: sub, roles, iat and exp always; team for officers; provider_id for
providers.  A token is bound to this deployment: `iss` must be DPS_JWT_ISSUER
and `aud` must name DPS_JWT_AUDIENCE (each checked when set), and it may live
no longer than DPS_JWT_MAX_LIFETIME seconds from its `iat` (12 hours unless set).
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from copy import deepcopy
from datetime import UTC, datetime, timedelta

import jwt
from flask import current_app, g, has_app_context, request
from marshmallow import ValidationError

from shared.actor import Actor
from shared.config import DEFAULT_TEAMS, parse_teams
from shared.errors import Forbidden, Unauthorized

ROLES = ("officer", "manager", "evaluator", "provider", "reporting")
PUBLIC = "public"
_DEFAULT_TEAMS = parse_teams(DEFAULT_TEAMS)


def configured_teams() -> dict[str, str]:
    """The commissioning teams (code -> name) of the running service (DPS_TEAMS), or the default ones."""
    if has_app_context() and "dps" in current_app.extensions:
        return current_app.extensions["dps"].settings.teams
    return _DEFAULT_TEAMS


def validate_team(value: str) -> None:
    """A schema's validator of a team code: one of the configured teams (DPS_TEAMS)."""
    teams = configured_teams()
    if value not in teams:
        raise ValidationError(f"Must be one of: {', '.join(teams)}.")


# The person behind a request: the one actor type every service uses.
Principal = Actor


class TokenVerifier:
    """Verifies with the current key and, during a rotation, the previous one.

    A client sends the same token with every request until it expires, so a
    token already verified is remembered (by its exact text, until its `exp`):
    checking a signature again costs more than the rest of a simple read."""

    REMEMBERED = 4096
    LEEWAY = 60  # seconds a token may live beyond the maximum (an issuer rounding its times)

    def __init__(self, secret: str | None = None, public_key: str | None = None, *,
                 previous_secret: str | None = None, previous_public_key: str | None = None,
                 issuer: str | None = None, audience: str | None = None,
                 max_lifetime: float = 12 * 3600, teams: dict[str, str] | None = None) -> None:
        if public_key:
            self.keys, self.algorithms = [public_key, previous_public_key], ["RS256"]
        elif secret:
            self.keys, self.algorithms = [secret, previous_secret], ["HS256"]
        else:
            raise ValueError("set DPS_JWT_SECRET (HS256) or DPS_JWT_PUBLIC_KEY (RS256)")
        self.keys = [k for k in self.keys if k]
        self.issuer, self.audience, self.max_lifetime = issuer, audience, max_lifetime
        self.teams = tuple(teams if teams is not None else _DEFAULT_TEAMS)
        self._verified: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None:
            principal, expires = known
            if time.time() < expires:
                return principal
            with self._lock:
                self._verified.pop(token, None)
        principal, expires = self._verify(token)
        with self._lock:
            if len(self._verified) >= self.REMEMBERED:
                self._verified.clear()  # crude but bounded: the next requests verify again
            self._verified[token] = (principal, expires)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        failure: jwt.InvalidTokenError | None = None
        for key in self.keys:
            try:
                claims = jwt.decode(token, key, algorithms=self.algorithms, issuer=self.issuer,
                                    audience=self.audience,
                                    options={"require": ["sub", "exp", "iat", "roles"],
                                             "verify_aud": self.audience is not None})
                self._check_lifetime(claims)
                return principal_from_claims(claims, self.teams), float(claims["exp"])
            except jwt.ExpiredSignatureError:
                raise Unauthorized("token expired") from None
            except jwt.InvalidSignatureError as exc:
                failure = exc  # perhaps signed with the other key
            except jwt.InvalidTokenError as exc:
                raise Unauthorized(f"invalid token: {exc}") from None
        raise Unauthorized(f"invalid token: {failure}")

    def _check_lifetime(self, claims: dict) -> None:
        lifetime = float(claims["exp"]) - float(claims["iat"])
        if lifetime > self.max_lifetime + self.LEEWAY:
            raise Unauthorized(f"invalid token: it lives {lifetime / 3600:.1f} hours; "
                               f"at most {self.max_lifetime / 3600:g} are accepted")


def principal_from_claims(claims: dict, teams: tuple[str, ...] = tuple(_DEFAULT_TEAMS)) -> Principal:
    roles = claims.get("roles")
    if not isinstance(roles, list) or not roles or not all(r in ROLES for r in roles):
        raise Unauthorized(f"invalid token: roles must be a non-empty list of {', '.join(ROLES)}")
    team = claims.get("team")
    if "officer" in roles and team not in teams:
        raise Unauthorized(f"invalid token: an officer's team must be one of {', '.join(teams)}")
    provider_id = None
    if "provider" in roles:
        try:
            provider_id = uuid.UUID(str(claims.get("provider_id")))
        except ValueError:
            raise Unauthorized("invalid token: a provider user needs a provider_id (UUID)") from None
    return Actor(str(claims["sub"]), frozenset(roles), team, provider_id)


def mint_token(*, roles: list[str], sub: str = "dev-user", team: str | None = None,
               provider_id: str | uuid.UUID | None = None, ttl: timedelta = timedelta(hours=8),
               secret: str | None = None, private_key: str | None = None,
               issuer: str | None = None, audience: str | None = None) -> str:
    """A signed token (development and tests), for the deployment named by `issuer` and `audience`."""
    now = datetime.now(UTC)
    claims: dict = {"sub": sub, "roles": roles, "iat": now, "exp": now + ttl}
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    if team:
        claims["team"] = team
    if provider_id:
        claims["provider_id"] = str(provider_id)
    if private_key:
        return jwt.encode(claims, private_key, algorithm="RS256")
    if not secret:
        raise ValueError("a secret or a private key is needed to sign")
    return jwt.encode(claims, secret, algorithm="HS256")


# -- Flask ------------------------------------------------------------------

def _verifier() -> TokenVerifier:
    return current_app.extensions["dps"].verifier


def authenticate() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    return _verifier().verify(token.strip())


def current_principal() -> Principal:
    return g.principal


def _document(wrapper, roles: list[str]) -> None:
    # Same mechanism as flask-smorest's Blueprint.doc: the roles go into the
    # OpenAPI document (x-roles), which the security tests read.
    apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    manual = apidoc.setdefault("manual_doc", {})
    manual["x-roles"] = roles
    if roles != [PUBLIC]:
        manual["security"] = [{"bearerAuth": []}]
        responses = manual.setdefault("responses", {})
        responses.setdefault("401", {"description": "Missing, expired or invalid token"})
        responses.setdefault("403", {"description": "The token lacks the role"})
    wrapper._apidoc = apidoc


def requires(*roles: str):
    """Only callers holding one of `roles` (401 without a valid token, 403 without the role)."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown roles {unknown}")

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if g.get("principal") is None:  # not already checked before the request was parsed
                g.principal = authorize(roles)
            return func(*args, **kwargs)

        _document(wrapper, list(roles))
        # Read by shared.web before any argument parsing (outer decorators copy it up),
        # so a caller without the role gets 401/403, never a 422 about a body it may not send.
        wrapper._dps_roles = tuple(roles)
        return wrapper

    return decorator


def authorize(roles: tuple[str, ...] | list[str]) -> Principal:
    principal = authenticate()
    if not principal.has(*roles):
        raise Forbidden(f"requires the role {' or '.join(roles)}", field="roles", location="headers")
    return principal


def required_roles(view_function, method: str) -> tuple[str, ...] | None:
    """The roles an endpoint requires (None: public or not ours)."""
    view_class = getattr(view_function, "view_class", None)
    handler = getattr(view_class, method.lower(), None) if view_class is not None else view_function
    return getattr(handler, "_dps_roles", None)


def public(func):
    """Open to anyone (the council's published directory, health)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    _document(wrapper, [PUBLIC])
    wrapper._dps_public = True
    return wrapper
