"""The ocid prefix is required configuration for a real deployment: awards refuses to start in production
without the prefix registered for the council; development publishes under an obviously local one."""

import dataclasses

import pytest

from services.awards import transparency
from shared.config import load_settings
from shared.service import Runtime, load_definition


def settings(tmp_path, monkeypatch, **env):
    for name in ("DPS_ENVIRONMENT", "DPS_AWARDS_OCID_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return dataclasses.replace(load_settings("awards"), database_url=f"sqlite:///{tmp_path}/a.sqlite3")


@pytest.mark.parametrize("prefix", [None, "", "ocds-local-dev", "dps-council"])
def test_production_without_a_registered_prefix_does_not_start(tmp_path, monkeypatch, prefix):
    env = {"DPS_ENVIRONMENT": "production"} | ({} if prefix is None else {"DPS_AWARDS_OCID_PREFIX": prefix})
    with pytest.raises(ValueError, match="DPS_AWARDS_OCID_PREFIX"):
        Runtime(load_definition("awards"), settings(tmp_path, monkeypatch, **env))


def test_production_publishes_under_its_registered_prefix(tmp_path, monkeypatch):
    configured = settings(tmp_path, monkeypatch, DPS_ENVIRONMENT="Production", DPS_AWARDS_OCID_PREFIX="ocds-a1b2c3")
    Runtime(load_definition("awards"), configured).engine.dispose()
    assert transparency.Publisher.of(configured).dps_ocid() == "ocds-a1b2c3-dps"


def test_development_uses_an_obviously_local_prefix(tmp_path, monkeypatch):
    configured = settings(tmp_path, monkeypatch)
    Runtime(load_definition("awards"), configured).engine.dispose()
    assert configured.environment == "development"
    assert transparency.Publisher.of(configured).ocid_prefix == "ocds-local-dev"


def test_an_unknown_environment_is_refused(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="DPS_ENVIRONMENT"):
        Runtime(load_definition("awards"), settings(tmp_path, monkeypatch, DPS_ENVIRONMENT="prod"))
