"""The registry's daily job (issue #18) publishes, once each, an application due for decision in 2 working
days and overdue: the events notifications turns into the manager's messages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tests.api.provider_registry.registry_support import DUE_ON, MANAGER, apply, decide, outbox


def on(year, month, day):
    return datetime(year, month, day, 2, 0, tzinfo=UTC)


def _told(rt) -> list[tuple[str, str, str]]:
    return [(e["type"], e["data"]["application_id"], e["data"]["due_on"]) for e in outbox(rt)
            if e["type"].startswith("application.decision_")]


def test_the_manager_is_reminded_once_before_the_decision_date_and_once_after(client, rt):
    waiting = apply(client, uuid.uuid4()).json["id"]
    decided = apply(client, uuid.uuid4()).json["id"]
    decide(client, decided)

    for day in (on(2025, 1, 24), on(2025, 1, 27), on(2025, 1, 28), on(2025, 1, 30), on(2025, 1, 31)):
        assert "decision_reminders" in rt.run_jobs(day)
    assert _told(rt) == [("application.decision_due", waiting, DUE_ON),
                         ("application.decision_overdue", waiting, DUE_ON)]
    [due] = outbox(rt, "application.decision_due")
    assert set(due["data"]) == {"application_id", "provider_id", "provider_name", "received_on", "due_on", "at"}
    assert due["data"]["received_on"] == "2025-01-15"


def test_an_extended_deadline_is_told_again_in_its_time(client, rt):
    waiting = apply(client, uuid.uuid4()).json["id"]
    rt.run_jobs(on(2025, 1, 27))
    extended = client.post(f"/v1/applications/{waiting}/extension", headers=MANAGER,
                           json={"reason": "awaiting references"})
    assert extended.status_code == 200 and extended.json["deadline"]["due_on"] == "2025-02-05"
    rt.run_jobs(on(2025, 2, 3))
    assert [(kind, due_on) for kind, _, due_on in _told(rt)] == [("application.decision_due", DUE_ON),
                                                                 ("application.decision_due", "2025-02-05")]
