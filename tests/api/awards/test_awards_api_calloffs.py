"""Individual placements through the API and the real database: the ranking
of a closed referral's offers with every reason an offer is not eligible, the
award of the top offer or (for a published criterion, with words) another, the
events and audit rows it writes, who may do it, and each refusal changing
nothing stored.  Issue #15: no award after the DPS's last day (409 naming the
date and regulation), offers ranked at the volume asked for, every bidder able
to read its own result, and the officer told when no offer is eligible.  The
rules alone are tested on the handlers: tests/unit/awards/test_awards_handlers_rules.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from marshmallow import ValidationError

from services.awards import models
from tests.api.awards.awards_support import (
    EARLIER,
    MANAGER,
    NOW,
    OFFICER,
    OTHER_OFFICER,
    REPORTING,
    admit,
    audit_actions,
    close,
    closed_referral,
    errors,
    feed,
    ids,
    line,
    membership,
    offer,
    outbox,
    provider_auth,
    snapshot,
)
from tests.support.runtime import auth, statements_run

PLACEMENT_AWARDED_FIELDS = {
    "award_id", "placement_id", "referral_id", "offer_id", "provider_id", "lot", "team", "child_ref",
    "reason_for_ap", "pricing_line_id", "unit_price_pence", "units_per_week", "hours_per_week", "weeks",
    "total_pence", "start_date", "full_time", "override_reason", "awarded_by", "at"}


@pytest.fixture
def rt(service):
    runtime = service("awards")
    runtime.clock = lambda: NOW
    return runtime


@pytest.fixture
def client(rt, client_for):
    return client_for(rt)


class Worked:
    """Five offers on one part-time referral (lot 2, 15 hours a week, 12 weeks):

    A  4000p/h  admitted school                 -> eligible, 720,000p, rank 1
    E  4200p/h  admitted unregistered setting   -> eligible, 756,000p, rank 2
    B  3800p/h  the officer says it does not meet the needs
    C  3600p/h  above its maximum of 3500p
    D  3000p/h  suspended on lot 2
    """

    def __init__(self, rt):
        self.referral_id = uuid.uuid4()
        self.child_ref = uuid.uuid4()
        self.a, self.b, self.c, self.d, self.e = ids(5)
        for provider in (self.a, self.b, self.d):
            admit(rt, provider)
        admit(rt, self.c, maximum=3500)
        admit(rt, self.e, registration="unregistered", name="Forest School CIC")
        membership(rt, "suspended", self.d, at=EARLIER + timedelta(hours=1))
        self.offers = {
            "A": offer(self.a, 4000, submitted_at=EARLIER + timedelta(hours=3)),
            "B": offer(self.b, 3800, meets_needs=False),
            "C": offer(self.c, 3600),
            "D": offer(self.d, 3000),
            "E": offer(self.e, 4200, submitted_at=EARLIER + timedelta(hours=1)),
        }
        self.closed = close(rt, self.referral_id, list(self.offers.values()), child_ref=self.child_ref)

    def offer_id(self, name: str) -> str:
        return self.offers[name]["offer_id"]


@pytest.fixture
def worked(rt):
    return Worked(rt)


def ranking(client, worked, headers=OFFICER):
    return client.get(f"/v1/referrals/{worked.referral_id}/ranking", headers=headers)


def award(client, referral_id, offer_id, reason=None, headers=OFFICER, code="continuity"):
    body = {"offer_id": str(offer_id)}
    if reason is not None:
        body.update(reason=reason, reason_code=code)
    return client.post(f"/v1/referrals/{referral_id}/award", json=body, headers=headers)


# --- the ranking


def test_ranking_orders_eligible_offers_by_total_cost_and_gives_every_reason_against_the_rest(client, rt, worked):
    response = ranking(client, worked)

    assert response.status_code == 200
    entries = response.json["entries"]
    assert [(e["offer_id"], e["rank"], e["eligible"]) for e in entries[:2]] == [
        (worked.offer_id("A"), 1, True), (worked.offer_id("E"), 2, True)]
    assert entries[0]["total_pence"] == 4000 * 15 * 12
    reasons = {e["offer_id"]: [(r["rule"], r["message"]) for r in e["reasons"]] for e in entries[2:]}
    assert reasons == {
        worked.offer_id("B"): [("meets_needs", "does not meet the child's needs: no experience of the child's "
                                               "primary need")],
        worked.offer_id("C"): [("price", "above the maximum price of 3500 pence for this line")],
        worked.offer_id("D"): [("membership", "the provider is suspended on lot 2")],
    }
    assert all(e["rank"] is None for e in entries[2:])
    assert entries[1]["provider_name"] == "Forest School CIC"
    assert response.json["award_id"] is None
    assert audit_actions(rt) == ["ranking.made"]


RANKING_ROLES = [
    ({}, 401),
    (provider_auth(uuid.uuid4()), 403),
    (auth("evaluator"), 403),
    (REPORTING, 403),
    (OTHER_OFFICER, 403),  # an officer of another team
    (MANAGER, 200),
    (OFFICER, 200),
]


def test_who_may_see_a_ranking(client, worked):
    for headers, status in RANKING_ROLES:
        assert ranking(client, worked, headers).status_code == status, headers


def test_ranking_of_a_referral_awards_has_not_seen_closed_is_not_found(client):
    response = client.get(f"/v1/referrals/{uuid.uuid4()}/ranking", headers=OFFICER)
    assert response.status_code == 404 and "referral_id" in errors(response)


def test_a_ranking_reads_the_referrals_row_once(client, rt, worked):
    """Whether awards has heard of the referral at all is asked only when there is no call-off to rank."""
    with statements_run(rt.engine) as run:
        assert ranking(client, worked).status_code == 200
    assert [s for s in run if s.startswith("SELECT") and "\nFROM referrals" in s][1:] == []


# --- the award


def test_officer_awards_the_top_offer_and_the_award_keeps_its_ranking(client, rt, worked):
    response = award(client, worked.referral_id, worked.offer_id("A"))

    assert response.status_code == 201
    made = response.json
    assert made["offer_id"] == worked.offer_id("A") and made["provider_id"] == str(worked.a)
    assert made["override_reason"] is None and made["awarded_by"] == "officer-exclusions"
    assert made["total_pence"] == 720_000 and made["team"] == "exclusions"
    assert [e["rank"] for e in made["ranking"]["entries"]] == [1, 2, None, None, None]
    assert made["ranking"]["award_id"] == made["award_id"]
    # Later the ranking shown is the one the award was made from.
    assert ranking(client, worked).json["award_id"] == made["award_id"]
    assert audit_actions(rt) == ["placement.awarded"]  # a ranking already awarded is not ranked again


def test_award_publishes_placement_awarded_with_every_field_tracking_needs(client, rt, worked):
    made = award(client, worked.referral_id, worked.offer_id("A")).json

    [event] = outbox(rt, "placement.awarded")
    data = event["data"]
    assert set(data) >= PLACEMENT_AWARDED_FIELDS
    assert data["award_id"] == made["award_id"] and data["placement_id"] == made["placement_id"]
    assert data["placement_id"] != data["award_id"]
    assert (data["referral_id"], data["child_ref"], data["team"], data["reason_for_ap"]) == (
        str(worked.referral_id), str(worked.child_ref), "exclusions", "permanent_exclusion")
    assert (data["unit_price_pence"], data["units_per_week"], data["hours_per_week"], data["weeks"],
            data["total_pence"], data["start_date"], data["full_time"]) == (
        4000, 15, 15, 12, 720_000, "2025-04-07", False)
    assert data["lot"] == 2 and data["override_reason"] is None and data["awarded_by"] == "officer-exclusions"
    assert data["at"] == NOW.isoformat()


def test_every_other_provider_is_told_its_offer_was_unsuccessful_and_why(client, rt, worked):
    award(client, worked.referral_id, worked.offer_id("A"))

    told = {e["data"]["offer_id"]: e["data"] for e in outbox(rt, "offer.unsuccessful")}
    assert set(told) == {worked.offer_id(n) for n in "BCDE"}
    assert told[worked.offer_id("E")]["reason"] == (
        "ranked 2 of 2 eligible offers at the volume asked for (15 hours a week for 12 weeks); "
        "the offer ranked 1 was awarded as the best value")
    assert told[worked.offer_id("D")]["reason"] == "not eligible: the provider is suspended on lot 2"
    assert (told[worked.offer_id("E")]["rank"], told[worked.offer_id("D")]["rank"]) == (2, None)
    assert {d["winner_provider_id"] for d in told.values()} == {str(worked.a)}
    assert all(d["referral_id"] == str(worked.referral_id) and "opportunity_id" not in d for d in told.values())
    assert told[worked.offer_id("C")]["provider_id"] == str(worked.c)


def test_another_eligible_offer_is_awarded_only_for_a_published_criterion_with_words(client, rt, worked):
    before = snapshot(rt)
    for blank in ("", "   "):
        refused = award(client, worked.referral_id, worked.offer_id("E"), reason=blank)
        assert refused.status_code == 422 and "reason" in errors(refused)
    for code in (None, "", "closer to home"):
        refused = award(client, worked.referral_id, worked.offer_id("E"), reason="the child's sibling attends there",
                        code=code)
        assert refused.status_code == 422 and "reason_code" in errors(refused)
        assert "value, travel, continuity, specialism, start" in refused.json["message"]
    assert award(client, worked.referral_id, worked.offer_id("E")).status_code == 422  # neither
    assert snapshot(rt) == before

    response = award(client, worked.referral_id, worked.offer_id("E"), reason="the child's sibling attends there")

    assert response.status_code == 201
    assert response.json["override_reason"] == "the child's sibling attends there"
    assert response.json["override_reason_code"] == "continuity"
    data = outbox(rt, "placement.awarded")[0]["data"]
    assert (data["override_reason_code"], data["override_reason"]) == ("continuity",
                                                                       "the child's sibling attends there")
    with rt.engine.connect() as c:
        row = c.execute(rt.audit_table.select().where(rt.audit_table.c.action == "placement.awarded")).one()
    assert row.reason == "the child's sibling attends there" and row.actor == "officer-exclusions"
    assert row.details["rank"] == 2


def test_award_of_an_ineligible_offer_is_refused_with_the_reason(client, rt, worked):
    before = snapshot(rt)
    for name, reason_shown in (
            ("B", "does not meet the child's needs: no experience of the child's primary need"),
            ("C", "above the maximum price of 3500 pence for this line"),
            ("D", "the provider is suspended on lot 2")):
        refused = award(client, worked.referral_id, worked.offer_id(name), reason="the officer prefers it")
        assert refused.status_code == 422 and errors(refused)["offer_id"] == [reason_shown]
    assert snapshot(rt) == before


def test_second_award_for_a_referral_is_a_conflict(client, rt, worked):
    assert award(client, worked.referral_id, worked.offer_id("A")).status_code == 201
    before = snapshot(rt)

    again = award(client, worked.referral_id, worked.offer_id("E"), reason="another officer's choice",
                  headers=MANAGER)

    assert again.status_code == 409 and "referral_id" in errors(again)
    assert snapshot(rt) == before


def test_malformed_award_requests_name_the_field(client, rt, worked):
    before = snapshot(rt)
    for body, field in (({}, "offer_id"), ({"offer_id": "not-a-uuid"}, "offer_id"),
                        ({"offer_id": str(uuid.uuid4()), "reason": 12}, "reason")):
        refused = client.post(f"/v1/referrals/{worked.referral_id}/award", json=body, headers=OFFICER)
        assert refused.status_code == 422 and field in errors(refused), body
    assert snapshot(rt) == before


def test_who_may_not_award(client, rt, worked):
    before = snapshot(rt)
    for headers, status in (({}, 401), (auth("evaluator"), 403), (REPORTING, 403), (OTHER_OFFICER, 403),
                            (provider_auth(worked.a), 403)):
        refused = award(client, worked.referral_id, worked.offer_id("A"), headers=headers)
        assert refused.status_code == status, headers
    assert snapshot(rt) == before


# --- places in use


def test_a_provider_with_no_place_free_is_not_eligible_until_a_placement_ends(client, rt):
    provider, rival = ids(2)
    admit(rt, provider, capacity=1)
    admit(rt, rival)
    first, second = uuid.uuid4(), uuid.uuid4()
    close(rt, first, [offer(provider, 3000)])
    close(rt, second, [offer(provider, 3000), offer(rival, 4500)])
    placement_id = award(client, first, offer_of(rt, first, provider)).json["placement_id"]

    entries = client.get(f"/v1/referrals/{second}/ranking", headers=OFFICER).json["entries"]
    mine = next(e for e in entries if e["provider_id"] == str(provider))
    assert [r["message"] for r in mine["reasons"]] == ["no place free: capacity 1, 1 in use"]

    feed(rt, "placement.ended", {"placement_id": placement_id, "referral_id": str(first),
                                 "provider_id": str(provider), "lot": 2, "team": "exclusions",
                                 "ended_on": "2025-03-11", "end_reason": "completed",
                                 "next_step": "mainstream_school", "at": NOW.isoformat()})
    entries = client.get(f"/v1/referrals/{second}/ranking", headers=OFFICER).json["entries"]
    assert entries[0]["provider_id"] == str(provider) and entries[0]["rank"] == 1
    standing = client.get("/v1/providers?lot=2", headers=OFFICER).json
    assert next(p for p in standing if p["provider_id"] == str(provider))["places_free"] == 1


def offer_of(rt, referral_id, provider_id) -> str:
    with rt.engine.connect() as c:
        return str(c.execute(models.offers.select().where(models.offers.c.referral_id == referral_id,
                                                          models.offers.c.provider_id == provider_id)).one().offer_id)


# --- what providers see


def test_a_provider_sees_its_own_awards_without_the_ranking_and_no_one_elses(client, rt, worked):
    award_id = award(client, worked.referral_id, worked.offer_id("A")).json["award_id"]

    mine = client.get("/v1/awards", headers=provider_auth(worked.a))
    assert mine.status_code == 200 and [a["award_id"] for a in mine.json] == [award_id]
    assert "ranking" not in mine.json[0] and "override_reason" not in mine.json[0]
    assert client.get("/v1/awards", headers=provider_auth(worked.e)).json == []
    assert client.get(f"/v1/awards/{award_id}", headers=provider_auth(worked.e)).status_code == 403
    assert client.get(f"/v1/awards?provider_id={worked.a}", headers=provider_auth(worked.e)).status_code == 403
    council = client.get(f"/v1/awards/{award_id}", headers=MANAGER).json
    assert len(council["ranking"]["entries"]) == 5


def test_closed_referrals_are_listed_for_the_officers_team(client, worked):
    listed = client.get("/v1/referrals", headers=OFFICER).json
    assert [r["referral_id"] for r in listed] == [str(worked.referral_id)]
    assert client.get("/v1/referrals", headers=OTHER_OFFICER).json == []
    assert len(client.get("/v1/referrals?team=exclusions", headers=MANAGER).json) == 1


# --- the copies kept from events: repeated and late events


def test_a_late_older_event_never_undoes_a_newer_one(client, rt):
    provider = uuid.uuid4()
    membership(rt, "suspended", provider, at=NOW)                  # arrives first
    admit(rt, provider, at=EARLIER, maximum=5000)                  # older, arrives late
    feed(rt, "pricing_schedule.effective", {
        "provider_id": str(provider), "provider_name": "P", "lot": 2, "version": 2, "effective_from": "2025-03-01",
        "pricing_lines": [line(provider, 2000)], "at": NOW.isoformat()})
    admit(rt, provider, at=EARLIER, maximum=5000)                  # the same old event again

    referral_id = uuid.uuid4()
    close(rt, referral_id, [offer(provider, 3000)])
    [entry] = client.get(f"/v1/referrals/{referral_id}/ranking", headers=OFFICER).json["entries"]
    assert [r["message"] for r in entry["reasons"]] == [
        "the provider is suspended on lot 2", "above the maximum price of 2000 pence for this line"]


def test_a_referral_closed_twice_is_one_referral_and_a_cancellation_that_came_first_stands(client, rt):
    provider = uuid.uuid4()
    admit(rt, provider)
    referral_id = uuid.uuid4()
    data = close(rt, referral_id, [offer(provider, 3000)])
    feed(rt, "referral.closed", data)
    assert len(client.get(f"/v1/referrals/{referral_id}/ranking", headers=OFFICER).json["entries"]) == 1

    cancelled_first = uuid.uuid4()
    feed(rt, "referral.cancelled", {"referral_id": str(cancelled_first), "reason": "withdrawn",
                                    "at": NOW.isoformat()})
    close(rt, cancelled_first, [offer(provider, 3000)])
    refused = client.get(f"/v1/referrals/{cancelled_first}/ranking", headers=OFFICER)
    assert refused.status_code == 409 and "referral_id" in errors(refused)


BAD_EVENTS = [
    ("referral.closed", {"referral_id": "not-a-uuid"}),
    ("membership.admitted", {"provider_id": str(uuid.uuid4()), "provider_name": "P", "lot": 7, "status": "admitted",
                             "registration_status": "registered_school", "pricing_lines": [], "capacity": 1,
                             "at": NOW.isoformat()}),
    ("placement.ended", {"placement_id": str(uuid.uuid4()), "provider_id": str(uuid.uuid4()), "lot": 2,
                         "ended_on": "2025-03-11", "at": "2025-03-11T10:00:00"}),  # a naive time
]


def test_an_event_with_bad_data_is_refused_whole_for_the_dead_letter_queue(rt):
    before = snapshot(rt)
    for type_, data in BAD_EVENTS:
        with pytest.raises(ValidationError):
            feed(rt, type_, data)
    assert snapshot(rt) == before


# --- issue #15: the DPS's last day, like for like, published criteria, bidders told, no dead ends

SUCCESSOR = uuid.uuid4()


def award_with(client, referral_id, offer_id, **body):
    return client.post(f"/v1/referrals/{referral_id}/award", json={"offer_id": str(offer_id), **body},
                       headers=OFFICER)


@pytest.fixture
def short_and_full(rt):
    """A 38-week referral: a 10-week offer at 4100p/h (own total 615,000p) and a
    38-week offer at 4000p/h (own total 2,280,000p)."""
    short, full = ids(2)
    admit(rt, short)
    admit(rt, full)
    referral_id = uuid.uuid4()
    offers = {"short": offer(short, 4100, weeks=10), "full": offer(full, 4000, weeks=38)}
    feed(rt, "referral.closed", {**closed_referral(referral_id, list(offers.values())), "expected_weeks": 38})
    return referral_id, {name: o["offer_id"] for name, o in offers.items()}, {"short": short, "full": full}


def test_offers_are_ranked_at_the_volume_the_referral_asked_for_and_the_ranking_says_so(client, short_and_full):
    referral_id, offer_ids, _providers = short_and_full
    shown = client.get(f"/v1/referrals/{referral_id}/ranking", headers=OFFICER).json
    assert shown["volume"] == {"hours_per_week": 15, "weeks": 38, "description": "15 hours a week for 38 weeks"}
    assert [(e["offer_id"], e["rank"], e["cost_at_volume_pence"]) for e in shown["entries"]] == [
        (offer_ids["full"], 1, 2_280_000), (offer_ids["short"], 2, 2_337_000)]


def test_an_award_after_the_statutory_end_is_refused_naming_the_date_and_regulation(client, rt, short_and_full):
    referral_id, offer_ids, _providers = short_and_full
    rt.clock = lambda: datetime(2029, 2, 24, 9, 0, tzinfo=UTC)
    before = snapshot(rt)
    refused = award_with(client, referral_id, offer_ids["full"])
    assert refused.status_code == 409 and refused.json["conflict"] == "dps_id"
    assert "2029-02-23" in refused.json["message"] and "SI 2024/716 regulation 5(4)" in refused.json["message"]
    assert snapshot(rt) == before
    rt.clock = lambda: datetime(2029, 2, 23, 17, 0, tzinfo=UTC)  # the last day itself
    assert award_with(client, referral_id, offer_ids["full"]).status_code == 201


def test_a_successor_dps_s_own_end_and_criteria_apply_to_its_referrals(client, rt):
    feed(rt, "dps.configured", {
        "dps_id": str(SUCCESSOR), "name": "AP dynamic market", "regime": "pa2023_dynamic_market",
        "start": "2024-01-01", "term_ends_on": "2025-03-11", "statutory_end": None, "ends_on": "2025-03-11",
        "status": "open", "lots": [2], "agreed_minimum_window_days": None, "agreed_in_sla_version": None,
        "sla_version": "1", "award_criteria": [{"code": "travel", "name": "Travel", "description": "Travel"}]})
    provider = uuid.uuid4()
    feed(rt, "membership.admitted", {
        "dps_id": str(SUCCESSOR), "provider_id": str(provider), "provider_name": "P", "lot": 2,
        "registration_status": "registered_school", "capacity": 3, "at": NOW.isoformat(),
        "pricing_lines": [{"pricing_line_id": str(uuid.uuid5(provider, "group place per hour")),
                           "description": "group place per hour", "unit": "hour", "maximum_price_pence": 5000}]})
    referral_id, made = uuid.uuid4(), offer(provider, 4000)
    feed(rt, "referral.closed", {**closed_referral(referral_id, [made]), "dps_id": str(SUCCESSOR)})
    refused = award_with(client, referral_id, made["offer_id"])  # the term ended yesterday (NOW is 12 March 2025)
    assert refused.status_code == 409 and "2025-03-11" in refused.json["message"]
    assert "advertised term" in refused.json["message"]


def test_an_override_for_a_criterion_the_dps_did_not_publish_is_refused(client, rt, short_and_full):
    referral_id, offer_ids, _providers = short_and_full
    before = snapshot(rt)
    refused = award_with(client, referral_id, offer_ids["short"], reason_code="cheaper", reason="it is cheaper")
    assert refused.status_code == 422 and "reason_code" in errors(refused)
    assert "PCR 2015 regulation 34" in refused.json["message"]
    words = award_with(client, referral_id, offer_ids["short"], reason_code="travel")
    assert words.status_code == 422 and "reason" in errors(words)
    assert snapshot(rt) == before
    made = award_with(client, referral_id, offer_ids["short"], reason_code="travel", reason="ten minutes from home")
    assert made.status_code == 201 and made.json["override_reason_code"] == "travel"


def test_every_bidder_reads_its_own_result_and_no_one_elses(client, rt, short_and_full):
    referral_id, offer_ids, providers = short_and_full
    url = f"/v1/referrals/{referral_id}/offers/{offer_ids['short']}/result"
    early = client.get(url, headers=provider_auth(providers["short"]))
    assert early.status_code == 409  # nothing decided yet
    assert award_with(client, referral_id, offer_ids["full"]).status_code == 201

    mine = client.get(url, headers=provider_auth(providers["short"]))
    assert mine.status_code == 200
    result = mine.json
    assert (result["outcome"], result["rank"], result["eligible_offers"]) == ("unsuccessful", 2, 2)
    assert result["winner_provider_id"] == str(providers["full"]) and result["cost_at_volume_pence"] == 2_337_000
    assert result["reason"].startswith("ranked 2 of 2 eligible offers at the volume asked for (15 hours a week "
                                       "for 38 weeks)")
    assert client.get(url, headers=provider_auth(providers["full"])).status_code == 403
    assert client.get(url, headers=OTHER_OFFICER).status_code == 403
    assert client.get(url, headers=MANAGER).status_code == 200
    won = client.get(f"/v1/referrals/{referral_id}/offers/{offer_ids['full']}/result",
                     headers=provider_auth(providers["full"])).json
    assert won["outcome"] == "awarded" and won["rank"] == 1
    assert client.get(f"/v1/referrals/{referral_id}/offers/{uuid.uuid4()}/result",
                      headers=OFFICER).status_code == 404


def test_an_ineligible_bidder_reads_why(client, rt, short_and_full):
    referral_id, offer_ids, providers = short_and_full
    membership(rt, "suspended", providers["short"])
    assert award_with(client, referral_id, offer_ids["full"]).status_code == 201
    result = client.get(f"/v1/referrals/{referral_id}/offers/{offer_ids['short']}/result",
                        headers=provider_auth(providers["short"])).json
    assert result["rank"] is None and result["reasons"] == ["the provider is suspended on lot 2"]
    assert result["reason"] == "not eligible: the provider is suspended on lot 2"


def test_no_eligible_offer_is_published_for_the_officer_to_move_the_child_on(client, rt, short_and_full):
    referral_id, offer_ids, providers = short_and_full
    for provider in providers.values():
        membership(rt, "suspended", provider)
    assert client.get(f"/v1/referrals/{referral_id}/ranking", headers=OFFICER).status_code == 200
    [event] = outbox(rt, "calloff.no_eligible_offers")
    data = event["data"]
    assert data["referral_id"] == str(referral_id) and data["dps_id"] == "8d7f4c1e-2b6a-4e0f-9c3d-5a1b2c3d4e01"
    assert {o["offer_id"]: o["reasons"] for o in data["offers"]} == {
        offer_ids[name]: ["the provider is suspended on lot 2"] for name in ("short", "full")}
