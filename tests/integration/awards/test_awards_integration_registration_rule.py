"""The registration rule across the services on the real broker: an
unregistered setting admitted in the registry declares its whole roll there;
the registry's events reach awards through the outbox, the relay and RabbitMQ;
awards then refuses a fifth full-time pupil of compulsory school age with a 409
naming the law, and nothing is awarded."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from services.awards import models
from services.provider_registry.domain import PRICING_LINE_NAMESPACE
from shared.events import new_event
from tests.api.awards.awards_support import OFFICER, closed_referral, offer
from tests.api.provider_registry.registry_support import MANAGER, admitted_provider, application_form
from tests.api.provider_registry.registry_support import NOW as REGISTRY_NOW
from tests.integration.awards.test_awards_integration_events import awards, knows_referral, publish_raw  # noqa: F401
from tests.support.runtime import running, wait_until

pytestmark = pytest.mark.integration


def declared(runtime, provider_id) -> int | None:
    with runtime.engine.connect() as c:
        return c.execute(sa.select(models.providers.c.declared_full_time_pupils)
                         .where(models.providers.c.provider_id == provider_id)).scalar_one_or_none()


def test_a_roll_declared_in_the_registry_makes_awards_refuse_a_fifth_full_time_pupil(service, awards,  # noqa: F811
                                                                                   client_for):
    registry = service("provider_registry")
    registry.clock = lambda: REGISTRY_NOW
    registry_client, awards_client = client_for(registry), client_for(awards)
    referral_id = uuid.uuid4()
    with running(registry, consumer=False), running(awards):
        provider_id = admitted_provider(registry_client, form=application_form(
            registration={"setting_kind": "unregistered"}))
        declaration = registry_client.put(f"/v1/providers/{provider_id}/declared-roll", headers=MANAGER,
                                          json={"full_time_pupils": 4})
        assert declaration.status_code == 200, declaration.json
        wait_until(lambda: declared(awards, provider_id) == 4, message="awards has the declared roll")

        line = str(uuid.uuid5(PRICING_LINE_NAMESPACE, f"{provider_id}:1:group place per week"))
        weekly = {**offer(provider_id, 30_000, units="1", pricing_line_id=line)}
        publish_raw(awards.settings.amqp_url, new_event("referral.closed", closed_referral(
            referral_id, [weekly], lot=1, hours="25", full_time=True, compulsory_school_age=True), "referrals"))
        wait_until(lambda: knows_referral(awards, referral_id), message="awards has the closed referral")

        refused = awards_client.post(f"/v1/referrals/{referral_id}/award", json={"offer_id": weekly["offer_id"]},
                                     headers=OFFICER)
    assert refused.status_code == 409, refused.json
    assert "with this child the setting would educate 5 pupils of compulsory school age full-time" in \
        refused.json["message"]
    assert "Education Act 1996 s.463; Education and Skills Act 2008 s.92): law" in refused.json["message"]
    with awards.engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(models.awards)).scalar_one() == 0
