"""A registered school says its establishment type (the AP census's scope): shown on its record, carried on
provider.registration_changed; refused for another kind of setting or an unknown type, naming the field,
nothing stored changed."""

from __future__ import annotations

from tests.api.provider_registry.registry_support import (
    MANAGER,
    admitted_provider,
    names,
    outbox,
    provider_auth,
    snapshot,
)

SCHOOL = {"setting_kind": "registered_school", "urn": "123456", "inspectorate": "ofsted"}


def test_a_registered_school_says_it_is_a_pupil_referral_unit_and_the_event_carries_it(client, rt):
    provider_id = admitted_provider(client)
    response = client.patch(f"/v1/providers/{provider_id}", headers=provider_auth(provider_id),
                            json={"registration": {**SCHOOL, "establishment_type": "pupil_referral_unit"}})
    assert response.status_code == 200, response.json
    record = client.get(f"/v1/providers/{provider_id}", headers=MANAGER).json
    assert record["registration"]["establishment_type"] == "pupil_referral_unit"
    [changed] = outbox(rt, "provider.registration_changed")
    assert changed["data"]["establishment_type"] == "pupil_referral_unit"


def test_an_establishment_type_is_refused_for_an_unregistered_setting_or_unknown(client, rt):
    provider_id = admitted_provider(client)
    before = snapshot(rt)
    for registration in ({"setting_kind": "unregistered", "establishment_type": "independent"},
                         {**SCHOOL, "establishment_type": "grammar"}):
        refused = client.patch(f"/v1/providers/{provider_id}", headers=provider_auth(provider_id),
                               json={"registration": registration})
        assert refused.status_code == 422, refused.json
        assert names(refused, "registration.establishment_type"), refused.json
    assert snapshot(rt) == before
