"""What the council publishes about the DPS and its awards.

- An OCDS 1.1 release package: the DPS as a framework process with its lots
  (the Lots extension: `tender.lots`; the Techniques extension:
  `techniques.hasDynamicPurchasingSystem`), its admitted suppliers per lot
  (an award per supplier, `relatedLots`) and its award criteria; each call-off
  and each mini-competition as its own process, linked to the DPS by
  `relatedProcesses` with relationship `framework`; awards and contracts with
  their values in pounds (GBP); organisations with their org-id.guide
  identifiers.
- Call-offs go out grouped by calendar quarter once the quarter is over
  (PCR 2015 regulation 50), with no date finer than the quarter; the list of
  the quarters' grouped contract award notices with their due dates.
- The quarterly list of call-offs awarded, as CSV (for the council's officers).

Never any child data: no referral, child_ref, reason for AP, needs, hours or
override reason (which may speak of the child) is published; a call-off is
known only by its award id, its lot, its provider and its money.

A placement that ends early is published as ended: its contract `terminated`,
its period ending in the quarter it ended, and its `value` the value as run
(domain.publication.cost_as_run) with an `amendments` entry saying why.  Not
`implementation.transactions`: those are payments actually made, each with a
date, payer and payee, which awards does not know (the council's finance
system does) and whose dates would be finer than the quarter; a contract's
value changed by its early end is, in OCDS, an amended `contracts.value`.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from services.awards.domain.publication import REGULATION_50, Quarter, cost_as_run, quarters_over, weeks_run
from services.awards.domain.registry import Regime
from shared.calendar import COUNCIL_TIMEZONE
from shared.catalogue import FIRST_DPS_ID, LOTS
from shared.errors import Conflict, InvalidInput

OCDS_VERSION = "1.1"
# Every extension the package uses, each at a fixed version (a tag, or a commit where the extension has no
# tags), never `master`; their schemas are shipped in services/awards/ocds/ for offline validation.
LOTS_EXTENSION = ("https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/"
                  "v1.1.5/extension.json")
TECHNIQUES_EXTENSION = ("https://raw.githubusercontent.com/open-contracting-extensions/ocds_techniques_extension/"
                        "5802b6c9a829f63b022c2e1682a398756a00c994/extension.json")
EXTENSIONS = (LOTS_EXTENSION, TECHNIQUES_EXTENSION)
LICENCE = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
DPS_TITLE = "Dynamic Purchasing System for Alternative Provision"
# Which identifier is the organisation's own (`identifier`): the legal entity's register first.
IDENTIFIER_SCHEMES = ("GB-COH", "GB-CHC", "GB-UKPRN", "GB-URN")
LOCAL_OCID_PREFIX = "ocds-local-dev"
"""Development's ocid prefix: obviously not one registered with the Open Contracting Partnership."""


@dataclass(frozen=True)
class Publisher:
    """Who publishes: the council, and its prefix registered with the Open
    Contracting Partnership (shared.config.Settings: DPS_AWARDS_OCID_PREFIX,
    DPS_COUNCIL_ID, DPS_COUNCIL_NAME)."""

    ocid_prefix: str = LOCAL_OCID_PREFIX
    council_id: str = "council"
    council_name: str = "The Council"

    @classmethod
    def of(cls, settings) -> Publisher:
        return cls(settings.ocid_prefix or LOCAL_OCID_PREFIX, settings.council_id, settings.council_name)

    def council(self) -> dict:
        return {"id": self.council_id, "name": self.council_name}

    def dps_ocid(self, dps_id: UUID | None = None) -> str:
        """The first DPS keeps the ocid it was always published under; a successor has its own."""
        if dps_id is None or dps_id == FIRST_DPS_ID:
            return f"{self.ocid_prefix}-dps"
        return f"{self.ocid_prefix}-dps-{dps_id}"


