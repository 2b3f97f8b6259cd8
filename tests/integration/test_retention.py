"""The retention job (issue #17 item 3), on SQLite and PostgreSQL, with the
clock moved forward: what is past its time goes, what is not stays, counts
(never contents) are recorded, and the job is safe to run twice and in two
replicas at once.  Referrals is the service whose records matter most: the
child's identity lives there."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from services.referrals import models
from shared.web import create_app
from tests.api.referrals.referrals_support import CHILD, OFFICER, create, referral_form
from tests.support.runtime import build_runtime

pytestmark = pytest.mark.integration

CREATED = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/referrals.sqlite3"
    postgres = request.getfixturevalue("postgres")
    name = f"ret_{uuid.uuid4().hex[:10]}"
    url = postgres.create_database(name)
    request.addfinalizer(lambda: postgres.drop_database(name))
    return url


@pytest.fixture
def runtime(database_url):
    runtime = build_runtime("referrals", database_url, "amqp://unused//")
    runtime.clock = lambda: CREATED
    yield runtime
    runtime.engine.dispose()


def _referral(client, *, born: str, ehcp: bool, upn: str) -> str:
    form = referral_form(profile_changes={"ehcp": ehcp})
    form["child"] = {**CHILD, "date_of_birth": born, "upn": upn}
    return create(client, form, headers=OFFICER)["referral_id"]


def _referral_ids(runtime) -> set[str]:
    with runtime.engine.connect() as c:
        return {str(i) for i in c.execute(sa.select(models.referrals.c.id)).scalars()}


def _retention_entries(runtime) -> list[dict]:
    audit = runtime.audit_table
    with runtime.engine.connect() as c:
        return [row.details for row in c.execute(sa.select(audit).where(audit.c.action == "retention.applied"))]


@pytest.fixture
def referrals(runtime):
    client = create_app(runtime.definition, runtime.settings, runtime).test_client()
    return {
        "grown_up": _referral(client, born="2003-01-01", ehcp=False, upn="A123456789012"),  # 25 on 2028-01-01
        "grown_up_ehcp": _referral(client, born="2003-01-01", ehcp=True, upn="B123456789012"),  # 31 in 2034
        "young": _referral(client, born="2015-03-01", ehcp=False, upn="C123456789012"),
        "adult_at_referral": _referral(client, born="1999-01-01", ehcp=False, upn="D123456789012"),
    }


def test_nothing_goes_before_its_time(runtime, referrals):
    runtime.run_jobs(datetime(2027, 6, 1, tzinfo=UTC))
    # 'adult_at_referral' is past 25, but procurement law keeps it 3 years after the decision.
    assert _referral_ids(runtime) == set(referrals.values())


def test_a_referral_goes_when_the_child_is_25_or_31_with_an_ehcp_and_the_job_is_safe_to_run_twice(
        runtime, referrals):
    later = datetime(2028, 6, 1, tzinfo=UTC)
    assert "retention" in runtime.run_jobs(later)
    kept = {referrals["grown_up_ehcp"], referrals["young"]}
    assert _referral_ids(runtime) == kept
    with runtime.engine.connect() as c:
        children = c.execute(sa.select(sa.func.count()).select_from(models.referral_children)).scalar()
        index = set(c.execute(sa.select(models.children.c.upn)).scalars())
    assert children == 2 and index == {"B123456789012", "C123456789012"}
    [entry] = _retention_entries(runtime)
    assert entry == {"referral": 2}  # counts, never contents

    runtime.run_jobs(later, force=True)  # again, the same day: nothing more to remove
    assert _referral_ids(runtime) == kept
    assert _retention_entries(runtime)[1] == {}

    runtime.run_jobs(datetime(2034, 6, 1, tzinfo=UTC))
    assert _referral_ids(runtime) == {referrals["young"]}


def test_two_replicas_at_once_run_it_once(runtime, referrals, database_url):
    other = build_runtime("referrals", database_url, "amqp://unused//", migrate=False)
    later, ran, start = datetime(2028, 6, 1, tzinfo=UTC), [], threading.Barrier(2)

    def replica(r):
        start.wait()
        ran.append("retention" in r.run_jobs(later))

    threads = [threading.Thread(target=replica, args=(r,)) for r in (runtime, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.engine.dispose()
    assert sorted(ran) == [False, True]
    assert len(_referral_ids(runtime)) == 2 and len(_retention_entries(runtime)) == 1


@pytest.mark.parametrize("service", ["provider_registry", "awards", "tracking"])
def test_every_services_rules_run_on_this_database(service, database_url):
    # Each rule's SQL runs on both databases; their effect is unit-sized and shown above for referrals.
    other = build_runtime(service, database_url.replace("referrals", service), "amqp://unused//")
    try:
        assert "retention" in other.run_jobs(datetime(2100, 1, 1, tzinfo=UTC))
    finally:
        other.engine.dispose()
