"""Who reads which awards: an officer only their own team's call-offs and
block places (the same rule as referrals and tracking: a list is narrowed to
the officer's team, asking for another team by name or reading one of its
records is refused 403); the manager and reporting read every team's; a
provider only its own awards."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.api.awards.awards_support import (
    MANAGER,
    OFFICER,
    OTHER_OFFICER,
    REPORTING,
    Competition,
    Lot1,
    admit,
    close,
    errors,
    offer,
    provider_auth,
)
from tests.support.runtime import auth, statements_run

MEDICAL_OFFICER = auth("officer", team="medical", sub="officer-medical")


@pytest.fixture
def awarded(client, rt):
    """One call-off awarded by the exclusions team (with an override reason), one by SEND."""
    won, other = uuid.uuid4(), uuid.uuid4()
    admit(rt, won)
    admit(rt, other)
    exclusions, send = uuid.uuid4(), uuid.uuid4()
    cheap, dear = offer(other, 3000), offer(won, 4000)
    close(rt, exclusions, [cheap, dear])
    made = client.post(f"/v1/referrals/{exclusions}/award",
                       json={"offer_id": dear["offer_id"], "reason": "continuity with a current provider",
                             "reason_code": "continuity"},
                       headers=OFFICER)
    assert made.status_code == 201, made.json
    send_offer = offer(won, 4000)
    close(rt, send, [send_offer], team="send")
    assert client.post(f"/v1/referrals/{send}/award", json={"offer_id": send_offer["offer_id"]},
                       headers=OTHER_OFFICER).status_code == 201
    return {"award_id": made.json["award_id"], "referral_id": str(exclusions), "provider": won,
            "send_referral_id": str(send)}


def test_an_officer_lists_only_their_own_teams_awards(client, awarded):
    mine = client.get("/v1/awards", headers=OFFICER)
    assert mine.status_code == 200
    assert [a["referral_id"] for a in mine.json] == [awarded["referral_id"]]
    assert client.get("/v1/awards", headers=MEDICAL_OFFICER).json == []


def test_the_managers_list_reads_the_rankings_providers_once_for_the_page(client, rt, awarded):
    """Each award's ranking names its providers; a page reads their names in one query, not one per award."""
    with statements_run(rt.engine) as reading_one:
        one = client.get("/v1/awards?page_size=1", headers=MANAGER)
    with statements_run(rt.engine) as reading_two:
        both = client.get("/v1/awards?page_size=2", headers=MANAGER)
    assert one.status_code == both.status_code == 200 and len(both.json) == 2
    assert len(reading_two) == len(reading_one), reading_two
    for listed in both.json:
        alone = client.get(f"/v1/awards/{listed['award_id']}", headers=MANAGER).json
        assert listed == alone and all(e["provider_name"] for e in listed["ranking"]["entries"])


def test_an_officer_asking_for_another_teams_awards_by_name_is_refused(client, awarded):
    refused = client.get("/v1/awards?team=exclusions", headers=MEDICAL_OFFICER)
    assert refused.status_code == 403 and "team" in errors(refused)
    own = client.get("/v1/awards?team=exclusions", headers=OFFICER)
    assert [a["award_id"] for a in own.json] == [awarded["award_id"]]


def test_an_officer_cannot_read_another_teams_award_by_id_or_by_referral(client, awarded):
    one = client.get(f"/v1/awards/{awarded['award_id']}", headers=MEDICAL_OFFICER)
    assert one.status_code == 403
    assert "override_reason" not in one.get_data(as_text=True)
    assert "continuity" not in one.get_data(as_text=True)
    by_referral = client.get(f"/v1/awards?referral_id={awarded['referral_id']}", headers=MEDICAL_OFFICER)
    assert by_referral.status_code == 200 and by_referral.json == []
    assert client.get(f"/v1/awards/{awarded['award_id']}", headers=OFFICER).json["override_reason"] == (
        "continuity with a current provider")


def test_the_manager_and_reporting_read_every_teams_awards(client, awarded):
    for headers in (MANAGER, REPORTING):
        assert len(client.get("/v1/awards", headers=headers).json) == 2
        assert client.get(f"/v1/awards/{awarded['award_id']}", headers=headers).status_code == 200
    assert [a["referral_id"] for a in client.get("/v1/awards?team=send", headers=MANAGER).json] == [
        awarded["send_referral_id"]]


def test_a_provider_reads_only_its_own_awards_across_teams(client, awarded):
    mine = client.get("/v1/awards", headers=provider_auth(awarded["provider"]))
    assert len(mine.json) == 2 and all("override_reason" not in a for a in mine.json)
    stranger = provider_auth(uuid.uuid4())
    assert client.get("/v1/awards", headers=stranger).json == []
    assert client.get(f"/v1/awards/{awarded['award_id']}", headers=stranger).status_code == 403


def test_closed_referrals_of_another_team_are_refused_by_name(client, awarded):
    refused = client.get("/v1/referrals?team=exclusions", headers=MEDICAL_OFFICER)
    assert refused.status_code == 403 and "team" in errors(refused)


def test_an_officer_sees_only_their_own_teams_places_of_a_block(client, rt):
    lot1 = Lot1(rt)
    competition = Competition(client, rt, lot1)
    assert competition.award(headers=MANAGER).status_code == 201
    contract = competition.confirm(datetime(2025, 4, 9, 9, 0, tzinfo=UTC), headers=MANAGER).json
    exclusions, send = uuid.uuid4(), uuid.uuid4()
    close(rt, exclusions, [], lot=1)
    close(rt, send, [], lot=1, team="send")
    url = f"/v1/block-contracts/{contract['contract_id']}/allocations"
    assert client.post(url, json={"referral_id": str(exclusions)}, headers=OFFICER).status_code == 201
    assert client.post(url, json={"referral_id": str(send)}, headers=OTHER_OFFICER).status_code == 201

    assert [a["referral_id"] for a in client.get(url, headers=OFFICER).json] == [str(exclusions)]
    assert [a["referral_id"] for a in client.get(url, headers=OTHER_OFFICER).json] == [str(send)]
    assert client.get(url, headers=MEDICAL_OFFICER).json == []
    assert {a["referral_id"] for a in client.get(url, headers=MANAGER).json} == {str(exclusions), str(send)}
    assert client.get(url, headers=provider_auth(lot1.p1)).status_code == 403