def check_ocid_prefix(settings) -> None:
    """A real deployment publishes under the prefix the Open Contracting Partnership registered for the
    council: in production it must be set, and not development's."""
    if settings.environment not in ("production", "development"):
        raise ValueError(f"DPS_ENVIRONMENT: {settings.environment!r} is neither production nor development")
    if settings.environment != "production":
        return
    if not settings.ocid_prefix or settings.ocid_prefix == LOCAL_OCID_PREFIX:
        raise ValueError("DPS_AWARDS_OCID_PREFIX: set the ocid prefix registered for the council with the Open "
                         "Contracting Partnership (e.g. ocds-a1b2c3): required when DPS_ENVIRONMENT is production")
    if not settings.ocid_prefix.startswith("ocds-"):
        raise ValueError(f"DPS_AWARDS_OCID_PREFIX: {settings.ocid_prefix!r} is not an ocid prefix "
                         "(ocds- followed by the registered code)")


def pounds(pence: int) -> int | float:
    """Pence as an amount in pounds: a JSON number (72000 or 12.34)."""
    return pence // 100 if pence % 100 == 0 else float(Decimal(pence) / 100)


def _gbp(pence: int) -> dict:
    return {"amount": pounds(pence), "currency": "GBP"}


def _day_start(day: date) -> str:
    """A date as the start of that day at the council (OCDS periods are date-times)."""
    return datetime.combine(day, time(0), tzinfo=COUNCIL_TIMEZONE).isoformat()


def _day_end(day: date) -> str:
    return datetime.combine(day, time(23, 59, 59), tzinfo=COUNCIL_TIMEZONE).isoformat()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# --- organisations


def organisation_identifiers(identifiers: list[dict] | None) -> dict:
    """`identifier` (the first of IDENTIFIER_SCHEMES the provider has) and `additionalIdentifiers` (the rest)."""
    known = sorted((i for i in identifiers or () if i.get("scheme") and i.get("id")),
                   key=lambda i: (IDENTIFIER_SCHEMES.index(i["scheme"]) if i["scheme"] in IDENTIFIER_SCHEMES
                                  else len(IDENTIFIER_SCHEMES), i["scheme"], i["id"]))
    if not known:
        return {}
    first, *others = [{"scheme": i["scheme"], "id": str(i["id"])} for i in known]
    return {"identifier": first, **({"additionalIdentifiers": others} if others else {})}


def _supplier_ref(provider_id: UUID, organisations: dict) -> dict:
    org = organisations.get(provider_id)
    return {"id": f"provider-{provider_id}", "name": (org.provider_name if org else None) or "Unnamed provider"}


def _supplier_party(provider_id: UUID, organisations: dict) -> dict:
    org = organisations.get(provider_id)
    return {**_supplier_ref(provider_id, organisations),
            **organisation_identifiers(org.identifiers if org else None), "roles": ["supplier"]}


def _parties(pub: Publisher, suppliers: list[dict]) -> list[dict]:
    return [{**pub.council(), "roles": ["buyer", "procuringEntity"]}, *suppliers]


def _framework_link(pub: Publisher, dps_id: UUID | None = None, regime: Regime = Regime.PCR2015_DPS) -> list[dict]:
    return [{"id": "dps", "relationship": ["framework"], "title": REGIME_TITLES[regime], "scheme": "ocid",
             "identifier": pub.dps_ocid(dps_id)}]


REGIME_TITLES = {
    Regime.PCR2015_DPS: DPS_TITLE,
    Regime.PA2023_DYNAMIC_MARKET: "Dynamic Market for Alternative Provision",
    Regime.PA2023_OPEN_FRAMEWORK: "Open Framework for Alternative Provision",
}
REGIME_METHODS = {
    Regime.PCR2015_DPS: "Dynamic purchasing system (Public Contracts Regulations 2015 regulation 34: restricted "
                        "procedure)",
    Regime.PA2023_DYNAMIC_MARKET: "Dynamic market (Procurement Act 2023 sections 34 to 39)",
    Regime.PA2023_OPEN_FRAMEWORK: "Open framework under the Procurement Act 2023's light-touch rules, reopened "
                                  "in rounds",
}


