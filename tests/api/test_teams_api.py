"""The commissioning teams from configuration (DPS_TEAMS, issue #16 item 7): every service lists them with
their names at GET /v1/teams; a configured team is accepted in tokens and queries, another is refused."""

from __future__ import annotations

import uuid

import pytest

from shared.catalogue import SERVICES
from tests.support.runtime import auth

TEAMS = {"early_help": "Early Help", "exclusions": "Exclusions and Reintegration"}


@pytest.fixture
def clients(service, client_for):
    return {name: client_for(service(name, teams=TEAMS)) for name in SERVICES}


def test_every_service_lists_the_configured_teams_with_their_names(clients):
    for name, client in clients.items():
        assert client.get("/v1/teams").status_code == 401, name  # anyone signed in, not the public
        response = client.get("/v1/teams", headers=auth("provider", provider_id=uuid.uuid4()))
        assert response.status_code == 200, name
        assert response.get_json() == {"items": [{"code": "early_help", "name": "Early Help"},
                                                 {"code": "exclusions", "name": "Exclusions and Reintegration"}]}


def test_a_configured_team_is_accepted_and_another_refused(clients):
    referrals, awards = clients["referrals"], clients["awards"]
    officer = auth("officer", team="early_help", sub="officer-early-help")
    assert referrals.get("/v1/referrals?team=early_help", headers=officer).status_code == 200
    assert awards.get("/v1/awards?team=early_help", headers=auth("manager")).status_code == 200

    refused = referrals.get("/v1/referrals", headers=auth("officer", team="send", sub="officer-send"))
    assert refused.status_code == 401 and "early_help" in refused.get_json()["message"]
    for client, path in ((referrals, "/v1/referrals?team=send"), (awards, "/v1/awards?team=send")):
        response = client.get(path, headers=auth("manager"))
        assert response.status_code == 422, path
        assert "team" in str(response.get_json()), path
