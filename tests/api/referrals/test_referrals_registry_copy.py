"""Referrals' own copy of the registry, kept from the registry's events:
correct when an event comes twice or late, schedules in force by date, and
bad data dead-lettered.  Read through the oversight endpoint and the rules."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from services.referrals.domain import MembershipStatus
from services.referrals.repository import RegistryCopy
from shared.events import new_event
from tests.api.referrals.referrals_support import (
    MANAGER,
    NOW,
    OFFICER,
    admitted_data,
    deliver,
    line_id,
    pricing_lines,
    provider_auth,
    status_data,
)


def _membership(rt, provider_id, lot=1, today=NOW.date()):
    with rt.unit_of_work() as uow:
        return RegistryCopy(uow.session).membership(provider_id, lot, today)


def test_admission_records_the_membership_its_schedule_capacity_and_registration(rt, client):
    acorn = uuid.uuid4()
    deliver(rt, "membership.admitted", admitted_data(acorn, name="Acorn Learning"))
    membership = _membership(rt, acorn)
    assert membership.status is MembershipStatus.ADMITTED and membership.capacity == 4
    assert membership.pricing_line(line_id(acorn)).maximum_price_pence == 50_000
    [row] = client.get("/v1/registry/memberships", headers=OFFICER).json
    assert (row["provider_name"], row["registration_status"], row["urn"]) == (
        "Acorn Learning", "registered_school", "100001")


def test_the_same_admission_twice_has_one_effect(rt, client):
    acorn = uuid.uuid4()
    data = admitted_data(acorn)
    deliver(rt, "membership.admitted", data)
    deliver(rt, "membership.admitted", data)  # redelivered under a new event id
    assert len(client.get("/v1/registry/memberships", headers=MANAGER).json) == 1
    assert len(_membership(rt, acorn).pricing_lines) == 2


def test_a_suspension_arriving_before_the_admission_it_follows_stands(rt):
    acorn = uuid.uuid4()
    deliver(rt, "membership.suspended", status_data(acorn, at=NOW - timedelta(days=1)))
    deliver(rt, "membership.admitted", admitted_data(acorn, at=NOW - timedelta(days=30)))
    membership = _membership(rt, acorn)
    assert membership.status is MembershipStatus.SUSPENDED
    assert membership.pricing_lines  # the late admission still brought its schedule


def test_reinstatement_and_removal_apply_in_event_time_order(rt):
    acorn = uuid.uuid4()
    deliver(rt, "membership.admitted", admitted_data(acorn, at=NOW - timedelta(days=30)))
    deliver(rt, "membership.removed", status_data(acorn, status="removed", at=NOW - timedelta(days=2)))
    deliver(rt, "membership.reinstated", status_data(acorn, status="admitted", at=NOW - timedelta(days=5)))
    assert _membership(rt, acorn).status is MembershipStatus.REMOVED


def test_a_new_pricing_schedule_is_in_force_from_its_effective_date(rt):
    acorn = uuid.uuid4()
    deliver(rt, "membership.admitted", admitted_data(acorn))
    deliver(rt, "pricing_schedule.effective", {
        "provider_id": str(acorn), "provider_name": "Acorn", "lot": 1, "version": 2, "effective_from": "2025-02-01",
        "pricing_lines": pricing_lines(acorn, maximum=55_000), "at": NOW.isoformat()})
    assert _membership(rt, acorn).pricing_line(line_id(acorn)).maximum_price_pence == 50_000
    later = _membership(rt, acorn, today=date(2025, 2, 1))
    assert later.pricing_line(line_id(acorn)).maximum_price_pence == 55_000


def test_an_older_schedule_version_arriving_late_does_not_replace_a_newer_one(rt):
    acorn = uuid.uuid4()
    deliver(rt, "membership.admitted", admitted_data(acorn))
    for version, maximum in ((3, 58_000), (2, 55_000)):
        deliver(rt, "pricing_schedule.effective", {
            "provider_id": str(acorn), "provider_name": "Acorn", "lot": 1, "version": version,
            "effective_from": "2025-01-10", "pricing_lines": pricing_lines(acorn, maximum=maximum),
            "at": NOW.isoformat()})
    assert _membership(rt, acorn).pricing_line(line_id(acorn)).maximum_price_pence == 58_000


def test_capacity_changes_apply_unless_older(rt):
    acorn = uuid.uuid4()
    deliver(rt, "membership.admitted", admitted_data(acorn))
    deliver(rt, "capacity.changed", {"provider_id": str(acorn), "provider_name": "Acorn", "lot": 1, "capacity": 9,
                                     "at": NOW.isoformat()})
    deliver(rt, "capacity.changed", {"provider_id": str(acorn), "provider_name": "Acorn", "lot": 1, "capacity": 2,
                                     "at": (NOW - timedelta(days=3)).isoformat()})
    assert _membership(rt, acorn).capacity == 9


def test_registration_changes_are_kept(rt, client):
    acorn = uuid.uuid4()
    deliver(rt, "membership.admitted", admitted_data(acorn))
    deliver(rt, "provider.registration_changed", {
        "provider_id": str(acorn), "provider_name": "Acorn School", "registration_status": "unregistered",
        "urn": None, "ofsted_grade": None, "at": NOW.isoformat()})
    [row] = client.get(f"/v1/registry/memberships?provider_id={acorn}", headers=OFFICER).json
    assert (row["provider_name"], row["registration_status"], row["urn"]) == ("Acorn School", "unregistered", None)


def test_events_with_bad_data_are_dead_lettered_and_change_nothing(rt, client):
    consumer = rt.consumer()
    bad = [("membership.admitted", {**admitted_data(uuid.uuid4()), "lot": 7}),
           ("membership.suspended", {"provider_id": "not-a-uuid", "lot": 1, "at": NOW.isoformat()}),
           ("capacity.changed", {"provider_id": str(uuid.uuid4()), "lot": 1, "capacity": "many",
                                 "at": NOW.isoformat()}),
           ("placement.awarded", {"referral_id": str(uuid.uuid4()), "at": NOW.isoformat()})]
    for type_, data in bad:
        producer = "awards" if type_ == "placement.awarded" else "provider_registry"
        assert consumer.handle(new_event(type_, data, producer).to_json()).action == "dead", type_
    assert client.get("/v1/registry/memberships", headers=MANAGER).json == []


def test_the_registry_copy_is_for_the_council_only(rt, client):
    assert client.get("/v1/registry/memberships", headers=provider_auth(uuid.uuid4())).status_code == 403
    assert client.get("/v1/registry/memberships").status_code == 401


def test_capacity_arriving_before_the_admission_is_kept_and_invites_no_one(rt):
    acorn = uuid.uuid4()
    deliver(rt, "capacity.changed", {"provider_id": str(acorn), "lot": 1, "capacity": 7,
                                     "at": "2025-01-15T11:00:00+01:00"})
    assert _membership(rt, acorn).status is MembershipStatus.REMOVED  # not admitted yet: not eligible
    deliver(rt, "membership.admitted", admitted_data(acorn, capacity=3, at=NOW - timedelta(days=30)))
    membership = _membership(rt, acorn)
    assert membership.status is MembershipStatus.ADMITTED and membership.capacity == 7