def _techniques(regime: Regime, status: str | None = None) -> dict:
    """How OCDS names the arrangement: a DPS (PCR 2015) or a dynamic market (the Act's successor to it, the
    nearest OCDS technique) as a closed DPS; an open framework as a framework agreement reopened for
    competition.  `status` (the Techniques extension's DPS status) on the DPS's own release only."""
    if regime is Regime.PA2023_OPEN_FRAMEWORK:
        return {"hasFrameworkAgreement": True,
                **({"frameworkAgreement": {"method": "withReopeningCompetition"}} if status else {})}
    return {"hasDynamicPurchasingSystem": True,
            **({"dynamicPurchasingSystem": {"type": "closed", "status": status}} if status else {})}


def _regime_of(records: dict, dps_id: UUID | None) -> Regime:
    record = records.get(dps_id or FIRST_DPS_ID)
    return record.regime if record is not None else Regime.PCR2015_DPS


# --- the releases


def _content_id(ocid: str, content: dict) -> str:
    """A release id that changes only when the release's content does."""
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    return f"{ocid}-{digest[:16]}"


def _dps_status(record, today: date) -> str:
    if record.status == "closed" or today > record.ends_on:
        return "terminated"
    return "pending" if today < record.start else "active"


def _dps_description(record) -> str:
    words = ("An electronic list of approved providers of alternative provision, open to new applicants from "
             f"{record.start.isoformat()} to {record.ends_on.isoformat()}; each placement is a call-off and block "
             "contracts are let by mini-competition among the providers admitted to a lot.")
    if record.statutory_end is not None:
        words += (f" As a DPS under the Public Contracts Regulations 2015 it may admit, invite and award no later "
                  f"than {record.statutory_end.isoformat()} (SI 2024/716 regulation 5(4), law), whatever its "
                  f"advertised term (to {record.term_ends_on.isoformat()}); call-offs already awarded run on.")
    return words


def _criteria_of(record) -> str:
    listed = "; ".join(f"{c.name} ({c.code}): {c.description}" if c.description else f"{c.name} ({c.code})"
                       for c in record.award_criteria)
    return ("Each call-off goes to the best value for money among the eligible offers, compared at the volume "
            "the referral asked for; an officer may award another eligible offer only for one of these "
            f"published criteria, with words kept with the award: {listed}.")


def dps_release(pub: Publisher, record, members: list, organisations: dict, *, at: datetime | None,
                today: date) -> dict:
    """One DPS record (awards' replica of the registry's): a selective procedure that stays open to new
    providers until its last day (`tenderPeriod`, to `ends_on`: the statutory end for a PCR 2015 DPS), its
    lots, its published call-off award criteria, and an award per admitted supplier naming its lots.

    `members`: the registry copy's rows of this DPS (provider, lot, membership status, status_at); `at`: when
    the record last changed.  Its `id` is a hash of its content and its `date` the latest change among the
    facts it is made of, so both change only when what it says does."""
    lots_of: dict[UUID, list[int]] = defaultdict(list)
    for row in members:
        if row.membership_status == "admitted":
            lots_of[row.provider_id].append(row.lot)
    suppliers = sorted(lots_of, key=lambda pid: (_supplier_ref(pid, organisations)["name"], str(pid)))
    status = _dps_status(record, today)
    ocid = pub.dps_ocid(record.dps_id)
    release = {
        "ocid": ocid, "tag": ["tender", "award"] if suppliers else ["tender"], "initiationType": "tender",
        "language": "en", "parties": _parties(pub, [_supplier_party(pid, organisations) for pid in suppliers]),
        "buyer": pub.council(),
        "tender": {
            "id": str(record.dps_id), "title": record.name or REGIME_TITLES[record.regime],
            "description": _dps_description(record),
            "status": "complete" if status == "terminated" else "active", "procurementMethod": "selective",
            "procurementMethodDetails": REGIME_METHODS[record.regime],
            "mainProcurementCategory": "services", "techniques": _techniques(record.regime, status),
            "tenderPeriod": {"startDate": _day_start(record.start), "endDate": _day_end(record.ends_on)},
            "awardCriteriaDetails": _criteria_of(record),
            "lots": [{"id": str(lot), "title": f"Lot {lot}: {LOTS[lot]}",
                      "status": "complete" if status == "terminated" else "active",
                      "techniques": _techniques(record.regime, status)} for lot in sorted(record.lots)],
        },
        "awards": [{"id": f"admission-{pid}", "title": "Admitted to the dynamic purchasing system",
                    "status": "active", "suppliers": [_supplier_ref(pid, organisations)],
                    "relatedLots": [str(lot) for lot in sorted(lots_of[pid])]} for pid in suppliers],
    }
    if not suppliers:
        del release["awards"]
    changes = [row.status_at for row in members if row.status_at is not None]
    changes += [moment for pid in suppliers if pid in organisations
                for moment in (organisations[pid].name_at, organisations[pid].identifiers_at) if moment is not None]
    changes += [at] if at is not None else []
    # the days its status changed by the calendar alone
    changes += [_instant(day) for day in (record.start, record.ends_on + timedelta(days=1)) if day <= today]
    dated = max(changes)
    return {"ocid": ocid, "id": _content_id(ocid, release), "date": _utc(dated), **release}


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=COUNCIL_TIMEZONE)


