"""Every kind of record in every service has a retention period, or is kept
for a stated reason (issue #17 item 3); a period under the law's minimum stops
the service at start, naming the setting."""

from __future__ import annotations

import pytest

from shared.catalogue import SERVICES
from shared.config import load_settings
from shared.service import Runtime, load_definition


@pytest.fixture(params=SERVICES)
def runtime(request, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite3")
    return Runtime(load_definition(request.param), load_settings(request.param))


def test_every_table_has_a_period_or_a_reason_to_be_kept(runtime):
    tables = set(runtime.definition.metadata.tables)
    covered = runtime.retention.tables()
    assert tables - covered == set(), "tables with no retention rule and no reason to be kept"
    assert covered - tables == set(), "retention names tables the service does not have"


def test_every_rule_says_what_it_keeps_for_how_long_and_why(runtime):
    for rule in runtime.retention.rules:
        assert rule.what and rule.counted_from and rule.how in ("deleted", "anonymised")
        assert rule.period.setting.startswith("DPS_RETENTION_")
        assert rule.period.default >= rule.period.minimum
        assert not rule.period.minimum or rule.period.minimum_because


@pytest.mark.parametrize("service, setting, value", [
    ("referrals", "DPS_RETENTION_REFERRAL_AGE_YEARS", "17"),
    ("referrals", "DPS_RETENTION_REFERRAL_EHCP_AGE_YEARS", "24"),
    ("awards", "DPS_RETENTION_CALLOFF_YEARS", "2"),
    ("tracking", "DPS_RETENTION_AUDIT_YEARS", "5"),
    ("provider_registry", "DPS_RETENTION_APPLICATION_YEARS", "two"),
])
def test_a_period_under_the_legal_minimum_stops_the_service_naming_the_setting(
        service, setting, value, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite3")
    monkeypatch.setenv(setting, value)
    with pytest.raises(ValueError, match=setting):
        Runtime(load_definition(service), load_settings(service))


def test_a_longer_period_is_taken(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite3")
    monkeypatch.setenv("DPS_RETENTION_CALLOFF_YEARS", "10")
    runtime = Runtime(load_definition("awards"), load_settings("awards"))
    assert runtime.retention.check(runtime.settings.retention)["calloff"] == 10


def test_the_readme_shows_every_period_as_the_code_has_it(runtime):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for rule in runtime.retention.rules:
        assert f"`{rule.period.setting}` = {rule.period.default} {rule.period.unit}" in readme, rule.kind
