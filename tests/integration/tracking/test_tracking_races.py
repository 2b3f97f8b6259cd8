"""Two requests about one placement or one child at the same moment, through
tracking's HTTP API, on SQLite (the default of `make run`) and PostgreSQL:

- two returns for the same week of one placement: one is the return, the
  other corrects it (or is refused 409 naming the week); never a 500, and
  one row for the week;
- two placements of one child started at once: exactly one starts, the
  other is refused 409 naming the child's current placement (the start is
  serialised on the child, not only on the placement being started).
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from services.tracking import models
from tests.api.tracking.tracking_support import MANAGER, NOW, PROVIDER, awarded, started, week
from tests.support.races import DATABASES, app_of, at_once, runtime_on

pytestmark = pytest.mark.integration

TRIALS = 8


@pytest.fixture(params=DATABASES)
def rt(request, tmp_path):
    runtime = runtime_on(request, "tracking", tmp_path)
    runtime.clock = lambda: NOW
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def app(rt):
    return app_of(rt)


def _rows(rt, table: sa.Table, *where) -> int:
    with rt.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


def test_two_returns_for_the_same_week_at_once_give_one_week_and_no_server_error(rt, app):
    client = app.test_client()
    table = models.attendance_returns
    outcomes = []
    for trial in range(TRIALS):
        placement_id = started(client, rt)
        monday = "2024-01-08"
        responses = at_once(app, [(f"/v1/placements/{placement_id}/attendance", week(monday, 10, attended), PROVIDER)
                                  for attended in (9, 8)])
        outcomes.append(sorted(r.status_code for r in responses))
        for response in responses:
            assert response.status_code < 500, f"trial {trial}: {response.status_code} {response.json}"
            if response.status_code == 409:
                assert monday in response.get_data(as_text=True), response.json
        assert _rows(rt, table, table.c.placement_id == placement_id) == 1
    assert all(statuses in ([201, 201], [201, 409]) for statuses in outcomes), outcomes


def test_two_placements_of_one_child_started_at_once_start_exactly_one(rt, app):
    both_started, refused = 0, []
    for _ in range(TRIALS):
        child = str(uuid.uuid4())
        first, second = (awarded(rt, child_ref=child) for _ in range(2))
        responses = at_once(app, [(f"/v1/placements/{p}/start", {"started_on": "2024-01-08"}, MANAGER)
                                  for p in (first, second)])
        statuses = [r.status_code for r in responses]
        if statuses == [200, 200]:
            both_started += 1
            continue
        assert sorted(statuses) == [200, 409], [r.json for r in responses]
        winner = (first, second)[statuses.index(200)]
        loser = responses[statuses.index(409)]
        assert str(winner) in loser.json["message"], loser.json  # names the child's current placement
        refused.append(loser.json)
    assert both_started == 0, f"both placements of one child started in {both_started} of {TRIALS} trials"
    assert len(refused) == TRIALS
