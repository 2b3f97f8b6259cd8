"""An off-DPS exception names the provider, the placement's terms and the
minimum checks (issue #16 item 5): each missing or wrong field is refused by
name, all at once, and nothing is recorded."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.referrals import handlers
from services.referrals.domain import OffDpsDetails
from shared.errors import InvalidInput
from tests.support.off_dps import off_dps_form
from tests.unit.referrals.test_referrals_handlers import (  # noqa: F401 - fixtures
    OFFICER,
    closed_with_an_offer,
    no_webhooks,
    uow,
)


def refused_fields(form) -> dict:
    with pytest.raises(InvalidInput) as refused:
        OffDpsDetails.from_form(form)
    return refused.value.field_errors


def test_a_complete_form_names_the_provider_the_terms_and_the_checks():
    details = OffDpsDetails.from_form(off_dps_form())
    assert details.provider.name == "Riverside Tuition" and details.provider.full_time_pupils == 2
    assert details.terms.hours_per_week == Decimal(15) and details.terms.start_date == date(2025, 2, 3)
    assert details.terms.total_pence == 45000 * 12
    assert set(details.checks) == {"registration_status", "dbs", "insurance"}
    assert details.checks["dbs"].by == "officer-1"


@pytest.mark.parametrize("part", ["provider", "terms", "checks"])
def test_each_missing_part_is_refused_by_name(part):
    assert set(refused_fields(off_dps_form(**{part: None}))) == {part}


@pytest.mark.parametrize(("part", "name"), [
    ("provider", "name"), ("provider", "setting_kind"), ("provider", "full_time_pupils"),
    ("terms", "hours_per_week"), ("terms", "start_date"), ("terms", "weekly_cost_pence"), ("terms", "weeks"),
    ("checks", "registration_status"), ("checks", "dbs"), ("checks", "insurance")])
def test_each_missing_field_is_refused_by_name(part, name):
    form = off_dps_form()
    del form[part][name]
    assert f"{part}.{name}" in refused_fields(form)


def test_every_problem_is_named_at_once():
    form = off_dps_form(provider={"full_time_pupils": -1}, terms={"weeks": 0})
    del form["checks"]["insurance"]
    assert set(refused_fields(form)) == {"provider.full_time_pupils", "terms.weeks", "checks.insurance"}


def test_a_check_not_confirmed_or_without_who_and_when_is_refused():
    form = off_dps_form(checks={"dbs": {"confirmed": False, "by": "officer-1", "on": date(2025, 1, 20)},
                                "insurance": {"confirmed": True, "by": "", "on": None}})
    assert set(refused_fields(form)) == {"checks.dbs.confirmed", "checks.insurance.by", "checks.insurance.on"}


def test_the_setting_kind_brings_its_identifier():
    assert "provider.urn" in refused_fields(off_dps_form(provider={"setting_kind": "registered_school"}))
    assert "provider.ukprn" in refused_fields(off_dps_form(provider={"setting_kind": "fe_or_training_provider"}))
    assert "provider.urn" in refused_fields(off_dps_form(provider={"setting_kind": "registered_school",
                                                                   "urn": "12345"}))
    assert "provider.ukprn" in refused_fields(off_dps_form(provider={"ukprn": "1234"}))
    assert "provider.setting_kind" in refused_fields(off_dps_form(provider={"setting_kind": "school"}))
    school = OffDpsDetails.from_form(off_dps_form(provider={"setting_kind": "registered_school", "urn": "123456"}))
    assert school.provider.urn == "123456"


def no_suitable_offer(uow):  # noqa: F811
    referral, offer = closed_with_an_offer(uow)
    handlers.assess_offer(uow, OFFICER, referral.id, offer.id, meets_needs=False, reason="Too far",
                          criteria_met={q.id: True for q in referral.questions})
    handlers.complete_assessment(uow, OFFICER, referral.id)
    return referral


def test_an_incomplete_exception_changes_nothing(uow):  # noqa: F811
    referral = no_suitable_offer(uow)
    before = len(uow.messages)
    with pytest.raises(InvalidInput):
        handlers.record_off_dps_exception(uow, OFFICER, referral.id, "No provider near", off_dps_form(terms=None))
    assert referral.off_dps_exception is None and len(uow.messages) == before


def test_the_event_carries_the_provider_the_terms_the_checks_and_the_childs_opaque_facts(uow):  # noqa: F811
    referral = no_suitable_offer(uow)
    handlers.record_off_dps_exception(uow, OFFICER, referral.id, "No provider near", off_dps_form())
    [data] = uow.published("off_dps_exception.recorded")
    assert data["provider"] == {"name": "Riverside Tuition", "setting_kind": "unregistered", "urn": None,
                                "ukprn": None, "full_time_pupils": 2}
    assert data["terms"] == {"hours_per_week": 15, "start_date": "2025-02-03", "weekly_cost_pence": 45000,
                             "weeks": 12}
    assert data["checks"]["insurance"] == {"confirmed": True, "by": "officer-1", "on": "2025-01-20"}
    assert data["child_ref"] and data["reason_for_ap"] and data["full_time"] is True  # lot 1
    assert {"ehcp", "looked_after", "dps_id"} <= set(data)
    assert not {"name", "upn", "date_of_birth", "address"} & set(data)