def _quarters_note(started: Quarter, ended: Quarter | None) -> str:
    note = f"Dates are published to the calendar quarter only: started in {started.label}"
    return note + (f", ended in {ended.label}." if ended else ".")


def call_off_release(pub: Publisher, award, offers_received: int, organisations: dict, line: str | None,
                     ended_on: date | None, today: date, regime: Regime = Regime.PCR2015_DPS) -> dict:
    """One individual placement, as a contract award, published once its quarter is over: no child data and no
    date finer than a quarter.  Once the quarter it ended in is over, an ended placement is published ended."""
    ocid = f"{pub.ocid_prefix}-calloff-{award.award_id}"
    awarded = Quarter.at(award.awarded_at)
    started = Quarter.of(award.start_date)
    ended = Quarter.of(ended_on) if ended_on is not None else None
    if ended is not None and not ended.is_over(today):
        ended, ended_on = None, None  # published after the quarter it ended in
    supplier = _supplier_ref(award.provider_id, organisations)
    title = f"Alternative provision placement, lot {award.lot} ({LOTS[award.lot]})"
    contract = {
        "id": f"{award.award_id}-contract", "awardID": str(award.award_id), "title": title, "status": "active",
        "description": _quarters_note(started, ended), "value": _gbp(award.total_pence),
        "period": {"startDate": _day_start(started.first_day)},
    }
    release_quarter, tag = awarded, ["award", "contract"]
    if ended is not None:
        cost = cost_as_run(award.unit_price_pence, award.units_per_week, award.weeks, award.total_pence,
                           award.start_date, ended_on)
        ran = weeks_run(award.start_date, ended_on, award.weeks)
        release_quarter, tag = max(awarded, ended), ["award", "contract", "contractTermination"]
        contract.update(status="terminated", value=_gbp(cost))
        contract["period"]["endDate"] = _day_end(ended.last_day)
        if cost != award.total_pence:
            contract["amendments"] = [{
                "id": "ended-early", "date": _day_start(release_quarter.day_after),
                "rationale": f"The placement ended early, in {ended.label}: the contract's value is what it cost, "
                             f"{ran} of the {award.weeks} weeks awarded at the awarded weekly price.",
            }]
    published = release_quarter.day_after
    release = {
        "ocid": ocid, "id": f"{ocid}-{'ended' if ended else 'award'}-{release_quarter.label}",
        "date": _day_start(published), "tag": tag, "initiationType": "tender", "language": "en",
        "parties": _parties(pub, [_supplier_party(award.provider_id, organisations)]), "buyer": pub.council(),
        "tender": {
            "id": f"calloff-{award.award_id}", "title": title, "status": "complete",
            "procurementMethod": "selective",
            "procurementMethodDetails": f"Call-off from the {REGIME_TITLES[regime]}: the referral went to "
                                        f"every provider admitted to lot {award.lot}",
            "mainProcurementCategory": "services", "awardCriteria": "priceOnly",
            "awardCriteriaDetails": "Best value for money among the offers that meet the needs and every "
                                    "eligibility rule, compared at the volume the referral asked for; ties by "
                                    "earliest start, then earliest submission. Another eligible offer may be "
                                    "awarded only for one of the award criteria the DPS published.",
            "numberOfTenderers": offers_received, "competitive": True,
            "techniques": _techniques(regime),
        },
        "relatedProcesses": _framework_link(pub, getattr(award, "dps_id", None), regime),
        "awards": [{"id": str(award.award_id), "title": title, "status": "active",
                    "description": f"{line or 'Alternative provision'}; awarded in {awarded.label}",
                    "value": _gbp(award.total_pence), "suppliers": [supplier]}],
        "contracts": [contract],
    }
    basis = getattr(award, "window_basis", None)
    if basis:
        # The window and its basis, published with the award (issue #15); never the officer's words about
        # the child, and no dates: only how many days, and on what basis.
        release["tender"]["tenderPeriod"] = {"durationInDays": basis["days"]}
        release["tender"]["procurementMethodDetails"] += (f"; the offer window was {basis['days']} days"
                                                          + WINDOW_BASES.get(basis["kind"], ""))
    return release


