"""Who is acting: the one type every service uses for a person (from their
token) or for a service's own process (a consumer, a scheduled job).

Plain Python, so the domain may take it too: rules such as "an officer sees
only their own team's records" read `team_scope` and `provider_id` here, and
the audit trail records `id` and `roles`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

COUNCIL_ROLES = frozenset({"officer", "manager", "evaluator", "reporting"})
SEES_EVERY_TEAM = frozenset({"manager", "reporting"})


@dataclass(frozen=True)
class Actor:
    id: str  # the token's `sub`, or "system:<service or job>"
    roles: frozenset[str] = field(default_factory=frozenset)
    team: str | None = None
    provider_id: uuid.UUID | None = None

    @classmethod
    def system(cls, name: str) -> Actor:
        """A service's own process acting on what it was told (an event, a job)."""
        return cls(f"system:{name}")

    @property
    def sub(self) -> str:
        """The token's subject (the name JWTs give `id`)."""
        return self.id

    @property
    def is_system(self) -> bool:
        return self.id.startswith("system:")

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_provider(self) -> bool:
        """Acting for a provider organisation, with no council role."""
        return self.provider_id is not None and not (self.roles & COUNCIL_ROLES)

    @property
    def is_provider_only(self) -> bool:
        return self.roles == frozenset({"provider"})

    @property
    def team_scope(self) -> str | None:
        """The team an officer is limited to; None for the manager, reporting,
        providers (limited by `provider_id` instead) and the system."""
        if "officer" in self.roles and not (self.roles & SEES_EVERY_TEAM):
            return self.team
        return None
