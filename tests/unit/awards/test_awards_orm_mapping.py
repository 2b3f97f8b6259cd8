"""The aggregates as the ORM stores them (orm.py), on SQLite in memory: a
mini-competition comes back whole (terms, invitations, bids, scores, its
award's evaluation), a call-off with its offers and award, and a second writer
of an opportunity someone changed meanwhile is refused with a 409."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from services.awards import models, orm
from services.awards.domain import (
    CallOff,
    Criterion,
    DpsRecord,
    MembershipStatus,
    MiniCompetition,
    Offer,
    OpportunityTerms,
    PlacesInUse,
    ProviderOnLot,
    Referral,
    Registry,
    SettingKind,
    Volume,
)
from services.awards.unit_of_work import AwardsUnitOfWork
from shared.errors import Conflict

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
A, B = uuid.uuid4(), uuid.uuid4()
LINE = uuid.uuid4()


@pytest.fixture
def sessions():
    orm.start_mappers()
    engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
    models.metadata.create_all(engine)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def registry() -> Registry:
    return Registry.of(ProviderOnLot(p, 1, MembershipStatus.ADMITTED, SettingKind.REGISTERED_SCHOOL,
                                     {LINE: 10_000}, 5) for p in (A, B))


def competition() -> MiniCompetition:
    terms = OpportunityTerms(lot=1, places=2, contract_start=date(2026, 9, 1), contract_end=date(2027, 7, 31),
                             criteria=(Criterion("quality", Decimal("0.6"), 2), Criterion("safety", Decimal("0.4"))),
                             opens_at=NOW, deadline=NOW + timedelta(days=7))
    comp = MiniCompetition.create(terms, registry(), NOW, team="north")
    comp.title, comp.description, comp.created_by = "Block", None, "manager-1"
    return comp


def test_a_mini_competition_comes_back_whole_and_its_award_keeps_the_evaluation(sessions):
    comp = competition()
    with sessions() as s:
        s.add(comp)
        for provider, price in ((A, 90_000), (B, 80_000)):
            comp.submit_bid(provider, price, {"quality": "q", "safety": "s"}, NOW + timedelta(hours=1))
        s.commit()
    later = NOW + timedelta(days=8)
    with sessions() as s:
        stored = s.get(MiniCompetition, comp.opportunity_id)
        assert stored.terms == comp.terms and set(stored.invited) == {A, B}
        assert {p: b.price_pence for p, b in stored.bids.items()} == {A: 90_000, B: 80_000}
        for evaluator in ("ev-1", "ev-2"):
            stored.declare_interests(evaluator_id=evaluator, roles=["evaluator"], conflict=False, now=later)
        s.commit()
    with sessions() as s:
        stored = s.get(MiniCompetition, comp.opportunity_id)
        assert set(stored.declarations) == {"ev-1", "ev-2"}
        for bid in stored.bids.values():
            for name in ("quality", "safety"):
                for evaluator in ("ev-1", "ev-2"):
                    stored.score(bid.bid_id, name, 4, evaluator_id=evaluator, roles=["evaluator"], now=later)
                stored.moderate(bid.bid_id, name, 4, reason="agreed", moderator_id="ev-1", roles=["evaluator"],
                                now=later)
        # B, the cheaper, was suspended before the award: it is excluded and A wins
        at_award = Registry.of([registry().on_lot(A, 1), ProviderOnLot(B, 1, MembershipStatus.SUSPENDED,
                                                                       SettingKind.REGISTERED_SCHOOL)])
        evaluation = stored.award(awarded_by="manager-1", registry=at_award, now=later)
        s.commit()
    with sessions() as s:
        again = s.get(MiniCompetition, comp.opportunity_id)
        assert len(again.evaluator_scores) == 8 and len(again.moderated) == 4
        assert again.evaluation.winner.bid.provider_id == evaluation.winner.bid.provider_id == A
        assert again.evaluation.result_of(B).excluded[0].startswith("the provider is suspended on lot 1")
        snapshot = s.execute(sa.select(models.opportunities.c.evaluation)).scalar_one()
        assert snapshot["results"][0]["provider_id"] == str(A)


def test_a_withdrawn_bid_is_deleted_and_a_second_bid_replaces_the_first(sessions):
    comp = competition()
    with sessions() as s:
        s.add(comp)
        first = comp.submit_bid(A, 90_000, {"quality": "q", "safety": "s"}, NOW)
        s.commit()
    with sessions() as s:
        stored = s.get(MiniCompetition, comp.opportunity_id)
        stored.submit_bid(A, 85_000, {"quality": "q2", "safety": "s2"}, NOW + timedelta(hours=1))
        stored.submit_bid(B, 70_000, {"quality": "q", "safety": "s"}, NOW + timedelta(hours=1))
        s.commit()
    with sessions() as s:
        stored = s.get(MiniCompetition, comp.opportunity_id)
        assert stored.bids[A].bid_id == first.bid_id and stored.bids[A].price_pence == 85_000
        stored.withdraw_bid(B, NOW + timedelta(hours=2))
        s.commit()
        assert s.execute(sa.select(sa.func.count()).select_from(models.bids)).scalar_one() == 1


def test_an_opportunity_changed_by_someone_else_meanwhile_is_a_conflict(sessions):
    comp = competition()
    with sessions() as s:
        s.add(comp)
        s.commit()
    first, second = sessions(), sessions()
    mine = first.get(MiniCompetition, comp.opportunity_id)
    theirs = second.get(MiniCompetition, comp.opportunity_id)
    mine.title = "Block (amended)"
    first.commit()
    theirs.title = "Block (mine)"
    uow = AwardsUnitOfWork(lambda: second, SimpleNamespace(producer="awards"))
    uow.session = second
    uow.open_repositories(second)
    with pytest.raises(Conflict, match="changed by someone else"):
        uow.commit()
    first.close()
    second.close()


def test_a_call_off_comes_back_with_its_offers_and_its_award(sessions):
    referral_id = uuid.uuid4()
    offer = Offer(uuid.uuid4(), A, LINE, 9_000, Decimal(25), 12, 2_700_000, date(2026, 4, 1), NOW, True)
    with sessions() as s:
        s.execute(models.referrals.insert().values(
            referral_id=referral_id, state="closed", lot=1, team="north", hours_per_week=Decimal("25.00"),
            full_time=True, ehcp=False, looked_after=False, closed_at=NOW))
        s.execute(models.offers.insert().values(
            offer_id=offer.offer_id, referral_id=referral_id, provider_id=A, pricing_line_id=LINE,
            unit_price_pence=9_000, units_per_week=Decimal(25), weeks=12, total_pence=2_700_000,
            proposed_start=date(2026, 4, 1), submitted_at=NOW, meets_needs=True))
        s.commit()
    with sessions() as s:
        call_off = s.get(CallOff, referral_id)
        assert call_off.referral == Referral(referral_id, 1, Decimal(25), False, False, True, team="north")
        assert call_off.offers == [offer]
        call_off.award(offer.offer_id, awarded_by="officer-1", registry=registry(), places=PlacesInUse({}, {}),
                       now=NOW, dps=DpsRecord.first(date(2029, 2, 23)))
        s.commit()
    with sessions() as s:
        award = s.get(CallOff, referral_id).award_made
        assert award.offer == offer and award.ranking.top.offer == offer
        assert award.ranking.volume == Volume(Decimal(25), 12) and award.ranking.top.cost_pence == 2_700_000
        row = s.execute(sa.select(models.awards)).one()
        assert (row.provider_id, row.team, row.full_time, row.total_pence) == (A, "north", True, 2_700_000)
