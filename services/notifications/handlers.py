"""Notifications' use cases: record who must hear of an event (one delivery
per address), send what is due, remind the providers who have not answered,
and keep each person's preferences."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

from services.notifications import domain
from services.notifications.domain import Audience, Delivery, Links, Notice, Recipient
from services.notifications.senders import Sender
from shared.catalogue import LOTS
from shared.config import Settings
from shared.errors import InvalidInput
from shared.unit_of_work import AuditEntry, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Directory:
    """Who the council's recipients are, and where people act: from configuration."""

    council_name: str
    links: Links
    teams: dict[str, str]  # code -> name
    team_mailboxes: dict[str, str]
    manager_mailbox: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> Directory:
        return cls(settings.council_name, Links(settings.portal_url), dict(settings.teams),
                   dict(settings.team_mailboxes), settings.manager_mailbox)

    def team(self, code: str) -> Recipient:
        box = self.team_mailboxes.get(code)
        return Recipient(Audience.OFFICER, f"team:{code}", self.teams.get(code, code), (box,) if box else ())

    def manager(self) -> Recipient:
        return Recipient(Audience.MANAGER, "manager", "DPS manager",
                         (self.manager_mailbox,) if self.manager_mailbox else ())


def lot_name(lot: int) -> str:
    return LOTS.get(lot, f"lot {lot}")


def record(uow: UnitOfWork, event_id: UUID, event_type: str, notices: list[Notice], directory: Directory) -> int:
    """A delivery for each address of each recipient who wants the notice; a
    recipient with no address on record gets a failed delivery saying so (the
    manager sees who was not told).  Returns how many were new."""
    now, added = uow.now(), 0
    for notice in notices:
        recipient = notice.recipient
        if not domain.wanted(notice, uow.copies.turned_off(recipient.key)):
            continue
        values = {**notice.values, "council_name": directory.council_name}
        for address in recipient.addresses or (None,):
            delivery = Delivery(event_id=event_id, event_type=event_type, template=notice.template,
                                audience=recipient.audience.value, recipient_key=recipient.key,
                                address=address or f"(none on record for {recipient.key})", values=values,
                                created_at=now)
            if address is None:
                delivery.failed(domain.NO_ADDRESS, now)
            added += uow.deliveries.add_once(delivery)
    return added


def told_late(uow: UnitOfWork, recipient: Recipient) -> int:
    """The recipient's addresses have arrived: what failed for want of one in the last week is sent to them
    now (once: a later change of address sends nothing again).  Returns how many deliveries were added."""
    now, added = uow.now(), 0
    for failed in uow.deliveries.failed_for_want_of_address(recipient.key, since=now - domain.ADDRESS_LATE_BY):
        if failed.waiting_for_address(now):
            for delivery in failed.to_addresses(recipient.addresses, recipient.name, now):
                added += uow.deliveries.add_once(delivery)
    return added


def send_due(uow: UnitOfWork, sender: Sender, limit: int = 1) -> int:
    """Send up to `limit` due deliveries in this unit of work (the sender
    commits each), recording what became of each.  Returns how many were tried."""
    now = uow.now()
    due = uow.deliveries.due(now, limit)
    for delivery in due:
        try:
            message = domain.template(delivery.template).render(delivery.values)
        except (domain.MissingValue, KeyError) as exc:
            delivery.failed(str(exc).strip("'\""), now)
            continue
        try:
            reference = sender.send(delivery, message)
        except domain.TemporaryFailure as exc:
            delivery.failed_for_now(str(exc), now)
            log.warning("delivery failed for now", extra={"delivery_id": str(delivery.delivery_id),
                                                          "attempts": delivery.attempts})
        except domain.PermanentFailure as exc:
            delivery.failed(str(exc), now)
            log.warning("delivery failed", extra={"delivery_id": str(delivery.delivery_id)})
        else:
            delivery.sent(reference, now)
    return len(due)


