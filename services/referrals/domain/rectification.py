"""Rectification of a child's details (UK GDPR Article 16).

An officer of the commissioning team or the manager corrects who the child
is (name, date of birth, UPN, address), its AP census details (surname,
forename, sex, ethnicity, SEN provision, free school meals) and the profile facts other services
keep a copy of (`ehcp`, `looked_after`).  The correction applies to every
referral of the child; the audit names the fields changed, never their old
or new values; `child.corrected` carries to awards and tracking only what
they keep (`child_ref`, and `ehcp` / `looked_after` where changed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from uuid import UUID

from shared.actor import Actor
from shared.errors import Forbidden, InvalidInput

from .profile import ChildDetails, check_pseudonymised
from .referral import Referral
from .visibility import is_council_side

IDENTITY = tuple(f.name for f in fields(ChildDetails))  # who the child is, and its AP census details
PROFILE_FACTS = ("ehcp", "looked_after")  # the profile's facts that awards and tracking copy
CORRECTABLE = IDENTITY + PROFILE_FACTS


@dataclass(frozen=True)
class ChildCorrected:
    child_ref: UUID
    changed: tuple[str, ...]  # the fields' names, never their values
    referral_ids: tuple[UUID, ...]
    facts: Mapping[str, bool]  # the profile facts changed, with their new values (what the event carries)
    at: datetime


class ChildRecord:
    """One child's referrals, corrected together (they share the child's `child_ref`)."""

    def __init__(self, child_ref: UUID, referrals: Sequence[Referral]) -> None:
        self.child_ref = child_ref
        self.referrals = sorted(referrals, key=lambda r: r.created_at)
        self.events: list[ChildCorrected] = []

    @property
    def child(self) -> ChildDetails:
        return self.referrals[-1].child

    def corrected_details(self, changes: Mapping[str, object], *, by: Actor) -> ChildDetails:
        """Who the child is once corrected; refused (naming the field) if the correction is not one.
        By the manager, or an officer of the commissioning team of one of the child's referrals."""
        unknown = sorted(set(changes) - set(CORRECTABLE))
        if unknown:
            raise InvalidInput(f"{unknown[0]} is not a detail that can be corrected here", field=unknown[0])
        if not changes:
            raise InvalidInput("say what to correct: " + ", ".join(CORRECTABLE), field="json")
        if not any(is_council_side(r, by) for r in self.referrals):
            raise Forbidden("only the commissioning team of the child's referral or the manager may correct it")
        return ChildDetails(**{name: changes.get(name, getattr(self.child, name)) for name in IDENTITY})

    def correct(self, changes: Mapping[str, object], *, by: Actor, now: datetime) -> tuple[str, ...]:
        """Apply the correction to every referral of the child; the names of the fields that changed."""
        corrected = self.corrected_details(changes, by=by)
        facts = {name: changes[name] for name in PROFILE_FACTS if name in changes}
        for name, value in facts.items():
            if not isinstance(value, bool):
                raise InvalidInput("must be true or false", field=name)
        given = {name: getattr(corrected, name) for name in IDENTITY if name in changes}  # as normalised
        changed = [name for name, value in given.items()
                   if any(getattr(r.child, name) != value for r in self.referrals)]
        changed_facts = {name: value for name, value in facts.items()
                         if any(getattr(r.profile, name) != value for r in self.referrals)}
        if not changed and not changed_facts:
            return ()
        corrections = [(referral, replace(referral.child, **given),  # each keeps what was not corrected
                        replace(referral.profile, **changed_facts)) for referral in self.referrals]
        for referral, child, profile in corrections:  # the profile may not name the child as corrected either
            check_pseudonymised(child, profile, referral.questions)
        for referral, child, profile in corrections:
            referral.child, referral.profile = child, profile
        names = (*changed, *changed_facts)
        self.events.append(ChildCorrected(self.child_ref, names, tuple(r.id for r in self.referrals),
                                          changed_facts, now))
        return names