WINDOW_BASES = {
    "standard": " (at least the 10 days a call-off is given)",
    "agreed_minimum": ", shorter than 10 days as agreed with every admitted provider in the DPS's terms",
    "urgency": ", shorter than 10 days for the urgency of a child without education (the council keeps the "
               "reasons)",
}


def _competition_stage(opportunity, contract) -> tuple[list[str], str, datetime]:
    if contract is not None:
        return ["tender", "award", "contract"], "contract", contract.confirmed_at
    if opportunity.awarded_at is not None:
        return ["tender", "award"], "award", opportunity.awarded_at
    return ["tender"], "tender", opportunity.created_at


def _criteria_details(opportunity) -> str:
    criteria = "; ".join(f"{c['name']} {Decimal(c['weight']) * 100:g}%" for c in opportunity.criteria)
    split = opportunity.split
    ties = ", then ".join(rule.replace("_", " ") for rule in opportunity.tie_break)
    return (f"Quality {Decimal(split['quality']):g} points (criteria: {criteria}; scored 0 to "
            f"{opportunity.scale['maximum']}), price {Decimal(split['price']):g} points (lowest price / bid price); "
            f"ties settled by {ties}.")


def mini_competition_release(pub: Publisher, opportunity, bids_received: int, contract, organisations: dict,
                             now: datetime) -> dict:
    """A block contract's mini-competition, from tender to contract."""
    ocid = f"{pub.ocid_prefix}-mc-{opportunity.opportunity_id}"
    tag, stage, dated = _competition_stage(opportunity, contract)
    sealed = now < opportunity.deadline
    tender = {
        "id": str(opportunity.opportunity_id), "title": opportunity.title,
        "status": "complete" if opportunity.awarded_at else "active",
        "procurementMethod": "selective",
        "procurementMethodDetails": f"Mini-competition among the providers admitted to lot {opportunity.lot} "
                                    "of the dynamic purchasing system",
        "mainProcurementCategory": "services", "awardCriteria": "ratedCriteria",
        "awardCriteriaDetails": _criteria_details(opportunity), "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": {"startDate": _utc(opportunity.opens_at), "endDate": _utc(opportunity.deadline)},
        "contractPeriod": {"startDate": _day_start(opportunity.contract_start),
                           "endDate": _day_start(opportunity.contract_end)},
        "competitive": True, "techniques": {"hasDynamicPurchasingSystem": True},
    }
    if opportunity.description:
        tender["description"] = opportunity.description
    if not sealed:
        tender["numberOfTenderers"] = bids_received
    release = {
        "ocid": ocid, "id": f"{ocid}-{stage}", "date": _utc(dated), "tag": tag, "initiationType": "tender",
        "language": "en", "buyer": pub.council(), "tender": tender, "relatedProcesses": _framework_link(pub),
    }
    suppliers = []
    if opportunity.awarded_at is not None:
        winner = next(r for r in opportunity.evaluation["results"] if r["rank"] == 1)
        winner_id = UUID(winner["provider_id"])
        suppliers = [_supplier_party(winner_id, organisations)]
        release["awards"] = [{
            "id": str(opportunity.opportunity_id), "title": opportunity.title,
            # pending through the standstill; active once the contract is confirmed
            "status": "active" if contract is not None else "pending", "date": _utc(opportunity.awarded_at),
            "value": _gbp(winner["price_pence"]), "suppliers": [_supplier_ref(winner_id, organisations)],
            "contractPeriod": tender["contractPeriod"]}]
    if contract is not None:
        release["contracts"] = [{
            "id": str(contract.contract_id), "awardID": str(opportunity.opportunity_id), "title": opportunity.title,
            "status": "active", "value": _gbp(contract.price_pence),
            "dateSigned": _utc(contract.confirmed_at),
            "period": {"startDate": _day_start(contract.contract_start),
                       "endDate": _day_start(contract.contract_end)}}]
    release["parties"] = _parties(pub, suppliers)
    return release


