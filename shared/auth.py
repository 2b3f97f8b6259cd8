"""Bearer JWT authentication and role checks: the one place tokens are verified.

Our own tokens: HS256 with DPS_JWT_SECRET, and/or RS256 with DPS_JWT_PUBLIC_KEY (the portal's key).  A
token is checked only with the keys of the algorithm its header names, and only a configured algorithm is
accepted, so `alg: none` and algorithm confusion fail.
Claims: sub, roles, iat and exp always; team for officers; provider_id for
providers.

The council's identity provider's tokens (DPS_JWT_JWKS_URL): a token with a `kid`, in one of the
algorithms DPS_JWT_ALGORITHMS allows (public-key algorithms only, RS256 and ES256 unless set), is
verified with the key of that id the provider publishes (`IdentityProviderKeys`); its roles, team and
provider are read from the claims DPS_JWT_ROLES_CLAIM, DPS_JWT_TEAM_CLAIM and DPS_JWT_PROVIDER_CLAIM
name, its role names translated by DPS_JWT_ROLE_MAP (`ClaimNames`).

A token is bound to this deployment: `iss` must be DPS_JWT_ISSUER and `aud` must name
DPS_JWT_AUDIENCE (each checked when set; both required with a JWKS URL), and it may live no longer
than DPS_JWT_MAX_LIFETIME seconds from its `iat` (12 hours unless set).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt
from flask import current_app, g, has_app_context, request
from marshmallow import ValidationError

from shared.actor import Actor
from shared.config import DEFAULT_TEAMS, parse_teams
from shared.errors import Forbidden, ServiceUnavailable, Unauthorized

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class ClaimNames:
    """Where a token carries the roles, the team and the provider, and the issuer's role names -> ours.

    Our own tokens (`dps token`, a static key) use `roles`, `team` and `provider_id` with our role names; the
    identity provider's use what DPS_JWT_ROLES_CLAIM, DPS_JWT_TEAM_CLAIM, DPS_JWT_PROVIDER_CLAIM and
    DPS_JWT_ROLE_MAP say.  A claim name is looked up as it is (`roles`, `https://council.example/roles`),
    else as a dotted path into nested claims (`realm_access.roles`)."""

    roles: str = "roles"
    team: str = "team"
    provider_id: str = "provider_id"
    # the issuer's role names -> ours; when set, a role it does not name is not one of ours and is ignored
    role_map: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, settings) -> ClaimNames:
        return cls(settings.jwt_roles_claim, settings.jwt_team_claim, settings.jwt_provider_claim,
                   dict(settings.jwt_role_map))

    @staticmethod
    def read(claims: Mapping, name: str):
        if name in claims:
            return claims[name]
        value = claims
        for part in name.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return None
            value = value[part]
        return value

    def roles_of(self, claims: Mapping) -> list:
        roles = self.read(claims, self.roles)
        if not self.role_map or not isinstance(roles, list):
            return roles
        return sorted({self.role_map[r] for r in roles if isinstance(r, str) and r in self.role_map})


OUR_CLAIMS = ClaimNames()


class IdentityProviderKeys:
    """The council's identity provider's signing keys, from its JWKS URL (DPS_JWT_JWKS_URL).

    The key set is fetched when first needed and kept for `lifetime` seconds (DPS_JWT_JWKS_LIFETIME).  A
    token naming a `kid` the kept set lacks fetches the set again at once (the provider has rotated its
    keys), at most once per `cooldown` seconds, so tokens with made-up `kid`s cannot make us hammer it; a
    key the provider has withdrawn is refused once the set is fetched again.  When the set cannot be
    fetched the request is refused 503 (ServiceUnavailable), not 401: the caller's token may be fine."""

    COOLDOWN = 30.0

    def __init__(self, url: str, *, lifetime: float = 3600, cooldown: float = COOLDOWN, timeout: float = 5) -> None:
        self.client = jwt.PyJWKClient(url, lifespan=lifetime, cooldown_duration=0, timeout=timeout)
        self.cooldown = cooldown
        self.version = 0  # goes up whenever the set of key ids changes
        self._kids: frozenset[str] = frozenset()
        self._refreshed: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            key = self._find(kid, refresh=False)
            if key is None and (self._refreshed is None or time.monotonic() - self._refreshed >= self.cooldown):
                self._refreshed = time.monotonic()
                key = self._find(kid, refresh=True)
        if key is None:
            raise Unauthorized("invalid token: signed with a key the identity provider does not publish")
        return key

    def _find(self, kid: str, *, refresh: bool) -> jwt.PyJWK | None:
        try:
            jwk_set = self.client.get_jwk_set(refresh)
        except (jwt.PyJWKClientError, jwt.PyJWKSetError) as exc:
            log.warning("the identity provider's keys could not be fetched", extra={"error": type(exc).__name__})
            raise ServiceUnavailable("the identity provider's signing keys could not be fetched "
                                     "(DPS_JWT_JWKS_URL); try again shortly") from None
        kids = frozenset(k.key_id for k in jwk_set.keys if k.key_id)
        if kids != self._kids:
            self._kids, self.version = kids, self.version + 1
        return next((k for k in jwk_set.keys if k.key_id == kid and k.public_key_use in ("sig", None)), None)


