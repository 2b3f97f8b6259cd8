"""Tracking's daily job (issue #18) publishes, once each, a review due in 5 school days and overdue, and a
sixth-day deadline 2 school days away and missed: the events notifications turns into the team's messages."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from services.tracking import models
from tests.api.tracking.test_tracking_api_sixth_day import TODAY, children  # noqa: F401 - the fixture
from tests.api.tracking.tracking_support import outbox, started


def _due(runtime, placement_id, due_on: str) -> None:
    with runtime.engine.begin() as connection:
        connection.execute(sa.update(models.placements).where(models.placements.c.placement_id == placement_id)
                           .values(review_due_on=due_on))


def _types(runtime) -> list[tuple[str, str]]:
    return sorted((event["type"], event["data"]["due_on"]) for event in outbox(runtime)
                  if event["type"].startswith(("review.", "sixth_day.")) and event["type"] != "review.recorded")


def test_the_daily_job_publishes_each_reminder_once(rt, children):  # noqa: F811 - the imported fixture
    client, ref = children
    soon = started(client, rt, on="2025-11-03", lot=2, hours_per_week=10, full_time=False,
                   start_date="2025-11-03", at="2025-10-30T10:00:00+00:00")
    late = started(client, rt, on="2025-11-03", lot=2, hours_per_week=10, full_time=False,
                   start_date="2025-11-03", at="2025-10-30T10:00:00+00:00")
    _due(rt, soon, "2025-11-19")  # Wednesday to Wednesday: 5 school days
    _due(rt, late, "2025-11-10")

    assert "reminders" in rt.run_jobs(TODAY, force=True)
    rt.run_jobs(TODAY + timedelta(days=1), force=True)  # the next day: nothing new
    assert _types(rt) == [("review.due_soon", "2025-11-19"), ("review.overdue", "2025-11-10"),
                          ("sixth_day.at_risk", "2025-11-14"),
                          # the child placed only part-time, the one placed late, the other team's
                          ("sixth_day.missed", "2025-11-05"), ("sixth_day.missed", "2025-11-05"),
                          ("sixth_day.missed", "2025-11-05")]
    [due_soon] = outbox(rt, "review.due_soon")
    assert due_soon["data"]["placement_id"] == str(soon) and due_soon["data"]["team"] == "exclusions"
    [at_risk] = outbox(rt, "sixth_day.at_risk")
    assert set(at_risk["data"]) == {"referral_id", "lot", "team", "due_on", "at"}  # no child_ref: not needed

    _due(rt, late, "2025-12-17")  # a review recorded: a new due date may be told again in its time
    rt.run_jobs(TODAY + timedelta(days=30), force=True)
    assert ("review.due_soon", "2025-12-17") in _types(rt)
