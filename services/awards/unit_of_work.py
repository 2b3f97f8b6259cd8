"""The awards unit of work: its repositories, and its one mapping of domain
events to what it publishes and audits (messages.translate)."""

from __future__ import annotations

from services.awards import messages
from services.awards.repository import BlockContracts, CallOffs, Competitions, RegistryCopy
from shared.unit_of_work import UnitOfWork


class AwardsUnitOfWork(UnitOfWork):
    registry: RegistryCopy
    call_offs: CallOffs
    competitions: Competitions
    contracts: BlockContracts

    def open_repositories(self, session) -> None:
        self.registry = RegistryCopy(session)
        self.call_offs = CallOffs(session)
        self.competitions = Competitions(session)
        self.contracts = BlockContracts(session)

    def translate(self, event):
        return messages.translate(event)
