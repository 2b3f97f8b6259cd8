"""The commissioning teams are configuration (DPS_TEAMS, issue #16 item 7): parsed at start, a malformed
value refused naming the setting, and the configured codes are the ones a token may carry."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from shared.auth import principal_from_claims, validate_team
from shared.config import DEFAULT_TEAMS, load_settings, parse_teams
from shared.errors import Unauthorized


def test_the_default_teams_are_the_councils_five_with_their_names():
    teams = parse_teams(DEFAULT_TEAMS)
    assert teams == {"exclusions": "Exclusions and Reintegration", "send": "SEND",
                     "medical": "Medical and hospital education", "virtual_school": "Virtual School",
                     "post16": "Post-16"}


def test_a_configured_value_is_read_with_spaces_trimmed(monkeypatch):
    monkeypatch.setenv("DPS_TEAMS", " send = SEND , early_help=Early Help ")
    assert load_settings("referrals").teams == {"send": "SEND", "early_help": "Early Help"}


def test_unset_gives_the_default(monkeypatch):
    monkeypatch.delenv("DPS_TEAMS", raising=False)
    assert load_settings("awards").teams == parse_teams(DEFAULT_TEAMS)


@pytest.mark.parametrize("raw", ["send", "send=", "=SEND", "Send=SEND", "send=SEND,,", "send team=SEND",
                                 "send=SEND,send=Special needs"])
def test_a_malformed_value_stops_the_service_at_start_naming_the_setting(monkeypatch, raw):
    monkeypatch.setenv("DPS_TEAMS", raw)
    with pytest.raises(ValueError, match="DPS_TEAMS"):
        load_settings("referrals")


def test_an_officer_token_carries_a_configured_team_and_no_other():
    claims = {"sub": "o", "roles": ["officer"], "team": "early_help"}
    assert principal_from_claims(claims, ("early_help",)).team == "early_help"
    with pytest.raises(Unauthorized, match="early_help"):
        principal_from_claims({**claims, "team": "send"}, ("early_help",))


def test_outside_a_service_the_default_teams_validate():
    validate_team("post16")
    with pytest.raises(ValidationError, match="exclusions"):
        validate_team("finance")
