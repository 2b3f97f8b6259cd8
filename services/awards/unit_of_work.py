"""The awards unit of work: its repositories, and its one mapping of domain
events to what it publishes and audits (messages.translate)."""

from __future__ import annotations

from sqlalchemy.orm.exc import StaleDataError

from services.awards import messages
from services.awards.repository import (
    BlockContracts,
    CallOffs,
    Competitions,
    DpsRecords,
    OffDpsPlacements,
    RegistryCopy,
)
from shared.errors import Conflict
from shared.unit_of_work import UnitOfWork


class AwardsUnitOfWork(UnitOfWork):
    dps_records: DpsRecords
    registry: RegistryCopy
    call_offs: CallOffs
    competitions: Competitions
    contracts: BlockContracts
    off_dps: OffDpsPlacements

    def open_repositories(self, session) -> None:
        self.dps_records = DpsRecords(session)
        self.registry = RegistryCopy(session)
        self.call_offs = CallOffs(session)
        self.competitions = Competitions(session)
        self.contracts = BlockContracts(session)
        self.off_dps = OffDpsPlacements(session)

    def translate(self, event):
        return messages.translate(event)

    def commit(self) -> None:
        """A mini-competition's row changed by someone else since it was read (its
        version moved on): the second writer is refused, and may try again."""
        try:
            super().commit()
        except StaleDataError:
            raise Conflict("the mini-competition was changed by someone else at the same time: try again") from None
