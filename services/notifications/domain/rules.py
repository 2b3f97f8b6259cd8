"""Who hears what: each rule turns the facts of one event into notices, one
per recipient, each naming its template and the values it fills.

Recipients are providers (at the notification addresses they keep in the
registry), a commissioning team (its mailbox, from configuration) and the
DPS manager (a mailbox, from configuration).  The values are the event's own
facts about the procurement (lot, dates, reasons, names of organisations):
never a child's identity, which no event carries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from shared.calendar import COUNCIL_TIMEZONE

from .templates import TEMPLATES, Audience

REMINDER_BEFORE = timedelta(hours=24)
"""A provider that has neither offered nor declined is reminded this long before the deadline."""


@dataclass(frozen=True)
class Recipient:
    audience: Audience
    key: str  # a provider's id, a team's code, or "manager": what preferences are kept against
    name: str
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class Notice:
    template: str
    recipient: Recipient
    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Links:
    """Where each person acts, under the portal's base URL (configuration)."""

    base_url: str

    def to(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"


def when(moment: datetime) -> str:
    """A deadline as a council officer writes it: 5pm on 7 December 2026."""
    local = moment.astimezone(COUNCIL_TIMEZONE)
    hour = local.strftime("%I").lstrip("0")
    minutes = "" if local.minute == 0 else local.strftime(":%M")
    return f"{hour}{minutes}{local.strftime('%p').lower()} on {day(local.date())}"


def day(value: date) -> str:
    return f"{value.day} {value.strftime('%B %Y')}"


def _hours(hours) -> str:
    text = f"{hours:f}".rstrip("0").rstrip(".") if hasattr(hours, "as_tuple") else str(hours)
    return f"{text} hour{'' if text == '1' else 's'} a week"


@dataclass(frozen=True)
class PublishedReferral:
    referral_id: UUID
    lot: int
    lot_name: str
    deadline: datetime
    hours_per_week: object
    start_date: date | None


def asked(referral: PublishedReferral) -> str:
    """What is asked, in one line, with nothing about who the child is."""
    start = f", from {day(referral.start_date)}" if referral.start_date else ""
    return f"{referral.lot_name.lower()}, {_hours(referral.hours_per_week)}{start}"


def new_referral(referral: PublishedReferral, invited: Iterable[Recipient], links: Links) -> list[Notice]:
    """Every invited provider hears of a referral on its lot (law: no one is left out)."""
    link = links.to(f"/provider/referrals/{referral.referral_id}")
    return [Notice("referral.new", provider, {
        "provider_name": provider.name, "lot": referral.lot, "lot_name": referral.lot_name,
        "asked": asked(referral), "deadline": when(referral.deadline), "link": link})
        for provider in invited]


def reminder_due(deadline: datetime, now: datetime) -> bool:
    """A reminder goes in the last 24 hours before the deadline, not after it."""
    return deadline - REMINDER_BEFORE <= now < deadline


def reminders(referral: PublishedReferral, silent: Iterable[Recipient], links: Links) -> list[Notice]:
    """Providers that have neither offered nor declined, 24 hours before the deadline."""
    link = links.to(f"/provider/referrals/{referral.referral_id}")
    return [Notice("referral.reminder", provider, {
        "provider_name": provider.name, "lot": referral.lot, "lot_name": referral.lot_name,
        "deadline": when(referral.deadline), "link": link}) for provider in silent]


def _standstill(ends_on: date | None) -> str:
    return f"\n\nA standstill period runs to {day(ends_on)}: no contract is entered into before then." \
        if ends_on else ""


def offer_awarded(provider: Recipient, *, lot: int, start_date: date, standstill_ends_on: date | None,
                  placement_id: UUID, links: Links) -> Notice:
    return Notice("offer.awarded", provider, {
        "provider_name": provider.name, "lot": lot, "start_date": day(start_date),
        "standstill": _standstill(standstill_ends_on) or " ",
        "link": links.to(f"/provider/placements/{placement_id}")})


def offer_unsuccessful(provider: Recipient, *, rank: int | None, reason: str, standstill_ends_on: date | None,
                       link_path: str, links: Links) -> Notice:
    return Notice("offer.unsuccessful", provider, {
        "provider_name": provider.name, "rank": rank if rank is not None else "not ranked (not eligible)",
        "reason": reason.rstrip("."), "standstill": _standstill(standstill_ends_on) or " ",
        "link": links.to(link_path)})


def membership_changed(provider: Recipient, change: str, *, lot: int, lot_name: str, on: date,
                       reason: str | None, links: Links) -> Notice:
    """A suspension, reinstatement or removal, with its reason."""
    values = {"provider_name": provider.name, "lot": lot, "lot_name": lot_name, "date": day(on),
              "link": links.to("/provider/organisation")}
    if change != "reinstated":
        values["reason"] = (reason or "").rstrip(".")
    return Notice(f"membership.{change}", provider, values)


def concern_raised(team: Recipient, *, placement_id: UUID, provider_name: str, concern: str,
                   links: Links) -> Notice:
    return Notice("concern.raised", team, {
        "team_name": team.name, "placement_ref": str(placement_id)[:8], "provider_name": provider_name,
        "concern": concern.rstrip("."), "link": links.to(f"/council/placements/{placement_id}")})


def no_offers(team: Recipient, *, referral_id: UUID, lot: int, links: Links) -> Notice:
    return Notice("referral.no_offers", team, {
        "team_name": team.name, "referral_ref": str(referral_id)[:8], "lot": lot,
        "link": links.to(f"/council/referrals/{referral_id}")})


# -- officers and the manager: deadlines the council must meet (issue #18) ----------------------

_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def officer(team: Recipient, who: str | None) -> Recipient:
    """The officer who acts: their own address when their token's subject (`sub`) is a valid email address,
    else their team's mailbox.  Preferences stay the team's (the key), as an officer's token carries its team."""
    if who and len(who) <= 254 and _ADDRESS.fullmatch(who):
        return Recipient(team.audience, team.key, team.name, (who,))
    return team


def _referral(recipient: Recipient, referral_id: UUID, lot: int, links: Links) -> dict:
    return {"team_name": recipient.name, "referral_ref": str(referral_id)[:8], "lot": lot,
            "link": links.to(f"/council/referrals/{referral_id}")}


def window_closed(officer: Recipient, *, referral_id: UUID, lot: int, deadline: datetime, offers: int,
                  invited: int, links: Links) -> Notice:
    """At the deadline: the offers are ready to assess, or there are none."""
    values = {**_referral(officer, referral_id, lot, links), "deadline": when(deadline)}
    if offers:
        return Notice("referral.ready_to_assess", officer,
                      {**values, "offers": f"{offers} live offer{'' if offers == 1 else 's'}"})
    return Notice("referral.no_offers_at_deadline", officer, {**values, "invited": invited})


def review(team: Recipient, kind: str, *, placement_id: UUID, provider_name: str, due_on: date,
           links: Links) -> Notice:
    """A review due in 5 school days (`due_soon`), or past its date (`overdue`)."""
    return Notice(f"review.{kind}", team, {
        "team_name": team.name, "placement_ref": str(placement_id)[:8], "provider_name": provider_name,
        "due_on": day(due_on), "link": links.to(f"/council/placements/{placement_id}")})


def sixth_day(team: Recipient, kind: str, *, referral_id: UUID, due_on: date, links: Links) -> Notice:
    """The sixth-day deadline 2 school days away (`at_risk`) or passed without full-time education (`missed`)."""
    return Notice(f"sixth_day.{kind}", team, {
        "team_name": team.name, "referral_ref": str(referral_id)[:8], "due_on": day(due_on),
        "link": links.to(f"/council/referrals/{referral_id}")})


def application_decision(manager: Recipient, kind: str, *, application_id: UUID, applicant: str,
                         received_on: date, due_on: date, links: Links) -> Notice:
    """An application due for decision in 2 working days (`due`), or past its date (`overdue`)."""
    return Notice(f"application.decision_{kind}", manager, {
        "applicant": applicant, "received_on": day(received_on), "due_on": day(due_on),
        "link": links.to(f"/council/applications/{application_id}")})


def off_dps_exception(manager: Recipient, *, team_name: str, referral_id: UUID, lot: int, reason: str,
                      links: Links) -> Notice:
    return Notice("off_dps_exception.awaiting_approval", manager, {
        "team_name": team_name, "referral_ref": str(referral_id)[:8], "lot": lot, "reason": reason.rstrip("."),
        "link": links.to(f"/council/off-dps-exceptions/{referral_id}")})


def dead_letters(manager: Recipient, *, service: str, queue: str, depth: int, before: int) -> Notice | None:
    """The manager hears when a service's dead-letter queue grows; not when it shrinks or stays (replayed or
    already told)."""
    if depth <= before:
        return None
    return Notice("operations.dead_letters", manager, {
        "service": service, "queue": queue, "depth": depth, "added": depth - before})


def wanted(notice: Notice, turned_off: set[str]) -> bool:
    """A person may turn off what is optional, never what the law or safeguarding needs."""
    return not (TEMPLATES[notice.template].optional and notice.template in turned_off)


__all__ = ["REMINDER_BEFORE", "Links", "Notice", "PublishedReferral", "Recipient", "asked", "concern_raised",
           "day", "membership_changed", "new_referral", "no_offers", "offer_awarded",
           "offer_unsuccessful", "reminder_due", "reminders", "wanted", "when",
           # issue #18: officers and the manager
           "application_decision", "dead_letters", "off_dps_exception", "officer", "review", "sixth_day",
           "window_closed"]
