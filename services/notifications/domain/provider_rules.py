"""Who hears what, beyond a referral's life (#18): an applicant of its
application's receipt and decision, providers of a mini-competition on their
lot and of winning it, of a compliance document expiring or expired, and of a
renewed self-declaration asked for.

An applicant is not yet a provider this service knows: the registry's
application events carry the address it gave (its safeguarding lead's), and
the messages go there.  The values are the procurement's own facts (lots,
dates, places, the council's reasons): never a child's identity.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from uuid import UUID

from .rules import Links, Notice, Recipient, _standstill, day, when
from .templates import Audience

DOCUMENT_NAMES = {"insurance": "insurance certificate",
                  "dbs_confirmation": "confirmation of enhanced DBS checks",
                  "safeguarding_policy": "safeguarding policy"}


def applicant(provider_id: UUID, name: str, address: str) -> Recipient:
    """An applicant, at the address its application gave."""
    return Recipient(Audience.PROVIDER, str(provider_id), name, (address,) if address else ())


def lots_in_words(lots: Iterable[int]) -> str:
    """lot 1; lots 1 and 2; lots 1, 2 and 4."""
    numbers = [str(n) for n in sorted(lots)]
    if len(numbers) == 1:
        return f"lot {numbers[0]}"
    return f"lots {', '.join(numbers[:-1])} and {numbers[-1]}"


def _count(number: int, what: str) -> str:
    return f"{number} {what}{'' if number == 1 else 's'}"


def application_received(who: Recipient, *, application_id: UUID, lots: Iterable[int], submitted_on: date,
                         due_on: date, links: Links) -> Notice:
    return Notice("application.received", who, {
        "provider_name": who.name, "lots": lots_in_words(lots), "date": day(submitted_on), "due_on": day(due_on),
        "link": links.to(f"/provider/applications/{application_id}")})


def _reason_lines(reasons: Iterable[dict]) -> str:
    lines = []
    for reason in sorted(reasons, key=lambda r: (r["lot"], r.get("question_id") or "")):
        question = f", question {reason['question_id']}" if reason.get("question_id") else ""
        lines.append(f"- lot {reason['lot']}{question}: {reason['text'].strip().rstrip('.')}.")
    return "\n".join(lines)


def application_decided(who: Recipient, *, application_id: UUID, lots: Iterable[int], admitted_lots: Iterable[int],
                        reasons: Iterable[dict], links: Links) -> Notice:
    """Admitted (to some or all of the lots applied for, with the reasons for any left out) or rejected with
    the reasons for each lot: the decision is always told with its reasons (PCR 2015 reg. 55)."""
    admitted, reasons = sorted(admitted_lots), list(reasons)
    values = {"provider_name": who.name, "link": links.to(f"/provider/applications/{application_id}")}
    if not admitted:
        return Notice("application.rejected", who, {**values, "lots": lots_in_words(lots),
                                                    "reasons": _reason_lines(reasons)})
    left_out = f"\n\nYou are not admitted to the other lots you applied for, for these reasons:\n\n" \
               f"{_reason_lines(reasons)}" if reasons else " "
    return Notice("application.admitted", who, {
        **values, "admitted": lots_in_words(admitted),
        "admitted_short": "it" if len(admitted) == 1 else "each of them", "left_out": left_out})


def mini_competition_invited(invited: Iterable[Recipient], *, opportunity_id: UUID, lot: int, lot_name: str,
                             places: int, contract_start: date, contract_end: date, deadline: datetime,
                             links: Links) -> list[Notice]:
    """Every invited provider hears of a mini-competition on its lot."""
    link = links.to(f"/provider/mini-competitions/{opportunity_id}")
    return [Notice("mini_competition.invited", provider, {
        "provider_name": provider.name, "lot": lot, "lot_name": lot_name, "places": _count(places, "place"),
        "contract_start": day(contract_start), "contract_end": day(contract_end), "deadline": when(deadline),
        "link": link}) for provider in invited]


def block_contract_awarded(provider: Recipient, *, opportunity_id: UUID, lot: int, lot_name: str, places: int,
                           contract_start: date, contract_end: date, standstill_ends_on: date | None,
                           links: Links) -> Notice:
    return Notice("block_contract.awarded", provider, {
        "provider_name": provider.name, "lot": lot, "lot_name": lot_name, "places": _count(places, "place"),
        "contract_start": day(contract_start), "contract_end": day(contract_end),
        "standstill": _standstill(standstill_ends_on) or " ",
        "link": links.to(f"/provider/mini-competitions/{opportunity_id}")})


def document_expiring(provider: Recipient, *, kind: str, expires_on: date, days_left: int, links: Links) -> Notice:
    return Notice("compliance_document.expiring", provider, {
        "provider_name": provider.name, "document": DOCUMENT_NAMES.get(kind, kind.replace("_", " ")),
        "expires_on": day(expires_on), "days_left": _count(days_left, "day") if days_left else "less than a day",
        "link": links.to("/provider/organisation/documents")})


def document_expired(provider: Recipient, *, kind: str, expires_on: date, links: Links) -> Notice:
    return Notice("compliance_document.expired", provider, {
        "provider_name": provider.name, "document": DOCUMENT_NAMES.get(kind, kind.replace("_", " ")),
        "expires_on": day(expires_on), "link": links.to("/provider/organisation/documents")})


def declaration_requested(provider: Recipient, *, due_on: date, regulation: str, links: Links) -> Notice:
    return Notice("declaration.requested", provider, {
        "provider_name": provider.name, "due_on": day(due_on), "regulation": regulation,
        "link": links.to("/provider/organisation/declaration")})


__all__ = ["DOCUMENT_NAMES", "applicant", "application_decided", "application_received", "block_contract_awarded",
           "declaration_requested", "document_expired", "document_expiring", "lots_in_words",
           "mini_competition_invited"]