def remind(uow: UnitOfWork, directory: Directory) -> int:
    """Remind each invited provider that has neither offered nor declined, once, in
    the 24 hours before the deadline."""
    now, sent = uow.now(), 0
    for row in uow.copies.referrals_to_remind(now + domain.REMINDER_BEFORE, now):
        referral = domain.PublishedReferral(row.referral_id, row.lot, lot_name(row.lot), row.deadline,
                                            row.hours_per_week, row.start_date)
        silent = uow.copies.providers(uow.copies.silent_providers(row))
        # the reminder's own id: one per referral, so a second run adds nothing
        reminder_id = UUID(int=row.referral_id.int ^ 0x5EED)
        sent += record(uow, reminder_id, "referral.reminder", domain.reminders(referral, silent, directory.links),
                       directory)
        uow.copies.mark_reminded(row.referral_id)
    return sent


def recipient_key(principal) -> str:
    """Whose preferences a signed-in person keeps: their provider's, their team's, or the manager's."""
    if principal.provider_id:
        return str(principal.provider_id)
    if principal.team:
        return f"team:{principal.team}"
    return "manager"


def set_preferences(uow: UnitOfWork, principal, turned_off: list[str]) -> set[str]:
    names = set(turned_off)
    unknown = sorted(names - set(domain.TEMPLATES))
    if unknown:
        raise InvalidInput(f"no such message: {', '.join(unknown)}", "turned_off")
    required = sorted(name for name in names if not domain.TEMPLATES[name].optional)
    if required:
        why = "; ".join(f"{name} ({domain.TEMPLATES[name].why_required})" for name in required)
        raise InvalidInput(f"these cannot be turned off, the law or safeguarding needs them: {why}", "turned_off")
    key = recipient_key(principal)
    uow.copies.set_turned_off(key, names, principal.sub, uow.now())
    uow.record(AuditEntry("preferences.changed", "preferences", key, details={"turned_off": sorted(names)}))
    return names



# -- issue #18: officers and the manager --------------------------------------------------------------

def _job_event_id(kind: str, subject: object) -> UUID:
    """A scheduled notice's own id, the same on every run: a second run adds no second delivery."""
    return uuid5(NAMESPACE_URL, f"dps:notifications:{kind}:{subject}")


def announce_closed_windows(uow: UnitOfWork, directory: Directory) -> int:
    """At each referral's deadline, tell the officer who published it (else the team's mailbox): the offers
    are ready to assess, or no offer came."""
    now, added = uow.now(), 0
    for row in uow.copies.referrals_closed(now):
        officer = domain.officer(directory.team(row.team), row.published_by)
        notice = domain.window_closed(officer, referral_id=row.referral_id, lot=row.lot, deadline=row.deadline,
                                      offers=uow.copies.live_offers(row.referral_id),
                                      invited=len(row.invited_provider_ids), links=directory.links)
        added += record(uow, _job_event_id("window_closed", f"{row.referral_id}:{row.deadline.isoformat()}"),
                        "referral.window_closed", [notice], directory)
        uow.copies.mark_closed_notified(row.referral_id)
    return added


def watch_dead_letters(uow: UnitOfWork, directory: Directory, depths: dict[str, tuple[str, int | None]]) -> int:
    """`depths`: each service's dead-letter queue and how many it holds now (None: not known).  The manager
    hears when one has grown since it was last seen; the depth is kept either way (a replay lowers it)."""
    now, added = uow.now(), 0
    for service, (queue, depth) in sorted(depths.items()):
        if depth is None:
            continue
        before = uow.copies.dead_letter_depth(queue)
        notice = domain.dead_letters(directory.manager(), service=service, queue=queue, depth=depth, before=before)
        if notice is not None:
            added += record(uow, _job_event_id("dead_letters", f"{queue}:{now.isoformat()}"),
                            "event.dead_lettered", [notice], directory)
        uow.copies.note_dead_letter_depth(queue, depth, now)
    return added
