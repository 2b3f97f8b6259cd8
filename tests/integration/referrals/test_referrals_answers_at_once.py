"""Providers answering one referral at the same moment never get in each
other's way (issue #14, item 6): on SQLite (the default of `make run`) and on
PostgreSQL, every provider's offer or decline posted at once is accepted, and
the referral holds every answer.  Only what must be serialised is: the
referral's own state changes, and one provider's own offer."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from services.referrals import models
from shared.actor import Actor
from shared.web import create_app
from tests.api.referrals.referrals_support import (
    AFTER_DEADLINE,
    NOW,
    OFFICER,
    admit,
    offer_terms,
    provider_auth,
    published_referral,
)
from tests.support.runtime import build_runtime

pytestmark = pytest.mark.integration

PROVIDERS = 8


@pytest.fixture(params=["sqlite", "postgresql"])
def rt(request, tmp_path, database):
    url = f"sqlite:///{tmp_path}/referrals.sqlite3" if request.param == "sqlite" else database("referrals")
    runtime = build_runtime("referrals", url, "amqp://unused-by-this-test//", migrate=request.param == "sqlite")
    runtime.clock = lambda: NOW
    yield runtime
    runtime.engine.dispose()


def _at_once(app, requests: list[tuple[str, dict, dict]]) -> list:
    """POST each (path, body, headers) from its own thread, released together."""
    start = threading.Barrier(len(requests))
    answers: list = [None] * len(requests)

    def press(i: int, path: str, body: dict, headers: dict) -> None:
        client = app.test_client()
        start.wait()
        answers[i] = client.post(path, json=body, headers=headers)

    threads = [threading.Thread(target=press, args=(i, *r)) for i, r in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return answers


def test_providers_offering_and_declining_on_one_referral_at_once_are_all_accepted(rt):
    app = create_app(rt.definition, rt.settings, rt)
    providers = [admit(rt, uuid.uuid4(), name=f"Provider {n}") for n in range(PROVIDERS)]
    referral = published_referral(app.test_client())
    assert len(referral_invited(app, referral)) == PROVIDERS
    rid = referral["referral_id"]
    offering, declining = providers[: PROVIDERS * 3 // 4], providers[PROVIDERS * 3 // 4:]
    requests = [(f"/v1/provider/referrals/{rid}/offers", offer_terms(p, referral["questions"]), provider_auth(p))
                for p in offering]
    requests += [(f"/v1/provider/referrals/{rid}/decline", {"reason": "No place this term"}, provider_auth(p))
                 for p in declining]
    version = _version(rt, rid)
    answers = _at_once(app, requests)
    assert [a.status_code for a in answers] == [201] * len(offering) + [200] * len(declining), \
        [a.json for a in answers if a.status_code >= 400]
    # An answer is the provider's own row: the referral's own row (its state, its version) is not touched,
    # so answers from different providers never wait for or refuse each other.
    assert _version(rt, rid) == version
    rt.clock = lambda: NOW  # the officer closes early: everyone has answered
    closed = app.test_client().post(f"/v1/referrals/{rid}/close", headers=OFFICER)
    assert closed.status_code == 200, closed.json
    offers = app.test_client().get(f"/v1/referrals/{rid}/offers?page_size=200", headers=OFFICER).json
    assert sorted(o["provider_id"] for o in offers) == sorted(str(p) for p in offering)


def test_one_providers_offer_posted_twice_at_once_is_made_once(rt):
    app = create_app(rt.definition, rt.settings, rt)
    acorn = admit(rt, uuid.uuid4())
    referral = published_referral(app.test_client())
    rid = referral["referral_id"]
    body = offer_terms(acorn, referral["questions"])
    answers = _at_once(app, [(f"/v1/provider/referrals/{rid}/offers", body, provider_auth(acorn))] * 2)
    assert sorted(a.status_code for a in answers) == [201, 409], [a.json for a in answers]


def _version(rt, referral_id) -> int:
    r = models.referrals
    with rt.engine.connect() as connection:
        return connection.execute(sa.select(r.c.version).where(r.c.id == uuid.UUID(referral_id))).scalar_one()


def referral_invited(app, referral) -> list:
    found = app.test_client().get(f"/v1/referrals/{referral['referral_id']}", headers=OFFICER).json
    return found["invited_provider_ids"]


def test_reading_a_referral_past_its_deadline_writes_nothing(rt):
    """Reads never write: shown closed, recorded closed only by the job."""
    app = create_app(rt.definition, rt.settings, rt)
    admit(rt, uuid.uuid4())
    referral = published_referral(app.test_client())
    rid = referral["referral_id"]
    statements: list[str] = []

    def count(_connection, _cursor, statement, *_args):
        statements.append(statement)

    rt.clock = lambda: AFTER_DEADLINE
    sa.event.listen(rt.engine, "before_cursor_execute", count)
    try:
        shown = app.test_client().get(f"/v1/referrals/{rid}", headers=OFFICER).json
        listed = app.test_client().get("/v1/referrals?status=closed", headers=OFFICER).json
    finally:
        sa.event.remove(rt.engine, "before_cursor_execute", count)
    assert shown["status"] == "closed" and [r["referral_id"] for r in listed] == [rid]
    written = [s for s in statements if s.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    # The one write a read makes is the audit trail's record that the child's identity was read (UK GDPR).
    assert written and all(s.lstrip().upper().startswith("INSERT INTO AUDIT_LOG") for s in written), written
    assert _version(rt, rid) == 2  # created (1), published (2): not closed by a read


def test_an_answer_in_progress_holds_up_no_other_provider_only_a_change_of_the_referral(database):
    """PostgreSQL: while one provider's answer is open (its transaction holds what an answer holds: the
    referral's row shared, its own invitation locked), another provider's offer goes through at once, and an
    officer closing the window waits for the answer to end."""
    runtime = build_runtime("referrals", database("referrals"), "amqp://unused-by-this-test//", migrate=False)
    runtime.clock = lambda: NOW
    try:
        app = create_app(runtime.definition, runtime.settings, runtime)
        acorn, birch = admit(runtime, uuid.uuid4()), admit(runtime, uuid.uuid4())
        referral = published_referral(app.test_client())
        rid = uuid.UUID(referral["referral_id"])
        with runtime.unit_of_work(Actor("user", frozenset({"provider"}), provider_id=acorn)) as answering:
            answering.referrals.get(rid, answering=acorn)  # acorn's answer, not yet committed
            [birch_offer] = _at_once(app, [(f"/v1/provider/referrals/{rid}/offers",
                                            offer_terms(birch, referral["questions"]), provider_auth(birch))])
            assert birch_offer.status_code == 201, birch_offer.json
            closing = threading.Thread(target=lambda: closed.append(
                app.test_client().post(f"/v1/referrals/{rid}/close", headers=OFFICER)))
            closed: list = []
            closing.start()
            closing.join(timeout=1.5)
            assert closing.is_alive() and not closed  # the officer waits for acorn's answer to end
        closing.join(timeout=30)
        assert closed and closed[0].status_code == 409  # acorn has not answered yet: not everyone has
    finally:
        runtime.engine.dispose()
