"""A placement does not start during its call-off's standstill, through the API
on the real databases (PostgreSQL and SQLite): the date kept from
placement.awarded, a start on its last day refused 409 naming the rule and
nothing stored, the day after allowed (issue #15 item 1)."""

from __future__ import annotations

import pytest

from tests.api.tracking.tracking_support import MANAGER, NOW, PROVIDER, awarded, snapshot
from tests.support import runtime as support


@pytest.fixture(params=["postgresql", "sqlite"])
def tracking(request, tmp_path):
    if request.param == "postgresql":
        yield request.getfixturevalue("rt")
        return
    runtime = support.build_runtime("tracking", f"sqlite:///{tmp_path}/tracking.sqlite3", "amqp://unused//")
    runtime.clock = lambda: NOW
    yield runtime
    runtime.engine.dispose()


def test_a_start_during_the_standstill_is_refused_and_the_day_after_is_allowed(tracking, client_for):
    client = client_for(tracking)
    placement_id = awarded(tracking, standstill_ends_on="2024-01-09")
    shown = client.get(f"/v1/placements/{placement_id}", headers=MANAGER).json
    assert shown["standstill_ends_on"] == "2024-01-09"
    before = snapshot(tracking)
    refused = client.post(f"/v1/placements/{placement_id}/start", json={"started_on": "2024-01-09"},
                          headers=PROVIDER)
    assert refused.status_code == 409, refused.json
    assert refused.json["conflict"] == "started_on"
    assert "2024-01-09" in refused.json["message"] and "Procurement Act 2023 s.51" in refused.json["message"]
    assert "law" in refused.json["message"]
    assert snapshot(tracking) == before
    started = client.post(f"/v1/placements/{placement_id}/start", json={"started_on": "2024-01-10"},
                          headers=PROVIDER)
    assert started.status_code == 200 and started.json["started_on"] == "2024-01-10"


def test_an_award_without_a_standstill_starts_any_day(tracking, client_for):
    client = client_for(tracking)
    placement_id = awarded(tracking)  # an event from before awards carried the standstill
    assert client.get(f"/v1/placements/{placement_id}", headers=MANAGER).json["standstill_ends_on"] is None
    assert client.post(f"/v1/placements/{placement_id}/start", json={"started_on": "2024-01-08"},
                       headers=PROVIDER).status_code == 200
