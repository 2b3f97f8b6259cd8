"""An unregistered setting declares its whole roll for the registration rule
(Provider.declare_roll, handlers.declare_roll): every commissioner's full-time
pupils of compulsory school age and whether any has an EHCP, is looked after
or has SEN, dated; the registry's provider events carry it to awards."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from services.provider_registry import handlers
from services.provider_registry.domain import Inspectorate, Registration, SettingKind
from shared.errors import Conflict, Forbidden, InvalidInput
from tests.unit.provider_registry.fakes import NOW
from tests.unit.provider_registry.test_registry_handlers import (  # noqa: F401 (the fixture)
    MANAGER,
    OFFICER,
    form,
    provider_user,
    uow,
)

UNREGISTERED = Registration(SettingKind.UNREGISTERED)


def unregistered_member(uow) -> uuid.UUID:  # noqa: F811
    provider_id = uuid.uuid4()
    me = provider_user(provider_id)
    application = handlers.submit_application(uow.acting_as(me), me, replace(form(), registration=UNREGISTERED))
    handlers.decide(uow.acting_as(MANAGER), MANAGER, application.id, admit=True, lots=(1,))
    uow.messages.clear()
    uow.audit.clear()
    return provider_id


def test_an_unregistered_setting_declares_its_roll_audited_and_announced(uow):  # noqa: F811
    provider_id = unregistered_member(uow)
    me = provider_user(provider_id)
    provider = handlers.declare_roll(uow.acting_as(me), me, provider_id, full_time_pupils=3, any_ehcp=False,
                                     any_looked_after=True, any_sen=False)
    assert provider.declared_roll.full_time_pupils == 3 and provider.declared_roll.declared_at == NOW
    (data,) = uow.published("provider.registration_changed")
    assert data["setting_kind"] == "unregistered" and data["declared_roll"] == {
        "full_time_pupils": 3, "any_ehcp": False, "any_looked_after": True, "any_sen": False,
        "declared_at": NOW.isoformat()}
    assert uow.actions() == ["provider.roll_declared"]
    # the manager keeps it current too; another provider may not
    handlers.declare_roll(uow.acting_as(MANAGER), MANAGER, provider_id, full_time_pupils=0)
    assert provider.declared_roll.full_time_pupils == 0 and not provider.declared_roll.any_looked_after
    other = provider_user(uuid.uuid4())
    with pytest.raises(Forbidden):
        handlers.declare_roll(uow.acting_as(other), other, provider_id, full_time_pupils=1)


@pytest.mark.parametrize("count", [None, -1, 2.5, "4", True])
def test_a_missing_or_negative_count_is_refused_naming_the_field_and_the_law(uow, count):  # noqa: F811
    provider_id = unregistered_member(uow)
    with pytest.raises(InvalidInput) as refused:
        handlers.declare_roll(uow.acting_as(MANAGER), MANAGER, provider_id, full_time_pupils=count)
    assert refused.value.field == "full_time_pupils"
    assert "0 or more" in refused.value.message and "Education Act 1996 s.463" in refused.value.message
    assert refused.value.message.endswith(": law)")
    assert not uow.committed and uow.messages == []


def test_a_registered_school_declares_no_roll(uow):  # noqa: F811
    provider_id = unregistered_member(uow)
    handlers.change_details(uow.acting_as(MANAGER), MANAGER, provider_id, registration=Registration(
        SettingKind.REGISTERED_SCHOOL, "654321", inspectorate=Inspectorate.OFSTED))
    uow.committed = False
    with pytest.raises(Conflict, match="only an unregistered setting declares its roll"):
        handlers.declare_roll(uow.acting_as(MANAGER), MANAGER, provider_id, full_time_pupils=2)
    assert not uow.committed


def test_a_roll_ends_when_the_setting_registers(uow):  # noqa: F811
    provider_id = unregistered_member(uow)
    handlers.declare_roll(uow.acting_as(MANAGER), MANAGER, provider_id, full_time_pupils=4)
    uow.messages.clear()
    provider = handlers.change_details(uow.acting_as(MANAGER), MANAGER, provider_id, registration=Registration(
        SettingKind.REGISTERED_SCHOOL, "654321", inspectorate=Inspectorate.OFSTED))
    assert provider.declared_roll is None
    (data,) = uow.published("provider.registration_changed")
    assert data["declared_roll"] is None and data["setting_kind"] == "registered_school"


def test_admission_carries_the_roll_declared_so_far(uow):  # noqa: F811
    provider_id = unregistered_member(uow)
    handlers.declare_roll(uow.acting_as(MANAGER), MANAGER, provider_id, full_time_pupils=2)
    uow.messages.clear()
    me = provider_user(provider_id)
    application = handlers.submit_application(uow.acting_as(me), me,
                                              replace(form(lots=(2,)), registration=UNREGISTERED))
    handlers.decide(uow.acting_as(MANAGER), MANAGER, application.id, admit=True, lots=(2,))
    (data,) = uow.published("membership.admitted")
    assert data["declared_roll"]["full_time_pupils"] == 2
