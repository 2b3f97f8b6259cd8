"""What the council publishes about the DPS and its awards.

- An OCDS 1.1 release package: the DPS as a framework process with its four
  lots (the Techniques extension: `techniques.hasDynamicPurchasingSystem`);
  each call-off and each mini-competition as its own process, linked to the
  DPS by `relatedProcesses` with relationship `framework`; awards and
  contracts with their values in pounds (GBP).
- The quarterly list of call-offs awarded, as CSV.

Never any child data: no referral, child_ref, reason for AP, needs, hours or
override reason (which may speak of the child) is published; a call-off is
known only by its award id, its lot, its provider and its money.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from shared.calendar import COUNCIL_TIMEZONE
from shared.catalogue import LOTS
from shared.errors import InvalidInput

OCDS_VERSION = "1.1"
TECHNIQUES_EXTENSION = ("https://raw.githubusercontent.com/open-contracting-extensions/"
                        "ocds_techniques_extension/master/extension.json")
LICENCE = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
DPS_TITLE = "Dynamic Purchasing System for Alternative Provision"


@dataclass(frozen=True)
class Publisher:
    """Who publishes: the council, and its prefix registered with the Open
    Contracting Partnership (shared.config.Settings: DPS_AWARDS_OCID_PREFIX,
    DPS_COUNCIL_ID, DPS_COUNCIL_NAME)."""

    ocid_prefix: str = "ocds-dpsap1"
    council_id: str = "council"
    council_name: str = "The Council"

    @classmethod
    def of(cls, settings) -> Publisher:
        return cls(settings.ocid_prefix, settings.council_id, settings.council_name)

    def council(self) -> dict:
        return {"id": self.council_id, "name": self.council_name}

    def dps_ocid(self) -> str:
        return f"{self.ocid_prefix}-dps"


def pounds(pence: int) -> int | float:
    """Pence as an amount in pounds: a JSON number (72000 or 12.34)."""
    return pence // 100 if pence % 100 == 0 else float(Decimal(pence) / 100)


def _day_start(day: date) -> str:
    """A date as the start of that day at the council (OCDS periods are date-times)."""
    return datetime.combine(day, time(0), tzinfo=COUNCIL_TIMEZONE).isoformat()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _supplier(provider_id: UUID, names: dict[UUID, str]) -> dict:
    return {"id": f"provider-{provider_id}", "name": names.get(provider_id) or "Unnamed provider"}


def _parties(pub: Publisher, supplier: dict | None) -> list[dict]:
    parties = [{**pub.council(), "roles": ["buyer", "procuringEntity"]}]
    if supplier is not None:
        parties.append({**supplier, "roles": ["supplier"]})
    return parties


def _framework_link(pub: Publisher) -> list[dict]:
    return [{"id": "dps", "relationship": ["framework"], "title": DPS_TITLE, "scheme": "ocid",
             "identifier": pub.dps_ocid()}]


def _dps_techniques() -> dict:
    return {"hasDynamicPurchasingSystem": True,
            "dynamicPurchasingSystem": {"type": "closed", "status": "active"}}


# --- the releases


def dps_release(pub: Publisher, now: datetime) -> dict:
    """The DPS itself: a selective (restricted) procedure that stays open to new
    providers while it runs, with one lot per kind of provision."""
    return {
        "ocid": pub.dps_ocid(), "id": f"{pub.dps_ocid()}-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        "date": _utc(now), "tag": ["tender"], "initiationType": "tender", "language": "en",
        "parties": _parties(pub, None), "buyer": pub.council(),
        "tender": {
            "id": "dps", "title": DPS_TITLE,
            "description": "An electronic list of approved providers of alternative provision, open to new "
                           "applicants while it runs; each placement is a call-off and block contracts are "
                           "let by mini-competition among the providers admitted to a lot.",
            "status": "active", "procurementMethod": "selective",
            "procurementMethodDetails": "Dynamic purchasing system (restricted procedure)",
            "mainProcurementCategory": "services", "techniques": _dps_techniques(),
            "lots": [{"id": str(lot), "title": f"Lot {lot}: {name}", "status": "active",
                      "techniques": _dps_techniques()} for lot, name in LOTS.items()],
        },
    }


def call_off_release(pub: Publisher, award, offers_received: int, names: dict[UUID, str], line: str | None) -> dict:
    """One individual placement, as a contract award: no child data."""
    ocid = f"{pub.ocid_prefix}-calloff-{award.award_id}"
    supplier = _supplier(award.provider_id, names)
    value = {"amount": pounds(award.total_pence), "currency": "GBP"}
    title = f"Alternative provision placement, lot {award.lot} ({LOTS[award.lot]})"
    end = award.start_date + timedelta(weeks=award.weeks)
    return {
        "ocid": ocid, "id": f"{ocid}-award", "date": _utc(award.awarded_at), "tag": ["award", "contract"],
        "initiationType": "tender", "language": "en", "parties": _parties(pub, supplier), "buyer": pub.council(),
        "tender": {
            "id": f"calloff-{award.award_id}", "title": title, "status": "complete",
            "procurementMethod": "selective",
            "procurementMethodDetails": "Call-off from the dynamic purchasing system: the referral went to "
                                        f"every provider admitted to lot {award.lot}",
            "mainProcurementCategory": "services", "awardCriteria": "priceOnly",
            "awardCriteriaDetails": "The lowest total cost among the offers that meet the needs and every "
                                    "eligibility rule; ties by earliest start, then earliest submission.",
            "numberOfTenderers": offers_received, "competitive": True,
            "techniques": {"hasDynamicPurchasingSystem": True},
        },
        "relatedProcesses": _framework_link(pub),
        "awards": [{"id": str(award.award_id), "title": title, "status": "active", "date": _utc(award.awarded_at),
                    "value": value, "suppliers": [supplier],
                    "description": line or "Alternative provision"}],
        "contracts": [{"id": f"{award.award_id}-contract", "awardID": str(award.award_id), "title": title,
                       "status": "active", "value": value, "dateSigned": _utc(award.awarded_at),
                       "period": {"startDate": _day_start(award.start_date), "endDate": _day_start(end)}}],
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


def mini_competition_release(pub: Publisher, opportunity, bids_received: int, contract, names: dict[UUID, str],
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
    supplier = None
    if opportunity.awarded_at is not None:
        winner = next(r for r in opportunity.evaluation["results"] if r["rank"] == 1)
        supplier = _supplier(UUID(winner["provider_id"]), names)
        release["awards"] = [{
            "id": str(opportunity.opportunity_id), "title": opportunity.title,
            # pending through the standstill; active once the contract is confirmed
            "status": "active" if contract is not None else "pending", "date": _utc(opportunity.awarded_at),
            "value": {"amount": pounds(winner["price_pence"]), "currency": "GBP"}, "suppliers": [supplier],
            "contractPeriod": tender["contractPeriod"]}]
    if contract is not None:
        release["contracts"] = [{
            "id": str(contract.contract_id), "awardID": str(opportunity.opportunity_id), "title": opportunity.title,
            "status": "active", "value": {"amount": pounds(contract.price_pence), "currency": "GBP"},
            "dateSigned": _utc(contract.confirmed_at),
            "period": {"startDate": _day_start(contract.contract_start),
                       "endDate": _day_start(contract.contract_end)}}]
    release["parties"] = _parties(pub, supplier)
    return release


def release_package(repo, pub: Publisher, *, uri: str, now: datetime) -> dict:
    awards = repo.awards()
    opportunities = repo.opportunities()
    contracts = {c.opportunity_id: c for c in repo.contracts()}
    winners = {UUID(r["provider_id"]) for o in opportunities if o.evaluation
               for r in o.evaluation["results"] if r["rank"] == 1}
    names = repo.provider_names({a.provider_id for a in awards} | winners)
    offers = repo.offer_counts(a.referral_id for a in awards)
    releases = [dps_release(pub, now)]
    for award in awards:
        line = repo.pricing_line_descriptions(award.provider_id, award.lot).get(award.pricing_line_id)
        releases.append(call_off_release(pub, award, offers.get(award.referral_id, 0), names, line))
    for opportunity in sorted(opportunities, key=lambda o: o.created_at):
        releases.append(mini_competition_release(pub, opportunity, len(repo.bids_of(opportunity.opportunity_id)),
                                                 contracts.get(opportunity.opportunity_id), names, now))
    return {
        "uri": uri, "version": OCDS_VERSION, "extensions": [TECHNIQUES_EXTENSION], "publishedDate": _utc(now),
        "publisher": {"name": pub.council_name}, "license": LICENCE, "releases": releases,
    }


# --- the quarterly list of call-offs


CSV_COLUMNS = ["award_id", "ocid", "awarded_on", "lot", "lot_name", "team", "provider_id", "provider_name",
               "service_line", "unit_price_pence", "units_per_week", "weeks", "total_pence", "total_gbp",
               "start_date", "offers_received", "top_ranked_offer"]


def quarter_bounds(year: int, quarter: int) -> tuple[datetime, datetime]:
    """Calendar quarters at the council (1 = January to March), as UTC instants."""
    if quarter not in (1, 2, 3, 4):
        raise InvalidInput("the quarter is 1, 2, 3 or 4", field="quarter", location="query")
    first = datetime(year, 3 * (quarter - 1) + 1, 1, tzinfo=COUNCIL_TIMEZONE)
    after = datetime(year + 1, 1, 1, tzinfo=COUNCIL_TIMEZONE) if quarter == 4 else \
        datetime(year, 3 * quarter + 1, 1, tzinfo=COUNCIL_TIMEZONE)
    return first.astimezone(UTC), after.astimezone(UTC)


def _plain(number) -> str:
    """15, 17.5: no trailing zeros, no exponent."""
    value = Decimal(number)
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() else str(value.normalize())


def call_offs_csv(repo, pub: Publisher, year: int, quarter: int) -> str:
    start, end = quarter_bounds(year, quarter)
    awards = repo.awards(awarded_from=start, awarded_before=end)
    offers = repo.offer_counts(a.referral_id for a in awards)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for a in awards:
        line = repo.pricing_line_descriptions(a.provider_id, a.lot).get(a.pricing_line_id, "")
        writer.writerow([
            a.award_id, f"{pub.ocid_prefix}-calloff-{a.award_id}",
            a.awarded_at.astimezone(COUNCIL_TIMEZONE).date().isoformat(), a.lot, LOTS[a.lot], a.team,
            a.provider_id, a.provider_name or "", line, a.unit_price_pence, _plain(a.units_per_week),
            a.weeks, a.total_pence, f"{Decimal(a.total_pence) / 100:.2f}", a.start_date.isoformat(),
            offers.get(a.referral_id, 0), "no" if a.override_reason else "yes"])
    return out.getvalue()
