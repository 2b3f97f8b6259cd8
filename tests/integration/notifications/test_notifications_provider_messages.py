"""What providers and applicants hear beyond a referral's life (#18), end to
end without the broker: the producers' own messages (the registry's and
awards' mappings) through the real consumer, sent through a real SMTP server
started here and read back."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from services.awards import domain as awards
from services.awards.messages import message as awards_message
from services.notifications.mail import MailRelay
from services.provider_registry import domain as registry
from services.provider_registry.messages import message_for
from shared.events import new_event
from shared.messaging.consumer import Outcome
from tests.integration.notifications.test_notifications_delivery import (  # noqa: F401 - the fixtures
    NOW,
    _consumer,
    _contacts,
    mail,
    notifications,
)

pytestmark = pytest.mark.integration


def _registry(event) -> str:
    type_, data = message_for(event)
    return new_event(type_, data, "provider_registry").to_json()


def _awards(event) -> str:
    type_, data = awards_message(event)
    return new_event(type_, data, "awards").to_json()


def _sent(server) -> dict[str, list]:
    by_address: dict[str, list] = {}
    for message in server.messages():
        by_address.setdefault(message["To"], []).append(message)
    return by_address


def test_an_applicant_hears_at_its_leads_address_of_receipt_then_the_decision_with_reasons(notifications, mail):  # noqa: F811
    consumer = _consumer(notifications)
    provider_id, application_id = uuid.uuid4(), uuid.uuid4()
    submitted = _registry(registry.ApplicationSubmitted(application_id, provider_id, (1, 2), date(2026, 12, 21),
                                                        "Bridges Learning", "lead@bridges.example", NOW))
    assert consumer.handle(submitted) == Outcome("done")
    assert consumer.handle(submitted) == Outcome("duplicate")
    decided = _registry(registry.ApplicationDecided(
        application_id, provider_id, (1,), (registry.Reason(2, None, "no part-time places in the area"),), True,
        "Bridges Learning", "lead@bridges.example", (1, 2), NOW))
    assert consumer.handle(decided) == Outcome("done")
    assert MailRelay(notifications).drain() == 2
    received, decision = _sent(mail)["lead@bridges.example"]
    assert received["Subject"] == "Your application to join the DPS was received"
    assert "for lots 1 and 2, on 7 December 2026. It will decide by 21 December 2026." in received.get_content()
    assert decision["Subject"] == "Your application is decided: admitted to lot 1"
    body = decision.get_content()
    assert "- lot 2: no part-time places in the area." in body
    assert f"https://dps.council.example/provider/applications/{application_id}" in body


def test_invited_providers_hear_of_a_mini_competition_and_the_winner_of_its_award(notifications, mail):  # noqa: F811
    consumer = _consumer(notifications)
    acme, bridge = uuid.uuid4(), uuid.uuid4()
    consumer.handle(_contacts(acme, "Acme Tutors", "office@acme.example"))
    consumer.handle(_contacts(bridge, "Bridge College", "ap@bridge.example"))
    opportunity_id = uuid.uuid4()
    published = new_event("mini_competition.published", {
        "opportunity_id": str(opportunity_id), "lot": 1, "places": 3, "contract_start": "2027-09-01",
        "contract_end": "2028-08-31", "opens_at": NOW.isoformat(), "deadline": (NOW + timedelta(days=14)).isoformat(),
        "team": "exclusions", "invited_provider_ids": [str(acme), str(bridge)], "at": NOW.isoformat()},
        "awards").to_json()
    assert consumer.handle(published) == Outcome("done")
    awarded = _awards(awards.BlockContractAwarded(opportunity_id, uuid.uuid4(), bridge, 1, 3, 900_000,
                                                  date(2027, 9, 1), date(2028, 8, 31), date(2027, 1, 4), "officer-1",
                                                  NOW))
    assert consumer.handle(awarded) == Outcome("done")
    MailRelay(notifications).drain()
    sent = _sent(mail)
    [invited] = sent["office@acme.example"]
    assert invited["Subject"] == "New mini-competition on lot 1: bids by 9am on 21 December 2026"
    assert f"/provider/mini-competitions/{opportunity_id}" in invited.get_content()
    invited, won = sent["ap@bridge.example"]
    assert won["Subject"] == "Your bid was successful (lot 1)"
    assert "3 places, from 1 September 2027 to 31 August 2028" in won.get_content()
    assert "standstill period runs to 4 January 2027" in won.get_content()


def test_a_provider_hears_a_document_is_expiring_and_then_expired(notifications, mail):  # noqa: F811
    consumer = _consumer(notifications)
    provider_id = uuid.uuid4()
    consumer.handle(_contacts(provider_id, "Acme Tutors", "office@acme.example"))
    expiring = _registry(registry.ComplianceDocumentExpiring(provider_id, "Acme Tutors", "insurance",
                                                             date(2027, 1, 6), NOW, days_left=30))
    expired = _registry(registry.ComplianceDocumentExpired(provider_id, "Acme Tutors", "insurance",
                                                           date(2027, 1, 6), NOW + timedelta(days=31)))
    for event in (expiring, expired, expiring):
        consumer.handle(event)
    MailRelay(notifications).drain()
    warned, lapsed = _sent(mail)["office@acme.example"]
    assert warned["Subject"] == "Your insurance certificate expires on 6 January 2027"
    assert "in 30 days" in warned.get_content()
    assert lapsed["Subject"] == "Your insurance certificate has expired"
    assert "/provider/organisation/documents" in lapsed.get_content()


def test_a_provider_hears_a_renewed_declaration_is_asked_for_and_by_when(notifications, mail):  # noqa: F811
    consumer = _consumer(notifications)
    provider_id = uuid.uuid4()
    consumer.handle(_contacts(provider_id, "Acme Tutors", "office@acme.example", "head@acme.example"))
    asked = _registry(registry.DeclarationRequested(provider_id, date(2026, 12, 7), date(2026, 12, 14),
                                                    "Acme Tutors", NOW))
    assert consumer.handle(asked) == Outcome("done")
    MailRelay(notifications).drain()
    sent = _sent(mail)
    assert sorted(sent) == ["head@acme.example", "office@acme.example"]
    [message] = sent["office@acme.example"]
    assert message["Subject"] == "A renewed self-declaration is asked for, by 14 December 2026"
    assert "PCR 2015 regulation 34(25)" in message.get_content()
