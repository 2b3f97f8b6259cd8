"""A registered school's establishment type (for the AP census's scope): only a registered school has one,
one of the registry's types; it travels on membership.admitted and provider.registration_changed."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime

from services.provider_registry import domain
from services.provider_registry.domain import EstablishmentType, Inspectorate, Registration, SettingKind
from services.provider_registry.domain.common import Refusals
from services.provider_registry.messages import message_for

SCHOOL = Registration(SettingKind.REGISTERED_SCHOOL, "145678", inspectorate=Inspectorate.OFSTED,
                      establishment_type=EstablishmentType.NON_MAINTAINED_SPECIAL)


def refused(registration: Registration) -> dict[str, list[str]]:
    refusals = Refusals()
    domain.check_registration(registration, refusals, date(2025, 1, 15))
    return refusals.errors


def test_a_registered_school_may_say_its_establishment_type_and_need_not_yet():
    assert refused(SCHOOL) == {}
    assert refused(replace(SCHOOL, establishment_type=None)) == {}


def test_only_a_registered_school_has_an_establishment_type_of_the_registry_s_types():
    college = Registration(SettingKind.FE_OR_TRAINING_PROVIDER, ukprn="10001234",
                           establishment_type=EstablishmentType.INDEPENDENT)
    assert list(refused(college)) == ["registration.establishment_type"]
    assert list(refused(replace(SCHOOL, establishment_type="academy_of_dance"))) == [
        "registration.establishment_type"]


def test_the_registration_event_carries_the_establishment_type():
    event = domain.RegistrationChanged(uuid.uuid4(), "Acorn", SCHOOL, (domain.Identifier("GB-URN", "145678"),),
                                       datetime(2025, 1, 15, tzinfo=UTC))
    _, data = message_for(event)
    assert (data["setting_kind"], data["establishment_type"]) == ("registered_school", "non_maintained_special")
    unregistered = replace(event, registration=Registration(SettingKind.UNREGISTERED))
    assert message_for(unregistered)[1]["establishment_type"] is None
