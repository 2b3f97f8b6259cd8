"""EventConsumer.handle and handle_batch without a broker, on SQLite (the
default) and PostgreSQL: the inbox claim, and the one rule for a handler that
raises (shared.messaging.consumer.outcome_of).

The handlers are the tracking service's own: their effect (a placement, a
membership, an audit row) is what a second application would write twice."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from marshmallow import ValidationError

from shared.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from shared.events import new_event
from shared.messaging.consumer import EventConsumer, Outcome, PoisonMessage, RetryLater
from tests.support.faults import placement_awarded, status_changed
from tests.support.runtime import build_runtime

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def tracking(request, tmp_path):
    if request.param == "sqlite":
        runtime = build_runtime("tracking", f"sqlite:///{tmp_path}/tracking.sqlite3", "amqp://unused//")
    else:
        runtime = build_runtime("tracking", request.getfixturevalue("database")("tracking"), "amqp://unused//",
                                migrate=False)
    yield runtime
    runtime.engine.dispose()


def _consumer(runtime, handlers=None) -> EventConsumer:
    return EventConsumer("tracking", runtime.session_factory, runtime.inbox_table, runtime.outbox,
                         handlers if handlers is not None else runtime.definition.event_handlers(),
                         "amqp://unused//", unit_of_work=runtime.unit_of_work_around)


def _count(runtime, table: str, where: str = "1 = 1", **params) -> int:
    with runtime.engine.connect() as c:
        return c.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {where}"), params).scalar_one()


def _audit_rows(runtime, subject_id: str) -> int:
    return _count(runtime, "audit_log", "subject_id = :s", s=str(subject_id))


# -- the inbox claim -----------------------------------------------------------------------------

def test_a_redelivered_event_is_a_duplicate_and_writes_nothing_twice(tracking):
    provider = uuid.uuid4()
    body = new_event("membership.suspended", status_changed(provider, lot=2), "provider_registry").to_json()
    consumer = _consumer(tracking)
    assert consumer.handle(body) == Outcome("done")
    assert _audit_rows(tracking, f"{provider}:2") == 1
    assert consumer.handle(body) == Outcome("duplicate")
    assert consumer.handle(body) == Outcome("duplicate")
    assert _audit_rows(tracking, f"{provider}:2") == 1, "the redelivered event was applied again"
    assert _count(tracking, "inbox") == 1


def test_a_redelivered_award_creates_one_placement_and_one_audit_row(tracking):
    award = placement_awarded(uuid.uuid4(), lot=2)
    body = new_event("placement.awarded", award, "awards").to_json()
    consumer = _consumer(tracking)
    outcomes = [consumer.handle(body) for _ in range(3)]
    assert [o.action for o in outcomes] == ["done", "duplicate", "duplicate"]
    placements = tracking.definition.metadata.tables["placements"]
    with tracking.engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(placements).where(
            placements.c.placement_id == uuid.UUID(award["placement_id"]))).scalar_one() == 1
    assert _audit_rows(tracking, award["placement_id"]) == 1


def test_duplicates_inside_a_batch_and_across_batches_are_applied_once(tracking):
    providers = [uuid.uuid4() for _ in range(4)]
    bodies = [new_event("membership.suspended", status_changed(p, lot=1), "provider_registry").to_json()
              for p in providers]
    consumer = _consumer(tracking)
    first = consumer.handle_batch(bodies + bodies[:2])
    assert [o.action for o in first] == ["done"] * 4 + ["duplicate"] * 2
    again = consumer.handle_batch(bodies)
    assert [o.action for o in again] == ["duplicate"] * 4
    for p in providers:
        assert _audit_rows(tracking, f"{p}:1") == 1
    assert _count(tracking, "inbox") == 4


def test_a_batch_with_a_failure_keeps_nothing(tracking):
    good = new_event("membership.suspended", status_changed(uuid.uuid4(), lot=1), "provider_registry").to_json()
    bad = new_event("membership.suspended", {"provider_id": "nope"}, "provider_registry").to_json()
    consumer = _consumer(tracking)
    assert consumer.handle_batch([good, bad]) is None
    assert _count(tracking, "inbox") == 0 and _count(tracking, "audit_log") == 0
    assert consumer.handle(good) == Outcome("done")


# -- the one rule for a handler that raises -------------------------------------------------------

def _raising(exc: BaseException):
    def handler(uow, envelope):
        uow.session.execute(sa.text("INSERT INTO job_runs (job, period, ran_at) VALUES ('effect', :p, :t)"),
                            {"p": str(envelope.id), "t": uow.now()})
        raise exc

    return {"placement.awarded": handler}


def _event() -> str:
    return new_event("placement.awarded", {"n": 1}, "awards").to_json()


@pytest.mark.parametrize(("exc", "action", "reason"), [
    (InvalidInput("lot 5 is not a lot of the DPS (1 to 4)", field="lot"), "dead", "refused (InvalidInput)"),
    (Conflict("the placement has ended"), "dead", "refused (Conflict)"),
    (NotFound("no such placement"), "dead", "refused (NotFound)"),
    (ValidationError({"n": ["Not a valid integer."]}), "dead", "invalid data"),
    (PoisonMessage("never"), "dead", "PoisonMessage"),
    (RetryLater("the referral is not here yet"), "retry", "RetryLater"),
    (ServiceUnavailable("try again"), "retry", "refused (ServiceUnavailable)"),
    (RuntimeError("a bug"), "retry", "RuntimeError"),
])
def test_what_a_handler_raises_decides_dead_letter_or_retry(tracking, exc, action, reason):
    outcome = _consumer(tracking, _raising(exc)).handle(_event())
    assert outcome.action == action, outcome
    assert outcome.reason.startswith(reason), outcome.reason
    assert _count(tracking, "inbox") == 0 and _count(tracking, "job_runs", "job = 'effect'") == 0


def test_a_domain_refusal_names_the_field(tracking):
    outcome = _consumer(tracking, _raising(InvalidInput("lot 5 is not a lot", field="lot"))).handle(_event())
    assert outcome == Outcome("dead", 'refused (InvalidInput): lot 5 is not a lot {"lot": ["lot 5 is not a lot"]}')


def test_tracking_dead_letters_an_award_its_rules_refuse_at_once(tracking):
    award = placement_awarded(uuid.uuid4(), lot=2)
    award["lot"] = 5
    outcome = _consumer(tracking).handle(new_event("placement.awarded", award, "awards").to_json())
    assert outcome.action == "dead" and "lot" in outcome.reason


def test_undecodable_unknown_and_unread_messages(tracking):
    consumer = _consumer(tracking)
    assert consumer.handle(b"{not json").action == "dead"
    assert consumer.handle(b"{not json").reason.startswith("undecodable envelope")
    unread = new_event("attendance.recorded", {}, "tracking").to_json()
    assert consumer.handle(unread) == Outcome("ignored", "no handler for attendance.recorded")
    assert _count(tracking, "inbox") == 0
