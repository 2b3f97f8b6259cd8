"""Deliveries in and out of the database, and the copies this service keeps
of others' facts (providers' addresses, open referrals, who has answered)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from uuid import UUID

import sqlalchemy as sa

from services.notifications import models
from services.notifications.domain import NO_ADDRESS, Audience, Delivery, DeliveryStatus, Recipient
from shared.db import insert_for, is_postgres, upsert_if_newer
from shared.unit_of_work import Repository


class DeliveryRepository(Repository):
    def add_once(self, delivery: Delivery) -> bool:
        """Add the delivery unless this event already gave this template to this address."""
        d = models.deliveries.c
        exists = self.session.execute(sa.select(d.delivery_id).where(
            d.event_id == delivery.event_id, d.template == delivery.template,
            d.address == delivery.address)).first()
        if exists:
            return False
        self.session.add(delivery)
        return True

    def due(self, now: datetime, limit: int) -> list[Delivery]:
        """Pending deliveries whose time has come, oldest first, locked for this sender
        (another sender skips them on PostgreSQL; SQLite's unit of work holds the write lock)."""
        query = (sa.select(Delivery).where(Delivery.status == DeliveryStatus.PENDING,
                                           Delivery.next_attempt_at <= now)
                 .order_by(Delivery.next_attempt_at, Delivery.created_at).limit(limit))
        if is_postgres(self.session.get_bind()):
            query = query.with_for_update(skip_locked=True)
        return list(self.session.scalars(query))

    def failed_for_want_of_address(self, recipient_key: str, since: datetime) -> list[Delivery]:
        return list(self.session.scalars(sa.select(Delivery).where(
            Delivery.created_at >= since, Delivery.recipient_key == recipient_key,
            Delivery.status == DeliveryStatus.FAILED, Delivery.last_error == NO_ADDRESS)))

    def oldest_pending(self) -> datetime | None:
        return self.session.scalar(sa.select(sa.func.min(models.deliveries.c.created_at))
                                   .where(models.deliveries.c.status == DeliveryStatus.PENDING))

    def log(self, *, status: str | None, recipient_key: str | None, limit: int, offset: int) -> list[sa.Row]:
        """The delivery log: who, what, when and how it went; never the message's body."""
        d = models.deliveries.c
        query = sa.select(d.delivery_id, d.event_id, d.event_type, d.template, d.audience, d.recipient_key,
                          d.address, d.status, d.attempts, d.created_at, d.next_attempt_at, d.sent_at,
                          d.failed_at, d.last_error, d.reference)
        if status:
            query = query.where(d.status == status)
        if recipient_key:
            query = query.where(d.recipient_key == recipient_key)
        return list(self.session.execute(query.order_by(d.created_at.desc(), d.delivery_id)
                                         .limit(limit).offset(offset)))


class Copies(Repository):
    """What this service keeps of other services' facts, from their events."""

    def note_provider(self, provider_id: UUID, name: str, at: datetime, addresses: list[str] | None = None) -> None:
        values = {"provider_name": name}
        if addresses is not None:
            values["addresses"] = list(addresses)
        else:
            known = self.session.scalar(sa.select(models.providers.c.addresses)
                                        .where(models.providers.c.provider_id == provider_id))
            values["addresses"] = known or []
        upsert_if_newer(self.session, models.providers, {"provider_id": provider_id}, "updated_at", at, **values)

    def providers(self, provider_ids: Iterable[UUID]) -> list[Recipient]:
        ids = list(provider_ids)
        if not ids:
            return []
        p = models.providers.c
        rows = self.session.execute(sa.select(p.provider_id, p.provider_name, p.addresses)
                                    .where(p.provider_id.in_(ids)))
        known = {row.provider_id: Recipient(Audience.PROVIDER, str(row.provider_id), row.provider_name,
                                            tuple(row.addresses or ())) for row in rows}
        # a provider this service has not heard of yet still gets a delivery row (failed: no address),
        # so the manager sees who was not told
        return [known.get(i) or Recipient(Audience.PROVIDER, str(i), "Provider", ()) for i in ids]

    def note_referral(self, *, referral_id: UUID, lot: int, team: str, deadline: datetime, hours_per_week: Decimal,
                      start_date, invited: list[UUID], at: datetime, published_by: str | None = None) -> None:
        r = models.referrals
        self.session.execute(sa.delete(r).where(r.c.referral_id == referral_id))
        self.session.execute(r.insert().values(
            referral_id=referral_id, lot=lot, team=team, deadline=deadline, hours_per_week=hours_per_week,
            start_date=start_date, invited_provider_ids=[str(i) for i in invited], reminded=False,
            published_at=at, published_by=published_by, closed_notified=False))

    def referral(self, referral_id: UUID) -> sa.Row | None:
        r = models.referrals
        return self.session.execute(sa.select(r).where(r.c.referral_id == referral_id)).first()

    def forget_referral(self, referral_id: UUID) -> None:
        for table in (models.responses, models.referrals):
            self.session.execute(sa.delete(table).where(table.c.referral_id == referral_id))

    def note_response(self, referral_id: UUID, provider_id: UUID, at: datetime, kind: str = "offer") -> None:
        insert = insert_for(self.session, models.responses)
        self.session.execute(insert.values(referral_id=referral_id, provider_id=provider_id, responded_at=at,
                                           kind=kind)
                             .on_conflict_do_update(index_elements=["referral_id", "provider_id"],
                                                    set_={"kind": kind, "responded_at": at}))

    def referrals_to_remind(self, until: datetime, now: datetime) -> list[sa.Row]:
        r = models.referrals.c
        return list(self.session.execute(sa.select(models.referrals).where(
            r.reminded.is_(False), r.deadline <= until, r.deadline > now).order_by(r.deadline)))

    def silent_providers(self, referral: sa.Row) -> list[UUID]:
        answered = set(self.session.scalars(sa.select(models.responses.c.provider_id)
                                            .where(models.responses.c.referral_id == referral.referral_id)))
        return [UUID(i) for i in referral.invited_provider_ids if UUID(i) not in answered]

    def mark_reminded(self, referral_id: UUID) -> None:
        r = models.referrals
        self.session.execute(sa.update(r).where(r.c.referral_id == referral_id).values(reminded=True))

    def turned_off(self, recipient_key: str) -> set[str]:
        p = models.preferences.c
        return set(self.session.scalars(sa.select(p.template).where(p.recipient_key == recipient_key)))

    def set_turned_off(self, recipient_key: str, templates: set[str], by: str, at: datetime) -> None:
        p = models.preferences
        self.session.execute(sa.delete(p).where(p.c.recipient_key == recipient_key))
        for name in sorted(templates):
            self.session.execute(p.insert().values(recipient_key=recipient_key, template=name,
                                                   turned_off_by=by, turned_off_at=at))

    # -- issue #18: the deadline's notice to the officer, and dead letters ------------------------------

    def forget_response(self, referral_id: UUID, provider_id: UUID) -> None:
        """A withdrawn offer: the provider has not answered (it may offer again before the deadline)."""
        r = models.responses.c
        self.session.execute(sa.delete(models.responses).where(r.referral_id == referral_id,
                                                               r.provider_id == provider_id))

    def move_deadline(self, referral_id: UUID, deadline: datetime) -> None:
        r = models.referrals
        self.session.execute(sa.update(r).where(r.c.referral_id == referral_id).values(deadline=deadline))

    def referrals_closed(self, now: datetime) -> list[sa.Row]:
        """Referrals whose deadline has passed and whose officer has not been told."""
        r = models.referrals.c
        return list(self.session.execute(sa.select(models.referrals).where(
            r.closed_notified.is_(False), r.deadline <= now).order_by(r.deadline)))

    def live_offers(self, referral_id: UUID) -> int:
        r = models.responses.c
        return self.session.scalar(sa.select(sa.func.count()).where(r.referral_id == referral_id,
                                                                    r.kind == "offer"))

    def mark_closed_notified(self, referral_id: UUID) -> None:
        r = models.referrals
        self.session.execute(sa.update(r).where(r.c.referral_id == referral_id).values(closed_notified=True))

    def dead_letter_depth(self, queue: str) -> int:
        d = models.dead_letter_depths.c
        return self.session.scalar(sa.select(d.depth).where(d.queue == queue)) or 0

    def note_dead_letter_depth(self, queue: str, depth: int, at: datetime) -> None:
        insert = insert_for(self.session, models.dead_letter_depths)
        self.session.execute(insert.values(queue=queue, depth=depth, checked_at=at).on_conflict_do_update(
            index_elements=["queue"], set_={"depth": depth, "checked_at": at}))
