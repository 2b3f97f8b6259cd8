"""A compliance document expiring (issue #18): the provider is warned 30, 14
and 7 days before, and once it has expired; each warning once per document,
and a new document starts again."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.provider_registry.domain import (
    ComplianceDocument,
    ComplianceDocumentExpired,
    ComplianceDocumentExpiring,
    DocumentKind,
    expiry_warning,
)
from tests.unit.provider_registry.test_domain_registry_providers import admitted_provider, at, documents, events_of

EXPIRES = date(2025, 6, 30)


def insurance(warned=None):
    return ComplianceDocument(DocumentKind.INSURANCE, "insurance.pdf", EXPIRES, warned)


@pytest.mark.parametrize("days_before, due", [(31, None), (30, 30), (29, 30), (14, 14), (8, 14), (7, 7), (0, 7),
                                              (-1, 0)])
def test_the_warning_due_is_the_nearest_threshold_reached_or_expired(days_before, due):
    assert expiry_warning(insurance(), EXPIRES - timedelta(days=days_before)) == due


def test_a_warning_given_is_not_given_again_and_a_threshold_passed_unwarned_is_skipped():
    assert expiry_warning(insurance(warned=30), EXPIRES - timedelta(days=20)) is None
    assert expiry_warning(insurance(warned=30), EXPIRES - timedelta(days=14)) == 14
    assert expiry_warning(insurance(warned=14), EXPIRES - timedelta(days=3)) == 7
    assert expiry_warning(insurance(warned=7), EXPIRES + timedelta(days=1)) == 0
    assert expiry_warning(insurance(warned=0), EXPIRES + timedelta(days=9)) is None


def test_the_daily_warning_tells_the_provider_each_threshold_once_then_that_it_expired():
    provider = admitted_provider(docs=documents(insurance=EXPIRES))
    provider.events.clear()
    for day in range(40, -3, -1):  # every day from 40 days before to 2 days after
        provider.warn_of_expiry(at(*(EXPIRES - timedelta(days=day)).timetuple()[:3]))
    expiring = events_of(provider, ComplianceDocumentExpiring)
    assert [(e.kind, e.days_left) for e in expiring] == [("insurance", 30), ("insurance", 14), ("insurance", 7)]
    (expired,) = events_of(provider, ComplianceDocumentExpired)
    assert (expired.kind, expired.expires_on, expired.provider_name) == ("insurance", EXPIRES, provider.name)


def test_a_new_document_starts_its_warnings_again():
    provider = admitted_provider(docs=documents(insurance=EXPIRES))
    provider.warn_of_expiry(at(2025, 6, 20))
    renewed = ComplianceDocument(DocumentKind.INSURANCE, "insurance-2025.pdf", date(2025, 7, 25))
    provider.upload_document(renewed, at(2025, 6, 21))
    provider.events.clear()
    assert provider.warn_of_expiry(at(2025, 6, 25)) == [30]