def _call_off_releases(repo, pub: Publisher, awards: list, today: date, records: dict) -> list[dict]:
    """The call-offs of the quarters that are over, grouped by quarter (oldest first)."""
    published = [a for a in awards if Quarter.at(a.awarded_at).is_over(today)]
    published.sort(key=lambda a: (Quarter.at(a.awarded_at), str(a.award_id)))
    organisations = repo.organisations({a.provider_id for a in published})
    offers = repo.offer_counts(a.referral_id for a in published)
    ended = repo.ended_on(a.placement_id for a in published)
    releases = []
    for award in published:
        line = repo.pricing_line_descriptions(award.provider_id, award.lot).get(award.pricing_line_id)
        releases.append(call_off_release(pub, award, offers.get(award.referral_id, 0), organisations, line,
                                         ended.get(award.placement_id), today,
                                         _regime_of(records, getattr(award, "dps_id", None))))
    return releases


def _package(releases: list[dict], *, uri: str, pub: Publisher, now: datetime) -> dict:
    return {
        "uri": uri, "version": OCDS_VERSION, "extensions": list(EXTENSIONS), "publishedDate": _utc(now),
        "publisher": {"name": pub.council_name}, "license": LICENCE, "releases": releases,
    }


def release_package(repo, pub: Publisher, records: list, *, uri: str, now: datetime) -> dict:
    """Everything published now: each DPS record, the call-offs of every quarter that is over, the
    mini-competitions."""
    today = now.astimezone(COUNCIL_TIMEZONE).date()
    opportunities = repo.opportunities()
    contracts = {c.opportunity_id: c for c in repo.contracts()}
    members = repo.memberships()
    winners = {UUID(r["provider_id"]) for o in opportunities if o.evaluation
               for r in o.evaluation["results"] if r["rank"] == 1}
    organisations = repo.organisations({row.provider_id for row in members} | winners)
    changed = repo.dps_record_times()
    by_id = {record.dps_id: record for record in records}
    releases = [dps_release(pub, record, [row for row in members if row.dps_id == record.dps_id], organisations,
                            at=changed.get(record.dps_id), today=today) for record in records]
    releases += _call_off_releases(repo, pub, repo.awards(), today, by_id)
    for opportunity in sorted(opportunities, key=lambda o: o.created_at):
        releases.append(mini_competition_release(pub, opportunity, len(repo.bids_of(opportunity.opportunity_id)),
                                                 contracts.get(opportunity.opportunity_id), organisations, now))
    return _package(releases, uri=uri, pub=pub, now=now)


def published_quarter(year: int | None, quarter: int | None, now: datetime) -> Quarter:
    """A quarter whose call-offs are published: one that is over (PCR 2015 regulation 50; council policy);
    none named: the last one over."""
    today = now.astimezone(COUNCIL_TIMEZONE).date()
    if year is None or quarter is None:
        return Quarter.of(Quarter.of(today).first_day - timedelta(days=1))
    wanted = _quarter(year, quarter)
    if not wanted.is_over(today):
        raise Conflict(f"the call-offs of {wanted.label} are published once the quarter is over, from "
                       f"{wanted.day_after.isoformat()} ({REGULATION_50}: grouped quarterly notices; council "
                       "policy: nothing published within the quarter)", field="quarter")
    return wanted


