"""The short-lived RS256 tokens the portal signs for the signed-in person, to call the services with.

The services verify them with the portal's public key (DPS_JWT_PUBLIC_KEY).  A token lives
DPS_PORTAL_TOKEN_LIFETIME seconds (5 minutes unless set) and is minted afresh when half of that is gone."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from shared.auth import mint_token
from shared.config import PortalSettings


@dataclass(frozen=True)
class Person:
    """Who is signed in: what a token says about them (never more)."""

    sub: str
    roles: tuple[str, ...]
    team: str | None = None
    provider_id: str | None = None
    name: str = ""

    def to_session(self) -> dict:
        return {"sub": self.sub, "roles": list(self.roles), "team": self.team, "provider_id": self.provider_id,
                "name": self.name}

    @classmethod
    def from_session(cls, data: dict) -> Person:
        return cls(data["sub"], tuple(data["roles"]), data.get("team"), data.get("provider_id"), data.get("name", ""))

    @property
    def is_provider(self) -> bool:
        return "provider" in self.roles


class TokenSigner:
    def __init__(self, settings: PortalSettings) -> None:
        if not settings.jwt_private_key:
            raise ValueError("the portal signs tokens with DPS_PORTAL_JWT_PRIVATE_KEY (an RS256 private key, PEM)")
        self.settings = settings

    def token_for(self, person: Person) -> str:
        s = self.settings
        return mint_token(roles=list(person.roles), sub=person.sub, team=person.team, provider_id=person.provider_id,
                          ttl=timedelta(seconds=s.token_lifetime), private_key=s.jwt_private_key,
                          issuer=s.jwt_issuer, audience=s.jwt_audience)

    def cached(self, person: Person, cache: dict) -> str:
        """A token for `person`, reused from `cache` (the session) while more than half its life is left."""
        now = time.time()
        if cache.get("token") and cache.get("token_sub") == person.sub and cache.get("token_renew", 0) > now:
            return cache["token"]
        token = self.token_for(person)
        cache.update(token=token, token_sub=person.sub, token_renew=now + self.settings.token_lifetime / 2)
        return token
