"""An unregistered setting's declared roll through the API and the real database
(PUT /v1/providers/{id}/declared-roll): the registration rule counts it with the
council's own placements, so a missing or negative count is refused naming the
field and the law, and nothing stored changes."""

from __future__ import annotations

import pytest

from tests.api.provider_registry.registry_support import (
    MANAGER,
    NOW,
    admitted_provider,
    application_form,
    assert_refused,
    outbox,
    provider_auth,
)


def _unregistered(client):
    return admitted_provider(client, form=application_form(registration={"setting_kind": "unregistered"}))


def test_the_setting_declares_its_roll_and_the_event_carries_it(client, rt):
    provider_id = _unregistered(client)
    response = client.put(f"/v1/providers/{provider_id}/declared-roll", headers=provider_auth(provider_id),
                          json={"full_time_pupils": 4, "any_ehcp": False, "any_looked_after": False,
                                "any_sen": True})
    assert response.status_code == 200, response.json
    assert response.json["declared_roll"] == {"full_time_pupils": 4, "any_ehcp": False, "any_looked_after": False,
                                              "any_sen": True, "declared_at": NOW.isoformat()}
    data = outbox(rt, "provider.registration_changed")[-1]["data"]
    assert data["setting_kind"] == "unregistered" and data["declared_roll"]["full_time_pupils"] == 4
    assert client.get(f"/v1/providers/{provider_id}", headers=MANAGER).json["declared_roll"]["any_sen"] is True


@pytest.mark.parametrize("body", [{}, {"full_time_pupils": None}, {"full_time_pupils": -1},
                                  {"full_time_pupils": 1.5}, {"full_time_pupils": "3"}],
                         ids=["missing", "null", "negative", "fraction", "text"])
def test_a_missing_or_negative_count_is_a_422_naming_the_field_and_the_law(client, rt, body):
    provider_id = _unregistered(client)
    response = assert_refused(rt, client.put, f"/v1/providers/{provider_id}/declared-roll", headers=MANAGER,
                              json=body, field="full_time_pupils", case=str(body))
    assert "Education Act 1996 s.463" in response.json["message"] and ": law" in response.json["message"]


def test_a_flag_that_is_not_true_or_false_is_a_422(client, rt):
    provider_id = _unregistered(client)
    assert_refused(rt, client.put, f"/v1/providers/{provider_id}/declared-roll", headers=MANAGER,
                   json={"full_time_pupils": 1, "any_ehcp": "maybe"}, field="any_ehcp")


def test_a_registered_school_is_not_caught_and_declares_no_roll(client, rt):
    school = admitted_provider(client)
    assert_refused(rt, client.put, f"/v1/providers/{school}/declared-roll", headers=MANAGER,
                   json={"full_time_pupils": 1}, status=409, field="setting_kind")


def test_another_provider_may_not_declare_for_it(client, rt):
    provider_id, other = _unregistered(client), _unregistered(client)
    assert_refused(rt, client.put, f"/v1/providers/{provider_id}/declared-roll", headers=provider_auth(other),
                   json={"full_time_pupils": 1}, status=403)