def quarter_package(repo, pub: Publisher, records: list, year: int | None, quarter: int | None, *, uri: str,
                    now: datetime) -> dict:
    """One quarter's call-offs (awarded in it), as published: the quarter must be over."""
    wanted = published_quarter(year, quarter, now)
    start, end = wanted.bounds()
    today = now.astimezone(COUNCIL_TIMEZONE).date()
    releases = _call_off_releases(repo, pub, repo.awards(awarded_from=start, awarded_before=end), today,
                                  {record.dps_id: record for record in records})
    return _package(releases, uri=uri, pub=pub, now=now)


def award_notices(repo, now: datetime, records: list | None = None) -> list[dict]:
    """The contract award notices of call-offs, by quarter and by regime, from the quarter of the first
    call-off to the last quarter that is over.  Under the 2015 rules one grouped notice a quarter, due 30
    days after it (regulation 50); under the Procurement Act 2023 a notice for each call-off, before its
    contract is entered into (section 50): the list counts them by quarter, and the open data stays grouped."""
    awards = repo.awards()
    if not awards:
        return []
    by_id = {r.dps_id: r for r in records or []}
    today = now.astimezone(COUNCIL_TIMEZONE).date()
    by_quarter: dict[tuple[Quarter, bool], list] = defaultdict(list)
    for award in awards:
        under_the_act = _regime_of(by_id, getattr(award, "dps_id", None)).under_the_act
        by_quarter[(Quarter.at(award.awarded_at), under_the_act)].append(award)
    first = min(q for q, _ in by_quarter)
    rows = []
    for q in quarters_over(first, today):
        for under_the_act in (False, True):
            listed = by_quarter.get((q, under_the_act), [])
            if under_the_act and not listed:
                continue
            rows.append({
                "quarter": q.label, "year": q.year, "number": q.number, "first_day": q.first_day,
                "last_day": q.last_day, "published_from": q.day_after, "call_offs": len(listed),
                "total_pence": sum(a.total_pence for a in listed),
                "notice_due": None if under_the_act else q.notice_due,
                "regulation": SECTION_50 if under_the_act else REGULATION_50,
                "regime": "pa2023" if under_the_act else "pcr2015_dps"})
    return rows


SECTION_50 = ("Procurement Act 2023 section 50: a contract award notice for each call-off, published before "
              "its contract is entered into")


# --- the quarterly list of call-offs


CSV_COLUMNS = ["award_id", "ocid", "awarded_on", "lot", "lot_name", "team", "provider_id", "provider_name",
               "service_line", "unit_price_pence", "units_per_week", "weeks", "total_pence", "start_date",
               "offers_received", "top_ranked_offer"]
"""The quarterly list's columns (shared.csv_files writes each `_pence` with its `_pounds` beside it)."""


def _quarter(year: int, quarter: int) -> Quarter:
    if quarter not in (1, 2, 3, 4):
        raise InvalidInput("the quarter is 1, 2, 3 or 4", field="quarter", location="query")
    return Quarter(year, quarter)


def quarter_bounds(year: int, quarter: int) -> tuple[datetime, datetime]:
    """Calendar quarters at the council (1 = January to March), as UTC instants."""
    return _quarter(year, quarter).bounds()


def _plain(number) -> str:
    """15, 17.5: no trailing zeros, no exponent."""
    value = Decimal(number)
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() else str(value.normalize())


def call_offs_rows(repo, pub: Publisher, year: int, quarter: int) -> list[dict]:
    """The call-offs awarded in the quarter, one row each in CSV_COLUMNS (no child data)."""
    start, end = quarter_bounds(year, quarter)
    awards = repo.awards(awarded_from=start, awarded_before=end)
    offers = repo.offer_counts(a.referral_id for a in awards)
    rows = []
    for a in awards:
        line = repo.pricing_line_descriptions(a.provider_id, a.lot).get(a.pricing_line_id, "")
        rows.append(dict(zip(CSV_COLUMNS, [
            a.award_id, f"{pub.ocid_prefix}-calloff-{a.award_id}",
            a.awarded_at.astimezone(COUNCIL_TIMEZONE).date(), a.lot, LOTS[a.lot], a.team,
            a.provider_id, a.provider_name or "", line, a.unit_price_pence, _plain(a.units_per_week),
            a.weeks, a.total_pence, a.start_date, offers.get(a.referral_id, 0),
            "no" if a.override_reason else "yes"], strict=True)))
    return rows