class TokenVerifier:
    """Verifies our own tokens with the current key and, during a rotation, the previous one; and the
    identity provider's (those with a `kid`, in an allowed algorithm) with its published keys.

    A client sends the same token with every request until it expires, so a
    token already verified is remembered (by its exact text, until its `exp`, and for the identity
    provider's, while its key set is unchanged): checking a signature again costs more than the rest of a
    simple read."""

    REMEMBERED = 4096
    LEEWAY = 60  # seconds a token may live beyond the maximum (an issuer rounding its times)

    def __init__(self, secret: str | None = None, public_key: str | None = None, *,
                 previous_secret: str | None = None, previous_public_key: str | None = None,
                 issuer: str | None = None, audience: str | None = None,
                 max_lifetime: float = 12 * 3600, teams: dict[str, str] | None = None,
                 identity_provider: IdentityProviderKeys | None = None,
                 algorithms: tuple[str, ...] = ("RS256", "ES256"), claims: ClaimNames = OUR_CLAIMS) -> None:
        # our own keys by algorithm: the portal's RS256 public key and, beside it, a shared HS256 secret
        # (`make run` keeps the development secret for `dps token`); a token is checked only with the keys
        # of the algorithm its header names, so a public key is never tried as an HMAC secret
        self.keys_by_algorithm = {alg: [k for k in keys if k] for alg, keys in
                                  (("RS256", [public_key, previous_public_key]), ("HS256", [secret, previous_secret]))
                                  if keys[0]}
        if not self.keys_by_algorithm and identity_provider is None:
            raise ValueError("set DPS_JWT_SECRET (HS256), DPS_JWT_PUBLIC_KEY (RS256) or DPS_JWT_JWKS_URL")
        self.keys = [k for keys in self.keys_by_algorithm.values() for k in keys]
        self.algorithms = list(self.keys_by_algorithm)
        if identity_provider is not None and not (issuer and audience):
            raise ValueError("DPS_JWT_JWKS_URL needs DPS_JWT_ISSUER and DPS_JWT_AUDIENCE")
        if any(a.startswith("HS") or a.lower() == "none" for a in algorithms):
            raise ValueError("the identity provider's tokens are verified with public keys only: "
                             "DPS_JWT_ALGORITHMS may not name HS* or none")
        self.identity_provider, self.provider_algorithms, self.claims = identity_provider, list(algorithms), claims
        self.issuer, self.audience, self.max_lifetime = issuer, audience, max_lifetime
        self.teams = tuple(teams if teams is not None else _DEFAULT_TEAMS)
        self._verified: dict[str, tuple[Principal, float, int | None]] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, settings) -> TokenVerifier:
        """The verifier a service's settings describe."""
        s = settings
        provider = IdentityProviderKeys(s.jwt_jwks_url, lifetime=s.jwt_jwks_lifetime) if s.jwt_jwks_url else None
        return cls(s.jwt_secret, s.jwt_public_key, previous_secret=s.jwt_previous_secret,
                   previous_public_key=s.jwt_previous_public_key, issuer=s.jwt_issuer, audience=s.jwt_audience,
                   max_lifetime=s.jwt_max_lifetime, teams=s.teams, identity_provider=provider,
                   algorithms=s.jwt_algorithms, claims=ClaimNames.of(s))

    def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None:
            principal, expires, version = known
            if time.time() < expires and version in (None, self._key_version()):
                return principal
            with self._lock:
                self._verified.pop(token, None)
        principal, expires, version = self._verify(token)
        with self._lock:
            if len(self._verified) >= self.REMEMBERED:
                self._verified.clear()  # crude but bounded: the next requests verify again
            self._verified[token] = (principal, expires, version)
        return principal

    def _key_version(self) -> int | None:
        return self.identity_provider.version if self.identity_provider is not None else None

    def _verify(self, token: str) -> tuple[Principal, float, int | None]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        if (self.identity_provider is not None and header.get("kid")
                and header.get("alg") in self.provider_algorithms):
            key = self.identity_provider.key(str(header["kid"]))
            principal, expires = self._decode(token, [key], self.provider_algorithms, self.claims)
            return principal, expires, self.identity_provider.version
        if not self.keys:
            raise Unauthorized("invalid token: not signed by the identity provider with an allowed algorithm "
                               f"({', '.join(self.provider_algorithms)}) and a key id")
        algorithm = header.get("alg")
        if algorithm not in self.keys_by_algorithm:
            raise Unauthorized(f"invalid token: signed with {algorithm}; this service accepts "
                               f"{', '.join(self.algorithms)}")
        return (*self._decode(token, self.keys_by_algorithm[algorithm], [algorithm], OUR_CLAIMS), None)

    def _decode(self, token: str, keys: list, algorithms: list[str], names: ClaimNames) -> tuple[Principal, float]:
        failure: jwt.InvalidTokenError | None = None
        for key in keys:
            try:
                claims = jwt.decode(token, key, algorithms=algorithms, issuer=self.issuer,
                                    audience=self.audience,
                                    options={"require": ["sub", "exp", "iat"],
                                             "verify_aud": self.audience is not None})
                self._check_lifetime(claims)
                return principal_from_claims(claims, self.teams, names), float(claims["exp"])
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


def principal_from_claims(claims: dict, teams: tuple[str, ...] = tuple(_DEFAULT_TEAMS),
                          names: ClaimNames = OUR_CLAIMS) -> Principal:
    roles = names.roles_of(claims)
    if not isinstance(roles, list) or not roles or not all(r in ROLES for r in roles):
        mapped = " (after DPS_JWT_ROLE_MAP)" if names.role_map else ""
        raise Unauthorized(f"invalid token: {names.roles} must be a non-empty list of {', '.join(ROLES)}{mapped}")
    team = names.read(claims, names.team)
    if "officer" in roles and team not in teams:
        raise Unauthorized(f"invalid token: an officer's {names.team} must be one of {', '.join(teams)}")
    provider_id = None
    if "provider" in roles:
        try:
            provider_id = uuid.UUID(str(names.read(claims, names.provider_id)))
        except ValueError:
            raise Unauthorized(f"invalid token: a provider user needs a {names.provider_id} (UUID)") from None
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


def new_key_pair() -> tuple[str, str]:
    """A new RS256 key pair, (private, public) PEM: the portal's development key, and tests'."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


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
